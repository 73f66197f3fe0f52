"""Restate: each rule's invalid shape under a forced retry on a real server, then its fix."""

from __future__ import annotations

import importlib.util
import sqlite3
import time
import uuid
from typing import Any

import pytest

from .conftest import FIXED_SUFFIX, RestateEnv, wait_for
from .registry import BY_KEY

pytestmark = pytest.mark.replay


def tag() -> str:
    return uuid.uuid4().hex


def call_ok(restate: RestateEnv, service: str, body: Any, handler: str = "run") -> Any:
    response = restate.call(f"{service}/{handler}", body)
    assert response.status_code == 200, response.text
    return response.json() if response.content else None


@pytest.mark.parametrize("key", ["IDL101", "IDL102", "IDL103", "IDL201"])
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


def failing_forever(restate: RestateEnv, service: str, run: str, events: int) -> dict[str, Any]:
    """Send an invocation that cannot complete; once it failed and ``events`` were counted, kill it."""
    invocation = restate.send(f"{service}/run", run)
    try:
        row = restate.server.wait_invocation(invocation, "failure")
        wait_for(lambda: len(restate.sink.events(run)) >= events, what=f"{events} events")
        row = restate.server.invocation(invocation)
    finally:
        restate.server.kill(invocation)
    return row


def test_idl202_call_result_runs_outside_journal(restate: RestateEnv,
                                                 results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL202"], results)
    outcome.lint()
    run = tag()
    row = failing_forever(restate, "IDL202", run, events=2)
    invalid = {"status": row["status"], "charges": len(restate.sink.events(run)),
               "failure": row["last_failure"]}
    assert "is not a callable object" in invalid["failure"]
    run = tag()
    fixed = {"response": call_ok(restate, "IDL202" + FIXED_SUFFIX, run),
             "charges": len(restate.sink.events(run))}
    outcome.harm(invalid["charges"] >= 2 and invalid["status"] != "completed",
                 fixed != {"response": {"charged": run}, "charges": 1},
                 invalid=invalid, fixed=fixed)


def test_idl203_coroutine_never_awaited(restate: RestateEnv,
                                        results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL203"], results)
    outcome.lint()
    run = tag()
    row = failing_forever(restate, "IDL203", run, events=0)
    invalid = {"status": row["status"], "requests": len(restate.sink.events(run)),
               "failure": row["last_failure"]}
    run = tag()
    fixed = {"response": call_ok(restate, "IDL203" + FIXED_SUFFIX, run),
             "requests": len(restate.sink.events(run))}
    outcome.harm(invalid["requests"] == 0 and invalid["status"] != "completed",
                 fixed != {"response": run, "requests": 1}, invalid=invalid, fixed=fixed)


def test_idl204_action_never_runs(restate: RestateEnv, results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL204"], results)
    outcome.lint()
    counts = {}
    for suffix in ("", FIXED_SUFFIX):
        run = tag()
        assert call_ok(restate, "IDL204" + suffix, run) == run
        time.sleep(0.5)  # a late action would still report
        counts[suffix or "invalid"] = len(restate.sink.events(run))
    outcome.harm(counts["invalid"] == 0, counts[FIXED_SUFFIX] != 1, emails=counts)


def test_idl205_mutation_lost_on_replay(restate: RestateEnv,
                                        results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL205"], results)
    outcome.lint()
    run = tag()
    invalid = call_ok(restate, "IDL205", run)
    fixed = call_ok(restate, "IDL205" + FIXED_SUFFIX, run)
    outcome.harm(invalid == [], fixed != [run], returned={"invalid": invalid, "fixed": fixed})


def test_idl206_options_keyword_reaches_action(restate: RestateEnv,
                                               results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL206"], results)
    outcome.lint()
    run = tag()
    row = failing_forever(restate, "IDL206", run, events=0)
    invalid = {"status": row["status"], "charges": len(restate.sink.events(run)),
               "failure": row["last_failure"]}
    assert "unexpected keyword argument 'options'" in invalid["failure"]
    run = tag()
    fixed = {"response": call_ok(restate, "IDL206" + FIXED_SUFFIX, run),
             "charges": len(restate.sink.events(run))}
    outcome.harm(invalid["charges"] == 0 and invalid["status"] != "completed",
                 fixed != {"response": run, "charges": 1}, invalid=invalid, fixed=fixed)


def test_idl301_key_kept_for_nothing(restate: RestateEnv,
                                     results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL301"], results)
    outcome.lint()
    seen = {}
    for suffix in ("", FIXED_SUFFIX):
        run = tag()
        assert call_ok(restate, "IDL301" + suffix, run) == f"paid {run}"
        # the callee's invocation, kept after completion only when it has a key
        entries = restate.server.query(
            "SELECT status, idempotency_key, completion_retention FROM sys_invocation "
            f"WHERE target_service_name = 'Payments' AND invoked_by_service_name = 'IDL301{suffix}'")
        seen[suffix or "invalid"] = {"charges": len(restate.sink.events(run)),
                                     "retained_invocations": len(entries), "rows": entries}
    # what the engine shows: the call runs once across the retry with or without the key (the
    # key protects nothing), and Restate 1.7 keeps every completed invocation for 24 h, keyed
    # or not: the extra storage the rule page describes is not observable
    for variant in seen.values():
        assert (variant["charges"], variant["retained_invocations"]) == (1, 1)
        assert variant["rows"][0]["completion_retention"] == "PT86400S"
    outcome.not_observable(seen=seen)


def test_idl302_random_key_breaks_replay(restate: RestateEnv,
                                         results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL302"], results)
    outcome.lint()
    run = tag()
    invocation = restate.send("IDL302/run", run)
    try:
        row = restate.server.wait_invocation(invocation, "failure")
        wait_for(lambda: "ForcedRetry" not in (restate.server.invocation(invocation)
                                               .get("last_failure") or "ForcedRetry"),
                 what="the failure after the forced retry")
        row = restate.server.invocation(invocation)
    finally:
        restate.server.kill(invocation)
    invalid = {"status": row["status"], "code": row.get("last_failure_error_code"),
               "failure": row["last_failure"][:300]}
    run = tag()
    fixed = call_ok(restate, "IDL302" + FIXED_SUFFIX, run)
    outcome.harm(invalid["code"] == "RT0016" and "Journal mismatch" in invalid["failure"]
                 and invalid["status"] != "completed",
                 fixed != f"paid {run}", invalid=invalid, fixed=fixed)


def load_client(path: Any, restate: RestateEnv, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("RESTATE_INGRESS_URL", restate.server.ingress)
    spec = importlib.util.spec_from_file_location(f"replay_client_{path.parent.name}_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("key", ["IDL401", "IDL402", "IDL404"])
def test_ingress_retry_runs_twice(key: str, restate: RestateEnv, monkeypatch: pytest.MonkeyPatch,
                                  results: dict[str, dict[str, Any]]) -> None:
    case = BY_KEY[key]
    outcome = restate.outcome(case, results)
    outcome.lint()
    charges = {}
    for variant, path in (("invalid", case.path), ("fixed", restate.fixed[key])):
        client = load_client(path, restate, monkeypatch)
        order = tag()
        responses = [client.pay(order, 5), client.pay(order, 5)]  # the caller's retry
        assert responses == [f"paid {order}"] * 2
        charges[variant] = len(restate.sink.events(order))
    outcome.harm(charges["invalid"] == 2, charges["fixed"] != 1, charges=charges)


def test_idl403_constant_key_drops_orders(restate: RestateEnv, monkeypatch: pytest.MonkeyPatch,
                                          results: dict[str, dict[str, Any]]) -> None:
    case = BY_KEY["IDL403"]
    outcome = restate.outcome(case, results)
    outcome.lint()
    seen = {}
    for variant, path in (("invalid", case.path), ("fixed", restate.fixed["IDL403"])):
        client = load_client(path, restate, monkeypatch)
        first, second = tag(), tag()
        seen[variant] = {"responses": [client.pay(first, 5), client.pay(second, 7)],
                         "charges": [len(restate.sink.events(first)),
                                     len(restate.sink.events(second))],
                         "expected": [f"paid {first}", f"paid {second}"]}
    invalid, fixed = seen["invalid"], seen["fixed"]
    outcome.harm(invalid["charges"] == [1, 0] and invalid["responses"][1] == invalid["expected"][0],
                 fixed["charges"] != [1, 1] or fixed["responses"] != fixed["expected"], seen=seen)


def test_idl109_asyncio_gather_over_durable_futures(restate: RestateEnv,
                                                    results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL109"], results)
    outcome.lint()
    row = failing_forever(restate, "IDL109", tag(), events=0)
    invalid = {"status": row["status"], "failure": row["last_failure"][:200]}
    fixed = call_ok(restate, "IDL109" + FIXED_SUFFIX, tag())
    outcome.harm("add_done_callback" in invalid["failure"] and invalid["status"] != "completed",
                 fixed != "after 0.05", invalid=invalid, fixed=fixed)


def test_idl109_asyncio_gather_replays_fine(restate: RestateEnv,
                                            results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL109-gather"], results)
    outcome.lint()
    seen = {}
    for suffix in ("", FIXED_SUFFIX):
        run = tag()
        seen[suffix or "invalid"] = {"response": call_ok(restate, "IDL109Gather" + suffix, run),
                                     "quotes": sorted(restate.sink.events(run))}
    for variant in seen.values():  # what the engine shows, with and without the fix
        assert variant == {"response": ["after 0.05", "after 0.2"],
                           "quotes": ["quoted after 0.05", "quoted after 0.2"]}
    outcome.not_observable(seen=seen)


def test_idl501_bare_except_catches_suspension(restate: RestateEnv,
                                               results: dict[str, dict[str, Any]]) -> None:
    outcome = restate.outcome(BY_KEY["IDL501"], results)
    outcome.lint()
    seen = {}
    for suffix in ("", FIXED_SUFFIX):
        run = tag()
        response = call_ok(restate, "IDL501" + suffix, run)
        seen[suffix or "invalid"] = {"response": response, "events": restate.sink.events(run)}
    # the engine does not confirm the rule page's "raise TerminalError there even fails the
    # invocation": the except body runs, but the invocation still completes on replay
    assert seen["invalid"]["response"] == "charged"
    outcome.harm(seen["invalid"]["events"] == ["compensated"],
                 seen[FIXED_SUFFIX] != {"response": "charged", "events": []}, seen=seen)
