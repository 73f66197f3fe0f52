"""The replay cases: which rule, which engine, what harm the test observes. docs/proof.md is made from this.

A test proves its case through ``outcome`` (see conftest.py), which asserts the harm without the
fix and its absence with the fix; the table states what those assertions check, so it does not
depend on timing or on a particular run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CASES_DIR = Path(__file__).resolve().parent / "cases"

PROVEN = "proven"
NOT_OBSERVABLE = "not observable"
PENDING = "rule pending"


@dataclass(frozen=True)
class Case:
    key: str
    rule: str  # an idemlint code, or the shape a pending rule will flag
    engine: str  # "Restate" or "Temporal"
    source: str  # the invalid file, relative to cases/
    line: int | None  # where idemlint reports ``rule`` in ``source`` (None: rule pending)
    fix: str  # "auto" (idemlint --fix --unsafe-fixes) or the manual fix, relative to cases/
    harm: str  # what the test observes without the fix
    observed: str  # how
    reason: str = ""  # set when the engine does not show the claimed harm: why

    @property
    def status(self) -> str:
        """Pending until the case names the rule's code and line: that one line adds the assertion."""
        if self.reason:
            return NOT_OBSERVABLE
        return PENDING if self.line is None else PROVEN

    @property
    def path(self) -> Path:
        return CASES_DIR / self.source

    @property
    def fix_path(self) -> Path | None:
        return None if self.fix == "auto" else CASES_DIR / self.fix


RETURNED_VS_SENT = ("the handler returns a value other than the one its journaled step sent "
                    "before the retry")
SINK = "events counted by a local HTTP server"

CASES: list[Case] = [
    Case("IDL101", "IDL101", "Restate", "restate/idl101.py", 11, "auto",
         "`time.time()` read again on the retry: " + RETURNED_VS_SENT, SINK),
    Case("IDL102", "IDL102", "Restate", "restate/idl102.py", 11, "auto",
         "`random.randint()` drawn again on the retry: " + RETURNED_VS_SENT, SINK),
    Case("IDL103", "IDL103", "Restate", "restate/idl103.py", 11, "auto",
         "`uuid.uuid4()` made again on the retry: " + RETURNED_VS_SENT, SINK),
    Case("IDL104", "IDL104", "Restate", "restate/idl104.py", 11, "auto",
         "the HTTP POST is sent twice for one invocation", SINK),
    Case("IDL105", "IDL105", "Restate", "restate/idl105.py", 12, "auto",
         "the INSERT runs twice for one invocation", "rows in a SQLite table"),
    Case("IDL106", "IDL106", "Restate", "restate/idl106.py", 11, "auto",
         "the subprocess runs twice for one invocation", "lines appended to a file"),
    Case("IDL107", "IDL107", "Restate", "restate/idl107.py", 12, "auto",
         "the in-memory sleep starts again from zero on the retry (the invocation takes at "
         "least twice the sleep)", "wall time of the invocation (fix: less than twice the sleep)"),
]

BY_KEY = {case.key: case for case in CASES}

CASES += [
    Case("IDL201", "IDL201", "Restate", "restate/idl201.py", 10, "manual/idl201.py",
         "`ctx.uuid()` inside the action advances the seeded generator only when the action runs: "
         "a later `ctx.uuid()` differs on the retry, so " + RETURNED_VS_SENT, SINK),
    Case("IDL202", "IDL202", "Restate", "restate/idl202.py", 14, "auto",
         "the charge runs in the handler on every attempt (counted at least twice) and the SDK "
         "then fails to call its result: the invocation never completes",
         SINK + "; `sys_invocation.last_failure`"),
    Case("IDL203", "IDL203", "Restate", "restate/idl203.py", 14, "auto",
         "the coroutine is never awaited (the request is never sent) and its result cannot be "
         "journaled: the invocation fails and retries", SINK + "; `sys_invocation.last_failure`"),
    Case("IDL204", "IDL204", "Restate", "restate/idl204.py", 9, "auto",
         "the invocation completes and the action never ran", SINK),
    Case("IDL205", "IDL205", "Restate", "restate/idl205.py", 10, "manual/idl205.py",
         "on the retry the action is skipped and its `append` does not happen: the handler "
         "returns an empty list", "the handler's response"),
    Case("IDL206", "IDL206", "Restate", "restate/idl206.py", 14, "auto",
         "`options=` is forwarded to the action: TypeError on every attempt, the action never "
         "runs", SINK + "; `sys_invocation.last_failure`"),
]
BY_KEY = {case.key: case for case in CASES}

