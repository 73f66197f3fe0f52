"""IDL401-IDL404 beyond the rule examples: spellings of clients, URLs and headers, workflows,
the test harness, configured ingress URLs, fixes, and correct code that must stay quiet."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from idemlint.analysis import ModuleAnalysis
from idemlint.checks.ingress._headers import classify_header
from idemlint.diagnostics import Finding
from idemlint.source import SourceFile
from idemlint.testing import fix_code, lint_code, settings_for

from .conftest import Run

INGRESS_CODES = ("IDL401", "IDL402", "IDL403", "IDL404")


def lint(code: str, *codes: str, **config: Any) -> list[Finding]:
    selected = list(codes) or list(INGRESS_CODES)
    settings = settings_for({"select": selected, **config})
    return [f for f in lint_code(textwrap.dedent(code), settings) if f.code in selected]


def spots(code: str, *codes: str, **config: Any) -> list[tuple[str, int]]:
    return [(f.code, f.line) for f in lint(code, *codes, **config)]


def fixed(code: str, code_: str, unsafe: bool = True, **config: Any) -> str:
    settings = settings_for({"select": [code_], **config})
    return fix_code(textwrap.dedent(code), settings, unsafe=unsafe, codes={code_})


# -- the SDK client ----------------------------------------------------------------------------
SDK_PRELUDE = """\
import contextlib

import restate
from restate import RestateClient

svc = restate.Service("Greeter")


@svc.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return name

"""


@pytest.mark.parametrize(
    "body",
    [
        # async with
        "async def f():\n    async with restate.create_client('http://localhost:8080') as c:\n"
        "        await c.service_send(greet, 'x')\n",
        # assignment from an exit stack
        "async def f(stack: contextlib.AsyncExitStack):\n"
        "    c = await stack.enter_async_context(restate.create_client('http://r:8080'))\n"
        "    await c.object_call(greet, 'k', 'x')\n",
        # __aenter__ by hand
        "async def f():\n    cm = restate.create_client('http://r:8080')\n"
        "    c = await cm.__aenter__()\n    await c.generic_call('Greeter', 'greet', b'x')\n",
        # parameter annotated with the client type (string annotation too)
        "async def f(c: 'RestateClient'):\n    await c.service_call(greet, 'x')\n",
        # attribute holding it
        "class A:\n    async def start(self):\n"
        "        self.c = await contextlib.AsyncExitStack().enter_async_context("
        "restate.create_client())\n"
        "    async def go(self):\n        await self.c.service_call(greet, 'x')\n",
        # scoped client
        "async def f(c: RestateClient):\n    await c.scope('tenant').service_send(greet, 'x', None, 'lim')\n",
    ],
    ids=["async-with", "exit-stack", "aenter", "annotated", "attribute", "scoped"],
)
def test_sdk_client_spellings_without_a_key(body: str) -> None:
    assert [c for c, _ in spots(SDK_PRELUDE + body, "IDL401")] == ["IDL401"]


@pytest.mark.parametrize(
    "call",
    [
        "c.service_call(greet, 'x', idempotency_key=k)",
        "c.service_call(greet, 'x', k)",  # positional
        "c.service_send(greet, 'x', None, k)",
        "c.object_send(greet, 'obj', 'x', None, k)",
        "c.generic_send('Greeter', 'greet', b'', None, None, k)",
        "c.scope('s').object_call(greet, 'obj', 'x', 'limit', k)",
        "c.service_call(greet, 'x', headers={'Idempotency-Key': k})",
        "c.service_call(greet, 'x', **options)",  # cannot see: not reported
    ],
)
def test_sdk_client_keys_in_every_position(call: str) -> None:
    code = SDK_PRELUDE + f"async def f(c: RestateClient, k: str, options: dict):\n    await {call}\n"
    assert spots(code, "IDL401") == []


def test_sdk_client_default_headers_and_none_key() -> None:
    code = SDK_PRELUDE + textwrap.dedent("""\
        async def f(k: str):
            async with restate.create_client("http://r:8080", headers={"Idempotency-Key": k}) as c:
                await c.service_call(greet, "x")
            async with restate.create_client("http://r:8080") as c:
                await c.service_call(greet, "x", idempotency_key=None)
        """)
    assert spots(code, "IDL401") == [("IDL401", 17)]


def test_unrelated_objects_with_the_same_method_names() -> None:
    code = """\
        class Fake:
            async def service_call(self, *args, **kwargs): ...

        async def f(client: Fake, ctx):
            await client.service_call("x", 1)
            await ctx.service_call("x", 1)
        """
    assert spots(code) == []


# -- workflows ---------------------------------------------------------------------------------
WORKFLOW = """\
import httpx
import restate

