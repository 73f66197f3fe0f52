"""What the IDL1xx rules share: the rule base that reports known calls, the typed view of
``[tables.nondeterminism]``, the fix strategies named by the knowledge base, and the
``journal`` strategy that three rules (IDL104–IDL106) use.

Every rule reads the same list of known calls in handler code (``idemlint.calls``, computed
once per module), keeps those whose knowledge-base entry carries its code, and plans the fix
the entry names (``fix = "ctx-time"`` ...). A strategy decides from the ``ast`` alone whether
a fix is possible here and returns a lazy ``Fix`` whose edits are built only when needed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, ClassVar

from ...analysis import ModuleAnalysis
from ...calls import KnownCall, known_calls
from ...diagnostics import Edit, Finding, Fix
from ...fixes.context import FixContext
from ...fixes.text import fresh_name, indented_text, parenthesized, statement_indent
from ...knowledge import CONDITIONS, ApiEntry, Framework, KnowledgeError
from ...patterns import PatternError, PatternTable
from ...registry import Rule
from ...scopes import can_await, is_primary_operand, parent, scope_of
from ...syntax import contains_await, enclosing_simple_statement, plain_call

# -- [tables.nondeterminism] ------------------------------------------------------------------
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class SecretsRewrite:
    """How ``ctx-secrets`` rewrites one function: ``template`` over ``{r}`` (the context's
    generator), ``{a}`` (the argument, else ``default``) and ``{b64}``."""

    template: str
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Tables:
    """The framework's ``[tables.nondeterminism]``: context methods the fixes call, what a
    fix may journal, the replacement a message names by rule code."""

    clock_method: str
    random_method: str
    uuid_method: str
    sleep_method: str
    action_method: str
    serializable_accessors: frozenset[str]
    use: Mapping[str, str]
    secrets: Mapping[str, SecretsRewrite]
    # This framework's own replacements (see rules/README.md, "Per-framework replacements"):
    # by rule code (replacing the category files' `use`/`fix`/`safe`/`note` wholesale), by
    # API pattern (field by field on top), and the APIs that are fine in its durable code.
    codes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    apis: PatternTable[Mapping[str, Any]] | None = None
    fine: PatternTable[bool] | None = None
    # The module whose functions the `module-call` fixes call (`{wf}` in a template).
    module: str = ""
    # Entry-point roles whose code is read-only (replacements with `in_read_only = false` are
    # not offered there).
    read_only_roles: frozenset[str] = frozenset()

    @classmethod
    def of(cls, framework: Framework) -> Tables:
        raw = framework.table("nondeterminism")
        where = f"frameworks/{framework.name}.toml: tables.nondeterminism"
        apis: PatternTable[Mapping[str, Any]] = PatternTable()
        fine: PatternTable[bool] = PatternTable()
        try:
            for pattern, spec in raw.get("apis", {}).items():
                apis.add(pattern, _replacement(spec, f"{where}.apis.{pattern!r}"))
            for pattern in raw.get("fine", ()):
                fine.add(pattern, True)
        except PatternError as exc:
            raise KnowledgeError(f"{where}: {exc}") from None
        codes = {
            code: _replacement(spec, f"{where}.codes.{code}")
            for code, spec in raw.get("codes", {}).items()
        }
        return cls(
            codes=codes,
            apis=apis,
            fine=fine,
            module=raw.get("module", ""),
            read_only_roles=frozenset(raw.get("read_only_roles", ())),
            clock_method=raw.get("clock_method", ""),
            random_method=raw.get("random_method", ""),
            uuid_method=raw.get("uuid_method", ""),
            sleep_method=raw.get("sleep_method", ""),
            action_method=raw.get("action_method", ""),
            serializable_accessors=frozenset(raw.get("serializable_accessors", ())),
            use=dict(raw.get("use", {})),
            secrets={
                name: SecretsRewrite(spec["template"], spec.get("default"))
                for name, spec in raw.get("secrets", {}).items()
            },
        )


_REPLACEMENT_FIELDS = {
    "use": str, "fix": str, "safe": bool, "note": str, "template": str, "arity": int,
    "when": str,  # read by idemlint.calls: this framework's condition ("" = always)
    "what": str,  # (by code) this framework's wording of what the call does
    "consequence": str,  # (by code) ... and of what goes wrong on replay (the detail)
    "in_read_only": bool,  # false: the replacement raises in the profile's `read_only_roles`
}


def _replacement(spec: Any, where: str) -> Mapping[str, Any]:
    """A validated replacement table: known fields of the right type, a known fix strategy."""
    if not isinstance(spec, dict):
        raise KnowledgeError(f"{where}: expected a table")
    for key, value in spec.items():
        kind = _REPLACEMENT_FIELDS.get(key)
        if kind is None:
            raise KnowledgeError(f"{where}: unknown field {key!r}")
        if not isinstance(value, kind):
            raise KnowledgeError(f"{where}: `{key}` must be a {kind.__name__}")
    if spec.get("when") and spec["when"] not in CONDITIONS:
        raise KnowledgeError(f"{where}: unknown condition {spec['when']!r}")
    if spec.get("fix") and spec["fix"] not in STRATEGIES:
        raise KnowledgeError(f"{where}: unknown fix strategy {spec['fix']!r}")
    return spec


def framework_of(module: ModuleAnalysis, kc: KnownCall) -> Framework:
    """The framework whose durable code holds ``kc`` (else the default one)."""
    handler = kc.unit.handler
    return (
        kc.unit.framework
        or (handler.framework if handler is not None else None)
        or module.kb.framework
    )


def tables(module: ModuleAnalysis, kc: KnownCall) -> Tables:
    """The tables of the framework whose durable code holds ``kc`` (else the default one)."""
    return framework_of(module, kc).view(Tables.of)


def for_framework(module: ModuleAnalysis, kc: KnownCall) -> KnownCall | None:
    """``kc`` as the framework of its durable code sees it: None if the API is fine there,
    else with the framework's replacement (`use`, fix, safety, note) in its entry."""
    view = tables(module, kc)
    if view.fine is not None and view.fine.get(kc.qualname):
        return None
    by_code = view.codes.get(kc.entry.code)
    by_api = view.apis.get(kc.qualname) if view.apis is not None else None
    if by_code is None and by_api is None:
        return kc
    entry: ApiEntry = kc.entry
    if by_code is not None:
        entry = replace(entry, use=None, fix=None, safe=False, note=None)
    for spec in (by_code or _EMPTY, by_api or _EMPTY):
        use = spec.get("use", entry.use)
        entry = replace(
            entry,
            use=use.replace("{name}", kc.method) if use else None,
            fix=spec.get("fix", entry.fix) or None,
            safe=spec.get("safe", entry.safe),
            note=spec.get("note", entry.note) or None,
        )
    return replace(kc, entry=entry)


