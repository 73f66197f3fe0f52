"""IDL101–IDL107, IDL109: non-journaled clocks, randomness, UUIDs, I/O, sleeps, combinators.

One rule per code; all of them read the same list of known calls in handler code (computed
once per module), keep those whose knowledge-base entry carries their code, and plan the fix
named by the entry.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from textwrap import dedent
from typing import ClassVar

from ..analysis import ModuleAnalysis
from ..diagnostics import Finding
from ..registry import Invalid, Rule, Valid, register
from .handler_calls import KnownCall, known_calls
from .replacements import plan_fix


class KnownCallRule(Rule):
    """Reports handler-code calls whose knowledge-base entry has this rule's code."""

    what: ClassVar[str]  # e.g. "reads the wall clock"
    consequence: ClassVar[str]  # what goes wrong on replay
    default_use: ClassVar[str] = ""

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for kc in known_calls(module):
            if kc.entry.code != self.code:
                continue
            yield module.finding(
                self, kc.node, self.message(module, kc), fix=plan_fix(module, kc)
            )

    def message(self, module: ModuleAnalysis, kc: KnownCall) -> str:
        node = kc.node
        if isinstance(node, ast.Call):
            spelled = " ".join(module.text(node.func).split())
            shown = f"`{spelled}()`"
        else:
            spelled = " ".join(module.text(node).split())
            shown = f"`{spelled}`"
        qualified = kc.qualname
        if qualified != spelled and not qualified.startswith("builtins."):
            shown += f" (`{qualified}`)"
        ctx = module.model.context_name_at(node) or "ctx"
        use = (kc.entry.use or self.default_use).replace("{ctx}", ctx)
        text = f"{shown} {self.what} in handler code: {self.consequence}"
        if use:
            text += f"; use `{use}`"
        if kc.entry.note:
            text += f" ({kc.entry.note})"
        return text + _reached(module, kc)


def _reached(module: ModuleAnalysis, kc: KnownCall) -> str:
    """Explain how a helper's code is handler code: the call chain from the handler."""
    unit = kc.unit
    if unit.reason != "called" or not unit.via:
        return ""
    handler = unit.handler
    chain = " -> ".join(f"`{module.text(call.func)}()` (line {call.lineno})" for call in unit.via)
    origin = f"handler `{handler.name}`" if handler else "a function receiving the context"
    return f" [reached from {origin} via {chain}]"


_JOURNAL = "ctx.run_typed(...)"


def _code(text: str) -> str:
    return dedent(text).lstrip("\n")


