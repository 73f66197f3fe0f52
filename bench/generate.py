"""Generate a synthetic, handler-dense Restate code base for benchmarks (not a real project).

Each module declares services and many handlers mixing the shapes real code uses: journaled
actions (lambdas, nested defs, partials), context calls, helpers, clients, state, plus a share
of replay bugs (clocks, UUIDs, HTTP outside actions) so rules do real work.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

HEADER = '''"""Generated service module {index}."""
import asyncio
import functools
import time
import uuid
from datetime import timedelta

import httpx
import restate
from restate import ObjectContext

svc = restate.Service("Orders{index}")
obj = restate.VirtualObject("Carts{index}")
http = httpx.AsyncClient()


def price_of(item: dict) -> int:
    return int(item.get("price", 0)) * int(item.get("qty", 1))


async def fetch_rates(currency: str) -> dict:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"https://rates.example/{{currency}}")
        return response.json()

'''

HANDLERS = [
    '''

@svc.handler()
async def create_{n}(ctx: restate.Context, order: dict) -> dict:
    """Create order {n}: price it, charge it, hand it to the cart object."""
    # Pricing is pure: it runs again on replay and gives the same result.
    total = sum(price_of(item) for item in order.get("items", []))

    # Exchange rates come from an external API: journaled.
    rates = await ctx.run_typed(
        "rates",
        fetch_rates,
        restate.RunOptions(max_attempts=3),
        order["currency"],
    )
    order_id = str(ctx.uuid())

    if total > 1000:
        # Large orders wait for the fraud check window.
        await ctx.sleep(timedelta(seconds=5))

    receipt = await ctx.run_typed(
        "charge",
        functools.partial(charge, order_id, total),
    )
    await ctx.object_call(
        add_{n},
        key=order_id,
        arg={{"total": total, "rates": rates}},
    )
    return {{"id": order_id, "receipt": receipt}}
''',
    '''

@obj.handler()
async def add_{n}(ctx: ObjectContext, item: dict) -> int:
    """Add an item to cart {n}."""
    items = await ctx.get("items") or []
    items.append(item)
    ctx.set("items", items)

    count = len(items)
    if count > 10:
        # BUG: the timestamp changes on every replay.
        stamp = time.time()
        ctx.set("full_since", stamp)

    return count
''',
    '''

@svc.handler("report{n}")
async def report_{n}(ctx: restate.Context, req: dict) -> list:
    """Build report {n} from three pages of the items API."""

    async def load(page: int) -> list:
        response = await http.get(f"https://api.example/items?page={{page}}")
        return response.json()

    pages = [
        ctx.run_typed(f"page-{{i}}", load, restate.RunOptions(), i)
        for i in range(3)
    ]
    done = await restate.gather(*pages)
    rows = [row for fut in done for row in await fut]

    # BUG: a new trace id on every replay.
    trace = uuid.uuid4().hex
    return [dict(row, trace=trace) for row in rows if row.get("ok")]
''',
    '''

@obj.handler(kind="shared")
async def peek_{n}(ctx: restate.ObjectSharedContext) -> dict:
    """Summarise cart {n} without taking the object's lock."""
    items = await ctx.get("items") or []
    summary = {{
        "count": len(items),
        "total": sum(price_of(i) for i in items),
    }}

    try:
        await ctx.run_typed("audit", lambda: print(summary))
    except restate.TerminalError as exc:
        summary["error"] = str(exc)

    return summary
''',
]

FOOTER = '''

async def charge(order_id: str, amount: int) -> str:
    async with httpx.AsyncClient() as client:
        response = await client.post("https://psp.example/charge", json={"id": order_id, "amount": amount})
        return response.json()["receipt"]


app = restate.app([svc, obj])
'''


def module(index: int, handlers: int, rng: random.Random) -> str:
    parts = [HEADER.format(index=index)]
    for n in range(handlers):
        parts.append(rng.choice(HANDLERS).format(n=n))
    parts.append(FOOTER)
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--modules", type=int, default=40)
    parser.add_argument("--handlers", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    lines = 0
    for index in range(args.modules):
        text = module(index, args.handlers, rng)
        (args.out / f"service_{index:03}.py").write_text(text, encoding="utf-8")
        lines += text.count("\n")
    print(f"wrote {args.modules} modules, {lines} lines to {args.out}")


if __name__ == "__main__":
    main()
