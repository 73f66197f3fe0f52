"""IDL401-IDL404: calls into Restate from outside a handler (the ingress).

A call into Restate made by a web app, a CLI or a cron job, through the SDK client
(``restate.create_client``) or plain HTTP to the ingress, has no journal: a retry after a
timeout or a lost response starts the handler again, unless the request carries an idempotency
key that is the same on every retry (``restate/client.py`` ``Client.post`` sends
``idempotency_key`` as the ``Idempotency-Key`` header). A key regenerated per attempt
(IDL402) or shared by every request (IDL403) defeats that; a misspelt header (IDL404) is ignored.

Calls made inside journaled actions (``ctx.run_typed(...)``) are checked like calls from
outside: an action is retried until it succeeds. Raw HTTP made directly in handler code is
IDL104's (journal it first); IDL401 leaves it to that rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from textwrap import dedent
from typing import Literal

from ..analysis import ModuleAnalysis
from ..diagnostics import Edit, Finding, Fix, FixUnavailable
from ..fixes.context import FixContext
from ..model import Region
from ..registry import Invalid, Rule, Valid, register
from ..scopes import Kind, parent
from .ingress_support import (
    HARNESS,
    INGRESS,
    KEY_INDEX,
    OBJECT_KEY_INDEX,
    SCOPED_KEY_INDEX,
    UNKNOWN,
    Fresh,
    Headers,
    Origin,
    Target,
    append_to_brackets,
    argument,
    before,
    call_items,
    comment_in_the_way,
    fresh_values,
    has_unpacking,
    headers,
    ingress_target,
    is_none,
    origin,
    regenerated_per_call,
    render,
    session_headers,
    stable_identifier,
    string_literal_like,
    string_value,
    target_handler,
    uses_of,
    workflow_mains,
)

_VERBS = {"post": "POST", "put": "PUT"}
_GENERIC_VERBS = frozenset({"request", "stream"})
# Module-level HTTP functions: qualified name -> (library, method name).
_HTTP_FUNCTIONS = {
    **{f"httpx.{m}": ("httpx", m) for m in ("post", "put", "request", "stream")},
    **{f"requests.{m}": ("requests", m) for m in ("post", "put", "request")},
    "aiohttp.request": ("aiohttp", "request"),
}
# Client instances known by qualified name when their constructor is not visible.
_HTTP_INSTANCES = {
    "httpx.Client()": "httpx", "httpx.AsyncClient()": "httpx",
    "requests.Session()": "requests", "aiohttp.ClientSession()": "aiohttp",
}
_SDK_INSTANCES = {
    "restate.create_client()": False, "restate.RestateClient()": False,
    "restate.client_types.RestateClient()": False, "restate.create_client().scope()": True,
    "restate.RestateClient().scope()": True, "restate.RestateScopedClient()": True,
}
_HARNESS_SDK = (
    "restate.create_test_harness().client", "restate.HarnessEnvironment().client",
    "restate.types.HarnessEnvironment().client",
)
_URLOPEN = "urllib.request.urlopen"
_REQUEST = "urllib.request.Request"


@dataclass
class IngressCall:
    """A call into Restate: an SDK client method, or a POST/PUT to an invocation path."""

    call: ast.Call
    kind: Literal["sdk", "http"]
    what: str  # for messages: "`client.service_call(...)`" or "POST /Greeter/greet"
    harness: bool
    region: Region | None
    qualname: str | None = None
    key: ast.expr | None = None  # the key value, when given
    known: bool = True  # False: headers we cannot see might carry the key
    near: list[ast.Constant] = field(default_factory=list)
    workflow: bool = False  # submits a workflow run: its id is the deduplication key
    workflow_id: ast.expr | None = None
    object_key: ast.expr | None = None
    url: ast.expr | None = None
    # where a fix adds the key
    target_call: ast.Call | None = None  # the call that takes the keyword/header
    headers_expr: ast.expr | None = None  # the request's headers argument


def ingress_calls(module: ModuleAnalysis) -> list[IngressCall]:
    cached = module.memo.get("ingress_calls")
    if cached is None:
        cached = module.memo["ingress_calls"] = list(_collect(module))
    return cached


def _collect(module: ModuleAnalysis) -> Iterator[IngressCall]:
    methods = module.kb.framework.ingress_methods
    for call in module.indexer.calls:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in methods:
            found = _sdk_origin(module, func.value)
            if found is not None:
                sdk = _sdk_call(module, call, func.attr, found)
                if sdk is not None:
                    yield sdk
                continue
        http = _http_call(module, call)
        if http is not None:
            yield http


# -- SDK client ---------------------------------------------------------------------------------
def _sdk_origin(module: ModuleAnalysis, receiver: ast.expr) -> Origin | None:
    found = origin(module, receiver)
    if found is not None:
        return found if found.kind == "sdk" else None
    qualname = module.resolver.qualname(receiver)
    if qualname in _SDK_INSTANCES:
        return Origin("sdk", scoped=_SDK_INSTANCES[qualname])
    if qualname in _HARNESS_SDK:
        return Origin("sdk", harness=True)
    return None


def _sdk_call(module: ModuleAnalysis, call: ast.Call, method: str, found: Origin) -> IngressCall | None:
    fw = module.kb.framework
    table = SCOPED_KEY_INDEX if found.scoped else KEY_INDEX
    if method not in table:
        return None
    index = table[method]
    key = argument(call, index, fw.ingress_key_argument)
    if is_none(key):
        key = None
    request_headers = argument(call, index + 1, "headers")
    info = headers(module, request_headers, call).merge(session_headers(module, found, call))
    if key is None:
        key = info.key
    known = info.known and not (has_unpacking(call) and key is None)
    ic = IngressCall(
        call=call,
        kind="sdk",
        what=f"`{' '.join(module.text(call.func).split())}(...)`",
        harness=found.harness,
        region=module.model.region(call),
        key=key,
        known=known,
        near=info.near,
        object_key=argument(call, OBJECT_KEY_INDEX.get(method), "key"),
        target_call=call,
        headers_expr=request_headers,
    )
    if method.startswith("workflow_"):
        target = argument(call, 0, "tpe")
        handler = target_handler(module, target)
        if handler is not None:
            ic.workflow = handler.role == "main"
        else:
            ic.workflow = _spelled_name(module, target) == "run"
        ic.workflow_id = ic.object_key
    elif method.startswith("generic_") and ic.object_key is not None:
        service = string_value(argument(call, 0, "service"))
        handler_name = string_value(argument(call, 1, "handler"))
        mains = workflow_mains(module).get(service or "", set())
        ic.workflow = handler_name == "run" or (handler_name is not None and handler_name in mains)
        ic.workflow_id = ic.object_key if ic.workflow else None
    return ic


def _spelled_name(module: ModuleAnalysis, expr: ast.AST | None) -> str | None:
    """The handler's own name: ``run`` for ``run``, ``signup.run``, or ``run as signup_run``."""
    if isinstance(expr, ast.Name):
        binding = module.resolver.binding(expr)
        if binding is not None and binding.kind is Kind.IMPORT and binding.qualname:
            return binding.qualname.rsplit(".", 1)[-1]
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


