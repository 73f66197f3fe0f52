"""IDL201–IDL207: journaled actions (``ctx.run_typed`` / ``ctx.run``) used wrongly.

The function given to ``ctx.run_typed(name, action, options, *args, **kwargs)`` runs once; on
replay its journaled result is returned and the function is skipped. These rules find what
breaks under that contract: the outer context used inside the action, a call result passed
instead of a callable, a sync action returning a coroutine, a durable future never awaited,
outer state mutated by the action, misconfigured options, and the deprecated ``ctx.run``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from textwrap import dedent
from typing import TYPE_CHECKING

from ..analysis import ModuleAnalysis
from ..diagnostics import Edit, Finding, Fix, FixUnavailable
from ..fixes.context import FixContext
from ..model import Action, HandlerModel
from ..registry import Invalid, Rule, Valid, register
from ..scopes import FUNCTION_NODES, Kind, can_await, lookup, parent, position, scope_of
from .action_support import (
    MUTATORS,
    Frame,
    action_frames,
    action_label,
    call_frame,
    call_result_callable,
    callee,
    forwarded_arguments,
    inside,
    is_async_callable,
    is_container_expr,
    is_simple,
    outer_context,
    parameter_value,
    plain_call,
    returns_callable,
    root_name,
    walk_body,
)

if TYPE_CHECKING:  # libcst is imported only when a fix is built
    import libcst as cst

RUN_OPTIONS = "restate.RunOptions"


def _code(text: str) -> str:
    return dedent(text).lstrip("\n")


def _memo_actions(module: ModuleAnalysis) -> list[tuple[Action, list[Frame]]]:
    cached = module.memo.get("idl2_action_frames")
    if cached is None:
        model = module.model
        cached = module.memo["idl2_action_frames"] = [
            (action, action_frames(model, action)) for action in model.actions
        ]
    return cached  # type: ignore[no-any-return]


def _run_options(fx: FixContext) -> tuple[str, list[Edit]]:
    return fx.import_name("restate", "RunOptions")


def _forward_edits(
    fx: FixContext,
    action: Action,
    replaced: ast.AST,
    func: ast.expr,
    call: ast.Call,
) -> list[Edit]:
    """Replace the action argument ``replaced`` by ``func`` and forward ``call``'s arguments
    through ``run_typed`` (inserting ``RunOptions()`` when positional arguments follow)."""
    positional = [fx.text(a) for a in call.args]
    keywords = [fx.text(k) for k in call.keywords]
    edits: list[Edit] = []
    if action.options is not None:
        edits.append(fx.replace(replaced, fx.text(func)))
        if positional or keywords:
            _, _, end_line, end_col = fx.span(action.options)
            text = "".join(", " + p for p in (*positional, *keywords))
            edits.append(Edit(end_line, end_col, end_line, end_col, text))
        return edits
    parts = [fx.text(func)]
    if positional:
        options, edits = _run_options(fx)
        parts.append(f"{options}()")
    parts.extend(positional)
    parts.extend(keywords)
    return [*edits, fx.replace(replaced, ", ".join(parts))]


def _no_forwarded(action: Action) -> bool:
    positional, keywords = forwarded_arguments(action)
    return not positional and not keywords and action.spec.forwards


# ------------------------------------------------------------------------------------------------
# IDL201
# ------------------------------------------------------------------------------------------------
_DRAWS = frozenset({"random", "uuid"})


def _journaling(model: HandlerModel) -> frozenset[str]:
    """Context methods that must not run inside an action (see docs/rules/IDL201.md)."""
    return (model.fw.context_methods | _DRAWS) - {"scope"}


def _context_calls(
    model: HandlerModel, frame: Frame, methods: frozenset[str]
) -> Iterator[ast.Call]:
    for node in walk_body(frame.func):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in methods
            and outer_context(model, node.func.value, frame)
        ):
            yield node


def _helper_use(
    module: ModuleAnalysis,
    call: ast.Call,
    caller: Frame,
    methods: frozenset[str],
    seen: set[int],
    depth: int = 0,
) -> ast.Call | None:
    """A context call made by the function ``call`` reaches (transitively)."""
    if depth > 4:
        return None
    model = module.model
    func = module.resolver.definition(call.func)
    if not isinstance(func, FUNCTION_NODES) or inside(scope_of(func), caller.func):
        return None
    if id(func) in seen:
        return None
    seen.add(id(func))
    frame = call_frame(model, call, func, caller)
    for found in _context_calls(model, frame, methods):
        return found
    for node in walk_body(func):
        if isinstance(node, ast.Call) and model.action_call(node) is None:
            found_inner = _helper_use(module, node, frame, methods, seen, depth + 1)
            if found_inner is not None:
                return found_inner
    return None


def _context_message(module: ModuleAnalysis, call: ast.Call, label: str) -> str:
    method = call.func.attr  # type: ignore[attr-defined]
    shown = f"`{' '.join(module.text(call.func).split())}()`"
    if method in _DRAWS:
        return (
            f"{shown} inside the journaled action {label} draws from the context's "
            "deterministic random generator only when the action runs: on replay the action "
            "is skipped, so later `random()`/`uuid()` values in the handler change; draw the "
            "value in the handler and pass it to the action"
        )
    return (
        f"{shown} uses the outer Restate context inside the journaled action {label}: context "
        "operations are not allowed inside a run (the action is skipped on replay, so what it "
        "journals goes missing); do it in the handler, before or after the action"
    )


@register
class ContextInAction(Rule):
    code = "IDL201"
    name = "context-inside-journaled-action"
    summary = "The outer Restate context is used inside a journaled action"
    severity = "error"
    VALID = [
        Valid(_code("""
            import restate

            svc = restate.VirtualObject("Cart")


            async def undo(item: str) -> None:
                pass


            @svc.handler()
            async def add(ctx: restate.ObjectContext, item: str) -> str:
                key = ctx.key()
                request_id = ctx.request().id
                token = str(ctx.uuid())
                compensations = []
                compensations.append(lambda: ctx.run_typed("undo", undo, restate.RunOptions(), item))
                stored = await ctx.run_typed("store", lambda: f"{key}/{item}/{request_id}/{token}")
                ctx.set("last", stored)
                for compensation in compensations:
                    await compensation()
                return stored
        """), note="key()/request() are plain reads; compensations are not actions"),
        Valid(_code("""
            import restate

            svc = restate.Service("Greeter")


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                async def shout(ctx: str) -> str:  # a parameter that happens to be called ctx
                    return ctx.upper()

                return await ctx.run_typed("shout", shout, restate.RunOptions(), name)


            async def audit(ctx: object) -> None:  # not given the context by any handler
                print(ctx)
        """), note="an action's own parameter bound to something else"),
        Valid(_code("""
            import restate

            wf = restate.Workflow("Signup")


            class Mailer:
                def __init__(self, ctx: restate.WorkflowContext) -> None:
                    self.ctx = ctx

                def render(self, user: str) -> str:
                    return f"hello {user}"

                async def send(self, user: str) -> str:
                    body = await self.ctx.run_typed("render", self.render, restate.RunOptions(), user)
                    self.ctx.set("sent", body)
                    return body


            @wf.main()
            async def run(ctx: restate.WorkflowContext, user: str) -> str:
                return await Mailer(ctx).send(user)
        """), note="bound method without context use; the context used around it"),
    ]
    INVALID = [
        Invalid(
            _code("""
                from datetime import timedelta

                import restate

                svc = restate.VirtualObject("Cart")


                @svc.handler()
                async def add(ctx: restate.ObjectContext, item: str) -> None:
                    c = ctx

                    async def store() -> None:
                        c.set("item", item)
                        await ctx.sleep(timedelta(seconds=1))

                    await ctx.run_typed("store", store)
                    await ctx.run_typed("count", lambda s=c: s.clear("n"))
                    await ctx.run_typed("again", lambda: ctx.run_typed("inner", lambda: 1))
            """),
            ((13, 9), (14, 15), (17, 46), (18, 42)),
            message="journaled action",
            note="alias, default-argument lambda, nested def used before its definition ends",
        ),
        Invalid(
            _code("""
                import functools

                import restate
                from restate import Context as Ctx

                svc = restate.Service("Payments")


                async def charge(ctx: Ctx, amount: int) -> int:
                    await ctx.sleep(restate_delay())
                    return amount


                def restate_delay():
                    import datetime
                    return datetime.timedelta(seconds=1)


                def make_reporter(ctx: Ctx):
                    def report() -> str:
                        return str(ctx.uuid())
                    return report


                @svc.handler()
                async def pay(ctx: Ctx, amount: int) -> int:
                    await ctx.run_typed("report", make_reporter(ctx))
                    await ctx.run_typed("partial", functools.partial(charge, ctx, amount))
                    return await ctx.run_typed("charge", charge, restate.RunOptions(), ctx, amount)
            """),
            ((10, 11), (21, 20)),
            note="module function given the context by forwarding/partial; factory closure",
        ),
        Invalid(
            _code("""
                import restate

                obj = restate.VirtualObject("Counter")


                class Store:
                    def __init__(self, ctx: restate.ObjectContext) -> None:
                        self.ctx = ctx

                    def bump(self) -> None:
                        self.ctx.set("n", 1)

                    async def run(self) -> None:
                        await self.ctx.run_typed("bump", self.bump)
                        await self.ctx.run_typed("twice", lambda: self.bump())


                class Handlers:
                    @obj.handler()
                    @staticmethod
                    async def incr(ctx: restate.ObjectContext) -> None:
                        await Store(ctx).run()
            """),
            ((11, 9), (15, 51)),
            message="`self.ctx.set()`",
            note="context stored on self; bound method and a helper call inside a lambda",
        ),
        Invalid(
            _code("""
                import restate as rs


                def make_service() -> rs.Service:
                    svc = rs.Service("Factory")

                    class Handlers:
                        @staticmethod
                        @svc.handler()
                        async def hello(ctx: rs.Context, name: str) -> str:
                            greeting = await ctx.run_typed("greeting", lambda: ctx.get("greeting"))
                            return f"{greeting} {name}"

                    return svc
            """),
            ((11, 64),),
            note="handler nested in a factory function, in a class, aliased import",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        model = module.model
        methods = _journaling(model)
        reported: set[int] = set()
        for action, frames in _memo_actions(module):
            label = action_label(module, action)
            for frame in frames:
                for call in _context_calls(model, frame, methods):
                    if id(call) not in reported:
                        reported.add(id(call))
                        yield module.finding(self, call, _context_message(module, call, label))
                for node in walk_body(frame.func):
                    if not isinstance(node, ast.Call) or id(node) in reported:
                        continue
                    if model.action_call(node) is not None:
                        continue
                    used = _helper_use(module, node, frame, methods, set())
                    if used is None:
                        continue
                    reported.add(id(node))
                    shown = " ".join(module.text(used.func).split())
                    yield module.finding(
                        self,
                        node,
                        f"`{' '.join(module.text(node.func).split())}()` runs inside the "
                        f"journaled action {label} and uses the outer Restate context "
                        f"(`{shown}()`, line {used.lineno}): context operations are not allowed "
                        "inside a run; do them in the handler, before or after the action",
                    )


# ------------------------------------------------------------------------------------------------
# IDL202
# ------------------------------------------------------------------------------------------------
def _awaited_result_callable(module: ModuleAnalysis, expr: ast.Await) -> bool | None:
    """``await charge(amount)`` given as the action: what the coroutine returns."""
    call = expr.value
    if not isinstance(call, ast.Call):
        return None
    found = callee(module, call.func)
    if found is None or not isinstance(found.func, ast.AsyncFunctionDef):
        return None
    return returns_callable(found.module, found.func, awaited=True)


@register
class CallInsteadOfCallable(Rule):
    code = "IDL202"
    name = "action-is-call-result"
    summary = "A call result is passed as the journaled action instead of a callable"
    severity = "error"
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
            import functools

            import httpx
            import restate

            svc = restate.Service("Payments")


            def make_charge(amount: int):
                def charge() -> int:
                    return amount
                return charge


            class Charger:
                def __init__(self, amount: int) -> None:
                    self.amount = amount

                def __call__(self) -> int:
                    return self.amount


            async def fetch(url: str) -> int:
                async with httpx.AsyncClient() as client:
                    return (await client.get(url)).status_code


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> int:
                a = await ctx.run_typed("factory", make_charge(amount))
                b = await ctx.run_typed("partial", functools.partial(fetch, "https://psp.example"))
                c = await ctx.run_typed("instance", Charger(amount))
                d = await ctx.run_typed("lambda", lambda: a + b + c)
                return await ctx.run_typed("fetch", fetch, restate.RunOptions(), "https://psp.example") + d
        """), note="factories, partial, callable instances, forwarded arguments"),
        Valid(_code("""
            import restate

            from payments import build_action  # unknown: cannot tell what it returns

            svc = restate.Service("Payments")


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> int:
                return await ctx.run_typed("charge", build_action(amount))
        """)),
    ]
    INVALID = [
        Invalid(
            _code("""
                import requests

                import restate

                svc = restate.Service("Payments")


                async def charge(amount: int, currency: str = "EUR") -> dict:
                    return {"amount": amount, "currency": currency}


                def total(amount: int) -> int:
                    return amount * 2


                @svc.handler()
                async def pay(ctx: restate.Context, amount: int) -> dict:
                    receipt = await ctx.run_typed("charge", charge(amount, currency="USD"))
                    doubled = await ctx.run_typed("total", total(amount))
                    status = await ctx.run_typed("status", requests.get("https://psp.example/status"))
                    return {"receipt": receipt, "total": doubled, "status": status.status_code}
            """),
            ((18, 45), (19, 44), (20, 44)),
            unsafe=True,
            fixed=_code("""
                import requests

                import restate

                svc = restate.Service("Payments")


                async def charge(amount: int, currency: str = "EUR") -> dict:
                    return {"amount": amount, "currency": currency}


                def total(amount: int) -> int:
                    return amount * 2


                @svc.handler()
                async def pay(ctx: restate.Context, amount: int) -> dict:
                    receipt = await ctx.run_typed("charge", charge, restate.RunOptions(), amount, currency="USD")
                    doubled = await ctx.run_typed("total", lambda: total(amount))
                    status = await ctx.run_typed("status", lambda: requests.get("https://psp.example/status"))
                    return {"receipt": receipt, "total": doubled, "status": status.status_code}
            """),
        ),
        Invalid(
            _code("""
                from restate import Context, RunOptions, Service

                svc = Service("Mail")


                class Mailer:
                    async def send(self, to: str) -> str:
                        return to

                    def render(self, to: str) -> None:
                        print(to)


                @svc.handler()
                async def notify(ctx: Context, to: str) -> str:
                    mailer = Mailer()
                    await ctx.run_typed("render", mailer.render(to), RunOptions(max_attempts=3))
                    return await ctx.run_typed("send", await mailer.send(to), RunOptions(max_attempts=3))
            """),
            ((17, 35), (18, 40)),
            unsafe=True,
            fixed=_code("""
                from restate import Context, RunOptions, Service

                svc = Service("Mail")


                class Mailer:
                    async def send(self, to: str) -> str:
                        return to

                    def render(self, to: str) -> None:
                        print(to)


                @svc.handler()
                async def notify(ctx: Context, to: str) -> str:
                    mailer = Mailer()
                    await ctx.run_typed("render", lambda: mailer.render(to), RunOptions(max_attempts=3))
                    return await ctx.run_typed("send", mailer.send, RunOptions(max_attempts=3), to)
            """),
            note="bound methods, awaited coroutine, options already given",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for action, _ in _memo_actions(module):
            expr = action.action
            if isinstance(expr, ast.Call):
                if module.resolver.definition(expr) is not None:
                    continue  # functools.partial(...)
                if call_result_callable(module, expr) is not False:
                    continue
                inner = expr
            elif isinstance(expr, ast.Await) and isinstance(expr.value, ast.Call):
                if _awaited_result_callable(module, expr) is not False:
                    continue
                inner = expr.value
            else:
                continue
            shown = " ".join(module.text(inner.func).split())
            yield module.finding(
                self,
                expr,
                f"`{shown}(...)` is called in the handler and its result is passed as the "
                f"journaled action {action_label(module, action)}: the call runs outside the "
                "journal (again on every replay) and the SDK then fails to call its result; "
                "pass a callable",
                fix=self._fix(module, action, expr, inner),
            )

    def _fix(
        self, module: ModuleAnalysis, action: Action, expr: ast.expr, inner: ast.Call
    ) -> Fix | None:
        if not plain_call(inner):
            return None
        positional, keywords = forwarded_arguments(action)
        if positional or keywords:
            return None  # the action already receives arguments: not a mechanical rewrite
        is_async = isinstance(expr, ast.Await) or is_async_callable(module, inner.func)
        if is_async:
            if not action.spec.forwards:
                return None  # ctx.run: IDL207 rewrites it to run_typed first

            def forward(fx: FixContext) -> list[Edit]:
                return _forward_edits(fx, action, expr, inner.func, inner)

            return Fix("unsafe", "Pass the function and forward its arguments", forward)
        if is_async is None:
            return None

        def wrap(fx: FixContext) -> list[Edit]:
            return [fx.replace(expr, f"lambda: {fx.text(expr)}")]

        return Fix("unsafe", "Wrap the call in a lambda", wrap)


# ------------------------------------------------------------------------------------------------
# IDL203
# ------------------------------------------------------------------------------------------------
def _coroutine_call(module: ModuleAnalysis, expr: ast.AST | None) -> ast.Call | None:
    if isinstance(expr, ast.Call) and is_async_callable(module, expr.func):
        return expr
    return None


@register
class SyncActionReturnsCoroutine(Rule):
    code = "IDL203"
    name = "sync-action-returns-coroutine"
    summary = "A sync journaled action calls an async function without awaiting it"
    severity = "error"
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
            import asyncio

            import httpx
            import restate

            svc = restate.Service("Fetcher")


            async def fetch(url: str) -> int:
                async with httpx.AsyncClient() as client:
                    return (await client.get(url)).status_code


            def fetch_blocking(url: str) -> int:
                return asyncio.run(fetch(url))


            @svc.handler()
            async def get(ctx: restate.Context, url: str) -> int:
                a = await ctx.run_typed("async", fetch, restate.RunOptions(), url)
                b = await ctx.run_typed("thread", lambda: fetch_blocking(url))
                c = await ctx.run_typed("sync-wrapper", lambda: asyncio.run(fetch(url)))

                async def inner() -> int:
                    return await fetch(url)

                return a + b + c + await ctx.run_typed("inner", inner)
        """)),
    ]
    INVALID = [
        Invalid(
            _code("""
                import httpx
                import restate

                svc = restate.Service("Fetcher")
                client = httpx.AsyncClient()


                async def fetch(url: str, timeout: float = 5.0) -> int:
                    return (await client.get(url, timeout=timeout)).status_code


                @svc.handler()
                async def get(ctx: restate.Context, url: str) -> int:
                    status = await ctx.run_typed("fetch", lambda: fetch(url, timeout=1.0))
                    raw = await ctx.run_typed("raw", lambda: client.get(url))
                    return status + raw.status_code
            """),
            ((14, 51), (15, 46)),
            fixed=_code("""
                import httpx
                import restate

                svc = restate.Service("Fetcher")
                client = httpx.AsyncClient()


                async def fetch(url: str, timeout: float = 5.0) -> int:
                    return (await client.get(url, timeout=timeout)).status_code


                @svc.handler()
                async def get(ctx: restate.Context, url: str) -> int:
                    status = await ctx.run_typed("fetch", fetch, restate.RunOptions(), url, timeout=1.0)
                    raw = await ctx.run_typed("raw", lambda: client.get(url))
                    return status + raw.status_code
            """),
            note="the AsyncClient method gets only an unsafe fix",
        ),
        Invalid(
            _code("""
                import restate
                from restate import RunOptions

                svc = restate.Service("Fetcher")


                async def fetch(url: str) -> int:
                    return len(url)


                @svc.handler()
                async def get(ctx: restate.Context, url: str) -> int:
                    def action():
                        return fetch(url)

                    def fire() -> None:
                        fetch(url)

                    await ctx.run_typed("fire", fire)
                    await ctx.run_typed("raw", lambda: fetch(url), RunOptions(max_attempts=2))
                    return await ctx.run_typed("fetch", action)
            """),
            ((14, 16), (17, 9), (20, 40)),
            fixed=_code("""
                import restate
                from restate import RunOptions

                svc = restate.Service("Fetcher")


                async def fetch(url: str) -> int:
                    return len(url)


                @svc.handler()
                async def get(ctx: restate.Context, url: str) -> int:
                    def action():
                        return fetch(url)

                    def fire() -> None:
                        fetch(url)

                    await ctx.run_typed("fire", fire)
                    await ctx.run_typed("raw", fetch, RunOptions(max_attempts=2), url)
                    return await ctx.run_typed("fetch", action)
            """),
            note="a def used after its definition; a coroutine created and dropped",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        reported: set[int] = set()
        for action, frames in _memo_actions(module):
            label = action_label(module, action)
            for frame in frames:
                target = frame.func
                if isinstance(target, ast.AsyncFunctionDef):
                    continue
                found: list[tuple[ast.Call, bool]] = []
                if isinstance(target, ast.Lambda):
                    call = _coroutine_call(module, target.body)
                    if call is not None:
                        found.append((call, True))
                else:
                    for node in walk_body(target, nested=False):
                        if isinstance(node, ast.Return):
                            call = _coroutine_call(module, node.value)
                            if call is not None:
                                found.append((call, True))
                        elif isinstance(node, ast.Expr):
                            call = _coroutine_call(module, node.value)
                            if call is not None:
                                found.append((call, False))
                for call, returned in found:
                    if id(call) in reported:
                        continue
                    reported.add(id(call))
                    shown = " ".join(module.text(call.func).split())
                    if returned:
                        message = (
                            f"`{shown}()` returns a coroutine from the sync journaled action "
                            f"{label}: sync actions run in a worker thread, so the coroutine is "
                            "never awaited and its value cannot be journaled; pass the async "
                            f"function itself: `ctx.run_typed(name, {shown}, RunOptions(), *args)`"
                        )
                    else:
                        message = (
                            f"`{shown}()` creates a coroutine that is never awaited in the sync "
                            f"journaled action {label}: it never runs; make the action async "
                            "and await it"
                        )
                    fix = self._fix(module, action, target, call) if returned else None
                    yield module.finding(self, call, message, fix=fix)

    def _fix(
        self, module: ModuleAnalysis, action: Action, target: ast.AST, call: ast.Call
    ) -> Fix | None:
        lambda_ = action.action
        if lambda_ is not target or not isinstance(lambda_, ast.Lambda):
            return None
        args = lambda_.args
        if args.args or args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg:
            return None
        if not plain_call(call) or not _no_forwarded(action):
            return None
        found = callee(module, call.func)
        safe = (
            found is not None
            and found.is_async
            and all(is_simple(a) for a in (*call.args, *call.keywords))
        )

        def build(fx: FixContext) -> list[Edit]:
            return _forward_edits(fx, action, lambda_, call.func, call)

        return Fix(
            "safe" if safe else "unsafe",
            f"Pass `{module.text(call.func)}` and forward its arguments",
            build,
        )


# ------------------------------------------------------------------------------------------------
# IDL204
# ------------------------------------------------------------------------------------------------
_APPENDERS = frozenset({"append", "extend", "insert", "add", "appendleft", "extendleft"})
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def _durable_call(model: HandlerModel, node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    func = node.func
    if func.attr in model.fw.durable and model.is_context(func.value):
        return True
    inner = func.value
    return (
        func.attr == "value"
        and isinstance(inner, ast.Call)
        and isinstance(inner.func, ast.Attribute)
        and inner.func.attr == "promise"
        and model.is_context(inner.func.value)
    )


class _Consumption:
    """Does a value reach an ``await``, a call, a container that is used, a return ...?"""

    def __init__(self, module: ModuleAnalysis) -> None:
        self.module = module
        module.name_loads("")  # builds the shared index
        self.loads: dict[str, list[ast.Name]] = module.memo["name_loads"]

    def consumed(self, expr: ast.AST, depth: int = 0) -> bool:
        if depth > 12:
            return True
        up = parent(expr)
        if up is None or isinstance(up, ast.Expr):
            return False
        if isinstance(up, ast.Call):
            func = up.func
            if (
                expr is not func
                and isinstance(func, ast.Attribute)
                and func.attr in _APPENDERS
                and isinstance(func.value, ast.Name)
            ):
                binding = self.module.resolver.binding(func.value)
                if binding is not None and binding.kind is Kind.ASSIGN:
                    return self.name_used(func.value.id, binding.scope, func.value, depth + 1)
            return True
        if isinstance(
            up,
            (ast.keyword, ast.Starred, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp,
             ast.SetComp, ast.GeneratorExp, ast.DictComp),
        ):
            if isinstance(up, (ast.ListComp, ast.SetComp, ast.GeneratorExp)) and expr is not up.elt:
                return True
            if isinstance(up, ast.DictComp) and expr not in (up.key, up.value):
                return True
            return self.consumed(up, depth + 1)
        if isinstance(up, ast.IfExp):
            return expr is up.test or self.consumed(up, depth + 1)
        if isinstance(up, ast.NamedExpr):
            return self.consumed(up, depth + 1) or self._target_used(up.target, depth)
        if isinstance(up, (ast.Assign, ast.AnnAssign)):
            targets = up.targets if isinstance(up, ast.Assign) else [up.target]
            return any(self._target_used(t, depth) for t in targets)
        return True  # await, return, yield, lambda body, attribute, comparison, ...

    def _target_used(self, target: ast.expr, depth: int) -> bool:
        if not isinstance(target, ast.Name):
            return True  # stored on an object or unpacked: assume it is used
        return self.name_used(target.id, scope_of(target), target, depth + 1)

    def name_used(self, name: str, scope: object, store: ast.AST, depth: int) -> bool:
        """Whether a name bound at ``store`` is used (other than being appended to)."""
        from ..scopes import Scope

        assert isinstance(scope, Scope)
        if name in scope.declared_global or name in scope.declared_nonlocal:
            return True
        if scope.parent is None:
            return True  # module level
        in_loop = any(isinstance(a, _LOOPS) for a in _ancestors_within(store, scope.node))
        where = position(store)
        rebound = None if in_loop else _rebound_at(store, name)
        for load in self.loads.get(name, ()):
            if not inside(scope_of(load), scope.node):
                continue
            binding = lookup(scope_of(load), name)
            if binding is None or binding.scope is not scope:
                continue
            if not in_loop and position(load) < where:
                continue
            if rebound is not None and position(load) > rebound:
                continue  # sees the later assignment
            up = parent(load)
            if (
                isinstance(up, ast.Attribute)
                and up.attr in _APPENDERS
                and isinstance(parent(up), ast.Call)
                and parent(up).func is up  # type: ignore[union-attr]
            ):
                continue
            if self.consumed(load, depth + 1):
                return True
        return False


def _rebound_at(store: ast.AST, name: str) -> tuple[int, int] | None:
    """Where a later statement of the same block assigns ``name`` again (unconditionally)."""
    statement = parent(store)
    block_owner = parent(statement) if statement is not None else None
    if not isinstance(statement, (ast.Assign, ast.AnnAssign)) or block_owner is None:
        return None
    for field_name in ("body", "orelse", "finalbody"):
        block = getattr(block_owner, field_name, None)
        if isinstance(block, list) and statement in block:
            for later in block[block.index(statement) + 1 :]:
                targets = (
                    later.targets if isinstance(later, ast.Assign)
                    else [later.target] if isinstance(later, ast.AnnAssign) and later.value
                    else []
                )
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    value = later.value
                    end = (value.end_lineno or 0, value.end_col_offset or 0) if value else None
                    return end
            return None
    return None


def _ancestors_within(node: ast.AST, stop: ast.AST) -> Iterator[ast.AST]:
    current = parent(node)
    while current is not None and current is not stop:
        yield current
        current = parent(current)


def _future_message(module: ModuleAnalysis, call: ast.Call) -> str:
    model = module.model
    method = call.func.attr  # type: ignore[attr-defined]
    shown = f"`{' '.join(module.text(call.func).split())}(...)`"
    if method in model.fw.journaled_actions:
        why = "the handler does not wait for the action, its result and errors are lost, and it may never run"
    elif method == "sleep":
        why = "nothing waits for the timer, so the handler does not pause"
    elif method in model.fw.calls:
        send = method.replace("_call", "_send")
        why = (
            f"the call is made but its result and errors are never seen; use `{send}` if you "
            "do not need them"
        )
    else:
        why = "its value is never read"
    return f"{shown} creates a durable future that is never awaited: {why}"


@register
class UnawaitedDurableFuture(Rule):
    code = "IDL204"
    name = "durable-future-not-awaited"
    summary = "A durable future (run, sleep, call, state read) is created and never awaited"
    severity = "error"
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
            from datetime import timedelta

            import restate

            svc = restate.Service("Fanout")


            @svc.handler()
            async def fan(ctx: restate.Context, items: list) -> list:
                first = ctx.run_typed("first", lambda: 1)
                pending = []
                for item in items:
                    pending.append(ctx.run_typed(f"step-{item}", lambda: 2))
                done = [await f for f in await restate.gather(*pending)]
                winner = await restate.select(result=ctx.run_typed("r", lambda: 3), timeout=ctx.sleep(timedelta(seconds=5)))
                futures = [ctx.sleep(timedelta(seconds=i)) for i in range(3)]
                await restate.gather(*futures)
                compensations = [lambda: ctx.run_typed("undo", lambda: 0)]
                for undo in compensations:
                    await undo()
                return [await first, *done, winner]


            async def later(ctx: restate.Context):
                return ctx.run_typed("later", lambda: 4)
        """)),
        Valid(_code("""
            import restate

            svc = restate.Service("Calls")
            other = restate.Service("Other")


            @other.handler()
            async def work(ctx: restate.Context, n: int) -> int:
                return n


            @svc.handler()
            async def call(ctx: restate.Context, flag: bool) -> int:
                if flag:
                    fut = ctx.service_call(work, 1)
                else:
                    fut = ctx.service_call(work, 2)
                handle = ctx.service_call(work, 3)
                invocation = await handle.invocation_id()
                return await fut + len(invocation)
        """), note="futures assigned in branches and used later"),
    ]
    INVALID = [
        Invalid(
            _code("""
                from datetime import timedelta

                import restate

                svc = restate.Service("Reminders")


                @svc.handler()
                async def remind(ctx: restate.Context, user: str) -> None:
                    ctx.run_typed("email", lambda: user)
                    ctx.sleep(timedelta(minutes=5))
                    unused = ctx.get("x")
                    pending = []
                    pending.append(ctx.run_typed("sms", lambda: user))
            """),
            ((10, 5), (11, 5), (12, 14), (14, 20)),
            fixed=_code("""
                from datetime import timedelta

                import restate

                svc = restate.Service("Reminders")


                @svc.handler()
                async def remind(ctx: restate.Context, user: str) -> None:
                    await ctx.run_typed("email", lambda: user)
                    await ctx.sleep(timedelta(minutes=5))
                    unused = ctx.get("x")
                    pending = []
                    pending.append(ctx.run_typed("sms", lambda: user))
            """),
        ),
        Invalid(
            _code("""
                import restate

                svc = restate.Service("Calls")
                other = restate.Service("Other")


                @other.handler()
                async def work(ctx: restate.Context, n: int) -> int:
                    return n


                class Handlers:
                    @staticmethod
                    @svc.handler()
                    async def call(ctx: restate.Context) -> None:
                        ctx.service_call(work, 1)
            """),
            ((16, 9),),
            message="service_send",
            unsafe=True,
            fixed=_code("""
                import restate

                svc = restate.Service("Calls")
                other = restate.Service("Other")


                @other.handler()
                async def work(ctx: restate.Context, n: int) -> int:
                    return n


                class Handlers:
                    @staticmethod
                    @svc.handler()
                    async def call(ctx: restate.Context) -> None:
                        await ctx.service_call(work, 1)
            """),
            note="a call: adding await makes the handler wait (unsafe)",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        model = module.model
        consumption = _Consumption(module)
        for _, node in model.handler_calls():
            if not _durable_call(model, node) or consumption.consumed(node):
                continue
            assert isinstance(node, ast.Call)
            fix = None
            if isinstance(parent(node), ast.Expr) and can_await(node):
                method = node.func.attr  # type: ignore[attr-defined]
                safe = method not in model.fw.calls

                def build(fx: FixContext, call: ast.Call = node) -> list[Edit]:
                    return [fx.insert_before(call, "await ")]

                fix = Fix("safe" if safe else "unsafe", "Await the future", build)
            yield module.finding(self, node, _future_message(module, node), fix=fix)


# ------------------------------------------------------------------------------------------------
# IDL205
# ------------------------------------------------------------------------------------------------
def _origin_outer(
    module: ModuleAnalysis, expr: ast.AST | None, frame: Frame | None, depth: int = 0
) -> ast.Name | None:
    """The outer name an object reached from ``expr`` lives in (evaluated in ``frame``)."""
    if expr is None or depth > 10:
        return None
    name = root_name(expr)
    if name is None:
        return None
    binding = module.resolver.binding(name)
    if binding is None or binding.kind is Kind.IMPORT:
        return None
    if frame is None:
        return name if binding.kind is not Kind.IMPORT else None
    if not inside(binding.scope, frame.func):
        return name
    if binding.kind is Kind.PARAM:
        value = parameter_value(binding, frame)
        return _origin_outer(module, value[0], value[1], depth + 1) if value else None
    if binding.kind is Kind.ASSIGN and isinstance(binding.value, (ast.Name, ast.Attribute)):
        return _origin_outer(module, binding.value, frame, depth + 1)
    return None


def _container_origin(
    module: ModuleAnalysis, expr: ast.AST, frame: Frame | None, depth: int = 0
) -> bool:
    """Whether ``expr`` (evaluated in ``frame``) is a known list/dict/set/... ."""
    if depth > 10:
        return False
    if isinstance(expr, ast.Subscript):
        return _container_origin(module, expr.value, frame, depth + 1)
    if isinstance(expr, ast.Name) and frame is not None:
        binding = module.resolver.binding(expr)
        if binding is not None and inside(binding.scope, frame.func):
            if binding.kind is Kind.PARAM:
                value = parameter_value(binding, frame)
                if value is not None:
                    return _container_origin(module, value[0], value[1], depth + 1)
            if binding.kind is Kind.ASSIGN and isinstance(binding.value, (ast.Name, ast.Attribute)):
                return _container_origin(module, binding.value, frame, depth + 1)
    return is_container_expr(module, expr)


def _nonlocal_outside(name: str, scope: object, frame: Frame) -> bool:
    from ..scopes import Scope

    assert isinstance(scope, Scope)
    if name in scope.declared_global:
        return True
    if name not in scope.declared_nonlocal:
        return False
    current = scope.parent
    while current is not None:
        if current.is_function and name in current.bindings and name not in current.declared_nonlocal:
            return not inside(current, frame.func)
        current = current.parent
    return True


def _assigned_targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, (ast.Assign, ast.Delete)):
        raw = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        raw = [node.target] if not (isinstance(node, ast.AnnAssign) and node.value is None) else []
    else:
        return []
    out: list[ast.expr] = []
    while raw:
        target = raw.pop(0)
        if isinstance(target, (ast.Tuple, ast.List)):
            raw.extend(target.elts)
        elif isinstance(target, ast.Starred):
            raw.append(target.value)
        else:
            out.append(target)
    return out


def outer_mutations(
    module: ModuleAnalysis, frame: Frame
) -> Iterator[tuple[ast.AST, str]]:
    """Mutations of state that lives outside the frame's function (node, what)."""
    model = module.model
    for node in walk_body(frame.func):
        for target in _assigned_targets(node):
            if isinstance(target, ast.Name):
                if _nonlocal_outside(target.id, scope_of(target), frame):
                    yield target, target.id
            elif isinstance(target, (ast.Attribute, ast.Subscript)):
                if model.is_context(target.value):
                    continue
                if _origin_outer(module, target, frame) is not None:
                    yield target, " ".join(module.text(target).split())
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS
        ):
            receiver = node.func.value
            if outer_context(model, receiver, frame):
                continue
            if _origin_outer(module, receiver, frame) is None:
                continue
            if _container_origin(module, receiver, frame):
                yield node, " ".join(module.text(receiver).split())


