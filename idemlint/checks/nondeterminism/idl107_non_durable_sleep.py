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
    Reports sleeps in process memory in handler code outside a journaled action:
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

    ## Options
    - `[tool.idemlint.nondeterministic]` adds your own waits:
      `"mycorp.retry.backoff" = { code = "IDL107", async = true }`.
    - `deterministic = ["mycorp.retry.no_wait"]` silences a name that does not actually wait.
    - `# noqa: IDL107` for a short wait you accept to lose (polling a local resource).
    """

    code = "IDL107"
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
