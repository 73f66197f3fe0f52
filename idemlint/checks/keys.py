"""IDL301-IDL302: idempotency keys on calls and sends made from inside a handler.

A call or send made through the context (``ctx.service_call``, ``ctx.object_send``,
``ctx.generic_call``, ...) is a journaled command: Restate records it once and a replay reuses
the record (``restate/server_context.py`` ``do_raw_call`` -> ``vm.sys_call``/``sys_send``). A
key protects across *invocations*, not within one, so inside a handler it is redundant unless
attach semantics are visible (the invocation is reached again later by id or key) or the service
runs with explicit recovery (``restate/_preview.py``: each attempt's calls are new requests).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from textwrap import dedent

from ..analysis import ModuleAnalysis
from ..diagnostics import Edit, Finding, Fix, Severity
from ..fixes.context import FixContext
from ..model import Unit
from ..registry import Invalid, Rule, Valid, register
from ..scopes import Binding, Kind, parent, scope_of
from .ingress_support import (
    EXPLICIT_RECOVERY,
    KEY_INDEX,
    SCOPED_KEY_INDEX,
    Fresh,
    argument,
    call_items,
    comment_in_the_way,
    fresh_values,
    inside,
    is_none,
    keyword,
    remove_argument,
    string_value,
    target_handler,
    unwrap_str,
    uses_of,
    walk_function,
)


@dataclass(frozen=True)
class KeyedCall:
    """A context call/send in handler code that passes an idempotency key."""

    call: ast.Call
    method: str
    value: ast.expr  # the key expression
    keyword: ast.keyword | None  # None when the key is positional
    unit: Unit


def keyed_calls(module: ModuleAnalysis) -> list[KeyedCall]:
    cached = module.memo.get("keyed_ctx_calls")
    if cached is None:
        cached = module.memo["keyed_ctx_calls"] = list(_collect(module))
    return cached


def _collect(module: ModuleAnalysis) -> Iterable[KeyedCall]:
    model = module.model
    fw = model.fw
    methods = fw.calls | fw.sends
    name = fw.ingress_key_argument
    for unit, node in model.handler_calls():
        if not (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in methods
            and model.is_context(node.func.value)
        ):
            continue
        method = node.func.attr
        table = SCOPED_KEY_INDEX if _scoped(module, node.func.value) else KEY_INDEX
        kw = keyword(node, name)
        value = kw.value if kw is not None else argument(node, table.get(method), name)
        if value is None or is_none(value):
            continue
        yield KeyedCall(node, method, value, kw, unit)


def _scoped(module: ModuleAnalysis, receiver: ast.expr, depth: int = 0) -> bool:
    """``ctx.scope(...)`` (directly or through a variable): its methods take ``limit_key`` first."""
    if depth > 6:
        return False
    if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute):
        return receiver.func.attr == "scope"
    if isinstance(receiver, ast.Name):
        binding = module.resolver.binding(receiver)
        if binding is not None and binding.kind is Kind.ASSIGN and binding.value is not None:
            return _scoped(module, binding.value, depth + 1)
    return False


# -- attach semantics ----------------------------------------------------------------------------
def explicit_recovery(module: ModuleAnalysis, unit: Unit) -> bool:
    """The handler runs with ``restate._preview.explicit_recovery`` (service or handler)."""
    handler = unit.handler or unit.root.handler
    if handler is None:
        return False
    qualname = module.resolver.qualname
    service = handler.service
    if service is not None and EXPLICIT_RECOVERY in service.wrappers:
        return True
    if any(qualname(d) == EXPLICIT_RECOVERY for d in handler.func.decorator_list):
        return True
    if service is None or service.node is None:
        return False
    # `explicit_recovery(svc)` as a statement: it sets the flag on the object in place.
    for call in module.indexer.calls:
        if qualname(call.func) == EXPLICIT_RECOVERY and call.args:
            wrapped = module.model.service_of(call.args[0])
            if wrapped is not None and wrapped.node is service.node:
                return True
    return False


def _is_ctx_call(module: ModuleAnalysis, node: ast.AST | None) -> bool:
    fw = module.kb.framework
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in (fw.calls | fw.sends)
        and module.model.is_context(node.func.value)
    )


def _handle_used(module: ModuleAnalysis, kc: KeyedCall) -> bool:
    """The call's handle gives its invocation id (to attach to it, or store it) later."""
    call = kc.call
    up = parent(call)
    if isinstance(up, ast.Attribute) and up.attr == "invocation_id":
        return True
    func = kc.unit.func
    for node in walk_function(func):
        if not (isinstance(node, ast.Attribute) and node.attr == "invocation_id"):
            continue
        target = node.value
        if isinstance(target, ast.Name):
            binding = module.resolver.binding(target)
            if (
                binding is not None
                and binding.kind is Kind.ASSIGN
                and binding.value is not call
                and _is_ctx_call(module, binding.value)
            ):
                continue  # the handle of another call
        elif target is not call and _is_ctx_call(module, target):
            continue
        return True
    # The handle handed to a helper (which may read its id).
    if isinstance(up, ast.Assign) and len(up.targets) == 1 and isinstance(up.targets[0], ast.Name):
        handle = _binding_at(up.targets[0])
        if handle is not None:
            for use in uses_of(module, handle, func):
                holder = parent(use)
                if isinstance(holder, ast.Call) and use is not holder.func:
                    name = module.resolver.qualname(holder.func) or ""
                    if not name.startswith("restate.") and not _is_ctx_call(module, holder):
                        return True
    return False


