"""Generic questions about Python syntax trees, independent of any framework or rule:
arguments of a call, walking a function body, positions, literal values."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .scopes import FunctionNode, parent

# == moved from checks/action_support.py (actions family) ==


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


# == moved from checks/hygiene.py (hygiene family) ==
