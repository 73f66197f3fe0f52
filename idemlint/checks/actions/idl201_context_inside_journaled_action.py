"""IDL201 context-inside-journaled-action."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

from ...analysis import ModuleAnalysis
from ...dataflow import callee
from ...diagnostics import Finding
from ...registry import Invalid, Rule, Valid
from ...scopes import FUNCTION_NODES, scope_of
from ...syntax import scope_within, walk_body
from ._shared import (
    Frame,
    action_label,
    actions_with_frames,
    activity_tables,
    call_frame,
    outer_context,
    tables,
)


class ContextInsideJournaledAction(Rule):
    """
    ## What it does
    Reports the handler's Restate context used inside a journaled action — the callable given to
    `ctx.run_typed(...)` or `ctx.run(...)`:
    - every context method that journals something: `run_typed`, `run`, `sleep`, `time`, `get`,
      `state_keys`, `set`, `clear`, `clear_all`, `service_call`/`object_call`/`workflow_call`/
      `generic_call`, the `*_send` methods, `awakeable`, `resolve_awakeable`, `reject_awakeable`,
      `promise`, `signal`, `resolve_signal`, `reject_signal`, `attach_invocation`,
      `cancel_invocation`, also through `ctx.scope(...)`;
    - `ctx.random()` and `ctx.uuid()` (see below).

    The context is recognised under every spelling that reaches the action: the handler's parameter,
    an alias (`c = ctx`), a default argument (`lambda s=ctx: s.set(...)`), `self.ctx` set from the
    context, a helper's parameter bound to it, `current_context()`, and arguments forwarded by
    `run_typed` or bound with `functools.partial` (`ctx.run_typed("x", charge, RunOptions(), ctx)`).
    Action bodies are lambdas, nested `def`/`async def` (before or after the call), module functions,
    bound methods, `functools.partial(...)` and closures returned by factories; nested functions
    inside the action are checked too, and a local helper called from the action is followed: the
    finding is then reported at the call, naming the context call the helper makes.

    A module function used as an action is reported only when the context it uses comes from the
    handler (forwarded, bound, captured): a parameter that happens to be called `ctx` is not the
    context. A lambda that *contains* a context call but is not itself an action — e.g. a
    compensation `compensations.append(lambda: ctx.run_typed(...))` awaited later — is handler code,
    not an action, and is not reported.

    Not reported: `ctx.key()` and `ctx.request()`. In restate-sdk 1.3
    (`restate/server_context.py`, `ServerInvocationContext.key` / `.request`) they only read the
    invocation's key, id, headers and body: nothing is journaled and nothing changes on replay.

    ## Why is this bad?
    The action runs once; on replay its journaled result is returned and the action is skipped.
    Whatever the action asks the context to do — set state, sleep, call another handler, run a
    nested action (`ctx.time()` is itself a `run_typed`, see `ServerInvocationContext.time`) — is
    recorded only when the action actually executes. On the next replay those entries are missing
    and the journal no longer matches the code. Restate does not support context operations inside
    a run.

    `ctx.random()` and `ctx.uuid()` draw from one generator seeded by Restate per invocation
    (`Random(invocation.random_seed)`). A draw inside the action advances that generator only when
    the action runs, not when it is replayed, so every later `ctx.random()`/`ctx.uuid()` in the
    handler returns a different value on replay. Sync actions also run in a worker thread
    (`loop.run_in_executor`), possibly while other handler code draws, so the order of draws is
    not even stable within one attempt.

    ## Use instead
    Journal only the side effect in the action, and use the context in the handler, before or
    after it. Draw random values in the handler and pass them in:
    `token = str(ctx.uuid()); await ctx.run_typed("send", send, RunOptions(), token)`.

    ## Fix safety
    No fix: moving a context operation out of the action changes what the action does.

    ## Temporal
    Reports, inside activity code (`@activity.defn` functions and methods, functions nested in
    them, and the helpers they call, in this module or another module of the tree, reported at
    the call in the activity), the `temporalio.workflow` functions that need the workflow event
    loop. In temporalio 1.35 they reach `_Runtime.current()` (`workflow/_context.py`), which
    raises `_NotInWorkflowEventLoopError("Not in workflow event loop")` outside a workflow:
    `info`, `now`, `time`, `time_ns`, `random`, `new_random`, `uuid4`, `uuid7`, `sleep`,
    `wait_condition`, every activity/child-workflow start, `get_external_workflow_handle`,
    `patched`, `memo`, `upsert_search_attributes`, the handler getters/setters, ... (the list is
    `loop_bound` in the profile, checked against the SDK by a test).
    Not reported, because they work anywhere: `workflow.logger` (a `LoggerAdapter` that only adds
    workflow details when there is a workflow), `workflow.in_workflow()` (uses
    `_Runtime.maybe_current()`), `workflow.current_update_info()`, `workflow.wait` and
    `workflow.as_completed` (plain asyncio copies), `workflow.create_nexus_client()` (only its
    methods need the loop), and the `workflow.unsafe` import and sandbox helpers
    (`imports_passed_through`, `sandbox_unrestricted`, `in_sandbox`, `is_sandbox_unrestricted`,
    `is_imports_passed_through`). Unlike the issue's table says, `workflow.unsafe.is_replaying()`,
    `is_replaying_history_events()` and `is_read_only()` DO call `_Runtime.current()` and raise
    in an activity: they are reported. No fix: the activity's own API (`activity.info()`, the
    stdlib clock) or a value passed in from the workflow is the author's choice.

    ## Options
    None.
    """

    code = "IDL201"
    name = "context-inside-journaled-action"
    summary = "The outer Restate context is used inside a journaled action"
    severity = "error"
    frameworks = ("restate", "temporal")
    VALID = [
        Valid("""
            import restate

            svc = restate.VirtualObject("Cart")


            async def undo(item: str) -> None:
                pass


            @svc.handler()
            async def add(ctx: restate.ObjectContext, item: str) -> str:
                key = ctx.key()
                request_id = ctx.request().id
                token = str(ctx.uuid())
                compensations = []
                compensations.append(lambda: ctx.run_typed("undo", undo, restate.RunOptions(), item))
                stored = await ctx.run_typed("store", lambda: f"{key}/{item}/{request_id}/{token}")
                ctx.set("last", stored)
                for compensation in compensations:
                    await compensation()
                return stored
        """, note="key()/request() are plain reads; compensations are not actions"),
        Valid("""
            import restate

            svc = restate.Service("Greeter")


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                async def shout(ctx: str) -> str:  # a parameter that happens to be called ctx
                    return ctx.upper()

                return await ctx.run_typed("shout", shout, restate.RunOptions(), name)


            async def audit(ctx: object) -> None:  # not given the context by any handler
                print(ctx)
        """, note="an action's own parameter bound to something else"),
        Valid("""
            import restate

            wf = restate.Workflow("Signup")


            class Mailer:
                def __init__(self, ctx: restate.WorkflowContext) -> None:
                    self.ctx = ctx

                def render(self, user: str) -> str:
                    return f"hello {user}"

                async def send(self, user: str) -> str:
                    body = await self.ctx.run_typed("render", self.render, restate.RunOptions(), user)
                    self.ctx.set("sent", body)
                    return body


            @wf.main()
            async def run(ctx: restate.WorkflowContext, user: str) -> str:
                return await Mailer(ctx).send(user)
        """, note="bound method without context use; the context used around it"),
        Valid(
            """
                from datetime import timedelta

                import restate

                cart = restate.VirtualObject("Cart")


                def save_to_db(item: str) -> str:
                    return item.upper()


                @cart.handler()
                async def add(ctx: restate.ObjectContext, item: str) -> None:
                    stored = await ctx.run_typed("store", save_to_db, restate.RunOptions(), item)
                    ctx.set("item", stored)
                    await ctx.sleep(timedelta(seconds=1))
            """,
            doc=True,
        ),
        Valid("""
            import uuid
            from datetime import datetime, timedelta, timezone

            from temporalio import activity, workflow

            with workflow.unsafe.imports_passed_through():
                import json


            @activity.defn
            async def record(order: str) -> str:
                workflow.logger.info("recording %s", order)
                if workflow.in_workflow():
                    return ""
                stamp = datetime.now(timezone.utc).isoformat()
                return json.dumps([order, stamp, str(uuid.uuid4()), activity.info().activity_id])


            @workflow.defn
            class Orders:
                @workflow.run
                async def run(self, order: str) -> str:
                    now = workflow.now().isoformat()
                    return await workflow.execute_activity(
                        record, f"{order}-{now}-{workflow.uuid4()}",
                        start_to_close_timeout=timedelta(seconds=5),
                    )
        """, note="Temporal: logger, in_workflow and the import helpers work in activities"),
    ]
    INVALID = [
        Invalid(
            """
                from datetime import timedelta

                import restate

                cart = restate.VirtualObject("Cart")


                def save_to_db(item: str) -> str:
                    return item.upper()


                @cart.handler()
                async def add(ctx: restate.ObjectContext, item: str) -> None:
                    async def store() -> None:
                        stored = save_to_db(item)
                        ctx.set("item", stored)
                        await ctx.sleep(timedelta(seconds=1))

                    await ctx.run_typed("store", store)
            """,
            ((16, 9), (17, 15)),
            doc=True,
        ),
        Invalid(
            """
                from datetime import timedelta

                import restate

                svc = restate.VirtualObject("Cart")


                @svc.handler()
                async def add(ctx: restate.ObjectContext, item: str) -> None:
                    c = ctx

                    async def store() -> None:
                        c.set("item", item)
                        await ctx.sleep(timedelta(seconds=1))

                    await ctx.run_typed("store", store)
                    await ctx.run_typed("count", lambda s=c: s.clear("n"))
                    await ctx.run_typed("again", lambda: ctx.run_typed("inner", lambda: 1))
            """,
            ((13, 9), (14, 15), (17, 46), (18, 42)),
            message="journaled action",
            note="alias, default-argument lambda, nested def used before its definition ends",
        ),
        Invalid(
            """
                import functools

                import restate
                from restate import Context as Ctx

                svc = restate.Service("Payments")


                async def charge(ctx: Ctx, amount: int) -> int:
                    await ctx.sleep(restate_delay())
                    return amount


                def restate_delay():
                    import datetime
                    return datetime.timedelta(seconds=1)


                def make_reporter(ctx: Ctx):
                    def report() -> str:
                        return str(ctx.uuid())
                    return report


                @svc.handler()
                async def pay(ctx: Ctx, amount: int) -> int:
                    await ctx.run_typed("report", make_reporter(ctx))
                    await ctx.run_typed("partial", functools.partial(charge, ctx, amount))
                    return await ctx.run_typed("charge", charge, restate.RunOptions(), ctx, amount)
            """,
            ((10, 11), (21, 20)),
            note="module function given the context by forwarding/partial; factory closure",
        ),
        Invalid(
            """
                import restate

                obj = restate.VirtualObject("Counter")


                class Store:
                    def __init__(self, ctx: restate.ObjectContext) -> None:
                        self.ctx = ctx

                    def bump(self) -> None:
                        self.ctx.set("n", 1)

                    async def run(self) -> None:
                        await self.ctx.run_typed("bump", self.bump)
                        await self.ctx.run_typed("twice", lambda: self.bump())


                class Handlers:
                    @obj.handler()
                    @staticmethod
                    async def incr(ctx: restate.ObjectContext) -> None:
                        await Store(ctx).run()
            """,
            ((11, 9), (15, 51)),
            message="`self.ctx.set()`",
            note="context stored on self; bound method and a helper call inside a lambda",
        ),
        Invalid(
            """
                import restate as rs


                def make_service() -> rs.Service:
                    svc = rs.Service("Factory")

                    class Handlers:
                        @staticmethod
                        @svc.handler()
                        async def hello(ctx: rs.Context, name: str) -> str:
                            greeting = await ctx.run_typed("greeting", lambda: ctx.get("greeting"))
                            return f"{greeting} {name}"

                    return svc
            """,
            ((11, 64),),
            note="handler nested in a factory function, in a class, aliased import",
        ),
        Invalid(
            """
                import temporalio.workflow as wf
                from temporalio import activity, workflow
                from temporalio.workflow import uuid4


                def stamp() -> str:
                    return workflow.now().isoformat()


                class Activities:
                    @activity.defn
                    async def record(self, orders: list[str]) -> str:
                        out = ""
                        for order in orders:
                            if order:
                                try:
                                    with open("/dev/null"):
                                        out += f"{order}-{uuid4()}-{wf.info().workflow_id}"
                                finally:
                                    pass
                        return out + stamp() + self._replaying()

                    def _replaying(self) -> str:
                        return str(workflow.unsafe.is_replaying())


                @activity.defn
                def wait() -> None:
                    workflow.random().random()
            """,
            ((18, 43), (18, 53), (21, 22), (21, 32), (29, 5)),
            message="workflow event loop",
            note="Temporal: aliased, from-imported, nested, in helpers and a helper method; an "
                 "activity method",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        model = module.model
        view = tables(module)
        methods = (model.fw.context_methods | view.draws) - view.scoping
        reported: set[int] = set()
        for action, frames in actions_with_frames(module):
            label = action_label(action)
            for frame in frames:
                for call in _context_calls(module, frame, methods):
                    if id(call) not in reported:
                        reported.add(id(call))
                        yield self._direct(module, call, label, view.draws)
                for node in walk_body(frame.func):
                    if not isinstance(node, ast.Call) or id(node) in reported:
                        continue
                    if model.action_call(node) is not None:
                        continue
                    used = _helper_use(module, node, frame, methods, set())
                    if used is None:
                        continue
                    reported.add(id(node))
                    yield module.finding(
                        self,
                        node,
                        f"{_shown(module, node)} runs inside a journaled action and calls "
                        f"{_shown(module, used)}",
                        detail=f"{_shown(module, node)} runs inside the journaled action {label} "
                        f"and {_shown(module, used)} (line {used.lineno}) uses the outer Restate "
                        "context: context operations are not allowed inside a run (the action is "
                        "skipped on replay, so what it journals goes missing). Do them in the "
                        "handler, before or after the action.",
                    )
        yield from self._loop_bound_in_activities(module)

    def _loop_bound_in_activities(self, module: ModuleAnalysis) -> Iterator[Finding]:
        """Calls needing the workflow event loop in decorated journaled units (activities),
        directly or through helpers they call."""
        model = module.model
        loop_bound = frozenset().union(
            *(activity_tables(fw).loop_bound for fw in model.frameworks)
        )
        if not loop_bound:
            return
        for func in module.indexer.functions:
            if isinstance(func, ast.Lambda) or model.journaled_mode(func) is None:
                continue
            name = func.name
            for node in walk_body(func):
                if not isinstance(node, ast.Call):
                    continue
                if module.resolver.qualname(node.func) in loop_bound:
                    yield module.finding(
                        self,
                        node,
                        f"{_shown(module, node)} needs the workflow event loop and raises in "
                        f"activity `{name}`",
                        detail=f"`{name}` is an activity: it runs on a worker, outside the "
                        f"workflow, where {_shown(module, node)} raises. Use the activity's own "
                        "API, or do it in the workflow and pass the value in.",
                    )
                    continue
                used = _loop_use(module, node, loop_bound, set(), 0)
                if used is not None:
                    yield module.finding(
                        self,
                        node,
                        f"{_shown(module, node)} runs in activity `{name}` and calls "
                        f"{_shown(used[0], used[1])}, which needs the workflow event loop",
                        detail=f"`{name}` is an activity: it runs on a worker, outside the "
                        f"workflow. {_shown(module, node)} calls {_shown(used[0], used[1])} "
                        f"(line {used[1].lineno}), which raises there.",
                    )

    def _direct(
        self, module: ModuleAnalysis, call: ast.Call, label: str, draws: frozenset[str]
    ) -> Finding:
        shown = _shown(module, call)
        if call.func.attr in draws:  # type: ignore[attr-defined]
            return module.finding(
                self,
                call,
                f"{shown} inside a journaled action; draw it in the handler",
                detail=f"Inside the journaled action {label}, {shown} draws from the context's "
                "deterministic random generator only when the action runs: on replay the action "
                "is skipped, so later `random()`/`uuid()` values in the handler change. Draw the "
                "value in the handler and pass it to the action.",
            )
        return module.finding(
            self,
            call,
            f"{shown} inside a journaled action; call it in the handler",
            detail=f"{shown} uses the outer Restate context inside the journaled action {label}: "
            "context operations are not allowed inside a run (the action is skipped on replay, so "
            "what it journals goes missing). Do it in the handler, before or after the action.",
        )


def _shown(module: ModuleAnalysis, call: ast.Call) -> str:
    return f"`{' '.join(module.text(call.func).split())}()`"


def _context_calls(
    module: ModuleAnalysis, frame: Frame, methods: frozenset[str]
) -> Iterator[ast.Call]:
    """Calls of ``methods`` on the outer context made in the frame's function."""
    for node in walk_body(frame.func):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in methods
            and outer_context(module, node.func.value, frame)
        ):
            yield node


