"""IDL501–IDL504: handler hygiene.

Broad ``except`` clauses that swallow the SDK's suspension signal, handlers called as plain
Python functions, module-level state mutated by handler code, and output that repeats on
every replay.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from textwrap import dedent

from ..analysis import ModuleAnalysis
from ..diagnostics import Edit, Finding, Fix
from ..fixes.context import FixContext
from ..model import HandlerModel, Unit
from ..registry import Invalid, Rule, Valid, register
from ..scopes import FUNCTION_NODES, Binding, Kind, children, parent, scope_of
from .action_support import MUTATORS, callee, is_container_binding
from .handler_calls import is_durable


def _code(text: str) -> str:
    return dedent(text).lstrip("\n")


class _Span(ast.AST):
    """A synthetic node covering a range (for findings on a keyword such as ``except``)."""

    _fields = ()
    lineno: int
    col_offset: int
    end_lineno: int | None
    end_col_offset: int | None

    def __init__(self, line: int, col: int, end_line: int, end_col: int) -> None:
        super().__init__()
        self.lineno, self.col_offset = line, col
        self.end_lineno, self.end_col_offset = end_line, end_col


# ------------------------------------------------------------------------------------------------
# IDL501
# ------------------------------------------------------------------------------------------------
_BASE_ONLY = frozenset(
    {
        "BaseException", "KeyboardInterrupt", "SystemExit", "GeneratorExit", "CancelledError",
        "BaseExceptionGroup", "SdkInternalBaseException", "SuspendedException",
        "is_internal_exception",
    }
)


def _own_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Nodes of statements, without the bodies of functions and classes defined there."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (*FUNCTION_NODES, ast.ClassDef)):
            continue
        stack.extend(reversed(children(node)))


class _Suspension:
    """Can awaiting this expression suspend the invocation (raise the SDK's signal)?"""

    def __init__(self, module: ModuleAnalysis) -> None:
        self.module = module
        self.model = module.model
        self.combinators = frozenset(self.model.fw.combinators.values())
        self._units: dict[int, bool] = {}

    def awaits(self, body: list[ast.stmt], depth: int = 0) -> ast.Await | ast.AsyncFor | None:
        for node in _own_nodes(body):
            if isinstance(node, ast.Await) and self.suspends(node.value, depth):
                return node
            if isinstance(node, ast.AsyncFor) and self.suspends(node.iter, depth):
                return node
        return None

    def suspends(self, expr: ast.AST, depth: int) -> bool:
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
        definition = self.module.resolver.definition(func)
        if isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)) and depth < 4:
            key = id(definition)
            if key not in self._units:
                self._units[key] = False  # recursion guard
                self._units[key] = self.awaits(definition.body, depth + 1) is not None
            return self._units[key]
        return False


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
    for node in _own_nodes(handler.body):
        if not isinstance(node, ast.Raise):
            continue
        if node.exc is None:
            return True
        for value in (node.exc, node.cause):
            if isinstance(value, ast.Name) and handler.name and value.id == handler.name:
                return True
    return False


def _needs_base(handler: ast.ExceptHandler) -> bool:
    for node in _own_nodes(handler.body):
        if isinstance(node, ast.Name) and node.id in _BASE_ONLY:
            return True
        if isinstance(node, ast.Attribute) and node.attr in _BASE_ONLY:
            return True
    return False


