"""IDL501, IDL503, IDL504 on Temporal workflow code beyond the rule examples: the profile's
`[tables.hygiene]` drives the wording and the fixes, activity code is exempt, a module holding
both frameworks gets each framework's wording."""

from __future__ import annotations

from idemlint.testing import fix_code, lint_code, settings_for

from .test_actions import src, where
from .test_hygiene import with_tables


def _lint(code: str, *codes: str):  # type: ignore[no-untyped-def]
    settings = settings_for({"select": list(codes)})
    return [f for f in lint_code(src(code), settings) if f.code in codes]


def test_idl504_temporal_print_fix_shapes() -> None:
    code = src("""
        import sys

        from temporalio import workflow


        @workflow.defn
        class W:
            @workflow.run
            async def run(self, name: str) -> None:
                print(name)
                print()
                print(name, file=sys.stderr)
                print(*[name])
                workflow.logger.info("fine %s", name)
    """)
    settings = settings_for({"select": ["IDL504"]})
    found = lint_code(code, settings)
    assert where(found) == [("IDL504", 10, 9), ("IDL504", 11, 9), ("IDL504", 12, 9),
                            ("IDL504", 13, 9)]
    assert [f.fix.applicability if f.fix else None for f in found] == [
        "unsafe", None, None, None,
    ]
    assert found[0].detail.startswith("Workflow code runs again on every replay of its history")
    fixed = fix_code(code, settings, unsafe=True, codes={"IDL504"})
    assert "        workflow.logger.info(name)\n        print()\n" in fixed
    assert fix_code(code, settings, codes={"IDL504"}) == code  # nothing safe


def test_idl504_module_with_both_frameworks_words_each_finding_for_its_own() -> None:
    found = _lint("""
        import restate
        from temporalio import workflow

        svc = restate.Service("S")


        @svc.handler()
        async def h(ctx: restate.Context) -> None:
            print("restate")


        @workflow.defn
        class W:
            @workflow.run
            async def run(self) -> None:
                print("temporal")
    """, "IDL504")
    assert [(f.line, f.message) for f in found] == [
        (9, "`print()` repeats on every replay; log with `restate.getLogger(...)`"),
        (16, "`print()` repeats on every replay; log with `workflow.logger`"),
    ]


def test_idl504_temporal_wording_and_fixes_come_from_the_profile() -> None:
    """Without `[tables.hygiene]` the rule still reports, in neutral words, with no fix."""
    code = src("""
        import logging

        from temporalio import workflow

        logger = logging.getLogger(__name__)


        @workflow.defn
        class W:
            @workflow.run
            async def run(self) -> None:
                logger.info("x")
    """)
    settings = settings_for({"select": ["IDL504"]})
    kb = settings.kb
    from dataclasses import replace

    bare = replace(kb.frameworks["temporal"], tables={})
    stripped = replace(settings, _kb=replace(kb, frameworks={**kb.frameworks, "temporal": bare}))
    (finding,) = lint_code(code, stripped)
    assert (finding.line, finding.column, finding.fix) == (12, 9, None)
    assert finding.message == "`logger.info()` logs again on every replay; use a replay-aware logger"
    # and the Restate profile's tables do not leak into Temporal findings
    other = with_tables(settings, hygiene={"replay_logger": "mylogs.replay_logger"})
    assert "mylogs" not in fix_code(code, other, codes={"IDL504"})


def test_idl503_temporal_detail_and_call_chain() -> None:
    found = _lint("""
        from temporalio import workflow

        SEEN: set[str] = set()


        def remember(item: str) -> None:
            SEEN.add(item)


        @workflow.defn
        class W:
            @workflow.run
            async def run(self, item: str) -> None:
                remember(item)
    """, "IDL503")
    assert where(found) == [("IDL503", 7, 5)]
    assert found[0].message == (
        "workflow code mutates process state `SEEN`; keep it on the workflow instance"
    )
    assert found[0].detail.startswith("Module and class state is not part of the workflow's")
    assert found[0].detail.endswith(
        " [reached from handler `run` via `remember()` (line 14)]"
    )


def test_idl501_temporal_detail_and_no_fix_when_the_body_checks_cancellation() -> None:
    found = _lint("""
        import asyncio

        from temporalio import workflow
        from temporalio.exceptions import is_cancelled_exception


        async def idle() -> int:
            return 0


        @workflow.defn
        class W:
            @workflow.run
            async def run(self) -> str:
                try:
                    await idle()
                except:
                    pass
                try:
                    await asyncio.sleep(1)
                except BaseException as e:
                    return "cancelled" if is_cancelled_exception(e) else "failed"
                return "ok"
    """, "IDL501")
    assert where(found) == [("IDL501", 21, 9)]
    assert found[0].fix is None
    assert found[0].detail.startswith("The `try` body awaits in workflow code (line 20).")