CASES += [
    Case("IDL301", "IDL301", "Restate", "restate/idl301.py", 11, "auto",
         "the keyed call runs once across the retry either way, and Restate keeps a "
         "completed invocation for the key (`sys_invocation`): storage for no protection",
         SINK + "; `sys_invocation` rows of the callee",
         "the key is redundant (the call runs once across the retry with or without it), but "
         "Restate 1.7 retains every completed invocation for 24 h (`completion_retention` "
         "PT86400S), keyed or not: the extra storage the rule page names does not show"),
    Case("IDL302", "IDL302", "Restate", "restate/idl302.py", 13, "auto",
         "the retry recomputes the key: the engine reports a journal mismatch and the "
         "invocation never completes", "`sys_invocation.last_failure` (error code)"),
    Case("IDL401", "IDL401", "Restate", "ingress/idl401.py", 10, "auto",
         "a client retry of the same request runs the handler twice", SINK),
    Case("IDL402", "IDL402", "Restate", "ingress/idl402.py", 11, "manual/idl402.py",
         "a client retry sends a new key: the handler runs twice", SINK),
    Case("IDL404", "IDL404", "Restate", "ingress/idl404.py", 10, "auto",
         "Restate ignores the misspelled `x-idempotency-key` header: a client retry runs the "
         "handler twice", SINK),
    Case("IDL403", "IDL403", "Restate", "ingress/idl403.py", 10, "manual/idl403.py",
         "a second order with the same constant key is never run: it gets the first order's "
         "response", SINK + "; the responses"),
]
BY_KEY = {case.key: case for case in CASES}

TEMPORAL_REPLAY = "a worker with `max_cached_workflows=0` (replays history on every task)"
CASES += [
    Case("T-clock", "IDL101", "Temporal", "temporal/wf_clock.py", 12,
         "auto",
         "`time.time()` read again on replay: the workflow returns a value other than the one "
         "its activity recorded (fix: `workflow.now()`)", SINK + "; " + TEMPORAL_REPLAY),
    Case("T-random", "IDL102", "Temporal", "temporal/wf_random.py", 12,
         "auto",
         "`random.randint()` drawn again on replay: the workflow returns a value other than the "
         "one its activity recorded (fix: `workflow.random()`)", SINK + "; " + TEMPORAL_REPLAY),
    Case("T-uuid", "IDL103", "Temporal", "temporal/wf_uuid.py", 12,
         "auto",
         "`uuid.uuid4()` made again on replay: the workflow returns a value other than the one "
         "its activity recorded (fix: `workflow.uuid4()`)", SINK + "; " + TEMPORAL_REPLAY),
    Case("T-sleep", "IDL107", "Temporal", "temporal/wf_sleep.py", 10,
         "auto",
         "`time.sleep()` blocks the workflow thread: the worker fails the workflow task "
         "(deadlock detected) and the workflow does not complete (fix: `await asyncio.sleep()`, "
         "a durable timer)", "the workflow's history (`WorkflowTaskFailed`, `TimerStarted`)"),
    Case("T-activity-call", "@activity.defn function called directly", "Temporal",
         "temporal/wf_activity_call.py", None, "manual/wf_activity_call.py",
         "the activity runs inline in workflow code, again on every replay (counted at least "
         "twice; fix: `workflow.execute_activity`)", SINK + "; " + TEMPORAL_REPLAY),
    Case("T-start-id", "IDL402", "Temporal",
         "temporal/wf_start_id.py", 8, "manual/wf_start_id.py",
         "a retried start with a new uuid4 id starts a second workflow (fix: a stable id; with the "
         "default reuse policy a retry after the first run closed starts it again, so the fix "
         "also sets `id_reuse_policy=REJECT_DUPLICATE` and attaches on "
         "`WorkflowAlreadyStartedError`)", SINK),
]
BY_KEY = {case.key: case for case in CASES}

CASES += [
    Case("IDL109", "IDL109", "Restate", "restate/idl109.py", 19, "manual/idl109.py",
         "`asyncio.wait(..., FIRST_COMPLETED)` over two `ctx.run_typed` futures fails on every "
         "attempt (`'ServerDurableFuture' object has no attribute 'add_done_callback'`): the "
         "invocation never completes (fix: `restate.select`)",
         "`sys_invocation.last_failure`; the handler's response"),
    Case("IDL109-gather", "IDL109", "Restate", "restate/idl109_gather.py", 19, "auto",
         "`asyncio.gather` over two `ctx.run_typed` futures, with a forced retry after it",
         "the handler's response; " + SINK,
         "`asyncio.gather` over `ctx.run_typed` futures completes, and a forced retry replays it "
         "to the same result with each action run once; the timing-dependent first error the "
         "rule page names needs failing futures and was not reproduced"),
    Case("IDL501", "IDL501", "Restate", "restate_rr/idl501.py", 13, "auto",
         "the SDK's suspension at `await ctx.sleep(...)` lands in the bare `except:`: the "
         "compensation in it runs although nothing failed (the invocation later completes "
         "normally on replay)",
         SINK + "; served with the request/response protocol, so the SDK suspends at the sleep"),
]
BY_KEY = {case.key: case for case in CASES}
