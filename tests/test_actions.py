"""IDL201–IDL207 beyond the rule examples: spellings real code uses, code spread over several
modules, realistic correct services (no findings), and the examples built with the real SDK."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from idemlint.diagnostics import Finding
from idemlint.engine import Linter
from idemlint.project import Project
from idemlint.testing import fix_code, lint_code, settings_for

from .sdk_build import build_app

ROOT = Path(__file__).resolve().parent.parent
MINE = ["IDL201", "IDL202", "IDL203", "IDL204", "IDL205", "IDL206", "IDL207",
        "IDL501", "IDL502", "IDL503", "IDL504"]


def src(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def lint(code: str, *codes: str) -> list[Finding]:
    settings = settings_for({"select": list(codes or MINE)})
    return [f for f in lint_code(src(code), settings) if f.code in (codes or MINE)]


def where(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return [(f.code, f.line, f.column) for f in findings]


def lint_tree(root: Path, files: dict[str, str], *codes: str) -> dict[str, list[Finding]]:
    """Lint a small package tree (so imports between its modules are followed)."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(src(text), encoding="utf-8")
    linter = Linter(settings_for({"select": list(codes or MINE)}), Project.for_paths([root], None))
    out: dict[str, list[Finding]] = {}
    for name in files:
        result = linter.check_path(root / name)
        assert not result.internal_errors, result.internal_errors
        out[name] = result.findings
    return out


# -- realistic correct services: nothing to report -----------------------------------------------
SAGA = '''
"""Travel booking saga with compensations, a cart object and a signup workflow."""
from datetime import timedelta
from typing import Awaitable, Callable

import httpx
import restate
from pydantic import BaseModel
from restate.exceptions import TerminalError

logger = restate.getLogger(__name__)


class BookingRequest(BaseModel):
    customer_id: str
    flight_id: str
    amount: int


class Receipt(BaseModel):
    id: str
    amount: int


async def reserve_flight(flight_id: str, key: str) -> str:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            "https://flights.example/reserve", json={"id": flight_id}, headers={"Idempotency-Key": key}
        )
        return response.json()["booking"]


async def cancel_flight(booking: str) -> None:
    async with httpx.AsyncClient() as client:
        await client.post("https://flights.example/cancel", json={"booking": booking})


def charge_card(customer: str, amount: int, key: str) -> Receipt:
    return Receipt(id=f"{customer}-{key}", amount=amount)


def refund(receipt_id: str) -> None:
    pass


booking = restate.Service("Booking")


@booking.handler()
async def book(ctx: restate.Context, req: BookingRequest) -> str:
    compensations: list[Callable[[], Awaitable[None]]] = []
    payment_key = str(ctx.uuid())
    try:
        flight = await ctx.run_typed(
            "reserve flight", reserve_flight, restate.RunOptions(max_attempts=3), req.flight_id, payment_key
        )
        compensations.append(lambda: ctx.run_typed("cancel flight", cancel_flight, restate.RunOptions(), flight))
        receipt = await ctx.run_typed("charge", lambda: charge_card(req.customer_id, req.amount, payment_key))
        compensations.append(lambda: ctx.run_typed("refund", lambda: refund(receipt.id)))
        await ctx.sleep(timedelta(seconds=1))
        return f"{flight}/{receipt.id}"
    except TerminalError as e:
        for compensation in reversed(compensations):
            await compensation()
        raise e


cart = restate.VirtualObject("Cart")


@cart.handler()
async def add_ticket(ctx: restate.ObjectContext, ticket_id: str) -> bool:
    tickets = await ctx.get("tickets", type_hint=list[str]) or []
    tickets.append(ticket_id)
    ctx.set("tickets", tickets)
    ctx.object_send(expire_ticket, key=ctx.key(), arg=ticket_id, send_delay=timedelta(minutes=15))
    return True


@cart.handler()
async def expire_ticket(ctx: restate.ObjectContext, ticket_id: str) -> None:
    tickets = await ctx.get("tickets", type_hint=list[str]) or []
    if ticket_id in tickets:
        tickets.remove(ticket_id)
        ctx.set("tickets", tickets)


@cart.handler()
async def checkout(ctx: restate.ObjectContext) -> bool:
    tickets = await ctx.get("tickets", type_hint=list[str]) or []
    if not tickets:
        return False
    total = len(tickets) * 40
    idempotency_key = str(ctx.uuid())
    ok = await ctx.run_typed("pay", lambda: charge_card(ctx.key(), total, idempotency_key).amount > 0)
    if ok:
        ctx.clear("tickets")
    logger.info("checkout %s", ok)
    return ok


signup = restate.Workflow("Signup")


def send_email(address: str, link: str) -> None:
    pass


@signup.main()
async def run(ctx: restate.WorkflowContext, email: str) -> bool:
    secret = str(ctx.uuid())
    ctx.set("status", "sending")
    await ctx.run_typed("email", send_email, restate.RunOptions(), email, f"/click?secret={secret}")
    clicked = await ctx.promise("email.clicked", type_hint=str).value()
    ctx.set("status", "done")
    return clicked == secret


@signup.handler()
async def click(ctx: restate.WorkflowSharedContext, secret: str) -> None:
    await ctx.promise("email.clicked", type_hint=str).resolve(secret)


@signup.handler()
async def status(ctx: restate.WorkflowSharedContext) -> str:
    return await ctx.get("status") or "unknown"
'''

