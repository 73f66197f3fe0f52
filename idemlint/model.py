"""The handler model: services, handlers, contexts, journaled actions and handler code.

Built once per module from the index and the resolver. Rules ask it questions:
- which functions run as handler code (``units``), and through which call chain;
- which callables are journaled actions (their bodies run once and are journaled);
- is an expression the Restate context (``ctx``, ``self.ctx``, a helper's parameter bound to it);
- in which region does a node run (handler code, a journaled action, or neither).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
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
    """A declaring object whose decorator methods declare entry points (a Restate service,
    an Inngest client, a Hatchet workflow)."""

    kind: str  # the profile's name for it, e.g. "service" | "object" | "workflow"
    name: str | None  # the service's name as given to the constructor
    node: ast.Call | None
    wrappers: tuple[str, ...] = ()
    module: str | None = None
    framework: Framework | None = None


@dataclass(eq=False)
class Handler:
    """An entry point of durable code: a handler of a service, a workflow's run/signal/update
    method, a durable task."""

    func: DefNode
    service: Service | None
    role: str  # the profile's role, e.g. "handler" | "main" | "run" | "query"
    name: str
    decorator: ast.expr
    kind: str | None = None  # `kind=` of the decorator: exclusive/shared/workflow
    framework: Framework | None = None
    cls: ast.ClassDef | None = None  # the decorated class of a class-based entry point

    @property
    def ctx(self) -> ast.arg | None:
        """The durable-context parameter, if the framework passes one."""
        position = self.framework.context_position if self.framework is not None else 0
        if position is None:
            return None
        args = self.func.args.posonlyargs + self.func.args.args
        if self.cls is not None:  # a method of a decorated class: `self` comes first
            position += 1
        return args[position] if position < len(args) else None


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
    # The framework whose durable code this is (the entry point's, or the context's for a
    # helper that receives a context parameter).
    framework: Framework | None = None

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
    # id(context parameter) -> the framework whose context it is
    _context_args: dict[int, Framework] = field(default_factory=dict)
    _handler_of: dict[int, Handler] = field(default_factory=dict)
    # id(function) -> mode of its journaled decorator ("journaled" | "inline")
    _journaled_funcs: dict[int, str] = field(default_factory=dict)
    # frameworks whose durable code this module can hold (see ``build``)
    frameworks: tuple[Framework, ...] = ()
    _imported: frozenset[str] = frozenset()

    @property
    def fw(self) -> Framework:
        """The default profile (for rules not yet framework-neutral)."""
        return self.kb.framework

    # -- building ------------------------------------------------------------------------
    def build(self, only: frozenset[str] | None = None) -> HandlerModel:
        """Find entry points, contexts, journaled units and handler code. ``only`` narrows
        the frameworks considered (configuration); a framework is considered for a module
        that imports its package, or always when its profile does not require the import."""
        self._imported = frozenset(
            (b.qualname or "").split(".")[0]
            for bindings in self.module_scope.bindings.values()
            for b in bindings
            if b.kind is Kind.IMPORT
        )
        self.frameworks = tuple(
            fw for fw in self.kb.frameworks.values()
            if (only is None or fw.name in only)
            and (fw.package in self._imported or not fw.requires_import)
        )
        self._find_handlers()
        self._find_contexts()
        self._find_actions()
        self._find_units()
        return self

    def _find_handlers(self) -> None:
        for func in self.index.functions:
            if isinstance(func, ast.Lambda):
                continue
            handler = self._declared_handler(func)
            if handler is not None:
                self.handlers.append(handler)
                self._handler_of[id(func)] = handler
        self._find_class_handlers()

    def _declared_handler(self, func: DefNode) -> Handler | None:
        """An entry point declared by a decorator of ``func`` (a decorator method of a
        declaring object, or a decorator known by its qualified name)."""
        for decorator in func.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call is not None else decorator
            named = self._entry_decorator(target)
            if named is not None:
                fw, role = named
                return Handler(
                    func=func, service=None, role=role,
                    name=(_handler_name(call) if call is not None else None) or func.name,
                    decorator=decorator, framework=fw,
                )
            if call is None or not isinstance(call.func, ast.Attribute):
                continue
            attr = call.func.attr
            if not any(attr in f.decorators for f in self.frameworks):
                continue
            service = self.service_of(call.func.value)
            owner = service.framework if service is not None else self._unresolved(func, call)
            if owner is None or attr not in owner.decorators:
                continue
            return Handler(
                func=func,
                service=service,
                role=owner.decorators[attr],
                name=_handler_name(call) or func.name,
                decorator=call,
                kind=_constant_keyword(call, "kind"),
                framework=owner,
            )
        return None

    def _entry_decorator(self, target: ast.expr) -> tuple[Framework, str] | None:
        if not any(fw.entry_decorators for fw in self.frameworks):
            return None
        qualname = self.resolver.qualname(target)
        if not qualname:
            return None
        for fw in self.frameworks:
            role = fw.entry_decorators.get(qualname)
            if role is not None:
                return fw, role
        return None

    def _find_class_handlers(self) -> None:
        """Methods of decorated classes (a ``@workflow.defn`` class's ``@workflow.run``)."""
        profiles = [fw for fw in self.frameworks if fw.entry_classes]
        if not profiles:
            return
        decided: dict[int, tuple[Framework, Mapping[str, str]] | None] = {}
        for func in self.index.functions:
            cls = scope_of(func).node
            if not isinstance(cls, ast.ClassDef) or not cls.decorator_list:
                continue
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if id(cls) not in decided:
                decided[id(cls)] = self._entry_class(cls, profiles)
            entry = decided[id(cls)]
            if entry is not None and id(func) not in self._handler_of:
                self._class_method_handler(entry[0], cls, func, entry[1])

    def _entry_class(
        self, cls: ast.ClassDef, profiles: list[Framework]
    ) -> tuple[Framework, Mapping[str, str]] | None:
        for decorator in cls.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            qualname = self.resolver.qualname(target) or ""
            for fw in profiles:
                if qualname in fw.entry_classes:
                    return fw, fw.entry_classes[qualname]
        return None

    def _class_method_handler(
        self, fw: Framework, cls: ast.ClassDef, func: DefNode, methods: Mapping[str, str]
    ) -> None:
        for decorator in func.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call is not None else decorator
            # `@query.validator` style decorators name another handler's attribute
            qualname = self.resolver.qualname(target) or ""
            role = methods.get(qualname)
            if role is None and isinstance(target, ast.Attribute):
                role = methods.get(f"*.{target.attr}")
            if role is None:
                continue
            handler = Handler(
                func=func, service=None, role=role,
                name=(_handler_name(call) if call is not None else None) or func.name,
                decorator=decorator, framework=fw, cls=cls,
            )
            self.handlers.append(handler)
            self._handler_of[id(func)] = handler
            return

    def _unresolved(self, func: DefNode, decorator: ast.Call) -> Framework | None:
        """The framework of a decorator whose declaring object cannot be resolved (defined
        out of the tree): the context annotation tells, or an imported receiver in a module
        that imports the framework."""
        args = func.args.posonlyargs + func.args.args
        if not args:
            return None
        for fw in self.frameworks:
            if fw.context_position is None or fw.context_position >= len(args):
                continue
            if self._is_context_annotation(args[fw.context_position].annotation, fw):
                return fw
        receiver = decorator.func.value  # type: ignore[attr-defined]
        if not isinstance(receiver, ast.Name) or not isinstance(func, ast.AsyncFunctionDef):
            return None
        binding = self.resolver.binding(receiver)
        if binding is None or binding.kind is not Kind.IMPORT:
            return None
        attr = decorator.func.attr  # type: ignore[attr-defined]
        return next(
            (fw for fw in self.frameworks
             if fw.package in self._imported and attr in fw.decorators),
            None,
        )

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
            for fw in self.frameworks:
                if qualname in fw.services:
                    service = Service(
                        kind=fw.services[qualname],
                        name=_first_string(expr, "name"),
                        node=expr,
                        module=self.resolver.module_name,
                        framework=fw,
                    )
                    break
                if qualname in fw.service_wrappers and expr.args:
                    inner = self.service_of(expr.args[0], depth + 1)
                    if inner is not None:
                        service = Service(
                            inner.kind, inner.name, inner.node, (*inner.wrappers, qualname),
                            inner.module, inner.framework,
                        )
                    break
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
                    type_name = self.resolver.annotation_type(annotation) or ""
                    for fw in self.frameworks:
                        kind = fw.services.get(type_name)
                        if kind is not None:
                            service = Service(kind=kind, name=None, node=None, framework=fw)
                            break
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

    def _is_context_annotation(
        self, annotation: ast.expr | None, fw: Framework | None = None
    ) -> bool:
        return self._annotated_framework(annotation, fw) is not None

    def _annotated_framework(
        self, annotation: ast.expr | None, only: Framework | None = None
    ) -> Framework | None:
        """The framework whose context type ``annotation`` names, if any."""
        if annotation is None:
            return None
        type_name = self.resolver.annotation_type(annotation)
        for fw in (only,) if only is not None else self.frameworks:
            if type_name in fw.context_types:
                return fw
        return None

    def _find_contexts(self) -> None:
        marked = self._context_args
        for handler in self.handlers:
            if handler.ctx is not None and handler.framework is not None:
                marked[id(handler.ctx)] = handler.framework
        if not any(fw.context_types for fw in self.frameworks):
            return
        for func in self.index.functions:
            if isinstance(func, ast.Lambda):
                continue
            for arg in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs):
                if arg.annotation is not None:
                    fw = self._annotated_framework(arg.annotation)
                    if fw is not None:
                        marked[id(arg)] = fw
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
            if i + offset < len(params):
                fw = self.context_framework(arg)
                if fw is not None:
                    self._context_args.setdefault(id(params[i + offset]), fw)
        by_name = {a.arg: a for a in (*params, *callee.args.kwonlyargs)}
        for keyword in call.keywords:
            if keyword.arg in by_name:
                fw = self.context_framework(keyword.value)
                if fw is not None:
                    self._context_args.setdefault(id(by_name[keyword.arg]), fw)

    def _find_actions(self) -> None:
        self._find_journaled_functions()
        methods = {name for fw in self.frameworks for name in fw.actions}
        if not methods:
            return
        for call in self.index.calls:
            func = call.func
            if not isinstance(func, ast.Attribute) or func.attr not in methods:
                continue
            fw = self.context_framework(func.value)
            spec = fw.actions.get(func.attr) if fw is not None else None
            if spec is None:
                # an unresolved receiver spelled like a context, for a method only a
                # context has (`run_typed`)
                spec = next((f.actions[func.attr] for f in self.frameworks
                             if func.attr in f.actions and f.actions[func.attr].forwards), None)
                if spec is None or not _plausible_context_name(func.value):
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

    def _find_journaled_functions(self) -> None:
        """Functions whose decorator makes their body journaled (a step, an activity)."""
        profiles = [fw for fw in self.frameworks if fw.journaled_decorators]
        if not profiles:
            return
        for func in self.index.functions:
            if isinstance(func, ast.Lambda):
                continue
            for decorator in func.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                qualname = self.resolver.qualname(target) or ""
                mode = next((fw.journaled_decorators[qualname] for fw in profiles
                             if qualname in fw.journaled_decorators), None)
                if mode is not None:
                    self._journaled_funcs[id(func)] = mode
                    break

    def _find_units(self) -> None:
        queue: list[Unit] = []
        for handler in self.handlers:
            unit = self._add_unit(handler.func, handler, "handler", (), None)
            unit.framework = handler.framework
            queue.append(unit)
        for func in self.index.functions:
            if id(func) in self._unit_of or id(func) in self._action_of:
                continue
            if isinstance(func, ast.Lambda) or id(func) in self._journaled_funcs:
                continue
            owner = next((self._context_args[id(a)] for a in _all_args(func)
                          if id(a) in self._context_args), None)
            if owner is not None:
                unit = self._add_unit(func, None, "context", (), None)
                unit.framework = owner
                queue.append(unit)
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
                    and id(callee) not in self._journaled_funcs
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
        if parent is not None:
            unit.framework = parent.framework
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
        """Whether ``expr`` evaluates to a durable context (or a scoped view of it)."""
        return self.context_framework(expr, depth) is not None

    def context_framework(self, expr: ast.AST | None, depth: int = 0) -> Framework | None:
        """The framework whose durable context ``expr`` evaluates to, if it does."""
        if expr is None or depth > 8:
            return None
        if isinstance(expr, ast.Name):
            binding = self.resolver.binding(expr)
            if binding is None:
                return None
            if binding.kind is Kind.PARAM:
                return self._context_args.get(id(binding.node))
            if binding.kind is Kind.ASSIGN:
                return self.context_framework(binding.value, depth + 1)
            return None
        if isinstance(expr, ast.Attribute):
            attribute = self.resolver.self_attribute(expr)
            if attribute is None:
                return None
            return self.context_framework(attribute.value, depth + 1)
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Attribute) and func.attr == "scope":
                return self.context_framework(func.value, depth + 1)  # a ScopedContext
            qualname = self.resolver.qualname(func)
            return next((fw for fw in self.frameworks if qualname in fw.context_getters), None)
        if isinstance(expr, ast.Await):
            return self.context_framework(expr.value, depth + 1)
        return None

    def journaled_mode(self, func: ast.AST) -> str | None:
        """``"journaled"`` or ``"inline"`` for a function with a journaled decorator (a step,
        an activity): what a direct call of it does."""
        return self._journaled_funcs.get(id(func))

    def region(self, node: ast.AST) -> Region | None:
        """Where ``node`` runs: handler code, a journaled action's body, or neither."""
        scope: Scope | None = scope_of(node)
        while scope is not None:
            owner = scope.node
            if isinstance(owner, FUNCTION_NODES):
                if id(owner) in self._action_of or id(owner) in self._journaled_funcs:
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
