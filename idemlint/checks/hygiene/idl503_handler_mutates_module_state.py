"""IDL503 handler-mutates-module-state."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

from ...analysis import ModuleAnalysis
from ...dataflow import MUTATORS, is_container_binding
from ...diagnostics import Finding
from ...model import Unit
from ...registry import Invalid, Rule, Valid
from ...scopes import FUNCTION_NODES, Binding, Kind, own_scope, parent, scope_of
from ...syntax import one_line
from ._shared import durable_nodes, hygiene_tables


class HandlerMutatesModuleState(Rule):
    """
    ## What it does
    Reports handler code (handlers, and helpers called from them — the detail shows the call
    chain) that changes state living in the process:
    - assignment to a `global` name;
    - attribute assignment on a module-level object or on a class (`Registry.last = page`);
    - subscript assignment/deletion and mutating methods (`append`, `update`, `add`, ...) on a
      module-level or class-level list/dict/set/deque/... (`CALLS[page] += 1`, `SEEN.add(x)`,
      `self.seen.add(x)` when `seen` is a class attribute).

    Not reported: one-time initialisation — `if _client is None: _client = ...` (or `if not
    _client:`) for a global, `if key not in CACHE: CACHE[key] = ...` for a cache entry — and
    instance attributes set in `__init__`. Mutation inside journaled actions is IDL205's.

    ## Why is this bad?
    Module and class state is not journaled. A replay, a retry on another instance or a restart
    sees another value, so the handler can take another path than the journal recorded. The state
    is also shared by every concurrent invocation in the process, and lost when it exits.

    ## Use instead
    Keep the state in Restate: a virtual object keyed by what the state is about, read with
    `ctx.get` and written with `ctx.set`. Or pass the value explicitly.

    ## Fix safety
    No fix.

    ## Options
    None.

    ## Temporal
    Workflow code (the methods of a `@workflow.defn` class and what they call; activity bodies
    are exempt) that changes module or class state. The SDK's README asks for "no global state
    mutation": in the sandbox the workflow's file is re-imported for every run *and every replay*
    (README, "Workflow Sandbox"), so such a value starts over on replay and the workflow can take
    another path than its history recorded (a non-determinism error); with
    `@workflow.defn(sandboxed=False)`, `UnsandboxedWorkflowRunner`, or in modules passed through
    the sandbox (the standard library, `workflow.unsafe.imports_passed_through()`), every workflow
    on the worker shares it. Instance attributes (`self.x`) are the workflow's state — replay
    rebuilds them — and are not reported; a class-level container mutated through `self`
    (`items: list = []` then `self.items.append(...)`) is.
    ```python
    @workflow.defn
    class Counter:
        def __init__(self) -> None:
            self.hits = 0  # per workflow, rebuilt by replay

        @workflow.signal
        def hit(self) -> None:
            self.hits += 1
    ```
    No fix.
    """

    code = "IDL503"
    name = "handler-mutates-module-state"
    summary = "Handler code mutates module-level or class-level state"
    severity = "error"
    frameworks = ("restate", "temporal")
    VALID = [
        Valid("""
            import httpx
            import restate

            svc = restate.VirtualObject("Cart")
            LIMITS = {"max": 10}
            _client = None
            _clients: dict = {}


            def client() -> httpx.AsyncClient:
                global _client
                if _client is None:
                    _client = httpx.AsyncClient()
                return _client


            def client_for(base_url: str) -> httpx.AsyncClient:
                if base_url not in _clients:
                    _clients[base_url] = httpx.AsyncClient(base_url=base_url)
                return _clients[base_url]


            @svc.handler()
            async def add(ctx: restate.ObjectContext, item: str) -> int:
                items = await ctx.get("items") or []
                items.append(item)
                ctx.set("items", items)
                seen = set()
                seen.add(item)
                client()
                client_for("https://api.example")
                return min(len(items), LIMITS["max"])
        """, note="Restate state, locals, reads, lazy initialisation, a cache of clients"),
        Valid(
            """
            import restate

            pages = restate.VirtualObject("Page")


            @pages.handler()
            async def hit(ctx: restate.ObjectContext) -> int:
                calls = (await ctx.get("calls", type_hint=int) or 0) + 1
                ctx.set("calls", calls)
                return calls
            """,
            doc=True,
        ),
        Valid("""
            from datetime import timedelta

            from temporalio import activity, workflow

            LIMITS = {"max": 10}
            _seen: set = set()


            @activity.defn
            async def remember(item: str) -> None:
                _seen.add(item)  # activity code: not replayed


            @workflow.defn
            class Cart:
                items: list[str]

                @workflow.init
                def __init__(self, owner: str) -> None:
                    self.owner = owner
                    self.items = []
                    self.hits = 0

                @workflow.run
                async def run(self, owner: str) -> int:
                    await workflow.wait_condition(lambda: len(self.items) >= LIMITS["max"])
                    await workflow.execute_activity(
                        remember, owner, start_to_close_timeout=timedelta(seconds=5)
                    )
                    return len(self.items)

                @workflow.signal
                def add(self, item: str) -> None:
                    self.items.append(item)
                    self.hits += 1
        """, note="Temporal: instance state, reads of module constants, activity code"),
    ]
    INVALID = [
        Invalid(
            """
            from collections import defaultdict

            import restate

            stats = restate.Service("Stats")
            CALLS = defaultdict(int)


            @stats.handler()
            async def hit(ctx: restate.Context, page: str) -> int:
                CALLS[page] += 1
                return CALLS[page]
            """,
            ((11, 5),),
            message="handler code mutates process state `CALLS[page]`; keep it in Restate state",
            doc=True,
        ),
        Invalid(
            """
            from collections import defaultdict

            import restate

            svc = restate.Service("Stats")
            CALLS = defaultdict(int)
            SEEN: set = set()
            total = 0


            class Registry:
                entries: list = []


            @svc.handler()
            async def hit(ctx: restate.Context, page: str) -> int:
                global total
                total += 1
                CALLS[page] += 1
                SEEN.add(page)
                Registry.entries.append(page)
                record(page)
                return total


            def record(page: str) -> None:
                Registry.last = page
            """,
            ((18, 5), (19, 5), (20, 5), (21, 5), (27, 5)),
            message="state",
        ),
        Invalid(
            """
            from temporalio import workflow

            HITS: dict[str, int] = {}


            @workflow.defn
            class Counter:
                @workflow.run
                async def run(self, page: str) -> int:
                    HITS[page] = HITS.get(page, 0) + 1
                    return HITS[page]
            """,
            ((10, 9),),
            message=(
                "workflow code mutates process state `HITS[page]`; keep it on the workflow "
                "instance"
            ),
            note="Temporal",
        ),
        Invalid(
            """
            import contextlib

            import temporalio.workflow as wf

            total = 0
            EVENTS: list[str] = []


            def record(event: str) -> None:
                global total
                for part in event.split(","):
                    if part:
                        total += 1


            @wf.defn
            class Tracker:
                seen: list[str] = []

                def __init__(self) -> None:
                    self.done = False

                @wf.run
                async def run(self) -> None:
                    await wf.wait_condition(lambda: self.done)

                @wf.signal
                def track(self, event: str) -> None:
                    try:
                        with contextlib.suppress(ValueError):
                            self.seen.append(event)
                    finally:
                        self._log(event)
                    record(event)

                @wf.update
                async def finish(self) -> None:
                    self.done = True

                def _log(self, event: str) -> None:
                    EVENTS.append(event)
            """,
            ((13, 13), (31, 17), (41, 9)),
            message="workflow code mutates process state",
            note="Temporal, aliased import: a class-level list, a helper method, a helper function",
        ),
        Invalid(
            """
            from temporalio.workflow import defn, run, signal, wait_condition

            QUEUE: list[str] = []


            @defn
            class Inbox:
                def __init__(self) -> None:
                    self.closed = False

                @run
                async def main(self) -> int:
                    await wait_condition(lambda: self.closed)
                    return len(QUEUE)

                @signal
                def push(self, message: str) -> None:
                    QUEUE.append(message)
            """,
            ((18, 9),),
            note="Temporal, from-imported decorators",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for unit, framework, node in durable_nodes(module, self.frameworks):
            if type(node) not in _MUTATING_NODES:
                continue
            tables = hygiene_tables(module, framework)
            for found, what in _module_state(module, node):
                message = tables.state_message or (
                    "durable code mutates process state `{what}`; keep it in durable state"
                )
                yield module.finding(
                    self,
                    found,
                    message.replace("{what}", what),
                    detail=(tables.state_detail or (
                        "Module and class state is not journaled: a replay or a retry on "
                        "another process sees another value, and concurrent executions share "
                        "it. Keep it in the framework's durable state or pass it explicitly."
                    )) + _via(module, unit),
                )


def _via(module: ModuleAnalysis, unit: Unit) -> str:
    if unit.reason != "called" or not unit.via:
        return ""
    chain = " -> ".join(f"`{module.text(c.func)}()` (line {c.lineno})" for c in unit.via)
    origin = f"handler `{unit.handler.name}`" if unit.handler else "a function receiving the context"
    return f" [reached from {origin} via {chain}]"


def _lazy_init(target: ast.expr) -> bool:
    """One-time initialisation: ``if X is None: X = ...`` / ``if not X:`` for a global, and
    ``if key not in CACHE: CACHE[key] = ...`` for a memo entry."""
    holder = target.value if isinstance(target, ast.Subscript) else target
    if not isinstance(holder, ast.Name):
        return False
    name = holder.id
    current = parent(target)
    while current is not None and not isinstance(current, (*FUNCTION_NODES, ast.Module)):
        if isinstance(current, ast.If):
            for node in ast.walk(current.test):
                if _guards(node, name, isinstance(target, ast.Subscript)):
                    return True
        current = parent(current)
    return False


def _guards(node: ast.AST, name: str, entry: bool) -> bool:
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, op, right = node.left, node.ops[0], node.comparators[0]
        if entry:
            return isinstance(op, ast.NotIn) and isinstance(right, ast.Name) and right.id == name
        return (
            isinstance(op, ast.Is)
            and isinstance(left, ast.Name)
            and left.id == name
            and isinstance(right, ast.Constant)
            and right.value is None
        )
    return (
        not entry
        and isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.Not)
        and isinstance(node.operand, ast.Name)
        and node.operand.id == name
    )


def _shared_binding(module: ModuleAnalysis, expr: ast.AST) -> Binding | None:
    """The module- or class-level binding a name / ``self.x`` / ``Cls.x`` refers to."""
    resolver = module.resolver
    if isinstance(expr, ast.Name):
        binding = resolver.binding(expr)
        if binding is not None and (binding.scope.parent is None or binding.scope.is_class):
            return binding
        return None
    if isinstance(expr, ast.Attribute):
        attribute = resolver.self_attribute(expr)
        if attribute is not None:
            return attribute if attribute.scope.is_class else None
        if isinstance(expr.value, ast.Name):
            owner = resolver.definition(expr.value)
            if isinstance(owner, ast.ClassDef):
                scope = own_scope(owner)
                bindings = scope.bindings.get(expr.attr) if scope is not None else None
                if bindings:
                    return bindings[-1]
    return None


_MUTATING_NODES = frozenset({ast.Assign, ast.Delete, ast.AugAssign, ast.AnnAssign, ast.Call})


def _module_state(module: ModuleAnalysis, node: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    resolver = module.resolver
    targets: list[ast.expr] = []
    if isinstance(node, (ast.Assign, ast.Delete)):
        targets = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and not (
        isinstance(node, ast.AnnAssign) and node.value is None
    ):
        targets = [node.target]
    while targets:
        target = targets.pop(0)
        if isinstance(target, (ast.Tuple, ast.List)):
            targets.extend(target.elts)
            continue
        if isinstance(target, ast.Starred):
            targets.append(target.value)
            continue
        if isinstance(target, ast.Name):
            if target.id in scope_of(target).declared_global and not _lazy_init(target):
                yield target, target.id
            continue
        if isinstance(target, ast.Attribute):
            base = target.value
            if isinstance(base, ast.Name):
                binding = resolver.binding(base)
                if binding is not None and binding.scope.parent is None and (
                    binding.kind in (Kind.ASSIGN, Kind.CLASS)
                ):
                    yield target, one_line(module.text(target))
                    continue
            shared = _shared_binding(module, base)
            if shared is not None and is_container_binding(module, shared):
                yield target, one_line(module.text(target))
            continue
        if isinstance(target, ast.Subscript):
            holder: ast.expr = target.value
            while isinstance(holder, ast.Subscript):
                holder = holder.value
            shared = _shared_binding(module, holder)
            if (
                shared is not None
                and is_container_binding(module, shared)
                and not _lazy_init(target)
            ):
                yield target, one_line(module.text(target))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr not in MUTATORS:
            return
        holder = node.func.value
        while isinstance(holder, ast.Subscript):
            holder = holder.value
        shared = _shared_binding(module, holder)
        if shared is not None and is_container_binding(module, shared):
            yield node, one_line(module.text(node.func.value))
