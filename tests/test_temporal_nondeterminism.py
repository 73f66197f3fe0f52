"""IDL101-IDL107, IDL109 on Temporal workflow code beyond the rule examples: the profile's
`[tables.nondeterminism]` (replacements by code and by API, fine APIs, conditions, wording)
drives each finding, the framework comes from the unit, Restate stays as it was."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from idemlint.checks.nondeterminism._shared import Tables
from idemlint.knowledge import KnowledgeError, bundled
from idemlint.testing import fix_code, lint_code, settings_for

from .test_actions import lint_tree, src, where
from .test_hygiene import with_tables

CODES = ("IDL101", "IDL102", "IDL103", "IDL104", "IDL105", "IDL106", "IDL107", "IDL109")


def _lint(code: str, *codes: str):  # type: ignore[no-untyped-def]
    settings = settings_for({"select": list(codes or CODES)})
    return [f for f in lint_code(src(code), settings) if f.code in (codes or CODES)]


def test_restate_profile_keeps_the_category_files_replacements() -> None:
    view = Tables.of(bundled().frameworks["restate"])
    assert view.codes == {} and view.module == ""
    assert view.apis is not None and view.apis.get("time.time") is None
    assert view.fine is not None and view.fine.get("asyncio.sleep") is None


def test_each_finding_takes_the_framework_of_its_unit() -> None:
    found = _lint("""
        import asyncio
        import time

        import restate
        from temporalio import workflow

        svc = restate.Service("S")


        @svc.handler()
        async def h(ctx: restate.Context) -> float:
            await asyncio.sleep(1)
            return time.time()


        @workflow.defn
        class W:
            @workflow.run
            async def run(self) -> float:
                await asyncio.sleep(1)
                return time.time()
    """)
    assert [(f.code, f.line, f.message) for f in found] == [
        ("IDL107", 12, "`asyncio.sleep()` sleeps in process memory; use "
                       "`await ctx.sleep(timedelta(seconds=...))`"),
        ("IDL101", 13, "`time.time()` reads the wall clock; use `await ctx.time()`"),
        ("IDL101", 21, "`time.time()` reads the wall clock; use `workflow.time()`"),
    ]
    assert [f.fix.message if f.fix else None for f in found] == [
        "Use the durable timer `await ctx.sleep(timedelta(...))`",
        "Replace with `await ctx.time()`",
        "Replace with `workflow.time()`",
    ]


def test_apis_fine_in_temporal_workflow_code_are_not_reported() -> None:
    found = _lint("""
        import asyncio

        from temporalio import workflow


        @workflow.defn
        class W:
            @workflow.run
            async def run(self) -> None:
                await asyncio.sleep(5)
                task = asyncio.ensure_future(self.tick())
                await asyncio.shield(task)
                await asyncio.wait_for(asyncio.create_task(self.tick()), 3)
                await asyncio.gather(self.tick(), asyncio.sleep(1))
                async with asyncio.TaskGroup() as group:
                    group.create_task(self.tick())

            async def tick(self) -> None:
                await asyncio.sleep(1)
    """)
    assert where(found) == []


def test_unaliased_dotted_import_is_reused() -> None:
    code = src("""
        import time
        import uuid

        import temporalio.workflow


        @temporalio.workflow.defn
        class W:
            @temporalio.workflow.run
            async def run(self) -> str:
                time.sleep(2)
                return f"{time.time()} {uuid.uuid4()}"
    """)
    fixed = fix_code(code, settings_for({"select": list(CODES)}))
    assert fixed == code.replace("time.sleep(2)", "await temporalio.workflow.sleep(2)").replace(
        '{time.time()} {uuid.uuid4()}',
        '{temporalio.workflow.time()} {temporalio.workflow.uuid4()}',
    )


def test_module_call_fixes_only_the_arity_it_knows() -> None:
    found = _lint("""
        import os
        import secrets
        import time

        from temporalio import workflow


        @workflow.defn
        class W:
            @workflow.run
            async def run(self) -> str:
                time.sleep(secs=1)
                os.urandom(size=4)
                return secrets.token_hex() + secrets.token_hex(4)

            @workflow.query
            def stamp(self) -> float:
                time.sleep(1)  # sync: no await possible
                return 0.0
    """, "IDL102", "IDL107")
    assert [(f.code, f.line, f.fix is not None) for f in found] == [
        ("IDL107", 12, False), ("IDL102", 13, False), ("IDL102", 14, False),
        ("IDL102", 14, True), ("IDL107", 18, False),
    ]


def test_temporal_io_findings_say_where_to_move_it() -> None:
    found = _lint("""
        import subprocess

        from temporalio import workflow


        @workflow.defn
        class W:
            @workflow.run
            async def run(self) -> int:
                return subprocess.run(["ls"], check=False).returncode
    """, "IDL106")
    assert [(f.line, f.column, f.message, f.fix) for f in found] == [
        (10, 16, "`subprocess.run()` is a system side effect in workflow code; move it into "
                 "an activity", None),
    ]
    assert found[0].detail == (
        "In handler code, it runs again on every replay of the history, and what it reads "
        "(files, processes, environment) can differ on the worker that replays it. Note: call "
        "the activity with `workflow.execute_activity(...)`: its result is recorded in the "
        "history and replayed."
    )


def test_activities_in_another_module_are_not_workflow_code(tmp_path) -> None:  # type: ignore[no-untyped-def]
    found = lint_tree(tmp_path, {
        "shop/__init__.py": "",
        "shop/activities.py": """
            import random
            import time
            import urllib.request
            import uuid

            from temporalio import activity


            @activity.defn
            def charge(order: str) -> str:
                time.sleep(random.random())
                with urllib.request.urlopen(f"https://pay.example/{order}") as response:
                    return f"{response.read()!r} {uuid.uuid4()} {time.time()}"
        """,
        "shop/workflows.py": """
            from datetime import timedelta

            from temporalio import workflow

            with workflow.unsafe.imports_passed_through():
                from shop.activities import charge


            @workflow.defn
            class Checkout:
                @workflow.run
                async def run(self, order: str) -> str:
                    return await workflow.execute_activity(
                        charge, order, start_to_close_timeout=timedelta(seconds=10)
                    )
        """,
    }, *CODES)
    assert {name: where(f) for name, f in found.items()} == {
        "shop/__init__.py": [], "shop/activities.py": [], "shop/workflows.py": [],
    }


def test_replacements_come_from_the_profile_not_the_code() -> None:
    """The same mechanism drives any profile: here the default (Restate) profile is given a
    replacement, a fine API and a wording of its own."""
    code = src("""
        import asyncio
        import time

        import restate

        svc = restate.Service("S")


        @svc.handler()
        async def h(ctx: restate.Context) -> float:
            await asyncio.sleep(1)
            return time.time()
    """)
    base = settings_for({"select": ["IDL101", "IDL107"]})
    tables: dict[str, Any] = {
        **base.kb.framework.table("nondeterminism"),
        "fine": ["asyncio.sleep"],
        "codes": {"IDL101": {"use": "clock()", "what": "asks the clock"}},
        "apis": {"time.time": {"note": "a note"}},
    }
    settings = with_tables(base, nondeterminism=tables)
    found = [f for f in lint_code(code, settings) if f.code in ("IDL101", "IDL107")]
    assert [(f.code, f.line, f.message, f.fix) for f in found] == [
        ("IDL101", 12, "`time.time()` asks the clock; use `clock()`", None),
    ]
    assert "Note: a note." in found[0].detail


@pytest.mark.parametrize(("tables", "error"), [
    ({"apis": {"time.time": {"colour": "red"}}}, "unknown field 'colour'"),
    ({"apis": {"time.time": {"safe": "yes"}}}, "`safe` must be a bool"),
    ({"codes": {"IDL101": {"fix": "teleport"}}}, "unknown fix strategy 'teleport'"),
    ({"apis": {"asyncio.wait": {"when": "sometimes"}}}, "unknown condition 'sometimes'"),
    ({"apis": {"time.{time": {}}}, "tables.nondeterminism"),
])
def test_profile_replacements_are_validated(tables: dict[str, Any], error: str) -> None:
    framework = replace(bundled().frameworks["temporal"], tables={"nondeterminism": tables})
    with pytest.raises(KnowledgeError, match=error):
        Tables.of(framework)


def test_idl108_reports_temporal_workflow_code_only() -> None:
    found = _lint("""
        import asyncio
        import threading

        import restate
        from temporalio import workflow

        svc = restate.Service("S")


        @svc.handler()
        async def h(ctx: restate.Context) -> None:
            threading.Thread(target=print).start()
            await asyncio.get_event_loop().run_in_executor(None, print)


        @workflow.defn
        class W:
            @workflow.run
            async def run(self) -> None:
                threading.Timer(1.0, print).start()
                await asyncio.get_event_loop().run_in_executor(None, print)
    """, "IDL108")
    assert [(f.line, f.column, f.message, f.fix) for f in found] == [
        (20, 9, "`threading.Timer()` runs work on another thread or process", None),
        (21, 15, "`asyncio.get_event_loop().run_in_executor()` runs work on another thread or "
                 "process", None),
    ]


def test_no_random_or_uuid_fix_in_read_only_roles() -> None:
    """`workflow.random()` and the uuids built on it raise ReadOnlyContextError in queries and
    update validators; the clock does not."""
    found = _lint("""
        import random
        import time
        import uuid

        from temporalio import workflow


        @workflow.defn
        class W:
            @workflow.run
            async def run(self) -> int:
                return random.randint(1, 6)

            @workflow.query
            def peek(self) -> str:
                return f"{random.randint(1, 6)} {uuid.uuid4()} {time.time()}"
    """, "IDL101", "IDL102", "IDL103")
    assert [(f.code, f.line, f.fix.message if f.fix else None) for f in found] == [
        ("IDL102", 12, "Replace with `workflow.random().randint(...)`"),
        ("IDL102", 16, None),
        ("IDL103", 16, None),
        ("IDL101", 16, "Replace with `workflow.time()`"),
    ]