@register
class ActionMutatesOuterState(Rule):
    code = "IDL205"
    name = "action-mutates-outer-state"
    summary = "A journaled action mutates state that lives outside it"
    severity = "error"
    VALID = [
        Valid(_code("""
            import restate

            svc = restate.Service("Orders")


            @svc.handler()
            async def order(ctx: restate.Context, items: list) -> list:
                def build() -> list:
                    lines = []
                    for item in items:
                        lines.append(item.upper())
                    seen = {}
                    seen["n"] = len(lines)
                    return lines

                lines = await ctx.run_typed("build", build)
                totals = {}
                totals["count"] = len(lines)  # handler code, not the action
                lines.append("done")
                return lines
        """), note="locals of the action; mutation in the handler"),
        Valid(_code("""
            import restate
            from sqlalchemy.orm import Session

            svc = restate.Service("Orders")
            db = Session()


            @svc.handler()
            async def order(ctx: restate.Context, sku: str) -> None:
                await ctx.run_typed("save", lambda: db.add(sku))
        """), note="a client's method is the side effect the action journals"),
    ]
    INVALID = [
        Invalid(
            _code("""
                import restate

                svc = restate.Service("Orders")
                AUDIT: list = []


                @svc.handler()
                async def order(ctx: restate.Context, items: list) -> int:
                    results = []
                    state = {"n": 0}
                    count = 0

                    def bump() -> None:
                        nonlocal count
                        count += 1
                        state["n"] += 1

                    await ctx.run_typed("collect", lambda: results.append(len(items)))
                    await ctx.run_typed("bump", bump)
                    await ctx.run_typed("audit", lambda log=AUDIT: log.extend(items))
                    await ctx.run_typed("extend", add_all, restate.RunOptions(), results, items)
                    return count + len(results)


                def add_all(target: list, values: list) -> None:
                    target.extend(values)
            """),
            ((15, 9), (16, 9), (18, 44), (20, 52), (26, 5)),
            message="outside",
        ),
        Invalid(
            _code("""
                import restate

                obj = restate.VirtualObject("Counter")


                class Counter:
                    def __init__(self) -> None:
                        self.total = 0

                    def add(self, n: int) -> int:
                        self.total += n
                        return self.total


                @obj.handler()
                async def add(ctx: restate.ObjectContext, n: int) -> int:
                    counter = Counter()
                    return await ctx.run_typed("add", counter.add, restate.RunOptions(), n)
            """),
            ((11, 9),),
            note="a bound method mutating its instance",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        reported: set[int] = set()
        for action, frames in _memo_actions(module):
            label = action_label(module, action)
            for frame in frames:
                for node, what in outer_mutations(module, frame):
                    if id(node) in reported:
                        continue
                    reported.add(id(node))
                    yield module.finding(
                        self,
                        node,
                        f"the journaled action {label} mutates `{what}`, which lives outside "
                        "it: on replay the action is skipped and the mutation does not happen, "
                        "so the handler sees different state; return the value from the action "
                        "and assign it in the handler",
                    )


# ------------------------------------------------------------------------------------------------
# IDL206
# ------------------------------------------------------------------------------------------------
def _is_run_options(module: ModuleAnalysis, expr: ast.AST) -> bool:
    return isinstance(expr, ast.Call) and module.resolver.qualname(expr.func) == RUN_OPTIONS


def _move_options(fx: FixContext, call: ast.Call, keyword: ast.keyword, slot: int) -> list[Edit]:
    import libcst as cst

    node = fx.cst_expression(call)
    if not isinstance(node, cst.Call):
        raise FixUnavailable("not a call")
    args = list(node.args)
    last_comma = args[-1].comma
    index = next(
        (i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == keyword.arg),
        None,
    )
    if index is None:
        raise FixUnavailable("keyword not found")
    moved = args.pop(index)
    args.insert(slot, cst.Arg(value=moved.value))
    rebuilt: list[cst.Arg] = []
    for i, arg in enumerate(args):
        if i == len(args) - 1:
            rebuilt.append(arg.with_changes(comma=last_comma))
        elif isinstance(arg.comma, cst.Comma):
            rebuilt.append(arg)
        else:
            rebuilt.append(arg.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))))
    return [fx.replace(call, fx.code(node.with_changes(args=rebuilt)))]


