"""Restate: each rule's invalid shape under a forced retry on a real server, then its fix."""

from __future__ import annotations

import sqlite3
import time
import uuid
from typing import Any

import pytest

from .conftest import FIXED_SUFFIX, RestateEnv
from .registry import BY_KEY

pytestmark = pytest.mark.replay


def tag() -> str:
    return uuid.uuid4().hex


def call_ok(restate: RestateEnv, service: str, body: Any, handler: str = "run") -> Any:
    response = restate.call(f"{service}/{handler}", body)
    assert response.status_code == 200, response.text
    return response.json() if response.content else None


@pytest.mark.parametrize("key", ["IDL101", "IDL102", "IDL103"])
def test_value_drawn_again_on_retry(key: str, restate: RestateEnv,
                                    results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY[key], results)
    outcome.lint()
    seen: dict[str, list[Any]] = {}
    for suffix in ("", FIXED_SUFFIX):
        run = tag()
        returned = call_ok(restate, key + suffix, run)
        seen[suffix or "invalid"] = [returned, *restate.sink.events(run)]
    # each: [what the handler returned, what its journaled step sent (once)]
    outcome.harm(seen["invalid"][0] != seen["invalid"][1], seen[FIXED_SUFFIX][0] != seen[FIXED_SUFFIX][1],
                 returned_and_sent=seen)
    assert len(seen["invalid"]) == len(seen[FIXED_SUFFIX]) == 2


def test_idl104_network_call_sent_twice(restate: RestateEnv, results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL104"], results)
    outcome.lint()
    counts = {}
    for suffix in ("", FIXED_SUFFIX):
        run = tag()
        assert call_ok(restate, "IDL104" + suffix, run) == 200
        counts[suffix or "invalid"] = len(restate.sink.events(run))
    outcome.harm(counts["invalid"] == 2, counts[FIXED_SUFFIX] != 1, posts=counts)


def test_idl105_insert_runs_twice(restate: RestateEnv, results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL105"], results)
    outcome.lint()
    counts = {}
    for suffix in ("", FIXED_SUFFIX):
        run = tag()
        assert call_ok(restate, "IDL105" + suffix, run) == 1
        with sqlite3.connect(restate.state / "orders.db") as db:
            (rows,) = db.execute("SELECT count(*) FROM orders WHERE tag = ?", (run,)).fetchone()
        counts[suffix or "invalid"] = rows
    outcome.harm(counts["invalid"] == 2, counts[FIXED_SUFFIX] != 1, rows=counts)


def test_idl106_subprocess_runs_twice(restate: RestateEnv, results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL106"], results)
    outcome.lint()
    counts = {}
    for suffix in ("", FIXED_SUFFIX):
        run = tag()
        call_ok(restate, "IDL106" + suffix, run)
        counts[suffix or "invalid"] = len((restate.state / f"lines-{run}.txt").read_text().split())
    outcome.harm(counts["invalid"] == 2, counts[FIXED_SUFFIX] != 1, lines=counts)


def test_idl107_sleep_restarts_on_retry(restate: RestateEnv, results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL107"], results)
    outcome.lint()
    sleep = 2.0
    took = {}
    for suffix in ("", FIXED_SUFFIX):
        start = time.monotonic()
        call_ok(restate, "IDL107" + suffix, sleep)
        took[suffix or "invalid"] = round(time.monotonic() - start, 2)
    # two in-memory sleeps take at least 2 * sleep; the durable timer fired once, replay skips it
    outcome.harm(took["invalid"] >= 2 * sleep, took[FIXED_SUFFIX] >= 2 * sleep, seconds=took)
