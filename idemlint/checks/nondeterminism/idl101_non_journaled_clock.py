"""IDL101 non-journaled-clock."""

from __future__ import annotations

import ast

from ...analysis import ModuleAnalysis
from ...calls import KnownCall
from ...diagnostics import Edit, Fix
from ...fixes.context import FixContext
from ...fixes.text import parenthesized
from ...registry import Invalid, Valid
from ...scopes import can_await
from ...syntax import argument
from ._shared import (
    KnownCallRule,
    context_name,
    fix_strategy,
    make_fix,
    module_spelling,
    readable_call,
    tables,
)


class NonJournaledClock(KnownCallRule):
    """
    ## What it does
    Reports reads of the wall clock in handler code outside a journaled action:
    `time.time`, `time.time_ns`, `time.monotonic`, `time.perf_counter` (and their `_ns`
    variants), `time.process_time`, `datetime.datetime.now`/`utcnow`/`today`,
    `datetime.date.today`, the argument-less forms of `time.localtime`/`gmtime`/`ctime`/`asctime`,
    and `pendulum`/`arrow` "now" helpers — under any import spelling (`from time import time as
    now`, `import datetime as dt; dt.datetime.now()`). Helpers called from a handler are checked
    too; the finding's detail shows the call chain.

    ## Why is this bad?
    Restate replays a handler from its journal after a crash, a retry or a suspension. Code
    outside `ctx.run_typed(...)` runs again on every attempt, so the clock returns a different
    value each time: a deadline computed from it moves, a branch on it can take another path than
    the one recorded in the journal (the invocation then fails with a journal mismatch), and a
    timestamp sent to another system changes between attempts.

    `await ctx.time()` records the timestamp in the journal once and returns the same value on
    every replay.

    ## Use instead
    `datetime.now()` becomes `datetime.fromtimestamp(await ctx.time())`, `datetime.now(tz)`
    becomes `datetime.fromtimestamp(await ctx.time(), tz)`.

    ## Fix safety
    The fix needs the context in scope and a place where `await` is allowed (an `async def`, not a
    lambda or a generator expression); elsewhere the finding has no fix.
    - `time.time()` → `await ctx.time()`, `datetime.now([tz])`/`today()` →
      `datetime.fromtimestamp(await ctx.time()[, tz])`, `date.today()` →
      `date.fromtimestamp(await ctx.time())`: **safe**, same value type and meaning.
    - `datetime.utcnow()` → `datetime.fromtimestamp(await ctx.time(), timezone.utc).replace(tzinfo=None)`:
      **unsafe** (adds an import; equivalent value, but review it).
    - `time.time_ns()`, `monotonic()`, `perf_counter()`: **unsafe** — `ctx.time()` is a wall-clock
      timestamp with float precision, not a monotonic clock. Measuring durations inside a handler is
      itself replay-sensitive; measure inside the journaled action instead.
    - `process_time()`, `localtime()` and friends: no fix.

    ## Options
    - `[tool.idemlint.nondeterministic]` adds your own clocks: `"mycorp.clock.now" = "IDL101"`.
    - `deterministic = ["mycorp.clock.frozen_now"]` silences a name you know is deterministic.
    """

    code = "IDL101"
    name = "non-journaled-clock"
    summary = "Wall-clock read in handler code outside a journaled action"
    what = "reads the wall clock"
    consequence = "each replay sees a different time"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
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
        """),
        Valid("""
            import time

            import restate

            svc = restate.Service("Billing")


            @svc.handler()
            async def bill(ctx: restate.Context) -> float:
                return await ctx.run_typed("measure", measure)


            async def measure() -> float:  # a journaled action, defined after use
                return time.monotonic()
        """, note="module function used as the action"),
    ]
    INVALID = [
        Invalid(
            """
                import time

                import restate

                svc = restate.Service("Billing")


                @svc.handler()
                async def bill(ctx: restate.Context, order: dict) -> dict:
                    started = time.time()
                    return {"started": started}
            """,
            ((10, 15),),
            message="`time.time()`",
            fixed="""
                import time

                import restate

                svc = restate.Service("Billing")


                @svc.handler()
                async def bill(ctx: restate.Context, order: dict) -> dict:
                    started = await ctx.time()
                    return {"started": started}
            """,
            doc=True,
        ),
        Invalid(
            """
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
            """,
            ((13, 31), (14, 12)),
            fixed="""
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
            """,
        ),
        Invalid(
            """
                from datetime import datetime

                import restate

                wf = restate.Workflow("Signup")


                @wf.main()
                async def run(ctx: restate.WorkflowContext, email: str) -> str:
                    return datetime.utcnow().isoformat()
            """,
            ((10, 12),),
            fixed="""
                from datetime import datetime, timezone

                import restate

                wf = restate.Workflow("Signup")


                @wf.main()
                async def run(ctx: restate.WorkflowContext, email: str) -> str:
                    return datetime.fromtimestamp(await ctx.time(), timezone.utc).replace(tzinfo=None).isoformat()
            """,
            unsafe=True,
            note="utcnow: timezone import added",
        ),
        Invalid(
            """
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
            """,
            ((19, 12),),
            message="`time.time()` reads the wall clock; use `await ctx.time()`",
            note="helper called from a handler nested in a factory: no ctx there, no fix",
        ),
    ]


@fix_strategy("ctx-time")
def ctx_time(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    """`time.time()` -> `await ctx.time()` (`_ns` variants scaled to integer nanoseconds)."""
    call = readable_call(kc.node)
    ctx = context_name(module, kc.node)
    clock = tables(module, kc).clock_method
    if call is None or ctx is None or not clock or call.args or call.keywords:
        return None
    if not can_await(call):
        return None
    if kc.qualname.endswith("_ns"):
        text = f"int((await {ctx}.{clock}()) * 1_000_000_000)"
    else:
        text = f"await {ctx}.{clock}()"
    return make_fix(
        kc, f"Replace with `{text}`", lambda fx: [fx.replace(call, parenthesized(text, call, fx))]
    )


@fix_strategy("ctx-datetime")
def ctx_datetime(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    """`datetime.now([tz])` -> `datetime.fromtimestamp(await ctx.time()[, tz])`."""
    call = readable_call(kc.node)
    ctx = context_name(module, kc.node)
    clock = tables(module, kc).clock_method
    if call is None or ctx is None or not clock or not can_await(call):
        return None
    if not isinstance(call.func, ast.Attribute):
        return None
    method = kc.method
    tz = argument(call, 0, "tz")
    if len(call.args) + len(call.keywords) > (1 if method == "now" else 0):
        return None
    receiver = call.func.value
    stamp = f"await {ctx}.{clock}()"

    def build(fx: FixContext) -> list[Edit]:
        owner = fx.text(receiver)
        edits: list[Edit] = []
        if method == "utcnow":
            timezone, edits = fx.import_name("datetime", "timezone")
            text = f"{owner}.fromtimestamp({stamp}, {timezone}.utc).replace(tzinfo=None)"
        elif tz is not None:
            text = f"{owner}.fromtimestamp({stamp}, {fx.text(tz)})"
        else:
            text = f"{owner}.fromtimestamp({stamp})"
        return [*edits, fx.replace(call, text)]

    return make_fix(kc, f"Build it from `{stamp}` with `fromtimestamp`", build)


@fix_strategy("module-datetime")
def module_datetime(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    """`datetime.now(...)` from the framework module's aware-UTC `now()` (`{wf}.now()`).

    Safe only where the value keeps its type and meaning: `now(tz)` ->
    `{wf}.now().astimezone(tz)` (aware, same zone) and `utcnow()` ->
    `{wf}.now().replace(tzinfo=None)` (naive UTC). `now()`/`today()` are naive LOCAL time and
    `date.today()` the local date: `{wf}.now()` / `{wf}.now().date()` are UTC, an unsafe fix.
    """
    call = readable_call(kc.node)
    dotted = tables(module, kc).module
    if call is None or not dotted:
        return None
    method, owner = kc.method, kc.qualname.rsplit(".", 2)[-2]
    tz = argument(call, 0, "tz")
    if len(call.args) + len(call.keywords) > (1 if method == "now" and owner == "datetime" else 0):
        return None
    if owner == "date":
        suffix, safe = ".date()", False
    elif method == "utcnow":
        suffix, safe = ".replace(tzinfo=None)", True
    elif tz is not None:
        suffix, safe = ".astimezone(tz)", True
    else:
        suffix, safe = "", False
    name = dotted.rpartition(".")[2]

    def build(fx: FixContext) -> list[Edit]:
        spelled, edits = module_spelling(fx, dotted)
        tail = f".astimezone({fx.text(tz)})" if tz is not None else suffix
        return [*edits, fx.replace(call, f"{spelled}.now(){tail}")]

    return Fix("safe" if safe else "unsafe", f"Replace with `{name}.now(){suffix}`", build)
