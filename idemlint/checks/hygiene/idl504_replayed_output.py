"""IDL504 replayed-output."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...diagnostics import Edit, Finding, Fix
from ...fixes.context import FixContext
from ...model import HandlerModel
from ...registry import Invalid, Rule, Valid
from ...scopes import Binding, Kind
from ...syntax import one_line
from ._shared import hygiene_tables

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
    """

    code = "IDL504"
    name = "replayed-output"
    summary = "`print` or stdlib logging in handler code repeats on every replay"
    severity = "warning"
    default_enabled = False
    fix_availability = "sometimes"
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
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        model = module.model
        resolver = module.resolver
        tables = hygiene_tables(module)
        # A module mentioning the replay filter installs it itself.
        filtered = tables.replay_filter is not None and tables.replay_filter in module.source.text
        for _, node in model.handler_calls():
            qualname = resolver.qualname(node.func)
            if qualname == "builtins.print":
                yield module.finding(
                    self,
                    node,
                    "`print()` repeats on every replay; log with `restate.getLogger(...)`",
                    detail=(
                        "Handler code runs again on every replay, so the output is duplicated. "
                        "A logger from `restate.getLogger(...)` drops records while replaying; "
                        "or print inside a journaled action."
                    ),
                )
                continue
            func = node.func
            if not isinstance(func, ast.Attribute) or func.attr not in _LOG_METHODS or filtered:
                continue
            receiver_name = resolver.qualname(func.value)
            if receiver_name != "logging" and receiver_name not in _STDLIB_LOGGERS:
                continue
            yield module.finding(
                self,
                node,
                f"`{one_line(module.text(func))}()` logs again on every replay; use "
                "`restate.getLogger(...)`",
                fix=_fix(module, model, func.value, tables.replay_logger),
                detail=(
                    "Handler code runs again on every replay, so the record is logged again "
                    "for every suspension and retry. `restate.getLogger(...)` returns the same "
                    "stdlib logger with a filter that drops records while replaying."
                ),
            )


def _fix(
    module: ModuleAnalysis, model: HandlerModel, receiver: ast.expr, replay_logger: str | None
) -> Fix | None:
    """Create the module-level logger with the replay-aware factory instead."""
    binding = _logger_binding(module, receiver)
    if replay_logger is None or binding is None or not _only_handler_uses(model, module, binding):
        return None
    value = binding.value
    assert isinstance(value, ast.Call)
    package, _, factory = replay_logger.rpartition(".")

    def build(fx: FixContext) -> list[Edit]:
        spelled, edits = fx.import_name(package, factory)
        return [*edits, fx.replace(value.func, spelled)]

    return Fix("safe", f"Create the logger with `{replay_logger}(...)`", build)


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
    cache: dict[int, bool] = module.memo.setdefault("idl504_logger_uses", {})
    if id(binding) not in cache:
        cache[id(binding)] = _uses_in_handlers(model, module, binding)
    return cache[id(binding)]


def _uses_in_handlers(model: HandlerModel, module: ModuleAnalysis, binding: Binding) -> bool:
    for node in module.name_loads(binding.name):
        if module.resolver.binding(node) is not binding:
            continue
        if model.region(node) != "handler":
            return False
    return True
