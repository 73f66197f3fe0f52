"""IDL403 constant-ingress-key."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...diagnostics import Finding
from ...registry import Invalid, Valid
from ...scopes import Kind
from ._calls import IngressRule


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
    """

    code = "IDL403"
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
    INVALID = [
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
