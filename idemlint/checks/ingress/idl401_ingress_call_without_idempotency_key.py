"""IDL401 ingress-call-without-idempotency-key."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...diagnostics import Edit, Finding, Fix, FixUnavailable
from ...fixes.context import FixContext
from ...fixes.text import append_to_brackets, comment_in_the_way
from ...registry import Invalid, Valid
from ...syntax import call_items
from ._calls import IngressCall, IngressRule
from ._identifiers import stable_identifier
from ._shared import retry_phrase


def _exclusions(ic: IngressCall) -> frozenset[str]:
    """Names in the object key or the URL: they identify the target, not the request."""
    where = ic.object_key if ic.kind == "sdk" else ic.url
    if where is None:
        return frozenset()
    return frozenset(n.id for n in ast.walk(where) if isinstance(n, ast.Name))


def _key_fix(module: ModuleAnalysis, ic: IngressCall) -> Fix | None:
    ident = stable_identifier(module, ic.call, _exclusions(ic))
    target = ic.target_call
    if ident is None or target is None:
        return None
    header = module.kb.framework.ingress_key_header
    headers_expr = ic.headers_expr
    anchor: ast.AST = target
    items: list[ast.AST] = call_items(target)
    if isinstance(headers_expr, ast.Dict):
        anchor, items = headers_expr, list(headers_expr.values)
    if comment_in_the_way(module, anchor, items):
        return None
    if ic.kind == "sdk":
        text = f"{module.kb.framework.ingress_key_argument}={ident.text()}"

        def build_sdk(fx: FixContext) -> list[Edit]:
            return [append_to_brackets(fx, target, call_items(target), text)]

        return Fix("unsafe", f"Pass `{text}` (check that it identifies this request)", build_sdk)
    entry = f'"{header}": {ident.text()}'

    def build_http(fx: FixContext) -> list[Edit]:
        if headers_expr is None:
            return [append_to_brackets(fx, target, call_items(target), f"headers={{{entry}}}")]
        if isinstance(headers_expr, ast.Dict):
            return [append_to_brackets(fx, headers_expr, list(headers_expr.values), entry)]
        if isinstance(headers_expr, ast.Name):
            return [fx.replace(headers_expr, f"{{**{headers_expr.id}, {entry}}}")]
        raise FixUnavailable("headers of an unexpected shape")

    return Fix(
        "unsafe",
        f"Send the header `{header}: {ident.text()}` (check that it identifies this request)",
        build_http,
    )


_HARNESS_ON = {"include-test-harness": True}


class IngressCallWithoutIdempotencyKey(IngressRule):
    """
    ## What it does
    Reports calls *into* Restate that carry no idempotency key:

    - **SDK client**: a method `service_call`, `service_send`, `object_call`, `object_send`,
      `workflow_call`, `workflow_send`, `generic_call`, `generic_send` (also on `client.scope(...)`)
      of a client made by `restate.create_client(...)` — used with `async with ... as client`, taken
      from `AsyncExitStack.enter_async_context(...)`, held in an attribute (`self.client = ...`), or
      received as a parameter annotated `restate.RestateClient` — without `idempotency_key=` and
      without an `Idempotency-Key` entry in its `headers=`.
    - **Plain HTTP**: a `POST`/`PUT` to a Restate ingress invocation path without an
      `idempotency-key` header (any case), made with `httpx` (module functions, `Client`,
      `AsyncClient`), `requests` (functions, `Session`), `aiohttp` (`ClientSession`,
      `aiohttp.request`) or `urllib.request.urlopen` (a `Request` with data or `method=`). Headers
      are read from a literal dict, from a dict variable built in the function (`headers[...] = ...`,
      `.update(...)`, `{**base, ...}`), from the client's default headers, and from
      `session.headers[...]` / `req.add_header(...)`. When the headers come from somewhere idemlint
      cannot see (a parameter, a function call), nothing is reported.

    **Recognising the ingress.** A URL is a string, f-string, `+` concatenation, `%`/`.format`,
    `urljoin`, `"/".join`, `yarl.URL / ...`, or a client's `base_url` plus a relative path, whose base
    is
    - a configured ingress (`ingress-urls`),
    - a variable, constant, setting attribute or environment variable (`os.environ[...]`,
      `os.getenv(...)`) whose name contains `RESTATE` and one of `INGRESS`, `RUNTIME`, `URL`,
      `ENDPOINT` (not `ADMIN`),
    - or any host on port 8080 — there, to keep other services on 8080 quiet, only with more
      evidence: the file mentions Restate, the first path segment looks like a service name (an
      upper-case letter as in `Greeter` or `productService`, or a dot as in `shop.Orders`; REST
      paths such as `/api/orders` do not), the path ends with `/send`, or the request carries an
      idempotency header (then IDL402–IDL404 check it),

    followed by `/{Service}/{handler}` or `/{Service}/{key}/{handler}`, an optional `/send` and a
    query. `/restate/...` (attach, output, awakeables), `GET` requests and the admin API are not
    invocations.

    **Not reported:**
    - **Workflow submissions**: `/{Workflow}/{id}/run`, `workflow_call`/`workflow_send` to a
      workflow's `@wf.main()` handler (known from the linted tree, else when the handler is named
      `run`), `generic_*(..., "run", key=...)`. A workflow runs once per id — the id *is* the
      deduplication key (IDL402 still checks it is not random).
    - **Test-harness clients**: `env.client` of `restate.create_test_harness(...)`,
      `harness.ingress_client()` of `restate.test_harness(...)`, URLs from `env.ingress_url`
      (set `include-test-harness = true` to check them).
    - **Plain HTTP directly in handler code** (not in a journaled action): the request is not
      journaled at all, which IDL104 reports first; once it is inside `ctx.run_typed(...)`, this rule
      applies.

    ## Why is this bad?
    The decision tree (see also IDL301): a call made from inside a handler is journaled and needs no
    key; a call made from *outside* has no journal. When the response is lost — a timeout, a
    dropped connection, a crash of the caller, a retry by a proxy or by your HTTP library — the
    caller cannot know whether Restate accepted the request; sending it again starts a second
    invocation and runs the handler twice (a second charge, a second email). With the same
    `Idempotency-Key` on every retry, Restate returns the first invocation's result instead
    (`restate/client.py`, `Client.post`, sends `idempotency_key` as the `Idempotency-Key` header).

    A journaled action (`ctx.run_typed`) that calls the ingress is in the same position: the action
    is retried until it succeeds, so its request needs a key made *outside* the action (from the
    input or `ctx.uuid()`), which stays the same on every retry.

    ## Use instead
    Pass a key that identifies the request and is the same on every retry of it (an order or
    payment id from the request); for plain HTTP, send it as the `idempotency-key` header:
    `httpx.post(url, json=order, headers={"idempotency-key": order_id})`.

    ## Fix safety
    **Unsafe**, and offered only when exactly one stable identifier is in scope: a parameter or
    variable named `idempotency_key`, else `request_id`, else `<something>_id` — excluding ids of an
    owner (`user_id`, `customer_id`, `tenant_id`, `account_id`, `session_id`, ...) and the names used
    as the object key or in the URL, which identify the target rather than the request. Two
    candidates of the same rank mean no fix. The fix passes `idempotency_key=<name>` (SDK) or adds
    `"idempotency-key": <name>` to the literal headers dict, `headers={**headers, ...}` for a headers
    variable, or a new `headers={...}` argument; non-`str` values are wrapped in `str(...)`.
    Review it: only you know whether that value is the same on every retry of *this* request and
    different for every other request.

    ## Options
    - `ingress-urls = ["https://restate.internal.example.com"]`: your ingress base URLs.
    - `include-test-harness = true`: also check test-harness clients.
    - Integration tests calling a real ingress without the harness: silence them with
      `[tool.idemlint.per-file-ignores]`, e.g. `"tests/*" = ["IDL401"]`.
    """

    code = "IDL401"
    name = "ingress-call-without-idempotency-key"
    summary = "Call into Restate from outside a handler without an idempotency key"
    severity = "error"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
            import restate

            signup = restate.Workflow("Signup")
            payments = restate.Service("Payments")


            @signup.main()
            async def run(ctx: restate.WorkflowContext, email: str) -> str:
                return email


            @payments.handler()
            async def charge(ctx: restate.Context, amount: int) -> str:
                return "ok"


            async def register(email: str, payment_id: str) -> None:
                async with restate.create_client("http://localhost:8080") as client:
                    await client.workflow_send(run, email, {"email": email})
                    await client.service_call(charge, 100, idempotency_key=payment_id)
                    await client.service_send(charge, 5, headers={"Idempotency-Key": payment_id})
                    await client.generic_send("Signup", "run", b"{}", key=email)
        """, note="keys; workflow submissions are keyed by the workflow id"),
        Valid("""
            import os

            import httpx
            import requests

            RESTATE_INGRESS_URL = os.environ.get("RESTATE_INGRESS_URL", "http://localhost:8080")


            def place(order_id: str, order: dict) -> None:
                headers = {"Content-Type": "application/json"}
                headers["Idempotency-Key"] = f"place-{order_id}"
                requests.post(f"{RESTATE_INGRESS_URL}/Orders/{order_id}/place", json=order, headers=headers)
                httpx.post(f"{RESTATE_INGRESS_URL}/Signup/{order_id}/run", json=order)
                httpx.get(f"{RESTATE_INGRESS_URL}/Orders/{order_id}/status")
                httpx.post(f"{RESTATE_INGRESS_URL}/restate/awakeables/{order_id}/resolve", json=True)
                requests.post("https://api.stripe.com/v1/charges", data=order)
        """, note="header via a variable; workflow run; GET; /restate/ paths; other hosts"),
        Valid("""
            import httpx


            def submit(order: dict) -> None:
                httpx.post("http://localhost:8080/api/orders", json=order)
        """, note="port 8080 but neither Restate in the file nor a service-like path"),
        Valid("""
            import restate

            svc = restate.Service("Greeter")


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                return f"Hello {name}"


            app = restate.app(services=[svc])


            async def test_greet() -> None:
                async with restate.create_test_harness(app) as env:
                    assert await env.client.service_call(greet, "Ada") == "Hello Ada"


            def test_greet_http() -> None:
                with restate.test_harness(app) as harness:
                    client = harness.ingress_client()
                    assert client.post("/Greeter/greet", json="Ada").json() == "Hello Ada"
        """, note="test-harness clients are exempt by default"),
        Valid("""
            import httpx


            async def send(client: httpx.AsyncClient, headers: dict) -> None:
                await client.post("http://restate:8080/Mailer/send", json={}, headers=headers)


            def admin(RESTATE_ADMIN_URL: str) -> None:
                httpx.post(f"{RESTATE_ADMIN_URL}/invocations/abc/cancel")
        """, note="headers we cannot see; the admin API is not the ingress"),
    ]
    INVALID = [
        Invalid(
            """
                import restate

                payments = restate.Service("Payments")


                @payments.handler()
                async def charge(ctx: restate.Context, amount: int) -> str:
                    return "ok"


                async def pay(payment_id: str, amount: int) -> str:
                    async with restate.create_client("http://localhost:8080") as client:
                        return await client.service_call(charge, amount)
            """,
            ((13, 22),),
            unsafe=True,
            fixed="""
                import restate

                payments = restate.Service("Payments")


                @payments.handler()
                async def charge(ctx: restate.Context, amount: int) -> str:
                    return "ok"


                async def pay(payment_id: str, amount: int) -> str:
                    async with restate.create_client("http://localhost:8080") as client:
                        return await client.service_call(charge, amount, idempotency_key=payment_id)
            """,
            note="SDK client via async with; a *_id parameter is in scope",
            doc=True,
        ),
        Invalid(
            """
                import contextlib
                import os

                import restate

                carts = restate.VirtualObject("Cart")
                RESTATE_URL = os.environ.get("RESTATE_URL", "http://localhost:8080")


                @carts.handler()
                async def checkout(ctx: restate.ObjectContext, cart: dict) -> None:
                    return None


                class Shop:
                    def __init__(self) -> None:
                        self.stack = contextlib.AsyncExitStack()

                    async def start(self) -> None:
                        self.client = await self.stack.enter_async_context(restate.create_client(RESTATE_URL))

                    async def checkout(self, cart: dict) -> None:
                        await self.client.object_send(checkout, cart["user"], cart)
            """,
            ((23, 15),),
            note="SDK client assigned to an attribute; no stable identifier: no fix",
        ),
        Invalid(
            """
                from restate import RestateClient


                async def notify(client: RestateClient, request_id: int, user_id: str) -> None:
                    await client.generic_send("Mailer", "send", b"hello", key=user_id)
            """,
            ((5, 11),),
            unsafe=True,
            fixed="""
                from restate import RestateClient


                async def notify(client: RestateClient, request_id: int, user_id: str) -> None:
                    await client.generic_send("Mailer", "send", b"hello", key=user_id, idempotency_key=str(request_id))
            """,
            note="client passed as a parameter annotated RestateClient",
        ),
        Invalid(
            """
                import httpx


                def place_order(order_id: str, order: dict) -> dict:
                    response = httpx.post(
                        "http://localhost:8080/OrderService/place",
                        json=order,
                    )
                    return response.json()
            """,
            ((5, 16),),
            unsafe=True,
            fixed="""
                import httpx


                def place_order(order_id: str, order: dict) -> dict:
                    response = httpx.post(
                        "http://localhost:8080/OrderService/place",
                        json=order,
                        headers={"idempotency-key": order_id},
                    )
                    return response.json()
            """,
            note="httpx with a literal URL and no headers",
        ),
        Invalid(
            """
                import os

                import requests

                BASE = os.getenv("RESTATE_INGRESS_URL")


                def refund(refund_id: str, amount: int) -> None:
                    headers = {"Authorization": "Bearer token"}
                    requests.post(f"{BASE}/Payments/refund", json=amount, headers=headers)
            """,
            ((10, 5),),
            unsafe=True,
            fixed="""
                import os

                import requests

                BASE = os.getenv("RESTATE_INGRESS_URL")


                def refund(refund_id: str, amount: int) -> None:
                    headers = {"Authorization": "Bearer token"}
                    requests.post(f"{BASE}/Payments/refund", json=amount, headers={**headers, "idempotency-key": refund_id})
            """,
            note="requests, f-string URL from an env var, headers via a variable",
        ),
        Invalid(
            """
                import os

                import aiohttp


                async def ship(shipment_id: str, parcel: dict) -> None:
                    async with aiohttp.ClientSession(os.environ["RESTATE_INGRESS_URL"]) as session:
                        async with session.post("/Shipping/ship", json=parcel, headers={"Accept": "application/json"}) as response:
                            response.raise_for_status()
            """,
            ((8, 20),),
            unsafe=True,
            fixed="""
                import os

                import aiohttp


                async def ship(shipment_id: str, parcel: dict) -> None:
                    async with aiohttp.ClientSession(os.environ["RESTATE_INGRESS_URL"]) as session:
                        async with session.post("/Shipping/ship", json=parcel, headers={"Accept": "application/json", "idempotency-key": shipment_id}) as response:
                            response.raise_for_status()
            """,
            note="aiohttp session with an env-var base URL, literal headers",
        ),
        Invalid(
            """
                import json
                import urllib.request


                def trigger(payload: dict) -> None:
                    request = urllib.request.Request(
                        "http://restate:8080/Importer/run_import",
                        data=json.dumps(payload).encode(),
                        headers={"Content-Type": "application/json"},
                    )
                    urllib.request.urlopen(request)
            """,
            ((11, 5),),
            note="urllib with data (a POST); nothing stable in scope: no fix",
        ),
        Invalid(
            """
                import httpx
                import restate

                orders = restate.Service("Orders")
                RESTATE_INGRESS_URL = "http://localhost:8080"


                def notify(order: dict) -> int:
                    return httpx.post(f"{RESTATE_INGRESS_URL}/Mailer/send", json=order).status_code


                @orders.handler()
                async def confirm(ctx: restate.Context, order_id: str) -> int:
                    return await ctx.run_typed("notify", lambda: httpx.post(f"{RESTATE_INGRESS_URL}/Mailer/send", json=order_id).status_code)
            """,
            ((9, 12), (14, 50)),
            unsafe=True,
            fixed="""
                import httpx
                import restate

                orders = restate.Service("Orders")
                RESTATE_INGRESS_URL = "http://localhost:8080"


                def notify(order: dict) -> int:
                    return httpx.post(f"{RESTATE_INGRESS_URL}/Mailer/send", json=order).status_code


                @orders.handler()
                async def confirm(ctx: restate.Context, order_id: str) -> int:
                    return await ctx.run_typed("notify", lambda: httpx.post(f"{RESTATE_INGRESS_URL}/Mailer/send", json=order_id, headers={"idempotency-key": order_id}).status_code)
            """,
            note="inside a journaled action: retried until it succeeds",
        ),
        Invalid(
            """
                import restate

                svc = restate.Service("Greeter")


                @svc.handler()
                async def greet(ctx: restate.Context, name: str) -> str:
                    return f"Hello {name}"


                async def test_greet() -> None:
                    async with restate.create_test_harness(restate.app(services=[svc])) as env:
                        assert await env.client.service_call(greet, "Ada") == "Hello Ada"
            """,
            ((13, 22),),
            config=_HARNESS_ON,
            note="include-test-harness = true",
        ),
        Invalid(
            """
                import httpx


                def greet(name: str) -> str:
                    return httpx.post("https://restate.internal.example.com/greeter/greet", json=name).text
            """,
            ((5, 12),),
            config={"ingress-urls": ["https://restate.internal.example.com"]},
            note="a configured ingress URL",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for ic in self.calls(module):
            if ic.workflow or ic.key is not None or not ic.known or ic.near:
                continue
            if ic.region == "handler" and ic.kind == "http" and ic.qualname:
                entry = module.kb.lookup(ic.qualname)
                if entry is not None and entry.code == "IDL104":
                    continue  # not journaled at all: IDL104 first
            if ic.kind == "sdk":
                key = module.kb.framework.ingress_key_argument
                message = f"{ic.what} into Restate without `{key}`"
                detail = (
                    f"{retry_phrase(ic.region)} runs the handler again; pass a key that is the "
                    "same on every retry of this request"
                )
                if ic.region == "handler":
                    detail += " (or call through the context, `ctx.service_call(...)`: journaled)"
            else:
                header = module.kb.framework.ingress_key_header
                message = f"{ic.what} to the ingress without an `{header}` header"
                detail = (
                    f"{retry_phrase(ic.region)} runs the handler again; send a key that is the "
                    "same on every retry of this request"
                )
            yield module.finding(self, ic.call, message, fix=_key_fix(module, ic), detail=detail)
