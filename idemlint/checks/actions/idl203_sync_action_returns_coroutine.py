"""IDL203 sync-action-returns-coroutine."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...dataflow import callee, is_async_callable
from ...diagnostics import Edit, Finding, Fix
from ...fixes.context import FixContext
from ...model import Action
from ...registry import Invalid, Rule, Valid
from ...syntax import is_simple, plain_call, walk_body
from ._shared import action_label, actions_with_frames, forward_edits, forwards_nothing


class SyncActionReturnsCoroutine(Rule):
    """
    ## What it does
    Reports a *sync* journaled action that calls an async function without awaiting it:
    - a lambda returning the call: `ctx.run_typed("fetch", lambda: fetch(url))`;
    - a sync `def` returning it (`def action(): return fetch(url)`), defined before or after use,
      in the handler, at module level, as a method, or returned by a factory;
    - a sync `def` that calls it as a statement and drops the coroutine (`fetch(url)`).

    The callee is async when it is an `async def` in the module, an `async def` imported from
    another module of the linted tree (`from .clients import fetch`, `clients.fetch`), an async
    method of a local class, or a knowledge-base API marked `async` (e.g. `httpx.AsyncClient().get`,
    `aiohttp.ClientSession().get`, `asyncio.sleep`). `functools.partial(fetch, url)` and passing
    `fetch` itself are fine: the SDK detects coroutine functions through partials.

    ## Why is this bad?
    restate-sdk decides how to run the action with `inspect.iscoroutinefunction(action)`
    (`ServerInvocationContext.create_run_coroutine`): a lambda or sync `def` is not one, so it runs
    in a worker thread (`loop.run_in_executor`). Calling an async function there only creates a
    coroutine object: it is never awaited, the request never happens, Python warns "coroutine was
    never awaited", and returning it fails when the SDK serialises the result for the journal — so
    the action is retried forever.

    ## Use instead
    Pass the async function itself and let `run_typed` forward its arguments; or make the action
    an `async def` that awaits the call.

    ## Fix safety
    The fix passes the async function and forwards the lambda's call arguments through
    `run_typed` (inserting `restate.RunOptions()` positionally, or appending after existing
    options). It is offered only for a lambda without parameters given directly as the action to
    `run_typed`, whose body is a call without `*args`/`**kwargs`, when `run_typed` forwards nothing
    yet.
    - **Safe** when the callee is an `async def` idemlint can see and every argument is a plain
      name, constant, attribute or subscript: the arguments are then evaluated in the handler instead
      of inside the action, which cannot change their value.
    - **Unsafe** for knowledge-base methods (idemlint cannot check they are coroutine functions;
      `aiohttp` request methods are not) and when an argument is a call or other expression.

    A sync `def` action is not rewritten (make it `async def` and `await` the call).

    ## Options
    None.
    """

    code = "IDL203"
    name = "sync-action-returns-coroutine"
    summary = "A sync journaled action calls an async function without awaiting it"
    severity = "error"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
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
        """),
    ]
    INVALID = [
        Invalid(
            """
                import httpx
                import restate

                svc = restate.Service("Fetcher")


                async def fetch(url: str, timeout: float = 5.0) -> int:
                    async with httpx.AsyncClient() as client:
                        return (await client.get(url, timeout=timeout)).status_code


                @svc.handler()
                async def get(ctx: restate.Context, url: str) -> int:
                    return await ctx.run_typed("fetch", lambda: fetch(url, timeout=1.0))
            """,
            ((14, 49),),
            fixed="""
                import httpx
                import restate

                svc = restate.Service("Fetcher")


                async def fetch(url: str, timeout: float = 5.0) -> int:
                    async with httpx.AsyncClient() as client:
                        return (await client.get(url, timeout=timeout)).status_code


                @svc.handler()
                async def get(ctx: restate.Context, url: str) -> int:
                    return await ctx.run_typed("fetch", fetch, restate.RunOptions(), url, timeout=1.0)
            """,
            doc=True,
        ),
        Invalid(
            """
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
            """,
            ((14, 51), (15, 46)),
            fixed="""
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
            """,
            note="the AsyncClient method gets only an unsafe fix",
        ),
        Invalid(
            """
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
            """,
            ((14, 16), (17, 9), (20, 40)),
            fixed="""
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
            """,
            note="a def used after its definition; a coroutine created and dropped",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        reported: set[int] = set()
        for action, frames in actions_with_frames(module):
            label = action_label(action)
            for frame in frames:
                target = frame.func
                if isinstance(target, ast.AsyncFunctionDef):
                    continue
                for call, returned in _coroutine_calls(module, target):
                    if id(call) in reported:
                        continue
                    reported.add(id(call))
                    shown = " ".join(module.text(call.func).split())
                    if returned:
                        yield module.finding(
                            self,
                            call,
                            f"sync action {label} returns un-awaited `{shown}()`; pass `{shown}` "
                            "itself",
                            fix=self._fix(module, action, target, call),
                            detail=f"`{shown}()` returns a coroutine from the sync journaled "
                            f"action {label}: sync actions run in a worker thread, so the "
                            "coroutine is never awaited and its value cannot be journaled. Pass "
                            "the async "
                            f"function itself: `ctx.run_typed(name, {shown}, RunOptions(), "
                            "*args)`.",
                        )
                    else:
                        yield module.finding(
                            self,
                            call,
                            f"sync action {label} never awaits `{shown}()`; make it async",
                            detail=f"`{shown}()` creates a coroutine that is never awaited in the "
                            f"sync journaled action {label}: a sync action runs in a worker "
                            "thread, so the coroutine never runs. Make the action `async def` and "
                            "await the call.",
                        )

    def _fix(
        self, module: ModuleAnalysis, action: Action, target: ast.AST, call: ast.Call
    ) -> Fix | None:
        lambda_ = action.action
        if lambda_ is not target or not isinstance(lambda_, ast.Lambda):
            return None
        args = lambda_.args
        if args.args or args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg:
            return None
        if not plain_call(call) or not forwards_nothing(action):
            return None
        found = callee(module, call.func)
        safe = (
            found is not None
            and found.is_async
            and all(is_simple(a) for a in (*call.args, *call.keywords))
        )

        def build(fx: FixContext) -> list[Edit]:
            return forward_edits(fx, action, lambda_, call.func, call)

        return Fix(
            "safe" if safe else "unsafe",
            f"Pass `{module.text(call.func)}` and forward its arguments",
            build,
        )


def _coroutine_calls(
    module: ModuleAnalysis, target: ast.Lambda | ast.FunctionDef
) -> list[tuple[ast.Call, bool]]:
    """Calls of async functions a sync action returns (True) or drops as a statement (False)."""
    if isinstance(target, ast.Lambda):
        call = _coroutine_call(module, target.body)
        return [(call, True)] if call is not None else []
    found: list[tuple[ast.Call, bool]] = []
    for node in walk_body(target, nested=False):
        if isinstance(node, (ast.Return, ast.Expr)):
            call = _coroutine_call(module, node.value)
            if call is not None:
                found.append((call, isinstance(node, ast.Return)))
    return found


def _coroutine_call(module: ModuleAnalysis, expr: ast.AST | None) -> ast.Call | None:
    if isinstance(expr, ast.Call) and is_async_callable(module, expr.func):
        return expr
    return None