def _binding_at(target: ast.Name) -> Binding | None:
    """The binding a ``Store`` name creates."""
    for binding in scope_of(target).bindings.get(target.id, []):
        if binding.node is target:
            return binding
    return None


def _sinks(module: ModuleAnalysis, func: ast.AST) -> Iterable[ast.AST]:
    """Where a key or id leaves the invocation: returned, stored in state, attached to."""
    model = module.model
    for node in ast.walk(func):
        if isinstance(node, ast.Return) and node.value is not None:
            yield node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("set", "attach_invocation")
            and model.is_context(node.func.value)
        ):
            yield from node.args
            yield from (k.value for k in node.keywords)


def _key_kept(module: ModuleAnalysis, kc: KeyedCall) -> bool:
    """The key itself is returned, stored in state or attached to."""
    value = unwrap_str(kc.value)
    binding = module.resolver.binding(value) if isinstance(value, ast.Name) else None
    dumped = ast.dump(value)
    for sink in _sinks(module, kc.unit.func):
        for node in ast.walk(sink):
            if inside(node, kc.call):
                continue
            if binding is not None:
                if isinstance(node, ast.Name) and module.resolver.binding(node) is binding:
                    return True
            elif isinstance(node, ast.expr) and ast.dump(node) == dumped:
                return True
    return False


def attach_paths(module: ModuleAnalysis) -> set[str]:
    """Services whose invocations the module attaches to by idempotency key over HTTP
    (``/restate/invocation/{Service}/.../{key}/attach|output``); ``*``: a service not spelled."""
    cached = module.memo.get("attach_paths")
    if cached is None:
        cached = set()
        for node in module.nodes:
            if isinstance(node, ast.JoinedStr):
                text = "".join(
                    str(v.value) if isinstance(v, ast.Constant) else "\x00" for v in node.values
                )
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if isinstance(parent(node), ast.JoinedStr):
                    continue
                text = node.value
            else:
                continue
            marker = text.find("restate/invocation/")
            if marker < 0:
                continue
            rest = text[marker + len("restate/invocation/"):]
            service = rest.split("/", 1)[0]
            cached.add("*" if not service or "\x00" in service else service)
        module.memo["attach_paths"] = cached
    return cached


def _target_service(module: ModuleAnalysis, kc: KeyedCall) -> str | None:
    if kc.method.startswith("generic_"):
        return string_value(argument(kc.call, 0, "service"))
    handler = target_handler(module, argument(kc.call, 0, "tpe"))
    if handler is not None and handler.service is not None:
        return handler.service.name
    return None


def _attached_by_key(module: ModuleAnalysis, kc: KeyedCall) -> bool:
    paths = attach_paths(module)
    if not paths:
        return False
    return "*" in paths or _target_service(module, kc) in paths


def _passed_through(module: ModuleAnalysis, expr: ast.expr, depth: int = 0) -> bool:
    """The key is the handler's own input forwarded (a proxy), or the key this invocation
    was submitted with (``ctx.request().idempotency_key``)."""
    root: ast.AST = unwrap_str(expr)
    chain: list[str] = []
    while True:
        if isinstance(root, ast.Attribute):
            chain.append(root.attr)
            root = root.value
        elif isinstance(root, ast.Subscript):
            root = root.value
        elif (
            isinstance(root, ast.Call)
            and isinstance(root.func, ast.Attribute)
            and root.func.attr == "get"
        ):
            root = root.func.value
        else:
            break
    model = module.model
    if isinstance(root, ast.Call) and isinstance(root.func, ast.Attribute):
        return (
            root.func.attr == "request"
            and model.is_context(root.func.value)
            and ("idempotency_key" in chain or "headers" in chain)
        )
    if isinstance(root, ast.Name):
        binding = module.resolver.binding(root)
        if binding is None:
            return False
        if binding.kind is Kind.PARAM:
            return not model.is_context_param(binding.node)  # type: ignore[arg-type]
        if binding.kind is Kind.ASSIGN and binding.value is not None and depth < 3:
            return _passed_through(module, binding.value, depth + 1)
    return False


