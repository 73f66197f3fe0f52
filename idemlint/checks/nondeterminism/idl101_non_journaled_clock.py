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
    Reports reads of the wall clock in handler code outside a journaled action (Restate) or in
    workflow code (Temporal):
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

    ## Temporal
    Workflow code (the methods of a `@workflow.defn` class and what they call) is replayed from
    its history after a worker restart or a cache eviction; the clock then returns another time
    and a branch on it can take a path the history did not record (a nondeterminism error).
    The SDK's workflow clock is replayed with the history (temporalio 1.35,
    `workflow/_context.py`): `workflow.time()` is `time_ns() / 1e9` (float seconds, "the
    workflow equivalent of time.time"), `workflow.time_ns()` an int, and `workflow.now()` is
    `datetime.fromtimestamp(time(), timezone.utc)`: an AWARE datetime in UTC. Activities
    (`@activity.defn`) run once per attempt and may read the clock. Fixes (the `workflow`
    module as the file spells it: `import temporalio.workflow as wf` gives `wf.time()`; without
    one, `from temporalio import workflow` is added):
    - `time.time()` → `workflow.time()`, `time.time_ns()` → `workflow.time_ns()`: **safe**,
      same type and meaning;
    - `datetime.now(tz)` → `workflow.now().astimezone(tz)`, `datetime.utcnow()` →
      `workflow.now().replace(tzinfo=None)`: **safe** (aware in `tz` / naive UTC, as before);
    - `datetime.now()`/`today()` → `workflow.now()` and `date.today()` →
      `workflow.now().date()`: **unsafe** — the originals are naive LOCAL time; the
      replacement is aware UTC (comparing it with a naive datetime raises `TypeError`, hours
      and the date can shift);
    - `monotonic()`/`perf_counter()` (and `_ns`) → `workflow.time()` / `time_ns()`: **unsafe**,
      a wall clock is not a monotonic one; `process_time()`, `localtime()`, pendulum and arrow:
      no fix (the message names the replacement).
    temporalint: TPL008 `nondeterministic-call` covers `datetime.now/utcnow/today`,
    `date.today`, `time.time/time_ns/monotonic/perf_counter` (it suggests `workflow.now()` for
    all, a datetime where `time.time()` returned a float); this rule also covers the `_ns`
    variants, `process_time`, the argument-less `localtime`/`gmtime`/`ctime`/`asctime`,
    pendulum and arrow, helpers reached from the workflow, and fixes them.

    ## Options
    - `[tool.idemlint.nondeterministic]` adds your own clocks: `"mycorp.clock.now" = "IDL101"`.
    - `deterministic = ["mycorp.clock.frozen_now"]` silences a name you know is deterministic.
    """

    code = "IDL101"
    frameworks = ("restate", "temporal")
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
        Valid("""
            import time
            from datetime import datetime, timezone

            from temporalio import activity, workflow


            @activity.defn
            async def stamp() -> float:
                return time.time()  # activities run once per attempt


            @workflow.defn
            class Billing:
                @workflow.run
                async def run(self, order: str) -> str:
                    started = workflow.now()
                    seconds = workflow.time() + workflow.time_ns() / 1e9
                    local = datetime.fromtimestamp(workflow.time(), timezone.utc)
                    return f"{order} {started} {seconds} {local}"
        """, note="Temporal: workflow.now/time/time_ns, the clock in an activity"),
        Valid("""
            from temporalio.workflow import defn, now, run, time as workflow_time


            @defn
            class Report:
                @run
                async def report(self) -> str:
                    return f"{now()} {workflow_time()}"
        """, note="Temporal: from-imported workflow.now / workflow.time"),
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
        Invalid(
            """
                import time

                from temporalio import workflow


                @workflow.defn
                class Billing:
                    @workflow.run
                    async def run(self, items: list[str]) -> float:
                        total = 0.0
                        for item in items:
                            if item:
                                total += time.time()
                        return total + self._elapsed()

                    def _elapsed(self) -> int:
                        return time.time_ns()
            """,
            ((13, 26), (17, 16)),
            message="` reads the wall clock; use `workflow.time",
            fixed="""
                import time

                from temporalio import workflow


                @workflow.defn
                class Billing:
                    @workflow.run
                    async def run(self, items: list[str]) -> float:
                        total = 0.0
                        for item in items:
                            if item:
                                total += workflow.time()
                        return total + self._elapsed()

                    def _elapsed(self) -> int:
                        return workflow.time_ns()
            """,
            note="Temporal: nested in for/if, in a helper method",
        ),
        Invalid(
            """
                import datetime as dt

                import temporalio.workflow as wf


                @wf.defn
                class Report:
                    @wf.run
                    async def run(self) -> str:
                        try:
                            aware = dt.datetime.now(dt.timezone.utc)
                        finally:
                            naive_utc = dt.datetime.utcnow()
                        return f"{aware} {naive_utc}"
            """,
            ((11, 21), (13, 25)),
            fixed="""
                import datetime as dt

                import temporalio.workflow as wf


                @wf.defn
                class Report:
                    @wf.run
                    async def run(self) -> str:
                        try:
                            aware = wf.now().astimezone(dt.timezone.utc)
                        finally:
                            naive_utc = wf.now().replace(tzinfo=None)
                        return f"{aware} {naive_utc}"
            """,
            note="Temporal: aliased module reused; now(tz) and utcnow keep their type (safe)",
        ),
        Invalid(
            """
                import contextlib
                from datetime import date, datetime

                from temporalio.workflow import defn, run


                @defn
                class Report:
                    @run
                    async def report(self) -> str:
                        with contextlib.suppress(KeyError):
                            return f"{datetime.now()} {date.today()}"
                        return ""
            """,
            ((12, 23), (12, 40)),
            fixed="""
                import contextlib
                from datetime import date, datetime

                from temporalio.workflow import defn, run
                from temporalio import workflow


                @defn
                class Report:
                    @run
                    async def report(self) -> str:
                        with contextlib.suppress(KeyError):
                            return f"{workflow.now()} {workflow.now().date()}"
                        return ""
            """,
            unsafe=True,
            note="Temporal: naive local now()/date.today() -> aware UTC: unsafe; import added",
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
