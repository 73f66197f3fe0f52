"""Temporal in the journaled-action family (IDL201, IDL204, IDL206, IDL208, IDL211, IDL212):
activities in other modules of the tree, the profile tables the rules read, and the SDK facts
the decisions rest on (checked against the installed temporalio)."""

from __future__ import annotations

import inspect
from pathlib import Path

from idemlint.testing import fix_code, settings_for

from .test_actions import lint, lint_tree, src, where

ACTIVITIES = """
    from temporalio import activity


    @activity.defn
    async def charge(amount: int) -> str:
        return f"charged {amount}"


    def plain(amount: int) -> int:
        return amount
"""


def test_idl208_activity_imported_from_another_module(tmp_path: Path) -> None:
    files = {
        "shop/__init__.py": "",
        "shop/activities.py": ACTIVITIES,
        "shop/workflows.py": """
            from datetime import timedelta

            from temporalio import workflow

            from . import activities
            from .activities import charge, plain


            @workflow.defn
            class Checkout:
                @workflow.run
                async def run(self, amount: int) -> str:
                    ok = await workflow.execute_activity(
                        charge, amount, start_to_close_timeout=timedelta(seconds=5)
                    )
                    again = await charge(plain(amount))
                    more = await activities.charge(amount)
                    return ok + again + more
        """,
    }
    found = lint_tree(tmp_path, files, "IDL208")
    assert where(found["shop/workflows.py"]) == [("IDL208", 16, 23), ("IDL208", 17, 22)]
    assert found["shop/activities.py"] == []
    assert found["shop/workflows.py"][0].message.startswith("activity `charge` is called directly")


def test_idl208_the_timeout_comes_from_the_same_workflow_only() -> None:
    code = """
        from datetime import timedelta

        from temporalio import activity, workflow


        @activity.defn
        async def charge(amount: int) -> str:
            return f"charged {amount}"


        @workflow.defn
        class First:
            @workflow.run
            async def run(self, amount: int) -> str:
                return await workflow.execute_activity(
                    charge, amount, start_to_close_timeout=timedelta(seconds=5)
                )


        @workflow.defn
        class Second:
            @workflow.run
            async def run(self, amount: int, timeout: timedelta) -> str:
                await workflow.execute_activity(charge, amount, start_to_close_timeout=timeout)
                return await charge(amount)
    """
    assert where(lint(code, "IDL208")) == [("IDL208", 25, 22)]
    settings = settings_for({"select": ["IDL208"]})
    # the only nearby timeout is a parameter of `run`: no fix
    assert fix_code(src(code), settings, codes={"IDL208"}, unsafe=True) == src(code)


def test_idl208_sync_activity_used_as_an_operand_is_parenthesised() -> None:
    code = """
        from datetime import timedelta

        from temporalio import activity, workflow


        @activity.defn
        def label(name: str) -> str:
            return name


        @workflow.defn
        class Labels:
            @workflow.run
            async def run(self, name: str) -> str:
                await workflow.execute_activity(label, name, start_to_close_timeout=timedelta(seconds=5))
                return label(name).upper()
    """
    settings = settings_for({"select": ["IDL208"]})
    fixed = fix_code(src(code), settings, codes={"IDL208"}, unsafe=True)
    assert fixed.splitlines()[15] == (
        "        return (await workflow.execute_activity(label, name, "
        "start_to_close_timeout=timedelta(seconds=5))).upper()"
    )


def test_activity_defn_returns_the_function_unchanged() -> None:
    """The SDK fact IDL208 rests on: the decorator registers, it does not wrap."""
    from temporalio import activity

    async def charge(amount: int) -> str:
        return str(amount)

    assert activity.defn(charge) is charge


def _activity_view():  # type: ignore[no-untyped-def]
    from idemlint.checks.actions._shared import activity_tables
    from idemlint.knowledge import bundled

    return activity_tables(bundled().frameworks["temporal"])


def _sdk(qualname: str) -> object:
    import importlib

    module, _, name = qualname.rpartition(".")
    if module.endswith(".unsafe"):
        owner = importlib.import_module(module.rpartition(".")[0]).unsafe
        return getattr(owner, name)
    return getattr(importlib.import_module(module), name)


