"""IDL403 constant-ingress-key."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...diagnostics import Finding
from ...registry import Invalid, Valid
from ...scopes import Kind
from ._calls import IngressRule
from ._starts import workflow_starts


def _constant_key(module: ModuleAnalysis, expr: ast.expr) -> bool:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, (str, bytes)):
        return True
    if isinstance(expr, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) for v in expr.values)
    if isinstance(expr, ast.Name):
        binding = module.resolver.binding(expr)
        return (
            binding is not None
            and binding.kind is Kind.ASSIGN
            and binding.scope.parent is None
            and binding.value is not None
            and _constant_key(module, binding.value)
        )
    return False


class ConstantIngressKey(IngressRule):
    """
    ## What it does
    Reports a constant idempotency key on a call into Restate (see IDL401 for how calls are
    recognised): a string literal, an f-string without placeholders, or a module-level constant
    (`SYNC_KEY = "nightly-sync"`) — as SDK `idempotency_key=`, as the `idempotency-key` header, or
    in the default headers of a client or session.

    Workflow ids are not reported (a constant id for a singleton workflow can be deliberate), nor
    are test-harness clients unless `include-test-harness = true` (tests of deduplication send the
    same key twice on purpose).

    ## Why is this bad?
    Restate deduplicates by key (per target handler, and object key) for the idempotency retention
    period: every request that sends the same key is the same invocation. With a constant key, the
    first request runs and every later one — other orders, other payments — gets the first one's
    result back without running the handler. The key must identify *the request*.

    ## Use instead
    Derive the key from what identifies the request: an order id, a payment id.

    ## Fix safety
    No fix: only you know what identifies the request.

    ## Options
    - `include-test-harness = true`: also check test-harness clients.
    - `ingress-urls`: see IDL401.

    ## Temporal
    **Opt-in for Temporal**: enabled by default for Restate, it reports Temporal code only when
    selected explicitly (`select`/`extend-select = ["IDL403"]`, or a prefix such as `IDL4`). A
    fixed workflow id is how singleton and entity workflows are written, so a constant is not a
    bug by itself.

    It then reports a constant `id=` (a literal, an f-string without placeholders, a module-level
    constant) given to a workflow start at the client (`start_workflow`, `execute_workflow`,
    standalone activities, `WithStartWorkflowOperation(...)`; see IDL402) that sets neither
    `id_reuse_policy` nor `id_conflict_policy`. A fixed id alone does not make the start happen
    once: with the default policies (`temporalio/client/_client.py`: `id_reuse_policy=
    ALLOW_DUPLICATE`, `id_conflict_policy=UNSPECIFIED`), a second start fails with
    `WorkflowAlreadyStartedError` while the first run is open, and once it has closed the same id
    starts a **new run** — the replay case `T-start-id` (run against a Temporal dev server)
    showed a retry after the first run had closed starting the workflow again with a stable id,
    until `id_reuse_policy=REJECT_DUPLICATE` was set. What decides it is `id_reuse_policy=
    REJECT_DUPLICATE` (never again) or `ALLOW_DUPLICATE_FAILED_ONLY`, and `id_conflict_policy=
    USE_EXISTING` (attach to the running one). A call that sets either policy has decided what
    the shared id does and is not reported.

    Derive the id from the request (`id=f"report-{day}"`), or set the policies of the singleton
    you mean. No fix.
    """

    code = "IDL403"
    frameworks = ("restate", "temporal")
    opt_in_frameworks = ("temporal",)
    name = "constant-ingress-key"
    summary = "Constant idempotency key at the ingress (every request shares it)"
    severity = "error"
    VALID = [
        Valid("""
            import httpx
            import restate

            payments = restate.Service("Payments")


            @payments.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                return "ok"


            async def pay_order(order_id: str, amount: int) -> None:
                async with restate.create_client("http://localhost:8080") as client:
                    await client.service_call(pay, amount, idempotency_key=f"pay-{order_id}")
                httpx.post("http://localhost:8080/Payments/pay", json=amount, headers={"Idempotency-Key": order_id})
        """, doc=True),
        Valid("""
            import restate

            svc = restate.Service("Greeter")


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                return f"Hello {name}"


            async def test_dedup() -> None:
                async with restate.create_test_harness(restate.app(services=[svc])) as env:
                    first = await env.client.service_call(greet, "Ada", idempotency_key="k1")
                    assert first == await env.client.service_call(greet, "Ada", idempotency_key="k1")
        """, note="tests of deduplication use constant keys on purpose"),
    ]
    VALID += [
        Valid("""
            from temporalio import workflow
            from temporalio.client import Client
            from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy


            @workflow.defn
            class ReportWorkflow:
                @workflow.run
                async def run(self, day: str) -> str:
                    return day


            async def nightly(client: Client, day: str) -> None:
                await client.start_workflow(ReportWorkflow.run, day, id=f"report-{day}", task_queue="reports")
                await client.start_workflow(
                    ReportWorkflow.run, day, id="report-singleton", task_queue="reports",
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )
        """, note="Temporal (selected): an id from the request; a singleton with its policies"),
    ]
    INVALID = [
        Invalid(
            """
                import temporalio.client
                from temporalio import workflow

                REPORT_ID = "nightly-report"


                @workflow.defn
                class ReportWorkflow:
                    @workflow.run
                    async def run(self, day: str) -> str:
                        return day


                async def nightly(day: str) -> None:
                    client = await temporalio.client.Client.connect("localhost:7233")
                    for queue in ("reports", "reports-eu"):
                        await client.start_workflow(ReportWorkflow.run, day, id=REPORT_ID, task_queue=queue)
                    await client.execute_workflow(ReportWorkflow.run, day, id="cleanup", task_queue="reports")
            """,
            ((17, 65), (18, 63)),
            message="constant workflow id",
            note="Temporal, selected explicitly (the examples select the rule's code)",
        ),
        Invalid(
            """
                import httpx
                import restate

                payments = restate.Service("Payments")
                SYNC_KEY = "nightly-sync"


                @payments.handler()
                async def pay(ctx: restate.Context, amount: int) -> str:
                    return "ok"


                async def pay_order(amount: int) -> None:
                    async with restate.create_client("http://localhost:8080") as client:
                        await client.service_call(pay, amount, idempotency_key="payment")
                    httpx.post("http://localhost:8080/Payments/pay", json=amount, headers={"Idempotency-Key": SYNC_KEY})
            """,
            ((15, 64), (16, 95)),
            message="constant idempotency key",
            doc=True,
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        yield from self._keys(module)
        yield from self._starts(module)

    def _starts(self, module: ModuleAnalysis) -> Iterable[Finding]:
        """Constant workflow ids at a client, in frameworks where the rule reports them (opt-in
        for Temporal), unless the call sets a reuse or conflict policy (the author decided
        what a shared id does)."""
        include = self.settings.include_test_harness
        for start in workflow_starts(module):
            if (start.harness and not include) or start.policy or start.region == "handler":
                continue
            if not self.reports_for(start.framework.name) or not _constant_key(module, start.id):
                continue
            policy = start.tables.default_policy
            yield module.finding(
                self,
                start.id,
                f"constant {start.kind} id `{module.text(start.id)}` on {start.what}",
                detail="every start shares this id: "
                + (f"with the default policies ({policy}). " if policy else "")
                + "A fixed id alone does not make the start happen once; derive the id from "
                "the request (an order id), or, for a deliberate singleton, set the reuse and "
                "conflict policies",
            )

    def _keys(self, module: ModuleAnalysis) -> Iterable[Finding]:
        seen: set[int] = set()
        for ic in self.calls(module):
            key = ic.key
            if key is None or id(key) in seen or not _constant_key(module, key):
                continue
            seen.add(id(key))
            yield module.finding(
                self,
                key,
                f"constant idempotency key `{module.text(key)}` on {ic.what}",
                detail="every request shares it, so after the first one Restate returns that "
                "first result to all of them; derive the key from the request (an order id, a "
                "payment id)",
            )
