"""IDL108 threads-in-workflow."""

from __future__ import annotations

from ...registry import Invalid, Valid
from ._shared import KnownCallRule


class ThreadsInWorkflow(KnownCallRule):
    """
    ## What it does
    Reports work handed to another thread or process in Temporal workflow code (the methods of
    a `@workflow.defn` class and what they call): `threading.Thread`/`Timer`,
    `_thread.start_new_thread`, `concurrent.futures.ThreadPoolExecutor`/`ProcessPoolExecutor`
    (and their `submit`/`map`), `multiprocessing.Process`/`Pool`, `multiprocessing.pool.ThreadPool`,
    `asyncio.to_thread` and `loop.run_in_executor` (`loop = asyncio.get_running_loop()`).
    Activities (`@activity.defn`) are not workflow code and may use threads.

    ## Why is this bad?
    A workflow is replayed from its history; only its event loop's scheduling is deterministic.
    A thread or a process finishes whenever the OS lets it, so the point of the workflow at which
    its result is seen differs between a run and its replay, and nothing it does is recorded.
    The SDK refuses most of it at run time (temporalio 1.35): the workflow event loop
    (`worker/_workflow_instance.py`, an `asyncio.AbstractEventLoop`) does not implement
    `run_in_executor`, so `await asyncio.to_thread(...)` and `loop.run_in_executor(...)` raise
    `NotImplementedError` and fail the workflow task; the sandbox
    (`worker/workflow_sandbox/_restrictions.py`) restricts `threading`, `concurrent.futures`
    and `multiprocessing` at run time (`RestrictedWorkflowAccessError`). With `sandboxed=False`
    or an unsandboxed runner the thread starts, and the workflow becomes nondeterministic.

    ## Use instead
    Move the blocking or CPU-bound work into an activity (a sync `def` activity runs in the
    worker's `activity_executor`) and call it with `workflow.execute_activity(...)`; run
    workflow-side concurrency as asyncio tasks (`asyncio.create_task`, `asyncio.gather`).

    ## Fix safety
    No fix: the work has to move into a new activity registered on the worker.

    ## Temporal
    This rule applies to Temporal only (see "Why is this bad?" for the SDK evidence).
    Restate is not concerned: its handlers run on an ordinary asyncio loop where
    `asyncio.to_thread` and executors work, and a thread's result awaited by the handler does not
    change the journal's order of entries; what the thread does (I/O, clocks, randomness) is
    reported by IDL101-IDL106 when the helper is handler code, and should run inside
    `ctx.run_typed(...)` anyway.
    temporalint has no rule for threads in workflow code.

    ## Options
    - `[tool.idemlint.nondeterministic]` adds your own: `"mycorp.pool.spawn" = "IDL108"`.
    """

    code = "IDL108"
    name = "threads-in-workflow"
    summary = "Thread, process pool or executor in Temporal workflow code"
    what = "runs work on another thread or process"
    consequence = (
        "the thread finishes at a point the history does not record; the SDK's event loop has "
        "no executor and its sandbox restricts threading"
    )
    fix_availability = "none"
    frameworks = ("temporal",)
    VALID = [
        Valid("""
            import asyncio
            from concurrent.futures import ThreadPoolExecutor
            from datetime import timedelta

            from temporalio import activity, workflow


            @activity.defn
            def resize(path: str) -> str:
                with ThreadPoolExecutor() as pool:  # activities may use threads
                    return pool.submit(str.upper, path).result()


            @workflow.defn
            class Images:
                @workflow.run
                async def run(self, paths: list[str]) -> list[str]:
                    calls = [
                        workflow.execute_activity(resize, p, start_to_close_timeout=timedelta(minutes=1))
                        for p in paths
                    ]
                    task = asyncio.create_task(self._noop())
                    await task
                    return list(await asyncio.gather(*calls))

                async def _noop(self) -> None:
                    return None
        """, doc=True, note="threads in an activity; asyncio tasks in the workflow"),
        Valid("""
            import asyncio
            import time

            import restate

            svc = restate.Service("Resize")


            @svc.handler()
            async def thumbnail(ctx: restate.Context, path: str) -> str:
                await asyncio.to_thread(time.sleep, 0)  # Restate: not reported by IDL108
                return path
        """, note="Restate's loop runs threads like any asyncio loop"),
    ]
    INVALID = [
        Invalid(
            """
                import asyncio
                import threading

                from temporalio import workflow


                @workflow.defn
                class Images:
                    @workflow.run
                    async def run(self, paths: list[str]) -> int:
                        for path in paths:
                            if path:
                                await asyncio.to_thread(len, path)
                        return self._start()

                    def _start(self) -> int:
                        threading.Thread(target=print).start()
                        return 0
            """,
            ((13, 23), (17, 9)),
            message="runs work on another thread or process",
            doc=True,
            note="to_thread nested in for/if, Thread in a helper method",
        ),
        Invalid(
            """
                import asyncio
                from concurrent.futures import ProcessPoolExecutor

                import temporalio.workflow as wf


                @wf.defn
                class Images:
                    @wf.run
                    async def run(self, path: str) -> int:
                        loop = asyncio.get_running_loop()
                        try:
                            with ProcessPoolExecutor() as pool:
                                return await loop.run_in_executor(pool, len, path)
                        finally:
                            pass
            """,
            ((13, 18), (14, 30)),
            note="aliased module; executor and run_in_executor in try/with",
        ),
    ]