def test_idl204_awaitables_are_exactly_the_coroutine_functions() -> None:
    view = _activity_view()
    for qualname in view.awaitables:
        assert inspect.iscoroutinefunction(_sdk(qualname)), qualname
    for qualname, kind in view.starts.items():
        assert inspect.iscoroutinefunction(_sdk(qualname)) == (kind == "execute"), qualname
    for execute, start in view.start_instead.items():
        assert view.starts.get(execute, "execute") == "execute"
        assert not inspect.iscoroutinefunction(_sdk(f"temporalio.workflow.{start}")) or (
            start == "start_child_workflow"  # async def, returns the handle once started
        )


def test_idl206_the_sdk_requires_one_of_the_two_timeouts() -> None:
    from temporalio.worker import _workflow_instance

    source = inspect.getsource(_workflow_instance._WorkflowInstanceImpl._outbound_schedule_activity)
    view = _activity_view()
    assert view.timeouts == ("start_to_close_timeout", "schedule_to_close_timeout")
    assert "if not input.start_to_close_timeout and not input.schedule_to_close_timeout" in source


def test_idl206_temporal_arg_and_args_together() -> None:
    code = """
        from datetime import timedelta

        from temporalio import activity, workflow


        @activity.defn
        async def charge(amount: int) -> str:
            return f"charged {amount}"


        @workflow.defn
        class Checkout:
            @workflow.run
            async def run(self, amount: int) -> str:
                t = timedelta(seconds=1)
                a = await workflow.execute_activity(charge, amount, args=[], start_to_close_timeout=t)
                b = await workflow.execute_activity(charge, amount, args=(amount,), start_to_close_timeout=t)
                return a + b
    """
    found = lint(code, "IDL206")
    assert [(f.line, f.column, f.message) for f in found] == [
        (17, 66, "`workflow.execute_activity(...)` is given both an argument and `args=`; "
                 "the SDK raises"),
    ]


def test_idl201_loop_bound_functions_raise_outside_a_workflow_and_the_rest_do_not() -> None:
    """The profile's `loop_bound` list against the SDK: each one reaches `_Runtime.current()`
    (directly or through now/time/random); the helpers the rule leaves alone do not."""
    import ast as pyast
    import textwrap

    def reaches_runtime(qualname: str, depth: int = 0) -> bool:
        source = textwrap.dedent(inspect.getsource(_sdk(qualname)))  # type: ignore[arg-type]
        if "_Runtime.current()" in source:
            return True
        tree = pyast.parse(source)
        called = {n.func.id for n in pyast.walk(tree)
                  if isinstance(n, pyast.Call) and isinstance(n.func, pyast.Name)}
        return depth < 3 and any(
            reaches_runtime(f"temporalio.workflow.{name}", depth + 1)
            for name in called & {"time", "time_ns", "random", "random_seed",
                                  "get_external_workflow_handle", "memo"}
        )

    view = _activity_view()
    for qualname in view.loop_bound:
        assert reaches_runtime(qualname), qualname
    for free in ("in_workflow", "current_update_info", "create_nexus_client",
                 "unsafe.imports_passed_through", "unsafe.sandbox_unrestricted",
                 "unsafe.in_sandbox", "unsafe.is_sandbox_unrestricted"):
        assert f"temporalio.workflow.{free}" not in view.loop_bound
        assert not reaches_runtime(f"temporalio.workflow.{free}"), free


def test_idl201_helper_in_another_module_called_from_an_activity(tmp_path: Path) -> None:
    files = {
        "shop/__init__.py": "",
        "shop/helpers.py": """
            from temporalio import workflow


            def trace_id() -> str:
                return workflow.info().workflow_id


            def safe_log(text: str) -> None:
                workflow.logger.info(text)
        """,
        "shop/activities.py": """
            from temporalio import activity

            from .helpers import safe_log, trace_id


            @activity.defn
            async def charge(amount: int) -> str:
                safe_log("charging")
                return f"{trace_id()} {amount}"
        """,
    }
    found = lint_tree(tmp_path, files, "IDL201")
    assert [(f.line, f.column, f.message) for f in found["shop/activities.py"]] == [
        (9, 15, "`trace_id()` runs in activity `charge` and calls `workflow.info()`, "
                "which needs the workflow event loop"),
    ]
    assert found["shop/helpers.py"] == []