# -- fix strategies ---------------------------------------------------------------------------
Strategy = Callable[[ModuleAnalysis, KnownCall], "Fix | None"]

# Filled by the rule modules (``@fix_strategy("ctx-time")``); the knowledge base names them.
STRATEGIES: dict[str, Strategy] = {}


def fix_strategy(name: str) -> Callable[[Strategy], Strategy]:
    def add(strategy: Strategy) -> Strategy:
        STRATEGIES[name] = strategy
        return strategy

    return add


def plan_fix(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    strategy = STRATEGIES.get(kc.entry.fix or "")
    return strategy(module, kc) if strategy is not None else None


def make_fix(kc: KnownCall, message: str, build: Callable[[FixContext], list[Edit]]) -> Fix:
    """A fix as safe as the knowledge-base entry says."""
    return Fix("safe" if kc.entry.safe else "unsafe", message, build)


def readable_call(node: ast.AST) -> ast.Call | None:
    """``node`` if it is a call whose arguments can all be seen (no ``*args``/``**kwargs``)."""
    return node if isinstance(node, ast.Call) and plain_call(node) else None


def context_name(module: ModuleAnalysis, node: ast.AST) -> str | None:
    """The name holding the context where ``node`` is evaluated (a fix needs one)."""
    return module.model.context_name_at(node)


# -- the rule base ----------------------------------------------------------------------------
# A message names the entry's own replacement when it is at most this long, else the rule's.
_SHORT_USE = 40


class KnownCallRule(Rule):
    """Reports handler-code calls whose knowledge-base entry has this rule's code."""

    what: ClassVar[str]  # e.g. "reads the wall clock"
    consequence: ClassVar[str]  # what goes wrong on replay (detail)

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for found in known_calls(module):
            if found.entry.code != self.code:
                continue
            if framework_of(module, found).name not in self.frameworks:
                continue  # the rule does not apply to this framework's durable code
            kc = for_framework(module, found)
            if kc is None:
                continue
            message, detail = self.describe(module, kc)
            yield module.finding(
                self, kc.node, message, fix=plan_fix(module, kc), detail=detail
            )

    def describe(self, module: ModuleAnalysis, kc: KnownCall) -> tuple[str, str]:
        """One line naming the call and its replacement; the why and the call chain apart."""
        node = kc.node
        if isinstance(node, ast.Call):
            spelled = " ".join(module.text(node.func).split())
            shown = f"`{spelled}()`"
        else:
            spelled = " ".join(module.text(node).split())
            shown = f"`{spelled}`"
        named = ""  # what the call is, when its spelling differs
        if kc.qualname != spelled and not kc.qualname.startswith("builtins."):
            if "." not in spelled:  # a bare name (`now()`) says nothing of what it calls
                shown += f" (`{kc.qualname}`)"
            elif isinstance(node, ast.Call):
                named = f"{shown} is `{kc.qualname}()`."
        ctx = context_name(module, node) or "ctx"
        exact = (kc.entry.use or "").replace("{ctx}", ctx)
        use = exact
        if not exact or len(exact) > _SHORT_USE:
            use = tables(module, kc).use.get(self.code, "").replace("{ctx}", ctx)
        wording = tables(module, kc).codes.get(self.code, _EMPTY)
        what = wording.get("what", self.what)
        message = f"{shown} {what}" + (f"; use `{use}`" if use else "")
        consequence = wording.get("consequence", self.consequence)
        detail = [named, f"In handler code, {consequence}."]
        if exact and exact != use:
            detail.append(f"Replace it with `{exact}`.")
        if kc.entry.note:
            detail.append(f"Note: {kc.entry.note}.")
        detail.append(_reached(module, kc))
        return message, " ".join(part for part in detail if part)


def _reached(module: ModuleAnalysis, kc: KnownCall) -> str:
    """How a helper's code is handler code: the call chain from the handler."""
    unit = kc.unit
    if unit.reason != "called" or not unit.via:
        return ""
    handler = unit.handler
    chain = " -> ".join(f"`{module.text(call.func)}()` (line {call.lineno})" for call in unit.via)
    origin = f"handler `{handler.name}`" if handler else "a function receiving the context"
    return f"This code is reached from {origin} via {chain}."


# -- the `journal` strategy (IDL104, IDL105, IDL106) ------------------------------------------
@fix_strategy("journal")
def journal(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    """Move the side effect into a journaled action whose result can be journaled.

    - result discarded (`await client.post(...)` as a statement): a nested function that
      returns None is journaled;
    - result used through a serializable accessor (`requests.get(url).json()`,
      `(await c.get(url)).status_code`): that value is journaled;
    - anything else (the raw response, cursor, ...) gets no fix: journaling it would fail to
      serialise *after* the request was sent, and the action would be retried.
    """
    call = readable_call(kc.node)
    ctx = context_name(module, kc.node)
    run = tables(module, kc).action_method
    if call is None or ctx is None or not run or not can_await(call):
        return None
    up = parent(call)
    awaited = isinstance(up, ast.Await)
    if not awaited and kc.entry.is_async:
        return None  # an un-awaited coroutine: where it is awaited is not ours to guess
    produced: ast.AST = up if awaited else call  # type: ignore[assignment]
    statement = parent(produced)
    name = _action_name(module.text(call.func))
    if isinstance(statement, ast.Expr):
        return _journal_discarded(module, kc, statement, produced, awaited, f"{ctx}.{run}", name)
    target = _serializable_chain(produced, tables(module, kc).serializable_accessors)
    if target is None:
        return None
    if not awaited and not contains_await(target):
        def build(fx: FixContext) -> list[Edit]:
            text = f"await {ctx}.{run}({fx.string(name)}, lambda: {fx.text(target)})"
            return [fx.replace(target, parenthesized(text, target, fx))]

        return make_fix(kc, f"Wrap in a journaled action `await {ctx}.{run}(...)`", build)
    enclosing = enclosing_simple_statement(target)
    if enclosing is None:
        return None
    function = fresh_name(name, scope_of(enclosing), module.scope)

    def build_async(fx: FixContext) -> list[Edit]:
        indent = statement_indent(fx, enclosing)
        body = indented_text(fx, target, indent + "    ")
        definition = f"async def {function}():{fx.source.newline}{indent}    return {body}"
        text = f"await {ctx}.{run}({fx.string(name)}, {function})"
        return [
            fx.insert_before(enclosing, f"{definition}{fx.source.newline}{indent}"),
            fx.replace(target, parenthesized(text, target, fx)),
        ]

    return make_fix(
        kc, f"Move it into a journaled async action `await {ctx}.{run}(...)`", build_async
    )


def _journal_discarded(
    module: ModuleAnalysis,
    kc: KnownCall,
    statement: ast.Expr,
    produced: ast.AST,
    awaited: bool,
    runner: str,
    name: str,
) -> Fix | None:
    """``runner`` is the journaling call, e.g. ``ctx.run_typed``."""
    if enclosing_simple_statement(statement) is not statement:
        return None
    function = fresh_name(name, scope_of(statement), module.scope)

    def build(fx: FixContext) -> list[Edit]:
        indent = statement_indent(fx, statement)
        newline = fx.source.newline
        body = indented_text(fx, produced, indent + "    ")
        keyword = "async def" if awaited else "def"
        text = (
            f"{keyword} {function}() -> None:{newline}{indent}    {body}{newline}"
            f"{indent}await {runner}({fx.string(name)}, {function})"
        )
        return [fx.replace(statement, text)]

    return make_fix(kc, f"Move it into a journaled action `await {runner}(...)`", build)


def _serializable_chain(node: ast.AST, accessors: frozenset[str]) -> ast.AST | None:
    """The outermost expression built on ``node`` if it goes through a serializable accessor."""
    current, found = node, False
    while is_primary_operand(current):
        up = parent(current)
        if isinstance(up, ast.Attribute) and up.attr in accessors:
            found = True
        current = up  # type: ignore[assignment]
    return current if found else None


def _action_name(callee: str) -> str:
    """A readable action name from the callee's text: `Path("/tmp").touch` -> `Path.touch`."""
    text = " ".join(callee.split())
    previous = None
    while previous != text:
        previous = text
        text = re.sub(r"\([^()]*\)|\[[^\[\]]*\]", "", text)
    return text or callee


# -- the `module-call` strategy (frameworks whose durable API is a module: Temporal) ----------
def module_spelling(fx: FixContext, dotted: str) -> tuple[str, list[Edit]]:
    """How to spell the module ``dotted`` here (an existing import, aliased or not, is
    reused), and the edits that import it when the file does not yet."""
    parent_module, _, name = dotted.rpartition(".")
    return fx.import_name(parent_module, name) if parent_module else (dotted, [])


def arguments_text(fx: FixContext, call: ast.Call) -> str:
    """The call's arguments as written (`1, 10`, `k=3`)."""
    parts = [fx.text(arg) for arg in call.args]
    parts += [f"{kw.arg}={fx.text(kw.value)}" for kw in call.keywords]
    return ", ".join(parts)


@fix_strategy("module-call")
def module_call(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    """Rewrite the call from the framework's ``template``: ``{wf}`` is the framework module
    (``module`` of the table) as this file spells it, ``{args}`` the call's arguments,
    ``{name}`` the called function's own name (`randint` of `random.randint`). With
    ``arity = N`` the call must pass exactly N positional arguments and no keyword."""
    view = tables(module, kc)
    spec = view.apis.get(kc.qualname) if view.apis is not None else None
    call = readable_call(kc.node)
    if spec is None or call is None or not view.module or "template" not in spec:
        return None
    template: str = spec["template"]
    arity = spec.get("arity")
    if arity is not None and (len(call.args) != arity or call.keywords):
        return None
    if "await" in template and not can_await(call):
        return None
    handler = kc.unit.handler
    if not spec.get("in_read_only", True) and handler and handler.role in view.read_only_roles:
        return None  # e.g. a query: the replacement itself would raise there
    shown = (
        template.replace("{wf}", view.module.rpartition(".")[2])
        .replace("{name}", kc.method)
        .replace("{args}", "..." if call.args or call.keywords else "")
    )

    def build(fx: FixContext) -> list[Edit]:
        spelled, edits = module_spelling(fx, view.module)
        text = (
            template.replace("{wf}", spelled)
            .replace("{name}", kc.method)
            .replace("{args}", arguments_text(fx, call))
        )
        # a primary expression (`wf.random().randint(1, 6)`) needs no parentheses; `await x` may
        primary = not template.startswith("await")
        return [*edits, fx.replace(call, text if primary else parenthesized(text, call, fx))]

    return make_fix(kc, f"Replace with `{shown}`", build)
