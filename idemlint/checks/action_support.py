"""Shared analysis for the journaled-action and handler-hygiene rules (IDL2xx, IDL5xx).

Answers questions the handler model does not answer directly:
- which parameters of an action's body are bound at the action site (arguments forwarded by
  ``run_typed``, ``functools.partial`` arguments, the instance of a bound method, defaults);
- does an expression inside an action evaluate to the *outer* Restate context;
- which function a call reaches, in this module or in another module of the linted tree;
- is a value callable, does a call return a coroutine, is a name a mutable container.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..analysis import ModuleAnalysis
from ..model import Action, HandlerModel
from ..scopes import FUNCTION_NODES, Binding, FunctionNode, Kind, Scope, children, own_scope, parent
from ..scopes import scope_of as _scope_of

# -- small AST helpers --------------------------------------------------------------------------


def inside(scope: Scope | None, func: ast.AST) -> bool:
    """Whether ``scope`` is the scope ``func`` opens, or one nested in it."""
    target = own_scope(func)
    if target is None:
        return False
    while scope is not None:
        if scope is target:
            return True
        scope = scope.parent
    return False


def walk_body(func: FunctionNode, nested: bool = True) -> Iterator[ast.AST]:
    """Nodes of a function body; with ``nested=False`` the bodies of inner functions are
    skipped (the inner function nodes themselves, their defaults and decorators are kept)."""
    stack: list[ast.AST] = [func.body] if isinstance(func, ast.Lambda) else list(func.body)
    stack.reverse()
    while stack:
        node = stack.pop()
        yield node
        if not nested and isinstance(node, (*FUNCTION_NODES, ast.ClassDef)):
            if isinstance(node, FUNCTION_NODES):
                stack.extend(d for d in (*node.args.defaults, *node.args.kw_defaults) if d)
            if not isinstance(node, ast.Lambda):
                stack.extend(node.decorator_list)
            continue
        stack.extend(reversed(children(node)))


def positional_params(func: FunctionNode) -> list[ast.arg]:
    return [*func.args.posonlyargs, *func.args.args]


def param_default(func: FunctionNode, arg: ast.arg) -> ast.expr | None:
    """The default value of a parameter, if it has one."""
    args = func.args
    positional = positional_params(func)
    if arg in positional:
        index = positional.index(arg) - (len(positional) - len(args.defaults))
        return args.defaults[index] if index >= 0 else None
    if arg in args.kwonlyargs:
        return args.kw_defaults[args.kwonlyargs.index(arg)]
    return None


def is_method(func: ast.AST) -> bool:
    """A function defined in a class body that receives the instance first."""
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    if not _scope_of(func).is_class:
        return False
    for decorator in func.decorator_list:
        if isinstance(decorator, ast.Name) and decorator.id in ("staticmethod", "classmethod"):
            return False
    return True


def root_name(expr: ast.AST) -> ast.Name | None:
    """``a`` for ``a``, ``a.b.c``, ``a[1].b``; ``None`` for anything else."""
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        expr = expr.value
    return expr if isinstance(expr, ast.Name) else None


def is_simple(expr: ast.AST) -> bool:
    """An argument whose evaluation has no side effect and cannot raise surprisingly."""
    if isinstance(expr, (ast.Name, ast.Constant)):
        return True
    if isinstance(expr, ast.Attribute):
        return is_simple(expr.value)
    if isinstance(expr, ast.Subscript):
        return is_simple(expr.value) and is_simple(expr.slice)
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return all(is_simple(e) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return all(k is None or is_simple(k) for k in expr.keys) and all(
            is_simple(v) for v in expr.values
        )
    if isinstance(expr, ast.keyword):
        return is_simple(expr.value)
    if isinstance(expr, ast.UnaryOp):
        return is_simple(expr.operand)
    return False


def plain_call(call: ast.Call) -> bool:
    """No ``*args`` / ``**kwargs`` in the call."""
    return not any(isinstance(a, ast.Starred) for a in call.args) and all(
        k.arg is not None for k in call.keywords
    )


def action_label(module: ModuleAnalysis, action: Action) -> str:
    name = action.name
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return f'`"{name.value}"`'
    return f"at line {action.call.lineno}"


# -- functions reached by a call, here or in another module of the tree ---------------------------


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


# -- the outer context inside an action ---------------------------------------------------------


@dataclass
class Frame:
    """A function running inside a journaled action, with the arguments bound to its
    parameters at the call site (each with the frame it is evaluated in; ``None`` is the
    handler code that starts the action)."""

    func: FunctionNode
    sources: dict[int, tuple[ast.expr, Frame | None]] = field(default_factory=dict)


def action_frames(model: HandlerModel, action: Action) -> list[Frame]:
    """One frame per body of the action, with the parameters bound at the action site."""
    frames: list[Frame] = []
    expr = action.action
    for target in action.targets:
        frame = Frame(target)
        params = positional_params(target)
        by_name = {a.arg: a for a in (*params, *target.args.kwonlyargs)}
        index = 0
        direct = expr is not None and model.resolver.definition(expr) is target
        if direct and isinstance(expr, ast.Attribute) and is_method(target) and params:
            frame.sources[id(params[0])] = (expr.value, None)  # the bound instance
            index = 1
        if (
            direct
            and isinstance(expr, ast.Call)
            and model.resolver.qualname(expr.func) == "functools.partial"
        ):
            inner = expr.args[0] if expr.args else None
            if isinstance(inner, ast.Attribute) and is_method(target) and params:
                frame.sources[id(params[0])] = (inner.value, None)
                index = 1
            index = _bind(frame, params, by_name, expr.args[1:], expr.keywords, index)
        if direct:
            positional, keywords = forwarded_arguments(action)
            _bind(frame, params, by_name, positional, keywords, index)
        frames.append(frame)
    return frames


def forwarded_arguments(action: Action) -> tuple[list[ast.expr], list[ast.keyword]]:
    """Arguments the SDK passes to the action: ``run_typed``'s extra arguments, ``run``'s
    ``args=(...)``."""
    spec, call = action.spec, action.call
    if spec.forwards:
        start = (spec.options if spec.options is not None else spec.action) + 1
        return list(call.args[start:]), list(call.keywords)
    if spec.args_keyword:
        for keyword in call.keywords:
            if keyword.arg == spec.args_keyword and isinstance(keyword.value, ast.Tuple):
                return list(keyword.value.elts), []
    return [], []


def _bind(
    frame: Frame,
    params: list[ast.arg],
    by_name: dict[str, ast.arg],
    args: list[ast.expr],
    keywords: list[ast.keyword],
    index: int,
    source_frame: Frame | None = None,
) -> int:
    for arg in args:
        if isinstance(arg, ast.Starred):
            return index + len(args)
        if index < len(params):
            frame.sources[id(params[index])] = (arg, source_frame)
        index += 1
    for keyword in keywords:
        if keyword.arg in by_name:
            frame.sources[id(by_name[keyword.arg])] = (keyword.value, source_frame)
    return index


def call_frame(model: HandlerModel, call: ast.Call, func: FunctionNode, caller: Frame) -> Frame:
    """The frame of ``func`` called by ``call`` from code running in ``caller``."""
    frame = Frame(func)
    params = positional_params(func)
    by_name = {a.arg: a for a in (*params, *func.args.kwonlyargs)}
    index = 0
    if isinstance(call.func, ast.Attribute) and is_method(func) and params:
        frame.sources[id(params[0])] = (call.func.value, caller)
        index = 1
    _bind(frame, params, by_name, call.args, call.keywords, index, caller)
    return frame


def parameter_value(binding: Binding, frame: Frame) -> tuple[ast.AST, Frame | None] | None:
    """What a parameter of a function running in ``frame`` holds: the argument the call (or
    run_typed's forwarding) bound to it, with the frame that argument is evaluated in; else
    its default, evaluated in ``frame``; None when neither is known."""
    arg = binding.node
    assert isinstance(arg, ast.arg)
    source = frame.sources.get(id(arg))
    if source is not None:
        return source
    owner = binding.scope.node
    if isinstance(owner, FUNCTION_NODES):
        default = param_default(owner, arg)
        if default is not None:
            return default, frame
    return None


def outer_context(
    model: HandlerModel, expr: ast.AST | None, frame: Frame | None, depth: int = 0
) -> bool:
    """Whether ``expr``, evaluated in ``frame``, is the Restate context of the handler."""
    if expr is None or depth > 10:
        return False
    if frame is None:
        return model.is_context(expr)
    if isinstance(expr, ast.Name):
        binding = model.resolver.binding(expr)
        if binding is None:
            return False
        if not inside(binding.scope, frame.func):
            return model.is_context(expr)
        if binding.kind is Kind.PARAM:
            value = parameter_value(binding, frame)
            if value is not None:
                return outer_context(model, value[0], value[1], depth + 1)
            if binding.scope.node is not frame.func and isinstance(binding.node, ast.arg):
                # a function nested in the action: the model follows calls to it
                return model.is_context_param(binding.node)
            return False
        if binding.kind is Kind.ASSIGN and binding.value is not None:
            return outer_context(model, binding.value, frame, depth + 1)
        return False
    if isinstance(expr, ast.Attribute):
        if isinstance(expr.value, ast.Name):
            base = model.resolver.binding(expr.value)
            if (
                base is not None
                and base.kind is Kind.PARAM
                and inside(base.scope, frame.func)
                and model.resolver.self_attribute(expr) is None
            ):
                return False
        return model.is_context(expr)
    if isinstance(expr, ast.Call):
        if isinstance(expr.func, ast.Attribute) and expr.func.attr == "scope":
            return outer_context(model, expr.func.value, frame, depth + 1)
        return model.is_context(expr)  # restate's contextvar getters: the handler's context
    if isinstance(expr, ast.Await):
        return outer_context(model, expr.value, frame, depth + 1)
    return False


# -- mutable containers -------------------------------------------------------------------------

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
