"""Data-flow questions rules share: what a value is (a durable future, a mutable container,
a callable), whether it is consumed, which function a call reaches. Framework knowledge
comes from the knowledge base; the values regenerated on every evaluation are in
``regenerated``."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .analysis import ModuleAnalysis
from .knowledge import Framework
from .model import Handler, HandlerModel
from .scopes import (
    Binding,
    FunctionNode,
    Kind,
    Scope,
    lookup,
    own_scope,
    parent,
    position,
    scope_of,
)
from .source import SourceFile
from .syntax import ancestors_within, scope_within, walk_body

# == moved from checks/action_support.py (actions family) ==


@dataclass(frozen=True)
class Callee:
    """A function definition and the module that holds it."""

    module: ModuleAnalysis
    func: FunctionNode | ast.ClassDef

    @property
    def is_async(self) -> bool:
        return isinstance(self.func, ast.AsyncFunctionDef)


def callee(module: ModuleAnalysis, expr: ast.expr) -> Callee | None:
    """The definition a called expression names (a local def/lambda/class/method, or a
    function defined at module level in another module of the linted tree)."""
    definition = module.resolver.definition(expr)
    if definition is not None:
        return Callee(module, definition)
    return external_definition(module, expr)


def external_definition(module: ModuleAnalysis, expr: ast.expr) -> Callee | None:
    """``from .payments import charge`` / ``import payments; payments.charge``: the def."""
    project = module.project
    if project is None:
        return None
    dotted: str | None = None
    if isinstance(expr, ast.Name):
        binding = module.resolver.binding(expr)
        if binding is None or binding.kind is not Kind.IMPORT:
            return None
        dotted = module.resolver.absolute(binding)
    elif isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        binding = module.resolver.binding(expr.value)
        if binding is None or binding.kind is not Kind.IMPORT:
            return None
        base = module.resolver.absolute(binding)
        dotted = f"{base}.{expr.attr}" if base else None
    if not dotted or "." not in dotted:
        return None
    name, _, attribute = dotted.rpartition(".")
    path = project.find(name, near=module.file_path)
    if path is None or (module.file_path is not None and path == module.file_path.resolve()):
        return None
    settings = module.settings

    def build(source, tree):  # type: ignore[no-untyped-def]
        return ModuleAnalysis(source, tree, settings, project, path)

    other = project.summary(path, build)
    if not isinstance(other, ModuleAnalysis):
        return None
    bindings = other.scope.bindings.get(attribute)
    if not bindings:
        return None
    node = bindings[-1].node
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return Callee(other, node)
    return None


def is_async_callable(module: ModuleAnalysis, expr: ast.expr) -> bool | None:
    """Whether calling ``expr`` returns an awaitable (``None``: unknown)."""
    found = callee(module, expr)
    if found is not None:
        if isinstance(found.func, ast.ClassDef):
            return False
        return found.is_async
    qualname = module.resolver.qualname(expr)
    if qualname is not None:
        entry = module.kb.lookup(qualname)
        if entry is not None:
            return entry.is_async
    return None


# -- is a value callable? ---------------------------------------------------------------------------

# Builtins whose result is never callable.
_NONCALLABLE_BUILTINS = frozenset(
    f"builtins.{n}" for n in (
        "str", "int", "float", "bool", "bytes", "bytearray", "complex", "len", "dict", "list",
        "tuple", "set", "frozenset", "sorted", "sum", "abs", "round", "repr", "format", "open",
        "print", "input", "hash", "id", "ord", "chr", "hex", "oct", "bin", "divmod", "pow",
        "isinstance", "issubclass", "hasattr", "all", "any", "ascii", "range", "enumerate",
        "zip", "reversed", "memoryview",
    )
)


# Annotations naming values that are never callable, or always callable.
_NONCALLABLE_TYPES = frozenset(
    f"builtins.{n}" for n in (
        "str", "int", "float", "bool", "bytes", "bytearray", "complex", "dict", "list", "tuple",
        "set", "frozenset", "None",
    )
) | frozenset(
    f"typing.{n}" for n in ("List", "Dict", "Set", "Tuple", "FrozenSet", "Mapping", "Sequence")
)
_CALLABLE_TYPES = frozenset({"typing.Callable", "collections.abc.Callable"})


def returns_callable(
    module: ModuleAnalysis, func: FunctionNode, depth: int = 0, awaited: bool = False
) -> bool | None:
    """Whether calling ``func`` gives a callable: a factory (True), a plain function (False).
    With ``awaited``, what awaiting the coroutine of an ``async def`` gives."""
    if isinstance(func, ast.AsyncFunctionDef) and not awaited:
        return False  # a coroutine
    if isinstance(func, ast.Lambda):
        return value_callable(module, func.body, depth + 1)
    if any(not _harmless_decorator(d) for d in func.decorator_list):
        return None
    declared = type_callable(module, func.returns)
    if declared is not None:
        return declared
    values: list[ast.expr | None] = []
    for node in walk_body(func, nested=False):
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return False  # a generator
        if isinstance(node, ast.Return):
            values.append(node.value)
    if not values:
        return False  # returns None
    results = {
        False if value is None else value_callable(module, value, depth + 1) for value in values
    }
    if results == {True}:
        return True
    if results == {False}:
        return False
    return None


def type_callable(module: ModuleAnalysis, annotation: ast.expr | None) -> bool | None:
    """What an annotation says about callability (``None``: nothing)."""
    if annotation is None:
        return None
    if isinstance(annotation, ast.Constant) and annotation.value is None:
        return False
    qualname = module.resolver.annotation_type(annotation)
    if qualname in _CALLABLE_TYPES:
        return True
    if qualname in _NONCALLABLE_TYPES:
        return False
    return None


def _harmless_decorator(decorator: ast.expr) -> bool:
    return isinstance(decorator, ast.Name) and decorator.id in ("staticmethod", "classmethod")


def value_callable(module: ModuleAnalysis, expr: ast.expr, depth: int = 0) -> bool | None:
    """Whether ``expr`` evaluates to something callable (``None``: cannot tell)."""
    if depth > 6:
        return None
    if isinstance(expr, ast.Lambda):
        return True
    if isinstance(
        expr,
        (ast.Constant, ast.JoinedStr, ast.Dict, ast.List, ast.Set, ast.Tuple, ast.ListComp,
         ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.BinOp, ast.Compare, ast.UnaryOp),
    ):
        return False
    resolver = module.resolver
    if isinstance(expr, ast.Name):
        definition = resolver.definition(expr)
        if definition is not None:
            return True
        binding = resolver.binding(expr)
        if binding is not None and binding.kind is Kind.ASSIGN and binding.value is not None:
            return value_callable(module, binding.value, depth + 1)
        if binding is not None and binding.kind is Kind.PARAM:
            return type_callable(module, getattr(binding.node, "annotation", None))
        return None
    if isinstance(expr, ast.Attribute):
        return True if resolver.definition(expr) is not None else None
    if isinstance(expr, ast.Call):
        return call_result_callable(module, expr, depth)
    return None


def call_result_callable(module: ModuleAnalysis, call: ast.Call, depth: int = 0) -> bool | None:
    qualname = module.resolver.qualname(call.func)
    if qualname == "functools.partial":
        return True
    if qualname in _NONCALLABLE_BUILTINS:
        return False
    found = callee(module, call.func)
    if found is not None:
        if isinstance(found.func, ast.ClassDef):
            return _instances_callable(found.func)
        return returns_callable(found.module, found.func, depth + 1)
    if qualname is not None and module.kb.lookup(qualname) is not None:
        return False  # a catalogued API: a response, a value, a task
    return None


def _instances_callable(cls: ast.ClassDef) -> bool | None:
    scope = own_scope(cls)
    if scope is not None and "__call__" in scope.bindings:
        return True
    if any(not (isinstance(b, ast.Name) and b.id == "object") for b in cls.bases):
        return None  # a base class may define __call__
    if cls.decorator_list:
        return None
    return False


CONTAINER_TYPES = frozenset(
    {
        "builtins.list", "builtins.dict", "builtins.set", "builtins.bytearray",
        "collections.deque", "collections.defaultdict", "collections.OrderedDict",
        "collections.Counter", "collections.ChainMap",
        "typing.List", "typing.Dict", "typing.Set", "typing.DefaultDict", "typing.Deque",
        "typing.OrderedDict", "typing.Counter", "typing.MutableMapping", "typing.MutableSequence",
        "typing.MutableSet", "collections.abc.MutableMapping", "collections.abc.MutableSequence",
        "collections.abc.MutableSet",
    }
)
MUTATORS = frozenset(
    {
        "append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse", "update",
        "setdefault", "popitem", "add", "discard", "difference_update", "intersection_update",
        "symmetric_difference_update", "appendleft", "extendleft", "popleft", "rotate",
    }
)


def is_container_value(module: ModuleAnalysis, value: ast.AST | None) -> bool:
    if isinstance(
        value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
    ):
        return True
    if isinstance(value, ast.Call):
        return module.resolver.qualname(value.func) in CONTAINER_TYPES
    return False


def is_container_binding(module: ModuleAnalysis, binding: Binding) -> bool:
    if binding.kind is Kind.ASSIGN:
        up = parent(binding.node)
        if (
            isinstance(up, ast.AnnAssign)
            and up.target is binding.node
            and module.resolver.annotation_type(up.annotation) in CONTAINER_TYPES
        ):
            return True
        return is_container_value(module, binding.value)
    if binding.kind is Kind.PARAM:
        annotation = getattr(binding.node, "annotation", None)
        return module.resolver.annotation_type(annotation) in CONTAINER_TYPES
    return False


def is_container_expr(module: ModuleAnalysis, expr: ast.AST) -> bool:
    """A name or ``self.attr`` known to hold a list/dict/set/deque/... ."""
    resolver = module.resolver
    if isinstance(expr, ast.Name):
        binding = resolver.binding(expr)
        return binding is not None and is_container_binding(module, binding)
    if isinstance(expr, ast.Attribute):
        attribute = resolver.self_attribute(expr)
        if attribute is not None:
            return is_container_binding(module, attribute)
    return False


# Methods that add an element to a container (the value is kept, not consumed).
APPENDERS = frozenset({"append", "extend", "insert", "add", "appendleft", "extendleft"})
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


class Consumption:
    """Is a value consumed: does it reach an ``await``, a call, a container that is used, a
    return ...? (A durable future nobody consumes is never awaited.)"""

    def __init__(self, module: ModuleAnalysis) -> None:
        self.module = module
        module.name_loads("")  # builds the shared index
        self.loads: dict[str, list[ast.Name]] = module.indexer.name_loads

    def consumed(self, expr: ast.AST, depth: int = 0) -> bool:
        if depth > 12:
            return True
        up = parent(expr)
        if up is None or isinstance(up, ast.Expr):
            return False
        if isinstance(up, ast.Call):
            func = up.func
            if (
                expr is not func
                and isinstance(func, ast.Attribute)
                and func.attr in APPENDERS
                and isinstance(func.value, ast.Name)
            ):
                binding = self.module.resolver.binding(func.value)
                if binding is not None and binding.kind is Kind.ASSIGN:
                    return self.name_used(func.value.id, binding.scope, func.value, depth + 1)
            return True
        if isinstance(
            up,
            (ast.keyword, ast.Starred, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp,
             ast.SetComp, ast.GeneratorExp, ast.DictComp),
        ):
            if isinstance(up, (ast.ListComp, ast.SetComp, ast.GeneratorExp)) and expr is not up.elt:
                return True
            if isinstance(up, ast.DictComp) and expr not in (up.key, up.value):
                return True
            return self.consumed(up, depth + 1)
        if isinstance(up, ast.IfExp):
            return expr is up.test or self.consumed(up, depth + 1)
        if isinstance(up, ast.NamedExpr):
            return self.consumed(up, depth + 1) or self._target_used(up.target, depth)
        if isinstance(up, (ast.Assign, ast.AnnAssign)):
            targets = up.targets if isinstance(up, ast.Assign) else [up.target]
            return any(self._target_used(t, depth) for t in targets)
        return True  # await, return, yield, lambda body, attribute, comparison, ...

    def _target_used(self, target: ast.expr, depth: int) -> bool:
        if not isinstance(target, ast.Name):
            return True  # stored on an object or unpacked: assume it is used
        return self.name_used(target.id, scope_of(target), target, depth + 1)

    def name_used(self, name: str, scope: Scope, store: ast.AST, depth: int) -> bool:
        """Whether a name bound at ``store`` is used (other than being appended to)."""
        if name in scope.declared_global or name in scope.declared_nonlocal:
            return True
        if scope.parent is None:
            return True  # module level
        in_loop = any(isinstance(a, _LOOPS) for a in ancestors_within(store, scope.node))
        where = position(store)
        rebound = None if in_loop else rebound_at(store, name)
        for load in self.loads.get(name, ()):
            if not scope_within(scope_of(load), scope.node):
                continue
            binding = lookup(scope_of(load), name)
            if binding is None or binding.scope is not scope:
                continue
            if not in_loop and position(load) < where:
                continue
            if rebound is not None and position(load) > rebound:
                continue  # sees the later assignment
            up = parent(load)
            if (
                isinstance(up, ast.Attribute)
                and up.attr in APPENDERS
                and isinstance(parent(up), ast.Call)
                and parent(up).func is up  # type: ignore[union-attr]
            ):
                continue
            if self.consumed(load, depth + 1):
                return True
        return False


def rebound_at(store: ast.AST, name: str) -> tuple[int, int] | None:
    """Where a later statement of the same block assigns ``name`` again (unconditionally)."""
    statement = parent(store)
    block_owner = parent(statement) if statement is not None else None
    if not isinstance(statement, (ast.Assign, ast.AnnAssign)) or block_owner is None:
        return None
    for field_name in ("body", "orelse", "finalbody"):
        block = getattr(block_owner, field_name, None)
        if isinstance(block, list) and statement in block:
            for later in block[block.index(statement) + 1 :]:
                targets = (
                    later.targets if isinstance(later, ast.Assign)
                    else [later.target] if isinstance(later, ast.AnnAssign) and later.value
                    else []
                )
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    value = later.value
                    end = (value.end_lineno or 0, value.end_col_offset or 0) if value else None
                    return end
            return None
    return None


# == moved from checks/ingress_support.py (ingress/keys family) ==
def uses_of(module: ModuleAnalysis, binding: Binding, within: ast.AST) -> list[ast.Name]:
    """Loads of the name that resolve to ``binding`` inside ``within``."""
    out = []
    for node in ast.walk(within):
        if (
            isinstance(node, ast.Name)
            and node.id == binding.name
            and isinstance(node.ctx, ast.Load)
            and module.resolver.binding(node) is binding
        ):
            out.append(node)
    return out


def target_handler(module: ModuleAnalysis, expr: ast.AST | None) -> Handler | None:
    """The handler a call's first argument (``tpe``) names, in this module or the tree."""
    if expr is None:
        return None
    definition = module.resolver.definition(expr)
    if definition is not None:
        return module.model.handler_of(definition)
    qualname = module.resolver.qualname(expr)
    if qualname is None or module.project is None:
        return None
    return _find_handler(module, qualname)


