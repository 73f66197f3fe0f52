"""Session fixtures for the replay tests: real engines, started once, only when a test needs them."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from . import lint
from .registry import CASES, CASES_DIR, NOT_OBSERVABLE, Case
from .restate_env import ROOT, Endpoint, RestateServer
from .sink import Sink
from .temporal_env import TemporalServer

if str(CASES_DIR) not in sys.path:  # the case modules import their shared helpers by name
    sys.path.insert(0, str(CASES_DIR))

RESULTS = ROOT / ".cache" / "replay" / "results.json"
FIXED_SUFFIX = "Fixed"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.replay)


@pytest.fixture(scope="session")
def results() -> Iterator[dict[str, dict[str, Any]]]:
    """Each case's outcome, written to .cache/replay/results.json at the end of the run."""
    recorded: dict[str, dict[str, Any]] = {}
    yield recorded
    if recorded:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        RESULTS.write_text(json.dumps({**previous, **recorded}, indent=2, sort_keys=True) + "\n")


@dataclass
class Outcome:
    """Assert and record a case: harm without the fix, none with it, and idemlint's verdicts."""

    case: Case
    store: dict[str, dict[str, Any]]
    fixed_file: Path | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def lint(self) -> None:
        """idemlint reports the rule on the invalid file at the registered line, not on the fix."""
        if self.case.line is None:  # rule pending: the assertion arrives with the rule
            return
        assert lint.lines_of(self.case.path, self.case.rule) == [self.case.line]
        assert self.fixed_file is not None
        assert lint.lines_of(self.fixed_file, self.case.rule) == []

    def harm(self, without_fix: bool, with_fix: bool, **details: Any) -> None:
        self.details.update(details)
        self.store[self.case.key] = {
            "rule": self.case.rule, "engine": self.case.engine, "harm_without_fix": without_fix,
            "harm_after_fix": with_fix, "observed": self.case.observed, "details": self.details,
        }
        assert without_fix, f"{self.case.key}: no harm observed without the fix: {self.details}"
        assert not with_fix, f"{self.case.key}: harm observed after the fix: {self.details}"

    def not_observable(self, **details: Any) -> None:
        """The engine shows no harm for this claim: record it and mark the test xfail (reason)."""
        assert self.case.status == NOT_OBSERVABLE, f"{self.case.key} is registered as {self.case.status}"
        self.details.update(details)
        self.store[self.case.key] = {
            "rule": self.case.rule, "engine": self.case.engine, "harm_without_fix": False,
            "harm_after_fix": False, "observed": self.case.observed, "details": self.details,
        }
        pytest.xfail(self.case.reason)


@pytest.fixture(scope="session")
def sink() -> Iterator[Sink]:
    server = Sink()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("replay-state")


def prepare_fixed(case: Case, lint_root: Path, serve_dir: Path | None) -> Path:
    """The fixed variant: the invalid file fixed by idemlint, or the manual fix, in a folder alone."""
    source = case.fix_path or case.path
    fixed = lint.copy_alone(source, lint_root / case.key)
    if fixed.name != case.path.name:
        fixed = fixed.rename(fixed.with_name(case.path.name))
    if case.fix == "auto":
        lint.apply_fixes(fixed)
    if serve_dir is not None:
        serve_dir.mkdir(parents=True, exist_ok=True)
        text = lint.rename_services(fixed.read_text(), FIXED_SUFFIX)
        (serve_dir / fixed.name).write_text(text)
    return fixed


@dataclass
class RestateEnv:
    server: RestateServer
    sink: Sink
    state: Path
    fixed: dict[str, Path]

    def call(self, path: str, body: Any, headers: dict[str, str] | None = None,
             timeout: float = 60) -> httpx.Response:
        return httpx.post(f"{self.server.ingress}/{path}", json=body, headers=headers,
                          timeout=timeout)

    def send(self, path: str, body: Any) -> str:
        response = self.call(f"{path}/send", body)
        response.raise_for_status()
        return str(response.json()["invocationId"])

    def outcome(self, case: Case, store: dict[str, dict[str, Any]]) -> Outcome:
        return Outcome(case, store, self.fixed.get(case.key))


@pytest.fixture(scope="session")
def restate(tmp_path_factory: pytest.TempPathFactory, sink: Sink, state_dir: Path
            ) -> Iterator[RestateEnv]:
    """A real Restate server, and every Restate case (invalid and fixed) served and registered."""
    work = tmp_path_factory.mktemp("restate")
    fixed: dict[str, Path] = {}
    # cases/restate: the default (bidi) protocol; cases/restate_rr: request/response, where the
    # SDK suspends at every await the journal cannot answer yet
    folders = {name: [CASES_DIR / name, work / f"fixed-{name}"] for name in ("restate", "restate_rr")}
    for _, serve_fixed in folders.values():
        serve_fixed.mkdir()
    for case in CASES:
        if case.engine == "Restate":
            group = folders.get(case.path.parent.name)
            fixed[case.key] = prepare_fixed(case, work / "lint", group[1] if group else None)
    with sqlite3.connect(state_dir / "orders.db") as db:
        db.execute("CREATE TABLE orders (tag TEXT)")
    server = RestateServer.start(work)
    endpoints: list[Endpoint] = []
    try:
        env = {"REPLAY_SINK": sink.url, "REPLAY_STATE": str(state_dir),
               "PYTHONPATH": str(CASES_DIR)}
        for protocol, name in (("bidi", "restate"), ("request_response", "restate_rr")):
            endpoints.append(Endpoint.start(work, folders[name], env, protocol))
            server.register(endpoints[-1].uri)
        yield RestateEnv(server, sink, state_dir, fixed)
    finally:
        for endpoint in endpoints:
            endpoint.stop()
        server.stop()


def wait_for(predicate: Any, timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached after {timeout} s")


@dataclass
class TemporalEnv:
    server: TemporalServer
    sink: Sink
    fixed: dict[str, Path]

    @property
    def address(self) -> str:
        return self.server.address

    def outcome(self, case: Case, store: dict[str, dict[str, Any]]) -> Outcome:
        return Outcome(case, store, self.fixed.get(case.key))


@pytest.fixture(scope="session")
def temporal(tmp_path_factory: pytest.TempPathFactory, sink: Sink, state_dir: Path
             ) -> Iterator[TemporalEnv]:
    """A real Temporal dev server; workers run in this process (see test_temporal.py)."""
    import replay_harness

    work = tmp_path_factory.mktemp("temporal")
    fixed = {case.key: prepare_fixed(case, work / "lint", None)
             for case in CASES if case.engine == "Temporal"}
    replay_harness.SINK = sink.url  # activities run in this process
    replay_harness.STATE = state_dir
    server = TemporalServer.start(work)
    try:
        yield TemporalEnv(server, sink, fixed)
    finally:
        server.stop()
