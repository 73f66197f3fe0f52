"""Temporal ids at the client and in workflow code (IDL302, IDL402, IDL403) beyond the rule
examples: the opt-in of IDL403 for Temporal, the test environment's client, clients in workflow
code, activities in another module, the profile tables, the bundled examples/temporal (exact
findings, and its workflows and activities accepted as a Worker accepts them), and every
Temporal rule example imported under the real SDK."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from idemlint.checks.ingress._starts import StartTables, start_tables
from idemlint.checks.ingress.idl403_constant_ingress_key import ConstantIngressKey
from idemlint.checks.keys._shared import CommandIds
from idemlint.docs import render_rule_page, rules_index_page
from idemlint.knowledge import KnowledgeError, bundled
from idemlint.registry import Invalid, all_rules, iter_examples
from idemlint.testing import lint_code, settings_for

from .conftest import Run
from .temporal_build import build_worker_lists, definitions, validate_worker

ROOT = Path(__file__).resolve().parent.parent
OURS = ("IDL302", "IDL402", "IDL403")


def spots(code: str, config: dict[str, Any] | None = None) -> list[tuple[str, int, int]]:
    found = lint_code(textwrap.dedent(code), settings_for(config or {"select": list(OURS)}))
    return [(f.code, f.line, f.column) for f in found if f.code in OURS]


# -- IDL403: on by default for Restate, opt-in for Temporal ---------------------------------------
CONSTANT_IDS = """\
import restate
from temporalio import workflow
from temporalio.client import Client


@workflow.defn
class Report:
    @workflow.run
    async def run(self) -> str:
        return "done"


svc = restate.Service("Payments")


@svc.handler()
async def pay(ctx: restate.Context, amount: int) -> str:
    return "ok"


async def main(client: Client) -> None:
    await client.start_workflow(Report.run, id="nightly", task_queue="reports")
    async with restate.create_client("http://localhost:8080") as ingress:
        await ingress.service_call(pay, 1, idempotency_key="payment")
"""


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, [("IDL403", 24, 60)]),  # defaults: Restate only
        ({"extend-select": ["IDL403"]}, [("IDL403", 22, 48), ("IDL403", 24, 60)]),
        ({"select": ["IDL4"]}, [("IDL403", 22, 48), ("IDL403", 24, 60)]),
        ({"select": ["ALL"]}, [("IDL403", 22, 48), ("IDL403", 24, 60)]),
        ({"select": ["IDL403"], "ignore": ["IDL403"]}, []),
        ({"select": ["IDL402"]}, []),
    ],
)
def test_constant_workflow_ids_only_when_selected(
    config: dict[str, Any], expected: list[tuple[str, int, int]]
) -> None:
    found = lint_code(CONSTANT_IDS, settings_for(config))
    assert [(f.code, f.line, f.column) for f in found if f.code == "IDL403"] == expected


@pytest.mark.parametrize(
    ("config", "explicit"),
    [
        ({}, False),
        ({"select": ["IDL403"]}, True),
        ({"select": ["IDL4"]}, True),
        ({"select": ["IDL40"]}, True),
        ({"select": ["IDL41"]}, False),
        ({"select": ["ALL"]}, True),
        ({"extend-select": ["IDL403"]}, True),
        ({"extend-select": ["IDL403"], "ignore": ["IDL4"]}, False),
    ],
)
def test_selected_explicitly(config: dict[str, Any], explicit: bool) -> None:
    assert settings_for(config).selected_explicitly("IDL403") is explicit


def test_rule_reports_for_a_framework_unless_it_is_opt_in_and_not_selected() -> None:
    default = ConstantIngressKey(settings_for())
    selected = ConstantIngressKey(settings_for({"extend-select": ["IDL403"]}))
    assert (default.reports_for("restate"), default.reports_for("temporal")) == (True, False)
    assert (selected.reports_for("restate"), selected.reports_for("temporal")) == (True, True)


def test_page_and_index_show_the_opt_in_framework() -> None:
    page = render_rule_page(ConstantIngressKey)
    assert "**Enabled by default** · **Severity:** error · **Fix:** none · " \
        "**Frameworks:** Restate, Temporal (opt-in)" in page
    assert "| Restate, Temporal (opt-in) |" in rules_index_page()
    assert "**Frameworks:** Restate, Temporal · " in render_rule_page(all_rules()["IDL402"])


def test_the_detail_states_the_default_policies() -> None:
    found = lint_code(CONSTANT_IDS, settings_for({"select": ["IDL403"]}))
    assert found[0].message == "constant workflow id `\"nightly\"` on `client.start_workflow(...)`"
    assert found[0].detail == (
        "every start shares this id: with the default policies (id_reuse_policy="
        "ALLOW_DUPLICATE: once the first run has closed, a start with the same id begins a new "
        "run; while it runs, id_conflict_policy=UNSPECIFIED (fail) raises "
        "WorkflowAlreadyStartedError). A fixed id alone does not make the start happen once; "
        "derive the id from the request (an order id), or, for a deliberate singleton, set the "
        "reuse and conflict policies"
    )


# -- IDL402: where a start is made -----------------------------------------------------------------
ENVIRONMENT = """\
import uuid