def _find_handler(module: ModuleAnalysis, dotted: str) -> Handler | None:
    """A handler defined at module level in another module of the linted tree."""
    project = module.project
    assert project is not None
    name, _, attribute = dotted.rpartition(".")
    if not name:
        return None
    path = project.find(name, near=module.file_path)
    if path is None or (module.file_path is not None and path == module.file_path.resolve()):
        return None
    settings = module.settings

    def build(source: SourceFile, tree: ast.Module) -> object:
        return ModuleAnalysis(source, tree, settings, project, path)

    other = project.summary(path, build)
    if not isinstance(other, ModuleAnalysis):
        return None
    bindings = other.scope.bindings.get(attribute)
    if not bindings or bindings[-1].kind is not Kind.DEF:
        return None
    return other.model.handler_of(bindings[-1].node)



# == moved from checks/replacements.py / handler_calls.py (nondeterminism family) ==

def is_durable(model: HandlerModel, expr: ast.AST | None, depth: int = 0) -> bool:
    """Whether ``expr`` is (or holds) a durable future made by the framework's context: a
    durable context method's result, or a collection, comprehension or variable holding one
    (including ``futures.append(ctx.run_typed(...))``)."""
    if expr is None or depth > 6:
        return False
    if isinstance(expr, ast.Call):
        func = expr.func
        if not isinstance(func, ast.Attribute):
            return False
        attr = func.attr  # the cheap name tests first: finding the context costs more
        if any(attr in fw.durable for fw in model.frameworks):
            framework = model.context_framework(func.value)
            if framework is not None and attr in framework.durable:
                return True
        inner = func.value.func if isinstance(func.value, ast.Call) else None
        if not isinstance(inner, ast.Attribute) or not any(  # ctx.promise("x").value()
            attr in durable_result_methods(fw).get(inner.attr, ()) for fw in model.frameworks
        ):
            return False
        framework = model.context_framework(inner.value)
        return framework is not None and attr in durable_result_methods(framework).get(
            inner.attr, ())
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return any(is_durable(model, e, depth + 1) for e in expr.elts)
    if isinstance(expr, ast.Starred):
        return is_durable(model, expr.value, depth + 1)
    if isinstance(expr, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return is_durable(model, expr.elt, depth + 1)
    if isinstance(expr, ast.Name):
        binding = model.resolver.binding(expr)
        if binding is None or binding.kind is not Kind.ASSIGN:
            return False
        if is_durable(model, binding.value, depth + 1):
            return True
        return _appended_durable(model, expr, depth)
    return False


def durable_result_methods(fw: Framework) -> Mapping[str, Sequence[str]]:
    """Context methods whose result has methods returning a durable future, by context
    method (``[tables.nondeterminism] durable_result_methods``: ``ctx.promise(...).value()``)."""
    table: Mapping[str, Sequence[str]] = fw.table("nondeterminism").get(
        "durable_result_methods", {})
    return table


# Methods that put a value into a list or set.
_COLLECTING_METHODS = frozenset({"append", "extend", "insert", "add"})


def _appended_durable(model: HandlerModel, name: ast.Name, depth: int) -> bool:
    """``futures.append(ctx.run_typed(...))`` somewhere in the scope that binds ``futures``."""
    for call in model.index.calls:
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in _COLLECTING_METHODS
            and isinstance(func.value, ast.Name)
            and func.value.id == name.id
            and scope_of(func.value) is scope_of(name)
            and any(is_durable(model, a, depth + 1) for a in call.args)
        ):
            return True
    return False



# == moved from checks/hygiene.py (hygiene family) ==
