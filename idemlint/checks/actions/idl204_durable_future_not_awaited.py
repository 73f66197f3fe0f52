"""IDL204 durable-future-not-awaited."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...dataflow import Consumption
from ...diagnostics import Edit, Finding, Fix
from ...fixes.context import FixContext
from ...registry import Invalid, Rule, Valid
from ...scopes import can_await, parent
from ._shared import ActionTables, tables


class DurableFutureNotAwaited(Rule):
    """
    ## What it does
    Reports a durable future made by the context in handler code that is never awaited: the result
    of `ctx.run_typed`, `ctx.run`, `ctx.sleep`, `ctx.time`, `ctx.get`, `ctx.state_keys`,
    `ctx.signal`, `ctx.attach_invocation`, `ctx.service_call`/`object_call`/`workflow_call`/
    `generic_call`, or `ctx.promise(...).value()` that is
    - a bare expression statement, a comprehension that is itself dropped;
    - assigned to a name that is never used afterwards (or only reassigned);
    - appended to a list that is never used except for more appends.

    A future counts as used when it is awaited, passed to any call (`restate.gather`, `select`,
    `wait_completed`, `as_completed`, a helper), returned or yielded, stored on an object or in a
    container that is used, iterated, the body of a lambda (compensations), or used in any other
    expression. Assignments in branches and loops are followed conservatively: a later use of the
    same name counts.

    ## Why is this bad?
    A future nobody awaits is a step the handler never waits for: its result and failure are lost,
    the timer does not pause anything, and an action only runs when the SDK drives it while a
    future is awaited — it may never run. For calls, the request is sent but the answer ignored;
    `*_send` says that explicitly.

    ## Use instead
    Await the future, or collect futures and `await restate.gather(*futures)`.

    ## Fix safety
    The fix adds `await` to a future that is a bare expression statement in an `async def`
    (nowhere else).
    - **Safe** for actions, timers and reads: awaiting is what the code meant.
    - **Unsafe** for `*_call`: the handler now waits for the callee; if the result is not needed,
      `*_send` may be what you want.

    ## Options
    None.
    """

    code = "IDL204"
    name = "durable-future-not-awaited"
    summary = "A durable future (run, sleep, call, state read) is created and never awaited"
    severity = "error"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
            from datetime import timedelta

            import restate

            svc = restate.Service("Fanout")


            @svc.handler()
            async def fan(ctx: restate.Context, items: list) -> list:
                first = ctx.run_typed("first", lambda: 1)
                pending = []
                for item in items:
                    pending.append(ctx.run_typed(f"step-{item}", lambda: 2))
                done = [await f for f in await restate.gather(*pending)]
                winner = await restate.select(result=ctx.run_typed("r", lambda: 3), timeout=ctx.sleep(timedelta(seconds=5)))
                futures = [ctx.sleep(timedelta(seconds=i)) for i in range(3)]
                await restate.gather(*futures)
                compensations = [lambda: ctx.run_typed("undo", lambda: 0)]
                for undo in compensations:
                    await undo()
                return [await first, *done, winner]


            async def later(ctx: restate.Context):
                return ctx.run_typed("later", lambda: 4)
        """),
        Valid("""
            import restate

            svc = restate.Service("Calls")
            other = restate.Service("Other")


            @other.handler()
            async def work(ctx: restate.Context, n: int) -> int:
                return n


            @svc.handler()
            async def call(ctx: restate.Context, flag: bool) -> int:
                if flag:
                    fut = ctx.service_call(work, 1)
                else:
                    fut = ctx.service_call(work, 2)
                handle = ctx.service_call(work, 3)
                invocation = await handle.invocation_id()
                return await fut + len(invocation)
        """, note="futures assigned in branches and used later"),
    ]
    INVALID = [
        Invalid(
            """
                from datetime import timedelta

                import restate

                svc = restate.Service("Reminders")


                def send_email(user: str) -> str:
                    return f"reminder sent to {user}"


                @svc.handler()
                async def remind(ctx: restate.Context, user: str) -> None:
                    ctx.sleep(timedelta(minutes=5))
                    ctx.run_typed("email", send_email, restate.RunOptions(), user)
            """,
            ((14, 5), (15, 5)),
            fixed="""
                from datetime import timedelta

                import restate

                svc = restate.Service("Reminders")


                def send_email(user: str) -> str:
                    return f"reminder sent to {user}"


                @svc.handler()
                async def remind(ctx: restate.Context, user: str) -> None:
                    await ctx.sleep(timedelta(minutes=5))
                    await ctx.run_typed("email", send_email, restate.RunOptions(), user)
            """,
            doc=True,
        ),
        Invalid(
            """
                from datetime import timedelta

                import restate

                svc = restate.Service("Reminders")


                @svc.handler()
                async def remind(ctx: restate.Context, user: str) -> None:
                    ctx.run_typed("email", lambda: user)
                    ctx.sleep(timedelta(minutes=5))
                    unused = ctx.get("x")
                    pending = []
                    pending.append(ctx.run_typed("sms", lambda: user))
            """,
            ((10, 5), (11, 5), (12, 14), (14, 20)),
            fixed="""
                from datetime import timedelta

                import restate

                svc = restate.Service("Reminders")


                @svc.handler()
                async def remind(ctx: restate.Context, user: str) -> None:
                    await ctx.run_typed("email", lambda: user)
                    await ctx.sleep(timedelta(minutes=5))
                    unused = ctx.get("x")
                    pending = []
                    pending.append(ctx.run_typed("sms", lambda: user))
            """,
        ),
        Invalid(
            """
                import restate

                svc = restate.Service("Calls")
                other = restate.Service("Other")


                @other.handler()
                async def work(ctx: restate.Context, n: int) -> int:
                    return n


                class Handlers:
                    @staticmethod
                    @svc.handler()
                    async def call(ctx: restate.Context) -> None:
                        ctx.service_call(work, 1)
            """,
            ((16, 9),),
            message="service_send",
            unsafe=True,
            fixed="""
                import restate

                svc = restate.Service("Calls")
                other = restate.Service("Other")


                @other.handler()
                async def work(ctx: restate.Context, n: int) -> int:
                    return n


                class Handlers:
                    @staticmethod
                    @svc.handler()
                    async def call(ctx: restate.Context) -> None:
                        await ctx.service_call(work, 1)
            """,
            note="a call: adding await makes the handler wait (unsafe)",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        model = module.model
        view = tables(module)
        consumption = Consumption(module)
        for _, node in model.handler_calls():
            if not _durable_call(module, view, node) or consumption.consumed(node):
                continue
            fix = None
            if isinstance(parent(node), ast.Expr) and can_await(node):
                method = node.func.attr  # type: ignore[attr-defined]
                safe = method not in model.fw.calls

                def build(fx: FixContext, call: ast.Call = node) -> list[Edit]:
                    return [fx.insert_before(call, "await ")]

                fix = Fix("safe" if safe else "unsafe", "Await the future", build)
            yield self._finding(module, view, node, fix)

    def _finding(
        self, module: ModuleAnalysis, view: ActionTables, call: ast.Call, fix: Fix | None
    ) -> Finding:
        fw = module.model.fw
        method = call.func.attr  # type: ignore[attr-defined]
        shown = f"`{' '.join(module.text(call.func).split())}(...)`"
        send = view.sends.get(method)
        if method in fw.journaled_actions:
            why = ("The handler does not wait for the action: its result and errors are lost, "
                   "and it may never run.")
        elif method in view.timers:
            why = "Nothing waits for the timer, so the handler does not pause."
        elif method in fw.calls:
            why = "The call is made but its result and errors are never seen."
        else:
            why = "Its value is never read."
        advice = f"await it or use `{send}`" if send and method in fw.calls else "await it"
        return module.finding(
            self,
            call,
            f"{shown} is never awaited; {advice}",
            fix=fix,
            detail=f"{shown} creates a durable future that is never awaited. {why}",
        )


def _durable_call(module: ModuleAnalysis, view: ActionTables, node: ast.Call) -> bool:
    """A call on the context that returns a durable future (``ctx.promise(n).value()`` too)."""
    model = module.model
    func = node.func
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr in model.fw.durable and model.is_context(func.value):
        return True
    inner = func.value
    return (
        view.promise_value is not None
        and func.attr == view.promise_value
        and isinstance(inner, ast.Call)
        and isinstance(inner.func, ast.Attribute)
        and inner.func.attr == view.promise
        and model.is_context(inner.func.value)
    )
