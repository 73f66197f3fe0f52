"""Whether awaiting an expression can suspend the invocation (raise the SDK's signal): the
question IDL501 asks of a ``try`` body, apart from what it then reports about the ``except``."""

from __future__ import annotations

import ast

from ...analysis import ModuleAnalysis
from ...dataflow import is_durable
from ...syntax import own_nodes
from ._shared import HygieneTables


class Suspension:
    """Can awaiting this expression suspend the invocation (raise the SDK's signal)?"""

    def __init__(self, module: ModuleAnalysis, tables: HygieneTables) -> None:
        self.module = module
        self.model = module.model
        self.combinators = frozenset(self.model.fw.combinators.values())
        self.every_await = tables.every_await_suspends
        self.raisers = tables.base_exception_raisers
        self._units: dict[int, bool] = {}

    def awaits(self, body: list[ast.stmt], depth: int = 0) -> ast.expr | ast.AsyncFor | None:
        for node in own_nodes(body):
            if isinstance(node, ast.Await) and self.suspends(node.value, depth):
                return node
            if isinstance(node, ast.AsyncFor) and self.suspends(node.iter, depth):
                return node
            if (
                self.raisers
                and isinstance(node, ast.Call)
                and self.module.resolver.qualname(node.func) in self.raisers
            ):
                return node  # raises the SDK's BaseException without awaiting
        return None

    def suspends(self, expr: ast.AST, depth: int) -> bool:
        if self.every_await:
            return self._local_suspends(expr, depth) is not False
        model = self.model
        if is_durable(model, expr):
            return True
        if not isinstance(expr, ast.Call):
            return False
        func = expr.func
        if isinstance(func, ast.Attribute) and model.is_context(func.value):
            return True
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Call)
            and self.suspends(func.value, depth)  # ctx.promise("p").value()
        ):
            return True
        if self.module.resolver.qualname(func) in self.combinators:
            return True
        values = [*expr.args, *(k.value for k in expr.keywords)]
        if any(model.is_context(v) or is_durable(model, v) for v in values):
            return True  # a helper given the context, asyncio.gather(ctx.run_typed(...))
        return self._local_suspends(expr, depth) is True

    def _local_suspends(self, expr: ast.AST, depth: int) -> bool | None:
        """For a call of a local function: whether its body awaits something that suspends
        (None: not a local function)."""
        if not isinstance(expr, ast.Call):
            return None
        definition = self.module.resolver.definition(expr.func)
        if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)) or depth >= 4:
            return None
        key = id(definition)
        if key not in self._units:
            self._units[key] = False  # recursion guard
            self._units[key] = self.awaits(definition.body, depth + 1) is not None
        return self._units[key]