from temporalio import workflow
from temporalio.testing import WorkflowEnvironment


@workflow.defn
class Order:
    @workflow.run
    async def run(self, order_id: str) -> str:
        return order_id


async def test_order() -> None:
    async with await WorkflowEnvironment.start_time_skipping() as env:
        await env.client.execute_workflow(Order.run, "A-1", id=str(uuid.uuid4()), task_queue="q")
    env = await WorkflowEnvironment.start_local()
    client = env.client
    await client.start_workflow(Order.run, "A-2", id=f"order-{uuid.uuid4()}", task_queue="q")
"""


def test_test_environment_clients_only_with_the_switch() -> None:
    assert spots(ENVIRONMENT) == []
    config = {"select": ["IDL402"], "include-test-harness": True}
    assert spots(ENVIRONMENT, config) == [("IDL402", 16, 64), ("IDL402", 19, 54)]


def test_starts_inside_tests_only_with_the_switch() -> None:
    code = """\
        import uuid

        from temporalio.client import Client


        async def test_order(client: Client) -> None:
            await client.execute_workflow("Order", id=str(uuid.uuid4()), task_queue="q")


        class TestOrders:
            async def start(self, client: Client) -> None:
                await client.start_workflow("Order", id=str(uuid.uuid4()), task_queue="q")


        async def start_order(client: Client) -> None:
            await client.start_workflow("Order", id=str(uuid.uuid4()), task_queue="q")
        """
    assert spots(code) == [("IDL402", 16, 45)]
    config = {"select": ["IDL402"], "include-test-harness": True}
    assert spots(code, config) == [("IDL402", 7, 47), ("IDL402", 12, 49), ("IDL402", 16, 45)]


def test_a_client_in_workflow_code_is_left_to_the_io_rules() -> None:
    code = """\
        import uuid

        from temporalio import workflow
        from temporalio.client import Client


        @workflow.defn
        class Parent:
            def __init__(self) -> None:
                self.client: Client | None = None

            @workflow.run
            async def run(self, client: Client) -> None:
                await client.start_workflow("Child", id=str(uuid.uuid4()), task_queue="q")


        async def outside(client: Client) -> None:
            await client.start_workflow("Child", id=str(uuid.uuid4()), task_queue="q")
        """
    assert spots(code) == [("IDL402", 18, 45)]


def test_other_objects_with_a_start_workflow_method_are_not_clients() -> None:
    code = """\
        import uuid

        from temporalio import workflow


        class Scheduler:
            async def start_workflow(self, name: str, id: str) -> None: ...


        async def go(scheduler: Scheduler) -> None:
            await scheduler.start_workflow("x", id=str(uuid.uuid4()))
            await workflow.start_child_workflow("x", id=str(uuid.uuid4()))
        """
    assert spots(code) == []


def test_standalone_activity_and_signal_with_start() -> None:
    code = """\
        import uuid
        from datetime import timedelta

        from temporalio import activity
        from temporalio.client import Client


        @activity.defn
        async def charge(order_id: str) -> None:
            return None


        async def go(client: Client, order_id: str) -> None:
            await client.execute_activity(charge, order_id, id=f"charge-{uuid.uuid4()}", task_queue="q", start_to_close_timeout=timedelta(seconds=5))
            await client.start_workflow("Order", order_id, id=uuid.uuid4().hex, task_queue="q", start_signal="approve")
            await client.start_activity(charge, order_id, id=f"charge-{order_id}", task_queue="q", start_to_close_timeout=timedelta(seconds=5))
        """
    assert spots(code) == [("IDL402", 14, 56), ("IDL402", 15, 55)]
    messages = [f.message for f in lint_code(textwrap.dedent(code), settings_for({"select": ["IDL402"]}))]
    assert messages == [
        "activity id of `client.execute_activity(...)` comes from `uuid.uuid4()`",
        "workflow id of `client.start_workflow(...)` comes from `uuid.uuid4()`",
    ]


# -- IDL302: workflow code in one module, activities in another ----------------------------------
def test_ids_in_workflow_code_with_activities_in_another_module(
    cli: Callable[..., Run], write: Callable[..., Path], tmp_path: Path
) -> None:
    write("app/__init__.py", "")
    write("app/activities.py", """\
        import uuid

        from temporalio import activity


        @activity.defn
        async def ship(order_id: str) -> str:
            return f"{order_id}-{uuid.uuid4()}"
        """)
    write("app/workflows.py", """\
        import uuid
        from datetime import timedelta

        from temporalio import workflow

        with workflow.unsafe.imports_passed_through():
            from .activities import ship


        @workflow.defn
        class Order:
            @workflow.run
            async def run(self, order_id: str) -> str:
                return await workflow.execute_activity(
                    ship, order_id, activity_id=f"ship-{uuid.uuid4()}",
                    start_to_close_timeout=timedelta(seconds=30),
                )
        """)
    run = cli("check", "--isolated", "--select", "IDL302", "--output-format", "json", str(tmp_path))
    assert [(Path(f["path"]).name, f["line"], f["column"], f["message"]) for f in run.json()] == [
        ("workflows.py", 15, 41, "activity id from `uuid.uuid4()` changes on replay; use "
         "`workflow.uuid4()` or an id from the input"),
    ]


# -- the profile tables ----------------------------------------------------------------------------
def test_start_and_id_tables_of_the_profiles() -> None:
    kb = bundled()
    temporal = start_tables(kb.frameworks["temporal"])
    assert temporal.id_argument == "id"
    assert "temporalio.client.Client.connect()" in temporal.clients
    assert "temporalio.testing.WorkflowEnvironment.start_local().client" in temporal.harness_clients
    assert temporal.policies == ("id_conflict_policy", "id_reuse_policy")
    assert temporal.methods["execute_activity_method"] == "activity"
    assert temporal.methods["start_workflow"] == "workflow"
    assert temporal.operations == {"temporalio.client.WithStartWorkflowOperation": "workflow"}
    assert start_tables(kb.frameworks["restate"]) == StartTables(
        frozenset(), frozenset(), {}, {}, "", (), ""
    )
    ids = CommandIds.read(kb.frameworks["temporal"]).ids
    assert sorted(name for name in ids if "local" in name) == [
        "temporalio.workflow.execute_local_activity",
        "temporalio.workflow.execute_local_activity_class",
        "temporalio.workflow.execute_local_activity_method",
        "temporalio.workflow.start_local_activity",
        "temporalio.workflow.start_local_activity_class",
        "temporalio.workflow.start_local_activity_method",
    ]
    assert ids["temporalio.workflow.start_child_workflow"].argument == "id"
    assert CommandIds.read(kb.frameworks["restate"]).ids == {}


def test_malformed_tables_name_their_key() -> None:
    temporal = bundled().frameworks["temporal"]
    broken = replace(temporal, tables={**temporal.tables, "ingress": {"starts": {"methods": "x"}}})
    with pytest.raises(KnowledgeError, match=r"temporal: tables\.ingress\.starts\.methods"):
        StartTables.read(broken)
    broken = replace(temporal, tables={**temporal.tables, "ingress": {"starts": {"clients": "x"}}})
    with pytest.raises(KnowledgeError, match=r"temporal: tables\.ingress\.starts\.clients"):
        StartTables.read(broken)
    broken = replace(temporal, tables={**temporal.tables, "keys": {"ids": {"a.b": "id"}}})
    with pytest.raises(KnowledgeError, match=r"temporal: tables\.keys\.ids\.a\.b"):
        CommandIds.read(broken)


# -- examples/temporal -----------------------------------------------------------------------------
@pytest.fixture
def temporal_example(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    try:
        yield "temporal"
    finally:
        for name in [n for n in sys.modules if n == "temporal" or n.startswith("temporal.")]:
            del sys.modules[name]


def test_bundled_temporal_example_builds_as_a_worker(temporal_example: str) -> None:
    worker = importlib.import_module(f"{temporal_example}.worker")
    validate_worker(worker.WORKFLOWS, worker.ACTIVITIES)
    workflows, _ = definitions(importlib.import_module(f"{temporal_example}.workflows"))
    _, activities = definitions(importlib.import_module(f"{temporal_example}.activities"))
    assert set(worker.WORKFLOWS) == set(workflows) and len(workflows) == 5
    assert set(worker.ACTIVITIES) == set(activities) and len(activities) == 5


def test_bundled_temporal_example_findings(cli: Callable[..., Run]) -> None:
    """The exact findings of this branch's codes (other codes are asserted by their tests)."""
    run = cli("check", "--isolated", "--output-format", "json", str(ROOT / "examples" / "temporal"))
    found = [(Path(f["path"]).name, f["line"], f["column"], f["code"])
             for f in run.json() if f["code"] in OURS]
    assert found == [
        ("activities.py", 64, 37, "IDL402"),
        ("starter.py", 22, 38, "IDL402"),
        ("workflows.py", 83, 54, "IDL302"),
    ]
    run = cli("check", "--isolated", "--extend-select", "IDL403", "--output-format", "json",
              str(ROOT / "examples" / "temporal"))
    assert [(Path(f["path"]).name, f["line"], f["column"])
            for f in run.json() if f["code"] == "IDL403"] == [("starter.py", 41, 65)]