def test_idl211_activities_in_another_module_and_their_decorators(tmp_path: Path) -> None:
    files = {
        "jobs/__init__.py": "",
        "jobs/beats.py": """
            import asyncio
            import functools

            from temporalio import activity


            async def _beat_forever() -> None:
                while True:
                    activity.heartbeat()
                    await asyncio.sleep(1)


            def heartbeating(fn):
                @functools.wraps(fn)
                async def wrapper(*args):
                    task = asyncio.create_task(_beat_forever())
                    try:
                        return await fn(*args)
                    finally:
                        task.cancel()
                return wrapper
        """,
        "jobs/activities.py": """
            import functools

            from temporalio import activity

            from .beats import heartbeating


            @activity.defn
            async def silent(n: int) -> int:
                return n


            @activity.defn
            @heartbeating
            async def wrapped(n: int) -> int:
                return n


            @activity.defn
            @functools.lru_cache
            def cached(n: int) -> int:
                return n
        """,
        "jobs/workflows.py": """
            from datetime import timedelta

            from temporalio import workflow

            from .activities import cached, silent, wrapped

            HB = timedelta(seconds=10)
            T = timedelta(minutes=5)


            @workflow.defn
            class Jobs:
                @workflow.run
                async def run(self, n: int) -> int:
                    a = await workflow.execute_activity(silent, n, start_to_close_timeout=T, heartbeat_timeout=HB)
                    b = await workflow.execute_activity(wrapped, n, start_to_close_timeout=T, heartbeat_timeout=HB)
                    c = await workflow.execute_activity(cached, n, start_to_close_timeout=T, heartbeat_timeout=HB)
                    d = await workflow.execute_activity(silent, n, start_to_close_timeout=T, heartbeat_timeout=None)
                    return a + b + c + d
        """,
    }
    found = lint_tree(tmp_path, files, "IDL211")
    assert [(f.line, f.column, f.message) for f in found["jobs/workflows.py"]] == [
        (15, 82, "activity `silent` never heartbeats (`activity.heartbeat`), so "
                 "`heartbeat_timeout=` times out every attempt that runs longer"),
    ]
    assert found["jobs/workflows.py"][0].severity == "warning"


UNBOUNDED = """
    import restate

    svc = restate.Service("Pay")


    def charge() -> str:
        return "ok"


    @svc.handler()
    async def pay(ctx: restate.Context, options: restate.RunOptions) -> str:
        a = await ctx.run("a", charge)
        b = await ctx.run("b", charge, max_attempts=3)
        c = await ctx.run("c", charge, None, 3)
        d = await ctx.run_typed("d", charge, options)
        e = await ctx.run_typed("e", charge, restate.RunOptions(max_retry_duration=None))
        return a + b + c + d + e
"""


def test_idl212_restate_deprecated_run_and_unseen_options() -> None:
    found = lint(UNBOUNDED, "IDL212")
    assert where(found) == [("IDL212", 12, 15), ("IDL212", 16, 15)]
    assert found[0].message == (
        "`ctx.run(...)` runs without a retry limit: set `max_attempts` or `max_duration`"
    )


def test_idl212_is_opt_in() -> None:
    from idemlint.testing import lint_code

    assert [f for f in lint_code(src(UNBOUNDED), settings_for()) if f.code == "IDL212"] == []


def test_idl204_start_activity_returns_a_task_that_runs_unawaited() -> None:
    """Why `start_*` is not in `awaitables`: the handle is an asyncio.Task (already scheduled)."""
    import asyncio

    from temporalio import workflow

    assert issubclass(workflow.ActivityHandle, asyncio.Task)


def test_idl208_named_activity_and_generator_arguments() -> None:
    code = """
        import asyncio

        from temporalio import activity, workflow


        @activity.defn(name="charge-card")
        async def charge(amount: int) -> str:
            return f"charged {amount}"


        @workflow.defn
        class Batch:
            @workflow.run
            async def run(self, amounts: list[int]) -> list[str]:
                return list(await asyncio.gather(*(charge(a) for a in amounts)))
    """
    assert where(lint(code, "IDL208")) == [("IDL208", 15, 44)]