# -- raw HTTP -----------------------------------------------------------------------------------
def _http_call(module: ModuleAnalysis, call: ast.Call) -> IngressCall | None:
    qualname = module.resolver.qualname(call.func)
    if qualname == _URLOPEN:
        return _urlopen(module, call)
    library: str | None = None
    method: str | None = None
    found: Origin | None = None
    if qualname in _HTTP_FUNCTIONS:
        library, method = _HTTP_FUNCTIONS[qualname]
    elif isinstance(call.func, ast.Attribute) and (
        call.func.attr in _VERBS or call.func.attr in _GENERIC_VERBS
    ):
        method = call.func.attr
        found = origin(module, call.func.value)
        if found is not None and found.kind == "http":
            library = found.library
        else:
            found = None
            instance = (qualname or "").rpartition(".")[0]
            library = _HTTP_INSTANCES.get(instance)
    if library is None or method is None:
        return None
    # aiohttp named the URL parameter `str_or_url` before 3.9
    if method in _GENERIC_VERBS:
        verb = (string_value(argument(call, 0, "method")) or "").upper()
        url_expr = argument(call, 1, "url", "str_or_url")
    else:
        verb = _VERBS[method]
        url_expr = argument(call, 0, "url", "str_or_url")
    if verb not in ("POST", "PUT") or url_expr is None:
        return None
    url = render(module, url_expr)
    if url is not None and found is not None and _relative(url):
        base = HARNESS if found.harness else render(module, found.base)
        url = None if base is None else base.rstrip("/") + "/" + url.lstrip("/")
    target = ingress_target(module, url)
    if target is None:
        return None
    request_headers = argument(call, None, "headers")
    info = headers(module, request_headers, call)
    if found is not None:
        info = info.merge(session_headers(module, found, call))
    if target.weak and info.key is None and not info.near:
        return None  # a host on port 8080 and nothing else that says Restate
    harness = target.harness or (found is not None and found.harness)
    ic = _http_ingress(module, call, verb, target, harness, info)
    ic.qualname = qualname
    ic.url = url_expr
    ic.known = info.known and not any(k.arg is None for k in call.keywords)
    ic.headers_expr = request_headers
    ic.target_call = call
    ic.workflow = target.keyed and _workflow_path(module, target.service, target.handler)
    ic.workflow_id = url_expr if ic.workflow else None
    return ic


