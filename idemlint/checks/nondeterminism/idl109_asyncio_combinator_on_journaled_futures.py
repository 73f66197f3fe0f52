"""IDL109 asyncio-combinator-on-journaled-futures."""

from __future__ import annotations

import ast

from ...analysis import ModuleAnalysis
from ...calls import KnownCall
from ...diagnostics import Edit, Fix, FixUnavailable
from ...fixes.context import FixContext
from ...registry import Invalid, Valid
from ...scopes import parent
from ._shared import KnownCallRule, fix_strategy, make_fix


class AsyncioCombinatorOnJournaledFutures(KnownCallRule):
    """
    ## What it does
    Reports asyncio combinators and tasks applied to Restate durable futures in handler code:

    | call | use instead |
    |---|---|
    | `asyncio.gather(...)` | `[await f for f in await restate.gather(...)]` |
    | `asyncio.wait(...)` | `await restate.wait_completed(...)` |
    | `asyncio.as_completed(...)` | `async for f in restate.as_completed(...)` |
    | `asyncio.wait_for(fut, timeout)` | `await restate.select(result=fut, timeout=ctx.sleep(timedelta(seconds=...)))` |
    | `asyncio.create_task`, `ensure_future`, `shield`, `TaskGroup().create_task` | await the future directly, or combine with `restate.gather`/`select` |

    A call is reported only when one of its arguments is a durable future made by the context:
    `ctx.run_typed(...)`, `ctx.run(...)`, `ctx.sleep(...)`, `ctx.time()`, service, object and
    workflow calls, `ctx.attach_invocation(...)`, state reads (`ctx.get`, `ctx.state_keys`),
    `ctx.promise(...).value()`, written directly, in a list, tuple, set, `*` expansion or
    comprehension, or through a variable that holds one or to which one is appended
    (`futures.append(ctx.run_typed(...))`). asyncio over plain coroutines, for example inside a
    journaled action, is not reported.

    ## Why is this bad?
    Restate replays a handler from its journal after a crash, a retry or a suspension. On the first
    run, durable futures complete as Restate delivers their results; on a replay, the results already
    in the journal are available at once, in a different order and with different timing. Restate's
    combinators record the order of completion in the journal, so "which finished first" is the same
    on every attempt. asyncio's combinators decide it from event-loop scheduling instead: after
    `asyncio.wait(..., return_when=FIRST_COMPLETED)` or `as_completed`, the replay can process
    another future first, issue journal entries in another order and fail with a journal mismatch.
    The timeout of `asyncio.wait_for` is an in-memory timer that restarts on every attempt, and
    wrapping a durable future in a task adds scheduling the journal knows nothing about. Even
    `asyncio.gather` fails fast on the first error the event loop sees, which depends on timing.

    ## Use instead
    `restate.gather(...)` waits until every future has completed and returns the futures themselves,
    not their values; awaiting each completed future gives its value (or raises its error).
    `asyncio.wait` has no fix: `await restate.wait_completed(...)` is its journaled counterpart. For
    a timeout, race the future against a durable timer:

    ```python
    match await restate.select(
        result=ctx.run_typed("price", price, restate.RunOptions(), sku),
        timeout=ctx.sleep(timedelta(seconds=10)),
    ):
        case ["result", cents]:
            return cents
        case _:
            raise restate.TerminalError("pricing timed out")
    ```

    ## Fix safety
    Only `asyncio.gather` has a fix: `await asyncio.gather(*futures)` →
    `[await f for f in await restate.gather(*futures)]`, importing `gather` from `restate` (or
    reusing `import restate`). It is offered when the call is awaited directly and has no keyword
    arguments (no fix with `return_exceptions=True`), and not when the arguments already use a
    name `f`.

    The fix is **unsafe**:
    - `restate.gather` waits for all futures before anything is raised, and the error raised is the
      first failing future in argument order, whereas `asyncio.gather` raises the first error as soon
      as it happens.
    - Every argument must be a Restate future of this invocation's context: `restate.gather` raises
      a `TerminalError` for anything else, such as a plain coroutine. idemlint reports a call when at
      least one argument is durable, so check calls that mix both.

    The other combinators have no fix: `wait`, `as_completed`, `wait_for` and tasks have other
    signatures and semantics (`wait_completed` has no `return_when`, `as_completed` is an async
    generator, `select` returns `[key, value]`); rewrite them by hand as the message suggests.

    ## Options
    - `[tool.idemlint.nondeterministic]` adds your own combinators over durable futures:
      `"mycorp.futures.first_of" = { code = "IDL109", when = "durable-future-arg", async = true }`.
    - `deterministic = [...]` silences a name; `# noqa: IDL109` a single call.
    """

    code = "IDL109"
    name = "asyncio-combinator-on-journaled-futures"
    summary = "asyncio combinator or task over Restate durable futures"
    what = "combines durable futures with asyncio"
    consequence = "asyncio does not journal which future completed first, so replays can diverge"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
            import asyncio

            import httpx
            import restate

            svc = restate.Service("Fanout")


            @svc.handler()
            async def fan(ctx: restate.Context, urls: list) -> list:
                a = ctx.run_typed("a", lambda: 1)
                b = ctx.run_typed("b", lambda: 2)
                done = [await f for f in await restate.gather(a, b)]

                async def fetch_all() -> list:
                    async with httpx.AsyncClient() as client:
                        pages = await asyncio.gather(*[client.get(u) for u in urls])
                        return [p.status_code for p in pages]

                return done + await ctx.run_typed("fetch", fetch_all)
        """),
    ]
    INVALID = [
        Invalid(
            """
                import asyncio

                import restate

                svc = restate.Service("Fanout")


                async def step(item: int) -> int:
                    return item * 2


                @svc.handler()
                async def fan(ctx: restate.Context, items: list) -> list:
                    futures = [ctx.run_typed(f"step-{i}", step, restate.RunOptions(), i) for i in items]
                    results = await asyncio.gather(*futures)
                    pending = []
                    pending.append(ctx.sleep(restate_delay()))
                    await asyncio.wait(pending)
                    return results


                def restate_delay():
                    import datetime
                    return datetime.timedelta(seconds=1)
            """,
            ((15, 21), (18, 11)),
            unsafe=True,
            fixed="""
                import asyncio

                import restate

                svc = restate.Service("Fanout")


                async def step(item: int) -> int:
                    return item * 2


                @svc.handler()
                async def fan(ctx: restate.Context, items: list) -> list:
                    futures = [ctx.run_typed(f"step-{i}", step, restate.RunOptions(), i) for i in items]
                    results = [await f for f in await restate.gather(*futures)]
                    pending = []
                    pending.append(ctx.sleep(restate_delay()))
                    await asyncio.wait(pending)
                    return results


                def restate_delay():
                    import datetime
                    return datetime.timedelta(seconds=1)
            """,
            doc=True,
        ),
    ]


@fix_strategy("restate-combinator")
def journaled_combinator(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    """`await asyncio.gather(*fs)` -> `[await f for f in await <framework gather>(*fs)]`."""
    call = kc.node
    if not isinstance(call, ast.Call) or call.keywords:
        return None
    combinators = module.kb.framework.combinators
    if kc.method != "gather" or "gather" not in combinators:
        return None
    awaited = parent(call)
    if not isinstance(awaited, ast.Await):
        return None
    combinator = combinators["gather"]
    package, _, attribute = combinator.rpartition(".")

    def build(fx: FixContext) -> list[Edit]:
        gather, edits = fx.import_name(package, attribute)
        args = ", ".join(fx.text(a) for a in call.args)
        text = f"[await f for f in await {gather}({args})]"
        if any(isinstance(a, ast.Name) and a.id == "f" for a in ast.walk(call)):
            raise FixUnavailable("`f` is used in the arguments")
        return [*edits, fx.replace(awaited, text)]

    return make_fix(kc, f"Use `{combinator}` and await each completed future", build)