@register
class WallClock(KnownCallRule):
    code = "IDL101"
    name = "non-journaled-clock"
    summary = "Wall-clock read in handler code outside a journaled action"
    what = "reads the wall clock"
    consequence = "each replay sees a different time"
    default_use = "await {ctx}.time()"
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
            import time
            from datetime import datetime

            import restate

            svc = restate.Service("Billing")


            @svc.handler()
            async def bill(ctx: restate.Context, order: dict) -> float:
                now = await ctx.time()
                stamp = await ctx.run_typed("stamp", lambda: time.time())
                issued = datetime.fromtimestamp(now)
                return stamp + issued.timestamp() + time.mktime(time.localtime(now))


            def report() -> float:  # not handler code
                return time.time()
        """)),
        Valid(_code("""
            import time

            import restate

            svc = restate.Service("Billing")


            @svc.handler()
            async def bill(ctx: restate.Context) -> float:
                return await ctx.run_typed("measure", measure)


            async def measure() -> float:  # a journaled action, defined after use
                return time.monotonic()
        """), note="module function used as the action"),
    ]
    INVALID = [
        Invalid(
            _code("""
                import time

                import restate

                svc = restate.Service("Billing")


                @svc.handler()
                async def bill(ctx: restate.Context, order: dict) -> dict:
                    started = time.time()
                    return {"started": started}
            """),
            ((10, 15),),
            message="`time.time()`",
            fixed=_code("""
                import time

                import restate

                svc = restate.Service("Billing")


                @svc.handler()
                async def bill(ctx: restate.Context, order: dict) -> dict:
                    started = await ctx.time()
                    return {"started": started}
            """),
        ),
        Invalid(
            _code("""
                from time import time as now
                import datetime as dt

                from restate import VirtualObject, ObjectContext

                counter = VirtualObject("Counter")


                @counter.handler(kind="exclusive")
                async def add(context: ObjectContext, value: int) -> str:
                    if value > 0:
                        for _ in range(value):
                            context.set("at", now())
                    return dt.datetime.now().isoformat()
            """),
            ((13, 31), (14, 12)),
            fixed=_code("""
                from time import time as now
                import datetime as dt

                from restate import VirtualObject, ObjectContext

                counter = VirtualObject("Counter")


                @counter.handler(kind="exclusive")
                async def add(context: ObjectContext, value: int) -> str:
                    if value > 0:
                        for _ in range(value):
                            context.set("at", await context.time())
                    return dt.datetime.fromtimestamp(await context.time()).isoformat()
            """),
        ),
        Invalid(
            _code("""
                from datetime import datetime

                import restate

                wf = restate.Workflow("Signup")


                @wf.main()
                async def run(ctx: restate.WorkflowContext, email: str) -> str:
                    return datetime.utcnow().isoformat()
            """),
            ((10, 12),),
            fixed=_code("""
                from datetime import datetime, timezone

                import restate

                wf = restate.Workflow("Signup")


                @wf.main()
                async def run(ctx: restate.WorkflowContext, email: str) -> str:
                    return datetime.fromtimestamp(await ctx.time(), timezone.utc).replace(tzinfo=None).isoformat()
            """),
            unsafe=True,
            note="utcnow: timezone import added",
        ),
        Invalid(
            _code("""
                import time

                import restate


                def make_service() -> restate.Service:
                    svc = restate.Service("Clock")

                    class Handlers:
                        @staticmethod
                        @svc.handler()
                        async def tick(ctx: restate.Context) -> float:
                            return stamp()

                    return svc


                def stamp() -> float:
                    return time.time()
            """),
            ((19, 12),),
            message="reached from handler `tick`",
            note="helper called from a handler nested in a factory: no ctx there, no fix",
        ),
    ]


@register
class Randomness(KnownCallRule):
    code = "IDL102"
    name = "non-journaled-random"
    summary = "Unseeded randomness in handler code"
    what = "draws unseeded random values"
    consequence = "each replay draws different values"
    default_use = "{ctx}.random()"
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
            import random

            import restate

            svc = restate.Service("Dice")
            SEEDED = random.Random(42)


            @svc.handler()
            async def roll(ctx: restate.Context) -> int:
                rng = random.Random(7)  # seeded: deterministic
                picked = ctx.random().randint(1, 6)
                drawn = await ctx.run_typed("draw", lambda: random.randint(1, 6))
                return picked + drawn + rng.randint(1, 6)
        """)),
    ]
    INVALID = [
        Invalid(
            _code("""
                import random as rnd
                from random import choice

                import restate

                svc = restate.Service("Dice")


                @svc.handler()
                async def roll(ctx: restate.Context, faces: list) -> int:
                    first = rnd.randint(1, 6)
                    face = choice(faces)
                    return first + face
            """),
            ((11, 13), (12, 12)),
            fixed=_code("""
                import random as rnd
                from random import choice

                import restate

                svc = restate.Service("Dice")


                @svc.handler()
                async def roll(ctx: restate.Context, faces: list) -> int:
                    first = ctx.random().randint(1, 6)
                    face = ctx.random().choice(faces)
                    return first + face
            """),
        ),
        Invalid(
            _code("""
                import os
                import secrets

                import restate

                svc = restate.Service("Tokens")


                @svc.handler()
                async def issue(ctx: restate.Context) -> str:
                    salt = os.urandom(16)
                    return secrets.token_hex(8) + salt.hex()
            """),
            ((11, 12), (12, 12)),
            message="not cryptographically secure",
            unsafe=True,
            fixed=_code("""
                import os
                import secrets

                import restate

                svc = restate.Service("Tokens")


                @svc.handler()
                async def issue(ctx: restate.Context) -> str:
                    salt = ctx.random().randbytes(16)
                    return ctx.random().randbytes(8).hex() + salt.hex()
            """),
        ),
        Invalid(
            _code("""
                import random

                import restate

                svc = restate.Service("Dice")


                @svc.handler()
                async def roll(ctx: restate.Context) -> int:
                    rng = random.Random()
                    return rng.randint(1, 6)
            """),
            ((10, 11),),
            fixed=_code("""
                import random

                import restate

                svc = restate.Service("Dice")


                @svc.handler()
                async def roll(ctx: restate.Context) -> int:
                    rng = ctx.random()
                    return rng.randint(1, 6)
            """),
        ),
    ]


