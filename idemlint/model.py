"""The handler model: services, handlers, contexts, journaled actions and handler code.

Built once per module from the index and the resolver. Rules ask it questions:
- which functions run as handler code (``units``), and through which call chain;
- which callables are journaled actions (their bodies run once and are journaled);
- is an expression the Restate context (``ctx``, ``self.ctx``, a helper's parameter bound to it);
- in which region does a node run (handler code, a journaled action, or neither).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from .entrypoints import EntryPoints, Handler, Service, ServiceFinder
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
class HandlerModel(EntryPoints):
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
