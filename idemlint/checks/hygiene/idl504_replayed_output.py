"""IDL504 replayed-output."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...diagnostics import Edit, Finding, Fix
from ...fixes.context import FixContext
from ...model import HandlerModel
from ...registry import Invalid, Rule, Valid
from ...scopes import Binding, Kind, parent
from ...syntax import one_line
from ._shared import HygieneTables, durable_nodes, hygiene_tables

# Python's logging: the methods that emit a record, and the loggers whose records are not
# filtered during replay.
_LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
)
_STDLIB_LOGGERS = frozenset(
    {"logging.getLogger()", "logging.Logger()", "logging.LoggerAdapter()", "logging.root"}
)


class ReplayedOutput(Rule):
    """
    ## What it does
    Reports output in handler code outside journaled actions:
    - `print(...)`;
    - stdlib logging: `logging.info(...)` and friends, and the `debug`/`info`/`warning`/`warn`/
      `error`/`exception`/`critical`/`fatal`/`log` methods of loggers from `logging.getLogger(...)`
      (any import spelling, module-level, `self.logger`, inline), `logging.Logger`-annotated
      parameters and `logging.LoggerAdapter(...)`.

    Loggers from `restate.getLogger(...)` are not reported, nor is output inside actions or outside
    handler code. Stdlib logging calls are not reported at all in a module that mentions
    `RestateLoggingFilter` (it installs the replay filter on its loggers or handlers itself).

    ## Why is this bad?
    Handler code runs again on every replay, so each line is printed or logged again for every
    suspension and retry: logs show steps happening several times that happened once.
    `restate.getLogger(name)` returns the same stdlib logger with `RestateLoggingFilter`, which drops
    records while the invocation is replaying (`restate/logging.py`).

    It is off by default: duplicated log lines are noise, not wrong behaviour.

    ## Use instead
    A logger from `restate.getLogger(...)`; output that must appear exactly once goes inside a
    journaled action (`await ctx.run_typed("audit", lambda: print(...))`).

    ## Fix safety
    The fix replaces `logging.getLogger(...)` by `restate.getLogger(...)` in the assignment of a
    module-level logger, when that name is bound once and every use of it is in handler code.
    **Safe**: same logger, with a filter that only drops records during replay (outside an
    invocation nothing is filtered). No fix for `print`, the root logger functions or loggers used
    elsewhere.

    ## Options
    Off by default: enable it with `extend-select = ["IDL504"]`.

    ## Temporal
    Workflow code (the methods of a `@workflow.defn` class and what they call) is replayed from
    its history after a worker restart or a cache eviction, so `print` and stdlib logging there
    repeat. `workflow.logger` is `LoggerAdapter(logging.getLogger("temporalio.workflow"), None)`
    whose `isEnabledFor` returns False while history is being replayed unless
    `log_during_replay` is set (False by default), and which adds the workflow's details to each
    record (`temporalio/workflow/_sandbox.py`). Activity code (`@activity.defn`) runs once per
    attempt and is not reported: log there with `activity.logger` or anything else.

    Fixes:
    - a module-level `logger = logging.getLogger(...)` bound once, used only in workflow code and
      only through log methods the adapter has: **safe**, wrap it —
      `logger = workflow.LoggerAdapter(logging.getLogger(__name__), None)` (same logger, same
      handlers and level; records gain the workflow's details and are dropped on replay);
    - other stdlib logging calls (`logging.info(...)`, `self.log.info(...)`, a logger used
      outside workflow code): **unsafe**, log with `workflow.logger.info(...)` (another logger,
      `temporalio.workflow`, so handlers and levels configured for the old one no longer apply;
      no fix for `fatal`, which the adapter lacks);
    - `print(a, b)` with positional arguments only: **unsafe**,
      `workflow.logger.info("%s %s", a, b)` (the output moves from stdout to logging, where the
      default level WARNING hides `info` until logging is configured).
    ```python
    @workflow.defn
    class Greeter:
        @workflow.run
        async def run(self, name: str) -> str:
            workflow.logger.info("greeting %s", name)  # skipped while replaying
            return name
    ```
    """

    code = "IDL504"
    name = "replayed-output"
    summary = "`print` or stdlib logging in handler code repeats on every replay"
    severity = "warning"
    default_enabled = False
    fix_availability = "sometimes"
    frameworks = ("restate", "temporal")
    VALID = [
        Valid("""
            import logging

            import restate

            svc = restate.Service("Greeter")
            log = restate.getLogger(__name__)
            setup = logging.getLogger("setup")
            setup.info("starting")  # module level: runs once per process


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                log.info("greeting %s", name)
                await ctx.run_typed("audit", lambda: print(f"greeted {name}"))
                return name


            def main() -> None:
                print("not handler code")
        """, config={"select": ["IDL504"]}),
        Valid("""
            import logging
            from datetime import timedelta

            from temporalio import activity, workflow

            setup = logging.getLogger("setup")
            setup.info("starting")  # module level: runs once per process


            @activity.defn
            async def send_email(to: str) -> None:
                print(f"sending to {to}")  # activity code runs once per attempt
                logging.getLogger(__name__).info("sent to %s", to)
                activity.logger.info("sent")


            @workflow.defn
            class Greeter:
                @workflow.run
                async def run(self, name: str) -> str:
                    workflow.logger.info("greeting %s", name)
                    await workflow.execute_activity(
                        send_email, name, start_to_close_timeout=timedelta(seconds=10)
                    )
                    return name


            def main() -> None:
                print("not workflow code")
        """, config={"select": ["IDL504"]}, note="Temporal: workflow.logger, activities"),
    ]
    INVALID = [
        Invalid(
            """
            import logging

            import restate

            logging.basicConfig(level=logging.INFO)
            greeter = restate.Service("Greeter")
            logger = logging.getLogger(__name__)


            @greeter.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                logger.info("greeting %s", name)
                return f"Hello {name}"
            """,
            ((12, 5),),
            message="`logger.info()` logs again on every replay; use `restate.getLogger(...)`",
            config={"select": ["IDL504"]},
            fixed="""
            import logging

            import restate

            logging.basicConfig(level=logging.INFO)
            greeter = restate.Service("Greeter")
            logger = restate.getLogger(__name__)


            @greeter.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                logger.info("greeting %s", name)
                return f"Hello {name}"
            """,
            doc=True,
        ),
        Invalid(
            """
            import logging

            import restate

            svc = restate.Service("Greeter")
            logger = logging.getLogger(__name__)


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                logger.info("greeting %s", name)
                print("greeting", name)
                logging.warning("root logger")
                return name
            """,
            ((11, 5), (12, 5), (13, 5)),
            config={"select": ["IDL504"]},
            fixed="""
            import logging

            import restate

            svc = restate.Service("Greeter")
            logger = restate.getLogger(__name__)


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                logger.info("greeting %s", name)
                print("greeting", name)
                logging.warning("root logger")
                return name
            """,
        ),
        Invalid(
            """
            import logging

            from restate import Context, Service

            svc = Service("Greeter")
            logger = logging.getLogger("greeter")


            @svc.handler()
            async def greet(ctx: Context, name: str) -> str:
                logger.info("greeting %s", name)
                return name


            def main() -> None:
                logger.info("started")
            """,
            ((11, 5),),
            config={"select": ["IDL504"]},
            note="the logger is used outside handlers too: no fix",
        ),
        Invalid(
            """
            import logging

            from temporalio import workflow

            logger = logging.getLogger(__name__)


            @workflow.defn
            class Greeter:
                @workflow.run
                async def run(self, name: str) -> str:
                    logger.info("greeting %s", name)
                    return f"Hello {name}"
            """,
            ((12, 9),),
            message="`logger.info()` logs again on every replay; use `workflow.logger`",
            config={"select": ["IDL504"]},
            fixed="""
            import logging

            from temporalio import workflow

            logger = workflow.LoggerAdapter(logging.getLogger(__name__), None)


            @workflow.defn
            class Greeter:
                @workflow.run
                async def run(self, name: str) -> str:
                    logger.info("greeting %s", name)
                    return f"Hello {name}"
            """,
            note="Temporal: a module-level logger used only in workflow code is wrapped",
        ),
        Invalid(
            """
            import logging

            import temporalio.workflow as wf

            log = logging.getLogger("orders")


            def audit(order: str) -> None:
                print("audit", order)


            @wf.defn
            class Orders:
                def __init__(self) -> None:
                    self.pending: list[str] = []

                @wf.run
                async def run(self, orders: list[str]) -> int:
                    for order in orders:
                        if order:
                            try:
                                self._report(order)
                            finally:
                                logging.info("done %s", order)
                    await wf.wait_condition(lambda: not self.pending)
                    return len(orders)

                @wf.signal
                def add(self, order: str) -> None:
                    self.pending.append(order)
                    audit(order)

                def _report(self, order: str) -> None:
                    log.warning("order %s", order)
            """,
            ((9, 5), (24, 21), (34, 9)),
            config={"select": ["IDL504"]},
            unsafe=True,
            fixed="""
            import logging

            import temporalio.workflow as wf

            log = wf.LoggerAdapter(logging.getLogger("orders"), None)


            def audit(order: str) -> None:
                wf.logger.info("%s %s", "audit", order)


            @wf.defn
            class Orders:
                def __init__(self) -> None:
                    self.pending: list[str] = []

                @wf.run
                async def run(self, orders: list[str]) -> int:
                    for order in orders:
                        if order:
                            try:
                                self._report(order)
                            finally:
                                wf.logger.info("done %s", order)
                    await wf.wait_condition(lambda: not self.pending)
                    return len(orders)

                @wf.signal
                def add(self, order: str) -> None:
                    self.pending.append(order)
                    audit(order)

                def _report(self, order: str) -> None:
                    log.warning("order %s", order)
            """,
            note="Temporal, aliased import: helpers, helper methods, nested blocks, a signal",
        ),
        Invalid(
            """
            import contextlib
            import logging

            from temporalio.workflow import defn, run

            logger = logging.getLogger(__name__)


            @defn
            class Greeter:
                @run
                async def execute(self, name: str) -> str:
                    with contextlib.suppress(KeyError):
                        logger.info("greeting %s", name)
                    return name
            """,
            ((14, 13),),
            config={"select": ["IDL504"]},
            fixed="""
            import contextlib
            import logging

            from temporalio.workflow import defn, run, LoggerAdapter

            logger = LoggerAdapter(logging.getLogger(__name__), None)


            @defn
            class Greeter:
                @run
                async def execute(self, name: str) -> str:
                    with contextlib.suppress(KeyError):
                        logger.info("greeting %s", name)
                    return name
            """,
            note="Temporal, from-imported decorators: the adapter is imported beside them",
        ),
        Invalid(
            """
            import logging

            from temporalio import activity, workflow

            logger = logging.getLogger(__name__)


            @activity.defn
            async def notify(name: str) -> None:
                logger.info("notified %s", name)


            @workflow.defn
            class Greeter:
                @workflow.run
                async def run(self, name: str) -> str:
                    logger.info("greeting %s", name)
                    logger.fatal("no adapter method")
                    return name
            """,
            ((17, 9), (18, 9)),
            config={"select": ["IDL504"]},
            note="Temporal: the logger is used by an activity too: only the unsafe call-site fix",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        model = module.model
        resolver = module.resolver
        for _, framework, node in durable_nodes(module, self.frameworks):
            if not isinstance(node, ast.Call):
                continue
            tables = hygiene_tables(module, framework)
            advice = (f"`{tables.logger_advice}`" if tables.logger_advice
                      else "a replay-aware logger")
            qualname = resolver.qualname(node.func)
            if qualname == "builtins.print":
                yield module.finding(
                    self,
                    node,
                    f"`print()` repeats on every replay; log with {advice}",
                    fix=_print_fix(node, tables.replay_logger_instance),
                    detail=tables.print_detail or (
                        "Durable code runs again on every replay, so the output is duplicated. "
                        "Log with a replay-aware logger, or print inside a journaled action."
                    ),
                )
                continue
            func = node.func
            if not isinstance(func, ast.Attribute) or func.attr not in _LOG_METHODS:
                continue
            # A module mentioning the replay filter installs it itself.
            if tables.replay_filter is not None and tables.replay_filter in module.source.text:
                continue
            receiver_name = resolver.qualname(func.value)
            if receiver_name != "logging" and receiver_name not in _STDLIB_LOGGERS:
                continue
            fix = _fix(module, model, func.value, tables)
            if fix is None:
                fix = _call_site_fix(func, tables)
            yield module.finding(
                self,
                node,
                f"`{one_line(module.text(func))}()` logs again on every replay; use "
                f"{advice}",
                fix=fix,
                detail=tables.log_detail or (
                    "Durable code runs again on every replay, so the record is logged again "
                    "for every replay. Use the framework's replay-aware logger."
                ),
            )


def _fix(
    module: ModuleAnalysis, model: HandlerModel, receiver: ast.expr, tables: HygieneTables
) -> Fix | None:
    """Create the module-level logger with the replay-aware factory instead (or wrap it in the
    replay-aware adapter)."""
    factory_name = tables.replay_logger or tables.replay_logger_wrapper
    binding = _logger_binding(module, receiver)
    if factory_name is None or binding is None or not _only_handler_uses(model, module, binding):
        return None
    wraps = tables.replay_logger is None
    if wraps and not _only_calls(module, binding, tables.replay_logger_methods):
        return None
    value = binding.value
    assert isinstance(value, ast.Call)
    package, _, factory = factory_name.rpartition(".")

    def build(fx: FixContext) -> list[Edit]:
        spelled, edits = fx.import_name(package, factory)
        if wraps:
            return [*edits, fx.replace(value, f"{spelled}({fx.text(value)}, None)")]
        return [*edits, fx.replace(value.func, spelled)]

    if wraps:
        return Fix("safe", f"Wrap the logger in `{factory_name}`", build)
    return Fix("safe", f"Create the logger with `{factory_name}(...)`", build)


def _call_site_fix(func: ast.Attribute, tables: HygieneTables) -> Fix | None:
    """Log through the framework's replay-aware logger at this call (another logger)."""
    instance = tables.replay_logger_instance
    if instance is None or func.attr not in tables.replay_logger_methods:
        return None
    package, _, name = instance.rpartition(".")

    def build(fx: FixContext) -> list[Edit]:
        spelled, edits = fx.import_name(package, name)
        return [*edits, fx.replace(func.value, spelled)]

    return Fix("unsafe", f"Log with `{instance}`", build)


def _print_fix(call: ast.Call, instance: str | None) -> Fix | None:
    """``print(a, b)`` -> ``<logger>.info("%s %s", a, b)``: positional arguments only."""
    if instance is None or not call.args or call.keywords:
        return None
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None
    package, _, name = instance.rpartition(".")

    def build(fx: FixContext) -> list[Edit]:
        spelled, edits = fx.import_name(package, name)
        edits = [*edits, fx.replace(call.func, f"{spelled}.info")]
        if len(call.args) > 1:
            pattern = " ".join(["%s"] * len(call.args))
            edits.append(fx.insert_before(call.args[0], f'"{pattern}", '))
        return edits

    return Fix("unsafe", f"Log with `{instance}.info(...)`", build)


def _only_calls(module: ModuleAnalysis, binding: Binding, methods: frozenset[str]) -> bool:
    """Every use of the logger calls one of ``methods`` (what the wrapper has)."""
    for node in module.name_loads(binding.name):
        if module.resolver.binding(node) is not binding:
            continue
        owner = parent(node)
        if not (isinstance(owner, ast.Attribute) and owner.attr in methods):
            return False
        call = parent(owner)
        if not (isinstance(call, ast.Call) and call.func is owner):
            return False
    return True


def _logger_binding(module: ModuleAnalysis, receiver: ast.expr) -> Binding | None:
    """``logger`` bound once at module level to ``logging.getLogger(...)``."""
    if not isinstance(receiver, ast.Name):
        return None
    binding = module.resolver.binding(receiver)
    if binding is None or binding.scope.parent is not None or binding.kind is not Kind.ASSIGN:
        return None
    if len(binding.scope.bindings.get(receiver.id, [])) != 1:
        return None
    value = binding.value
    if isinstance(value, ast.Call) and module.resolver.qualname(value.func) == "logging.getLogger":
        return binding
    return None


def _only_handler_uses(model: HandlerModel, module: ModuleAnalysis, binding: Binding) -> bool:
    cache = module.shared(_logger_uses)
    if id(binding) not in cache:
        cache[id(binding)] = _uses_in_handlers(model, module, binding)
    return cache[id(binding)]


def _logger_uses(module: ModuleAnalysis) -> dict[int, bool]:
    """Per logger binding: whether every use is in handler code (filled as asked)."""
    return {}


def _uses_in_handlers(model: HandlerModel, module: ModuleAnalysis, binding: Binding) -> bool:
    for node in module.name_loads(binding.name):
        if module.resolver.binding(node) is not binding:
            continue
        if model.region(node) != "handler":
            return False
    return True