def attach_reason(module: ModuleAnalysis, kc: KeyedCall) -> str | None:
    """Why a key on this call is not redundant, if the code shows a reason."""
    if explicit_recovery(module, kc.unit):
        return "explicit recovery"
    if _handle_used(module, kc):
        return "invocation id used"
    if _key_kept(module, kc):
        return "key kept"
    if _attached_by_key(module, kc):
        return "attached by key"
    if _passed_through(module, kc.value):
        return "forwarded"
    return None


# -- fix -----------------------------------------------------------------------------------------
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
    model = module.model
    for node in ast.walk(expr):
        if isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda)):
            return False
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            if model.is_context(func.value):
                if func.attr in ("request", "key"):
                    continue
                return False
            if func.attr in _PURE_METHODS:
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

    if _removable(module, kc.value):
        return Fix("safe", "Remove the `idempotency_key` argument", build)
    return Fix(
        "unsafe",
        "Remove the `idempotency_key` argument (its expression has calls that would no "
        "longer run)",
        build,
    )


def _code(text: str) -> str:
    return dedent(text).lstrip("\n")


_STRICT = {"redundant-key-policy": "strict"}
_OFF = {"redundant-key-policy": "off"}


@register
class RedundantKey(Rule):
    code = "IDL301"
    name = "redundant-idempotency-key"
    summary = "Idempotency key on a call or send made inside a handler (journaled already)"
    severity = "warning"
    requires = "handlers"
    fix_availability = "sometimes"
    VALID = [
        Valid(_code("""
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
        """), note="attach: the send's invocation id is stored and attached to later"),
        Valid(_code("""
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
        """), note="explicit recovery: every attempt's calls are new requests"),
        Valid(_code("""
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
        """), note="explicit recovery on one handler"),
        Valid(_code("""
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
        """), note="a proxy forwards the key it received"),
        Valid(_code("""
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
        """), note="the key is kept: someone attaches to the send by key"),
        Valid(_code("""
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
        """), note="no key, key=None, and ingress calls (IDL4xx) are not this rule's"),
        Valid(_code("""
            import restate

            reports = restate.Service("Reports")


            @reports.handler()
            async def build(ctx: restate.Context, day: str) -> str:
                return day


            @reports.handler()
            async def nightly(ctx: restate.Context, day: str) -> None:
                ctx.service_send(build, day, idempotency_key=f"report-{day}")
        """), config=_OFF, note="redundant-key-policy = off"),
    ]
    INVALID = [
        Invalid(
            _code("""
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
            """),
            ((15, 56),),
            message="journaled",
            fixed=_code("""
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
            """),
        ),
        Invalid(
            _code("""
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
            """),
            ((21, 9), (23, 51)),
            fixed=_code("""
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
            """),
            note="multi-line call with trailing comma; generic_send",
        ),
        Invalid(
            _code("""
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
            """),
            ((13, 52),),
            unsafe=True,
            fixed=_code("""
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
            """),
            note="helper receiving the context; a call in the key makes the removal unsafe",
        ),
        Invalid(
            _code("""
                import restate

                svc = restate.Service("Notifier")


                @svc.handler()
                async def notify(ctx: restate.Context, user: str) -> None:
                    return None


                @svc.handler()
                async def notify_all(ctx: restate.Context, users: list[str]) -> None:
                    for user in users:
                        ctx.service_send(notify, user, None, f"notify-{user}")
            """),
            ((14, 46),),
            note="positional key: reported, no fix",
        ),
        Invalid(
            _code("""
                import restate

                svc = restate.Service("Tenants")


                @svc.handler()
                async def provision(ctx: restate.Context, tenant: str) -> str:
                    return tenant


                @svc.handler()
                async def onboard(ctx: restate.Context, tenant: str) -> str:
                    scoped = ctx.scope("onboarding")
                    return await scoped.service_call(provision, tenant, f"tenant-{tenant}", f"provision-{tenant}")
            """),
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
            spelled = " ".join(module.text(kc.call.func).split())
            message = (
                f"idempotency key on `{spelled}(...)` inside a handler is redundant: the "
                "call is journaled, so retries and replays reuse its recorded result; a key "
                "only matters across invocations (attach to it later, or deduplicate separate "
                "invocations: then keep it with `# noqa: IDL301`)"
            )
            node: ast.AST = kc.keyword if kc.keyword is not None else kc.value
            yield module.finding(self, node, message, fix=_remove_fix(module, kc))


def _fresh_message(fresh: Fresh) -> str:
    where = f" (through `{fresh.via.name}`)" if fresh.via is not None else ""
    return (
        f"idempotency key built from `{fresh.spelled}`{where} inside a handler: it changes on "
        "every replay, but the key is part of the journaled call, so a replay no longer "
        "matches the journal and no retry can ever send the same key again; build it from "
        "the input or the invocation (or drop it, see IDL301)"
    )


@register
class NondeterministicKey(Rule):
    code = "IDL302"
    name = "nondeterministic-idempotency-key"
    summary = "Idempotency key built inside a handler from values that change on replay"
    severity = "error"
    requires = "handlers"
    VALID = [
        Valid(_code("""
            import uuid

            import restate

            svc = restate.Service("Orders")


            @svc.handler()
            async def ship(ctx: restate.Context, order_id: str) -> str:
                return order_id


            @svc.handler()
            async def place(ctx: restate.Context, order_id: str) -> str:
                key = await ctx.run_typed("key", lambda: str(uuid.uuid4()))
                handle = ctx.service_send(ship, order_id, idempotency_key=key)
                ctx.service_send(ship, order_id, idempotency_key=f"ship-{order_id}")
                ctx.service_send(ship, order_id, idempotency_key=str(ctx.uuid()))
                return await handle.invocation_id()
        """), note="journaled, input-derived, and ctx.uuid() keys are stable on replay"),
        Valid(_code("""
            from datetime import date

            import restate

            svc = restate.Service("Reports")


            @svc.handler()
            async def build(ctx: restate.Context, day: str) -> str:
                return day


            @svc.handler()
            async def daily(ctx: restate.Context) -> str:
                return await ctx.service_call(build, "today", idempotency_key=f"report-{date.today()}")
        """), note="a day-granular key is deliberate (IDL101 still reports the clock read)"),
        Valid(_code("""
            import restate
            from restate._preview import explicit_recovery

            svc = explicit_recovery(restate.Service("Payments"))


            @svc.handler()
            async def capture(ctx: restate.Context, amount: int) -> str:
                return "ok"


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                return await ctx.service_call(capture, amount, idempotency_key=f"{ctx.request().id}-capture")
        """), note="explicit recovery with a key from the request id (as the SDK documents)"),
    ]
    INVALID = [
        Invalid(
            _code("""
                import uuid

                import restate

                svc = restate.Service("Orders")


                @svc.handler()
                async def ship(ctx: restate.Context, order_id: str) -> str:
                    return order_id


                @svc.handler()
                async def place(ctx: restate.Context, order_id: str) -> str:
                    handle = ctx.service_send(ship, order_id, idempotency_key=str(uuid.uuid4()))
                    return await handle.invocation_id()
            """),
            ((15, 63),),
            message="`uuid.uuid4()`",
        ),
        Invalid(
            _code("""
                import random
                import time

                from restate import ObjectContext, VirtualObject

                accounts = VirtualObject("Account")


                @accounts.handler()
                async def deposit(ctx: ObjectContext, amount: int) -> None:
                    ctx.set("balance", amount)


                @accounts.handler()
                async def transfer(ctx: ObjectContext, target: str, amount: int) -> str:
                    key = f"transfer-{time.time()}-{random.randint(0, 999)}"
                    await ctx.object_call(deposit, target, amount, idempotency_key=key)
                    ctx.set("last_transfer", key)
                    return key
            """),
            ((17, 68),),
            message="through `key`",
        ),
        Invalid(
            _code("""
                import restate
                from restate._preview import explicit_recovery

                svc = explicit_recovery(restate.Service("Payments"))


                @svc.handler()
                async def capture(ctx: restate.Context, amount: int) -> str:
                    return "ok"


                @svc.handler()
                async def pay(ctx: restate.Context, amount: int) -> str:
                    return await ctx.service_call(capture, amount, idempotency_key=str(ctx.uuid()))
            """),
            ((14, 68),),
            message="explicit recovery",
            note="ctx.uuid() under explicit recovery: the SDK asks for a key from ctx.request().id",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for kc in keyed_calls(module):
            fresh = fresh_values(module, kc.value)
            plain = [f for f in fresh if not f.context]
            if plain:
                yield module.finding(self, kc.value, _fresh_message(plain[0]))
                continue
            drawn = [f for f in fresh if f.context]
            if not drawn:
                continue
            if explicit_recovery(module, kc.unit):
                yield module.finding(
                    self,
                    kc.value,
                    f"idempotency key from `{drawn[0].spelled}` under explicit recovery: every "
                    "attempt runs the handler again from the start, so the key is only the same "
                    "if each attempt draws random values in the same order; derive it from "
                    "`ctx.request().id` (the invocation id), as `restate._preview."
                    "explicit_recovery` documents",
                )
            elif _attached_by_key(module, kc) and not _key_kept(module, kc) \
                    and not _handle_used(module, kc):
                yield module.finding(
                    self,
                    kc.value,
                    f"idempotency key from `{drawn[0].spelled}` is attached to by key "
                    "elsewhere, but it is random per invocation and neither stored nor "
                    "returned: nobody else can know it; derive it from the input",
                )