def _relative(url: str) -> bool:
    return not url.startswith((INGRESS, HARNESS, UNKNOWN)) and "://" not in url


def _workflow_path(module: ModuleAnalysis, service: str, handler: str) -> bool:
    return handler == "run" or handler in workflow_mains(module).get(service, set())


def _http_ingress(
    module: ModuleAnalysis,
    call: ast.Call,
    verb: str,
    target: Target,
    harness: bool,
    info: Headers,
) -> IngressCall:
    path = "/" + "/".join(_show(s) for s in target.segments) + ("/send" if target.send else "")
    return IngressCall(
        call=call,
        kind="http",
        what=f"{verb} {path}",
        harness=harness,
        region=module.model.region(call),
        key=info.key,
        known=info.known,
        near=info.near,
    )


def _show(segment: str) -> str:
    return segment.replace(UNKNOWN, "{…}")


def _urlopen(module: ModuleAnalysis, call: ast.Call) -> IngressCall | None:
    """``urlopen(Request(url, data, headers, method=...))`` or ``urlopen(url, data)``."""
    first = argument(call, 0, "url")
    data = argument(call, 1, "data")
    request = _request_ctor(module, first)
    info = Headers()
    if request is not None:
        url_expr = argument(request, 0, "url")
        data = data if data is not None else argument(request, 1, "data")
        method = string_value(argument(request, 5, "method"))
        request_headers = argument(request, 2, "headers")
        info = headers(module, request_headers, call)
        info = _added_headers(module, first, call, info)
    else:
        url_expr, method, request_headers = first, None, None
    verb = (method or ("POST" if data is not None and not is_none(data) else "GET")).upper()
    if verb not in ("POST", "PUT") or url_expr is None:
        return None
    url = render(module, url_expr)
    target = ingress_target(module, url)
    if target is None or (target.weak and info.key is None and not info.near):
        return None
    ic = _http_ingress(module, call, verb, target, target.harness, info)
    ic.qualname = _URLOPEN
    ic.url = url_expr
    ic.target_call = request
    ic.headers_expr = request_headers
    ic.workflow = target.keyed and _workflow_path(module, target.service, target.handler)
    ic.workflow_id = url_expr if ic.workflow else None
    return ic


def _request_ctor(module: ModuleAnalysis, expr: ast.AST | None) -> ast.Call | None:
    if isinstance(expr, ast.Name):
        binding = module.resolver.binding(expr)
        if binding is not None and binding.kind is Kind.ASSIGN:
            expr = binding.value
    if isinstance(expr, ast.Call) and module.resolver.qualname(expr.func) == _REQUEST:
        return expr
    return None


def _added_headers(module: ModuleAnalysis, request: ast.AST | None, at: ast.AST, info: Headers) -> Headers:
    """``req.add_header(name, value)`` on the request variable before it is opened."""
    if not isinstance(request, ast.Name):
        return info
    binding = module.resolver.binding(request)
    if binding is None:
        return info
    for use in uses_of(module, binding, binding.scope.node):
        up = parent(use)
        call = parent(up) if up is not None else None
        if (
            isinstance(up, ast.Attribute)
            and up.attr in ("add_header", "add_unredirected_header")
            and isinstance(call, ast.Call)
            and len(call.args) == 2
            and before(use, at)
        ):
            info.add(module, call.args[0], call.args[1])
    return info