wf = restate.Workflow("Onboarding")


@wf.main()
async def start(ctx: restate.WorkflowContext, email: str) -> str:
    return email


@wf.handler()
async def approve(ctx: restate.WorkflowSharedContext, ok: bool) -> None:
    await ctx.promise("approved").resolve(ok)

"""


def test_workflow_main_handler_is_exempt_shared_handlers_are_not() -> None:
    code = WORKFLOW + textwrap.dedent("""\
        async def f(email: str, client: restate.RestateClient) -> None:
            await client.workflow_send(start, email, email)
            await client.workflow_call(approve, email, True)
            httpx.post(f"http://localhost:8080/Onboarding/{email}/start", json=email)
            httpx.post(f"http://localhost:8080/Onboarding/{email}/approve", json=True)
            httpx.post(f"http://localhost:8080/Other/{email}/run", json=True)
        """)
    assert spots(code, "IDL401") == [("IDL401", 18), ("IDL401", 20)]


def test_workflow_from_another_module_of_the_tree(
    cli: Callable[..., Run], write: Callable[..., Path], tmp_path: Path
) -> None:
    write("app/__init__.py", "")
    write("app/signup.py", """\
        import restate

        wf = restate.Workflow("Signup")


        @wf.main()
        async def begin(ctx: restate.WorkflowContext, email: str) -> str:
            return email


        @wf.handler()
        async def confirm(ctx: restate.WorkflowSharedContext) -> None:
            return None
        """)
    write("app/client.py", """\
        import restate

        from .signup import begin, confirm


        async def signup(client: restate.RestateClient, email: str) -> None:
            await client.workflow_send(begin, email, email)
            await client.workflow_send(confirm, email, None)
        """)
    run = cli("check", "--isolated", "--select", "IDL401", "--output-format", "json", str(tmp_path))
    found = run.json()
    assert [(Path(f["path"]).name, f["line"], f["code"]) for f in found] == [
        ("client.py", 8, "IDL401")
    ]


# -- the test harness --------------------------------------------------------------------------
HARNESS = """\
import httpx
import restate

svc = restate.Service("Greeter")


@svc.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return name


app = restate.app(services=[svc])


async def test_sdk() -> None:
    async with restate.create_test_harness(app) as env:
        await env.client.service_call(greet, "Ada")
        await env.client.service_call(greet, "Ada", idempotency_key="same")
        httpx.post(f"{env.ingress_url}/Greeter/greet", json="Ada")


def test_http() -> None:
    with restate.test_harness(app) as harness:
        harness.ingress_client().post("/Greeter/greet", json="Ada")


async def test_fixture(restate_env: restate.HarnessEnvironment) -> None:
    await restate_env.client.service_send(greet, "Ada")
"""


def test_harness_clients_are_exempt_by_default() -> None:
    assert spots(HARNESS) == []


def test_harness_clients_are_checked_with_the_switch() -> None:
    assert spots(HARNESS, **{"include-test-harness": True}) == [
        ("IDL401", 17), ("IDL403", 18), ("IDL401", 19), ("IDL401", 24), ("IDL401", 28),
    ]


# -- URLs --------------------------------------------------------------------------------------
URL_PRELUDE = """\
import os
from urllib.parse import urljoin

import aiohttp
import httpx
import yarl

