"""One pass over a module's ``ast``: parent links, scopes and name bindings.

Every node gets two attributes: ``_p`` (its parent) and ``_sc`` (the scope its expressions
are evaluated in: a function's decorators and defaults belong to the enclosing scope, its
body to its own). Scopes hold the bindings Python would create, in source order, so a name
can be resolved to what it was last bound to before the use.
"""

from __future__ import annotations

import ast
import builtins
import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

BUILTIN_NAMES = frozenset(dir(builtins))
FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
DefNode = ast.FunctionDef | ast.AsyncFunctionDef
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


# Fields that hold child nodes worth visiting, per node type (operators and load/store
# markers are shared singletons carrying nothing to index).
_SKIPPED_FIELDS = frozenset({"ctx", "op", "ops", "type_ignores"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    return tuple(f for f in getattr(kind, "_fields", ()) if f not in _SKIPPED_FIELDS)


def children(node: ast.AST) -> list[ast.AST]:
    """Child nodes in source order (like ``ast.iter_child_nodes``, without singletons)."""
    kind = type(node)
    names = _CHILD_FIELDS.get(kind)
    if names is None:
        names = _CHILD_FIELDS[kind] = _child_fields(kind)
    out: list[ast.AST] = []
    for field_name in names:
        value = getattr(node, field_name)
        if value is None:
            continue
        if type(value) is list:
            out.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


class Kind(enum.Enum):
    IMPORT = "import"
    ASSIGN = "assign"
    PARAM = "param"
    DEF = "def"
    CLASS = "class"
    WITH = "with"
    FOR = "for"
    OTHER = "other"


@dataclass(slots=True, eq=False)
class Binding:
    """A name bound in a scope: by import, assignment, parameter, def, with-as, for, ..."""

    name: str
    kind: Kind
    node: ast.AST
    scope: Scope
    value: ast.expr | None = None
    qualname: str | None = None
    level: int = 0  # relative-import level for IMPORT bindings
    position: tuple[int, int] = (0, 0)


@dataclass(slots=True, eq=False)
class Scope:
    """A module, class, function, lambda or comprehension scope."""

    node: ast.AST
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)
    # For classes: `self.<attr> = value` assignments made in its methods.
    attributes: dict[str, list[Binding]] = field(default_factory=dict)
    # Nodes evaluated when this function (or module) runs, in source order: its body, plus
    # the decorators and defaults (not the bodies) of functions defined in it. Class and
    # comprehension scopes share their enclosing function's list.
    evaluated: list[ast.AST] = field(default_factory=list)
    # The calls and the nested function/lambda nodes among ``evaluated`` (shared likewise).
    evaluated_calls: list[ast.Call] = field(default_factory=list)
    evaluated_functions: list[FunctionNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.parent is not None and isinstance(self.node, (ast.ClassDef, *_COMPREHENSIONS)):
            self.evaluated = self.parent.evaluated
            self.evaluated_calls = self.parent.evaluated_calls
            self.evaluated_functions = self.parent.evaluated_functions

    @property
    def is_class(self) -> bool:
        return isinstance(self.node, ast.ClassDef)

    @property
    def is_function(self) -> bool:
        return isinstance(self.node, FUNCTION_NODES)

    def add(self, binding: Binding) -> None:
        self.bindings.setdefault(binding.name, []).append(binding)

    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope


def position(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def parent(node: ast.AST) -> ast.AST | None:
    return getattr(node, "_p", None)


def scope_of(node: ast.AST) -> Scope:
    return node._sc  # type: ignore[attr-defined, no-any-return]


def own_scope(node: ast.AST) -> Scope | None:
    """The scope a function/class/lambda/module node opens (``None`` for other nodes)."""
    return getattr(node, "_own", None)


def ancestors(node: ast.AST) -> Iterator[ast.AST]:
    current = getattr(node, "_p", None)
    while current is not None:
        yield current
        current = getattr(current, "_p", None)


class Indexer:
    """Builds scopes and bindings; collects calls and function nodes on the way."""

    def __init__(self) -> None:
        self.nodes: list[ast.AST] = []  # every node below the module, in preorder
        self.calls: list[ast.Call] = []
        self.functions: list[FunctionNode] = []
        self.self_assignments: list[tuple[ast.Attribute, ast.expr | None, Scope]] = []
        # Every read of a name, by name (collected here: rules ask for it on most files,
        # and a separate pass over all nodes cost as much as this whole dictionary).
        self.name_loads: dict[str, list[ast.Name]] = {}

    # The traversal is iterative: deeply nested input must not exhaust the C stack here.
    # It is the hottest loop of a run: dispatch on exact node type, precomputed child fields.
    def index(self, tree: ast.Module) -> Scope:
        module_scope = Scope(tree, None)
        tree._own = module_scope  # type: ignore[attr-defined]
        tree._sc = module_scope  # type: ignore[attr-defined]
        tree._p = None  # type: ignore[attr-defined]
        stack: list[tuple[ast.AST, ast.AST, Scope]] = [
            (child, tree, module_scope) for child in reversed(tree.body)
        ]
        pop, push = stack.pop, stack.append
        calls_append = self.calls.append
        nodes_append = self.nodes.append
        name_loads = self.name_loads
        special = self._special()
        fields = _CHILD_FIELDS
        name_type, call_type, load_type = ast.Name, ast.Call, ast.Load
        ast_type = ast.AST
        while stack:
            node, par, scope = pop()
            node._p = par  # type: ignore[attr-defined]
            node._sc = scope  # type: ignore[attr-defined]
            scope.evaluated.append(node)
            nodes_append(node)
            kind = type(node)
            if kind is name_type:
                if type(node.ctx) is not load_type:  # type: ignore[attr-defined]
                    self._bind_target(node, scope)  # type: ignore[arg-type]
                else:
                    loads = name_loads.get(node.id)  # type: ignore[attr-defined]
                    if loads is None:
                        name_loads[node.id] = [node]  # type: ignore[attr-defined,list-item]
                    else:
                        loads.append(node)  # type: ignore[arg-type]
                continue
            if kind is call_type:
                calls_append(node)  # type: ignore[arg-type]
                scope.evaluated_calls.append(node)  # type: ignore[arg-type]
            else:
                handler = special.get(kind)
                if handler is not None and handler(node, scope, stack):
                    continue
            names = fields.get(kind)
            if names is None:
                names = fields[kind] = _child_fields(kind)
            for field_name in reversed(names):
                value = getattr(node, field_name)
                if value is None:
                    continue
                if type(value) is list:
                    for item in reversed(value):
                        if isinstance(item, ast_type):
                            push((item, node, scope))
                elif isinstance(value, ast_type):
                    push((value, node, scope))
        return module_scope

    def _special(self) -> dict[type, Callable[[Any, Scope, list[Any]], bool]]:
        """Node types that bind names or open scopes; True means children were handled."""
        return {
            ast.FunctionDef: self._visit_function,
            ast.AsyncFunctionDef: self._visit_function,
            ast.Lambda: self._visit_function,
            ast.ClassDef: self._visit_class,
            ast.ListComp: self._comprehension,
            ast.SetComp: self._comprehension,
            ast.DictComp: self._comprehension,
            ast.GeneratorExp: self._comprehension,
            ast.Import: self._visit_import,
            ast.ImportFrom: self._visit_import,
            ast.Global: self._visit_declaration,
            ast.Nonlocal: self._visit_declaration,
            ast.Assign: self._visit_assign,
            ast.AnnAssign: self._visit_assign,
            ast.AugAssign: self._visit_assign,
            ast.With: self._visit_with,
            ast.AsyncWith: self._visit_with,
            ast.For: self._visit_for,
            ast.AsyncFor: self._visit_for,
            ast.NamedExpr: self._visit_named,
            ast.ExceptHandler: self._visit_named_node,
            ast.MatchAs: self._visit_named_node,
            ast.MatchStar: self._visit_named_node,
            ast.MatchMapping: self._visit_named_node,
        }

    def _visit_function(self, node: Any, scope: Scope, stack: list[Any]) -> bool:
        self.functions.append(node)
        scope.evaluated_functions.append(node)
        self._function(node, scope, stack)
        return True

    def _visit_class(self, node: Any, scope: Scope, stack: list[Any]) -> bool:
        self._class(node, scope, stack)
        return True

    def _visit_import(self, node: Any, scope: Scope, stack: list[Any]) -> bool:
        self._import(node, scope)
        return True

    def _visit_declaration(self, node: Any, scope: Scope, stack: list[Any]) -> bool:
        target = scope.declared_global if isinstance(node, ast.Global) else scope.declared_nonlocal
        target.update(node.names)
        return True

    def _visit_assign(self, node: Any, scope: Scope, stack: list[Any]) -> bool:
        self._assign(node, scope)
        return False

    def _visit_with(self, node: Any, scope: Scope, stack: list[Any]) -> bool:
        for item in node.items:
            if item.optional_vars is not None:
                self._bind_value(item.optional_vars, item.context_expr, Kind.WITH, scope)
        return False

    def _visit_for(self, node: Any, scope: Scope, stack: list[Any]) -> bool:
        self._bind_value(node.target, node.iter, Kind.FOR, scope)
        return False

    def _visit_named(self, node: Any, scope: Scope, stack: list[Any]) -> bool:
        target_scope = scope
        while isinstance(target_scope.node, _COMPREHENSIONS) and target_scope.parent:
            target_scope = target_scope.parent
        node.target._bound = True
        self._add(target_scope, node.target.id, Kind.ASSIGN, node, node.value)
        return False

    def _visit_named_node(self, node: Any, scope: Scope, stack: list[Any]) -> bool:
        name = node.rest if isinstance(node, ast.MatchMapping) else node.name
        if name:
            self._add(scope, name, Kind.OTHER, node)
        return False

    def _comprehension(self, node: Any, scope: Scope, stack: list[Any]) -> bool:
        inner = Scope(node, scope)
        node._own = inner
        for i, generator in enumerate(node.generators):
            generator._p = node
            generator._sc = inner
            self._bind_value(generator.target, None, Kind.FOR, inner)
            stack.append((generator.target, generator, inner))
            stack.append((generator.iter, generator, scope if i == 0 else inner))
            for cond in generator.ifs:
                stack.append((cond, generator, inner))
        if isinstance(node, ast.DictComp):
            stack.append((node.key, node, inner))
            stack.append((node.value, node, inner))
        else:
            stack.append((node.elt, node, inner))
        return True

    # -- helpers -------------------------------------------------------------------------
    def _add(
        self,
        scope: Scope,
        name: str,
        kind: Kind,
        node: ast.AST,
        value: ast.expr | None = None,
        qualname: str | None = None,
        level: int = 0,
    ) -> None:
        if name in scope.declared_global:
            scope = scope.module()
        # A binding is visible after the expression that produces it (`x = f(x)` reads the
        # previous `x`), so it is positioned at the end of its value.
        where = value if value is not None else node
        pos = (getattr(where, "end_lineno", 0) or 0, getattr(where, "end_col_offset", 0) or 0)
        if kind in (Kind.PARAM, Kind.DEF, Kind.CLASS, Kind.IMPORT):
            pos = position(node)
        scope.add(Binding(name, kind, node, scope, value, qualname, level, pos))

    def _bind_target(self, node: ast.Name, scope: Scope) -> None:
        # Stores not handled by their statement (e.g. inside starred or nested targets).
        if isinstance(node.ctx, ast.Store) and not getattr(node, "_bound", False):
            self._add(scope, node.id, Kind.OTHER, node)

    def _bind_value(
        self, target: ast.expr, value: ast.expr | None, kind: Kind, scope: Scope
    ) -> None:
        if isinstance(target, ast.Name):
            target._bound = True  # type: ignore[attr-defined]
            self._add(scope, target.id, kind, target, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            values: list[ast.expr] | None = None
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                values = value.elts
            for i, elt in enumerate(target.elts):
                self._bind_value(elt, values[i] if values else None, kind, scope)
        elif isinstance(target, ast.Starred):
            self._bind_value(target.value, None, kind, scope)
        elif (
            isinstance(target, ast.Attribute)
            and kind is Kind.ASSIGN
            and isinstance(target.value, ast.Name)
        ):
            self.self_assignments.append((target, value, scope))

    def _assign(self, node: ast.Assign | ast.AnnAssign | ast.AugAssign, scope: Scope) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._bind_value(target, node.value, Kind.ASSIGN, scope)
        elif isinstance(node, ast.AnnAssign):
            if isinstance(node.target, ast.Name):
                node.target._bound = True  # type: ignore[attr-defined]
                self._add(scope, node.target.id, Kind.ASSIGN, node.target, node.value)
            elif isinstance(node.target, ast.Attribute) and isinstance(node.target.value, ast.Name):
                self.self_assignments.append((node.target, node.value, scope))
        elif isinstance(node.target, ast.Name):
            node.target._bound = True  # type: ignore[attr-defined]
            self._add(scope, node.target.id, Kind.OTHER, node.target)

    def _import(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self._add(scope, alias.asname, Kind.IMPORT, node, qualname=alias.name)
                else:
                    head = alias.name.split(".", 1)[0]
                    self._add(scope, head, Kind.IMPORT, node, qualname=head)
            return
        module = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                continue
            qualname = f"{module}.{alias.name}" if module else alias.name
            self._add(
                scope, alias.asname or alias.name, Kind.IMPORT, node, qualname=qualname,
                level=node.level,
            )

    def _arguments(self, args: ast.arguments, scope: Scope) -> None:
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
            self._add(scope, arg.arg, Kind.PARAM, arg)
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                self._add(scope, extra.arg, Kind.OTHER, extra)

    def _function(
        self, node: FunctionNode, scope: Scope, stack: list[tuple[ast.AST, ast.AST, Scope]]
    ) -> None:
        inner = Scope(node, scope)
        node._own = inner  # type: ignore[union-attr]
        if not isinstance(node, ast.Lambda):
            self._add(scope, node.name, Kind.DEF, node)
        self._arguments(node.args, inner)
        for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs,
                    node.args.vararg, node.args.kwarg):
            if arg is not None:
                arg._p = node  # type: ignore[attr-defined]
                arg._sc = inner  # type: ignore[attr-defined]
                if arg.annotation is not None:
                    stack.append((arg.annotation, arg, scope))
        node.args._p = node  # type: ignore[attr-defined]
        node.args._sc = scope  # type: ignore[attr-defined]
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:
                stack.append((default, node, scope))
        if isinstance(node, ast.Lambda):
            stack.append((node.body, node, inner))
            return
        for child in reversed(node.body):
            stack.append((child, node, inner))
        if node.returns is not None:
            stack.append((node.returns, node, scope))
        for decorator in reversed(node.decorator_list):
            stack.append((decorator, node, scope))

    def _class(
        self, node: ast.ClassDef, scope: Scope, stack: list[tuple[ast.AST, ast.AST, Scope]]
    ) -> None:
        inner = Scope(node, scope)
        node._own = inner  # type: ignore[attr-defined]
        self._add(scope, node.name, Kind.CLASS, node)
        for child in reversed(node.body):
            stack.append((child, node, inner))
        for expr in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
            stack.append((expr, node, scope))


def finish_self_attributes(indexer: Indexer) -> None:
    """Record ``self.x = value`` made in methods as attributes of the enclosing class."""
    for target, value, scope in indexer.self_assignments:
        func = scope.node
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        args = func.args.posonlyargs + func.args.args
        class_scope = scope.parent
        if (
            not args
            or class_scope is None
            or not class_scope.is_class
            or not isinstance(target.value, ast.Name)
            or target.value.id != args[0].arg
        ):
            continue
        binding = Binding(
            target.attr, Kind.ASSIGN, target, scope, value, position=position(target)
        )
        class_scope.attributes.setdefault(target.attr, []).append(binding)


def lookup(scope: Scope, name: str, at: tuple[int, int] | None = None) -> Binding | None:
    """Resolve ``name`` as Python would from ``scope``; ``None`` for builtins/unknown names."""
    current: Scope | None = scope
    first = True
    if name in scope.declared_global:
        current = scope.module()
    while current is not None:
        if not first and current.is_class:
            current = current.parent
            continue
        bindings = current.bindings.get(name)
        if bindings and name not in current.declared_nonlocal:
            if at is not None and len(bindings) > 1:
                for binding in reversed(bindings):
                    if binding.position <= at:
                        return binding
            return bindings[-1]
        first = False
        current = current.parent
    return None


def can_await(node: ast.AST) -> bool:
    """``await`` is allowed where ``node`` is evaluated (an async def, not a generator expr)."""
    scope: Scope | None = scope_of(node)
    while scope is not None:
        owner = scope.node
        if isinstance(owner, ast.GeneratorExp):
            return False
        if isinstance(owner, FUNCTION_NODES):
            return isinstance(owner, ast.AsyncFunctionDef)
        if not isinstance(owner, (ast.ListComp, ast.SetComp, ast.DictComp)):
            return False
        scope = scope.parent
    return False


def is_primary_operand(node: ast.AST) -> bool:
    """Whether ``node`` is the object of ``.attr``, ``[...]`` or ``(...)`` (needs parens)."""
    up = parent(node)
    return (
        (isinstance(up, ast.Attribute) and up.value is node)
        or (isinstance(up, ast.Subscript) and up.value is node)
        or (isinstance(up, ast.Call) and up.func is node)
    )
