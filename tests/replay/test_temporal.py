"""Temporal: the shapes the coming Temporal rules will flag, on a real dev server, then their fixes.

No idemlint rule exists yet ("rule pending"): when it does, give the case its code and line in
registry.py and ``outcome.lint()`` asserts it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import uuid
from pathlib import Path
from typing import Any

import pytest
from replay_temporal import Order, record_value
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from .conftest import TemporalEnv, wait_for
from .registry import BY_KEY

pytestmark = pytest.mark.replay


def load(path: Path) -> Any:
    name = f"replay_temporal_case_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def variants(env: TemporalEnv, key: str) -> dict[str, Path]:
    return {"invalid": BY_KEY[key].path, "fixed": env.fixed[key]}


def worker(client: Client, queue: str, workflows: list[type]) -> Worker:
    """No workflow cache: every workflow task replays the history from the start."""
    return Worker(client, task_queue=queue, workflows=[*workflows, Order],
                  activities=[record_value], max_cached_workflows=0,
                  workflow_runner=UnsandboxedWorkflowRunner())


async def run_workflow(env: TemporalEnv, path: Path, arg: Any) -> Any:
    client = await Client.connect(env.address)
    queue = f"replay-{uuid.uuid4().hex}"
    case = load(path).Case
    async with worker(client, queue, [case]):
        return await client.execute_workflow(case.run, arg, id=f"case-{uuid.uuid4().hex}",
                                             task_queue=queue)


@pytest.mark.parametrize("key", ["T-clock", "T-random", "T-uuid"])
def test_value_differs_on_replay(key: str, temporal: TemporalEnv,
                                 results: dict[str, dict[str, Any]]) -> None:
    outcome = temporal.outcome(BY_KEY[key], results)
    outcome.lint()
    seen = {}
    for variant, path in variants(temporal, key).items():
        tag = uuid.uuid4().hex
        returned = asyncio.run(run_workflow(temporal, path, tag))
        seen[variant] = [returned, *temporal.sink.events(tag)]
    assert len(seen["invalid"]) == len(seen["fixed"]) == 2
    outcome.harm(seen["invalid"][0] != seen["invalid"][1], seen["fixed"][0] != seen["fixed"][1],
                 returned_and_recorded=seen)


def test_activity_called_directly_runs_on_every_replay(temporal: TemporalEnv,
                                                       results: dict[str, dict[str, Any]]) -> None:
    outcome = temporal.outcome(BY_KEY["T-activity-call"], results)
    outcome.lint()
    charges = {}
    for variant, path in variants(temporal, "T-activity-call").items():
        tag = uuid.uuid4().hex
        assert asyncio.run(run_workflow(temporal, path, tag)) == tag
        charges[variant] = len(temporal.sink.events(tag))
    outcome.harm(charges["invalid"] >= 2, charges["fixed"] != 1, charges=charges)


async def history_types(handle: WorkflowHandle[Any, Any]) -> list[str]:
    history = await handle.fetch_history()
    return [EventType.Name(event.event_type) for event in history.events]


async def sleep_case(env: TemporalEnv, path: Path, seconds: float) -> dict[str, Any]:
    client = await Client.connect(env.address)
    queue = f"replay-{uuid.uuid4().hex}"
    case = load(path).Case
    async with worker(client, queue, [case]):
        handle = await client.start_workflow(case.run, seconds, id=f"case-{uuid.uuid4().hex}",
                                             task_queue=queue)
        # poll until the workflow closes or a workflow task fails (deadlock detection: 2 s)
        result, failures = None, []
        deadline = asyncio.get_running_loop().time() + seconds + 30
        while asyncio.get_running_loop().time() < deadline:
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                result = await handle.result()
                break
            failures = [e.workflow_task_failed_event_attributes.failure.message
                        for e in (await handle.fetch_history()).events
                        if e.HasField("workflow_task_failed_event_attributes")]
            if failures:
                break
            await asyncio.sleep(0.2)
        types = await history_types(handle)
        if result is None:
            await handle.terminate("replay test: stuck workflow")
    return {"result": result, "timer": "EVENT_TYPE_TIMER_STARTED" in types,
            "task_failures": failures[:1]}


def test_blocking_sleep_fails_workflow_task(temporal: TemporalEnv,
                                            results: dict[str, dict[str, Any]]) -> None:
    outcome = temporal.outcome(BY_KEY["T-sleep"], results)
    outcome.lint()
    seen = {variant: asyncio.run(sleep_case(temporal, path, 3.0))
            for variant, path in variants(temporal, "T-sleep").items()}
    invalid, fixed = seen["invalid"], seen["fixed"]
    outcome.harm(invalid["result"] is None and "deadlock" in " ".join(invalid["task_failures"]).lower(),
                 fixed != {"result": "woke", "timer": True, "task_failures": []}, seen=seen)


async def start_twice(env: TemporalEnv, path: Path, order_id: str) -> list[str]:
    client = await Client.connect(env.address)
    queue = f"replay-{uuid.uuid4().hex}"
    place = load(path).place
    async with worker(client, queue, []):
        return [await place(client, order_id, queue), await place(client, order_id, queue)]


def test_retried_start_with_random_id(temporal: TemporalEnv,
                                      results: dict[str, dict[str, Any]]) -> None:
    outcome = temporal.outcome(BY_KEY["T-start-id"], results)
    outcome.lint()
    started = {}
    for variant, path in variants(temporal, "T-start-id").items():
        order = uuid.uuid4().hex
        assert asyncio.run(start_twice(temporal, path, order)) == [order, order]
        wait_for(lambda order=order: len(temporal.sink.events(order)) >= 1)
        started[variant] = len(temporal.sink.events(order))
    outcome.harm(started["invalid"] == 2, started["fixed"] != 1, workflows_run=started)