BASE = "http://localhost:8080"
RESTATE_INGRESS_URL = os.environ.get("RESTATE_INGRESS_URL", "")

"""


@pytest.mark.parametrize(
    "url",
    [
        '"http://localhost:8080/Greeter/greet"',
        'f"http://{host}:8080/Greeter/greet"',
        'BASE + "/Greeter/greet"',
        'urljoin(BASE, "/Greeter/greet")',
        '"{}/Greeter/greet".format(BASE)',
        '"{base}/Greeter/{h}".format(base=BASE, h=host)',
        '"%s/Greeter/greet" % BASE',
        '"/".join([BASE, "Greeter", "greet"])',
        'os.environ["RESTATE_INGRESS_URL"] + "/Greeter/greet"',
        'f"{os.getenv(\'RESTATE_RUNTIME_ENDPOINT\')}/Greeter/greet"',
        'f"{os.getenv(\'INGRESS\', \'http://restate:8080\')}/Greeter/greet"',
        'f"{settings.restate_ingress_url}/Greeter/greet"',
        'f"{RESTATE_INGRESS_URL.rstrip(\'/\')}/Greeter/{host}/greet/send"',
        'f"{BASE}/Greeter/greet?delay=10s"',
        'str(yarl.URL(BASE) / "Greeter" / "greet")',
    ],
)
def test_ingress_url_spellings(url: str) -> None:
    code = URL_PRELUDE + f"def f(host: str, settings):\n    httpx.post({url}, json=1)\n"
    assert spots(code, "IDL401") == [("IDL401", 12)]


@pytest.mark.parametrize(
    "call",
    [
        'httpx.post(f"{BASE}/restate/awakeables/{host}/resolve", json=1)',
        'httpx.post(f"{BASE}/restate/invocation/{host}/cancel")',
        'httpx.post(f"{BASE}/{host}", json=1)',  # a whole path we cannot see
        'httpx.post(f"{RESTATE_ADMIN_URL}/invocations/{host}/kill")',
        'httpx.post("http://localhost:9070/Greeter/greet", json=1)',
        'httpx.post("http://localhost:8080/Greeter", json=1)',
        'httpx.post("http://localhost:8080/a/b/c/d", json=1)',
        'httpx.get(f"{BASE}/Greeter/greet")',
        'httpx.request("GET", f"{BASE}/Greeter/greet")',
        'httpx.delete(f"{BASE}/Greeter/greet")',
        'httpx.post(url, json=1)',
        'httpx.post(f"{BASE}/invoke/Greeter/greet", json=1)',  # the SDK endpoint, not the ingress
    ],
)
def test_not_invocations(call: str) -> None:
    code = URL_PRELUDE + f"def f(host: str, url: str, RESTATE_ADMIN_URL: str):\n    {call}\n"
    assert spots(code, "IDL401") == []


def test_port_8080_needs_more_evidence() -> None:
    plain = 'import httpx\n\n\ndef f():\n    httpx.post("http://localhost:8080/orders/create", json=1)\n'
    assert spots(plain, "IDL401") == []
    for service in ("OrderService", "orderService", "shop.Orders"):
        service_like = plain.replace("/orders/create", f"/{service}/create")
        assert spots(service_like, "IDL401") == [("IDL401", 5)], service
    assert spots(plain.replace("/create", "/create/send"), "IDL401") == [("IDL401", 5)]
    mentioned = "# talks to Restate\n" + plain
    assert spots(mentioned, "IDL401") == [("IDL401", 6)]
    keyed = plain.replace("json=1", 'json=1, headers={"Idempotency-Key": "fixed"}')
    assert spots(keyed) == [("IDL403", 5)]
    near = plain.replace("json=1", 'json=1, headers={"Idempotency_Key": k}')
    assert spots(near) == [("IDL404", 5)]


def test_configured_ingress_urls() -> None:
    code = """\
        import httpx
        from urllib.parse import urljoin

        GATEWAY = "https://gw.example.com/restate-ingress/"


        def f():
            httpx.post("https://gw.example.com/restate-ingress/greeter/greet", json=1)
            httpx.post(urljoin(GATEWAY, "greeter/greet"), json=1)
            httpx.post("https://gw.example.com/other/greeter/greet", json=1)
        """
    assert spots(code, "IDL401") == []
    config = {"ingress-urls": ["https://GW.example.com/restate-ingress/"]}
    assert spots(code, "IDL401", **config) == [("IDL401", 8), ("IDL401", 9)]


def test_configured_ingress_host_makes_the_file_worth_parsing(
    cli: Callable[..., Run], write: Callable[..., Path], tmp_path: Path
) -> None:
    write("idemlint.toml", 'ingress-urls = ["https://gw.example.com"]\n')
    write("job.py", """\
        import httpx


        def nightly(day: str) -> None:
            httpx.post("https://GW.example.com/reports/build", json=day)
        """)
    run = cli("check", "--select", "IDL401", "--output-format", "json", str(tmp_path), cwd=tmp_path)
    assert [(f["code"], f["line"]) for f in run.json()] == [("IDL401", 5)]


def test_client_base_urls() -> None:
    code = """\
        import os

        import aiohttp
        import httpx
        import requests


        async def f(order: dict):
            async with httpx.AsyncClient(base_url=os.environ["RESTATE_INGRESS_URL"]) as client:
                await client.post("/Orders/place", json=order)
                await client.request("POST", "/Orders/place", json=order)
                await client.get("/Orders/place")
            async with aiohttp.ClientSession(base_url="http://restate:8080") as session:
                await session.put("/Orders/place", json=order)
            async with httpx.AsyncClient(base_url="https://api.stripe.com") as other:
                await other.post("/v1/charges", json=order)
            session = requests.Session()
            session.post("http://restate:8080/Orders/place", json=order)
        """
    assert spots(code, "IDL401") == [
        ("IDL401", 10), ("IDL401", 11), ("IDL401", 14), ("IDL401", 18),
    ]


def test_a_gateway_class_with_a_default_base_url() -> None:
    code = """\
        import os

        import httpx


        class RestateGateway:
            def __init__(self, base_url: str = os.environ.get("RESTATE_INGRESS_URL", "")) -> None:
                self.http = httpx.Client(base_url=base_url)

            def invoke(self, service: str, handler: str, payload: dict, key: str) -> dict:
                return self.http.post(f"/{service}/{handler}", json=payload, headers={"idempotency-key": key}).json()

            def fire(self, service: str, handler: str, payload: dict) -> None:
                self.http.post(f"/{service}/{handler}/send", json=payload)

            def forward(self, path: str, payload: dict) -> None:
                self.http.post(path, json=payload)
        """
    assert spots(code) == [("IDL401", 14)]


def test_urllib() -> None:
    code = """\
        import urllib.request
        from urllib.request import Request, urlopen

        RESTATE_URL = "http://restate:8080"


        def f(key: str):
            urlopen(f"{RESTATE_URL}/Greeter/greet", data=b"1")
            urlopen(f"{RESTATE_URL}/Greeter/greet")
            req = Request(f"{RESTATE_URL}/Greeter/greet", data=b"1")
            req.add_header("Idempotency-Key", key)
            urlopen(req)
            urllib.request.urlopen(Request(f"{RESTATE_URL}/Greeter/greet", method="PUT"))
            urlopen(Request(f"{RESTATE_URL}/Greeter/greet", b"1", {"idempotency-key": key}))
        """
    assert spots(code, "IDL401") == [("IDL401", 8), ("IDL401", 13)]


# -- headers -----------------------------------------------------------------------------------
HEADER_PRELUDE = """\
import httpx
import requests
from multidict import CIMultiDict