def _helper_use(
    module: ModuleAnalysis,
    call: ast.Call,
    caller: Frame,
    methods: frozenset[str],
    seen: set[int],
    depth: int = 0,
) -> ast.Call | None:
    """A context call made by the function ``call`` reaches (transitively)."""
    if depth > 4:
        return None
    model = module.model
    func = module.resolver.definition(call.func)
    if not isinstance(func, FUNCTION_NODES) or scope_within(scope_of(func), caller.func):
        return None
    if id(func) in seen:
        return None
    seen.add(id(func))
    frame = call_frame(call, func, caller)
    for found in _context_calls(module, frame, methods):
        return found
    for node in walk_body(func):
        if isinstance(node, ast.Call) and model.action_call(node) is None:
            found_inner = _helper_use(module, node, frame, methods, seen, depth + 1)
            if found_inner is not None:
                return found_inner
    return None


def _loop_use(
    module: ModuleAnalysis, call: ast.Call, loop_bound: frozenset[str], seen: set[int],
    depth: int,
) -> tuple[ModuleAnalysis, ast.Call] | None:
    """The first call needing the workflow loop in the helper ``call`` reaches (transitively,
    across modules of the tree); activities called inline are checked on their own."""
    if depth > 6:
        return None
    found = callee(module, call.func)
    if found is None or not isinstance(found.func, FUNCTION_NODES) or id(found.func) in seen:
        return None
    seen.add(id(found.func))
    other = found.module
    if other.model.journaled_mode(found.func) is not None:
        return None
    for node in walk_body(found.func):
        if not isinstance(node, ast.Call):
            continue
        if other.resolver.qualname(node.func) in loop_bound:
            return other, node
        deeper = _loop_use(other, node, loop_bound, seen, depth + 1)
        if deeper is not None:
            return deeper
    return None
