"""Fix strategies named by the knowledge base (``fix = "ctx-time"`` ...).

Each strategy decides from the ``ast`` alone whether a fix is possible here (the context is
in scope, an ``await`` is allowed, the call has a shape it can rewrite) and returns a lazy
``Fix`` whose edits are built only when a fix is applied or shown.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from ..analysis import ModuleAnalysis
from ..diagnostics import Edit, Fix, FixUnavailable
from ..fixes.context import FixContext
from ..scopes import FUNCTION_NODES, Scope, parent, scope_of
from .handler_calls import KnownCall

Strategy = Callable[[ModuleAnalysis, KnownCall], "Fix | None"]


# -- where a rewrite is possible ---------------------------------------------------------------
def can_await(node: ast.AST) -> bool:
    """``await`` is allowed where ``node`` is evaluated (an async def, not a generator expr)."""
    scope: Scope | None = scope_of(node)
    while scope is not None:
        owner = scope.node
        if isinstance(owner, ast.GeneratorExp):
            return False
        if isinstance(owner, FUNCTION_NODES):
            return isinstance(owner, ast.AsyncFunctionDef)
        if not isinstance(owner, (ast.ListComp, ast.SetComp, ast.DictComp)):
            return False
        scope = scope.parent
    return False


def is_primary_operand(node: ast.AST) -> bool:
    """Whether ``node`` is the object of ``.attr``, ``[...]`` or ``(...)`` (needs parens)."""
    up = parent(node)
    return (
        (isinstance(up, ast.Attribute) and up.value is node)
        or (isinstance(up, ast.Subscript) and up.value is node)
        or (isinstance(up, ast.Call) and up.func is node)
    )


def _paren(text: str, node: ast.AST, fx: FixContext) -> str:
    """Parenthesize a replacement that lands where only a primary may stand."""
    if not is_primary_operand(node):
        return text
    line, col, end_line, end_col = fx.span(node)
    source = fx.source
    before = source.text[: source.offset(line, col)].rstrip()
    after = source.text[source.offset(end_line, end_col) :].lstrip()
    if before.endswith("(") and after.startswith(")"):
        return text  # already `( ... )`
    return f"({text})"


def _ctx(module: ModuleAnalysis, node: ast.AST) -> str | None:
    return module.model.context_name_at(node)


def _simple_call(call: ast.AST) -> ast.Call | None:
    if (
        isinstance(call, ast.Call)
        and not any(isinstance(a, ast.Starred) for a in call.args)
        and not any(k.arg is None for k in call.keywords)
    ):
        return call
    return None


def _argument(call: ast.Call, index: int, *names: str) -> ast.expr | None:
    if len(call.args) > index:
        return call.args[index]
    for keyword in call.keywords:
        if keyword.arg in names:
            return keyword.value
    return None


def _fix(kc: KnownCall, message: str, build: Callable[[FixContext], list[Edit]]) -> Fix:
    return Fix("safe" if kc.entry.safe else "unsafe", message, build)


# -- strategies ---------------------------------------------------------------------------------
def ctx_time(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    call = _simple_call(kc.node)
    ctx = _ctx(module, kc.node)
    if call is None or ctx is None or call.args or call.keywords or not can_await(call):
        return None
    if kc.qualname.endswith("_ns"):
        text = f"int((await {ctx}.time()) * 1_000_000_000)"
    else:
        text = f"await {ctx}.time()"
    return _fix(kc, f"Replace with `{text}`", lambda fx: [fx.replace(call, _paren(text, call, fx))])


def ctx_datetime(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    call = _simple_call(kc.node)
    ctx = _ctx(module, kc.node)
    if call is None or ctx is None or not can_await(call):
        return None
    if not isinstance(call.func, ast.Attribute):
        return None
    method = kc.qualname.rsplit(".", 1)[-1]
    tz = _argument(call, 0, "tz")
    if len(call.args) + len(call.keywords) > (1 if method == "now" else 0):
        return None
    receiver = call.func.value

    def build(fx: FixContext) -> list[Edit]:
        owner = fx.text(receiver)
        stamp = f"await {ctx}.time()"
        edits: list[Edit] = []
        if method == "utcnow":
            timezone, edits = fx.import_name("datetime", "timezone")
            text = f"{owner}.fromtimestamp({stamp}, {timezone}.utc).replace(tzinfo=None)"
        elif tz is not None:
            text = f"{owner}.fromtimestamp({stamp}, {fx.text(tz)})"
        else:
            text = f"{owner}.fromtimestamp({stamp})"
        return [*edits, fx.replace(call, text)]

    return _fix(kc, f"Build it from `await {ctx}.time()` with `fromtimestamp`", build)


def ctx_random_method(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    call = kc.node
    ctx = _ctx(module, call)
    if not isinstance(call, ast.Call) or ctx is None:
        return None
    method = kc.qualname.rsplit(".", 1)[-1]
    text = f"{ctx}.random().{method}"
    return _fix(kc, f"Use `{text}(...)`", lambda fx: [fx.replace(call.func, text)])


def ctx_random(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    call = kc.node
    ctx = _ctx(module, call)
    if not isinstance(call, ast.Call) or ctx is None or call.args or call.keywords:
        return None
    text = f"{ctx}.random()"
    return _fix(kc, f"Use `{text}`", lambda fx: [fx.replace(call, text)])


_SECRETS: dict[str, tuple[str, str | None]] = {
    # name: (template with {r} = ctx.random() and {a} = the argument, default argument)
    "token_bytes": ("{r}.randbytes({a})", "32"),
    "token_hex": ("{r}.randbytes({a}).hex()", "32"),
    "token_urlsafe": ("{b64}({r}.randbytes({a})).rstrip(b\"=\").decode(\"ascii\")", "32"),
    "urandom": ("{r}.randbytes({a})", None),
    "getrandom": ("{r}.randbytes({a})", None),
    "choice": ("{r}.choice({a})", None),
    "randbelow": ("{r}.randrange({a})", None),
    "randbits": ("{r}.getrandbits({a})", None),
}


def ctx_secrets(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    call = _simple_call(kc.node)
    ctx = _ctx(module, kc.node)
    name = kc.qualname.rsplit(".", 1)[-1]
    if call is None or ctx is None or name not in _SECRETS:
        return None
    template, default = _SECRETS[name]
    if len(call.args) + len(call.keywords) > 1:
        return None
    argument = _argument(call, 0, "nbytes", "n", "k", "seq", "exclusive_upper_bound", "size")
    if argument is None and default is None:
        return None
    if argument is not None and isinstance(argument, ast.Constant) and argument.value is None:
        argument = None
        if default is None:
            return None

    def build(fx: FixContext) -> list[Edit]:
        edits: list[Edit] = []
        b64 = ""
        if "{b64}" in template:
            b64, edits = fx.import_name("base64", "urlsafe_b64encode")
        text = template.format(
            r=f"{ctx}.random()", a=fx.text(argument) if argument else default, b64=b64
        )
        return [*edits, fx.replace(call, text)]

    return _fix(
        kc, f"Derive it from `{ctx}.random()` (deterministic, NOT cryptographically secure)", build
    )


def ctx_uuid(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    call = kc.node
    ctx = _ctx(module, call)
    if not isinstance(call, ast.Call) or ctx is None or call.args or call.keywords:
        return None
    text = f"{ctx}.uuid()"
    return _fix(kc, f"Use `{text}`", lambda fx: [fx.replace(call, text)])


def ctx_sleep(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    call = _simple_call(kc.node)
    ctx = _ctx(module, kc.node)
    if call is None or ctx is None or not can_await(call):
        return None
    if len(call.args) + len(call.keywords) != 1:
        return None
    delay = _argument(call, 0, "secs", "seconds", "delay")
    if delay is None:
        return None
    up = parent(call)
    if kc.entry.is_async:
        target: ast.AST = call  # `await asyncio.sleep(n)`: keep the await, swap the call
        if not isinstance(up, ast.Await):
            return None
        prefix = ""
    else:
        target, prefix = call, "await "  # `time.sleep(n)` as a statement
        if not isinstance(up, ast.Expr):
            return None

    def build(fx: FixContext) -> list[Edit]:
        timedelta, edits = fx.import_name("datetime", "timedelta")
        text = f"{prefix}{ctx}.sleep({timedelta}(seconds={fx.text(delay)}))"
        return [*edits, fx.replace(target, text)]

    return _fix(kc, f"Use the durable timer `await {ctx}.sleep(timedelta(...))`", build)


def journal(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    """Wrap the side effect into ``await ctx.run_typed(name, ...)``."""
    call = _simple_call(kc.node) if isinstance(kc.node, ast.Call) else None
    ctx = _ctx(module, kc.node)
    if call is None or ctx is None or not can_await(call):
        return None
    up = parent(call)
    if isinstance(up, (ast.withitem, ast.comprehension)) or isinstance(
        parent(up) if up else None, ast.withitem
    ):
        return None
    name = " ".join(module.text(call.func).split())
    if isinstance(up, ast.Await):
        return _journal_async(module, kc, call, up, ctx, name)
    if kc.entry.is_async:
        return None  # an un-awaited coroutine: where it is awaited is not ours to guess
    target: ast.AST = call  # extend to the chain using the result: `get(url).json()`
    while is_primary_operand(target):
        target = parent(target)  # type: ignore[assignment]
    if isinstance(parent(target), ast.Await):
        return None

    def build(fx: FixContext) -> list[Edit]:
        text = f"await {ctx}.run_typed({fx.string(name)}, lambda: {fx.text(target)})"
        return [fx.replace(target, _paren(text, target, fx))]

    return _fix(kc, f"Wrap in a journaled action `await {ctx}.run_typed(...)`", build)


def _journal_async(
    module: ModuleAnalysis, kc: KnownCall, call: ast.Call, awaited: ast.Await, ctx: str, name: str
) -> Fix | None:
    if any(k.arg == "options" for k in call.keywords):
        return None

    def build(fx: FixContext) -> list[Edit]:
        edits: list[Edit] = []
        pieces = [fx.string(name), fx.text(call.func)]
        if call.args:
            options, edits = fx.import_name("restate", "RunOptions")
            pieces.append(f"{options}()")
        pieces.extend(fx.text(a) for a in call.args)
        pieces.extend(fx.text(k) for k in call.keywords)
        text = f"await {ctx}.run_typed({', '.join(pieces)})"
        return [*edits, fx.replace(awaited, _paren(text, awaited, fx))]

    return _fix(
        kc, f"Run it as a journaled async action `await {ctx}.run_typed(...)`", build
    )


def restate_combinator(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    call = kc.node
    if not isinstance(call, ast.Call) or call.keywords:
        return None
    method = kc.qualname.rsplit(".", 1)[-1]
    combinators = module.kb.framework.combinators
    if method != "gather" or "gather" not in combinators:
        return None
    awaited = parent(call)
    if not isinstance(awaited, ast.Await):
        return None
    package, _, attribute = combinators["gather"].rpartition(".")

    def build(fx: FixContext) -> list[Edit]:
        gather, edits = fx.import_name(package, attribute)
        args = ", ".join(fx.text(a) for a in call.args)
        text = f"[await f for f in await {gather}({args})]"
        if any(isinstance(a, ast.Name) and a.id == "f" for a in ast.walk(call)):
            raise FixUnavailable("`f` is used in the arguments")
        return [*edits, fx.replace(awaited, text)]

    return _fix(kc, "Use `restate.gather` and await each completed future", build)


STRATEGIES: dict[str, Strategy] = {
    "ctx-time": ctx_time,
    "ctx-datetime": ctx_datetime,
    "ctx-random": ctx_random,
    "ctx-random-method": ctx_random_method,
    "ctx-secrets": ctx_secrets,
    "ctx-uuid": ctx_uuid,
    "ctx-sleep": ctx_sleep,
    "journal": journal,
    "restate-combinator": restate_combinator,
}


def plan_fix(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    strategy = STRATEGIES.get(kc.entry.fix or "")
    return strategy(module, kc) if strategy is not None else None