BASE_HEADERS = {"Accept": "application/json"}
URL = "http://localhost:8080/Payments/pay"


def make_headers() -> dict:
    return {}


def sign(headers: dict) -> None:
    headers["Idempotency-Key"] = "x"


"""


@pytest.mark.parametrize(
    "body",
    [
        'httpx.post(URL, headers={"Idempotency-Key": k})',
        'httpx.post(URL, headers={"IDEMPOTENCY-KEY": k})',
        'h = {}\n    h["idempotency-key"] = k\n    httpx.post(URL, headers=h)',
        'h = dict(BASE_HEADERS)\n    h.update({"Idempotency-Key": k})\n    httpx.post(URL, headers=h)',
        'h = {}\n    h.update(Accept="x")\n    h.setdefault("idempotency-key", k)\n    httpx.post(URL, headers=h)',
        'httpx.post(URL, headers={**BASE_HEADERS, "Idempotency-Key": k})',
        'httpx.post(URL, headers=BASE_HEADERS | {"Idempotency-Key": k})',
        'httpx.post(URL, headers=dict(BASE_HEADERS, **{"Idempotency-Key": k}))',
        'httpx.post(URL, headers=[("Idempotency-Key", k)])',
        'httpx.post(URL, headers=CIMultiDict({"Idempotency-Key": k}))',
        'httpx.Client(headers={"Idempotency-Key": k}).post(URL)',
        's = requests.Session()\n    s.headers.update({"Idempotency-Key": k})\n    s.post(URL)',
        's = requests.Session()\n    s.headers["Idempotency-Key"] = k\n    s.post(URL)',
        # headers we cannot see: not reported
        "httpx.post(URL, headers=headers)",
        "httpx.post(URL, headers=make_headers())",
        "h = {}\n    sign(h)\n    httpx.post(URL, headers=h)",
        "httpx.post(URL, **options)",
        'httpx.post(URL, headers={name: k})',
    ],
)
def test_header_spellings_with_a_key_or_unknown(body: str) -> None:
    code = HEADER_PRELUDE + f"def f(k: str, headers: dict, options: dict, name: str):\n    {body}\n"
    assert spots(code, "IDL401") == []


@pytest.mark.parametrize(
    "body",
    [
        "httpx.post(URL)",
        'httpx.post(URL, headers={"Accept": "application/json"})',
        "httpx.post(URL, headers=BASE_HEADERS)",
        'h = {"Accept": "x"}\n    h["Content-Type"] = "y"\n    httpx.post(URL, headers=h)',
        'h = {}\n    httpx.post(URL, headers=h)\n    h["Idempotency-Key"] = k',  # added after use
        'requests.request("POST", URL, headers=None)',
    ],
)
def test_header_spellings_without_a_key(body: str) -> None:
    code = HEADER_PRELUDE + f"def f(k: str):\n    {body}\n"
    assert [c for c, _ in spots(code, "IDL401")] == ["IDL401"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("idempotency-key", "key"), ("Idempotency-Key", "key"), ("IDEMPOTENCY-KEY", "key"),
        ("idempotency_key", "near"), ("Idempotency_Key", "near"), ("idempotent-key", "near"),
        ("idempotency-token", "near"), ("x-idempotency-key", "near"), ("idempotencykey", "near"),
        ("X-Restate-Idempotency-Key", "near"), ("idempotncy-key", "near"),
        ("idempotency key", "near"), ("idempotency-kye", "near"),
        ("content-type", None), ("x-request-id", None), ("authorization", None),
        ("x-restate-limit-key", None), ("key", None),
    ],
)
def test_header_names(name: str, expected: str | None) -> None:
    settings = settings_for({})
    module = ModuleAnalysis(SourceFile.from_text("x.py", ""), ast.parse(""), settings)
    assert classify_header(module, name) == expected


# -- regions -----------------------------------------------------------------------------------
def test_raw_http_in_handler_code_is_left_to_idl104_inside_an_action_it_is_checked() -> None:
    code = """\
        import httpx
        import restate

        svc = restate.Service("Orders")


        @svc.handler()
        async def place(ctx: restate.Context, order: dict) -> None:
            httpx.post("http://localhost:8080/Mailer/send", json=order)
            await ctx.run_typed("send", lambda: httpx.post("http://localhost:8080/Mailer/send", json=order))
            async with restate.create_client("http://localhost:8080") as client:
                await client.generic_send("Mailer", "send", b"")
        """
    assert spots(code, "IDL401") == [("IDL401", 10), ("IDL401", 12)]
    found = lint(code, "IDL401")
    assert "journaled action" in found[0].detail
    assert "replay of this handler code" in found[1].detail
    both = lint(code, "IDL401", "IDL104")
    assert ("IDL104", 9) in [(f.code, f.line) for f in both]


# -- IDL401 fixes ------------------------------------------------------------------------------
def test_fix_prefers_idempotency_key_then_request_id_then_ids() -> None:
    code = """\
        import httpx

        URL = "http://localhost:8080/Payments/pay"


        def a(order_id: str, idempotency_key: str):
            httpx.post(URL)


        def b(order_id: str, request_id: str):
            httpx.post(URL)


        def c(order_id: str, payment_id: str):
            httpx.post(URL)


        def d(user_id: str, tenant_id: str):
            httpx.post(URL)


        def e(order_id: int):
            httpx.post(URL, headers={})
        """
    out = fixed(code, "IDL401")
    assert 'httpx.post(URL, headers={"idempotency-key": idempotency_key})' in out
    assert 'httpx.post(URL, headers={"idempotency-key": request_id})' in out
    assert out.count("httpx.post(URL)\n") == 2  # ambiguous; owners only
    assert 'httpx.post(URL, headers={"idempotency-key": str(order_id)})' in out


def test_fix_ignores_the_object_key_and_fresh_values() -> None:
    code = """\
        import uuid

        import restate


        async def f(client: restate.RestateClient, cart_id: str, item: str):
            await client.object_send(add, cart_id, item)
            request_id = str(uuid.uuid4())
            await client.object_send(add, cart_id, item)
        """
    assert fixed(code, "IDL401") == textwrap.dedent(code)


def test_fix_in_a_multiline_call_with_a_trailing_comma() -> None:
    code = """\
        import restate


        async def f(client: restate.RestateClient, order_id: str):
            await client.service_send(
                place,
                {"id": order_id},
            )
        """
    assert fixed(code, "IDL401") == textwrap.dedent("""\
        import restate


        async def f(client: restate.RestateClient, order_id: str):
            await client.service_send(
                place,
                {"id": order_id},
                idempotency_key=order_id,
            )
        """)


def test_fix_is_unsafe_only() -> None:
    code = """\
        import httpx


        def f(order_id: str):
            httpx.post("http://localhost:8080/Orders/place")
        """
    assert fixed(code, "IDL401", unsafe=False) == textwrap.dedent(code)
    (finding,) = lint(code, "IDL401")
    assert finding.fix is not None and finding.fix.applicability == "unsafe"


# -- IDL402 ------------------------------------------------------------------------------------
KEYGEN = """\
import datetime
import time
import uuid