FANOUT = '''
import asyncio
import functools
from datetime import timedelta

import restate
from restate import Context, RunOptions

worker = restate.Service("Worker")
fanout = restate.Service("Fanout")


@worker.handler()
async def process(ctx: Context, item: str) -> str:
    return item.upper()


def split(task: str) -> list[str]:
    return task.split(",")


@fanout.handler()
async def run(ctx: Context, task: str) -> list[str]:
    items = await ctx.run_typed("split", split, RunOptions(), task)
    futures = [ctx.service_call(process, arg=item) for item in items]
    results = [await f for f in futures]
    calls = []
    for item in items:
        calls.append(ctx.service_call(process, arg=item))
    done = await restate.gather(*calls)
    name, promise = ctx.awakeable(type_hint=str)
    await ctx.run_typed("notify", functools.partial(print, name))
    match await restate.select(approval=promise, timeout=ctx.sleep(timedelta(hours=1))):
        case ["approval", value]:
            results.append(value)
        case ["timeout", _]:
            pass
    async for fut in restate.as_completed(*[ctx.sleep(timedelta(seconds=1))]):
        await fut
    by_name = {item: ctx.service_call(process, arg=item) for item in items}
    await restate.gather(*by_name.values())
    return results + [await d for d in done]


@fanout.handler()
async def timed(ctx: Context, n: int) -> int:
    sleep = ctx.sleep(timedelta(seconds=n))
    call = ctx.service_call(process, arg=str(n))
    done, pending = await restate.wait_completed(sleep, call)
    return len(done) + len(pending)


def make_step(n: int):
    async def step() -> int:
        await asyncio.sleep(0.1)
        return n
    return step


class Steps:
    def __init__(self, base: int) -> None:
        self.base = base

    def compute(self, n: int) -> int:
        return self.base + n


@fanout.handler()
async def steps(ctx: Context, n: int) -> int:
    a = await ctx.run_typed("factory", make_step(n))
    b = await ctx.run_typed("method", Steps(1).compute, RunOptions(), n)
    steps_obj = Steps(2)
    c = await ctx.run_typed("bound", steps_obj.compute, RunOptions(), a)

    def local(x: int) -> int:
        total = 0
        lines = []
        for i in range(x):
            total += i
            lines.append(i)
        return total

    return await ctx.run_typed("local", local, RunOptions(), b + c)
'''

