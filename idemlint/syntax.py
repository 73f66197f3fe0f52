"""Generic questions about Python syntax trees, independent of any framework or rule:
arguments of a call, walking a function body, positions, literal values."""

from __future__ import annotations

import ast

from .scopes import parent

# == moved from checks/action_support.py (actions family) ==


# == moved from checks/ingress_support.py (ingress/keys family) ==


# == moved from checks/replacements.py / handler_calls.py (nondeterminism family) ==

def call_argument(call: ast.Call, index: int, *keywords: str) -> ast.expr | None:
    """The argument at ``index`` if passed positionally, else the first keyword named in
    ``keywords`` (positional first: a call passes a parameter one way or the other)."""
    if len(call.args) > index:
        return call.args[index]
    for keyword in call.keywords:
        if keyword.arg in keywords:
            return keyword.value
    return None


def plain_call(node: ast.AST) -> ast.Call | None:
    """``node`` if it is a call without ``*args`` or ``**kwargs`` (its arguments can be read)."""
    if (
        isinstance(node, ast.Call)
        and not any(isinstance(a, ast.Starred) for a in node.args)
        and not any(k.arg is None for k in node.keywords)
    ):
        return node
    return None


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