# -- every Temporal rule example under the real SDK ------------------------------------------------
TEMPORAL_CASES: list[tuple[str, str]] = []
for _rule, _example, _index in iter_examples(all_rules()):
    _kind = "invalid" if isinstance(_example, Invalid) else "valid"
    if isinstance(_example, Invalid) and not _example.builds:
        continue  # rejected by the SDK on purpose (IDL506)
    for _suffix, _text in (("", _example.code),
                           ("-fixed", getattr(_example, "fixed", None))):
        if _text is not None and "temporalio" in _text:
            TEMPORAL_CASES.append((f"{_rule.code}-{_kind}-{_index}{_suffix}", _text))


@pytest.mark.parametrize(("name", "code"), TEMPORAL_CASES, ids=[c[0] for c in TEMPORAL_CASES])
def test_temporal_example_builds_as_worker_lists(name: str, code: str, tmp_path: Path) -> None:
    """Every Temporal example (and fixed text) imports, and its workflows and activities pass
    the validation ``Worker(client, workflows=..., activities=...)`` does."""
    workflows, activities = build_worker_lists(code, tmp_path)
    assert workflows or activities, f"{name} defines no workflow or activity"


def test_every_code_of_this_branch_has_temporal_examples() -> None:
    names = {name.split("-")[0] + "-" + name.split("-")[1] for name, _ in TEMPORAL_CASES}
    assert {f"{code}-{kind}" for code in OURS for kind in ("valid", "invalid")} <= names


