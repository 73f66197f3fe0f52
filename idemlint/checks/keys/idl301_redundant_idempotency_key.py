"""IDL301 redundant-idempotency-key."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...diagnostics import Edit, Finding, Fix, Severity
from ...fixes.context import FixContext
from ...fixes.text import comment_in_the_way, remove_argument
from ...registry import Invalid, Rule, Valid
from ...syntax import call_items, one_line
from ._shared import KeyedCall, attach_reason, context_method, keyed_calls, keys_tables

_STRICT = {"redundant-key-policy": "strict"}
_OFF = {"redundant-key-policy": "off"}


class RedundantIdempotencyKey(Rule):
    """
    ## What it does
    Reports an `idempotency_key=` (other than `None`) on a call or send made through the context
    inside handler code — `ctx.service_call`, `ctx.service_send`, `ctx.object_call`,
    `ctx.object_send`, `ctx.workflow_call`, `ctx.workflow_send`, `ctx.generic_call`,
    `ctx.generic_send`, also through `ctx.scope(...)` and in helpers that receive the context — when
    the code shows no reason for the key.

    The key is **not** reported when one of these is visible:

    | reason | how idemlint sees it |
    |---|---|
    | attach by invocation id | the call's handle gives its id: `await handle.invocation_id()` in the same function (or the handle is passed to a helper) |
    | attach by key | the key is returned, stored with `ctx.set(...)` or given to `ctx.attach_invocation(...)`; or the module builds `/restate/invocation/{Service}/...` URLs for the called service |
    | explicit recovery | the service is wrapped with `restate._preview.explicit_recovery(...)` (directly, or by calling it on the service object), or the handler is decorated with it |
    | a proxy | the key is the handler's own input forwarded (`request["idempotency_key"]`, `req.key`, a parameter of a helper) or the key this invocation was submitted with (`ctx.request().idempotency_key`) |

    ## Why is this bad?
    Keys protect across *invocations*, not within one. The decision tree:

    1. **Calling from outside a handler** (a web app, a CLI, a cron job: the SDK client or HTTP
       to the ingress) → there is no journal; a client retry runs the handler twice unless the
       request carries a stable key. **Use a key** (IDL401–IDL404).
    2. **Calling from inside a handler** (`ctx.*_call`/`ctx.*_send`) → the call is a journaled
       command (`restate/server_context.py`, `do_raw_call` → `vm.sys_call`/`vm.sys_send`): on a
       retry or replay Restate reuses the recorded command and its result, the call is not made
       again. **No key** — it adds bytes and the false impression that it protects something.
       (Measured on a real Restate 1.7 server by `tests/replay`: a forced retry of the calling
       handler ran the callee once with and without the key, and 1.7 retains every completed
       invocation for 24 h either way (`completion_retention`), so the key does not even change
       what is stored. See the [proof page](../proof.md).)
    3. **Unless** the key is needed across invocations:
       - another handler or client *attaches* to the invocation later (by id, after
         `handle.invocation_id()`; or by key through the ingress
         `/restate/invocation/{Service}/{handler}/{key}/attach`): only invocations with a key keep
         their result to attach to;
       - you *deduplicate separate invocations*: a webhook whose sender retries by sending a new
         request, each one a new invocation of your handler, that forwards work with a key derived
         from the event id so that the work happens once;
       - the handler runs with **explicit recovery** (`restate._preview.explicit_recovery`): each
         attempt re-executes its calls as new requests; the SDK documents that a key "that is the
         same on every attempt, such as one made from `ctx.request().id`" is how an attempt reaches
         the invocation an earlier attempt started.

    When you are in case 3 and idemlint cannot see it, keep the key deliberately with
    `# noqa: IDL301` on the call — that is the per-call "allow this key" override.

    ## Use instead
    A key idemlint cannot see a reason for but that you need (case 3 above), for instance for
    deliberate cross-invocation deduplication, stays with a `# noqa: IDL301` comment:
    ```python
    @webhooks.handler()
    async def on_event(ctx: restate.Context, event: dict) -> None:
        # the provider retries as new requests: process each event once
        ctx.service_send(process, event, idempotency_key=f"evt-{event['id']}")  # noqa: IDL301
    ```

    ## Fix safety
    The fix removes the `idempotency_key=...` argument with its comma (keyword arguments only; a
    key passed positionally is reported without a fix, since removing it would shift the arguments
    after it).
    - **Safe** when the key expression only reads names, attributes, subscripts and constants,
      formats strings, calls `str()`/`int()`/string methods, `ctx.request()`/`ctx.key()`, or reads
      a clock/uuid4.
    - **Unsafe** otherwise: a call to one of your functions would no longer run, and a key drawn from
      `ctx.uuid()`/`ctx.random()` would shift every later value drawn from them (a different journal
      for in-flight invocations).

    ## Options
    - `redundant-key-policy = "warn" | "strict" | "off"` (default `"warn"`): report as a warning, as
      an error, or not at all.
    - `# noqa: IDL301` on a call keeps one key deliberately.
    """

    code = "IDL301"
    name = "redundant-idempotency-key"
    summary = "Idempotency key on a call or send made inside a handler (journaled already)"
    severity = "warning"
    requires = "handlers"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
            import restate

            worker = restate.Service("Worker")
            jobs = restate.VirtualObject("Jobs")


            @worker.handler()
            async def process(ctx: restate.Context, job: dict) -> dict:
                return job


            @jobs.handler()
            async def submit(ctx: restate.ObjectContext, job: dict) -> str:
                handle = ctx.service_send(process, job, idempotency_key=f"job-{ctx.key()}")
                invocation_id = await handle.invocation_id()
                ctx.set("invocation", invocation_id)
                return invocation_id


            @jobs.handler()
            async def result(ctx: restate.ObjectContext) -> dict:
                invocation_id = await ctx.get("invocation", type_hint=str)
                return await ctx.attach_invocation(invocation_id, type_hint=dict)
        """, note="attach: the send's invocation id is stored and attached to later"),
        Valid("""
            import restate
            from restate._preview import explicit_recovery

            psp = restate.Service("Psp")
            payments = explicit_recovery(restate.Service("Payments"))


            @psp.handler()
            async def charge(ctx: restate.Context, amount: int) -> str:
                return "ok"


            @payments.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                key = f"{ctx.request().id}-charge"
                return await ctx.service_call(charge, amount, idempotency_key=key)
        """, note="explicit recovery: every attempt's calls are new requests"),
        Valid("""
            import restate
            from restate._preview import explicit_recovery

            psp = restate.Service("Psp")
            payments = restate.Service("Payments")


            @psp.handler()
            async def charge(ctx: restate.Context, amount: int) -> str:
                return "ok"


            @explicit_recovery
            @payments.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                return await ctx.service_call(charge, amount, idempotency_key=ctx.request().id)
        """, note="explicit recovery on one handler"),
        Valid("""
            import restate

            gateway = restate.Service("Gateway")
            orders = restate.VirtualObject("Orders")


            @orders.handler()
            async def place(ctx: restate.ObjectContext, order: dict) -> str:
                return "placed"


            @gateway.handler()
            async def forward(ctx: restate.Context, request: dict) -> str:
                return await ctx.object_call(
                    place, request["order_id"], request["order"],
                    idempotency_key=request["idempotency_key"],
                )


            @gateway.handler()
            async def relay(ctx: restate.Context, order: dict) -> str:
                key = ctx.request().idempotency_key
                return await ctx.object_call(place, order["id"], order, idempotency_key=key)
        """, note="a proxy forwards the key it received"),
        Valid("""
            import restate

            mailer = restate.Service("Mailer")
            signup = restate.VirtualObject("Signup")


            @mailer.handler()
            async def send_welcome(ctx: restate.Context, email: str) -> None:
                return None


            @signup.handler()
            async def register(ctx: restate.ObjectContext, email: str) -> str:
                key = f"welcome-{ctx.key()}"
                ctx.service_send(send_welcome, email, idempotency_key=key)
                ctx.set("welcome_key", key)
                return key
        """, note="the key is kept: someone attaches to the send by key"),
        Valid("""
            import restate

            svc = restate.Service("Greeter")


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                return f"Hello {name}"


            @svc.handler()
            async def greet_twice(ctx: restate.Context, name: str) -> str:
                first = await ctx.service_call(greet, name)
                second = await ctx.service_call(greet, name, idempotency_key=None)
                return first + second


            async def from_a_script(client: restate.RestateClient, request_id: str) -> str:
                return await client.service_call(greet, "Ada", idempotency_key=request_id)
        """, note="no key, key=None, and ingress calls (IDL4xx) are not this rule's"),
        Valid("""
            import restate

            reports = restate.Service("Reports")


            @reports.handler()
            async def build(ctx: restate.Context, day: str) -> str:
                return day


            @reports.handler()
            async def nightly(ctx: restate.Context, day: str) -> None:
                ctx.service_send(build, day, idempotency_key=f"report-{day}")
        """, config=_OFF, note="redundant-key-policy = off"),
    ]
    INVALID = [
        Invalid(
            """
                import restate

                greeter = restate.Service("Greeter")


                @greeter.handler()
                async def greet(ctx: restate.Context, name: str) -> str:
                    return f"Hello {name}"


                @greeter.handler()
                async def greet_all(ctx: restate.Context, names: list[str]) -> list[str]:
                    out = []
                    for name in names:
                        out.append(await ctx.service_call(greet, name, idempotency_key=f"greet-{name}"))
                    return out
            """,
            ((15, 56),),
            message="journaled",
            fixed="""
                import restate

                greeter = restate.Service("Greeter")


                @greeter.handler()
                async def greet(ctx: restate.Context, name: str) -> str:
                    return f"Hello {name}"


                @greeter.handler()
                async def greet_all(ctx: restate.Context, names: list[str]) -> list[str]:
                    out = []
                    for name in names:
                        out.append(await ctx.service_call(greet, name))
                    return out
            """,
            doc=True,
        ),
        Invalid(
            """
                from datetime import timedelta

                from restate import Context, ObjectContext, Service, VirtualObject

                carts = VirtualObject("Cart")
                checkout = Service("Checkout")


                @carts.handler()
                async def expire(ctx: ObjectContext, reason: str) -> None:
                    ctx.clear_all()


                @checkout.handler()
                async def start(ctx: Context, cart_id: str) -> None:
                    ctx.object_send(
                        expire,
                        cart_id,
                        "timeout",
                        send_delay=timedelta(hours=1),
                        idempotency_key=f"expire-{cart_id}",
                    )
                    ctx.generic_send("Audit", "log", b"checkout", idempotency_key=cart_id + "-audit")
            """,
            ((21, 9), (23, 51)),
            fixed="""
                from datetime import timedelta

                from restate import Context, ObjectContext, Service, VirtualObject

                carts = VirtualObject("Cart")
                checkout = Service("Checkout")


                @carts.handler()
                async def expire(ctx: ObjectContext, reason: str) -> None:
                    ctx.clear_all()


                @checkout.handler()
                async def start(ctx: Context, cart_id: str) -> None:
                    ctx.object_send(
                        expire,
                        cart_id,
                        "timeout",
                        send_delay=timedelta(hours=1),
                    )
                    ctx.generic_send("Audit", "log", b"checkout")
            """,
            note="multi-line call with trailing comma; generic_send",
        ),
        Invalid(
            """
                import restate

                billing = restate.Service("Billing")
                ledger = restate.VirtualObject("Ledger")


                @ledger.handler()
                async def record(ctx: restate.ObjectContext, amount: int) -> None:
                    ctx.set("last", amount)


                async def book(ctx: restate.Context, account: str, amount: int) -> None:
                    await ctx.object_call(record, account, amount, idempotency_key=make_key(account))


                def make_key(account: str) -> str:
                    return f"book-{account}"


                @billing.handler()
                async def charge(ctx: restate.Context, amount: int) -> None:
                    await book(ctx, "acct-1", amount)
            """,
            ((13, 52),),
            unsafe=True,
            fixed="""
                import restate

                billing = restate.Service("Billing")
                ledger = restate.VirtualObject("Ledger")


                @ledger.handler()
                async def record(ctx: restate.ObjectContext, amount: int) -> None:
                    ctx.set("last", amount)


                async def book(ctx: restate.Context, account: str, amount: int) -> None:
                    await ctx.object_call(record, account, amount)


                def make_key(account: str) -> str:
                    return f"book-{account}"


                @billing.handler()
                async def charge(ctx: restate.Context, amount: int) -> None:
                    await book(ctx, "acct-1", amount)
            """,
            note="helper receiving the context; a call in the key makes the removal unsafe",
        ),
        Invalid(
            """
                import restate

                svc = restate.Service("Notifier")


                @svc.handler()
                async def notify(ctx: restate.Context, user: str) -> None:
                    return None


                @svc.handler()
                async def notify_all(ctx: restate.Context, users: list[str]) -> None:
                    for user in users:
                        ctx.service_send(notify, user, None, f"notify-{user}")
            """,
            ((14, 46),),
            note="positional key: reported, no fix",
        ),
        Invalid(
            """
                import restate

                svc = restate.Service("Tenants")


                @svc.handler()
                async def provision(ctx: restate.Context, tenant: str) -> str:
                    return tenant


                @svc.handler()
                async def onboard(ctx: restate.Context, tenant: str) -> str:
                    scoped = ctx.scope("onboarding")
                    return await scoped.service_call(provision, tenant, f"tenant-{tenant}", f"provision-{tenant}")
            """,
            ((14, 77),),
            config=_STRICT,
            note="scoped context: the key comes after limit_key; strict policy",
        ),
    ]

    def effective_severity(self) -> Severity:
        return "error" if self.settings.redundant_key_policy == "strict" else "warning"

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        if self.settings.redundant_key_policy == "off":
            return
        for kc in keyed_calls(module):
            if attach_reason(module, kc) is not None:
                continue
            spelled = one_line(module.text(kc.call.func))
            node: ast.AST = kc.keyword if kc.keyword is not None else kc.value
            yield module.finding(
                self,
                node,
                f"idempotency key on `{spelled}(...)` is redundant: the call is journaled",
                fix=_remove_fix(module, kc),
                detail=(
                    "Retries and replays reuse the recorded result of a call made inside a "
                    "handler, so a key protects nothing there. A key only matters across "
                    "invocations (attach to the call later, or deduplicate separate "
                    "invocations): then keep it with `# noqa: IDL301`."
                ),
            )


