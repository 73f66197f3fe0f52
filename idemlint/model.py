"""The handler model: services, handlers, contexts, journaled actions and handler code.

Built once per module from the index and the resolver. Rules ask it questions:
- which functions run as handler code (``units``), and through which call chain;
- which callables are journaled actions (their bodies run once and are journaled);
- is an expression the Restate context (``ctx``, ``self.ctx``, a helper's parameter bound to it);
- in which region does a node run (handler code, a journaled action, or neither).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from .knowledge import ActionSpec, Framework, KnowledgeBase
from .resolve import Resolver, own_returns
from .scopes import (
    FUNCTION_NODES,
    DefNode,
    FunctionNode,
    Indexer,
    Kind,
    Scope,
    lookup,
    own_scope,
    scope_of,
)

Region = Literal["handler", "action"]
# Finds a service object defined in another module of the linted tree: (dotted name) -> Service.
ServiceFinder = Callable[[str], "Service | None"]


@dataclass(eq=False)
class Service:
    """A service object: ``svc = restate.Service("Greeter")``."""

    kind: str  # "service" | "object" | "workflow"
    name: str | None  # the service's name as given to the constructor
    node: ast.Call | None
    wrappers: tuple[str, ...] = ()
    module: str | None = None


@dataclass(eq=False)
class Handler:
    """A function declared as a handler of a service."""

    func: DefNode
    service: Service | None
    role: str  # "handler" | "main"
    name: str
    decorator: ast.Call
    kind: str | None = None  # `kind=` of the decorator: exclusive/shared/workflow

    @property
    def ctx(self) -> ast.arg | None:
        args = self.func.args.posonlyargs + self.func.args.args
        return args[0] if args else None


@dataclass(eq=False)
class Action:
    """A journaled action: the callable given to ``ctx.run_typed``/``ctx.run``."""

    call: ast.Call
    spec: ActionSpec
    receiver: ast.expr
    name: ast.expr | None
    action: ast.expr | None
    options: ast.expr | None
    forwarded: list[ast.expr]
    targets: list[FunctionNode]


@dataclass(eq=False)
class Unit:
    """A function whose body runs as handler code (replayed on every attempt)."""

    func: FunctionNode
    handler: Handler | None
    reason: Literal["handler", "context", "nested", "called"]
    via: tuple[ast.Call, ...] = ()
    parent: Unit | None = None
    # The nodes evaluated when ``func`` runs (see ``HandlerModel.own_nodes``), kept from
    # the walk that found the units so rules do not walk them again.
    nodes: list[ast.AST] = field(default_factory=list)

    @property
    def root(self) -> Unit:
        unit = self
        while unit.parent is not None:
            unit = unit.parent
        return unit


@dataclass
class HandlerModel:
    """Everything known about handlers in one module."""

    kb: KnowledgeBase
    resolver: Resolver
    index: Indexer
    module_scope: Scope
    find_service: ServiceFinder | None = None
    services: dict[int, Service] = field(default_factory=dict)
    handlers: list[Handler] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    _unit_of: dict[int, Unit] = field(default_factory=dict)
    _action_of: dict[int, Action] = field(default_factory=dict)
    _action_calls: dict[int, Action] = field(default_factory=dict)
    _context_args: set[int] = field(default_factory=set)
    _handler_of: dict[int, Handler] = field(default_factory=dict)
    _imports_framework: bool = False

    @property
    def fw(self) -> Framework:
        return self.kb.framework

    # -- building ------------------------------------------------------------------------
    def build(self) -> HandlerModel:
        package = self.fw.package
        self._imports_framework = any(
            b.kind is Kind.IMPORT and (b.qualname or "").split(".")[0] == package
            for bindings in self.module_scope.bindings.values()
            for b in bindings
        )
        self._find_handlers()
        self._find_contexts()
        self._find_actions()
        self._find_units()
        return self

    def _find_handlers(self) -> None:
        decorators = self.fw.decorators
        for func in self.index.functions:
            if isinstance(func, ast.Lambda):
                continue
            for decorator in func.decorator_list:
                if not (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr in decorators
                ):
                    continue
                service = self.service_of(decorator.func.value)
                if service is None and not self._looks_like_handler(func, decorator):
                    continue
                handler = Handler(
                    func=func,
                    service=service,
                    role=decorators[decorator.func.attr],
                    name=_handler_name(decorator) or func.name,
                    decorator=decorator,
                    kind=_constant_keyword(decorator, "kind"),
                )
                self.handlers.append(handler)
                self._handler_of[id(func)] = handler
                break

    def _looks_like_handler(self, func: DefNode, decorator: ast.Call) -> bool:
        """A decorator whose service object cannot be resolved (defined out of the tree)."""
        args = func.args.posonlyargs + func.args.args
        if not args:
            return False
        if self._is_context_annotation(args[0].annotation):
            return True
        receiver = decorator.func.value  # type: ignore[attr-defined]
        if not isinstance(receiver, ast.Name) or not isinstance(func, ast.AsyncFunctionDef):
            return False
        binding = self.resolver.binding(receiver)
        return binding is not None and binding.kind is Kind.IMPORT and self._imports_framework

    def service_of(self, expr: ast.expr, depth: int = 0) -> Service | None:
        """The service object an expression refers to, if it is one."""
        if depth > 8:
            return None
        cached = self.services.get(id(expr))
        if cached is not None:
            return cached
        service: Service | None = None
        if isinstance(expr, ast.Call):
            qualname = self.resolver.qualname(expr.func) or ""
            if qualname in self.fw.services:
                service = Service(
                    kind=self.fw.services[qualname],
                    name=_first_string(expr, "name"),
                    node=expr,
                    module=self.resolver.module_name,
                )
            elif qualname in self.fw.service_wrappers and expr.args:
                inner = self.service_of(expr.args[0], depth + 1)
                if inner is not None:
                    service = Service(
                        inner.kind, inner.name, inner.node, (*inner.wrappers, qualname),
                        inner.module,
                    )
        elif isinstance(expr, ast.BoolOp):  # `service or restate.Service("x")`
            for value in expr.values:
                service = self.service_of(value, depth + 1)
                if service is not None:
                    break
        elif isinstance(expr, ast.Name):
            binding = self.resolver.binding(expr)
            if binding is not None:
                if binding.kind is Kind.PARAM:  # `service: restate.Service` parameter
                    annotation = binding.node.annotation  # type: ignore[attr-defined]
                    kind = self.fw.services.get(self.resolver.annotation_type(annotation) or "")
                    if kind is not None:
                        service = Service(kind=kind, name=None, node=None)
                elif binding.kind is Kind.ASSIGN and binding.value is not None:
                    service = self.service_of(binding.value, depth + 1)
                elif binding.kind is Kind.IMPORT and self.find_service is not None:
                    absolute = self.resolver.absolute(binding)
                    service = self.find_service(absolute) if absolute else None
        elif isinstance(expr, ast.Attribute):
            attribute = self.resolver.self_attribute(expr)
            if attribute is not None and attribute.value is not None:
                service = self.service_of(attribute.value, depth + 1)
            elif self.find_service is not None:
                dotted = self.resolver.qualname(expr)
                service = self.find_service(dotted) if dotted else None
        if service is not None:
            self.services[id(expr)] = service
        return service

    def _is_context_annotation(self, annotation: ast.expr | None) -> bool:
        if annotation is None:
            return False
        return self.resolver.annotation_type(annotation) in self.fw.context_types

    def _find_contexts(self) -> None:
        marked = self._context_args
        for handler in self.handlers:
            if handler.ctx is not None:
                marked.add(id(handler.ctx))
        for func in self.index.functions:
            if isinstance(func, ast.Lambda):
                continue
            for arg in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs):
                if arg.annotation is not None and self._is_context_annotation(arg.annotation):
                    marked.add(id(arg))
        # A helper called with the context as an argument receives the context. Only calls
        # of local definitions with an argument that could be a context can propagate it.
        candidates: list[tuple[ast.Call, list[ast.expr]]] = []
        for call in self.index.calls:
            if not call.args and not call.keywords:
                continue
            values = [a for a in call.args if type(a) in _CONTEXT_SHAPES]
            values.extend(k.value for k in call.keywords if type(k.value) in _CONTEXT_SHAPES)
            if values and self.resolver.definition(call.func) is not None:
                candidates.append((call, values))
        for _ in range(6):
            before = len(marked)
            for call, values in candidates:
                if any(self.is_context(value) for value in values):
                    self._mark_parameters(call)
            if len(marked) == before:
                break

    def _mark_parameters(self, call: ast.Call) -> None:
        callee = self.resolver.definition(call.func)
        offset = 0
        if isinstance(callee, ast.ClassDef):
            init = own_scope(callee)
            bindings = init.bindings.get("__init__") if init else None
            callee = bindings[-1].node if bindings else None  # type: ignore[assignment]
            offset = 1
        elif isinstance(callee, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_method(callee):
            offset = 1 if isinstance(call.func, ast.Attribute) else 0
        if not isinstance(callee, FUNCTION_NODES):
            return
        params = callee.args.posonlyargs + callee.args.args
        for i, arg in enumerate(call.args):
            if isinstance(arg, ast.Starred):
                break
            if i + offset < len(params) and self.is_context(arg):
                self._context_args.add(id(params[i + offset]))
        by_name = {a.arg: a for a in (*params, *callee.args.kwonlyargs)}
        for keyword in call.keywords:
            if keyword.arg in by_name and self.is_context(keyword.value):
                self._context_args.add(id(by_name[keyword.arg]))

    def _find_actions(self) -> None:
        specs = self.fw.actions
        for call in self.index.calls:
            func = call.func
            if not isinstance(func, ast.Attribute) or func.attr not in specs:
                continue
            spec = specs[func.attr]
            if not self.is_context(func.value) and not (
                spec.forwards and _plausible_context_name(func.value)
            ):
                continue
            action = self._action(call, spec)
            self.actions.append(action)
            self._action_calls[id(call)] = action
            for target in action.targets:
                self._action_of.setdefault(id(target), action)

    def _action(self, call: ast.Call, spec: ActionSpec) -> Action:
        args, keywords = call.args, {k.arg: k.value for k in call.keywords if k.arg}

        def positional(index: int | None) -> ast.expr | None:
            if index is None or index >= len(args) or any(
                isinstance(a, ast.Starred) for a in args[: index + 1]
            ):
                return None
            return args[index]

        name = positional(spec.name)
        action = positional(spec.action)
        if action is None and spec.action_keyword:
            action = keywords.get(spec.action_keyword)
        options = positional(spec.options)
        forwarded: list[ast.expr] = []
        if spec.forwards:
            start = (spec.options if spec.options is not None else spec.action) + 1
            forwarded.extend(args[start:])
            forwarded.extend(k.value for k in call.keywords)
        elif spec.args_keyword and spec.args_keyword in keywords:
            packed = keywords[spec.args_keyword]
            forwarded.extend(packed.elts if isinstance(packed, ast.Tuple) else [packed])
        if name is None and "name" in keywords and not spec.forwards:
            name = keywords["name"]
        return Action(
            call=call,
            spec=spec,
            receiver=call.func.value,  # type: ignore[attr-defined]
            name=name,
            action=action,
            options=options,
            forwarded=forwarded,
            targets=self._action_targets(action),
        )

    def _action_targets(self, expr: ast.expr | None) -> list[FunctionNode]:
        """The function bodies that run as the action (lambda, def, method, partial, factory)."""
        if expr is None:
            return []
        if isinstance(expr, ast.Call) and expr.args and (
            self.resolver.qualname(expr.func) == "functools.partial"
        ):
            return self._action_targets(expr.args[0])
        definition = self.resolver.definition(expr)
        if isinstance(definition, FUNCTION_NODES):
            return [definition]
        if isinstance(expr, ast.Call):
            factory = self.resolver.definition(expr.func)
            if isinstance(factory, (ast.FunctionDef, ast.AsyncFunctionDef)):
                made: list[FunctionNode] = []
                for returned in (r.value for r in own_returns(factory) if r.value):
                    inner = self.resolver.definition(returned)
                    if isinstance(inner, FUNCTION_NODES):
                        made.append(inner)
                return made
        return []

    def _find_units(self) -> None:
        queue: list[Unit] = []
        for handler in self.handlers:
            queue.append(self._add_unit(handler.func, handler, "handler", (), None))
        for func in self.index.functions:
            if id(func) in self._unit_of or id(func) in self._action_of:
                continue
            if isinstance(func, ast.Lambda):
                continue
            if any(id(a) in self._context_args for a in _all_args(func)):
                queue.append(self._add_unit(func, None, "context", (), None))
        while queue:
            unit = queue.pop()
            scope = own_scope(unit.func)
            if scope is None:
                continue
            unit.nodes = scope.evaluated
            for node in scope.evaluated_functions:
                if id(node) not in self._unit_of and id(node) not in self._action_of:
                    queue.append(self._add_unit(node, unit.handler, "nested", unit.via, unit))
            for call in scope.evaluated_calls:
                if id(call) in self._action_calls:
                    continue
                callee = self.resolver.definition(call.func)
                if (
                    isinstance(callee, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and id(callee) not in self._unit_of
                    and id(callee) not in self._action_of
                ):
                    queue.append(
                        self._add_unit(callee, unit.handler, "called", (*unit.via, call), unit)
                    )

    def _add_unit(
        self,
        func: FunctionNode,
        handler: Handler | None,
        reason: Literal["handler", "context", "nested", "called"],
        via: tuple[ast.Call, ...],
        parent: Unit | None,
    ) -> Unit:
        unit = Unit(func, handler, reason, via, parent)
        self.units.append(unit)
        self._unit_of[id(func)] = unit
        return unit

    # -- questions -----------------------------------------------------------------------
    def handler_of(self, func: ast.AST) -> Handler | None:
        return self._handler_of.get(id(func))

    def unit_of(self, func: ast.AST) -> Unit | None:
        return self._unit_of.get(id(func))

    def action_of(self, func: ast.AST) -> Action | None:
        """The journaled action whose body ``func`` is, if it is one."""
        return self._action_of.get(id(func))

    def action_call(self, call: ast.Call) -> Action | None:
        """The journaled action started by this ``ctx.run_typed(...)`` call, if it is one."""
        return self._action_calls.get(id(call))

    def is_context_param(self, arg: ast.arg) -> bool:
        return id(arg) in self._context_args

    def is_context(self, expr: ast.AST | None, depth: int = 0) -> bool:
        """Whether ``expr`` evaluates to the Restate context (or a scoped view of it)."""
        if expr is None or depth > 8:
            return False
        if isinstance(expr, ast.Name):
            binding = self.resolver.binding(expr)
            if binding is None:
                return False
            if binding.kind is Kind.PARAM:
                return id(binding.node) in self._context_args
            if binding.kind is Kind.ASSIGN:
                return self.is_context(binding.value, depth + 1)
            return False
        if isinstance(expr, ast.Attribute):
            attribute = self.resolver.self_attribute(expr)
            return attribute is not None and self.is_context(attribute.value, depth + 1)
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Attribute) and func.attr == "scope":
                return self.is_context(func.value, depth + 1)  # a ScopedContext
            return self.resolver.qualname(func) in self.fw.context_getters
        if isinstance(expr, ast.Await):
            return self.is_context(expr.value, depth + 1)
        return False

    def region(self, node: ast.AST) -> Region | None:
        """Where ``node`` runs: handler code, a journaled action's body, or neither."""
        scope: Scope | None = scope_of(node)
        while scope is not None:
            owner = scope.node
            if isinstance(owner, FUNCTION_NODES):
                if id(owner) in self._action_of:
                    return "action"
                if id(owner) in self._unit_of:
                    return "handler"
            scope = scope.parent
        return None

    def context_name_at(self, node: ast.AST) -> str | None:
        """A name that holds the context where ``node`` is evaluated (for fixes)."""
        scope: Scope | None = scope_of(node)
        while scope is not None:
            func = scope.node
            if isinstance(func, FUNCTION_NODES):
                for arg in _all_args(func):
                    if id(arg) in self._context_args:
                        binding = lookup(scope_of(node), arg.arg)
                        if binding is not None and binding.node is arg:
                            return arg.arg
            scope = scope.parent
        return None

    def own_nodes(self, func: FunctionNode) -> list[ast.AST]:
        """Nodes evaluated when ``func`` runs: its body, without nested function bodies.

        Nested functions and lambdas are included themselves, with their decorators and
        defaults (evaluated here), but not their bodies. Collected by the indexer.
        """
        scope = own_scope(func)
        return scope.evaluated if scope is not None else []

    def handler_calls(self) -> Iterator[tuple[Unit, ast.Call]]:
        """Every call in handler code, with the unit it belongs to."""
        for unit in self.units:
            scope = own_scope(unit.func)
            if scope is not None:
                for call in scope.evaluated_calls:
                    yield unit, call

    def handler_nodes(self) -> Iterator[tuple[Unit, ast.AST]]:
        """Every node of handler code, with the unit it belongs to."""
        for unit in self.units:
            for node in unit.nodes:
                yield unit, node