CLASSY = '''
import logging
from datetime import timedelta

import restate
from restate import ObjectContext, ObjectSharedContext, VirtualObject

counter = VirtualObject("Counter")
log = logging.getLogger(__name__)


class Repository:
    def __init__(self, ctx: ObjectContext) -> None:
        self.ctx = ctx

    async def load(self) -> int:
        return await self.ctx.get("count", type_hint=int) or 0

    def save(self, value: int) -> None:
        self.ctx.set("count", value)


async def bump(ctx: ObjectContext, by: int) -> int:
    repo = Repository(ctx)
    value = await repo.load() + by
    repo.save(value)
    return value


class CounterHandlers:
    @staticmethod
    @counter.handler()
    async def add(ctx: ObjectContext, by: int) -> int:
        try:
            value = await bump(ctx, by)
        except restate.TerminalError:
            value = -1
        return value

    @counter.handler(kind="shared")
    @staticmethod
    async def get(ctx: ObjectSharedContext) -> int:
        return await ctx.get("count", type_hint=int) or 0

    @counter.handler()
    @staticmethod
    async def reset(ctx: ObjectContext) -> None:
        ctx.clear_all()
        await ctx.run_typed("audit", lambda: log.info("reset %s", ctx.key()))


def build():
    svc = restate.Service("Factory")

    @svc.handler()
    async def hello(ctx: restate.Context, name: str) -> str:
        greeting = await ctx.run_typed("greet", lambda: f"hi {name}")
        await ctx.sleep(timedelta(milliseconds=10))
        return greeting

    return svc
'''


@pytest.mark.parametrize("code", [SAGA, FANOUT, CLASSY], ids=["saga", "fanout", "classy"])
def test_realistic_services_are_clean(code: str, tmp_path: Path) -> None:
    assert where(lint(code)) == []
    build_app(src(code), tmp_path)


def test_bundled_example_service_action_and_hygiene_findings() -> None:
    """The example shop has exactly the action/hygiene mistakes it was written with."""
    shop = ROOT / "examples" / "shop"
    linter = Linter(settings_for({"select": MINE}), Project.for_paths([shop.parent], None))
    found = {}
    for path in sorted(shop.glob("*.py")):
        result = linter.check_path(path)
        assert not result.internal_errors
        found[path.name] = where([f for f in result.findings if f.code in MINE])
    assert found == {
        "__init__.py": [],
        "app.py": [],
        "cart.py": [("IDL501", 15, 5)],
        "checkout.py": [("IDL202", 61, 45)],
        "client.py": [],
        "signup.py": [("IDL207", 19, 11)],
    }


# -- IDL201 ---------------------------------------------------------------------------------------
def test_idl201_context_reaching_the_action() -> None:
    found = lint("""
        import restate
        from restate import Context, RunOptions
        from restate.server_context import current_context

        svc = restate.Service("P")


        async def charge(ctx: Context, amount: int) -> int:
            await ctx.sleep(1)
            return amount


        async def helper(c):
            c.set("x", 1)


        def plain(x):
            return x


        @svc.handler()
        async def h(ctx: Context, amount: int) -> int:
            a = await ctx.run_typed("kw", charge, RunOptions(), ctx=ctx, amount=amount)
            await ctx.run_typed("helper", lambda: helper(ctx))
            await ctx.run_typed("plain", lambda: plain(amount))
            await ctx.run_typed("scoped", lambda: ctx.scope("s").service_send(h, 1))
            await ctx.run_typed("time", lambda: ctx.time())
            await ctx.run_typed("getter", lambda: current_context().set("k", 1))

            async def outer_action():
                async def inner(cc):
                    await cc.get("k")
                await inner(ctx)

            await ctx.run_typed("nested", outer_action)
            return a
    """, "IDL201")
    assert where(found) == [
        ("IDL201", 9, 11), ("IDL201", 24, 43), ("IDL201", 26, 43), ("IDL201", 27, 41),
        ("IDL201", 28, 43), ("IDL201", 32, 19),
    ]
    assert "`helper()` runs inside" in found[1].message and "`c.set()`" in found[1].message


def test_idl201_module_function_without_the_context_is_not_reported() -> None:
    assert lint("""
        import restate

        svc = restate.Service("P")


        async def notify(ctx, message: str) -> None:  # `ctx` here is not Restate's
            await ctx.send(message)


        class Channel:
            async def send(self, message: str) -> None:
                pass


        @svc.handler()
        async def h(ctx: restate.Context, message: str) -> None:
            await ctx.run_typed("notify", notify, restate.RunOptions(), Channel(), message)
    """, "IDL201") == []