def test_idl505_what_is_known_and_what_is_not() -> None:
    found = _lint("""
        import asyncio

        from temporalio import workflow
        from temporalio.exceptions import ApplicationError
        from mylib.errors import DomainError


        class Rejected(ApplicationError):
            pass


        class Refused(Rejected):
            pass


        class Broken(RuntimeError):
            pass


        @workflow.defn
        class W:
            @workflow.run
            async def run(self, n: int) -> None:
                if n == 1:
                    raise Refused("a failure two classes down")
                if n == 2:
                    raise asyncio.TimeoutError()
                if n == 3:
                    raise DomainError("imported: not known")
                try:
                    raise Broken("caught by its base")
                except RuntimeError as error:
                    raise error
                raise Broken
    """, "IDL505")
    assert where(found) == [("IDL505", 34, 9)]
    assert found[0].severity == "warning"
    assert found[0].message == (
        "`Broken` fails the workflow task (retried forever), not the workflow; raise "
        "`ApplicationError` (or list the type in `failure_exception_types=`)"
    )
    assert found[0].detail.startswith("An exception leaving a workflow's run handler")


def test_idl505_failure_types_that_cannot_be_known_silence_the_class() -> None:
    found = _lint("""
        from temporalio import workflow

        TYPES = [ValueError]


        @workflow.defn(failure_exception_types=TYPES)
        class A:
            @workflow.run
            async def run(self) -> None:
                raise ValueError("listed through a name")


        @workflow.defn(failure_exception_types=[Exception])
        class B:
            @workflow.run
            async def run(self) -> None:
                raise KeyError("Exception covers it")


        @workflow.defn
        class C:
            @workflow.run
            async def run(self) -> None:
                raise ValueError("set at run time")

            @workflow.dynamic_config
            def config(self) -> workflow.DynamicWorkflowConfig:
                return workflow.DynamicWorkflowConfig(failure_exception_types=[ValueError])


        @workflow.defn
        class D:
            @workflow.run
            async def run(self) -> None:
                raise ValueError("reported")
    """, "IDL505")
    assert where(found) == [("IDL505", 35, 9)]


def test_idl505_is_temporal_only() -> None:
    assert _lint("""
        import restate

        svc = restate.Service("S")


        @svc.handler()
        async def h(ctx: restate.Context) -> None:
            raise ValueError("retried by Restate, not a task failure")
    """, "IDL505") == []


# Each IDL506 problem alone: the rule reports it at one line, and the real SDK rejects it with
# the message quoted (so the rule and temporalio/workflow/_definition.py agree).
IDL506_CASES = [
    ("""
        @workflow.defn
        class W:
            @workflow.run
            def run(self) -> None: ...
     """, 4, "Workflow run method must be an async function"),
    ("""
        @workflow.defn
        class W:
            @workflow.signal
            def s(self) -> None: ...
     """, 2, "Missing @workflow.run method"),
    ("""
        @workflow.defn
        class W:
            @workflow.run
            async def a(self) -> None: ...

            @workflow.run
            async def b(self) -> None: ...
     """, 7, "Multiple @workflow.run methods"),
    ("""
        class Base:
            @workflow.run
            async def run(self) -> None: ...


        @workflow.defn
        class W(Base):
            pass
     """, 7, "@workflow.run method run must be defined on W"),
    ("""
        class Base:
            @workflow.run
            async def run(self) -> None: ...


        @workflow.defn
        class W(Base):
            @workflow.run
            async def other(self) -> None: ...
     """, 7, "@workflow.run defined on Base.run but not on the override"),
    ("""
        def make() -> None:
            @workflow.defn
            class W:
                @workflow.run
                async def run(self) -> None: ...
        make()
     """, 3, "Local classes unsupported"),
    ("""
        class Outer:
            @workflow.defn
            class W:
                @workflow.run
                async def run(self) -> None: ...
     """, 3, "@workflow.run method run must be defined on Outer.W"),
    ("""
        @workflow.defn
        class W:
            @workflow.init
            def __init__(self, a: int) -> None: ...

            @workflow.run
            async def run(self, a: str) -> None: ...
     """, 4, "@workflow.init and @workflow.run method parameters do not match"),
    ("""
        @workflow.defn
        class W:
            @workflow.init
            def __init__(self, a: int = 1) -> None: ...

            @workflow.run
            async def run(self, a: int) -> None: ...
     """, 4, "@workflow.init and @workflow.run method parameters do not match"),
    ("""
        @workflow.defn
        class W:
            @workflow.init
            def setup(self) -> None: ...

            @workflow.run
            async def run(self) -> None: ...
     """, 4, "@workflow.init may only be used on the __init__ method"),
    ("""
        @workflow.defn
        class W:
            @workflow.run
            async def run(self) -> None: ...

            @workflow.update
            async def u(self, a: int) -> None: ...

            @u.validator
            def v(self, a: str) -> None: ...
     """, 10, "Update validator method v parameters do not match update method u"),
    ("""
        @workflow.defn(dynamic=True)
        class W:
            @workflow.run
            async def run(self, args: typing.Sequence[RawValue]) -> None: ...
     """, 4, "Dynamic workflow must accept a single Sequence[temporalio.common.RawValue]"),
    ("""
        @workflow.defn(dynamic=True)
        class W:
            @workflow.run
            async def run(self, a: Sequence[RawValue], b: int) -> None: ...
     """, 4, "Dynamic workflow must accept a single Sequence[temporalio.common.RawValue]"),
    ("""
        @workflow.defn
        class W:
            @workflow.run
            async def run(self) -> None: ...

            @workflow.dynamic_config
            def config(self) -> workflow.DynamicWorkflowConfig: ...
     """, 7, "@workflow.dynamic_config can only be used in dynamic workflows"),
]
IDL506_HEADER = """\
import typing
from collections.abc import Sequence

from temporalio import workflow
from temporalio.common import RawValue
"""


