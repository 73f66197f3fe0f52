"""Generic questions about Python syntax trees, independent of any framework or rule:
arguments of a call, walking a function body, positions, literal values."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .scopes import (
    FUNCTION_NODES,
    Binding,
    FunctionNode,
    Scope,
    children,
    own_scope,
    parent,
    scope_of,
)

# == moved from checks/action_support.py (actions family) ==


def scope_within(scope: Scope | None, func: ast.AST) -> bool:
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
    if not scope_of(func).is_class:
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


def ancestors_within(node: ast.AST, stop: ast.AST) -> Iterator[ast.AST]:
    """The parents of ``node`` up to (not including) ``stop``."""
    current = parent(node)
    while current is not None and current is not stop:
        yield current
        current = parent(current)


def assigned_targets(node: ast.AST) -> list[ast.expr]:
    """The names, attributes and subscripts a statement assigns or deletes (unpacked)."""
    if isinstance(node, (ast.Assign, ast.Delete)):
        raw = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        raw = [node.target] if not (isinstance(node, ast.AnnAssign) and node.value is None) else []
    else:
        return []
    out: list[ast.expr] = []
    while raw:
        target = raw.pop(0)
        if isinstance(target, (ast.Tuple, ast.List)):
            raw.extend(target.elts)
        elif isinstance(target, ast.Starred):
            raw.append(target.value)
        else:
            out.append(target)
    return out



# == moved from checks/ingress_support.py (ingress/keys family) ==
def argument(call: ast.Call, index: int | None, *names: str) -> ast.expr | None:
    """The argument given by one of ``names`` as a keyword, else at position ``index`` (if no
    ``*args`` comes before it). Keyword first: a call cannot give both."""
    for kw in call.keywords:
        if kw.arg in names:
            return kw.value
    if (
        index is not None
        and index < len(call.args)
        and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1])
    ):
        return call.args[index]
    return None


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    """The keyword argument ``name=`` of a call."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw
    return None


def has_unpacking(call: ast.Call) -> bool:
    """Whether the call passes ``*args`` or ``**kwargs`` (arguments we cannot see)."""
    return any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    )


def call_items(call: ast.Call) -> list[ast.AST]:
    """Positional and keyword arguments in source order."""
    items: list[ast.AST] = [*call.args, *call.keywords]
    return sorted(items, key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]


def is_none(expr: ast.AST | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def string_value(expr: ast.AST | None) -> str | None:
    """The value of a string literal."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return None


def unwrap_str(expr: ast.expr) -> ast.expr:
    """``str(x)`` -> ``x`` (keys are often wrapped)."""
    while (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "str"
        and len(expr.args) == 1
        and not expr.keywords
    ):
        expr = expr.args[0]
    return expr


def walk_function(func: FunctionNode) -> Iterator[ast.AST]:
    """Every node of a function body, nested functions included."""
    body: list[ast.AST] = [func.body] if isinstance(func, ast.Lambda) else list(func.body)
    for stmt in body:
        yield from ast.walk(stmt)


def inside(node: ast.AST, container: ast.AST) -> bool:
    """Whether ``node`` is ``container`` or below it (by parent links)."""
    current: ast.AST | None = node
    while current is not None:
        if current is container:
            return True
        current = parent(current)
    return False


def before(a: ast.AST, b: ast.AST) -> bool:
    """Whether ``a`` starts before ``b`` in the source."""
    return (getattr(a, "lineno", 0), getattr(a, "col_offset", 0)) < (
        getattr(b, "lineno", 0), getattr(b, "col_offset", 0)
    )



# == moved from checks/replacements.py / handler_calls.py (nondeterminism family) ==

def contains_await(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Await) for n in ast.walk(node))


_SIMPLE_STATEMENTS = (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return)


def enclosing_simple_statement(node: ast.AST) -> ast.stmt | None:
    """The statement holding ``node`` if it is a simple one (an expression, an assignment or
    a return), else None."""
    current: ast.AST | None = node
    while current is not None and not isinstance(current, ast.stmt):
        current = parent(current)
    if not isinstance(current, _SIMPLE_STATEMENTS):
        return None
    return current



# == moved from checks/hygiene.py (hygiene family) ==
class Span(ast.AST):
    """A synthetic node covering a range, for a finding on part of a statement (the
    ``except`` keyword of a handler clause)."""

    _fields = ()
    lineno: int
    col_offset: int
    end_lineno: int | None
    end_col_offset: int | None

    def __init__(self, line: int, col: int, end_line: int, end_col: int) -> None:
        super().__init__()
        self.lineno, self.col_offset = line, col
        self.end_lineno, self.end_col_offset = end_line, end_col


def own_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Nodes of statements in preorder, without the bodies of functions and classes defined
    there (they run when called, not here)."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (*FUNCTION_NODES, ast.ClassDef)):
            continue
        stack.extend(reversed(children(node)))


def one_line(text: str) -> str:
    """Source text as a message shows it: every run of whitespace (line breaks, indentation)
    collapsed to one space."""
    return " ".join(text.split())


# == moved from checks/keys.py (keys family) ==
def binding_created_by(target: ast.Name) -> Binding | None:
    """The binding a ``Store`` name creates (``h`` in ``h = ...``)."""
    for binding in scope_of(target).bindings.get(target.id, []):
        if binding.node is target:
            return binding
    return None