@register
class RunOptionsMisuse(Rule):
    code = "IDL206"
    name = "run-options-misconfigured"
    summary = "run_typed options passed by keyword, or RunOptions(max_retry_duration=...)"
    severity = "error"
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
            from datetime import timedelta

            import restate
            from restate import RunOptions

            svc = restate.Service("Payments")


            def charge(amount: int, options: dict) -> int:
                return amount + len(options)


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> int:
                opts = RunOptions(max_attempts=3, max_duration=timedelta(seconds=30))
                a = await ctx.run_typed("charge", charge, opts, amount, options={"retry": True})
                return a + await ctx.run_typed("again", lambda: a, RunOptions(max_attempts=1))
        """), note="`options=` forwarded to an action that takes it"),
    ]
    INVALID = [
        Invalid(
            _code("""
                from datetime import timedelta

                import restate

                svc = restate.Service("Payments")


                def charge() -> int:
                    return 1


                @svc.handler()
                async def pay(ctx: restate.Context) -> int:
                    a = await ctx.run_typed("charge", charge, options=restate.RunOptions(max_attempts=3))
                    b = await ctx.run_typed(
                        "again",
                        charge,
                        options=restate.RunOptions(max_retry_duration=timedelta(seconds=5)),
                    )
                    return a + b
            """),
            ((14, 47), (18, 9), (18, 36)),
            fixed=_code("""
                from datetime import timedelta

                import restate

                svc = restate.Service("Payments")


                def charge() -> int:
                    return 1


                @svc.handler()
                async def pay(ctx: restate.Context) -> int:
                    a = await ctx.run_typed("charge", charge, restate.RunOptions(max_attempts=3))
                    b = await ctx.run_typed(
                        "again",
                        charge,
                        restate.RunOptions(max_duration=timedelta(seconds=5)),
                    )
                    return a + b
            """),
        ),
        Invalid(
            _code("""
                import restate

                svc = restate.Service("Payments")


                async def charge(amount: int) -> int:
                    return amount


                @svc.handler()
                async def pay(ctx: restate.Context, amount: int) -> int:
                    return await ctx.run_typed("charge", charge, amount, options=restate.RunOptions())
            """),
            ((12, 58),),
            note="a forwarded positional argument sits in the options slot: no fix",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for action, frames in _memo_actions(module):
            spec = action.spec
            if not spec.forwards or spec.options is None:
                continue
            for keyword in action.call.keywords:
                if keyword.arg != "options":
                    continue
                explicit = _is_run_options(module, keyword.value)
                takes = [f.func for f in frames if _takes_options(f.func)]
                if not explicit and (not frames or takes):
                    continue
                fix = None
                if len(action.call.args) == spec.options and plain_call(action.call):
                    call, slot = action.call, spec.options

                    def build(fx: FixContext, call: ast.Call = call, kw: ast.keyword = keyword,
                              slot: int = slot) -> list[Edit]:
                        return _move_options(fx, call, kw, slot)

                    fix = Fix("safe", "Pass the options positionally", build)
                yield module.finding(
                    self,
                    keyword,
                    "`options=` is not run_typed's options: that parameter is positional-only, "
                    "so the keyword is forwarded to the action (a TypeError when the action is "
                    "called) and the run uses default options; pass it as the third positional "
                    "argument",
                    fix=fix,
                )
        for call in module.indexer.calls:
            if not _is_run_options(module, call):
                continue
            names = {k.arg for k in call.keywords}
            for keyword in call.keywords:
                if keyword.arg != "max_retry_duration":
                    continue
                fix = None
                if "max_duration" not in names:

                    def rename(fx: FixContext, kw: ast.keyword = keyword) -> list[Edit]:
                        return [fx.replace(kw, f"max_duration={fx.text(kw.value)}")]

                    fix = Fix("safe", "Rename to `max_duration`", rename)
                yield module.finding(
                    self,
                    keyword,
                    "`RunOptions(max_retry_duration=...)` is deprecated and ignored by "
                    "run_typed: the action retries without that limit; use `max_duration`",
                    fix=fix,
                )


def _takes_options(func: ast.AST) -> bool:
    if not isinstance(func, FUNCTION_NODES):
        return False
    args = func.args
    return args.kwarg is not None or any(
        a.arg == "options" for a in (*args.args, *args.kwonlyargs)
    )


# ------------------------------------------------------------------------------------------------
# IDL207
# ------------------------------------------------------------------------------------------------
_RUN_PARAMS = ("name", "action", "serde", "max_attempts", "max_retry_duration", "type_hint", "args")
_OPTION_NAMES = {"serde": "serde", "max_attempts": "max_attempts",
                 "max_retry_duration": "max_duration", "type_hint": "type_hint"}


def _comma() -> cst.Comma:
    import libcst as cst

    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _equal() -> cst.AssignEqual:
    import libcst as cst

    return cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
    )


def _positional(arg: cst.Arg) -> cst.Arg:
    import libcst as cst

    return arg.with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT)


def _joined(args: list[cst.Arg]) -> list[cst.Arg]:
    return [a.with_changes(comma=_comma()) for a in args[:-1]] + args[-1:]


def _optional_annotation(module: ModuleAnalysis, annotation: ast.expr | None) -> bool:
    """``Optional[X]``, ``Union[X, None]``, ``X | None`` (run_typed unwraps them, run does not)."""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            parsed = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return True
        text = ast.dump(parsed)
        return "Optional" in text or "None" in text
    if isinstance(annotation, ast.BinOp):
        return any(
            isinstance(side, ast.Constant) and side.value is None
            for side in (annotation.left, annotation.right)
        ) or _optional_annotation(module, annotation.left) or _optional_annotation(
            module, annotation.right
        )
    if isinstance(annotation, ast.Subscript):
        outer = module.resolver.qualname(annotation.value)
        if outer == "typing.Optional":
            return True
        if outer == "typing.Union":
            elts = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else []
            return any(isinstance(e, ast.Constant) and e.value is None for e in elts)
    return False


@register
class DeprecatedRun(Rule):
    code = "IDL207"
    name = "deprecated-ctx-run"
    summary = "Deprecated `ctx.run(...)`: use `ctx.run_typed(...)`"
    severity = "warning"
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
            import asyncio

            import restate

            svc = restate.Service("Jobs")


            def main() -> None:
                asyncio.run(asyncio.sleep(0))  # not the context


            @svc.handler()
            async def job(ctx: restate.Context, n: int) -> int:
                return await ctx.run_typed("double", lambda: n * 2)
        """)),
    ]
    INVALID = [
        Invalid(
            _code("""
                from datetime import timedelta

                import restate

                svc = restate.Service("Jobs")


                def double(n: int) -> int:
                    return n * 2


                @svc.handler()
                async def job(ctx: restate.Context, n: int) -> int:
                    a = await ctx.run("double", double, args=(n,))
                    b = await ctx.run("triple", lambda: n * 3, max_attempts=3, max_retry_duration=timedelta(seconds=10))
                    c = await ctx.run("plain", action=lambda: a + b)
                    return c
            """),
            ((14, 15), (15, 15), (16, 15)),
            fixed=_code("""
                from datetime import timedelta

                import restate

                svc = restate.Service("Jobs")


                def double(n: int) -> int:
                    return n * 2


                @svc.handler()
                async def job(ctx: restate.Context, n: int) -> int:
                    a = await ctx.run_typed("double", double, restate.RunOptions(), n)
                    b = await ctx.run_typed("triple", lambda: n * 3, restate.RunOptions(max_attempts=3, max_duration=timedelta(seconds=10)))
                    c = await ctx.run_typed("plain", lambda: a + b)
                    return c
            """),
        ),
        Invalid(
            _code("""
                from typing import Optional

                from restate import Context, Service

                svc = Service("Jobs")


                def lookup(key: str) -> Optional[dict]:
                    return None


                @svc.handler()
                async def job(ctx: Context, key: str, extra: tuple) -> dict:
                    found = await ctx.run("lookup", lookup, args=(key,))
                    more = await ctx.run("more", lookup, args=extra)
                    return found or more or {}
            """),
            ((14, 19), (15, 18)),
            message="run_typed",
            unsafe=True,
            fixed=_code("""
                from typing import Optional

                from restate import Context, Service, RunOptions

                svc = Service("Jobs")


                def lookup(key: str) -> Optional[dict]:
                    return None


                @svc.handler()
                async def job(ctx: Context, key: str, extra: tuple) -> dict:
                    found = await ctx.run_typed("lookup", lookup, RunOptions(), key)
                    more = await ctx.run_typed("more", lookup, RunOptions(), *extra)
                    return found or more or {}
            """),
            note="Optional return type and a non-literal args tuple: unsafe",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for action, frames in _memo_actions(module):
            if action.spec.forwards or action.spec.method not in module.model.fw.journaled_actions:
                continue
            call = action.call
            yield module.finding(
                self,
                call,
                "`ctx.run(...)` is deprecated: use `ctx.run_typed(name, action, "
                "RunOptions(...), *args)` (options in `RunOptions`, `max_retry_duration` "
                "becomes `max_duration`, `args` are passed positionally)",
                fix=self._fix(module, action, frames),
            )

    def _fix(self, module: ModuleAnalysis, action: Action, frames: list[Frame]) -> Fix | None:
        call = action.call
        if not plain_call(call) or len(call.args) > len(_RUN_PARAMS):
            return None
        values: dict[str, ast.expr] = {}
        for param, arg in zip(_RUN_PARAMS, call.args, strict=False):
            values[param] = arg
        for keyword in call.keywords:
            if keyword.arg not in _RUN_PARAMS or keyword.arg in values:
                return None
            values[keyword.arg] = keyword.value  # type: ignore[index]
        if "name" not in values or "action" not in values:
            return None
        safe = True
        packed = values.get("args")
        forwarded: list[ast.expr] = []
        starred: ast.expr | None = None
        if isinstance(packed, ast.Tuple):
            forwarded = list(packed.elts)
        elif packed is not None and not (isinstance(packed, ast.Constant) and packed.value is None):
            starred, safe = packed, False
        hint = values.get("type_hint")
        if hint is not None:
            safe = safe and not _optional_annotation(module, hint)
        elif not frames:
            safe = False  # the action's return annotation decides its serde: unknown here
        else:
            for frame in frames:
                returns = getattr(frame.func, "returns", None)
                if _optional_annotation(module, returns):
                    safe = False
        has_options = any(old in values for old in _OPTION_NAMES)
        needs_options = has_options or bool(forwarded) or starred is not None

        def build(fx: FixContext) -> list[Edit]:
            import libcst as cst

            node = fx.cst_expression(call)
            if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
                raise FixUnavailable("not a method call")
            original = list(node.args)
            by_param: dict[str, cst.Arg] = dict(
                zip(_RUN_PARAMS, [a for a in original if a.keyword is None], strict=False)
            )
            by_param.update((a.keyword.value, a) for a in original if a.keyword is not None)
            args = [_positional(by_param["name"]), _positional(by_param["action"])]
            edits: list[Edit] = []
            if needs_options:
                run_options, edits = _run_options(fx)
                options = [
                    cst.Arg(keyword=cst.Name(new), value=by_param[old].value, equal=_equal())
                    for old, new in _OPTION_NAMES.items()
                    if old in by_param
                ]
                value = cst.Call(func=cst.parse_expression(run_options), args=_joined(options))
                args.append(cst.Arg(value=value))
            packed = by_param.get("args")
            if forwarded and packed is not None and isinstance(packed.value, cst.Tuple):
                for element in packed.value.elements:
                    if isinstance(element, cst.StarredElement):
                        args.append(cst.Arg(value=element.value, star="*"))
                    else:
                        args.append(cst.Arg(value=element.value))
            elif starred is not None and packed is not None:
                args.append(cst.Arg(value=packed.value, star="*"))
            commas = [a.comma for a in original[:-1] if isinstance(a.comma, cst.Comma)]
            separators = commas + [commas[-1] if commas else _comma()] * len(args)
            args = [a.with_changes(comma=separators[i]) for i, a in enumerate(args[:-1])] + [
                args[-1].with_changes(comma=original[-1].comma)
            ]
            updated = node.with_changes(
                func=node.func.with_changes(attr=cst.Name("run_typed")), args=args
            )
            return [*edits, fx.replace(call, fx.code(updated))]

        return Fix("safe" if safe else "unsafe", "Rewrite as `ctx.run_typed(...)`", build)