@register
class BroadExceptAroundJournal(Rule):
    code = "IDL501"
    name = "broad-except-swallows-suspension"
    summary = "Bare `except:` / `except BaseException` around journaled calls without re-raise"
    severity = "error"
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
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
        """)),
        Valid(_code("""
            import restate

            svc = restate.Service("Payments")


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                try:
                    return await ctx.run_typed("charge", lambda: amount)
                except BaseException as error:
                    raise RuntimeError("charge failed") from error
        """), note="re-raised with the cause chain: the SDK finds its signal there"),
    ]
    INVALID = [
        Invalid(
            _code("""
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
            """),
            ((16, 5), (20, 5)),
            fixed=_code("""
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
            """),
        ),
        Invalid(
            _code("""
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
            """),
            ((15, 9),),
            note="the except body depends on BaseException: no fix",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        suspension = _Suspension(module)
        for _, node in module.model.handler_nodes():
            if not isinstance(node, (ast.Try, ast.TryStar)):
                continue
            awaited = suspension.awaits(node.body)
            if awaited is None:
                continue
            for handler in node.handlers:
                broad, replace = _broad(module, handler)
                if not broad or _reraises(handler):
                    continue
                shown = "except:" if handler.type is None else f"except {module.text(handler.type)}"
                start = _Span(handler.lineno, handler.col_offset, handler.lineno,
                              handler.col_offset + 6)
                end = handler.type if handler.type is not None else start
                fix = None if _needs_base(handler) else self._fix(handler, replace)
                yield module.finding(
                    self,
                    start,
                    f"`{shown}` around a journaled call (line {awaited.lineno}) catches the "
                    "SDK's suspension signal (`SdkInternalBaseException` derives from "
                    "`BaseException`) and does not re-raise it: the handler goes on (or fails) "
                    "instead of suspending; catch `Exception` (or `TerminalError`), or re-raise "
                    "when `restate.is_internal_exception(e)`",
                    fix=fix,
                    end=end,
                )

    @staticmethod
    def _fix(handler: ast.ExceptHandler, replace: ast.expr | None) -> Fix:
        def build(fx: FixContext) -> list[Edit]:
            if replace is not None:
                return [fx.replace(replace, "Exception")]
            line, col, _, _ = fx.span(handler)
            return [Edit(line, col + len("except"), line, col + len("except"), " Exception")]

        return Fix("safe", "Catch `Exception` instead", build)


# ------------------------------------------------------------------------------------------------
# IDL502
# ------------------------------------------------------------------------------------------------
_CALL_METHOD = {"service": "service_call", "object": "object_call", "workflow": "workflow_call"}


@register
class HandlerCalledDirectly(Rule):
    code = "IDL502"
    name = "handler-called-directly"
    summary = "A handler is called as a plain Python function from handler code"
    severity = "error"
    VALID = [
        Valid(_code("""
            import restate

            svc = restate.Service("Greeter")
            counter = restate.VirtualObject("Counter")


            @counter.handler()
            async def add(ctx: restate.ObjectContext, n: int) -> int:
                return n


            def shout(name: str) -> str:
                return name.upper()


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                total = await ctx.object_call(add, key=name, arg=1)
                ctx.object_send(add, key=name, arg=2)
                return shout(name) + str(total)
        """)),
    ]
    INVALID = [
        Invalid(
            _code("""
                import restate

                svc = restate.Service("Greeter")
                counter = restate.VirtualObject("Counter")


                @counter.handler()
                async def add(ctx: restate.ObjectContext, n: int) -> int:
                    return n


                @svc.handler()
                async def greet(ctx: restate.Context, name: str) -> str:
                    return str(await add(ctx, 1)) + await welcome(ctx, name)


                @svc.handler(name="welcome")
                async def welcome(ctx: restate.Context, name: str) -> str:
                    return f"hi {name}"
            """),
            ((14, 22), (14, 43)),
            message="directly",
        ),
        Invalid(
            _code("""
                import restate

                wf = restate.Workflow("Signup")


                class Signup:
                    @wf.main()
                    @staticmethod
                    async def run(ctx: restate.WorkflowContext, email: str) -> str:
                        return await Signup.verify(ctx, email)

                    @staticmethod
                    @wf.handler()
                    async def verify(ctx: restate.WorkflowSharedContext, email: str) -> str:
                        return email
            """),
            ((10, 22),),
            message="workflow_call",
            note="handlers in a class, both decorator orders",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        model = module.model
        for _, node in model.handler_calls():
            found = callee(module, node.func)
            if found is None or isinstance(found.func, (ast.ClassDef, ast.Lambda)):
                continue
            handler = found.module.model.handler_of(found.func)
            if handler is None:
                continue
            kind = handler.service.kind if handler.service is not None else None
            ctx = model.context_name_at(node) or "ctx"
            target = " ".join(module.text(node.func).split())
            method = _CALL_METHOD.get(kind or "")
            if method == "service_call":
                use = f"await {ctx}.service_call({target}, arg=...)"
            elif method is not None:
                use = f"await {ctx}.{method}({target}, key=..., arg=...)"
            else:
                use = f"`{ctx}.service_call/object_call/workflow_call`"
            use = use if use.startswith("`") else f"`{use}`"
            service = handler.service.name if handler.service and handler.service.name else None
            named = f"`{service}/{handler.name}`" if service else f"`{handler.name}`"
            yield module.finding(
                self,
                node,
                f"handler {named} is called directly as a Python function: it runs inside "
                "this invocation (this journal, this key, no own retries or idempotency) "
                f"instead of through Restate; use {use}",
            )


# ------------------------------------------------------------------------------------------------
# IDL503
# ------------------------------------------------------------------------------------------------
def _lazy_init(target: ast.expr) -> bool:
    """One-time initialisation: ``if X is None: X = ...`` / ``if not X:`` for a global, and
    ``if key not in CACHE: CACHE[key] = ...`` for a memo entry."""
    holder = target.value if isinstance(target, ast.Subscript) else target
    if not isinstance(holder, ast.Name):
        return False
    name = holder.id
    current = parent(target)
    while current is not None and not isinstance(current, (*FUNCTION_NODES, ast.Module)):
        if isinstance(current, ast.If):
            for node in ast.walk(current.test):
                if _guards(node, name, isinstance(target, ast.Subscript)):
                    return True
        current = parent(current)
    return False


def _guards(node: ast.AST, name: str, entry: bool) -> bool:
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, op, right = node.left, node.ops[0], node.comparators[0]
        if entry:
            return isinstance(op, ast.NotIn) and isinstance(right, ast.Name) and right.id == name
        return (
            isinstance(op, ast.Is)
            and isinstance(left, ast.Name)
            and left.id == name
            and isinstance(right, ast.Constant)
            and right.value is None
        )
    return (
        not entry
        and isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.Not)
        and isinstance(node.operand, ast.Name)
        and node.operand.id == name
    )


def _shared_binding(module: ModuleAnalysis, expr: ast.AST) -> Binding | None:
    """The module- or class-level binding a name / ``self.x`` / ``Cls.x`` refers to."""
    resolver = module.resolver
    if isinstance(expr, ast.Name):
        binding = resolver.binding(expr)
        if binding is not None and (binding.scope.parent is None or binding.scope.is_class):
            return binding
        return None
    if isinstance(expr, ast.Attribute):
        attribute = resolver.self_attribute(expr)
        if attribute is not None:
            return attribute if attribute.scope.is_class else None
        if isinstance(expr.value, ast.Name):
            owner = resolver.definition(expr.value)
            if isinstance(owner, ast.ClassDef):
                from ..scopes import own_scope

                scope = own_scope(owner)
                bindings = scope.bindings.get(expr.attr) if scope is not None else None
                if bindings:
                    return bindings[-1]
    return None


_MUTATING_NODES = frozenset({ast.Assign, ast.Delete, ast.AugAssign, ast.AnnAssign, ast.Call})


def _module_state(module: ModuleAnalysis, node: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    resolver = module.resolver
    targets: list[ast.expr] = []
    if isinstance(node, (ast.Assign, ast.Delete)):
        targets = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and not (
        isinstance(node, ast.AnnAssign) and node.value is None
    ):
        targets = [node.target]
    while targets:
        target = targets.pop(0)
        if isinstance(target, (ast.Tuple, ast.List)):
            targets.extend(target.elts)
            continue
        if isinstance(target, ast.Starred):
            targets.append(target.value)
            continue
        if isinstance(target, ast.Name):
            if target.id in scope_of(target).declared_global and not _lazy_init(target):
                yield target, target.id
            continue
        if isinstance(target, ast.Attribute):
            base = target.value
            if isinstance(base, ast.Name):
                binding = resolver.binding(base)
                if binding is not None and binding.scope.parent is None and (
                    binding.kind in (Kind.ASSIGN, Kind.CLASS)
                ):
                    yield target, " ".join(module.text(target).split())
                    continue
            shared = _shared_binding(module, base)
            if shared is not None and is_container_binding(module, shared):
                yield target, " ".join(module.text(target).split())
            continue
        if isinstance(target, ast.Subscript):
            holder: ast.expr = target.value
            while isinstance(holder, ast.Subscript):
                holder = holder.value
            shared = _shared_binding(module, holder)
            if (
                shared is not None
                and is_container_binding(module, shared)
                and not _lazy_init(target)
            ):
                yield target, " ".join(module.text(target).split())
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr not in MUTATORS:
            return
        holder = node.func.value
        while isinstance(holder, ast.Subscript):
            holder = holder.value
        shared = _shared_binding(module, holder)
        if shared is not None and is_container_binding(module, shared):
            yield node, " ".join(module.text(node.func.value).split())


@register
class ModuleStateInHandler(Rule):
    code = "IDL503"
    name = "handler-mutates-module-state"
    summary = "Handler code mutates module-level or class-level state"
    severity = "error"
    VALID = [
        Valid(_code("""
            import httpx
            import restate

            svc = restate.VirtualObject("Cart")
            LIMITS = {"max": 10}
            _client = None
            _clients: dict = {}


            def client() -> httpx.AsyncClient:
                global _client
                if _client is None:
                    _client = httpx.AsyncClient()
                return _client


            def client_for(base_url: str) -> httpx.AsyncClient:
                if base_url not in _clients:
                    _clients[base_url] = httpx.AsyncClient(base_url=base_url)
                return _clients[base_url]


            @svc.handler()
            async def add(ctx: restate.ObjectContext, item: str) -> int:
                items = await ctx.get("items") or []
                items.append(item)
                ctx.set("items", items)
                seen = set()
                seen.add(item)
                client()
                client_for("https://api.example")
                return min(len(items), LIMITS["max"])
        """), note="Restate state, locals, reads, lazy initialisation, a cache of clients"),
    ]
    INVALID = [
        Invalid(
            _code("""
                from collections import defaultdict

                import restate

                svc = restate.Service("Stats")
                CALLS = defaultdict(int)
                SEEN: set = set()
                total = 0


                class Registry:
                    entries: list = []


                @svc.handler()
                async def hit(ctx: restate.Context, page: str) -> int:
                    global total
                    total += 1
                    CALLS[page] += 1
                    SEEN.add(page)
                    Registry.entries.append(page)
                    record(page)
                    return total


                def record(page: str) -> None:
                    Registry.last = page
            """),
            ((18, 5), (19, 5), (20, 5), (21, 5), (27, 5)),
            message="state",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for unit, node in module.model.handler_nodes():
            if type(node) not in _MUTATING_NODES:
                continue
            for found, what in _module_state(module, node):
                yield module.finding(
                    self,
                    found,
                    f"handler code mutates `{what}`, state that lives in the process: it is not "
                    "journaled (a replay or a retry on another instance sees another value) and "
                    "is shared by concurrent invocations; keep it in Restate state "
                    "(`ctx.set`) or pass it explicitly" + _via(module, unit),
                )


def _via(module: ModuleAnalysis, unit: Unit) -> str:
    if unit.reason != "called" or not unit.via:
        return ""
    chain = " -> ".join(f"`{module.text(c.func)}()` (line {c.lineno})" for c in unit.via)
    origin = f"handler `{unit.handler.name}`" if unit.handler else "a function receiving the context"
    return f" [reached from {origin} via {chain}]"


# ------------------------------------------------------------------------------------------------
# IDL504
# ------------------------------------------------------------------------------------------------
_LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
)
_STDLIB_LOGGERS = frozenset(
    {"logging.getLogger()", "logging.Logger()", "logging.LoggerAdapter()", "logging.root"}
)


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


@register
class OutputInHandler(Rule):
    code = "IDL504"
    name = "replayed-output"
    summary = "`print` or stdlib logging in handler code repeats on every replay"
    severity = "warning"
    default_enabled = False
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
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
        """), config={"select": ["IDL504"]}),
    ]
    INVALID = [
        Invalid(
            _code("""
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
            """),
            ((11, 5), (12, 5), (13, 5)),
            config={"select": ["IDL504"]},
            fixed=_code("""
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
            """),
        ),
        Invalid(
            _code("""
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
            """),
            ((11, 5),),
            config={"select": ["IDL504"]},
            note="the logger is used outside handlers too: no fix",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        model = module.model
        resolver = module.resolver
        filtered = "RestateLoggingFilter" in module.source.text
        for _, node in model.handler_calls():
            qualname = resolver.qualname(node.func)
            if qualname == "builtins.print":
                yield module.finding(
                    self,
                    node,
                    "`print()` in handler code runs again on every replay (duplicated "
                    "output); log with `restate.getLogger(...)` (it drops records while "
                    "replaying) or print inside a journaled action",
                )
                continue
            func = node.func
            if not isinstance(func, ast.Attribute) or func.attr not in _LOG_METHODS:
                continue
            if filtered:
                continue  # the module installs restate's replay filter itself
            receiver_name = resolver.qualname(func.value)
            if receiver_name != "logging" and receiver_name not in _STDLIB_LOGGERS:
                continue
            fix = None
            binding = _logger_binding(module, func.value)
            if binding is not None and _only_handler_uses(model, module, binding):
                value = binding.value
                assert isinstance(value, ast.Call)

                def build(fx: FixContext, call: ast.Call = value) -> list[Edit]:
                    spelled, edits = fx.import_name("restate", "getLogger")
                    return [*edits, fx.replace(call.func, spelled)]

                fix = Fix("safe", "Create the logger with `restate.getLogger(...)`", build)
            shown = " ".join(module.text(func).split())
            yield module.finding(
                self,
                node,
                f"`{shown}()` (stdlib logging) in handler code logs again on every replay; use "
                "a logger from `restate.getLogger(...)`, which drops records while replaying",
                fix=fix,
            )
