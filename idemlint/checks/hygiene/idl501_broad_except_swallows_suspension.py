"""IDL501 broad-except-swallows-suspension."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...diagnostics import Edit, Finding, Fix
from ...fixes.context import FixContext
from ...registry import Invalid, Rule, Valid
from ...syntax import Span, own_nodes
from ._shared import durable_nodes, hygiene_tables
from ._suspension import Suspension

# Python's own BaseException subclasses: an ``except`` body naming one relies on catching more
# than ``Exception`` (the SDK's names are added from the knowledge base).
_PYTHON_BASE_ONLY = frozenset(
    {
        "BaseException", "KeyboardInterrupt", "SystemExit", "GeneratorExit", "CancelledError",
        "BaseExceptionGroup",
    }
)


class BroadExceptSwallowsSuspension(Rule):
    """
    ## What it does
    Reports, in handler code, a bare `except:` or an `except BaseException` (also in a tuple, or
    `builtins.BaseException`) whose `try` body awaits something that can suspend the invocation and
    that does not re-raise.

    "Can suspend": awaiting a durable future (`await ctx.run_typed(...)`, `ctx.sleep`, calls, state
    reads, promises, a name holding one), a Restate combinator (`restate.gather`, `select`,
    `wait_completed`, `async for ... in restate.as_completed(...)`), a call given the context or a
    durable future (`await settle(ctx)`, `asyncio.gather(ctx.run_typed(...))`), or a local helper
    that awaits one of these.

    "Re-raises": a bare `raise`, `raise e` or `raise ... from e` with the caught name, anywhere in
    the `except` body (e.g. the recommended `if restate.is_internal_exception(e): raise`).

    ## Why is this bad?
    While it waits, the SDK signals suspension by raising `SuspendedException`, and internal
    failures with `SdkInternalException`; both derive from `SdkInternalBaseException(BaseException)`
    (`restate/exceptions.py`), precisely so that `except Exception` does not catch them. A bare
    `except:` does: the handler goes on running after its invocation was suspended, or turns the
    suspension into another exception. The SDK finds its signal only in the `__cause__` chain
    (`raise X from e`). Observed on a real Restate 1.7 server with the request/response protocol
    (`tests/replay`, see the [proof page](../proof.md)): the code inside the bare `except:` ran
    although nothing had failed — the suspension was caught as if it were an error. (A
    `raise TerminalError(...)` inside it did not fail the invocation there: on the next attempt the
    journal had the awaited result and the handler completed, so the damage is the handler code
    that ran on a false error, not a lost invocation.)

    ## Use instead
    Catch `Exception`, or better the exception you expect (`TerminalError` for a failure Restate
    will not retry). When you really need `BaseException`, re-raise the SDK's signal first:
    ```python
    except BaseException as e:
        if restate.is_internal_exception(e):
            raise
        return "failed"
    ```

    ## Fix safety
    The fix replaces bare `except:` with `except Exception:` and `BaseException` with `Exception`.
    It is **safe** when the `except` body does not depend on catching what is not an `Exception`: it
    is not offered when the body mentions `BaseException`, `KeyboardInterrupt`, `SystemExit`,
    `GeneratorExit`, `CancelledError`, `BaseExceptionGroup`, `SdkInternalBaseException`,
    `SuspendedException` or `is_internal_exception`. Restate's cancellation arrives as a
    `TerminalError`, which `except Exception` still catches.

    ## Options
    None.

    ## Temporal
    Reports the same clauses in workflow code (the methods of a `@workflow.defn` class and what
    they call; activity bodies are exempt) when the `try` body contains **any** `await` (other
    than of a local function that itself awaits nothing) or calls `workflow.continue_as_new()`.
    In temporalio 1.35 these derive from `BaseException`, so that `except Exception` lets them
    through:
    - `asyncio.CancelledError`: workflow cancellation reaches the awaiting task through it, and
      evicting a workflow from the worker's cache cancels every one of its tasks
      (`_apply_remove_from_cache` in `worker/_workflow_instance.py`) — any await, not only an
      activity or a timer, can receive it;
    - `_WorkflowBeingEvictedError`: raised for a command attempted during eviction
      (`worker/_workflow_instance.py`); an eviction that cannot finish is retried forever, which
      the worker's log explains as "usually caused by inadvertently catching 'BaseException's like
      asyncio.CancelledError or _WorkflowBeingEvictedError" (`worker/_workflow.py`);
    - `ContinueAsNewError`, raised by `workflow.continue_as_new()` ("This should not be caught",
      `workflow/_workflow_ops.py`).

    Activity and child-workflow failures arrive as `ActivityError` / `ChildWorkflowError`
    (`FailureError` subclasses of `Exception`), so `except Exception` still catches them.
    ```python
    try:
        await workflow.execute_activity(charge, amount, start_to_close_timeout=timedelta(seconds=30))
    except ActivityError:
        return "declined"
    ```
    The fix is the same, **safe** unless the `except` body mentions `CancelledError`,
    `BaseException`, `ContinueAsNewError`, `_WorkflowBeingEvictedError` or
    `is_cancelled_exception` (then it relies on catching them: no fix).
    """

    code = "IDL501"
    name = "broad-except-swallows-suspension"
    summary = "Bare `except:` / `except BaseException` around journaled calls without re-raise"
    severity = "error"
    fix_availability = "sometimes"
    frameworks = ("restate", "temporal")
    VALID = [
        Valid("""
            import restate
            from restate import TerminalError

            svc = restate.Service("Payments")


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                try:
                    await ctx.run_typed("charge", lambda: amount)
                except TerminalError:
                    return "declined"
                try:
                    await ctx.run_typed("refund", lambda: amount)
                except BaseException as e:
                    if restate.is_internal_exception(e):
                        raise
                    return "failed"
                try:
                    value = int("12")  # nothing journaled in the try body
                except:
                    value = 0
                return str(value)
        """),
        Valid("""
            import restate

            svc = restate.Service("Payments")


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                try:
                    return await ctx.run_typed("charge", lambda: amount)
                except BaseException as error:
                    raise RuntimeError("charge failed") from error
        """, note="re-raised with the cause chain: the SDK finds its signal there"),
        Valid("""
            import asyncio
            from datetime import timedelta

            from temporalio import activity, workflow
            from temporalio.exceptions import ActivityError, is_cancelled_exception


            @activity.defn
            async def charge(amount: int) -> str:
                try:
                    await asyncio.sleep(0)  # activity code: not replayed
                except:
                    return "failed"
                return "charged"


            @workflow.defn
            class Payment:
                @workflow.run
                async def run(self, amount: int) -> str:
                    try:
                        receipt = await workflow.execute_activity(
                            charge, amount, start_to_close_timeout=timedelta(seconds=30)
                        )
                    except ActivityError:
                        return "declined"
                    try:
                        await asyncio.sleep(60)
                    except BaseException as e:
                        if is_cancelled_exception(e):
                            raise
                        return "failed"
                    try:
                        total = await self._total(amount)
                    except:
                        total = 0
                    return f"{receipt} {total}"

                async def _total(self, amount: int) -> int:
                    return amount * 2  # awaits nothing
        """, note="Temporal: specific exceptions, re-raise, a local coroutine that awaits nothing"),
    ]
    INVALID = [
        Invalid(
            """
            import restate

            payments = restate.Service("Payments")


            async def charge_card(amount: int) -> str:
                return f"charged {amount}"


            @payments.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                try:
                    receipt = await ctx.run_typed("charge", charge_card, amount=amount)
                except:
                    return "failed"
                return receipt
            """,
            ((14, 5),),
            message="suspension",
            fixed="""
            import restate

            payments = restate.Service("Payments")


            async def charge_card(amount: int) -> str:
                return f"charged {amount}"


            @payments.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                try:
                    receipt = await ctx.run_typed("charge", charge_card, amount=amount)
                except Exception:
                    return "failed"
                return receipt
            """,
            doc=True,
        ),
        Invalid(
            """
            from datetime import timedelta

            import restate

            svc = restate.Service("Payments")


            async def settle(ctx: restate.Context) -> None:
                await ctx.sleep(timedelta(seconds=1))


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                try:
                    await ctx.run_typed("charge", lambda: amount)
                except:
                    return "failed"
                try:
                    await settle(ctx)
                except (ValueError, BaseException) as error:
                    return f"failed: {error}"
                return "ok"
            """,
            ((16, 5), (20, 5)),
            fixed="""
            from datetime import timedelta

            import restate

            svc = restate.Service("Payments")


            async def settle(ctx: restate.Context) -> None:
                await ctx.sleep(timedelta(seconds=1))


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                try:
                    await ctx.run_typed("charge", lambda: amount)
                except Exception:
                    return "failed"
                try:
                    await settle(ctx)
                except (ValueError, Exception) as error:
                    return f"failed: {error}"
                return "ok"
            """,
        ),
        Invalid(
            """
            import asyncio

            import restate

            obj = restate.VirtualObject("Cart")


            class Cart:
                @staticmethod
                @obj.handler()
                async def checkout(ctx: restate.ObjectContext) -> str:
                    try:
                        items = await ctx.get("items") or []
                        return await restate.gather(*[ctx.run_typed(i, lambda: 1) for i in items]) and "ok"
                    except BaseException as e:
                        if isinstance(e, asyncio.CancelledError):
                            return "cancelled"
                        return "failed"
            """,
            ((15, 9),),
            note="the except body depends on BaseException: no fix",
        ),
        Invalid(
            """
            from datetime import timedelta

            from temporalio import activity, workflow


            @activity.defn
            async def charge_card(amount: int) -> str:
                return f"charged {amount}"


            @workflow.defn
            class Payment:
                @workflow.run
                async def run(self, amount: int) -> str:
                    try:
                        receipt = await workflow.execute_activity(
                            charge_card, amount, start_to_close_timeout=timedelta(seconds=30)
                        )
                    except:
                        return "failed"
                    return receipt
            """,
            ((19, 9),),
            message="swallows cancellation and the SDK's eviction signal",
            fixed="""
            from datetime import timedelta

            from temporalio import activity, workflow


            @activity.defn
            async def charge_card(amount: int) -> str:
                return f"charged {amount}"


            @workflow.defn
            class Payment:
                @workflow.run
                async def run(self, amount: int) -> str:
                    try:
                        receipt = await workflow.execute_activity(
                            charge_card, amount, start_to_close_timeout=timedelta(seconds=30)
                        )
                    except Exception:
                        return "failed"
                    return receipt
            """,
            note="Temporal",
        ),
        Invalid(
            """
            import asyncio
            from datetime import timedelta

            import temporalio.workflow as wf


            async def pause(seconds: int) -> None:
                await asyncio.sleep(seconds)  # a durable timer in workflow code


            @wf.defn
            class Reminder:
                @wf.run
                async def run(self, delays: list[int]) -> int:
                    sent = 0
                    for delay in delays:
                        if delay > 0:
                            sent += await self._remind(delay)
                    try:
                        await pause(5)
                    except (ValueError, BaseException) as error:
                        return -1
                    return sent

                async def _remind(self, delay: int) -> int:
                    try:
                        await wf.sleep(timedelta(seconds=delay))
                        return 1
                    except BaseException:
                        return 0
            """,
            ((21, 9), (29, 9)),
            fixed="""
            import asyncio
            from datetime import timedelta

            import temporalio.workflow as wf


            async def pause(seconds: int) -> None:
                await asyncio.sleep(seconds)  # a durable timer in workflow code


            @wf.defn
            class Reminder:
                @wf.run
                async def run(self, delays: list[int]) -> int:
                    sent = 0
                    for delay in delays:
                        if delay > 0:
                            sent += await self._remind(delay)
                    try:
                        await pause(5)
                    except (ValueError, Exception) as error:
                        return -1
                    return sent

                async def _remind(self, delay: int) -> int:
                    try:
                        await wf.sleep(timedelta(seconds=delay))
                        return 1
                    except Exception:
                        return 0
            """,
            note="Temporal, aliased import: a helper method, a helper function, a tuple",
        ),
        Invalid(
            """
            from temporalio.workflow import continue_as_new, defn, run


            @defn
            class Poller:
                @run
                async def poll(self, rounds: int) -> None:
                    if rounds > 100:
                        try:
                            continue_as_new(0)
                        except:
                            pass
            """,
            ((11, 13),),
            fixed="""
            from temporalio.workflow import continue_as_new, defn, run


            @defn
            class Poller:
                @run
                async def poll(self, rounds: int) -> None:
                    if rounds > 100:
                        try:
                            continue_as_new(0)
                        except Exception:
                            pass
            """,
            note="Temporal, from-imported: continue_as_new raises ContinueAsNewError(BaseException)",
        ),
        Invalid(
            """
            import asyncio

            from temporalio import workflow


            @workflow.defn
            class Waiter:
                def __init__(self) -> None:
                    self.ready = False

                @workflow.run
                async def run(self) -> str:
                    try:
                        await workflow.wait_condition(lambda: self.ready)
                    except BaseException as e:
                        if isinstance(e, asyncio.CancelledError):
                            return "cancelled"
                        return "failed"
                    return "ready"

                @workflow.signal
                def go(self) -> None:
                    self.ready = True
            """,
            ((15, 9),),
            note="Temporal: the except body depends on BaseException: no fix",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        probes: dict[str, Suspension] = {}
        for _, framework, node in durable_nodes(module, self.frameworks):
            if not isinstance(node, (ast.Try, ast.TryStar)):
                continue
            tables = hygiene_tables(module, framework)
            suspension = probes.get(framework.name)
            if suspension is None:
                suspension = probes[framework.name] = Suspension(module, tables)
            awaited = suspension.awaits(node.body)
            if awaited is None:
                continue
            base_only = _PYTHON_BASE_ONLY | tables.base_exception_names
            for handler in node.handlers:
                broad, replace = _broad(module, handler)
                if not broad or _reraises(handler):
                    continue
                shown = "except:" if handler.type is None else f"except {module.text(handler.type)}"
                start = Span(handler.lineno, handler.col_offset, handler.lineno,
                             handler.col_offset + 6)
                end = handler.type if handler.type is not None else start
                fix = None if _mentions(handler, base_only) else self._fix(handler, replace)
                message = tables.suspension_message or (
                    "`{shown}` swallows the SDK's control-flow signals; catch `Exception`"
                )
                detail = tables.suspension_detail or (
                    "The `try` body awaits durable code (line {line}); the SDK's signals derive "
                    "from `BaseException` and this clause catches them without re-raising. "
                    "Catch `Exception`, or re-raise."
                )
                yield module.finding(
                    self,
                    start,
                    message.replace("{shown}", shown),
                    fix=fix,
                    end=end,
                    detail=detail.replace("{line}", str(awaited.lineno)),
                )

    @staticmethod
    def _fix(handler: ast.ExceptHandler, replace: ast.expr | None) -> Fix:
        def build(fx: FixContext) -> list[Edit]:
            if replace is not None:
                return [fx.replace(replace, "Exception")]
            line, col, _, _ = fx.span(handler)
            return [Edit(line, col + len("except"), line, col + len("except"), " Exception")]

        return Fix("safe", "Catch `Exception` instead", build)


def _broad(module: ModuleAnalysis, handler: ast.ExceptHandler) -> tuple[bool, ast.expr | None]:
    """(catches BaseException, the ``BaseException`` node to replace; None for bare except)."""
    kind = handler.type
    if kind is None:
        return True, None
    candidates = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    for candidate in candidates:
        if module.resolver.qualname(candidate) == "builtins.BaseException":
            return True, candidate
    return False, None


def _reraises(handler: ast.ExceptHandler) -> bool:
    for node in own_nodes(handler.body):
        if not isinstance(node, ast.Raise):
            continue
        if node.exc is None:
            return True
        for value in (node.exc, node.cause):
            if isinstance(value, ast.Name) and handler.name and value.id == handler.name:
                return True
    return False


def _mentions(handler: ast.ExceptHandler, names: frozenset[str]) -> bool:
    """The ``except`` body names one of ``names`` (as a name or an attribute)."""
    for node in own_nodes(handler.body):
        if isinstance(node, ast.Name) and node.id in names:
            return True
        if isinstance(node, ast.Attribute) and node.attr in names:
            return True
    return False