# -- shared rule plumbing ------------------------------------------------------------------------
class IngressRule(Rule):
    requires = "ingress"

    def calls(self, module: ModuleAnalysis) -> Iterator[IngressCall]:
        include = self.settings.include_test_harness
        for ic in ingress_calls(module):
            if ic.harness and not include:
                continue
            yield ic


def _code(text: str) -> str:
    return dedent(text).lstrip("\n")


def _retry(region: Region | None) -> str:
    """Who sends the request again."""
    if region == "action":
        return "a retry of the journaled action around it (actions are retried until they succeed)"
    if region == "handler":
        return "a replay of this handler code"
    return "a retry after a timeout or a lost response"


# -- IDL401 --------------------------------------------------------------------------------------
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
    items: list[ast.AST] = _arguments(target)
    if isinstance(headers_expr, ast.Dict):
        anchor, items = headers_expr, list(headers_expr.values)
    if comment_in_the_way(module, anchor, items):
        return None
    if ic.kind == "sdk":
        text = f"{module.kb.framework.ingress_key_argument}={ident.text()}"

        def build_sdk(fx: FixContext) -> list[Edit]:
            return [append_to_brackets(fx, target, _arguments(target), text)]

        return Fix("unsafe", f"Pass `{text}` (check that it identifies this request)", build_sdk)
    entry = f'"{header}": {ident.text()}'

    def build_http(fx: FixContext) -> list[Edit]:
        if headers_expr is None:
            return [append_to_brackets(fx, target, _arguments(target), f"headers={{{entry}}}")]
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


_arguments = call_items


_HARNESS_ON = {"include-test-harness": True}