@register
class RandomUuid(KnownCallRule):
    code = "IDL103"
    name = "non-journaled-uuid"
    summary = "Random UUID generated in handler code"
    what = "generates a new UUID"
    consequence = "each replay produces a different one"
    default_use = "{ctx}.uuid()"
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
            import uuid

            import restate

            svc = restate.Service("Orders")
            NAMESPACE = uuid.uuid4()  # module level: not handler code


            @svc.handler()
            async def create(ctx: restate.Context, sku: str) -> str:
                order_id = ctx.uuid()
                stable = uuid.uuid5(uuid.NAMESPACE_URL, sku)  # deterministic
                return f"{order_id}-{stable}"
        """)),
    ]
    INVALID = [
        Invalid(
            _code("""
                import uuid
                from uuid import uuid4 as new_id

                import restate

                svc = restate.Service("Orders")


                @svc.handler()
                async def create(ctx: restate.Context, sku: str) -> str:
                    try:
                        order_id = str(uuid.uuid4())
                    finally:
                        trace = new_id().hex
                    return order_id + trace
            """),
            ((12, 24), (14, 17)),
            fixed=_code("""
                import uuid
                from uuid import uuid4 as new_id

                import restate

                svc = restate.Service("Orders")


                @svc.handler()
                async def create(ctx: restate.Context, sku: str) -> str:
                    try:
                        order_id = str(ctx.uuid())
                    finally:
                        trace = ctx.uuid().hex
                    return order_id + trace
            """),
        ),
        Invalid(
            _code("""
                import uuid

                import restate

                svc = restate.Service("Orders")


                @svc.handler()
                async def create(ctx: restate.Context) -> str:
                    return str(await ctx.run_typed("create", make_order, restate.RunOptions(), uuid.uuid1()))


                async def make_order(order_id: uuid.UUID) -> str:
                    return str(order_id)
            """),
            ((10, 80),),
            message="`uuid.uuid1()`",
            note="arguments forwarded to the action are evaluated in the handler",
        ),
    ]


@register
class NetworkIO(KnownCallRule):
    code = "IDL104"
    name = "non-journaled-network-io"
    summary = "Network I/O in handler code outside a journaled action"
    what = "performs network I/O"
    consequence = "it runs again on every replay (duplicate requests, double charges)"
    default_use = "await " + _JOURNAL
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
            import functools

            import httpx
            import requests

            import restate

            svc = restate.Service("Payments")


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> dict:
                async def charge() -> dict:
                    async with httpx.AsyncClient() as client:
                        response = await client.post("https://psp.example/charge", json={"amount": amount})
                        return response.json()

                receipt = await ctx.run_typed("charge", charge)
                status = await ctx.run_typed("status", lambda: requests.get("https://psp.example/status").status_code)
                ping = await ctx.run_typed("ping", functools.partial(requests.head, "https://psp.example"))
                return {"receipt": receipt, "status": status, "ping": ping.status_code}
        """)),
    ]
    INVALID = [
        Invalid(
            _code("""
                import httpx
                import requests

                import restate

                svc = restate.Service("Payments")
                http = httpx.AsyncClient()


                @svc.handler()
                async def pay(ctx: restate.Context, amount: int) -> dict:
                    async with httpx.AsyncClient() as client:
                        charged = await client.post("https://psp.example/charge", json={"amount": amount})
                    audit = requests.get("https://audit.example/log").json()
                    await http.put("https://ledger.example/entry", json={"id": 1})
                    return {"charged": charged.status_code, "audit": audit}
            """),
            ((13, 25), (14, 13), (15, 11)),
            unsafe=True,
            note="the raw response of client.post would not serialise: no fix for it",
            fixed=_code("""
                import httpx
                import requests

                import restate

                svc = restate.Service("Payments")
                http = httpx.AsyncClient()


                @svc.handler()
                async def pay(ctx: restate.Context, amount: int) -> dict:
                    async with httpx.AsyncClient() as client:
                        charged = await client.post("https://psp.example/charge", json={"amount": amount})
                    audit = await ctx.run_typed("requests.get", lambda: requests.get("https://audit.example/log").json())
                    async def _http_put() -> None:
                        await http.put("https://ledger.example/entry", json={"id": 1})
                    await ctx.run_typed("http.put", _http_put)
                    return {"charged": charged.status_code, "audit": audit}
            """),
        ),
        Invalid(
            _code("""
                import httpx

                import restate

                svc = restate.Service("Rates")
                client = httpx.AsyncClient()


                @svc.handler()
                async def quote(ctx: restate.Context, currency: str) -> float:
                    rate = (await client.get(f"https://rates.example/{currency}")).json()["rate"]
                    await client.post(
                        "https://audit.example/log",
                        json={"currency": currency, "rate": rate},
                    )
                    return rate
            """),
            ((11, 19), (12, 11)),
            unsafe=True,
            fixed=_code("""
                import httpx

                import restate

                svc = restate.Service("Rates")
                client = httpx.AsyncClient()


                @svc.handler()
                async def quote(ctx: restate.Context, currency: str) -> float:
                    async def _client_get():
                        return (await client.get(f"https://rates.example/{currency}")).json()["rate"]
                    rate = await ctx.run_typed("client.get", _client_get)
                    async def _client_post() -> None:
                        await client.post(
                            "https://audit.example/log",
                            json={"currency": currency, "rate": rate},
                        )
                    await ctx.run_typed("client.post", _client_post)
                    return rate
            """),
            note="journals the JSON, not the response; continuation lines move with the body",
        ),
    ]