def test_idl201_random_in_action_and_nested_run() -> None:
    found = lint("""
        import restate

        svc = restate.Service("P")


        @svc.handler()
        async def h(ctx: restate.Context) -> float:
            first = await ctx.run_typed("draw", lambda: ctx.random().random())
            return first + await ctx.run_typed("outer", lambda: ctx.run_typed("inner", lambda: 1.0))
    """, "IDL201")
    assert [(f.line, f.column) for f in found] == [(8, 49), (9, 57)]
    assert "draw it in the handler" in found[0].message
    assert "random generator" in found[0].detail


# -- IDL202 / IDL203 across modules ------------------------------------------------------------
CLIENTS = """
    import restate

    other = restate.Service("Other")


    async def fetch(url: str) -> int:
        return len(url)


    def compute(x: int) -> int:
        return x


    def factory(x: int):
        return lambda: x


    @other.handler()
    async def work(ctx: restate.Context, n: int) -> int:
        return n
"""


def test_idl202_idl203_follow_imports_in_the_tree(tmp_path: Path) -> None:
    main = """
        import restate
        from .clients import fetch, compute, factory
        from . import clients

        svc = restate.Service("Main")


        @svc.handler()
        async def h(ctx: restate.Context, url: str) -> int:
            a = await ctx.run_typed("a", lambda: fetch(url))
            b = await ctx.run_typed("b", lambda: clients.fetch(url))
            c = await ctx.run_typed("c", compute(1))
            d = await ctx.run_typed("d", factory(1))
            return a + b + c + d
    """
    files = {"app/__init__.py": "", "app/clients.py": CLIENTS, "app/main.py": main}
    found = lint_tree(tmp_path, files, "IDL202", "IDL203")["app/main.py"]
    assert where(found) == [("IDL203", 10, 42), ("IDL203", 11, 42), ("IDL202", 12, 34)]
    assert [f.fix.applicability if f.fix else None for f in found] == ["safe", "safe", "unsafe"]


def test_idl202_unknown_results_are_not_reported() -> None:
    assert lint("""
        import restate
        from payments import make_action

        svc = restate.Service("P")


        def pick(flag: bool):
            if flag:
                return make_action()
            return lambda: 0


        @svc.handler()
        async def h(ctx: restate.Context, flag: bool) -> int:
            a = await ctx.run_typed("a", make_action())
            b = await ctx.run_typed("b", pick(flag))
            return a + b
    """, "IDL202") == []


def test_idl202_fix_for_ctx_run_only_wraps_sync_calls() -> None:
    code = src("""
        import restate

        svc = restate.Service("P")


        async def fetch() -> int:
            return 1


        def total() -> int:
            return 2


        @svc.handler()
        async def h(ctx: restate.Context) -> int:
            a = await ctx.run("a", fetch())
            b = await ctx.run("b", total())
            return a + b
    """)
    found = lint(code, "IDL202")
    assert [(f.line, f.fix is not None) for f in found] == [(16, False), (17, True)]


# -- IDL204 -------------------------------------------------------------------------------------
def test_idl204_shapes() -> None:
    found = lint("""
        from datetime import timedelta

        import restate

        svc = restate.Service("P")


        @svc.handler()
        async def h(ctx: restate.Context, n: int) -> int:
            a = ctx.run_typed("a", lambda: 1)
            b = a
            f = ctx.run_typed("f", lambda: 5)  # overwritten before use
            f = ctx.run_typed("g", lambda: 6)
            while n:
                if n > 1:
                    await w
                w = ctx.sleep(timedelta(seconds=n))
                n -= 1
            pair = (ctx.run_typed("p", lambda: 3), ctx.run_typed("q", lambda: 4))
            first, second = pair
            [ctx.sleep(timedelta(seconds=1)) for _ in range(3)]
            ctx.promise("p").value()
            pending = []
            pending.extend([ctx.sleep(timedelta(seconds=1))])
            other = pending
            await restate.gather(*other)
            return await b + await f + await first
    """, "IDL204")
    assert where(found) == [("IDL204", 12, 9), ("IDL204", 21, 6), ("IDL204", 22, 5)]