@register
class MissingIngressKey(IngressRule):
    code = "IDL401"
    name = "ingress-call-without-idempotency-key"
    summary = "Call into Restate from outside a handler without an idempotency key"
    severity = "error"
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
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
        """), note="keys; workflow submissions are keyed by the workflow id"),
        Valid(_code("""
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
        """), note="header via a variable; workflow run; GET; /restate/ paths; other hosts"),
        Valid(_code("""
            import httpx


            def submit(order: dict) -> None:
                httpx.post("http://localhost:8080/api/orders", json=order)
        """), note="port 8080 but neither Restate in the file nor a service-like path"),
        Valid(_code("""
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
        """), note="test-harness clients are exempt by default"),
        Valid(_code("""
            import httpx


            async def send(client: httpx.AsyncClient, headers: dict) -> None:
                await client.post("http://restate:8080/Mailer/send", json={}, headers=headers)


            def admin(RESTATE_ADMIN_URL: str) -> None:
                httpx.post(f"{RESTATE_ADMIN_URL}/invocations/abc/cancel")
        """), note="headers we cannot see; the admin API is not the ingress"),
    ]
    INVALID = [
        Invalid(
            _code("""
                import restate

                payments = restate.Service("Payments")


                @payments.handler()
                async def charge(ctx: restate.Context, amount: int) -> str:
                    return "ok"


                async def pay(payment_id: str, amount: int) -> str:
                    async with restate.create_client("http://localhost:8080") as client:
                        return await client.service_call(charge, amount)
            """),
            ((13, 22),),
            unsafe=True,
            fixed=_code("""
                import restate

                payments = restate.Service("Payments")


                @payments.handler()
                async def charge(ctx: restate.Context, amount: int) -> str:
                    return "ok"


                async def pay(payment_id: str, amount: int) -> str:
                    async with restate.create_client("http://localhost:8080") as client:
                        return await client.service_call(charge, amount, idempotency_key=payment_id)
            """),
            note="SDK client via async with; a *_id parameter is in scope",
        ),
        Invalid(
            _code("""
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
            """),
            ((23, 15),),
            note="SDK client assigned to an attribute; no stable identifier: no fix",
        ),
        Invalid(
            _code("""
                from restate import RestateClient


                async def notify(client: RestateClient, request_id: int, user_id: str) -> None:
                    await client.generic_send("Mailer", "send", b"hello", key=user_id)
            """),
            ((5, 11),),
            unsafe=True,
            fixed=_code("""
                from restate import RestateClient


                async def notify(client: RestateClient, request_id: int, user_id: str) -> None:
                    await client.generic_send("Mailer", "send", b"hello", key=user_id, idempotency_key=str(request_id))
            """),
            note="client passed as a parameter annotated RestateClient",
        ),
        Invalid(
            _code("""
                import httpx


                def place_order(order_id: str, order: dict) -> dict:
                    response = httpx.post(
                        "http://localhost:8080/OrderService/place",
                        json=order,
                    )
                    return response.json()
            """),
            ((5, 16),),
            unsafe=True,
            fixed=_code("""
                import httpx


                def place_order(order_id: str, order: dict) -> dict:
                    response = httpx.post(
                        "http://localhost:8080/OrderService/place",
                        json=order,
                        headers={"idempotency-key": order_id},
                    )
                    return response.json()
            """),
            note="httpx with a literal URL and no headers",
        ),
        Invalid(
            _code("""
                import os

                import requests

                BASE = os.getenv("RESTATE_INGRESS_URL")


                def refund(refund_id: str, amount: int) -> None:
                    headers = {"Authorization": "Bearer token"}
                    requests.post(f"{BASE}/Payments/refund", json=amount, headers=headers)
            """),
            ((10, 5),),
            unsafe=True,
            fixed=_code("""
                import os

                import requests

                BASE = os.getenv("RESTATE_INGRESS_URL")


                def refund(refund_id: str, amount: int) -> None:
                    headers = {"Authorization": "Bearer token"}
                    requests.post(f"{BASE}/Payments/refund", json=amount, headers={**headers, "idempotency-key": refund_id})
            """),
            note="requests, f-string URL from an env var, headers via a variable",
        ),
        Invalid(
            _code("""
                import os

                import aiohttp


                async def ship(shipment_id: str, parcel: dict) -> None:
                    async with aiohttp.ClientSession(os.environ["RESTATE_INGRESS_URL"]) as session:
                        async with session.post("/Shipping/ship", json=parcel, headers={"Accept": "application/json"}) as response:
                            response.raise_for_status()
            """),
            ((8, 20),),
            unsafe=True,
            fixed=_code("""
                import os

                import aiohttp


                async def ship(shipment_id: str, parcel: dict) -> None:
                    async with aiohttp.ClientSession(os.environ["RESTATE_INGRESS_URL"]) as session:
                        async with session.post("/Shipping/ship", json=parcel, headers={"Accept": "application/json", "idempotency-key": shipment_id}) as response:
                            response.raise_for_status()
            """),
            note="aiohttp session with an env-var base URL, literal headers",
        ),
        Invalid(
            _code("""
                import json
                import urllib.request


                def trigger(payload: dict) -> None:
                    request = urllib.request.Request(
                        "http://restate:8080/Importer/run_import",
                        data=json.dumps(payload).encode(),
                        headers={"Content-Type": "application/json"},
                    )
                    urllib.request.urlopen(request)
            """),
            ((11, 5),),
            note="urllib with data (a POST); nothing stable in scope: no fix",
        ),
        Invalid(
            _code("""
                import httpx
                import restate

                orders = restate.Service("Orders")
                RESTATE_INGRESS_URL = "http://localhost:8080"


                def notify(order: dict) -> int:
                    return httpx.post(f"{RESTATE_INGRESS_URL}/Mailer/send", json=order).status_code


                @orders.handler()
                async def confirm(ctx: restate.Context, order_id: str) -> int:
                    return await ctx.run_typed("notify", lambda: httpx.post(f"{RESTATE_INGRESS_URL}/Mailer/send", json=order_id).status_code)
            """),
            ((9, 12), (14, 50)),
            unsafe=True,
            fixed=_code("""
                import httpx
                import restate

                orders = restate.Service("Orders")
                RESTATE_INGRESS_URL = "http://localhost:8080"


                def notify(order: dict) -> int:
                    return httpx.post(f"{RESTATE_INGRESS_URL}/Mailer/send", json=order).status_code


                @orders.handler()
                async def confirm(ctx: restate.Context, order_id: str) -> int:
                    return await ctx.run_typed("notify", lambda: httpx.post(f"{RESTATE_INGRESS_URL}/Mailer/send", json=order_id, headers={"idempotency-key": order_id}).status_code)
            """),
            note="inside a journaled action: retried until it succeeds",
        ),
        Invalid(
            _code("""
                import restate

                svc = restate.Service("Greeter")


                @svc.handler()
                async def greet(ctx: restate.Context, name: str) -> str:
                    return f"Hello {name}"


                async def test_greet() -> None:
                    async with restate.create_test_harness(restate.app(services=[svc])) as env:
                        assert await env.client.service_call(greet, "Ada") == "Hello Ada"
            """),
            ((13, 22),),
            config=_HARNESS_ON,
            note="include-test-harness = true",
        ),
        Invalid(
            _code("""
                import httpx


                def greet(name: str) -> str:
                    return httpx.post("https://restate.internal.example.com/greeter/greet", json=name).text
            """),
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
                text = (
                    f"{ic.what} calls into Restate without `idempotency_key`: "
                    f"{_retry(ic.region)} runs the handler again; pass a key that is the same "
                    "on every retry of this request"
                )
                if ic.region == "handler":
                    text += " (or call through the context, `ctx.service_call(...)`: journaled)"
            else:
                header = module.kb.framework.ingress_key_header
                text = (
                    f"{ic.what} on the Restate ingress without an `{header}` header: "
                    f"{_retry(ic.region)} runs the handler again; send a key that is the same "
                    "on every retry of this request"
                )
            yield module.finding(self, ic.call, text, fix=_key_fix(module, ic))


# -- IDL402 --------------------------------------------------------------------------------------
@register
class RegeneratedIngressKey(IngressRule):
    code = "IDL402"
    name = "regenerated-ingress-key"
    summary = "Ingress idempotency key (or workflow id) generated anew for every call"
    severity = "error"
    VALID = [
        Valid(_code("""
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
        """), note="created once, before the retry loop"),
        Valid(_code("""
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
        """), note="a key that is kept, and a key from the request"),
        Valid(_code("""
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
        """), note="ctx.uuid() made in the handler: the same on every retry of the action"),
    ]
    INVALID = [
        Invalid(
            _code("""
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
            """),
            ((21, 64), (22, 45)),
            message="uuid.uuid4()",
        ),
        Invalid(
            _code("""
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
            """),
            ((13, 95), (20, 39)),
            note="key regenerated inside the retry loop; a random workflow id",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for ic in self.calls(module):
            if ic.key is not None:
                fresh = self._regenerated(module, ic, ic.key)
                if fresh is not None:
                    via = f" (through `{fresh.via.name}`)" if fresh.via is not None else ""
                    yield module.finding(
                        self,
                        ic.key,
                        f"the idempotency key of {ic.what} comes from `{fresh.spelled}`{via}, "
                        "a new value for every call: a retry sends a different key and Restate "
                        "runs the handler again; derive it from the request (an order id) or "
                        "create it once, before the retry loop, and reuse it",
                    )
            if ic.workflow and ic.workflow_id is not None:
                fresh = self._regenerated(module, ic, ic.workflow_id)
                if fresh is not None:
                    node = ic.workflow_id if ic.kind == "sdk" else fresh.node
                    yield module.finding(
                        self,
                        node,
                        f"the workflow id of {ic.what} comes from `{fresh.spelled}`: a retry "
                        "submits a new workflow instead of reaching the first one; use an id "
                        "of the business entity (the email, the order id)",
                    )

    @staticmethod
    def _regenerated(module: ModuleAnalysis, ic: IngressCall, expr: ast.expr) -> Fresh | None:
        for fresh in fresh_values(module, expr):
            if fresh.context or _fallback(fresh.node, expr):
                continue
            if regenerated_per_call(module, fresh, ic.call):
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


# -- IDL403 --------------------------------------------------------------------------------------
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


@register
class ConstantIngressKey(IngressRule):
    code = "IDL403"
    name = "constant-ingress-key"
    summary = "Constant idempotency key at the ingress (every request shares it)"
    severity = "error"
    VALID = [
        Valid(_code("""
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
        """)),
        Valid(_code("""
            import restate

            svc = restate.Service("Greeter")


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                return f"Hello {name}"


            async def test_dedup() -> None:
                async with restate.create_test_harness(restate.app(services=[svc])) as env:
                    first = await env.client.service_call(greet, "Ada", idempotency_key="k1")
                    assert first == await env.client.service_call(greet, "Ada", idempotency_key="k1")
        """), note="tests of deduplication use constant keys on purpose"),
    ]
    INVALID = [
        Invalid(
            _code("""
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
            """),
            ((15, 64), (16, 95)),
            message="every request",
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
                f"constant idempotency key `{module.text(key)}` on {ic.what}: every request "
                "shares it, so after the first one Restate returns that first result to all "
                "of them; derive the key from the request (an order id, a payment id)",
            )


# -- IDL404 --------------------------------------------------------------------------------------
def _rename_fix(module: ModuleAnalysis, node: ast.Constant) -> Fix:
    expected = module.kb.framework.ingress_key_header
    value = node.value if isinstance(node.value, str) else ""
    proper = "-".join(p.capitalize() for p in expected.split("-")) if value[:1].isupper() else expected

    def build(fx: FixContext) -> list[Edit]:
        return [fx.replace(node, string_literal_like(fx.text(node), proper))]

    return Fix("safe", f"Rename the header to `{proper}`", build)


@register
class MisspelledKeyHeader(IngressRule):
    code = "IDL404"
    name = "misspelled-idempotency-header"
    summary = "Near-miss idempotency header name on a call into Restate (ignored by Restate)"
    severity = "error"
    fix_availability = "always"
    VALID = [
        Valid(_code("""
            import httpx


            def pay(payment_id: str) -> None:
                httpx.post("http://localhost:8080/Payments/pay", headers={"IDEMPOTENCY-KEY": payment_id})
                httpx.post("https://api.example.com/v1/payments", headers={"X-Idempotency-Key": payment_id})
                httpx.post(
                    "http://localhost:8080/Payments/pay",
                    headers={"idempotency-key": payment_id, "x-idempotency-key": payment_id},
                )
        """), note="any case; other APIs' headers; alongside the right header"),
    ]
    INVALID = [
        Invalid(
            _code("""
                import os

                import requests

                RESTATE_URL = os.getenv("RESTATE_URL", "http://restate:8080")


                def pay(payment_id: str, amount: int) -> None:
                    requests.post(f"{RESTATE_URL}/Payments/pay", json=amount, headers={"Idempotency_Key": payment_id})


                def refund(refund_id: str) -> None:
                    headers = {"Content-Type": "application/json"}
                    headers['x-idempotency-key'] = refund_id
                    requests.put(RESTATE_URL + "/Payments/refund", data="{}", headers=headers)
            """),
            ((9, 72), (14, 13)),
            fixed=_code("""
                import os

                import requests

                RESTATE_URL = os.getenv("RESTATE_URL", "http://restate:8080")


                def pay(payment_id: str, amount: int) -> None:
                    requests.post(f"{RESTATE_URL}/Payments/pay", json=amount, headers={"Idempotency-Key": payment_id})


                def refund(refund_id: str) -> None:
                    headers = {"Content-Type": "application/json"}
                    headers['idempotency-key'] = refund_id
                    requests.put(RESTATE_URL + "/Payments/refund", data="{}", headers=headers)
            """),
        ),
        Invalid(
            _code("""
                import restate

                svc = restate.Service("Orders")


                @svc.handler()
                async def place(ctx: restate.Context, order: dict) -> str:
                    return "ok"


                async def submit(order_id: str, order: dict) -> None:
                    async with restate.create_client("http://localhost:8080") as client:
                        await client.service_send(place, order, headers={"idempotent-key": order_id})
            """),
            ((13, 58),),
            fixed=_code("""
                import restate

                svc = restate.Service("Orders")


                @svc.handler()
                async def place(ctx: restate.Context, order: dict) -> str:
                    return "ok"


                async def submit(order_id: str, order: dict) -> None:
                    async with restate.create_client("http://localhost:8080") as client:
                        await client.service_send(place, order, headers={"idempotency-key": order_id})
            """),
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
                    f"header `{string_value(node)}` on {ic.what} is not `{expected}`: Restate ignores "
                    "it, so the request is not deduplicated",
                    fix=fix,
                )