_PURE_METHODS = frozenset({
    "format", "join", "lower", "upper", "strip", "lstrip", "rstrip", "replace", "encode",
    "decode", "hex", "removeprefix", "removesuffix", "isoformat", "strftime", "casefold",
})
_PURE_BUILTINS = frozenset({
    "builtins.str", "builtins.int", "builtins.repr", "builtins.format", "builtins.len",
    "builtins.hex", "builtins.abs",
})


def _removable(module: ModuleAnalysis, expr: ast.expr) -> bool:
    """Dropping the expression changes nothing else: no call with an effect, no draw from
    ``ctx.random()`` (later ``ctx.uuid()``/``ctx.random()`` values would shift)."""
    pure_context_methods = keys_tables(module).pure_context_methods
    for node in ast.walk(expr):
        if isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda)):
            return False
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        method = context_method(module, node)
        if method is not None:
            if method in pure_context_methods:
                continue
            return False
        if isinstance(func, ast.Attribute) and func.attr in _PURE_METHODS:
            continue
        qualname = module.resolver.qualname(func)
        if qualname in _PURE_BUILTINS:
            continue
        entry = module.kb.lookup(qualname) if qualname else None
        if entry is not None and entry.code in ("IDL101", "IDL103"):
            continue  # reading a clock or making a uuid4 has no effect to keep
        return False
    return True


def _remove_fix(module: ModuleAnalysis, kc: KeyedCall) -> Fix | None:
    kw = kc.keyword
    if kw is None:
        return None  # positional: removing it would shift the arguments after it
    call = kc.call
    if comment_in_the_way(module, call, call_items(call), kw):
        return None  # the comment may be about something else: not ours to delete

    def build(fx: FixContext) -> list[Edit]:
        return [remove_argument(fx, call, kw)]

    title = f"Remove the `{kw.arg}` argument"
    if _removable(module, kc.value):
        return Fix("safe", title, build)
    return Fix("unsafe", f"{title} (its expression has calls that would no longer run)", build)
