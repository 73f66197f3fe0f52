"""IDL210 read-only-handler-writes."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ...analysis import ModuleAnalysis
from ...dataflow import MUTATORS
from ...diagnostics import Finding
from ...knowledge import Framework
from ...model import Handler, Unit
from ...patterns import expand
from ...registry import Invalid, Rule, Valid
from ...scopes import own_scope
from ...syntax import is_method, one_line, positional_params, root_name
from ._shared import hygiene_tables


@dataclass(frozen=True)
class _ReadOnly:
    """``[tables.hygiene.read_only]`` of a profile."""

    roles: Mapping[str, str]  # read-only handler role -> how to call it in messages
    error: str
    commands: frozenset[str]  # qualified names that produce commands
    state_assignments: bool
    shared_kind: str | None  # `kind=` of a handler that is shared
    shared_roles: Mapping[str, str]  # service kind -> role whose handlers are all shared
    state_writes: frozenset[str]  # context methods writing state

    @classmethod
    def read(cls, table: Mapping[str, Any]) -> _ReadOnly:
        return cls(
            roles=dict(table.get("roles", {})),
            error=str(table.get("error", "")),
            commands=frozenset(n for p in table.get("commands", ()) for n in expand(p)),
            state_assignments=bool(table.get("state_assignments", False)),
            shared_kind=table.get("shared_kind"),
            shared_roles=dict(table.get("shared_roles", {})),
            state_writes=frozenset(table.get("state_writes", ())),
        )

    def kind_of(self, handler: Handler) -> str | None:
        """How to name ``handler`` if it is read-only (None: it may write)."""
        if handler.role in self.roles:
            return self.roles[handler.role]
        if self.shared_kind is not None and handler.kind == self.shared_kind:
            return "shared handler"
        service = handler.service
        if service is not None and self.shared_roles.get(service.kind) == handler.role:
            return f"shared {service.kind} handler"
        return None


class ReadOnlyHandlerWrites(Rule):
    """
    ## What it does
    Reports, in a handler that must not change anything, code that does — in the handler and in
    the helpers it calls:
    - Temporal, in a `@workflow.query` or an update validator (`@my_update.validator`): starting
      an activity (local too) or a child workflow, a timer (`workflow.sleep`), `wait_condition`,
      `continue_as_new`, `patched`, upserting search attributes or memo, registering handlers,
      drawing `workflow.random()` / `uuid4()` / `uuid7()` / `new_random()`, signalling or
      cancelling an external workflow, `asyncio.create_task`; and, as a **warning**, assigning
      workflow state (`self.total = ...`, `self.items.append(...)`);
    - Restate, in a shared handler (`@obj.handler(kind="shared")` of a virtual object, any
      `@wf.handler()` of a workflow): `ctx.set(...)`, `ctx.clear(...)`, `ctx.clear_all()`.

    ## Why is this bad?
    Temporal runs queries and validators read-only (`_as_read_only(in_query_or_validator=True)`
    in `temporalio/worker/_workflow_instance.py`): each of the operations above calls
    `_assert_not_read_only`, which raises `workflow.ReadOnlyContextError`. A query then fails;
    in a validator the SDK fails the workflow task ("Read-only issues during validation should
    fail the task"). Changing `self` there raises nothing but breaks the contract the SDK
    documents ("Query methods must not mutate any workflow state", `workflow/_handlers.py`):
    a query is not part of the history, so the change is lost on replay and differs between
    workers — hence a warning.

    Restate shared handlers run concurrently with the object's exclusive handler and get a
    context typed `ObjectSharedContext` / `WorkflowSharedContext`, which has no `set`, `clear` or
    `clear_all` (`restate/context.py`: they derive from `Context`, not `KeyValueStore`); the SDK's
    one runtime context implements them anyway, so only the runtime stops the write. `Workflow.
    handler` always declares a shared handler (`restate/workflow.py`).

    ## Use instead
    Temporal: compute the answer from the workflow's state and return it; change state in a
    signal or an update handler. Restate: write state from an exclusive handler (the default
    `kind`), or the workflow's `main` handler.

    ## Fix safety
    No fix.

    ## Options
    None.

    ## Temporal
    See above: the list of operations is `[tables.hygiene.read_only] commands` of the Temporal
    profile, each one checked in temporalio 1.35 to call `_assert_not_read_only`. State
    assignment is a warning (documented, not enforced).
    """

    code = "IDL210"
    name = "read-only-handler-writes"
    summary = "A query, update validator or shared handler schedules work or writes state"
    severity = "error"
    frameworks = ("restate", "temporal")
    VALID = [
        Valid("""
            from datetime import timedelta

            from temporalio import activity, workflow


            @activity.defn
            async def charge(amount: int) -> None:
                return None


            @workflow.defn
            class Cart:
                def __init__(self) -> None:
                    self.items: list[str] = []

                @workflow.run
                async def run(self) -> int:
                    await workflow.wait_condition(lambda: len(self.items) > 2)
                    await workflow.execute_activity(
                        charge, len(self.items), start_to_close_timeout=timedelta(seconds=5)
                    )
                    return len(self.items)

                @workflow.update
                async def add(self, item: str) -> int:
                    self.items.append(item)
                    await workflow.sleep(timedelta(seconds=1))
                    return len(self.items)

                @add.validator
                def check_add(self, item: str) -> None:
                    if item in self.items:
                        raise ValueError(f"{item} already added at {workflow.now()}")

                @workflow.query
                def count(self) -> int:
                    workflow.logger.info("counting")
                    return len(self._sorted())

                def _sorted(self) -> list[str]:
                    return sorted(self.items)
            """, note="Temporal: queries and validators that only read", doc=True),
        Valid("""
            import restate

            cart = restate.VirtualObject("Cart")
            signup = restate.Workflow("Signup")


            @cart.handler()
            async def add(ctx: restate.ObjectContext, item: str) -> None:
                items = await ctx.get("items", type_hint=list) or []
                ctx.set("items", [*items, item])


            @cart.handler(kind="shared")
            async def count(ctx: restate.ObjectSharedContext) -> int:
                return len(await ctx.get("items", type_hint=list) or [])


            @signup.main()
            async def run(ctx: restate.WorkflowContext, email: str) -> None:
                ctx.set("email", email)


            @signup.handler()
            async def status(ctx: restate.WorkflowSharedContext) -> str:
                return await ctx.get("email", type_hint=str) or ""
            """, note="Restate: writes in exclusive handlers and the workflow's main"),
    ]
    INVALID = [
        Invalid(
            """
            from temporalio import workflow


            @workflow.defn
            class Cart:
                def __init__(self) -> None:
                    self.items: list[str] = []
                    self.queries = 0

                @workflow.run
                async def run(self) -> None:
                    await workflow.wait_condition(lambda: len(self.items) > 2)

                @workflow.query
                def pick(self) -> str:
                    self.queries += 1
                    return workflow.random().choice(self.items)
            """,
            ((16, 9), (17, 16)),
            doc=True,
        ),
        Invalid(
            """
            import temporalio.workflow as wf


            def ticket(item: str) -> str:
                return f"{item}-{wf.uuid4()}"


            @wf.defn
            class Cart:
                def __init__(self) -> None:
                    self.items: list[str] = []

                @wf.run
                async def run(self) -> None:
                    await wf.wait_condition(lambda: len(self.items) > 2)

                @wf.update
                async def add(self, item: str) -> None:
                    self.items.append(item)

                @add.validator
                def check_add(self, item: str) -> None:
                    for existing in self.items:
                        if existing == item:
                            self._note(item)
                    try:
                        wf.get_external_workflow_handle("audit").signal("seen", item)
                    finally:
                        self.seen = item

                def _note(self, item: str) -> None:
                    self.items.append(item)
                    self.last = ticket(item)
            """,
            ((5, 22), (27, 13), (29, 13), (32, 9), (33, 9)),
            note="Temporal, aliased: a validator, nested blocks, a helper method, a helper function",
        ),
        Invalid(
            """
            from temporalio.workflow import defn, query, run, sleep, uuid4, wait_condition


            @defn
            class Job:
                def __init__(self) -> None:
                    self.done = False

                @run
                async def main(self) -> None:
                    await wait_condition(lambda: self.done)

                @query
                def token(self) -> str:
                    sleep(1)
                    return str(uuid4())
            """,
            ((15, 9), (16, 20)),
            note="Temporal, from-imported",
        ),
        Invalid(
            """
            import restate

            cart = restate.VirtualObject("Cart")
            signup = restate.Workflow("Signup")


            def reset(ctx: restate.ObjectContext) -> None:
                ctx.clear_all()


            @cart.handler(kind="shared")
            async def count(ctx: restate.ObjectContext) -> int:
                items = await ctx.get("items", type_hint=list) or []
                ctx.set("last_count", len(items))
                if not items:
                    reset(ctx)
                return len(items)


            @signup.handler()
            async def confirm(ctx: restate.WorkflowContext, code: str) -> None:
                ctx.clear("code")
            """,
            ((8, 5), (14, 5), (22, 5)),
            message="shared",
            note="Restate: a shared object handler (and its helper), a workflow's handler",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        model = module.model
        seen: set[int] = set()
        for handler in model.handlers:
            framework = handler.framework
            if framework is None or framework.name not in self.frameworks:
                continue
            spec = _ReadOnly.read(hygiene_tables(module, framework).read_only)
            kind = spec.kind_of(handler)
            if kind is None:
                continue
            where = f"{kind} `{handler.name}`"
            for unit in _reachable(module, handler):
                for node in unit.nodes:
                    if id(node) in seen or not isinstance(node, (ast.Call, *_ASSIGNMENTS)):
                        continue
                    seen.add(id(node))
                    yield from self._problems(module, unit, node, spec, framework, where)

    def _problems(
        self, module: ModuleAnalysis, unit: Unit, node: ast.AST, spec: _ReadOnly,
        framework: Framework, where: str,
    ) -> Iterator[Finding]:
        if isinstance(node, ast.Call):
            func = node.func
            shown = one_line(module.text(func))
            if module.resolver.qualname(func) in spec.commands:
                yield module.finding(
                    self, node,
                    f"`{shown}()` in {where}: the handler is read-only and the call raises "
                    f"`{spec.error}`",
                    detail=_detail(framework, spec),
                )
            elif (
                isinstance(func, ast.Attribute) and func.attr in spec.state_writes
                and module.model.is_context(func.value)
            ):
                yield module.finding(
                    self, node, f"`{shown}()` writes state in {where}",
                    detail=_detail(framework, spec),
                )
            elif spec.state_assignments and isinstance(func, ast.Attribute) and (
                func.attr in MUTATORS and _self_state(unit, func.value)
            ):
                yield module.finding(
                    self, node,
                    f"{where} changes workflow state `{one_line(module.text(func.value))}`",
                    severity="warning", detail=_state_detail(),
                )
            return
        if spec.state_assignments:
            for target in _targets(node):
                if _self_state(unit, target):
                    yield module.finding(
                        self, target,
                        f"{where} changes workflow state `{one_line(module.text(target))}`",
                        severity="warning", detail=_state_detail(),
                    )


def _reachable(module: ModuleAnalysis, handler: Handler) -> list[Unit]:
    """The durable-code units a handler runs: its own, nested functions and the local
    functions it calls, transitively (whichever handler the model attributed them to)."""
    model = module.model
    first = model.unit_of(handler.func)
    if first is None:
        return []
    out, queue, done = [], [first], {id(first.func)}
    while queue:
        unit = queue.pop(0)
        out.append(unit)
        scope = own_scope(unit.func)
        if scope is None:
            continue
        callees: list[ast.AST] = list(scope.evaluated_functions)
        callees.extend(
            d for d in (module.resolver.definition(c.func) for c in scope.evaluated_calls)
            if d is not None
        )
        for callee in callees:
            found = model.unit_of(callee)
            if found is not None and id(found.func) not in done:
                done.add(id(found.func))
                queue.append(found)
    return out


_ASSIGNMENTS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, (ast.Assign, ast.Delete)):
        out: list[ast.expr] = []
        for target in node.targets:
            out.extend(target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target])
        return out
    if isinstance(node, ast.AugAssign) or (isinstance(node, ast.AnnAssign) and node.value):
        return [node.target]
    return []


def _self_state(unit: Unit, expr: ast.expr) -> bool:
    """``self.x`` / ``self.x[...]`` in a method: the instance's (the workflow's) state."""
    if not isinstance(expr, (ast.Attribute, ast.Subscript)):
        return False
    root = root_name(expr)
    func = unit.func
    if root is None or not is_method(func):
        return False
    params = positional_params(func)  # type: ignore[arg-type]
    return bool(params) and params[0].arg == root.id


def _detail(framework: Framework, spec: _ReadOnly) -> str:
    if spec.error:
        return (
            f"{framework.display_name} runs queries and update validators read-only: an "
            f"operation that would add a command (an activity, a timer, a child, a signal) or "
            f"draw from the workflow's random generator raises `{spec.error}`. Compute the "
            "answer from the workflow's state; do the work in a signal or update handler."
        )
    return (
        "Shared handlers run concurrently with the exclusive handler and their context has no "
        "state writes. Write state from an exclusive handler (the default `kind`)."
    )


def _state_detail() -> str:
    return (
        "Queries and validators are not part of the workflow's history: a change made there is "
        "lost on replay and differs between workers. The SDK does not stop it, so this is a "
        "warning; change state in a signal or update handler."
    )
