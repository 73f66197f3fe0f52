"""IDL402 regenerated-ingress-key."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...diagnostics import Finding
from ...regenerated import Fresh, fresh_values
from ...registry import Invalid, Valid
from ...scopes import parent
from ._calls import IngressRule
from ._shared import regenerated_per_call, retry_phrase
from ._starts import workflow_starts


class RegeneratedIngressKey(IngressRule):
    """
    ## What it does
    Reports an idempotency key of a call into Restate (SDK `idempotency_key=`, or the
    `idempotency-key` header of a POST/PUT to the ingress — see IDL401 for how calls and URLs are
    recognised) that is generated anew for every call:

    - inline: `idempotency_key=str(uuid.uuid4())`, `headers={"idempotency-key": f"{time.time()}"}`;
    - through a variable assigned in the same function, when the variable has no other use and no
      loop around the call leaves the assignment out — in particular a key made *inside* the retry
      loop.

    It also reports a random **workflow id** on a workflow submission (`workflow_send(run,
    key=uuid4().hex, ...)`, `POST /{Workflow}/{uuid4()}/run`): the id is the workflow's
    deduplication key.

    It applies wherever the call is made: scripts, web apps, journaled actions (an action is
    retried until it succeeds) and handler code.

    Not reported: a key made once *before* the retry loop and reused by every attempt; a key with
    another use (stored in a database, logged, passed to a second attempt — it may be persisted and
    reused by a recovery path); keys from `ctx.uuid()`/`ctx.random()` made in handler code and used
    in a journaled action (the same value on every retry of the action); day-granular dates.

    ## Why is this bad?
    A key protects against a retry only if the retry sends *the same* key. A key generated at the
    call site is different on every attempt, so Restate sees each retry as a new request and runs the
    handler again: the key costs storage and protects nothing. The same holds for a workflow
    submitted with a random id: a retry starts a second workflow instead of reaching the first one.

    ## Use instead
    Derive the key from the request (an order id), or create it once, before the retry loop (a
    `uuid4()` made there and reused by every attempt, or stored with the order); submit a workflow
    with an id of the business entity (the email, the order id).

    ## Fix safety
    No fix: the right key (an id from the request, or a value created earlier and stored) is a
    design decision.

    ## Options
    - `include-test-harness = true`: also check test-harness clients (for Temporal, the client of
      `temporalio.testing.WorkflowEnvironment`).
    - `ingress-urls`: see IDL401.

    ## Temporal
    A workflow started at the client — `Client.start_workflow` / `execute_workflow`, standalone
    activities (`start_activity` / `execute_activity` and their `_class`/`_method` forms), or an
    update-with-start's `WithStartWorkflowOperation(...)` — with an `id=` generated anew for every
    call: `uuid`/clock/`random` inline, or through a variable made inside the retry loop. The
    client is recognised however it reaches the call: `client = await Client.connect(...)`, a
    parameter or attribute annotated `Client`, `activity.client()` inside an activity. Not
    reported inside workflow code (a client there is I/O: move it into an activity), nor on the
    test environment's client or inside tests (`test*` functions, `Test*` classes: a fresh id per
    test run is deliberate) unless `include-test-harness = true`.

    The id is the only deduplication of a start (`temporalio/client/_client.py`: `id` is
    required and keyword-only; `id_conflict_policy` defaults to UNSPECIFIED, which fails a second
    start while the first runs, or returns the running workflow with `USE_EXISTING`). A new id
    on a retry defeats both: a client that retries after a timeout, or an activity that starts a
    workflow and is retried (activities are retried until they succeed by default), starts a
    *second* workflow (the replay case `T-start-id`, against a Temporal dev server, shows it).
    The update id of `start/execute_update_with_start_workflow(..., id=)` is
    not a start (it defaults to a new UUID) and is not reported. There is no
    `signal_with_start_workflow` in temporalio 1.35: signal-with-start is
    `start_workflow(..., start_signal=...)`, covered as `start_workflow`.

    Use an id of the business entity (`id=f"order-{order_id}"`, with
    `id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING` to attach to a running one), or
    create the id once, before the retry loop. No fix.
    """

    code = "IDL402"
    frameworks = ("restate", "temporal")
    name = "regenerated-ingress-key"
    summary = "Ingress idempotency key (or workflow id) generated anew for every call"
    severity = "error"
    VALID = [
        Valid("""
            import time
            import uuid

            import httpx

            RESTATE_INGRESS_URL = "http://localhost:8080"


            def pay(order_id: str, amount: int) -> None:
                key = str(uuid.uuid4())
                for attempt in range(5):
                    try:
                        httpx.post(f"{RESTATE_INGRESS_URL}/Payments/pay", json=amount, headers={"idempotency-key": key})
                        return
                    except httpx.TransportError:
                        time.sleep(2**attempt)
        """, note="created once, before the retry loop"),
        Valid("""
            import uuid

            import restate

            payments = restate.Service("Payments")


            @payments.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                return "ok"


            async def submit(db, amount: int) -> str:
                key = str(uuid.uuid4())
                await db.save_pending(key, amount)  # persisted: a recovery job resends with it
                async with restate.create_client("http://localhost:8080") as client:
                    return await client.service_call(pay, amount, idempotency_key=key)


            async def resend(order_id: str, amount: int) -> str:
                async with restate.create_client("http://localhost:8080") as client:
                    return await client.service_call(pay, amount, idempotency_key=f"pay-{order_id}")
        """, note="a key that is kept, and a key from the request"),
        Valid("""
            import httpx
            import restate

            orders = restate.Service("Orders")


            @orders.handler()
            async def confirm(ctx: restate.Context, order: dict) -> int:
                key = str(ctx.uuid())
                return await ctx.run_typed(
                    "notify",
                    lambda: httpx.post("http://localhost:8080/Mailer/send", json=order, headers={"idempotency-key": key}).status_code,
                )
        """, note="ctx.uuid() made in the handler: the same on every retry of the action"),
        Valid(
            """
            import time

            import requests

            INGRESS = "http://localhost:8080"


            def pay(order_id: str, amount: int) -> None:
                key = f"pay-{order_id}"
                for attempt in range(3):
                    try:
                        requests.post(INGRESS + "/Payments/pay", json=amount, headers={"Idempotency-Key": key})
                        return
                    except requests.ConnectionError:
                        time.sleep(1)


            def start(email: str) -> None:
                requests.post(f"{INGRESS}/Signup/{email}/run", json=email)
            """,
            note="the key and the workflow id come from the request",
            doc=True,
        ),
    ]
    VALID += [
        Valid("""
            import uuid

            from temporalio import workflow
            from temporalio.client import Client
            from temporalio.common import WorkflowIDConflictPolicy
            from temporalio.service import RPCError
            from temporalio.testing import WorkflowEnvironment


            @workflow.defn
            class OrderWorkflow:
                @workflow.run
                async def run(self, order_id: str) -> str:
                    return order_id


            async def place(client: Client, order_id: str, workflow_id: str | None = None) -> str:
                handle = await client.start_workflow(
                    OrderWorkflow.run, order_id, id=f"order-{order_id}", task_queue="orders",
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                )
                await client.start_workflow(OrderWorkflow.run, order_id, id=workflow_id or str(uuid.uuid4()), task_queue="orders")
                return handle.id


            async def place_with_retries(client: Client, order_id: str) -> None:
                workflow_id = f"order-{uuid.uuid4()}"
                for attempt in range(3):
                    try:
                        await client.start_workflow(OrderWorkflow.run, order_id, id=workflow_id, task_queue="orders")
                        return
                    except RPCError:
                        continue


            async def test_order() -> None:
                async with await WorkflowEnvironment.start_time_skipping() as env:
                    await env.client.execute_workflow(OrderWorkflow.run, "A-1", id=str(uuid.uuid4()), task_queue="orders")
        """, note="Temporal: an id from the request, a caller's id with a default, an id made "
             "once before the retry loop, the test environment's client"),
    ]
    INVALID = [
        Invalid(
            """
                import asyncio
                import time
                import uuid

                import temporalio.client as tc
                from temporalio import activity, workflow
                from temporalio.client import Client, WithStartWorkflowOperation
                from temporalio.common import WorkflowIDConflictPolicy


                @workflow.defn
                class OrderWorkflow:
                    @workflow.run
                    async def run(self, order_id: str) -> str:
                        return order_id

                    @workflow.update
                    async def expedite(self) -> str:
                        return "expedited"


                @activity.defn
                async def reorder(order_id: str) -> None:
                    await activity.client().start_workflow(OrderWorkflow.run, order_id, id=f"reorder-{uuid.uuid4()}", task_queue="orders")


                class Orders:
                    def __init__(self, client: tc.Client) -> None:
                        self._client = client

                    async def place(self, order_id: str) -> str:
                        for attempt in range(3):
                            workflow_id = f"order-{time.time_ns()}"
                            try:
                                handle = await self._client.start_workflow(OrderWorkflow.run, order_id, id=workflow_id, task_queue="orders")
                                return handle.id
                            except tc.RPCError:
                                await asyncio.sleep(2**attempt)
                        raise RuntimeError("not started")


                async def main(order_id: str) -> None:
                    client = await Client.connect("localhost:7233")
                    await client.execute_workflow(OrderWorkflow.run, order_id, id=str(uuid.uuid4()), task_queue="orders")
                    if order_id:
                        start = WithStartWorkflowOperation(
                            OrderWorkflow.run, order_id, id=uuid.uuid4().hex, task_queue="orders",
                            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                        )
                        await client.execute_update_with_start_workflow(OrderWorkflow.expedite, start_workflow_operation=start)
            """,
            ((24, 76), (35, 92), (44, 67), (47, 45)),
            message="workflow id of",
            note="Temporal: an activity's client, an aliased client attribute with the id made "
                 "inside the retry loop, a connected client, an update-with-start operation",
        ),
        Invalid(
            """
                import uuid

                import restate

                payments = restate.Service("Payments")
                signup = restate.Workflow("Signup")


                @payments.handler()
                async def pay(ctx: restate.Context, amount: int) -> str:
                    return "ok"


                @signup.main()
                async def run(ctx: restate.WorkflowContext, email: str) -> str:
                    return email


                async def checkout(amount: int, email: str) -> None:
                    async with restate.create_client("http://localhost:8080") as client:
                        await client.service_call(pay, amount, idempotency_key=str(uuid.uuid4()))
                        await client.workflow_send(run, key=uuid.uuid4().hex, arg=email)
            """,
            ((21, 64), (22, 45)),
            message="uuid.uuid4()",
        ),
        Invalid(
            """
                import time
                import uuid

                import requests

                INGRESS = "http://localhost:8080"


                def pay(order_id: str, amount: int) -> None:
                    for attempt in range(3):
                        key = f"pay-{order_id}-{time.time()}"
                        try:
                            requests.post(INGRESS + "/Payments/pay", json=amount, headers={"Idempotency-Key": key})
                            return
                        except requests.ConnectionError:
                            time.sleep(1)


                def start(email: str) -> None:
                    requests.post(f"{INGRESS}/Signup/{uuid.uuid4()}/run", json=email)
            """,
            ((13, 95), (20, 39)),
            note="key regenerated inside the retry loop; a random workflow id",
            doc=True,
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for ic in self.calls(module):
            if ic.key is not None:
                fresh = self._regenerated(module, ic.call, ic.key)
                if fresh is not None:
                    via = f" (through `{fresh.via.name}`)" if fresh.via is not None else ""
                    yield module.finding(
                        self,
                        ic.key,
                        f"idempotency key of {ic.what} comes from `{fresh.spelled}`{via}",
                        detail="a new value for every call: a retry sends a different key and "
                        "Restate runs the handler again; derive it from the request (an order id) "
                        "or create it once, before the retry loop, and reuse it",
                    )
            if ic.workflow and ic.workflow_id is not None:
                fresh = self._regenerated(module, ic.call, ic.workflow_id)
                if fresh is not None:
                    node = ic.workflow_id if ic.kind == "sdk" else fresh.node
                    yield module.finding(
                        self,
                        node,
                        f"workflow id of {ic.what} comes from `{fresh.spelled}`",
                        detail="a new value for every call: a retry submits a new workflow "
                        "instead of reaching the first one; use an id of the business entity "
                        "(the email, the order id)",
                    )

        yield from self._starts(module)

    def _starts(self, module: ModuleAnalysis) -> Iterable[Finding]:
        """Workflow starts at a client with an id regenerated per call (outside workflow code:
        a client there is I/O, reported by the nondeterminism rules)."""
        include = self.settings.include_test_harness
        for start in workflow_starts(module):
            if (start.harness and not include) or start.region == "handler":
                continue
            fresh = self._regenerated(module, start.call, start.id)
            if fresh is None:
                continue
            via = f" (through `{fresh.via.name}`)" if fresh.via is not None else ""
            yield module.finding(
                self,
                start.id,
                f"{start.kind} id of {start.what} comes from `{fresh.spelled}`{via}",
                detail=f"a new id for every call: {retry_phrase(start.region)} starts a second "
                f"{start.kind} instead of reaching the first one (the id is the only "
                "deduplication of a start); use an id of the business entity (the order id), "
                "or create it once, before the retry loop, and keep it",
            )

    @staticmethod
    def _regenerated(module: ModuleAnalysis, call: ast.Call, expr: ast.expr) -> Fresh | None:
        for fresh in fresh_values(module, expr):
            if fresh.context or _fallback(fresh.node, expr):
                continue
            if regenerated_per_call(module, fresh, call):
                return fresh
        return None


def _fallback(node: ast.AST, root: ast.AST) -> bool:
    """``given or str(uuid4())``, ``given if given else ...``: a default when the caller sent
    no key (a deliberate choice, not a key regenerated on retry)."""
    current = parent(node)
    child = node
    while current is not None and child is not root:
        if isinstance(current, ast.BoolOp) and isinstance(current.op, ast.Or) \
                and current.values[0] is not child:
            return True
        if isinstance(current, ast.IfExp) and current.test is not child:
            return True
        child, current = current, parent(current)
    return False