@register
class DatabaseIO(KnownCallRule):
    code = "IDL105"
    name = "non-journaled-database-io"
    summary = "Database or cache I/O in handler code outside a journaled action"
    what = "performs database / cache I/O"
    consequence = "it runs again on every replay and may read different data"
    default_use = "await " + _JOURNAL
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
            import sqlite3

            import restate

            svc = restate.Service("Inventory")


            @svc.handler()
            async def reserve(ctx: restate.Context, sku: str) -> int:
                def update() -> int:
                    with sqlite3.connect("stock.db") as conn:
                        return conn.execute("UPDATE stock SET n = n - 1 WHERE sku = ?", (sku,)).rowcount

                return await ctx.run_typed("reserve", update)
        """)),
    ]
    INVALID = [
        Invalid(
            _code("""
                import asyncpg
                import redis.asyncio as aioredis

                import restate

                svc = restate.Service("Inventory")
                cache = aioredis.Redis()


                @svc.handler()
                async def reserve(ctx: restate.Context, sku: str) -> int:
                    conn = await asyncpg.connect("postgresql://db/shop")
                    left = await conn.fetchval("SELECT n FROM stock WHERE sku = $1", sku)
                    await cache.set(sku, left)
                    return left
            """),
            ((13, 18), (14, 11)),
            unsafe=True,
            fixed=_code("""
                import asyncpg
                import redis.asyncio as aioredis

                import restate

                svc = restate.Service("Inventory")
                cache = aioredis.Redis()


                @svc.handler()
                async def reserve(ctx: restate.Context, sku: str) -> int:
                    conn = await asyncpg.connect("postgresql://db/shop")
                    left = await conn.fetchval("SELECT n FROM stock WHERE sku = $1", sku)
                    async def _cache_set() -> None:
                        await cache.set(sku, left)
                    await ctx.run_typed("cache.set", _cache_set)
                    return left
            """),
        ),
    ]


@register
class SystemIO(KnownCallRule):
    code = "IDL106"
    name = "non-journaled-system-io"
    summary = "Filesystem, subprocess or environment side effect in handler code"
    what = "has a filesystem, process or environment side effect"
    consequence = "it runs again on every replay and may see a different result"
    default_use = "await " + _JOURNAL
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
            import os
            import subprocess

            import restate

            svc = restate.Service("Reports")
            TEMPLATE = open("template.txt").read() if os.path.exists("template.txt") else ""


            @svc.handler()
            async def render(ctx: restate.Context, name: str) -> str:
                region = os.environ.get("REGION", "eu")  # reading configuration is fine
                out = await ctx.run_typed(
                    "render", lambda: subprocess.run(["render", name], capture_output=True).stdout.decode()
                )
                return region + out + TEMPLATE
        """)),
    ]
    INVALID = [
        Invalid(
            _code("""
                import os
                import subprocess
                from pathlib import Path

                import restate

                svc = restate.Service("Reports")


                @svc.handler()
                async def render(ctx: restate.Context, name: str) -> str:
                    os.environ["LAST_REPORT"] = name
                    subprocess.run(["render", name], check=True)
                    with open(f"/tmp/{name}.txt") as handle:
                        body = handle.read()
                    Path("/tmp/done").touch()
                    return body
            """),
            ((12, 5), (13, 5), (14, 10), (16, 5)),
            unsafe=True,
            fixed=_code("""
                import os
                import subprocess
                from pathlib import Path

                import restate

                svc = restate.Service("Reports")


                @svc.handler()
                async def render(ctx: restate.Context, name: str) -> str:
                    os.environ["LAST_REPORT"] = name
                    def _subprocess_run() -> None:
                        subprocess.run(["render", name], check=True)
                    await ctx.run_typed("subprocess.run", _subprocess_run)
                    with open(f"/tmp/{name}.txt") as handle:
                        body = handle.read()
                    def _path_touch() -> None:
                        Path("/tmp/done").touch()
                    await ctx.run_typed("Path.touch", _path_touch)
                    return body
            """),
        ),
    ]


