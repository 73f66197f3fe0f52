"""Data-flow questions rules share: what a value is (a durable future, a mutable container,
a callable), whether it is consumed, which function a call reaches, which values are
regenerated on every evaluation. Framework knowledge comes from the knowledge base."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence

from .knowledge import Framework
from .model import HandlerModel
from .scopes import Kind, scope_of

# == moved from checks/action_support.py (actions family) ==


# == moved from checks/ingress_support.py (ingress/keys family) ==


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
        if func.attr in model.fw.durable and model.is_context(func.value):
            return True
        inner = func.value.func if isinstance(func.value, ast.Call) else None
        return (  # ctx.promise("x").value()
            isinstance(inner, ast.Attribute)
            and func.attr in durable_result_methods(model.fw).get(inner.attr, ())
            and model.is_context(inner.value)
        )
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