def test_idl204_await_fix_only_where_await_is_allowed() -> None:
    code = src("""
        import restate

        svc = restate.Service("P")


        @svc.handler()
        def h(ctx: restate.Context) -> None:
            ctx.run_typed("a", lambda: 1)
    """)
    found = lint(code, "IDL204")
    assert len(found) == 1 and found[0].fix is None


# -- IDL205 -------------------------------------------------------------------------------------
def test_idl205_outer_objects_and_clients() -> None:
    found = lint("""
        import os

        import redis
        import restate
        from restate import Context

        svc = restate.Service("P")
        cache = redis.Redis()
        REGISTRY = {}


        class Holder:
            def __init__(self) -> None:
                self.items = []
                self.client = redis.Redis()

            async def run(self, ctx: Context) -> None:
                await ctx.run_typed("a", lambda: self.items.append(1))
                await ctx.run_typed("b", lambda: self.client.set("k", 1))
                await ctx.run_typed("c", self.push)

            def push(self) -> None:
                self.items.append(2)


        @svc.handler()
        async def h(ctx: Context, payload: dict, names: list[str]) -> None:
            await ctx.run_typed("env", lambda: os.environ.update({"a": "b"}))
            await ctx.run_typed("cache", lambda: cache.set("k", "v"))
            await ctx.run_typed("reg", lambda: REGISTRY.update(a=1))
            await ctx.run_typed("payload", lambda: payload.pop("x"))

            def act() -> dict:
                local = payload
                local["y"] = 2
                copy = dict(payload)
                copy["z"] = 3
                return copy

            await ctx.run_typed("act", act)
            await Holder().run(ctx)
    """, "IDL205")
    assert where(found) == [
        ("IDL205", 18, 42), ("IDL205", 23, 9), ("IDL205", 30, 40), ("IDL205", 31, 44),
        ("IDL205", 35, 9),
    ]


# -- IDL206 / IDL207 ----------------------------------------------------------------------------
def test_idl207_positional_run_arguments() -> None:
    code = src("""
        from datetime import timedelta

        import restate
        from restate.serde import JsonSerde

        svc = restate.Service("P")


        def double(n: int) -> int:
            return n * 2


        @svc.handler()
        async def h(ctx: restate.Context, n: int, extra: tuple) -> int:
            a = await ctx.run("a", double, JsonSerde(), 3, timedelta(seconds=1), int, (n,))
            b = await ctx.run("b", double, *extra)
            return a + b
    """)
    settings = settings_for({"select": ["IDL207"]})
    found = lint(code, "IDL207")
    assert [(f.line, f.fix is not None) for f in found] == [(15, True), (16, False)]
    fixed = fix_code(code, settings, codes={"IDL207"})
    assert (
        '    a = await ctx.run_typed("a", double, restate.RunOptions(serde=JsonSerde(), '
        "max_attempts=3, max_duration=timedelta(seconds=1), type_hint=int), n)\n"
    ) in fixed


def test_idl207_fix_keeps_the_layout() -> None:
    code = src("""
        import restate

        svc = restate.Service("P")


        @svc.handler()
        async def h(ctx: restate.Context, card: str) -> str:
            return await ctx.run(
                "recurring payment",
                lambda: card.upper(),  # charge it
                max_attempts=3,
            )
    """)
    fixed = fix_code(code, settings_for({"select": ["IDL207"]}), codes={"IDL207"})
    assert fixed.endswith(
        "    return await ctx.run_typed(\n"
        '        "recurring payment",\n'
        "        lambda: card.upper(),  # charge it\n"
        "        restate.RunOptions(max_attempts=3),\n"
        "    )\n"
    )


def test_idl206_keyword_forwarded_to_an_action_that_takes_it() -> None:
    assert lint("""
        import restate

        svc = restate.Service("P")


        def configure(**settings) -> int:
            return len(settings)


        @svc.handler()
        async def h(ctx: restate.Context) -> int:
            return await ctx.run_typed("configure", configure, options={"verbose": True})
    """, "IDL206") == []
