"""The framework-neutral core: profiles loaded from rules/frameworks, entry points found by
decorator method, by decorator name and by decorated class, units tagged with their framework,
journaled decorators exempting their bodies."""

from __future__ import annotations

import ast
from textwrap import dedent

from idemlint.analysis import ModuleAnalysis
from idemlint.knowledge import bundled
from idemlint.source import SourceFile
from idemlint.testing import settings_for


def _model(code: str):  # type: ignore[no-untyped-def]
    text = dedent(code).lstrip("\n")
    module = ModuleAnalysis(SourceFile.from_text("m.py", text), ast.parse(text), settings_for())
    return module.model


def test_every_profile_is_loaded_and_one_is_the_default() -> None:
    kb = bundled()
    assert {"restate", "temporal"} <= set(kb.frameworks)
    assert kb.framework is kb.frameworks[kb.default_framework]
    temporal = kb.frameworks["temporal"]
    assert temporal.context_position is None
    assert temporal.journaled_decorators == {"temporalio.activity.defn": "inline"}


TEMPORAL = """
    import datetime
    import temporalio.workflow as wf
    from temporalio import activity


    @activity.defn
    async def charge(amount: int) -> str:
        return str(datetime.datetime.now())


    def stamp() -> str:
        return str(datetime.datetime.now())


    @wf.defn(sandboxed=False)
    class Checkout:
        @wf.init
        def __init__(self, amount: int) -> None:
            self.amount = amount

        @wf.run
        async def run(self, amount: int) -> str:
            return self._label() + stamp()

        def _label(self) -> str:
            return "order"

        @wf.update
        async def bump(self, by: int) -> None:
            self.amount += by

        @bump.validator
        def check_bump(self, by: int) -> None:
            pass

        @wf.query
        def total(self) -> int:
            return self.amount
"""


def test_temporal_entry_points_are_the_decorated_methods() -> None:
    model = _model(TEMPORAL)
    assert [(h.func.name, h.role, h.framework.name) for h in model.handlers] == [
        ("__init__", "init", "temporal"), ("run", "run", "temporal"),
        ("bump", "update", "temporal"), ("check_bump", "validator", "temporal"),
        ("total", "query", "temporal"),
    ]
    assert all(h.ctx is None for h in model.handlers)  # no context parameter


def test_temporal_units_follow_calls_and_skip_activities() -> None:
    model = _model(TEMPORAL)
    units = {u.func.name: (u.reason, u.framework.name if u.framework else None)
             for u in model.units}
    assert units["run"] == ("handler", "temporal")
    assert units["stamp"] == ("called", "temporal")
    assert units["_label"] == ("called", "temporal")
    assert "charge" not in units
    charge = next(f for f in model.index.functions if getattr(f, "name", "") == "charge")
    assert model.journaled_mode(charge) == "inline"
    now_call = next(c for c in ast.walk(charge) if isinstance(c, ast.Call))
    assert model.region(now_call) == "action"


def test_a_module_without_the_package_import_has_no_temporal_profile() -> None:
    model = _model("""
        class workflow:  # a local name, not temporalio
            @staticmethod
            def defn(cls): return cls

        @workflow.defn
        class NotAWorkflow:
            async def run(self) -> None: ...
    """)
    assert [fw.name for fw in model.frameworks] == ["restate"]  # needs no import
    assert model.handlers == []


def test_restate_units_carry_their_framework() -> None:
    model = _model("""
        import restate

        svc = restate.Service("S")

        def helper(ctx: restate.Context) -> None: ...

        @svc.handler()
        async def h(ctx: restate.Context) -> None:
            helper(ctx)
    """)
    assert [(u.func.name, u.framework.name if u.framework else None) for u in model.units] == [
        ("h", "restate"), ("helper", "restate"),
    ]


def test_configuration_narrows_the_frameworks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from idemlint.config import ConfigError, settings_from_table
    from idemlint.testing import lint_code

    workflow = dedent("""
        import time
        from temporalio import workflow

        @workflow.defn
        class W:
            @workflow.run
            async def run(self) -> float:
                return time.time()
    """).lstrip("\n")
    both = [(f.code, f.line) for f in lint_code(workflow, settings_for({"select": ["IDL101"]}))]
    assert both == [("IDL101", 8)]
    only_restate = settings_for({"select": ["IDL101"], "frameworks": ["restate"]})
    assert lint_code(workflow, only_restate) == []
    try:
        settings_from_table({"frameworks": ["temporl"]}, None, tmp_path)
    except ConfigError as exc:
        assert "unknown framework(s) 'temporl' (known: restate, temporal)" in str(exc)
    else:
        raise AssertionError("an unknown framework is a configuration error")
