"""IDL211 heartbeat-timeout-without-heartbeat."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...dataflow import Callee, callee
from ...diagnostics import Finding
from ...registry import Invalid, Rule, Valid
from ...scopes import FUNCTION_NODES
from ...syntax import walk_body
from ._shared import activity_starts, activity_tables, keyword_value


class HeartbeatTimeoutWithoutHeartbeat(Rule):
    """
    ## What it does
    Reports an activity started with a heartbeat timeout whose code never heartbeats: neither
    its body, nor a function nested in it, nor a helper it calls (in this module or another
    module of the linted tree), nor a decorator wrapping it calls (or passes on) the heartbeat
    function. Reported at the `heartbeat_timeout=` keyword.

    Not reported when the activity cannot be seen (given by name as a string, defined outside
    the tree), when it is wrapped by a decorator defined outside the tree (that decorator may
    heartbeat), or when the timeout is the literal `None`.

    ## Why is this bad?
    The heartbeat timeout is the longest the server waits between two heartbeats. An activity
    that never heartbeats is timed out as soon as an attempt runs longer than it, and retried —
    every attempt that takes that long fails, so a slow activity can never complete.

    ## Use instead
    Call the heartbeat function regularly in the activity (in its loop), or drop the heartbeat
    timeout and rely on `start_to_close_timeout`.

    ## Fix safety
    No fix.

    ## Temporal
    `heartbeat_timeout=` on `workflow.execute_activity`/`start_activity` and the local,
    `_class` and `_method` variants (temporalio 1.35, `workflow/_activities.py`: "How frequently
    an activity must invoke heartbeat while running before it is considered timed out").
    Heartbeats are recorded by `activity.heartbeat(*details)` (`temporalio/activity.py`), which
    the activity must call itself; the SDK does not heartbeat for it. Local activities accept
    the keyword too.

    ## Options
    None.
    """

    code = "IDL211"
    name = "heartbeat-timeout-without-heartbeat"
    summary = "An activity started with a heartbeat timeout never heartbeats"
    severity = "warning"
    frameworks = ("temporal",)
    VALID = [
        Valid("""
            from datetime import timedelta

            from temporalio import activity, workflow


            def beat(done: int) -> None:
                activity.heartbeat(done)


            @activity.defn
            async def copy(files: list[str]) -> int:
                for done, name in enumerate(files):
                    beat(done)
                return len(files)


            @activity.defn
            async def scan(files: list[str]) -> int:
                for name in files:
                    activity.heartbeat(name)
                return len(files)


            @workflow.defn
            class Backup:
                @workflow.run
                async def run(self, files: list[str]) -> int:
                    a = await workflow.execute_activity(
                        copy, files, start_to_close_timeout=timedelta(hours=1),
                        heartbeat_timeout=timedelta(seconds=30),
                    )
                    b = await workflow.execute_activity(
                        scan, files, start_to_close_timeout=timedelta(hours=1),
                        heartbeat_timeout=timedelta(seconds=30),
                    )
                    c = await workflow.execute_activity(
                        "remote_scan", files, start_to_close_timeout=timedelta(hours=1),
                        heartbeat_timeout=timedelta(seconds=30),
                    )
                    return a + b + c
        """, doc=True, note="a helper heartbeats; an activity by name cannot be seen"),
    ]
    INVALID = [
        Invalid(
            """
                from datetime import timedelta

                from temporalio import activity, workflow


                @activity.defn
                async def copy(files: list[str]) -> int:
                    return len(files)


                @workflow.defn
                class Backup:
                    @workflow.run
                    async def run(self, files: list[str]) -> int:
                        return await workflow.execute_activity(
                            copy, files, start_to_close_timeout=timedelta(hours=1),
                            heartbeat_timeout=timedelta(seconds=30),
                        )
            """,
            ((17, 13),),
            message="never heartbeats",
            doc=True,
        ),
        Invalid(
            """
                from datetime import timedelta

                import temporalio.workflow as wf
                from temporalio import activity
                from temporalio.workflow import start_local_activity


                class Files:
                    @activity.defn
                    async def copy(self, files: list[str]) -> int:
                        return len(files)


                @activity.defn
                def scan(files: list[str]) -> int:
                    return len(files)


                @wf.defn
                class Backup:
                    @wf.run
                    async def run(self, files: list[str]) -> int:
                        total = 0
                        for name in files:
                            if name:
                                try:
                                    with open("/dev/null"):
                                        total += await self._scan(files)
                                finally:
                                    pass
                        return total + await wf.execute_activity_method(
                            Files.copy, files, start_to_close_timeout=timedelta(hours=1),
                            heartbeat_timeout=timedelta(seconds=30),
                        )

                    async def _scan(self, files: list[str]) -> int:
                        return await start_local_activity(
                            scan, files, start_to_close_timeout=timedelta(minutes=1),
                            heartbeat_timeout=timedelta(seconds=5),
                        )
            """,
            ((33, 13), (39, 13)),
            note="aliased, from-imported, nested, in a helper method; an activity method",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        model = module.model
        for call, _, fw in activity_starts(module):
            view = activity_tables(fw)
            if view.heartbeat_keyword is None or model.region(call) != "handler":
                continue
            timeout = keyword_value(call, view.heartbeat_keyword)
            if timeout is None or (isinstance(timeout, ast.Constant) and timeout.value is None):
                continue
            if not call.args or isinstance(call.args[0], ast.Starred):
                continue
            found = callee(module, call.args[0])
            if found is None or not isinstance(found.func, FUNCTION_NODES):
                continue
            if _heartbeats(found, view.heartbeat, set(), 0) is not False:
                continue
            name = getattr(found.func, "name", "the activity")
            beat = ".".join(sorted(view.heartbeat)[0].split(".")[-2:]) if view.heartbeat else ""
            keyword = next(k for k in call.keywords if k.arg == view.heartbeat_keyword)
            yield module.finding(
                self,
                keyword,
                f"activity `{name}` never heartbeats (`{beat}`), so `{keyword.arg}=` times out "
                "every attempt that runs longer",
                detail=f"`{name}` is started with `{keyword.arg}=` but neither it, its helpers "
                f"nor its decorators call `{beat}`: the server times out any attempt longer "
                "than the heartbeat timeout, and retries it.",
            )


def _heartbeats(
    found: Callee, heartbeat: frozenset[str], seen: set[int], depth: int
) -> bool | None:
    """Whether the function (or what it calls, or what wraps it) heartbeats; None: unknown
    (a decorator or callee that cannot be seen)."""
    func = found.func
    if id(func) in seen or depth > 6:
        return False
    seen.add(id(func))
    module = found.module
    if not isinstance(func, FUNCTION_NODES):
        return False
    unknown = False
    if not isinstance(func, ast.Lambda):
        for decorator in func.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if module.model.journaled_mode(func) is not None and _is_journaled_decorator(
                module, target
            ):
                continue
            wrapper = callee(module, target)
            if wrapper is None:
                return None  # a decorator from outside the tree may heartbeat
            result = _heartbeats(wrapper, heartbeat, seen, depth + 1)
            if result is not False:
                return result
    for node in walk_body(func):
        if isinstance(node, (ast.Name, ast.Attribute)) and (
            module.resolver.qualname(node) in heartbeat
        ):
            return True
        if isinstance(node, ast.Call):
            inner = callee(module, node.func)
            if inner is not None and isinstance(inner.func, FUNCTION_NODES):
                result = _heartbeats(inner, heartbeat, seen, depth + 1)
                if result is True:
                    return True
                unknown = unknown or result is None
    return None if unknown else False


def _is_journaled_decorator(module: ModuleAnalysis, target: ast.expr) -> bool:
    qualname = module.resolver.qualname(target) or ""
    return any(qualname in fw.journaled_decorators for fw in module.model.frameworks)
