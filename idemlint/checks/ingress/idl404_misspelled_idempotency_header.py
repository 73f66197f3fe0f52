"""IDL404 misspelled-idempotency-header."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...diagnostics import Edit, Finding, Fix
from ...fixes.context import FixContext
from ...fixes.text import string_literal_like
from ...registry import Invalid, Valid
from ...syntax import string_value
from ._calls import IngressRule


def _rename_fix(module: ModuleAnalysis, node: ast.Constant) -> Fix:
    expected = module.kb.framework.ingress_key_header
    value = node.value if isinstance(node.value, str) else ""
    proper = "-".join(p.capitalize() for p in expected.split("-")) if value[:1].isupper() else expected

    def build(fx: FixContext) -> list[Edit]:
        return [fx.replace(node, string_literal_like(fx.text(node), proper))]

    return Fix("safe", f"Rename the header to `{proper}`", build)


class MisspelledIdempotencyHeader(IngressRule):
    """
    ## What it does
    Reports a header name close to `idempotency-key` on a call into Restate (see IDL401 for how
    calls are recognised) when the request carries no correct `idempotency-key` header:
    `idempotent-key`, `idempotency_key`, `Idempotency_Key`, `idempotency-token`,
    `x-idempotency-key`, `X-Restate-Idempotency-Key`, `idempotencykey`, typos such as
    `idempotncy-key` — any name containing `idempot`, or within a small edit distance. Header names
    are compared case-insensitively (`IDEMPOTENCY-KEY` is correct). Names are read from literal
    dicts, dict variables (`headers["..."] = ...`), lists of pairs, SDK `headers=` and
    `req.add_header(...)`.

    Not reported: headers on requests to other APIs (Stripe's `Idempotency-Key` conventions are not
    ours to judge), and a near miss next to the correct header.

    ## Why is this bad?
    Restate reads exactly the `idempotency-key` header (the SDK client sends `Idempotency-Key`,
    `restate/client.py`). Any other name is passed through as an ordinary header and ignored for
    deduplication: the code looks protected, but a retry runs the handler again. Underscores are a
    common slip (`idempotency_key` is the SDK's *argument* name), and many proxies drop headers with
    underscores anyway.

    ## Fix safety
    **Safe**: the string literal is renamed in place to `idempotency-key` (`Idempotency-Key` when
    the original started with an upper-case letter), keeping its quotes. When a request has several
    near misses, only the first is renamed (renaming all would duplicate the header).

    ## Options
    - `include-test-harness = true`: also check test-harness clients.
    - `ingress-urls`: see IDL401.
    """

    code = "IDL404"
    name = "misspelled-idempotency-header"
    summary = "Near-miss idempotency header name on a call into Restate (ignored by Restate)"
    severity = "error"
    fix_availability = "always"
    VALID = [
        Valid("""
            import httpx


            def pay(payment_id: str) -> None:
                httpx.post("http://localhost:8080/Payments/pay", headers={"IDEMPOTENCY-KEY": payment_id})
                httpx.post("https://api.example.com/v1/payments", headers={"X-Idempotency-Key": payment_id})
                httpx.post(
                    "http://localhost:8080/Payments/pay",
                    headers={"idempotency-key": payment_id, "x-idempotency-key": payment_id},
                )
        """, note="any case; other APIs' headers; alongside the right header"),
    ]
    INVALID = [
        Invalid(
            """
                import os

                import requests

                RESTATE_URL = os.getenv("RESTATE_URL", "http://restate:8080")


                def pay(payment_id: str, amount: int) -> None:
                    requests.post(f"{RESTATE_URL}/Payments/pay", json=amount, headers={"Idempotency_Key": payment_id})


                def refund(refund_id: str) -> None:
                    headers = {"Content-Type": "application/json"}
                    headers['x-idempotency-key'] = refund_id
                    requests.put(RESTATE_URL + "/Payments/refund", data="{}", headers=headers)
            """,
            ((9, 72), (14, 13)),
            doc=True,
            fixed="""
                import os

                import requests

                RESTATE_URL = os.getenv("RESTATE_URL", "http://restate:8080")


                def pay(payment_id: str, amount: int) -> None:
                    requests.post(f"{RESTATE_URL}/Payments/pay", json=amount, headers={"Idempotency-Key": payment_id})


                def refund(refund_id: str) -> None:
                    headers = {"Content-Type": "application/json"}
                    headers['idempotency-key'] = refund_id
                    requests.put(RESTATE_URL + "/Payments/refund", data="{}", headers=headers)
            """,
        ),
        Invalid(
            """
                import restate

                svc = restate.Service("Orders")


                @svc.handler()
                async def place(ctx: restate.Context, order: dict) -> str:
                    return "ok"


                async def submit(order_id: str, order: dict) -> None:
                    async with restate.create_client("http://localhost:8080") as client:
                        await client.service_send(place, order, headers={"idempotent-key": order_id})
            """,
            ((13, 58),),
            fixed="""
                import restate

                svc = restate.Service("Orders")


                @svc.handler()
                async def place(ctx: restate.Context, order: dict) -> str:
                    return "ok"


                async def submit(order_id: str, order: dict) -> None:
                    async with restate.create_client("http://localhost:8080") as client:
                        await client.service_send(place, order, headers={"idempotency-key": order_id})
            """,
            note="SDK client headers",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        seen: set[int] = set()
        expected = module.kb.framework.ingress_key_header
        for ic in self.calls(module):
            if ic.key is not None or not ic.near:
                continue
            for index, node in enumerate(ic.near):
                if id(node) in seen:
                    continue
                seen.add(id(node))
                fix = _rename_fix(module, node) if index == 0 else None
                yield module.finding(
                    self,
                    node,
                    f"header `{string_value(node)}` on {ic.what} is not `{expected}`",
                    fix=fix,
                    detail="Restate ignores it, so the request is not deduplicated: a retry runs "
                    "the handler again",
                )
