"""IDL107 non-durable-sleep."""

from __future__ import annotations

import ast

from ...analysis import ModuleAnalysis
from ...calls import SLEEP_DELAY_KEYWORDS, KnownCall
from ...diagnostics import Edit, Fix
from ...fixes.context import FixContext
from ...registry import Invalid, Valid
from ...scopes import can_await, parent
from ...syntax import argument
from ._shared import KnownCallRule, context_name, fix_strategy, make_fix, readable_call, tables


class NonDurableSleep(KnownCallRule):
    """
    ## What it does
    Reports sleeps in process memory in handler code outside a journaled action (Restate) or in
    workflow code (Temporal, where `asyncio.sleep` is fine: see below):
    - `time.sleep(...)`;
    - `asyncio.sleep(...)`, `trio.sleep(...)` and `anyio.sleep(...)`, except with a literal `0`
      (`await asyncio.sleep(0)` only yields to the event loop);
    - `trio.sleep_until(...)` and `anyio.sleep_until(...)`.

    Any import spelling is recognised (`from time import sleep`). Helpers called from a handler
    are checked too (the finding's detail shows the call chain). A sleep inside a journaled
    action, such as a backoff between attempts of the action's own work, is not reported.

    ## Why is this bad?
    An in-memory sleep is invisible to Restate. While it waits, the invocation stays active and
    holds its worker; it cannot suspend. After a crash, a deployment or a retry, the handler is
    replayed and the sleep starts again from zero. Restate asks an invocation that shows no
    progress to suspend after its inactivity timeout and aborts it after the abort timeout when it
    cannot, so a long sleep is restarted again and again and may never complete. `time.sleep` in an
    `async def` handler also blocks the event loop: every other invocation served by that process
    stalls with it.

    `await ctx.sleep(timedelta(...))` is a durable timer: Restate records it and keeps the time, the
    invocation suspends (freeing the worker, or the Lambda), and it resumes when the timer fires, on
    any worker. After a crash the wait is not restarted; a timer that already fired completes
    immediately on replay.

    ## Use instead
    To wait between attempts of a failing call, let Restate retry the journaled action
    (`restate.RunOptions(max_attempts=..., initial_retry_interval=...)`) instead of sleeping in the
    handler.

    ## Fix safety
    The fix is **safe**. It rewrites the sleep into `await ctx.sleep(timedelta(seconds=<delay>))`,
    adding `from datetime import timedelta` (or reusing an existing import):
    - `time.sleep(n)` written as a statement of its own → `await ctx.sleep(timedelta(seconds=n))`;
    - `await asyncio.sleep(n)` → `await ctx.sleep(timedelta(seconds=n))` (`delay=`, `seconds=`
      and `secs=` keywords are accepted too).

    It needs the context in scope, exactly one argument and a place where `await` is allowed. No fix
    for a sync `def` handler, a `time.sleep` inside an expression, an `asyncio.sleep` that is not
    awaited where it is created (`t = asyncio.sleep(2)`), `asyncio.sleep(delay, result)`, the trio and
    anyio sleeps, and helpers without a context parameter.

    The handler's journal gains a timer entry: deploy the change as a new deployment, so that
    invocations already in flight finish on the code they started with.

    ## Temporal
    `asyncio.sleep` IS a durable timer in workflow code: the workflow's event loop
    (temporalio 1.35, `worker/_workflow_instance.py`) implements `call_later` (and `call_at`,
    used by `asyncio.timeout`/`wait_for`) through `_timer_impl`, which emits a `start_timer`
    command recorded in the history. So `asyncio.sleep`, `asyncio.wait_for` and
    `asyncio.gather` are not reported for Temporal. `time.sleep` is: it blocks the worker's
    workflow thread, records nothing, and a workflow task that runs over 2 seconds is failed by
    the worker's deadlock detection (`worker/_workflow.py`, `_deadlock_timeout_seconds = 2`).
    trio/anyio sleeps do not run on the workflow loop at all (reported, no fix).
    Fix: `time.sleep(d)` → `await workflow.sleep(d)` (`workflow.sleep(duration: float |
    timedelta)`, the `workflow` module as the file spells it): **safe**, only where `await` is
    allowed (an `async def`) and with one positional argument; no fix in sync code.
    temporalint has no rule for sleeping in workflow code.

    ## Options
    - `[tool.idemlint.nondeterministic]` adds your own waits:
      `"mycorp.retry.backoff" = { code = "IDL107", async = true }`.
    - `deterministic = ["mycorp.retry.no_wait"]` silences a name that does not actually wait.
    - `# noqa: IDL107` for a short wait you accept to lose (polling a local resource).
    """

    code = "IDL107"
    frameworks = ("restate", "temporal")
    name = "non-durable-sleep"
    summary = "Non-durable sleep in a handler"
    what = "sleeps in process memory"
    consequence = "the wait is lost on a crash and blocks the invocation instead of suspending it"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
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
        """),
        Valid("""
            import asyncio
            import time
            from datetime import timedelta

            from temporalio import activity, workflow


            @activity.defn
            def poll() -> None:
                time.sleep(1)  # activities may block (a sync activity runs in an executor)


            @workflow.defn
            class Reminder:
                @workflow.run
                async def run(self, delay: float) -> None:
                    await asyncio.sleep(delay)  # a durable timer in workflow code
                    await workflow.sleep(timedelta(minutes=5))
                    await asyncio.gather(asyncio.sleep(1), self._tick())

                async def _tick(self) -> None:
                    await asyncio.sleep(2)
        """, note="Temporal: asyncio.sleep is a durable timer; time.sleep in an activity"),
    ]
    INVALID = [
        Invalid(
            """
                import asyncio
                import time

                import restate

                svc = restate.Service("Reminders")


                @svc.handler()
                async def remind(ctx: restate.Context, delay: float) -> None:
                    time.sleep(5)
                    await asyncio.sleep(delay)
            """,
            ((11, 5), (12, 11)),
            fixed="""
                import asyncio
                import time
                from datetime import timedelta

                import restate

                svc = restate.Service("Reminders")


                @svc.handler()
                async def remind(ctx: restate.Context, delay: float) -> None:
                    await ctx.sleep(timedelta(seconds=5))
                    await ctx.sleep(timedelta(seconds=delay))
            """,
            doc=True,
        ),
        Invalid(
            """
                import datetime
                import time

                import restate

                svc = restate.Service("Reminders")


                @svc.handler()
                def remind(ctx: restate.Context) -> None:
                    time.sleep(1)
            """,
            ((11, 5),),
            note="a sync handler cannot await: reported without a fix",
        ),
        Invalid(
            """
                import time

                from temporalio import workflow


                @workflow.defn
                class Reminder:
                    @workflow.run
                    async def run(self, delays: list[float]) -> None:
                        for delay in delays:
                            if delay:
                                time.sleep(delay)
                        await self._pause()

                    async def _pause(self) -> None:
                        time.sleep(2)
            """,
            ((12, 17), (16, 9)),
            message="use `await workflow.sleep(...)`",
            fixed="""
                import time

                from temporalio import workflow


                @workflow.defn
                class Reminder:
                    @workflow.run
                    async def run(self, delays: list[float]) -> None:
                        for delay in delays:
                            if delay:
                                await workflow.sleep(delay)
                        await self._pause()

                    async def _pause(self) -> None:
                        await workflow.sleep(2)
            """,
            note="Temporal: nested in for/if, in an async helper method",
        ),
        Invalid(
            """
                from time import sleep

                import temporalio.workflow as wf


                @wf.defn
                class Reminder:
                    @wf.run
                    async def run(self) -> None:
                        try:
                            sleep(3)
                        finally:
                            self._wait()

                    def _wait(self) -> None:
                        sleep(1)
            """,
            ((11, 13), (16, 9)),
            fixed="""
                from time import sleep

                import temporalio.workflow as wf


                @wf.defn
                class Reminder:
                    @wf.run
                    async def run(self) -> None:
                        try:
                            await wf.sleep(3)
                        finally:
                            self._wait()

                    def _wait(self) -> None:
                        sleep(1)
            """,
            note="Temporal: aliased module, from-imported sleep; none in a sync helper",
        ),
    ]


@fix_strategy("ctx-sleep")
def ctx_sleep(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    """`time.sleep(n)` / `await asyncio.sleep(n)` -> `await ctx.sleep(timedelta(seconds=n))`."""
    call = readable_call(kc.node)
    ctx = context_name(module, kc.node)
    sleep = tables(module, kc).sleep_method
    if call is None or ctx is None or not sleep or not can_await(call):
        return None
    if len(call.args) + len(call.keywords) != 1:
        return None
    delay = argument(call, 0, *SLEEP_DELAY_KEYWORDS)
    if delay is None:
        return None
    up = parent(call)
    if kc.entry.is_async:
        prefix = ""  # `await asyncio.sleep(n)`: keep the await, swap the call
        if not isinstance(up, ast.Await):
            return None
    else:
        prefix = "await "  # `time.sleep(n)` as a statement
        if not isinstance(up, ast.Expr):
            return None

    def build(fx: FixContext) -> list[Edit]:
        timedelta, edits = fx.import_name("datetime", "timedelta")
        text = f"{prefix}{ctx}.{sleep}({timedelta}(seconds={fx.text(delay)}))"
        return [*edits, fx.replace(call, text)]

    return make_fix(kc, f"Use the durable timer `await {ctx}.{sleep}(timedelta(...))`", build)
