"""Import Temporal code under the real SDK and validate its workflows and activities as
``temporalio.worker.Worker`` does when it is constructed, without a server.

A ``Worker`` needs a connected client, so this repeats the worker's own validation
(temporalio/worker/_workflow.py and _activity.py, 1.35): every workflow class gives a
definition (``@workflow.defn`` already validated it when the class was defined), names are
unique, the workflow runner (the sandbox for sandboxed workflows) prepares it — which re-imports
its module in the sandbox — and every activity gives a definition, has a unique name and is
not a class (sync activities are accepted as by a Worker given a thread-pool
``activity_executor``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import sys
import types
import uuid
from collections.abc import Iterable
from pathlib import Path

import temporalio.activity
import temporalio.workflow
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner


def definitions(module: types.ModuleType) -> tuple[list[type], list[object]]:
    """The workflow classes and activity callables defined in ``module`` (not imported)."""
    workflows: list[type] = []
    activities: list[object] = []
    for value in vars(module).values():
        if getattr(value, "__module__", None) != module.__name__:
            continue
        if isinstance(value, type) and temporalio.workflow._Definition.from_class(value):
            workflows.append(value)
        elif callable(value) and temporalio.activity._Definition.from_callable(value):
            activities.append(value)
    return workflows, activities


def validate_worker(workflows: Iterable[type], activities: Iterable[object]) -> None:
    """Raise as ``Worker(client, workflows=..., activities=...)`` would on these lists (in an
    event loop, where a worker is built: preparing a workflow instance needs one)."""

    async def run() -> None:
        _validate(list(workflows), list(activities))

    asyncio.run(run())


def _validate(workflows: list[type], activities: list[object]) -> None:
    names: set[str] = set()
    for cls in workflows:
        defn = temporalio.workflow._Definition.must_from_class(cls)
        assert defn.name not in names, f"More than one workflow named {defn.name}"
        names.add(defn.name or "")
        runner = SandboxedWorkflowRunner() if defn.sandboxed else UnsandboxedWorkflowRunner()
        runner.prepare_workflow(defn)
    names.clear()
    for fn in activities:
        act = temporalio.activity._Definition.must_from_callable(fn)
        assert act.name not in names, f"More than one activity named {act.name}"
        names.add(act.name or "")
        # a sync activity is accepted with `activity_executor=ThreadPoolExecutor(...)`, the
        # configuration these lists are meant for; a class is not (it must be an instance)
        assert not inspect.isclass(fn), f"activity {act.name} is a class, not an instance"


def build_worker_lists(code: str, directory: Path) -> tuple[list[type], list[object]]:
    """Import ``code`` as a module (importable by name, as the sandbox re-imports it) and
    validate its workflows and activities; returns them."""
    name = f"idemlint_temporal_{uuid.uuid4().hex}"
    path = directory / f"{name}.py"
    path.write_text(code, encoding="utf-8")
    sys.path.insert(0, str(directory))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        workflows, activities = definitions(module)
        validate_worker(workflows, activities)
        return workflows, activities
    finally:
        sys.modules.pop(name, None)
        sys.path.remove(str(directory))
