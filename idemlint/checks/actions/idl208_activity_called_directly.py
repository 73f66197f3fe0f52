"""IDL208 activity-called-directly."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...dataflow import Callee, callee
from ...diagnostics import Edit, Finding, Fix
from ...fixes.context import FixContext
from ...model import Unit
from ...registry import Invalid, Rule, Valid
from ...scopes import FUNCTION_NODES, Kind, can_await, is_primary_operand, parent, scope_of
from ._shared import activity_starts, activity_tables, keyword_value


class ActivityCalledDirectly(Rule):
    """
    ## What it does
    Reports a call, in workflow code (a workflow's run/signal/update/query methods and every
    helper they call, in this module or another module of the linted tree), of a function
    decorated as a journaled unit that a direct call runs inline: an `@activity.defn` function.

    ## Why is this bad?
    The decorator only registers the function; calling it runs its body right there, inside the
    workflow task: not scheduled, not journaled, not retried, and run again on every replay. Its
    I/O and clock reads happen in workflow code (the sandbox may reject them at run time), and
    its result may differ on replay, which breaks determinism.

    ## Use instead
    Start it as an activity and await it: `await workflow.execute_activity(fn, arg,
    start_to_close_timeout=...)`.

    ## Fix safety
    **Unsafe**, and only offered where a timeout is configured nearby: another activity start in
    the same workflow class (or workflow function) passes `start_to_close_timeout=` or
    `schedule_to_close_timeout=` a value that means the same at the call site (a literal or
    module-level names). The call becomes `workflow.execute_activity(fn, ...)` with that timeout
    (one argument as `arg`, several as `args=[...]`), with `await` added for a sync activity.
    Unsafe because the body now runs on a worker with retries, and the timeout is a guess; no
    fix for keyword arguments, `*args`, methods or a missing timeout.

    ## Temporal
    `activity.defn` (temporalio/activity.py) sets `__temporal_activity_definition` on the function
    and returns it unchanged, so a direct call is a plain call. Only
    `workflow.execute_activity`/`start_activity` (and their local, `_class` and `_method`
    variants) schedule the activity through the workflow's event loop
    (`_Runtime.current().workflow_start_activity`), which records it in history.

    ## Options
    None.
    """

    code = "IDL208"
    name = "activity-called-directly"
    summary = "An activity function is called directly from workflow code (runs inline, unjournaled)"
    severity = "error"
    fix_availability = "sometimes"
    frameworks = ("temporal",)
    VALID = [
        Valid("""
            from datetime import timedelta

            from temporalio import activity, workflow


            @activity.defn
            async def charge(amount: int) -> str:
                return f"charged {amount}"


            def receipt(text: str) -> str:
                return text.upper()


            @workflow.defn
            class Checkout:
                @workflow.run
                async def run(self, amount: int) -> str:
                    done = await workflow.execute_activity(
                        charge, amount, start_to_close_timeout=timedelta(seconds=30)
                    )
                    handle = workflow.start_activity(
                        charge, amount, start_to_close_timeout=timedelta(seconds=30)
                    )
                    return receipt(done) + await handle
        """, doc=True, note="activities started by reference; plain helpers called"),
        Valid("""
            from temporalio import activity


            @activity.defn
            async def charge(amount: int) -> str:
                return f"charged {amount}"


            @activity.defn
            async def checkout(amount: int) -> str:
                return await charge(amount)
        """, note="an activity calling another activity's function is not workflow code"),
    ]
    INVALID = [
        Invalid(
            """
                from datetime import timedelta

                from temporalio import activity, workflow


                @activity.defn
                async def charge(amount: int) -> str:
                    return f"charged {amount}"


                @activity.defn
                def ship(order: str) -> str:
                    return f"shipped {order}"


                @workflow.defn
                class Checkout:
                    @workflow.run
                    async def run(self, amount: int) -> str:
                        first = await workflow.execute_activity(
                            charge, amount, start_to_close_timeout=timedelta(seconds=30)
                        )
                        second = await charge(amount)
                        label = ship("order-1")
                        return first + second + label
            """,
            ((23, 24), (24, 17)),
            unsafe=True,
            fixed="""
                from datetime import timedelta

                from temporalio import activity, workflow


                @activity.defn
                async def charge(amount: int) -> str:
                    return f"charged {amount}"


                @activity.defn
                def ship(order: str) -> str:
                    return f"shipped {order}"


                @workflow.defn
                class Checkout:
                    @workflow.run
                    async def run(self, amount: int) -> str:
                        first = await workflow.execute_activity(
                            charge, amount, start_to_close_timeout=timedelta(seconds=30)
                        )
                        second = await workflow.execute_activity(charge, amount, start_to_close_timeout=timedelta(seconds=30))
                        label = await workflow.execute_activity(ship, "order-1", start_to_close_timeout=timedelta(seconds=30))
                        return first + second + label
            """,
            doc=True,
            message="runs inline",
        ),
        Invalid(
            """
                import temporalio.workflow as wf
                from temporalio import activity


                @activity.defn
                async def notify(user: str, text: str) -> None:
                    print(user, text)


                @wf.defn
                class Reminder:
                    @wf.run
                    async def run(self, user: str) -> None:
                        for attempt in range(2):
                            if attempt:
                                try:
                                    await self._remind(user)
                                finally:
                                    pass

                    async def _remind(self, user: str) -> None:
                        with open("/dev/null"):
                            await notify(user, "hello")
            """,
            ((23, 19),),
            note="aliased module, nested in for/if/try/with, in a helper method; no timeout nearby",
        ),
        Invalid(
            """
                from datetime import timedelta

                from temporalio import activity
                from temporalio.workflow import defn, execute_activity, run

                TIMEOUT = timedelta(minutes=1)


                @activity.defn
                async def fetch(url: str) -> str:
                    return url


                @activity.defn
                async def store(key: str, value: str) -> None:
                    return None


                async def load(url: str) -> str:
                    return await fetch(url)


                @defn
                class Mirror:
                    @run
                    async def mirror(self, url: str) -> str:
                        body = await execute_activity(fetch, url, schedule_to_close_timeout=TIMEOUT)
                        await store(url, body)
                        return await load(url)
            """,
            ((20, 18), (28, 15)),
            unsafe=True,
            fixed="""
                from datetime import timedelta

                from temporalio import activity
                from temporalio.workflow import defn, execute_activity, run

                TIMEOUT = timedelta(minutes=1)


                @activity.defn
                async def fetch(url: str) -> str:
                    return url


                @activity.defn
                async def store(key: str, value: str) -> None:
                    return None


                async def load(url: str) -> str:
                    return await fetch(url)


                @defn
                class Mirror:
                    @run
                    async def mirror(self, url: str) -> str:
                        body = await execute_activity(fetch, url, schedule_to_close_timeout=TIMEOUT)
                        await execute_activity(store, args=[url, body], schedule_to_close_timeout=TIMEOUT)
                        return await load(url)
            """,
            note="from-imported names; several arguments; a helper function outside the class "
                 "(no timeout in its own scope, so no fix there)",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        model = module.model
        for unit in model.units:
            for node in unit.nodes:
                if not isinstance(node, ast.Call):
                    continue
                found = callee(module, node.func)
                if found is None or not isinstance(found.func, FUNCTION_NODES):
                    continue
                if found.module.model.journaled_mode(found.func) != "inline":
                    continue
                yield self._finding(module, unit, node, found)

    def _finding(
        self, module: ModuleAnalysis, unit: Unit, call: ast.Call, found: Callee
    ) -> Finding:
        name = getattr(found.func, "name", "the activity")
        view = activity_tables(unit.framework)
        start = view.execute.rpartition(".")[2] if view.execute else "the framework's start"
        fix = self._fix(module, unit, call, found)
        where = _via(module, unit)
        return module.finding(
            self,
            call,
            f"activity `{name}` is called directly and runs inline in workflow code; "
            f"start it with `{start}`{where}",
            fix=fix,
            detail=(
                f"`{name}` is an activity: calling it runs its body inside the workflow task, "
                "unscheduled and unjournaled, again on every replay. Schedule it with "
                f"`await {start}({name}, ...)` and a timeout."
            ),
        )

    def _fix(
        self, module: ModuleAnalysis, unit: Unit, call: ast.Call, found: Callee
    ) -> Fix | None:
        view = activity_tables(unit.framework)
        if view.execute is None or call.keywords or any(
            isinstance(a, ast.Starred) for a in call.args
        ):
            return None
        if scope_of(found.func).is_class or not isinstance(call.func, (ast.Name, ast.Attribute)):
            return None
        timeout = _nearby_timeout(module, unit, view.timeouts)
        if timeout is None:
            return None
        awaited = isinstance(parent(call), ast.Await)
        is_async = isinstance(found.func, ast.AsyncFunctionDef)
        if not awaited and not is_async and not can_await(call):
            return None
        keyword, value = timeout
        where, _, attribute = view.execute.rpartition(".")

        def build(fx: FixContext) -> list[Edit]:
            spelled, edits = fx.import_name(where, attribute)
            args = [fx.text(call.func)]
            if len(call.args) == 1:
                args.append(fx.text(call.args[0]))
            elif call.args:
                args.append("args=[" + ", ".join(fx.text(a) for a in call.args) + "]")
            args.append(f"{keyword}={fx.text(value)}")
            text = f"{spelled}({', '.join(args)})"
            if not awaited and not is_async:
                text = f"(await {text})" if is_primary_operand(call) else f"await {text}"
            return [*edits, fx.replace(call, text)]

        return Fix("unsafe", "Start it with execute_activity", build)


def _nearby_timeout(
    module: ModuleAnalysis, unit: Unit, timeouts: tuple[str, ...]
) -> tuple[str, ast.expr] | None:
    """A timeout keyword (and its value) passed by another activity start of the same workflow
    class (or the same root function), whose value means the same anywhere in the module."""
    root = unit.root
    owner: ast.AST = root.handler.cls if root.handler and root.handler.cls else root.func
    if unit.func is not root.func and _outside(unit.func, owner):
        return None  # a helper outside the workflow: its callers may differ
    first, last = owner.lineno, owner.end_lineno or owner.lineno  # type: ignore[attr-defined]
    for start, _, _ in activity_starts(module):
        if not first <= start.lineno <= last:
            continue
        for keyword in timeouts:
            value = keyword_value(start, keyword)
            if value is not None and _module_level(module, value):
                return keyword, value
    return None


def _via(module: ModuleAnalysis, unit: Unit) -> str:
    """How a helper's code is workflow code: the call chain from the entry point."""
    if unit.reason != "called" or not unit.via:
        return ""
    chain = " -> ".join(f"`{module.text(c.func)}()` (line {c.lineno})" for c in unit.via)
    origin = f"`{unit.handler.name}`" if unit.handler else "durable code"
    return f" [reached from {origin} via {chain}]"


def _outside(func: ast.AST, owner: ast.AST) -> bool:
    first, last = owner.lineno, owner.end_lineno or owner.lineno  # type: ignore[attr-defined]
    return not first <= func.lineno <= last  # type: ignore[attr-defined]


def _module_level(module: ModuleAnalysis, value: ast.expr) -> bool:
    """Every name in ``value`` is bound at module level (or a builtin), so its text means the
    same at any call site in the module."""
    for node in ast.walk(value):
        if isinstance(node, (ast.Lambda, ast.NamedExpr)) or (
            isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            return False
        if isinstance(node, ast.Name):
            binding = module.resolver.binding(node)
            if binding is not None and (
                binding.scope is not module.scope or binding.kind is Kind.PARAM
            ):
                return False
    return True