def test_idl506_each_problem_is_one_the_sdk_raises(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from .sdk_build import build_app

    for body, line, sdk_message in IDL506_CASES:
        code = IDL506_HEADER + src(body)
        offset = IDL506_HEADER.count("\n")
        found = [f for f in lint_code(code, settings_for({"select": ["IDL506"]}))]
        assert [(f.code, f.line - offset) for f in found] == [("IDL506", line)], (body, found)
        with pytest.raises((ValueError, TypeError), match=__import__("re").escape(sdk_message)):
            build_app(code, tmp_path)


def test_idl506_bases_from_another_module_are_not_looked_into() -> None:
    assert _lint("""
        import temporalio.workflow as wf
        from myproject.base import Base


        @wf.defn
        class Child(Base):
            pass
    """, "IDL506") == []


def test_idl210_severities_and_a_helper_shared_with_the_run_method() -> None:
    found = _lint("""
        from temporalio import workflow


        def stamp() -> str:
            return str(workflow.uuid4())


        @workflow.defn
        class W:
            def __init__(self) -> None:
                self.calls = 0

            @workflow.run
            async def run(self) -> str:
                return stamp()

            @workflow.query
            def peek(self) -> str:
                self.calls += 1
                return stamp()
    """, "IDL210")
    assert [(f.line, f.column, f.severity) for f in found] == [
        (5, 16, "error"), (19, 9, "warning"),
    ]
    assert found[0].message == (
        "`workflow.uuid4()` in query `peek`: the handler is read-only and the call raises "
        "`ReadOnlyContextError`"
    )
    assert found[1].message == "query `peek` changes workflow state `self.calls`"


def test_idl210_restate_helper_receiving_the_context() -> None:
    found = _lint("""
        import restate

        obj = restate.VirtualObject("O")


        def save(ctx: restate.ObjectContext, value: int) -> None:
            ctx.set("v", value)


        @obj.handler()
        async def write(ctx: restate.ObjectContext, value: int) -> None:
            save(ctx, value)


        @obj.handler(kind="shared")
        async def read(ctx: restate.ObjectSharedContext) -> int:
            save(ctx, 0)
            return 0
    """, "IDL210")
    assert [(f.line, f.message) for f in found] == [
        (7, "`ctx.set()` writes state in shared handler `read`"),
    ]


def test_activities_in_another_module_are_not_workflow_code(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from .test_actions import lint_tree

    found = lint_tree(tmp_path, {
        "shop/__init__.py": "",
        "shop/activities.py": """
            import logging

            from temporalio import activity

            SENT: list[str] = []


            @activity.defn
            async def send(to: str) -> None:
                print("sending", to)
                logging.info("sending %s", to)
                SENT.append(to)
                try:
                    await activity.wait_for_cancelled()
                except:
                    pass
                raise ValueError("retried by the activity's retry policy")
        """,
        "shop/workflows.py": """
            from datetime import timedelta

            from temporalio import workflow

            with workflow.unsafe.imports_passed_through():
                from shop.activities import send


            @workflow.defn
            class Notify:
                @workflow.run
                async def run(self, to: str) -> None:
                    await workflow.execute_activity(
                        send, to, start_to_close_timeout=timedelta(seconds=10)
                    )

                @workflow.query
                def status(self) -> str:
                    return "sent"
        """,
    }, "IDL210", "IDL501", "IDL503", "IDL504", "IDL505", "IDL506")
    assert {name: where(f) for name, f in found.items()} == {
        "shop/__init__.py": [], "shop/activities.py": [], "shop/workflows.py": [],
    }