import httpx
import tenacity

URL = "http://localhost:8080/Payments/pay"


"""


@pytest.mark.parametrize(
    ("body", "reported"),
    [
        ('httpx.post(URL, headers={"idempotency-key": str(uuid.uuid4())})', True),
        ('httpx.post(URL, headers={"idempotency-key": f"{order_id}-{time.time_ns()}"})', True),
        ('key = uuid.uuid4().hex\n    httpx.post(URL, headers={"idempotency-key": key})', True),
        ('for _ in range(3):\n        key = str(uuid.uuid4())\n'
         '        httpx.post(URL, headers={"idempotency-key": key})', True),
        ('key = str(uuid.uuid4())\n    for _ in range(3):\n'
         '        httpx.post(URL, headers={"idempotency-key": key})', False),
        ('key = str(uuid.uuid4())\n    log(key)\n    httpx.post(URL, headers={"idempotency-key": key})',
         False),
        ('key = str(uuid.uuid4())\n    try:\n        httpx.post(URL, headers={"idempotency-key": key})\n'
         '    except httpx.TimeoutException:\n        httpx.post(URL, headers={"idempotency-key": key})',
         False),
        ('httpx.post(URL, headers={"idempotency-key": f"daily-{datetime.date.today()}"})', False),
        ('httpx.post(URL, headers={"idempotency-key": f"daily-{datetime.datetime.now().date()}"})',
         False),
        ('httpx.post(URL, headers={"idempotency-key": f"h-{datetime.datetime.now().strftime(\'%H\')}"})',
         True),
        ('httpx.post(URL, headers={"idempotency-key": str(uuid.uuid5(uuid.NAMESPACE_URL, order_id))})',
         False),
        # a default for callers that send no key is a deliberate choice
        ('httpx.post(URL, headers={"idempotency-key": given or str(uuid.uuid4())})', False),
        ('httpx.post(URL, headers={"idempotency-key": given if given else uuid.uuid4().hex})', False),
    ],
)
def test_regenerated_keys(body: str, reported: bool) -> None:
    code = KEYGEN + f"def f(order_id: str, log, given: str | None):\n    {body}\n"
    assert bool(spots(code, "IDL402")) is reported


def test_regenerated_key_inside_a_retry_decorated_function() -> None:
    code = KEYGEN + textwrap.dedent("""\
        @tenacity.retry(stop=tenacity.stop_after_attempt(3))
        def pay(amount: int) -> None:
            key = str(uuid.uuid4())
            httpx.post(URL, json=amount, headers={"idempotency-key": key})
        """)
    assert spots(code, "IDL402") == [("IDL402", 14)]


# -- IDL403 ------------------------------------------------------------------------------------
def test_constant_keys() -> None:
    code = """\
        import httpx
        import restate

        KEY = "sync"
        URL = "http://localhost:8080/Sync/run_sync"


        async def f(client: restate.RestateClient, day: str):
            httpx.post(URL, headers={"Idempotency-Key": KEY})
            httpx.post(URL, headers={"Idempotency-Key": f"sync"})
            httpx.post(URL, headers={"Idempotency-Key": b"sync"})
            httpx.post(URL, headers={"Idempotency-Key": f"sync-{day}"})
            shared = httpx.Client(headers={"Idempotency-Key": "client-wide"})
            shared.post(URL)
            shared.post(URL)
            await client.workflow_send(run, "the-only-one", None)
        """
    assert spots(code, "IDL403") == [
        ("IDL403", 9), ("IDL403", 10), ("IDL403", 11), ("IDL403", 13),
    ]


# -- IDL404 ------------------------------------------------------------------------------------
def test_near_miss_fixes_keep_quotes_and_style() -> None:
    code = """\
        import urllib.request

        import httpx

        URL = "http://localhost:8080/Payments/pay"


        def f(k: str):
            httpx.post(URL, headers={'x-idempotency-key': k})
            httpx.post(URL, headers=[("Idempotency_Key", k)])
            req = urllib.request.Request(URL, data=b"1")
            req.add_header("idempotency-token", k)
            urllib.request.urlopen(req)
            httpx.post(URL, headers={"idempotent_key": k, "IdempotencyKey": k})
        """
    assert spots(code, "IDL404") == [
        ("IDL404", 9), ("IDL404", 10), ("IDL404", 12), ("IDL404", 14), ("IDL404", 14),
    ]
    assert spots(code, "IDL401") == []  # the near miss is the finding, not a missing key
    out = fixed(code, "IDL404", unsafe=False)
    assert "{'idempotency-key': k}" in out
    assert '[("Idempotency-Key", k)]' in out
    assert 'req.add_header("idempotency-key", k)' in out
    assert '{"idempotency-key": k, "IdempotencyKey": k}' in out  # only the first is renamed
    assert spots(out, "IDL404") == []


def test_near_miss_json_output() -> None:
    code = 'import httpx\n\n\ndef f(k):\n    httpx.post("http://restate:8080/A/b", headers={"idempotency_key": k})\n'
    settings = settings_for({"select": ["IDL404"]})
    (finding,) = lint_code(code, settings)
    data = finding.to_json()
    assert data["code"] == "IDL404"
    assert (data["line"], data["column"], data["end_column"]) == (5, 52, 69)
    assert data["fix"]["applicability"] == "safe"
    assert data["fix"]["edits"] == [{
        "content": '"idempotency-key"',
        "location": {"line": 5, "column": 52},
        "end_location": {"line": 5, "column": 69},
    }]


# -- correct code stays quiet ------------------------------------------------------------------
CORRECT_WEB_APP = """\
import os
import uuid

