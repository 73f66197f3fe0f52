"""IDL104 non-journaled-network-io."""

from __future__ import annotations

from ...registry import Invalid, Valid
from ._shared import KnownCallRule


class NonJournaledNetworkIo(KnownCallRule):
    """
    ## What it does
    Reports network calls in handler code outside a journaled action:
    - HTTP: `requests` (functions and `Session` methods), `httpx` (functions, `Client` and
      `AsyncClient` methods including `send`/`stream`), `aiohttp` (`ClientSession` methods,
      `ws_connect`, `aiohttp.request`), `urllib.request.urlopen`/`urlretrieve` and openers,
      `urllib3` (pool managers and connection pools), `http.client` connections;
    - sockets and DNS: `socket.create_connection`, `getaddrinfo`/`gethostbyname`/..., socket
      `connect`/`send`/`recv`/..., `asyncio.open_connection`;
    - email: `smtplib.SMTP`/`SMTP_SSL`/`LMTP` commands (`login`, `sendmail`, `send_message`, ...);
    - `websockets` (`connect`, `send`, `recv`, ...), gRPC (invoking a multi-callable obtained from a
      channel, sync and `grpc.aio`; `channel_ready_future`);
    - cloud and SaaS SDKs: every operation of a `boto3` client, paginators and waiters, common
      `boto3` resources (`Table`, `Bucket`, `Object`), `aioboto3`/`aiobotocore`; Kafka producers and
      consumers (`kafka-python`, `confluent-kafka`, `aiokafka`); Stripe (`StripeClient` services and
      resource methods such as `stripe.Charge.create`); OpenAI (`OpenAI`, `AsyncOpenAI`, the Azure
      clients and the module-level client) and Anthropic (`Anthropic`, `AsyncAnthropic`, Bedrock,
      Vertex, Foundry).

    Creating clients, sessions, channels and connections is not reported, and neither are local
    helpers such as boto3's `get_paginator`, `get_waiter`, `can_paginate`, `close`, `client.meta`
    and `client.exceptions` (listed as `deterministic`). `generate_presigned_url` stays reported: it
    sends nothing but signs with the current time.

    Instances are followed through bindings: `c = httpx.AsyncClient()`,
    `async with httpx.AsyncClient() as c`, `self.c = httpx.AsyncClient()` in a class, parameters
    annotated `c: httpx.AsyncClient`, and objects returned by known factories
    (`requests.session()`, `boto3.Session().client("s3")`, `grpc.insecure_channel(...).unary_unary(...)`),
    so `await c.post(url)` is recognised as `httpx.AsyncClient().post`. Handler code includes
    helpers called from a handler (the finding's detail shows the call chain); the body of a
    journaled action (a lambda, nested or module function, bound method or `functools.partial`
    given to `ctx.run_typed`/`ctx.run`) is exempt, the arguments forwarded to it are not.

    ## Why is this bad?
    Restate replays a handler from its journal after a crash, a retry or a suspension, and code
    outside `ctx.run_typed(...)` runs again on every attempt. A request made there is sent again
    each time: the card is charged twice, the confirmation email goes out twice, the Kafka message
    is produced twice. A response read there can differ on replay, so the handler takes another
    branch than the one the journal recorded and the invocation fails with a journal mismatch.

    Inside `ctx.run_typed(name, action)` the action runs until it succeeds once (retried with
    Restate's retry policy), its result is stored in the journal, and replays return the stored
    result without sending the request. It is still at-least-once: a crash after the request but
    before the result is journaled runs the action again, so pass an idempotency key (for example
    one built from `ctx.uuid()`) where the remote API accepts one.

    ## Use instead
    The fix leaves `client.post(...)` alone: its raw response would not serialise. Move the request
    and the extraction of what you need into one action, with an idempotency key:

    ```python
    key = str(ctx.uuid())

    async def charge() -> int:
        async with httpx.AsyncClient() as client:
            response = await client.post(
                "https://psp.example/charge",
                json={"amount": amount},
                headers={"Idempotency-Key": key},
            )
            return response.status_code

    charged = await ctx.run_typed("charge", charge)
    ```

    ## Fix safety
    The fix moves the call into a journaled action. It needs the context in scope and a place
    where `await` is allowed (an `async def`, not a lambda or a generator expression):
    - a call whose result is discarded, `await http.put(url, json=body)` as a statement → a
      nested function `async def _http_put() -> None:` holding the statement, then
      `await ctx.run_typed("http.put", _http_put)` (a plain `def` for a sync call);
    - a sync call used through a serializable accessor, `requests.get(url).json()` →
      `await ctx.run_typed("requests.get", lambda: requests.get(url).json())`: the lambda takes in
      the attribute, subscript and call chain that uses the result;
    - an awaited call used through a serializable accessor,
      `(await client.get(url)).json()["rate"]` → a nested `async def _client_get():` returning
      that expression, inserted before the statement, and
      `await ctx.run_typed("client.get", _client_get)` in its place.

    The serializable accessors are `.json`, `.text`, `.status_code`, `.ok`, `.is_success`,
    `.is_error`, `.reason`, `.reason_phrase`, `.rowcount` and `.lastrowid`. No fix when the raw
    response is kept (`r = await client.get(url)`), for an async call that is not awaited where it
    is made (`coro = client.get(url)`), calls used as `with`/`async with` items, calls with
    `*args`/`**kwargs`, sync `def` handlers, and helpers without a context parameter.

    The fix is always **unsafe**; review each rewrite:
    - The result is serialized into the journal (JSON by default; Pydantic, msgspec and
      dataclasses through the action's return annotation). On replay you get the deserialized
      value, not the original object.
    - Errors change: an exception raised by the action is retried by Restate instead of reaching
      the handler's `try`/`except`; only a `TerminalError` (or running out of the attempts set in
      `RunOptions`) comes back, as a `TerminalError`.
    - A sync action runs in a worker thread, not on the event loop.
    - The action is named after the call (`"client.post"`); give it a meaningful name.
    - The handler's journal changes shape: deploy the change as a new deployment, so that
      invocations already in flight finish on the code they started with.

    ## Temporal
    Workflow code (a `@workflow.defn` class's methods and what they call) is replayed from the
    workflow's history after a worker restart or a cache eviction, and records nothing of its
    own: only commands (activities, timers, children, ...) and their results are in the history.
    A network request there runs again on every replay, and a result that differs makes the replay take
    another path than the history (a nondeterminism error). Move it into an activity
    (`@activity.defn`, run once per attempt, its result recorded) and call it with
    `workflow.execute_activity(...)`; code in activities is not reported. The workflow sandbox
    (temporalio 1.35, `worker/workflow_sandbox/_restrictions.py`) rejects some of these calls at
    run time, not all, and not with `sandboxed=False`. No fix: moving code into an activity
    needs a new function, its registration on the worker and timeouts.
    temporalint: no rule for I/O in workflow code.

    ## Options
    - `[tool.idemlint.nondeterministic]` adds your own clients:
      `"mycorp.payments.Client().charge" = { code = "IDL104", async = true }` (add
      `fix = "journal"` to get the fix). Generated gRPC stubs are not known by name:
      `"mypkg.foo_pb2_grpc.FooStub().Method" = "IDL104"`.
    - `deterministic = ["mycorp.payments.Client().build_request"]` silences a method that does no
      I/O.
    - `# noqa: IDL104` for a call that is safe to repeat (a health check whose result decides
      nothing).
    """

    code = "IDL104"
    frameworks = ("restate", "temporal")
    name = "non-journaled-network-io"
    summary = "Network I/O in handler code outside a journaled action"
    what = "performs network I/O"
    consequence = "it runs again on every replay (duplicate requests, double charges)"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
            import functools

            import httpx
            import requests

            import restate

            svc = restate.Service("Payments")


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> dict:
                async def charge() -> dict:
                    async with httpx.AsyncClient() as client:
                        response = await client.post("https://psp.example/charge", json={"amount": amount})
                        return response.json()

                receipt = await ctx.run_typed("charge", charge)
                status = await ctx.run_typed("status", lambda: requests.get("https://psp.example/status").status_code)
                ping = await ctx.run_typed("ping", functools.partial(requests.head, "https://psp.example"))
                return {"receipt": receipt, "status": status, "ping": ping.status_code}
        """),
        Valid("""
            import urllib.request
            from datetime import timedelta

            from temporalio import activity, workflow


            @activity.defn
            def fetch(url: str) -> str:
                with urllib.request.urlopen(url) as response:  # activities may do I/O
                    return response.read().decode()


            @workflow.defn
            class Sync:
                @workflow.run
                async def run(self, url: str) -> str:
                    return await workflow.execute_activity(
                        fetch, url, start_to_close_timeout=timedelta(seconds=30)
                    )
        """, note="Temporal: I/O inside an activity"),
    ]
    INVALID = [
        Invalid(
            """
                import httpx
                import requests

                import restate

                svc = restate.Service("Payments")
                http = httpx.AsyncClient()


                @svc.handler()
                async def pay(ctx: restate.Context, amount: int) -> dict:
                    async with httpx.AsyncClient() as client:
                        charged = await client.post("https://psp.example/charge", json={"amount": amount})
                    audit = requests.get("https://audit.example/log").json()
                    await http.put("https://ledger.example/entry", json={"id": 1})
                    return {"charged": charged.status_code, "audit": audit}
            """,
            ((13, 25), (14, 13), (15, 11)),
            unsafe=True,
            note="the raw response of client.post would not serialise: no fix for it",
            fixed="""
                import httpx
                import requests

                import restate

                svc = restate.Service("Payments")
                http = httpx.AsyncClient()


                @svc.handler()
                async def pay(ctx: restate.Context, amount: int) -> dict:
                    async with httpx.AsyncClient() as client:
                        charged = await client.post("https://psp.example/charge", json={"amount": amount})
                    audit = await ctx.run_typed("requests.get", lambda: requests.get("https://audit.example/log").json())
                    async def _http_put() -> None:
                        await http.put("https://ledger.example/entry", json={"id": 1})
                    await ctx.run_typed("http.put", _http_put)
                    return {"charged": charged.status_code, "audit": audit}
            """,
            doc=True,
        ),
        Invalid(
            """
                import httpx

                import restate

                svc = restate.Service("Rates")
                client = httpx.AsyncClient()


                @svc.handler()
                async def quote(ctx: restate.Context, currency: str) -> float:
                    rate = (await client.get(f"https://rates.example/{currency}")).json()["rate"]
                    await client.post(
                        "https://audit.example/log",
                        json={"currency": currency, "rate": rate},
                    )
                    return rate
            """,
            ((11, 19), (12, 11)),
            unsafe=True,
            fixed="""
                import httpx

                import restate

                svc = restate.Service("Rates")
                client = httpx.AsyncClient()


                @svc.handler()
                async def quote(ctx: restate.Context, currency: str) -> float:
                    async def _client_get():
                        return (await client.get(f"https://rates.example/{currency}")).json()["rate"]
                    rate = await ctx.run_typed("client.get", _client_get)
                    async def _client_post() -> None:
                        await client.post(
                            "https://audit.example/log",
                            json={"currency": currency, "rate": rate},
                        )
                    await ctx.run_typed("client.post", _client_post)
                    return rate
            """,
            note="journals the JSON, not the response; continuation lines move with the body",
        ),
        Invalid(
            """
                from urllib.request import urlopen

                import temporalio.workflow as wf


                @wf.defn
                class Sync:
                    @wf.run
                    async def run(self, urls: list[str]) -> int:
                        size = 0
                        for url in urls:
                            if url:
                                size += len(urlopen(url).read())
                        return size + self._ping()

                    def _ping(self) -> int:
                        return urlopen("https://example.com").status
            """,
            ((13, 29), (17, 16)),
            message="performs network I/O in workflow code; move it into an activity",
            note="Temporal: no fix; nested in for/if, in a helper method, from-imported",
        ),
    ]

