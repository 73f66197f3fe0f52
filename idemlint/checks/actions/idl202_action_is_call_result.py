"""IDL202 action-is-call-result."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...dataflow import call_result_callable, callee, is_async_callable, returns_callable
from ...diagnostics import Edit, Finding, Fix
from ...fixes.context import FixContext
from ...model import Action
from ...registry import Invalid, Rule, Valid
from ...syntax import plain_call
from ._shared import action_label, actions_with_frames, forward_edits, forwarded_arguments


class ActionIsCallResult(Rule):
    """
    ## What it does
    Reports a journaled action given as the *result of a call* that is not callable:
    `ctx.run_typed("charge", charge(amount))`, `ctx.run_typed("get", requests.get(url))`,
    `ctx.run_typed("send", await mailer.send(to))`.

    It reports only when it can tell the result is not callable:
    - the callee is an `async def` (the result is a coroutine), here or in another module of the
      linted tree;
    - a local (or imported, in the tree) `def` whose every `return` gives a non-callable (a literal,
      an f-string, arithmetic, a parameter annotated `str`/`int`/..., nothing at all, a generator) or
      whose return annotation names a non-callable type (`-> int`, `-> dict`);
    - a class without `__call__` (and without unknown bases or decorators);
    - an API from the knowledge base (`requests.get`, `httpx.AsyncClient().get`, `time.time`, ...);
    - builtins that never return callables (`str`, `len`, `dict`, `sorted`, ...).

    Factories are fine and not reported: a callee returning a `def`/`lambda`/`functools.partial`, or
    annotated `-> Callable[...]`, `functools.partial(...)` itself, and classes defining `__call__`.
    An unknown callee (from a package outside the tree) is not reported.

    ## Why is this bad?
    The call runs in the handler when the arguments of `run_typed` are evaluated — outside the
    journal, again on every replay: the payment is charged on every retry. Then the SDK tries to
    call the result (`functools.partial(action, *args)` and `inspect.signature(action)` in
    `ServerInvocationContext.run_typed`), which fails for a coroutine, a dict or a response object.

    ## Use instead
    Pass the function and let `run_typed` forward its arguments, or wrap the call in a `lambda`.

    ## Fix safety
    **Unsafe** in both forms, because the call now runs later (inside the action, when the future
    is awaited) instead of when `run_typed` is called:
    - async callee (or `await f(...)` given as the action): pass the function and forward its
      arguments through `run_typed` (`restate.RunOptions()` is inserted positionally before
      positional arguments, reusing the existing options if any). Forwarded arguments are evaluated
      eagerly, as before. For knowledge-base APIs marked async this assumes the method is a
      coroutine function (true for `httpx`; not for `aiohttp`'s request context managers).
    - sync callee: wrap the call in `lambda: ...`. Its arguments are then evaluated when the action
      runs; in a loop that creates several actions before awaiting them, bind them first
      (`lambda x=x: f(x)`) or use the forwarded form.

    No fix when the call uses `*args`/`**kwargs`, when `run_typed` already forwards arguments, or for
    an async callee given to the deprecated `ctx.run` (IDL207 rewrites it to `run_typed` first).

    ## Options
    None.
    """

    code = "IDL202"
    name = "action-is-call-result"
    summary = "A call result is passed as the journaled action instead of a callable"
    severity = "error"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
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
        """, note="factories, partial, callable instances, forwarded arguments"),
        Valid("""
            import restate

            from payments import build_action  # unknown: cannot tell what it returns

            svc = restate.Service("Payments")


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> int:
                return await ctx.run_typed("charge", build_action(amount))
        """),
    ]
    INVALID = [
        Invalid(
            """
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
            """,
            ((18, 45), (19, 44), (20, 44)),
            unsafe=True,
            fixed="""
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
            """,
            doc=True,
        ),
        Invalid(
            """
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
            """,
            ((17, 35), (18, 40)),
            unsafe=True,
            fixed="""
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
            """,
            note="bound methods, awaited coroutine, options already given",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for action, _ in actions_with_frames(module):
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
                f"the result of `{shown}(...)` is the journaled action; pass a callable",
                fix=self._fix(module, action, expr, inner),
                detail=f"`{shown}(...)` is called in the handler and its result is passed as the "
                f"journaled action {action_label(action)}: the call runs outside the journal "
                "(again on every replay), and the SDK then fails to call its result. Pass the "
                "function (its arguments forwarded by `run_typed`) or a lambda.",
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
                return forward_edits(fx, action, expr, inner.func, inner)

            return Fix("unsafe", "Pass the function and forward its arguments", forward)
        if is_async is None:
            return None

        def wrap(fx: FixContext) -> list[Edit]:
            return [fx.replace(expr, f"lambda: {fx.text(expr)}")]

        return Fix("unsafe", "Wrap the call in a lambda", wrap)


def _awaited_result_callable(module: ModuleAnalysis, expr: ast.Await) -> bool | None:
    """``await charge(amount)`` given as the action: what the coroutine returns."""
    call = expr.value
    if not isinstance(call, ast.Call):
        return None
    found = callee(module, call.func)
    if found is None or not isinstance(found.func, ast.AsyncFunctionDef):
        return None
    return returns_callable(found.module, found.func, awaited=True)
