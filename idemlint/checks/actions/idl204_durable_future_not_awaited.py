"""IDL204 durable-future-not-awaited."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...dataflow import Consumption
from ...diagnostics import Edit, Finding, Fix
from ...fixes.context import FixContext
from ...model import Unit
from ...registry import Invalid, Rule, Valid
from ...scopes import can_await, parent
from ._shared import ActionTables, activity_tables, tables


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

    ## Temporal
    Reports the workflow functions defined `async def` (coroutine functions) whose result is never
    awaited in workflow code: `workflow.execute_activity`, `execute_local_activity`, their
    `_class`/`_method` variants, `execute_child_workflow`, `start_child_workflow`,
    `workflow.sleep`, `workflow.wait_condition` and `workflow.wait` (temporalio 1.35,
    `workflow/_activities.py`, `_workflow_ops.py`, `_context.py`, `_asyncio.py`). A coroutine does
    nothing until awaited: the activity or child is never scheduled, the timer never started
    (Python warns "coroutine ... was never awaited" and the workflow goes on).
    `workflow.start_activity` (and its local, `_class`, `_method` variants) is **not** reported:
    it is a plain `def` returning an `ActivityHandle`, an `asyncio.Task` already scheduled on the
    workflow loop, so the activity runs whether or not the handle is awaited.
    The fix adds `await` to a bare expression statement: **safe** for timers, conditions and
    `start_child_workflow`; **unsafe** for the `execute_*` calls, which then wait for completion
    (the `start_*` twin may be what was meant).

    ## Options
    None.
    """

    code = "IDL204"
    name = "durable-future-not-awaited"
    summary = "A durable future (run, sleep, call, state read) is created and never awaited"
    severity = "error"
    fix_availability = "sometimes"
    frameworks = ("restate", "temporal")
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
        Valid("""
            import asyncio
            from datetime import timedelta

            from temporalio import activity, workflow


            @activity.defn
            async def charge(amount: int) -> str:
                return f"charged {amount}"


            @workflow.defn
            class Batch:
                def __init__(self) -> None:
                    self.ready = False

                @workflow.run
                async def run(self, amounts: list[int]) -> list[str]:
                    workflow.start_activity(charge, 0, start_to_close_timeout=timedelta(seconds=5))
                    results = await asyncio.gather(*[
                        workflow.execute_activity(charge, a, start_to_close_timeout=timedelta(seconds=5))
                        for a in amounts
                    ])
                    await workflow.wait_condition(lambda: self.ready)
                    await asyncio.sleep(1)
                    pending = workflow.execute_local_activity(charge, 1, start_to_close_timeout=timedelta(seconds=5))
                    return [*results, await pending]

                @workflow.signal
                def go(self) -> None:
                    self.ready = True
        """, note="Temporal: gathered, awaited later, start_activity handles run anyway"),
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
        Invalid(
            """
                from datetime import timedelta

                from temporalio import activity, workflow


                @activity.defn
                async def charge(amount: int) -> str:
                    return f"charged {amount}"


                @workflow.defn
                class Reminder:
                    @workflow.run
                    async def run(self, amount: int) -> None:
                        workflow.sleep(timedelta(minutes=5))
                        workflow.execute_activity(charge, amount, start_to_close_timeout=timedelta(seconds=5))
            """,
            ((15, 9), (16, 9)),
            message="never awaited",
            unsafe=True,
            fixed="""
                from datetime import timedelta

                from temporalio import activity, workflow


                @activity.defn
                async def charge(amount: int) -> str:
                    return f"charged {amount}"


                @workflow.defn
                class Reminder:
                    @workflow.run
                    async def run(self, amount: int) -> None:
                        await workflow.sleep(timedelta(minutes=5))
                        await workflow.execute_activity(charge, amount, start_to_close_timeout=timedelta(seconds=5))
            """,
            note="Temporal: a timer (safe) and an execute (unsafe: start_activity may be meant)",
        ),
        Invalid(
            """
                from datetime import timedelta

                import temporalio.workflow as wf
                from temporalio import activity
                from temporalio.workflow import execute_local_activity


                @activity.defn
                async def charge(amount: int) -> str:
                    return f"charged {amount}"


                @wf.defn
                class Reminder:
                    def __init__(self) -> None:
                        self.done = False

                    @wf.run
                    async def run(self, amounts: list[int]) -> None:
                        for amount in amounts:
                            if amount:
                                try:
                                    await self._step(amount)
                                finally:
                                    pass

                    async def _step(self, amount: int) -> None:
                        with open("/dev/null"):
                            wf.wait_condition(lambda: self.done)
                        task = execute_local_activity(charge, amount, start_to_close_timeout=timedelta(seconds=5))
            """,
            ((29, 13), (30, 16)),
            fixed="""
                from datetime import timedelta

                import temporalio.workflow as wf
                from temporalio import activity
                from temporalio.workflow import execute_local_activity


                @activity.defn
                async def charge(amount: int) -> str:
                    return f"charged {amount}"


                @wf.defn
                class Reminder:
                    def __init__(self) -> None:
                        self.done = False

                    @wf.run
                    async def run(self, amounts: list[int]) -> None:
                        for amount in amounts:
                            if amount:
                                try:
                                    await self._step(amount)
                                finally:
                                    pass

                    async def _step(self, amount: int) -> None:
                        with open("/dev/null"):
                            await wf.wait_condition(lambda: self.done)
                        task = execute_local_activity(charge, amount, start_to_close_timeout=timedelta(seconds=5))
            """,
            note="Temporal: aliased and from-imported, nested, in a helper method; an unused "
                 "assignment gets no fix",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        model = module.model
        view = tables(module)
        consumption = Consumption(module)
        for unit, node in model.handler_calls():
            if _workflow_coroutine(module, unit, node):
                if not consumption.consumed(node):
                    yield self._workflow_finding(module, unit, node)
                continue
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

    def _workflow_finding(self, module: ModuleAnalysis, unit: Unit, call: ast.Call) -> Finding:
        qualname = module.resolver.qualname(call.func) or ""
        start = activity_tables(unit.framework).start_instead.get(qualname)
        fix = None
        if isinstance(parent(call), ast.Expr) and can_await(call):

            def build(fx: FixContext, node: ast.Call = call) -> list[Edit]:
                return [fx.insert_before(node, "await ")]

            fix = Fix("unsafe" if start else "safe", "Await the coroutine", build)
        shown = f"`{' '.join(module.text(call.func).split())}(...)`"
        advice = f"await it, or use `{start}` to start it without waiting" if start else "await it"
        return module.finding(
            self,
            call,
            f"{shown} is never awaited; {advice}",
            fix=fix,
            detail=(
                f"{shown} returns a coroutine: until it is awaited nothing is scheduled, so the "
                "workflow neither runs it nor waits for it."
            ),
        )

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


def _workflow_coroutine(module: ModuleAnalysis, unit: Unit, node: ast.Call) -> bool:
    """A call of a module function of the unit's framework defined ``async def``."""
    awaitables = activity_tables(unit.framework).awaitables
    return bool(awaitables) and module.resolver.qualname(node.func) in awaitables


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