import httpx
import restate
from fastapi import FastAPI, Header

from .services import charge
from .workflows import run as signup_run

app = FastAPI()
RESTATE_INGRESS_URL = os.environ.get("RESTATE_INGRESS_URL", "http://localhost:8080")


@app.post("/orders/{order_id}")
async def create_order(order_id: str, order: dict) -> dict:
    async with restate.create_client(RESTATE_INGRESS_URL) as client:
        handle = await client.service_send(charge, order, idempotency_key=f"order-{order_id}")
        return {"invocation": handle.invocation_id}


@app.post("/signup")
async def signup(email: str) -> None:
    async with restate.create_client(RESTATE_INGRESS_URL) as client:
        await client.workflow_send(signup_run, email, {"email": email})


@app.post("/webhook")
async def webhook(event: dict, idempotency_key: str = Header()) -> None:
    async with httpx.AsyncClient(base_url=RESTATE_INGRESS_URL) as http:
        await http.post(
            f"/Webhooks/{event['account']}/handle/send",
            json=event,
            headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
        )


def nightly(day: str) -> None:
    key = f"nightly-{day}"
    for attempt in range(5):
        try:
            httpx.post(f"{RESTATE_INGRESS_URL}/Reports/build", json=day, headers={"idempotency-key": key})
            break
        except httpx.TransportError:
            continue
    httpx.get(f"{RESTATE_INGRESS_URL}/restate/workflow/Signup/{day}/output")
    token = str(uuid.uuid4())
    httpx.post(f"{RESTATE_INGRESS_URL}/restate/awakeables/{token}/resolve", json=True)