@register
class NonDurableSleep(KnownCallRule):
    code = "IDL107"
    name = "non-durable-sleep"
    summary = "Non-durable sleep in a handler"
    what = "sleeps in process memory"
    consequence = "the wait is lost on a crash and blocks the invocation instead of suspending it"
    default_use = "await {ctx}.sleep(timedelta(seconds=...))"
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
            import asyncio
            from datetime import timedelta

            import restate

            svc = restate.Service("Reminders")


            @svc.handler()
            async def remind(ctx: restate.Context, user: str) -> None:
                await ctx.sleep(timedelta(hours=1))
                await asyncio.sleep(0)  # yields to the event loop: no wait to lose
                await ctx.run_typed("backoff", backoff)


            async def backoff() -> None:
                await asyncio.sleep(2)
        """)),
    ]
    INVALID = [
        Invalid(
            _code("""
                import asyncio
                import time

                import restate

                svc = restate.Service("Reminders")


                @svc.handler()
                async def remind(ctx: restate.Context, delay: float) -> None:
                    time.sleep(5)
                    await asyncio.sleep(delay)
            """),
            ((11, 5), (12, 11)),
            fixed=_code("""
                import asyncio
                import time
                from datetime import timedelta

                import restate

                svc = restate.Service("Reminders")


                @svc.handler()
                async def remind(ctx: restate.Context, delay: float) -> None:
                    await ctx.sleep(timedelta(seconds=5))
                    await ctx.sleep(timedelta(seconds=delay))
            """),
        ),
        Invalid(
            _code("""
                import datetime
                import time

                import restate

                svc = restate.Service("Reminders")


                @svc.handler()
                def remind(ctx: restate.Context) -> None:
                    time.sleep(1)
            """),
            ((11, 5),),
            note="a sync handler cannot await: reported without a fix",
        ),
    ]


@register
class AsyncioCombinator(KnownCallRule):
    code = "IDL109"
    name = "asyncio-combinator-on-journaled-futures"
    summary = "asyncio combinator or task over Restate durable futures"
    what = "combines Restate durable futures with asyncio"
    consequence = (
        "asyncio does not journal which future completed first, so replays can diverge"
    )
    default_use = "restate.gather / restate.select"
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
            import asyncio

            import httpx
            import restate

            svc = restate.Service("Fanout")


            @svc.handler()
            async def fan(ctx: restate.Context, urls: list) -> list:
                a = ctx.run_typed("a", lambda: 1)
                b = ctx.run_typed("b", lambda: 2)
                done = [await f for f in await restate.gather(a, b)]

                async def fetch_all() -> list:
                    async with httpx.AsyncClient() as client:
                        pages = await asyncio.gather(*[client.get(u) for u in urls])
                        return [p.status_code for p in pages]

                return done + await ctx.run_typed("fetch", fetch_all)
        """)),
    ]
    INVALID = [
        Invalid(
            _code("""
                import asyncio

                import restate

                svc = restate.Service("Fanout")


                async def step(item: int) -> int:
                    return item * 2


                @svc.handler()
                async def fan(ctx: restate.Context, items: list) -> list:
                    futures = [ctx.run_typed(f"step-{i}", step, restate.RunOptions(), i) for i in items]
                    results = await asyncio.gather(*futures)
                    pending = []
                    pending.append(ctx.sleep(restate_delay()))
                    await asyncio.wait(pending)
                    return results


                def restate_delay():
                    import datetime
                    return datetime.timedelta(seconds=1)
            """),
            ((15, 21), (18, 11)),
            unsafe=True,
            fixed=_code("""
                import asyncio

                import restate

                svc = restate.Service("Fanout")


                async def step(item: int) -> int:
                    return item * 2


                @svc.handler()
                async def fan(ctx: restate.Context, items: list) -> list:
                    futures = [ctx.run_typed(f"step-{i}", step, restate.RunOptions(), i) for i in items]
                    results = [await f for f in await restate.gather(*futures)]
                    pending = []
                    pending.append(ctx.sleep(restate_delay()))
                    await asyncio.wait(pending)
                    return results


                def restate_delay():
                    import datetime
                    return datetime.timedelta(seconds=1)
            """),
        ),
    ]
