"""IDL505 workflow-task-failure-exception."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...diagnostics import Finding
from ...model import Handler
from ...registry import Invalid, Rule, Valid
from ...scopes import FUNCTION_NODES, parent
from ._shared import HygieneTables, durable_nodes, hygiene_tables

# An exception type as far as the module tells: the keys of its classes, most derived first
# (a qualified name, or ``local:<id>`` for a class defined in the module).
Ancestry = list[str]


class WorkflowTaskFailureException(Rule):
    """
    ## What it does
    Reports `raise X(...)` in a workflow's run, signal or update handler (and the helpers they
    call) when `X` is known not to be a Temporal failure: a built-in exception such as
    `ValueError`, `KeyError` or `RuntimeError`, or a class of the module deriving from one — and
    `failure_exception_types=` on the `@workflow.defn` does not list it (or a base of it).

    Not reported: `temporalio.exceptions` failures (`ApplicationError`, ...) and classes
    deriving from them, `TimeoutError` / `asyncio.TimeoutError` and `asyncio.CancelledError`
    (the SDK converts them), a bare `raise` or `raise error` (the type is not known), exceptions
    caught by an enclosing `try` of the same function, classes imported from elsewhere, update
    validators (raising rejects the update, as intended) and queries (raising fails the query
    only), activity code, and workflows with a `@workflow.dynamic_config` method (which can set
    the failure types at run time).

    ## Why is this bad?
    The worker decides what an exception leaving workflow code means in
    `workflow_is_failure_exception` (`temporalio/worker/_workflow_instance.py`): a
    `temporalio.exceptions.FailureError`, an `asyncio.TimeoutError`, or an instance of a type in
    `failure_exception_types` (of the `@workflow.defn` or of the worker) fails the workflow (or
    the update); `asyncio.CancelledError` is first turned into a Temporal `CancelledError`. Any
    other exception fails the *workflow task*: the workflow does not fail, it stays running and
    the task is retried — forever, until a code change lets it pass. A `ValueError("invalid
    order")` meant to fail the workflow never does; a caller waiting for the result waits for
    good.

    Severity is warning: the worker's own `workflow_failure_exception_types=` cannot be seen
    from the workflow's module, and retrying the task until a fix is deployed is sometimes what
    is wanted (a bug, not bad input).

    ## Use instead
    Raise `temporalio.exceptions.ApplicationError` (with `non_retryable=True` when retrying the
    workflow cannot help), or list the type in `@workflow.defn(failure_exception_types=[...])`.

    ## Fix safety
    No fix: which failure the workflow should report is a decision.

    ## Options
    None.

    ## Temporal
    Temporal only (Restate has no task failure distinct from the handler's: an exception
    retries the invocation, a `TerminalError` ends it).
    """

    code = "IDL505"
    name = "workflow-task-failure-exception"
    summary = "Workflow handler raises an exception that fails the workflow task, not the workflow"
    severity = "warning"
    frameworks = ("temporal",)
    VALID = [
        Valid("""
            import asyncio
            from datetime import timedelta

            from temporalio import activity, workflow
            from temporalio.exceptions import ApplicationError


            class OrderRejected(ApplicationError):
                pass


            @activity.defn
            async def reserve(item: str) -> None:
                raise ValueError("activity code: retried by its retry policy")


            @workflow.defn
            class Order:
                def __init__(self) -> None:
                    self.items: list[str] = []

                @workflow.run
                async def run(self, item: str) -> str:
                    if not item:
                        raise ApplicationError("empty order", non_retryable=True)
                    if item == "late":
                        raise TimeoutError("converted by the SDK")
                    try:
                        int(item)
                        raise ValueError("caught below")
                    except ValueError:
                        pass
                    await workflow.execute_activity(
                        reserve, item, start_to_close_timeout=timedelta(seconds=5)
                    )
                    raise OrderRejected("sold out")

                @workflow.update
                async def add(self, item: str) -> None:
                    self.items.append(item)

                @add.validator
                def check_add(self, item: str) -> None:
                    if not item:
                        raise ValueError("rejects the update")

                @workflow.query
                def count(self) -> int:
                    if not self.items:
                        raise KeyError("fails the query only")
                    return len(self.items)
            """, note="Temporal failures, converted types, caught, validators, queries, activities"),
        Valid("""
            from temporalio import workflow


            class StockError(ValueError):
                pass


            @workflow.defn(failure_exception_types=[ValueError])
            class Stock:
                @workflow.run
                async def run(self, count: int) -> int:
                    if count < 0:
                        raise StockError("negative")
                    if count == 0:
                        raise ValueError("empty")
                    return count
            """, note="listed in failure_exception_types (a base covers subclasses)", doc=True),
    ]
    INVALID = [
        Invalid(
            """
            from temporalio import workflow


            @workflow.defn
            class Stock:
                @workflow.run
                async def run(self, count: int) -> int:
                    if count < 0:
                        raise ValueError("negative stock")
                    return count
            """,
            ((9, 13),),
            message="`ValueError` fails the workflow task (retried forever), not the workflow",
            doc=True,
        ),
        Invalid(
            """
            import contextlib

            import temporalio.workflow as wf


            class OrderError(Exception):
                pass


            def check(order: str) -> None:
                for part in order.split(","):
                    if not part:
                        raise OrderError(order)


            @wf.defn
            class Orders:
                def __init__(self) -> None:
                    self.orders: list[str] = []

                @wf.run
                async def run(self) -> int:
                    await wf.wait_condition(lambda: len(self.orders) > 2)
                    return len(self.orders)

                @wf.signal
                def add(self, order: str) -> None:
                    check(order)
                    self.orders.append(order)

                @wf.update
                async def remove(self, order: str) -> None:
                    try:
                        self._remove(order)
                    finally:
                        pass

                def _remove(self, order: str) -> None:
                    with contextlib.nullcontext():
                        if order not in self.orders:
                            raise KeyError(order)
                    self.orders.remove(order)
            """,
            ((13, 13), (41, 17)),
            note="aliased import: a helper function from a signal, a helper method from an update",
        ),
        Invalid(
            """
            from temporalio.workflow import defn, run


            @defn(failure_exception_types=[KeyError])
            class Lookup:
                @run
                async def main(self, key: str) -> str:
                    if key == "":
                        raise KeyError(key)
                    raise RuntimeError(f"no value for {key}")
            """,
            ((10, 9),),
            note="from-imported; KeyError is listed, RuntimeError is not",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        listed: dict[int, list[str] | None] = {}
        for unit, framework, node in durable_nodes(module, self.frameworks):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            handler = unit.root.handler
            tables = hygiene_tables(module, framework)
            if handler is None or handler.role not in tables.task_failure_roles:
                continue
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            ancestry = _ancestry(module, raised, tables.failure_exceptions)
            if ancestry is None or _caught(module, node, ancestry):
                continue
            cls = handler.cls
            if cls is None:
                continue
            if id(cls) not in listed:
                listed[id(cls)] = _failure_types(module, handler, tables)
            covered = listed[id(cls)]
            if covered is None or any(key in covered for key in ancestry):
                continue
            shown = module.text(raised)
            advice = tables.failure_advice or "raise a failure the framework reports"
            yield module.finding(
                self,
                node,
                f"`{shown}` fails the workflow task (retried forever), not the workflow; {advice}",
                detail=(
                    f"An exception leaving a workflow's {handler.role} handler fails the "
                    "workflow (or the update) only if it is one of the framework's failures, "
                    "a converted timeout or cancellation, or listed in the workflow's failure "
                    f"types; `{shown}` is none of these, so the workflow task fails and is "
                    "retried until the code changes, while the workflow stays open."
                ),
            )


def _key(module: ModuleAnalysis, expr: ast.expr) -> str | None:
    definition = module.resolver.definition(expr)
    if isinstance(definition, ast.ClassDef):
        return f"local:{id(definition)}"
    return module.resolver.qualname(expr)


def _ancestry(
    module: ModuleAnalysis, expr: ast.expr, failures: frozenset[str], depth: int = 0
) -> Ancestry | None:
    """The class keys of the exception type ``expr`` names, when it is known to be no
    failure of the framework (None: a failure, or not known)."""
    if depth > 8:
        return None
    definition = module.resolver.definition(expr)
    if isinstance(definition, ast.ClassDef):
        out = [f"local:{id(definition)}"]
        for base in definition.bases:
            inherited = _ancestry(module, base, failures, depth + 1)
            if inherited is None:
                return None
            out.extend(inherited)
        return out if definition.bases else None
    qualname = module.resolver.qualname(expr)
    if qualname is None or qualname in failures or not qualname.startswith("builtins."):
        return None
    python_type = getattr(builtins, qualname.removeprefix("builtins."), None)
    if not isinstance(python_type, type) or not issubclass(python_type, Exception):
        return None
    if any(f"builtins.{c.__name__}" in failures for c in python_type.__mro__):
        return None
    return [f"builtins.{c.__name__}" for c in python_type.__mro__ if c.__module__ == "builtins"]


def _caught(module: ModuleAnalysis, node: ast.Raise, ancestry: Ancestry) -> bool:
    """An enclosing ``try`` of the same function catches the raised type."""
    child: ast.AST = node
    current = parent(node)
    while current is not None and not isinstance(current, FUNCTION_NODES):
        if isinstance(current, (ast.Try, ast.TryStar)) and child in current.body:
            for handler in current.handlers:
                if handler.type is None:
                    return True
                kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [
                    handler.type]
                for kind in kinds:
                    key = _key(module, kind)
                    if key in ancestry or key == "builtins.BaseException":
                        return True
        child, current = current, parent(current)
    return False


def _failure_types(
    module: ModuleAnalysis, handler: Handler, tables: HygieneTables
) -> list[str] | None:
    """The keys of ``failure_exception_types=[...]`` on the workflow class ([] when absent;
    None when they cannot be known: not a literal list, or set at run time)."""
    cls = handler.cls
    assert cls is not None
    if tables.dynamic_config is not None:
        for item in cls.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                module.resolver.qualname(d.func if isinstance(d, ast.Call) else d)
                == tables.dynamic_config
                for d in item.decorator_list
            ):
                return None
    keyword = tables.failure_types_keyword
    for decorator in cls.decorator_list:
        if not isinstance(decorator, ast.Call):
            continue
        for kw in decorator.keywords:
            if kw.arg is None:
                return None  # **options
            if kw.arg != keyword:
                continue
            if not isinstance(kw.value, (ast.List, ast.Tuple)):
                return None
            keys = [_key(module, elt) for elt in kw.value.elts]
            if any(key is None for key in keys):
                return None
            return [key for key in keys if key is not None]
    return []