"""

CORRECT_HANDLERS = """\
from datetime import timedelta

import restate

orders = restate.VirtualObject("Orders")
mailer = restate.Service("Mailer")


@mailer.handler()
async def send(ctx: restate.Context, to: str) -> None:
    return None


@orders.handler()
async def place(ctx: restate.ObjectContext, order: dict) -> str:
    ctx.service_send(send, order["email"], send_delay=timedelta(minutes=5))
    await ctx.service_call(send, order["email"])
    return "ok"
"""


@pytest.mark.parametrize("code", [CORRECT_WEB_APP, CORRECT_HANDLERS], ids=["web-app", "handlers"])
def test_correct_code_has_no_findings(code: str) -> None:
    settings = settings_for({"select": ["IDL3", "IDL4"]})
    assert [(f.code, f.line, f.message) for f in lint_code(code, settings)] == []


# -- the SDK tables ----------------------------------------------------------------------------
def test_sdk_tables_are_read_from_the_framework_profile() -> None:
    from dataclasses import replace
    from types import SimpleNamespace

    from idemlint.checks.ingress._shared import ingress_tables
    from idemlint.knowledge import KnowledgeError, bundled

    kb = bundled()
    tables = ingress_tables(kb)
    assert ingress_tables(kb) is tables  # built once per profile
    assert (tables.key_index["service_call"], tables.scoped_key_index["service_call"]) == (2, 3)
    assert tables.object_key_index["generic_send"] == 3
    assert tables.explicit_recovery == "restate._preview.explicit_recovery"
    assert tables.http.functions["requests.post"] == ("requests", "post")
    raw = {k: v for k, v in kb.framework.table("ingress").items() if k != "key_index"}
    broken = SimpleNamespace(framework=replace(kb.framework, tables={"ingress": raw}))
    with pytest.raises(KnowledgeError, match=r"tables\.ingress\.key_index: expected a dict"):
        ingress_tables(broken)  # type: ignore[arg-type]