def test_add_noqa_on_the_temporal_example(tmp_path: Path, cli: Callable[..., Run]) -> None:
    import re
    import shutil

    shutil.copytree(ROOT / "examples" / "temporal", tmp_path / "temporal")
    first = cli("check", "--add-noqa", "temporal", cwd=tmp_path)
    assert first.code == 0
    for name, line, code in (("activities.py", 64, "IDL402"), ("starter.py", 22, "IDL402"),
                             ("workflows.py", 83, "IDL302")):
        text = (tmp_path / "temporal" / name).read_text(encoding="utf-8").splitlines()[line - 1]
        assert re.search(rf"# noqa: (IDL\d+, )*{code}\b", text), text
    snapshot = {p: p.read_bytes() for p in (tmp_path / "temporal").rglob("*.py")}
    assert cli("check", "temporal", cwd=tmp_path).code == 0
    second = cli("check", "--add-noqa", "temporal", cwd=tmp_path)
    assert second.code == 0 and "Added 0 noqa directives." in second.err
    assert snapshot == {p: p.read_bytes() for p in (tmp_path / "temporal").rglob("*.py")}


def test_ingress_rules_alone_still_parse_temporal_files(cli: Callable[..., Run]) -> None:
    """With only ingress rules selected, the prefilter reads the Temporal profile's
    ``[ingress] triggers`` (the Restate ones do not match a Temporal starter)."""
    run = cli("check", "--isolated", "--select", "IDL402", "--output-format", "json",
              str(ROOT / "examples" / "temporal" / "starter.py"))
    assert [(f["line"], f["column"]) for f in run.json()] == [(22, 38)]