# -- small helpers -------------------------------------------------------------------------
# Expression shapes that can evaluate to the context (see ``HandlerModel.is_context``).
_CONTEXT_SHAPES = frozenset({ast.Name, ast.Attribute, ast.Call, ast.Await})


def _all_args(func: FunctionNode) -> tuple[ast.arg, ...]:
    args = func.args
    return (*args.posonlyargs, *args.args, *args.kwonlyargs)


def _is_method(func: DefNode) -> bool:
    scope = scope_of(func)
    return scope.is_class and not any(
        isinstance(d, ast.Name) and d.id == "staticmethod" for d in func.decorator_list
    )


def _plausible_context_name(expr: ast.expr) -> bool:
    """A receiver spelled like a context (for ``run_typed``, which nothing else defines)."""
    if isinstance(expr, ast.Attribute):
        expr = ast.Name(expr.attr)
    return isinstance(expr, ast.Name) and ("ctx" in expr.id.lower() or "context" in expr.id.lower())


def _first_string(call: ast.Call, keyword: str) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return _constant_keyword(call, keyword)


def _constant_keyword(call: ast.Call, keyword: str) -> str | None:
    for kw in call.keywords:
        if kw.arg == keyword and isinstance(kw.value, ast.Constant):
            value = kw.value.value
            return value if isinstance(value, str) else None
    return None


def _handler_name(decorator: ast.Call) -> str | None:
    return _first_string(decorator, "name")
