"""Fix strategies named by the knowledge base (``fix = "ctx-time"`` ...).

Each strategy decides from the ``ast`` alone whether a fix is possible here (the context is
in scope, an ``await`` is allowed, the call has a shape it can rewrite) and returns a lazy
``Fix`` whose edits are built only when a fix is applied or shown.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from ..analysis import ModuleAnalysis
from ..diagnostics import Edit, Fix, FixUnavailable
from ..fixes.context import FixContext
from ..scopes import can_await, is_primary_operand, parent, scope_of
from .handler_calls import KnownCall

Strategy = Callable[[ModuleAnalysis, KnownCall], "Fix | None"]


# -- where a rewrite is possible ---------------------------------------------------------------
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


# Accessors whose value the default (JSON) serde can journal: a fix journals these, never the
# raw response/cursor object, which would fail to serialise after the side effect happened.
_SERIALIZABLE_TAILS = frozenset(
    {"json", "text", "status_code", "ok", "is_success", "is_error", "reason", "reason_phrase",
     "rowcount", "lastrowid"}
)
_SIMPLE_STATEMENTS = (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return)


def journal(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    """Move the side effect into a journaled action whose result can be journaled.

    - result discarded (`await client.post(...)` as a statement): a nested function that
      returns None is journaled;
    - result used through a serializable accessor (`requests.get(url).json()`,
      `(await c.get(url)).status_code`): that value is journaled;
    - anything else (the raw response, cursor, ...) gets no fix: journaling it would fail to
      serialise *after* the request was sent, and Restate would retry it.
    """
    call = _simple_call(kc.node) if isinstance(kc.node, ast.Call) else None
    ctx = _ctx(module, kc.node)
    if call is None or ctx is None or not can_await(call):
        return None
    up = parent(call)
    awaited = isinstance(up, ast.Await)
    if not awaited and kc.entry.is_async:
        return None  # an un-awaited coroutine: where it is awaited is not ours to guess
    produced: ast.AST = up if awaited else call  # type: ignore[assignment]
    statement = parent(produced)
    name = _action_name(module.text(call.func))
    if isinstance(statement, ast.Expr):
        return _journal_discarded(module, kc, statement, produced, awaited, ctx, name)
    target = _serializable_chain(produced)
    if target is None:
        return None
    if not awaited and not _contains_await(target):
        def build(fx: FixContext) -> list[Edit]:
            text = f"await {ctx}.run_typed({fx.string(name)}, lambda: {fx.text(target)})"
            return [fx.replace(target, _paren(text, target, fx))]

        return _fix(kc, f"Wrap in a journaled action `await {ctx}.run_typed(...)`", build)
    enclosing = _enclosing_statement(target)
    if enclosing is None:
        return None
    function = _fresh_name(module, enclosing, name)

    def build_async(fx: FixContext) -> list[Edit]:
        indent = _statement_indent(fx, enclosing)
        body = _indented(fx, target, indent + "    ")
        definition = f"async def {function}():{fx.source.newline}{indent}    return {body}"
        run = f"await {ctx}.run_typed({fx.string(name)}, {function})"
        return [
            fx.insert_before(enclosing, f"{definition}{fx.source.newline}{indent}"),
            fx.replace(target, _paren(run, target, fx)),
        ]

    return _fix(kc, f"Move it into a journaled async action `await {ctx}.run_typed(...)`",
                build_async)


def _journal_discarded(
    module: ModuleAnalysis,
    kc: KnownCall,
    statement: ast.Expr,
    produced: ast.AST,
    awaited: bool,
    ctx: str,
    name: str,
) -> Fix | None:
    if _enclosing_statement(statement) is not statement:
        return None
    function = _fresh_name(module, statement, name)

    def build(fx: FixContext) -> list[Edit]:
        indent = _statement_indent(fx, statement)
        newline = fx.source.newline
        body = _indented(fx, produced, indent + "    ")
        keyword = "async def" if awaited else "def"
        text = (
            f"{keyword} {function}() -> None:{newline}{indent}    {body}{newline}"
            f"{indent}await {ctx}.run_typed({fx.string(name)}, {function})"
        )
        return [fx.replace(statement, text)]

    return _fix(kc, f"Move it into a journaled action `await {ctx}.run_typed(...)`", build)


def _serializable_chain(node: ast.AST) -> ast.AST | None:
    """The outermost expression built on ``node`` if it goes through a serializable accessor."""
    current, found = node, False
    while is_primary_operand(current):
        up = parent(current)
        if isinstance(up, ast.Attribute) and up.attr in _SERIALIZABLE_TAILS:
            found = True
        current = up  # type: ignore[assignment]
    return current if found else None


def _contains_await(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Await) for n in ast.walk(node))


def _enclosing_statement(node: ast.AST) -> ast.stmt | None:
    """The simple statement holding ``node``, if it starts its own line (room for a def)."""
    current: ast.AST | None = node
    while current is not None and not isinstance(current, ast.stmt):
        current = parent(current)
    if not isinstance(current, _SIMPLE_STATEMENTS):
        return None
    return current


def _statement_indent(fx: FixContext, statement: ast.stmt) -> str:
    line, col, _, _ = fx.span(statement)
    prefix = fx.source.line(line)[:col]
    if prefix.strip():
        raise FixUnavailable("the statement does not start its line")
    return prefix


def _indented(fx: FixContext, node: ast.AST, indent: str) -> str:
    """The node's text with continuation lines moved into the new function body."""
    text = fx.text(node)
    if "\n" not in text and "\r" not in text:
        return text
    import io
    import tokenize

    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text
    if any(t.type == tokenize.STRING and t.start[0] != t.end[0] for t in tokens):
        return text  # a multi-line string: its content must not change
    lines = text.splitlines(keepends=True)
    return lines[0] + "".join("    " + line if line.strip() else line for line in lines[1:])


def _action_name(callee: str) -> str:
    """A readable action name from the callee's text: `Path("/tmp").touch` -> `Path.touch`."""
    text = " ".join(callee.split())
    previous = None
    while previous != text:
        previous = text
        text = re.sub(r"\([^()]*\)|\[[^\[\]]*\]", "", text)
    return text or callee


def _fresh_name(module: ModuleAnalysis, statement: ast.AST, name: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", name)
    base = "_" + "_".join(words).lower() if words else "_action"
    scope = scope_of(statement)
    taken = set(scope.bindings) | set(module.scope.bindings)
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


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
