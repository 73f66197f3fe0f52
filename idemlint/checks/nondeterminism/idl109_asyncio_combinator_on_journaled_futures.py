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

    What the real engine shows (`tests/replay`, Restate 1.7, see the
    [proof page](../proof.md)): `asyncio.wait` over `ctx.run_typed(...)` futures does not even
    get to a replay — it fails on every attempt (`'ServerDurableFuture' object has no attribute
    'add_done_callback'`), so the handler never completes. `asyncio.gather` over the same futures
    completed, and under a forced retry each action ran once with the same result: no harm was
    observed for that shape. It stays reported because its error handling follows event-loop
    timing, and `restate.gather` is the combinator the SDK documents.

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

    ## Temporal
    The workflow's event loop is deterministic (temporalio 1.35, `worker/_workflow_instance.py`):
    tasks run in a fixed order and timers (`call_later`/`call_at`) are durable `start_timer`
    commands. So `asyncio.gather`, `create_task`, `ensure_future`, `shield`, `TaskGroup` and
    `wait_for` are fine in workflow code and not reported. `asyncio.wait` and
    `asyncio.as_completed` are: they keep the futures in a `set`, whose iteration order follows
    the tasks' hashes (`id`, a memory address) and differs between a run and its replay, for ANY
    futures (activities or plain tasks), so for Temporal they are reported whatever they
    combine. The SDK ships deterministic copies (`workflow/_asyncio.py`, "should be used instead
    of that one in workflows"): `workflow.wait(fs, *, timeout=None, return_when=ALL_COMPLETED)`
    and `workflow.as_completed(fs, *, timeout=None)`, the same signatures. Fixes (the `workflow`
    module as the file spells it):
    - `asyncio.as_completed(...)` → `workflow.as_completed(...)`: **safe**, same arguments and
      iterator;
    - `asyncio.wait(...)` → `workflow.wait(...)`: **unsafe**, it returns `(done, pending)` as
      lists, not sets (set operations on the result stop working).
    temporalint has no rule for asyncio combinators.

    ## Options
    - `[tool.idemlint.nondeterministic]` adds your own combinators over durable futures:
      `"mycorp.futures.first_of" = { code = "IDL109", when = "durable-future-arg", async = true }`.
    - `deterministic = [...]` silences a name; `# noqa: IDL109` a single call.
    """

    code = "IDL109"
    frameworks = ("restate", "temporal")
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
        Valid("""
            import asyncio
            from datetime import timedelta

            from temporalio import activity, workflow


            @activity.defn
            async def greet(name: str) -> str:
                return f"hello {name}"


            @workflow.defn
            class Fanout:
                @workflow.run
                async def run(self, names: list[str]) -> list[str]:
                    calls = [
                        workflow.execute_activity(greet, n, start_to_close_timeout=timedelta(seconds=5))
                        for n in names
                    ]
                    results = list(await asyncio.gather(*calls))  # deterministic on the workflow loop
                    task = asyncio.create_task(self._one())
                    done, _ = await workflow.wait([task], timeout=10)
                    for next_done in workflow.as_completed([task]):
                        results.append(await next_done)
                    return results + [await asyncio.wait_for(self._one(), 5)] + [len(done)]

                async def _one(self) -> str:
                    return "one"
        """, note="Temporal: asyncio.gather/create_task/wait_for are fine; workflow.wait/as_completed"),
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
        Invalid(
            """
                import asyncio
                from datetime import timedelta

                from temporalio import activity, workflow


                @activity.defn
                async def greet(name: str) -> str:
                    return f"hello {name}"


                @workflow.defn
                class Fanout:
                    @workflow.run
                    async def run(self, names: list[str]) -> list[str]:
                        handles = [
                            workflow.start_activity(greet, n, start_to_close_timeout=timedelta(seconds=5))
                            for n in names
                        ]
                        results = []
                        if handles:
                            for next_done in asyncio.as_completed(handles, timeout=60):
                                results.append(await next_done)
                        return results
            """,
            ((22, 30),),
            message="use `workflow.as_completed(...)`",
            fixed="""
                import asyncio
                from datetime import timedelta

                from temporalio import activity, workflow


                @activity.defn
                async def greet(name: str) -> str:
                    return f"hello {name}"


                @workflow.defn
                class Fanout:
                    @workflow.run
                    async def run(self, names: list[str]) -> list[str]:
                        handles = [
                            workflow.start_activity(greet, n, start_to_close_timeout=timedelta(seconds=5))
                            for n in names
                        ]
                        results = []
                        if handles:
                            for next_done in workflow.as_completed(handles, timeout=60):
                                results.append(await next_done)
                        return results
            """,
            note="Temporal: as_completed -> workflow.as_completed (same signature): safe",
        ),
        Invalid(
            """
                import asyncio

                import temporalio.workflow as wf


                @wf.defn
                class Race:
                    @wf.run
                    async def run(self) -> int:
                        return await self._first()

                    async def _first(self) -> int:
                        tasks = [asyncio.create_task(self._work(n)) for n in range(3)]
                        try:
                            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                        except asyncio.CancelledError:
                            raise
                        return len(done)

                    async def _work(self, n: int) -> int:
                        return n
            """,
            ((15, 29),),
            fixed="""
                import asyncio

                import temporalio.workflow as wf


                @wf.defn
                class Race:
                    @wf.run
                    async def run(self) -> int:
                        return await self._first()

                    async def _first(self) -> int:
                        tasks = [asyncio.create_task(self._work(n)) for n in range(3)]
                        try:
                            done, _ = await wf.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                        except asyncio.CancelledError:
                            raise
                        return len(done)

                    async def _work(self, n: int) -> int:
                        return n
            """,
            unsafe=True,
            note="Temporal: asyncio.wait over plain tasks too; aliased module; lists, not sets: unsafe",
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
