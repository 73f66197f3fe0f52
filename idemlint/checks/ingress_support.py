"""Shared analysis for the idempotency-key rules (IDL301-302, IDL401-404).

- where an SDK call takes its ``idempotency_key`` / ``headers`` / object key (positions read
  from ``restate/context.py``, ``restate/client_types.py``);
- where an ingress client or HTTP session comes from (``restate.create_client``, the test
  harness, ``httpx``/``requests``/``aiohttp`` constructors) and its base URL and default
  headers;
- what a URL expression renders to (literals, f-strings, ``+``, ``%``, ``str.format``,
  ``urljoin``, ``"/".join``, ``yarl.URL / ...``, ``os.environ[...]``, ``os.getenv(...)``,
  module constants) and whether it is a Restate ingress invocation path;
- what a headers expression holds (dict literals, dict variables built in the function,
  ``headers[...] = ...``, ``.update(...)``, merges, lists of pairs);
- which values are regenerated on every call (clock/random/uuid entries of the knowledge base);
- which stable identifier is in scope for a fix, and small text edits on calls and dicts.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from ..analysis import ModuleAnalysis
from ..diagnostics import Edit, FixUnavailable
from ..fixes.context import FixContext
from ..model import Handler
from ..scopes import (
    FUNCTION_NODES,
    Binding,
    FunctionNode,
    Kind,
    Scope,
    children,
    lookup,
    parent,
    scope_of,
)
from ..source import SourceFile

# -- SDK call signatures -------------------------------------------------------------------------
# Positional index of `idempotency_key` (the next one is `headers`). Context and RestateClient
# share signatures; their scoped variants (`ctx.scope(s)`, `client.scope(s)`) insert `limit_key`
# before it and have no generic_* methods.
KEY_INDEX = {
    "service_call": 2, "service_send": 3, "object_call": 3, "object_send": 4,
    "workflow_call": 3, "workflow_send": 4, "generic_call": 4, "generic_send": 5,
}
SCOPED_KEY_INDEX = {
    "service_call": 3, "service_send": 4, "object_call": 4, "object_send": 5,
    "workflow_call": 4, "workflow_send": 5,
}
# Positional index of the object/workflow key (`key=`).
OBJECT_KEY_INDEX = {
    "object_call": 1, "object_send": 1, "workflow_call": 1, "workflow_send": 1,
    "generic_call": 3, "generic_send": 3,
}
EXPLICIT_RECOVERY = "restate._preview.explicit_recovery"
SDK_CLIENT_TYPES = frozenset({
    "restate.RestateClient", "restate.client_types.RestateClient", "restate.client.Client",
})
SCOPED_CLIENT_TYPES = frozenset({
    "restate.RestateScopedClient", "restate.client_types.RestateScopedClient",
})
HARNESS_TYPES = frozenset({
    "restate.HarnessEnvironment", "restate.types.HarnessEnvironment",
    "restate.harness.RestateTestHarness",
})
HTTP_CLIENTS = {
    "httpx.Client": "httpx", "httpx.AsyncClient": "httpx",
    "requests.Session": "requests", "requests.session": "requests",
    "aiohttp.ClientSession": "aiohttp",
}
NONDET_CODES = frozenset({"IDL101", "IDL102", "IDL103"})


def argument(call: ast.Call, index: int | None, *names: str) -> ast.expr | None:
    """The argument at a position (if no ``*args`` comes before it) or given by keyword."""
    for keyword in call.keywords:
        if keyword.arg in names:
            return keyword.value
    if (
        index is not None
        and index < len(call.args)
        and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1])
    ):
        return call.args[index]
    return None


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw
    return None


def has_unpacking(call: ast.Call) -> bool:
    return any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    )


def is_none(expr: ast.AST | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def string_value(expr: ast.AST | None) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return None


# -- functions and bindings ----------------------------------------------------------------------

def walk_function(func: FunctionNode) -> Iterator[ast.AST]:
    """Every node of a function body, nested functions included."""
    body: list[ast.AST] = [func.body] if isinstance(func, ast.Lambda) else list(func.body)
    for stmt in body:
        yield from ast.walk(stmt)



def uses_of(module: ModuleAnalysis, binding: Binding, within: ast.AST) -> list[ast.Name]:
    """Loads of the name that resolve to ``binding`` inside ``within``."""
    out = []
    for node in ast.walk(within):
        if (
            isinstance(node, ast.Name)
            and node.id == binding.name
            and isinstance(node.ctx, ast.Load)
            and module.resolver.binding(node) is binding
        ):
            out.append(node)
    return out


def inside(node: ast.AST, container: ast.AST) -> bool:
    current: ast.AST | None = node
    while current is not None:
        if current is container:
            return True
        current = parent(current)
    return False


def before(a: ast.AST, b: ast.AST) -> bool:
    return (getattr(a, "lineno", 0), getattr(a, "col_offset", 0)) < (
        getattr(b, "lineno", 0), getattr(b, "col_offset", 0)
    )


def unwrap_str(expr: ast.expr) -> ast.expr:
    """``str(x)`` -> ``x`` (keys are often wrapped)."""
    while (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "str"
        and len(expr.args) == 1
        and not expr.keywords
    ):
        expr = expr.args[0]
    return expr


# -- values regenerated on every evaluation ------------------------------------------------------
@dataclass(frozen=True)
class Fresh:
    """A value that differs on every evaluation: a clock/random/uuid read."""

    node: ast.Call
    spelled: str
    context: bool  # ctx.uuid()/ctx.random(): deterministic per invocation, not across them
    via: Binding | None = None  # the variable it reached the key through


_GRANULAR_FORMATS = re.compile(r"%[HIMSfsTXcpzZ]")


def _date_granular(call: ast.Call, qualname: str) -> bool:
    """A clock read reduced to a day (``date.today()``, ``now().date()``, ``strftime("%Y-%m-%d")``)."""
    if qualname == "datetime.date.today":
        return True
    up = parent(call)
    if isinstance(up, ast.Attribute) and up.value is call:
        outer = parent(up)
        if up.attr == "date" and isinstance(outer, ast.Call):
            return True
        if up.attr == "strftime" and isinstance(outer, ast.Call) and outer.args:
            fmt = string_value(outer.args[0])
            return fmt is not None and not _GRANULAR_FORMATS.search(fmt)
    return False


def fresh_values(
    module: ModuleAnalysis, expr: ast.AST, follow: bool = True, depth: int = 0
) -> list[Fresh]:
    """Clock/random/uuid reads the value of ``expr`` is computed from.

    Names bound by an assignment inside a function are followed (``key = uuid4()``);
    journaled actions (``await ctx.run_typed(...)``) stop the search: their result is recorded.
    """
    out: list[Fresh] = []
    if depth > 4:
        return out
    model = module.model
    stack: list[ast.AST] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (*FUNCTION_NODES, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call):
            if model.action_call(node) is not None:
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("uuid", "random") \
                    and model.is_context(func.value):
                out.append(Fresh(node, module.text(node.func) + "()", True))
                continue
            qualname = module.resolver.qualname(func)
            if qualname is not None:
                entry = module.kb.lookup(qualname)
                if (
                    entry is not None
                    and entry.code in NONDET_CODES
                    and not (entry.when == "no-args" and (node.args or node.keywords))
                    and not _date_granular(node, qualname)
                ):
                    out.append(Fresh(node, " ".join(module.text(func).split()) + "()", False))
                    continue
        elif follow and isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            binding = module.resolver.binding(node)
            if (
                binding is not None
                and binding.kind is Kind.ASSIGN
                and binding.value is not None
                and binding.scope.is_function
            ):
                for found in fresh_values(module, binding.value, True, depth + 1):
                    out.append(replace(found, via=found.via or binding))
            continue
        stack.extend(children(node))
    out.sort(key=lambda f: (f.node.lineno, f.node.col_offset))
    return out


def regenerated_per_call(module: ModuleAnalysis, fresh: Fresh, call: ast.Call) -> bool:
    """Whether the fresh value is produced anew for every execution of ``call``.

    Inline: always. Through a variable: when no loop around the call leaves the assignment
    out (a key made once before a retry loop is reused by every attempt) and the variable has
    no use other than this call (stored, logged or reused elsewhere: it may be persisted).
    """
    binding = fresh.via
    if binding is None:
        return True
    func = binding.scope.node
    if not isinstance(func, FUNCTION_NODES):
        return False
    assigned = binding.node
    current: ast.AST | None = parent(call)
    while current is not None and current is not func:
        if isinstance(current, (ast.For, ast.AsyncFor, ast.While)) and not inside(
            assigned, current
        ):
            return False
        current = parent(current)
    return all(inside(use, call) for use in uses_of(module, binding, func))


# -- where clients come from ---------------------------------------------------------------------
OriginKind = Literal["sdk", "http", "harness"]


@dataclass(frozen=True)
class Origin:
    """An ingress client (``sdk``), an HTTP client/session (``http``) or a test harness."""

    kind: OriginKind
    harness: bool = False  # made by the test harness
    scoped: bool = False  # `client.scope(...)`
    ctor: ast.Call | None = None  # the constructor call, when visible
    binding: Binding | None = None  # the variable holding it (for session header updates)
    library: str = ""
    base: ast.expr | None = None  # base URL given to the constructor
    headers: ast.expr | None = None  # default headers given to the constructor


def origin(module: ModuleAnalysis, expr: ast.AST | None, depth: int = 0) -> Origin | None:
    """Where the client or session ``expr`` evaluates to was created."""
    if expr is None or depth > 10:
        return None
    resolver = module.resolver
    fw = module.kb.framework
    if isinstance(expr, ast.Await):
        return origin(module, expr.value, depth + 1)
    if isinstance(expr, ast.Name):
        binding = resolver.binding(expr)
        if binding is None:
            return None
        if binding.kind in (Kind.ASSIGN, Kind.WITH) and binding.value is not None:
            found = origin(module, binding.value, depth + 1)
            if found is not None and found.binding is None:
                found = replace(found, binding=binding)
            return found
        if binding.kind is Kind.PARAM:
            annotation = getattr(binding.node, "annotation", None)
            return _typed(resolver.annotation_type(annotation), binding)
        return None
    if isinstance(expr, ast.Attribute):
        attribute = resolver.self_attribute(expr)
        if attribute is not None:
            if attribute.value is not None:
                return origin(module, attribute.value, depth + 1)
            return None
        owner = origin(module, expr.value, depth + 1)
        if owner is not None and owner.kind == "harness" and expr.attr == "client":
            return Origin("sdk", harness=True)
        return None
    if not isinstance(expr, ast.Call):
        return None
    func = expr.func
    if isinstance(func, ast.Attribute):
        if func.attr in ("enter_async_context", "enter_context") and expr.args:
            return origin(module, expr.args[0], depth + 1)
        if func.attr in ("__aenter__", "__enter__"):
            return origin(module, func.value, depth + 1)
        if func.attr == "scope":
            owner = origin(module, func.value, depth + 1)
            if owner is not None and owner.kind == "sdk":
                return replace(owner, scoped=True, binding=None)
            return None
        if func.attr == "ingress_client":
            owner = origin(module, func.value, depth + 1)
            if owner is not None and owner.kind == "harness":
                return Origin("http", harness=True, ctor=expr, library="httpx")
            return None
    qualname = resolver.qualname(func)
    if qualname is None:
        return None
    if qualname in fw.ingress_clients:
        return Origin(
            "sdk", ctor=expr, base=argument(expr, 0, "ingress"),
            headers=argument(expr, 1, "headers"),
        )
    if qualname in fw.ingress_harnesses or qualname in HARNESS_TYPES:
        return Origin("harness", harness=True, ctor=expr)
    library = HTTP_CLIENTS.get(qualname)
    if library is not None:
        base = argument(expr, 0 if library == "aiohttp" else None, "base_url")
        headers = argument(expr, None, "headers")
        return Origin("http", ctor=expr, library=library, base=base, headers=headers)
    return None


def _typed(annotation: str | None, binding: Binding) -> Origin | None:
    if annotation is None:
        return None
    if annotation in SDK_CLIENT_TYPES:
        return Origin("sdk", binding=binding)
    if annotation in SCOPED_CLIENT_TYPES:
        return Origin("sdk", scoped=True, binding=binding)
    if annotation in HARNESS_TYPES:
        return Origin("harness", harness=True, binding=binding)
    library = HTTP_CLIENTS.get(annotation)
    if library is not None:
        return Origin("http", library=library, binding=binding)
    return None


# -- URLs --------------------------------------------------------------------------------------
UNKNOWN = "\x00"  # a value we cannot see (one path segment at most, we assume)
INGRESS = "\x01"  # the base URL of the ingress (a variable/env var named like one)
HARNESS = "\x02"  # the ingress URL of the test harness
_SENTINELS = UNKNOWN + INGRESS + HARNESS
_INGRESS_WORDS = ("INGRESS", "RUNTIME", "URL", "ENDPOINT")
_NOT_INGRESS_WORDS = ("ADMIN", "META", "DEPLOY")


def ingress_name(name: str) -> bool:
    """Names of variables, constants, settings and env vars that hold the ingress URL."""
    upper = name.upper()
    return (
        "RESTATE" in upper
        and any(w in upper for w in _INGRESS_WORDS)
        and not any(w in upper for w in _NOT_INGRESS_WORDS)
    )


def render(module: ModuleAnalysis, expr: ast.AST | None, depth: int = 0) -> str | None:
    """The text of a URL expression; unknown parts as sentinels (``None``: nothing known)."""
    if expr is None or depth > 10:
        return None
    if isinstance(expr, ast.Constant):
        if isinstance(expr.value, str):
            return "".join(c for c in expr.value if c not in _SENTINELS)
        return None
    if isinstance(expr, ast.JoinedStr):
        out = []
        for value in expr.values:
            if isinstance(value, ast.Constant):
                out.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                out.append(_part(module, value.value, depth))
        return "".join(out)
    if isinstance(expr, ast.BinOp):
        if isinstance(expr.op, ast.Add):
            left, right = render(module, expr.left, depth + 1), render(module, expr.right, depth + 1)
            if left is None and right is None:
                return None
            return (left if left is not None else UNKNOWN) + (right if right is not None else UNKNOWN)
        if isinstance(expr.op, ast.Mod):
            template = string_value(expr.left)
            if template is None:
                return None
            values = expr.right.elts if isinstance(expr.right, ast.Tuple) else [expr.right]
            return _percent(module, template, values, depth)
        if isinstance(expr.op, ast.Div) and _is_yarl(module, expr.left):
            left = render(module, expr.left, depth + 1)
            if left is None:
                return None
            return left.rstrip("/") + "/" + _part(module, expr.right, depth).lstrip("/")
        return None
    if isinstance(expr, ast.Subscript):
        if module.resolver.qualname(expr.value) == "os.environ":
            return _env(module, expr.slice, None, depth)
        return None
    if isinstance(expr, ast.Name):
        if ingress_name(expr.id):
            return INGRESS
        binding = module.resolver.binding(expr)
        if binding is None:
            return None
        if binding.kind is Kind.IMPORT:
            return INGRESS if ingress_name((binding.qualname or "").rsplit(".", 1)[-1]) else None
        if binding.kind in (Kind.ASSIGN, Kind.WITH) and binding.value is not None:
            return render(module, binding.value, depth + 1)
        if binding.kind is Kind.PARAM:  # `base_url: str = os.environ["RESTATE_INGRESS_URL"]`
            default = _param_default(binding)
            return render(module, default, depth + 1) if default is not None else None
        return None
    if isinstance(expr, ast.Attribute):
        if ingress_name(expr.attr):
            return INGRESS
        if expr.attr == "ingress_url":
            owner = origin(module, expr.value)
            if owner is not None and owner.kind == "harness":
                return HARNESS
        attribute = module.resolver.self_attribute(expr)
        if attribute is not None and attribute.value is not None:
            return render(module, attribute.value, depth + 1)
        return None
    if isinstance(expr, ast.Call):
        return _render_call(module, expr, depth)
    return None


def _param_default(binding: Binding) -> ast.expr | None:
    func = binding.scope.node
    if not isinstance(func, FUNCTION_NODES):
        return None
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    if binding.node in positional:
        index = positional.index(binding.node) - (len(positional) - len(args.defaults))
        return args.defaults[index] if index >= 0 else None
    if binding.node in args.kwonlyargs:
        return args.kw_defaults[args.kwonlyargs.index(binding.node)]
    return None


def _is_yarl(module: ModuleAnalysis, expr: ast.expr, depth: int = 0) -> bool:
    """``yarl.URL(...)``, or ``yarl.URL(...) / "a"`` (the ``/`` of a URL is a URL)."""
    if depth > 8:
        return False
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
        return _is_yarl(module, expr.left, depth + 1)
    return (module.resolver.qualname(expr) or "").startswith("yarl.URL")


def _part(module: ModuleAnalysis, expr: ast.AST, depth: int) -> str:
    text = render(module, expr, depth + 1)
    return text if text is not None else UNKNOWN


def _percent(module: ModuleAnalysis, template: str, values: list[ast.expr], depth: int) -> str:
    parts = iter(values)

    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        value = next(parts, None)
        return _part(module, value, depth) if value is not None else UNKNOWN

    return re.sub(r"%%|%[-#0 +]*\d*(?:\.\d+)?[sdrif]", sub, template)


def _format(module: ModuleAnalysis, template: str, call: ast.Call, depth: int) -> str:
    positional = iter(call.args)
    named = {k.arg: k.value for k in call.keywords if k.arg}

    def sub(match: re.Match[str]) -> str:
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        field_name = match.group(1).split("!")[0].split(":")[0]
        value: ast.expr | None
        if field_name == "":
            value = next(positional, None)
        elif field_name.isdigit():
            index = int(field_name)
            value = call.args[index] if index < len(call.args) else None
        else:
            value = named.get(field_name)
        return _part(module, value, depth) if value is not None else UNKNOWN

    return re.sub(r"\{\{|\}\}|\{([^{}]*)\}", sub, template)


def _env(module: ModuleAnalysis, name: ast.AST, default: ast.AST | None, depth: int) -> str | None:
    variable = string_value(name)
    if variable is not None and ingress_name(variable):
        return INGRESS
    if default is not None:
        return render(module, default, depth + 1)
    return UNKNOWN


def _render_call(module: ModuleAnalysis, call: ast.Call, depth: int) -> str | None:
    qualname = module.resolver.qualname(call.func) or ""
    func = call.func
    if qualname in ("os.getenv", "os.environ.get") and call.args:
        return _env(module, call.args[0], argument(call, 1, "default"), depth)
    if qualname == "urllib.parse.urljoin" and len(call.args) >= 2:
        return _urljoin(render(module, call.args[0], depth + 1), _part(module, call.args[1], depth))
    if qualname in ("builtins.str", "yarl.URL", "httpx.URL") and len(call.args) == 1:
        return render(module, call.args[0], depth + 1)
    if isinstance(func, ast.Attribute):
        receiver = string_value(func.value)
        if func.attr == "format" and receiver is not None:
            return _format(module, receiver, call, depth)
        if func.attr == "join" and receiver is not None and len(call.args) == 1 and isinstance(
            call.args[0], (ast.List, ast.Tuple)
        ):
            return receiver.join(_part(module, e, depth) for e in call.args[0].elts)
        if func.attr in ("rstrip", "strip", "removesuffix") and func.value is not None:
            inner = render(module, func.value, depth + 1)
            return inner.rstrip("/") if inner is not None else None
        if func.attr == "ingress_url":  # RestateContainer.ingress_url()
            owner = origin(module, func.value)
            if owner is not None and owner.kind == "harness":
                return HARNESS
        if func.attr == "join" and call.args and (
            module.resolver.qualname(func.value) or ""
        ).startswith(("httpx.URL", "yarl.URL")):  # httpx.URL(base).join(path)
            base = render(module, func.value, depth + 1)
            return _urljoin(base, _part(module, call.args[0], depth))
    return None


def _urljoin(base: str | None, path: str) -> str | None:
    if base is None:
        return None
    if re.match(r"^[a-z][a-z0-9+.-]*://", path):
        return path
    if path.startswith("/"):
        match = re.match(r"^([a-z][a-z0-9+.-]*://[^/]*)", base)
        if match:
            return match.group(1) + path
        return base.rstrip("/") + path  # a sentinel base: assume it has no path
    if base.endswith("/") or base in (INGRESS, HARNESS):
        return base.rstrip("/") + "/" + path
    return base.rsplit("/", 1)[0] + "/" + path


@dataclass(frozen=True)
class Target:
    """An invocation path on the ingress: ``/{Service}/{handler}`` or ``/{Service}/{key}/{handler}``."""

    harness: bool
    segments: tuple[str, ...]
    send: bool
    weak: bool = False  # only "a host on port 8080": the request must show more evidence

    @property
    def service(self) -> str:
        return self.segments[0]

    @property
    def handler(self) -> str:
        return self.segments[-1]

    @property
    def keyed(self) -> bool:
        return len(self.segments) == 3


_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://([^/?#]*)(.*)$", re.IGNORECASE | re.DOTALL)
_NOT_INVOCATIONS = frozenset({"restate", "invoke", "discover"})


def ingress_target(module: ModuleAnalysis, url: str | None) -> Target | None:
    """The invocation an absolute URL (rendered) addresses, if it is one on the ingress."""
    if url is None or not url:
        return None
    harness = False
    evidence = True
    if url[0] in (INGRESS, HARNESS):
        harness = url[0] == HARNESS
        rest = url[1:]
    else:
        match = _SCHEME.match(url)
        if match is None:
            return None
        rest = match.group(3)
        configured = _configured_base(module, url)
        if configured is not None:
            rest = url[configured:]
        elif match.group(2).endswith(":8080"):
            evidence = False  # any host on port 8080: needs a Restate-looking path or file
        else:
            return None
    if any(c in rest for c in (INGRESS, HARNESS)):
        return None
    path = re.split(r"[?#]", rest, maxsplit=1)[0]
    segments = [s for s in path.split("/") if s]
    send = False
    if len(segments) >= 3 and segments[-1] == "send":
        segments, send = segments[:-1], True
    if len(segments) not in (2, 3) or segments[0].lower() in _NOT_INVOCATIONS:
        return None
    weak = not evidence and not send and not _looks_restate(module, segments[0])
    return Target(harness, tuple(segments), send, weak)


def _configured_base(module: ModuleAnalysis, url: str) -> int | None:
    lowered = url.lower()
    for base in module.settings.ingress_urls:
        prefix = base.lower().rstrip("/")
        if lowered.startswith(prefix) and (len(url) == len(prefix) or url[len(prefix)] in "/?#"):
            return len(prefix)
    return None


def _looks_restate(module: ModuleAnalysis, service: str) -> bool:
    """A port-8080 URL counts as the ingress in a file that mentions Restate, or when the path
    starts with a service-like name: Restate services are named like classes (``Greeter``,
    ``productService``, ``my.pkg.Greeter``), REST paths mostly are not (``api``, ``orders``)."""
    cached = module.memo.get("mentions_restate")
    if cached is None:
        cached = module.memo["mentions_restate"] = "restate" in module.source.text.lower()
    return bool(cached) or any(c.isupper() for c in service) or "." in service



# -- headers -----------------------------------------------------------------------------------
HeaderClass = Literal["key", "near"]


def classify_header(module: ModuleAnalysis, name: str) -> HeaderClass | None:
    """``key`` for the idempotency header (case-insensitive), ``near`` for a near miss."""
    expected = module.kb.framework.ingress_key_header.lower()
    lowered = name.lower()
    if lowered == expected:
        return "key"
    normal = re.sub(r"[\s_.]+", "-", lowered.strip())
    if "idempot" in normal or "idemp" in normal.split("-")[0]:
        return "near"
    core = normal.removeprefix("x-").removeprefix("restate-")
    if difflib.SequenceMatcher(None, core, expected).ratio() >= 0.85:
        return "near"
    return None


@dataclass
class Headers:
    """What a headers value holds, as far as the code shows."""

    known: bool = True  # every entry is visible
    key: ast.expr | None = None  # the value of the idempotency-key entry
    key_name: ast.AST | None = None
    near: list[ast.Constant] = field(default_factory=list)  # near-miss header names
    literal: ast.Dict | None = None  # the dict literal given at the call (for fixes)

    def merge(self, other: Headers) -> Headers:
        return Headers(
            known=self.known and other.known,
            key=self.key if self.key is not None else other.key,
            key_name=self.key_name if self.key_name is not None else other.key_name,
            near=[*self.near, *other.near],
            literal=self.literal,
        )

    def add(self, module: ModuleAnalysis, name_node: ast.AST, value: ast.expr | None) -> None:
        name = _constant_name(module, name_node)
        if name is None:
            self.known = False
            return
        kind = classify_header(module, name)
        if kind == "key" and self.key is None:
            self.key, self.key_name = value, name_node
        elif kind == "near" and isinstance(name_node, ast.Constant):
            self.near.append(name_node)


def _constant_name(module: ModuleAnalysis, node: ast.AST) -> str | None:
    text = string_value(node)
    if text is not None:
        return text
    if isinstance(node, ast.Name):
        binding = module.resolver.binding(node)
        if binding is not None and binding.kind is Kind.ASSIGN:
            return string_value(binding.value)
    return None


_MAPPING_CONSTRUCTORS = frozenset({
    "builtins.dict", "httpx.Headers", "multidict.CIMultiDict", "multidict.MultiDict",
    "multidict.CIMultiDictProxy", "requests.structures.CaseInsensitiveDict",
})
_READS = frozenset({"get", "items", "keys", "values", "copy", "__contains__", "__getitem__"})


def headers(
    module: ModuleAnalysis, expr: ast.AST | None, at: ast.AST, depth: int = 0
) -> Headers:
    """What ``expr`` (a headers argument evaluated at ``at``) holds."""
    if expr is None or is_none(expr):
        return Headers()
    if depth > 6:
        return Headers(known=False)
    if isinstance(expr, ast.Dict):
        out = Headers(literal=expr)
        for name, value in zip(expr.keys, expr.values, strict=True):
            if name is None:
                out = out.merge(headers(module, value, at, depth + 1))
            else:
                out.add(module, name, value)
        return out
    if isinstance(expr, (ast.List, ast.Tuple)):
        out = Headers()
        for element in expr.elts:
            if isinstance(element, ast.Tuple) and len(element.elts) == 2:
                out.add(module, element.elts[0], element.elts[1])
            else:
                out.known = False
        return out
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        return headers(module, expr.left, at, depth + 1).merge(
            headers(module, expr.right, at, depth + 1)
        )
    if isinstance(expr, ast.Call):
        if module.resolver.qualname(expr.func) in _MAPPING_CONSTRUCTORS and len(expr.args) <= 1:
            out = headers(module, expr.args[0], at, depth + 1) if expr.args else Headers()
            for kw in expr.keywords:
                if kw.arg is None:
                    out = out.merge(headers(module, kw.value, at, depth + 1))
                else:
                    kind = classify_header(module, kw.arg)
                    if kind == "key" and out.key is None:
                        out.key, out.key_name = kw.value, kw
                    # a near-miss keyword (dict(idempotency_key=...)) cannot be renamed in place
                    elif kind == "near":
                        out.known = False
            return out
        return Headers(known=False)
    if isinstance(expr, ast.Name):
        binding = module.resolver.binding(expr)
        if binding is None or binding.kind is not Kind.ASSIGN or binding.value is None:
            return Headers(known=False)
        out = headers(module, binding.value, at, depth + 1)
        out.literal = None
        return _mutations(module, binding, out, at, depth)
    return Headers(known=False)


def _mutations(
    module: ModuleAnalysis, binding: Binding, out: Headers, at: ast.AST, depth: int
) -> Headers:
    """Entries added to a headers variable before it is used at ``at``."""
    scope_node = binding.scope.node
    in_function = isinstance(scope_node, FUNCTION_NODES)
    for use in uses_of(module, binding, scope_node if in_function else module.tree):
        if inside(use, at):
            continue
        if in_function and not before(use, at):
            continue
        up = parent(use)
        if isinstance(up, ast.Subscript) and up.value is use:
            if isinstance(up.ctx, ast.Store):
                assign = parent(up)
                value = assign.value if isinstance(assign, ast.Assign) else None
                out.add(module, up.slice, value)
            elif isinstance(up.ctx, ast.Del):
                out.known = False
            continue
        if isinstance(up, ast.Attribute) and up.value is use:
            call = parent(up)
            if up.attr in ("update", "setdefault") and isinstance(call, ast.Call):
                if up.attr == "setdefault" and len(call.args) == 2:
                    out.add(module, call.args[0], call.args[1])
                elif up.attr == "update":
                    for arg in call.args:
                        out = out.merge(headers(module, arg, at, depth + 1))
                    for kw in call.keywords:
                        if kw.arg is None:
                            out = out.merge(headers(module, kw.value, at, depth + 1))
                        elif classify_header(module, kw.arg) == "key":
                            out.key, out.key_name = kw.value, kw
                continue
            if up.attr in _READS:
                continue
            out.known = False
            continue
        if isinstance(up, ast.Compare):
            continue
        if in_function:
            out.known = False  # passed somewhere before the call: may be filled there
    return out


def session_headers(module: ModuleAnalysis, found: Origin, at: ast.AST) -> Headers:
    """Default headers of a client/session: given to its constructor, or set on ``.headers``."""
    out = headers(module, found.headers, at) if found.headers is not None else Headers()
    out.literal = None
    binding = found.binding
    if binding is None or found.library != "requests":
        return out
    scope_node = binding.scope.node
    for use in uses_of(module, binding, scope_node):
        up = parent(use)
        if not (isinstance(up, ast.Attribute) and up.attr == "headers" and before(use, at)):
            continue
        outer = parent(up)
        if isinstance(outer, ast.Subscript) and isinstance(outer.ctx, ast.Store):
            assign = parent(outer)
            out.add(module, outer.slice, assign.value if isinstance(assign, ast.Assign) else None)
        elif isinstance(outer, ast.Attribute) and outer.attr == "update":
            call = parent(outer)
            if isinstance(call, ast.Call):
                for arg in call.args:
                    out = out.merge(headers(module, arg, at))
    return out


# -- stable identifiers (for the IDL401 fix) ------------------------------------------------------
# Ids of whom or where, not of this request: using them as the key would merge requests.
_OWNER_IDS = frozenset({
    "user", "customer", "tenant", "account", "client", "session", "org", "organization",
    "workspace", "project", "device", "team", "member", "owner", "trace", "span", "thread",
    "channel", "chat", "app", "service", "handler", "object", "workflow", "invocation",
    "instance", "node", "host", "region", "env", "api", "parent", "correlation", "tracking",
})


@dataclass(frozen=True)
class Identifier:
    name: str
    is_str: bool

    def text(self) -> str:
        return self.name if self.is_str else f"str({self.name})"


def stable_identifier(
    module: ModuleAnalysis, at: ast.AST, exclude: frozenset[str] = frozenset()
) -> Identifier | None:
    """A parameter or variable in scope at ``at`` that identifies the request.

    By preference: ``idempotency_key``, ``request_id``, then ``<thing>_id`` (not ids of an owner
    such as ``user_id``/``tenant_id``, and not the object key of the call). Ambiguity (two
    candidates of the same rank) means no fix.
    """
    scope: Scope | None = scope_of(at)
    ranked: dict[int, dict[str, Binding]] = {}
    pos = (getattr(at, "lineno", 0), getattr(at, "col_offset", 0))
    while scope is not None and scope.parent is not None:
        if scope.is_class:
            scope = scope.parent
            continue
        for name in scope.bindings:
            rank = _rank(name)
            if rank is None or name in exclude:
                continue
            binding = lookup(scope_of(at), name, pos)
            if binding is None or binding.scope is not scope or binding.position > pos:
                continue
            if binding.kind not in (Kind.PARAM, Kind.ASSIGN, Kind.FOR, Kind.WITH):
                continue
            if binding.value is not None and fresh_values(module, binding.value):
                continue
            ranked.setdefault(rank, {}).setdefault(name, binding)
        scope = scope.parent
    if not ranked:
        return None
    best = ranked[min(ranked)]
    if len(best) != 1:
        return None
    ((name, binding),) = best.items()
    return Identifier(name, _is_str(module, binding))


def _rank(name: str) -> int | None:
    lowered = name.lower()
    if lowered == "idempotency_key" or lowered.endswith("_idempotency_key"):
        return 0
    if lowered == "request_id":
        return 1
    if lowered.endswith("_id") and len(lowered) > 3:
        owner = lowered[:-3].rsplit("_", 1)[-1]
        return None if owner in _OWNER_IDS else 2
    return None


def _is_str(module: ModuleAnalysis, binding: Binding) -> bool:
    if binding.kind is Kind.PARAM:
        annotation = getattr(binding.node, "annotation", None)
        return module.resolver.annotation_type(annotation) == "builtins.str"
    value = binding.value
    if isinstance(value, ast.JoinedStr) or string_value(value) is not None:
        return True
    return (
        isinstance(value, ast.Call)
        and module.resolver.qualname(value.func) == "builtins.str"
    )


# -- edits -------------------------------------------------------------------------------------
def _offset(fx: FixContext, line: int, column: int) -> int:
    return fx.source.offset(line, column)


def _position(fx: FixContext, offset: int) -> tuple[int, int]:
    return fx.source.position(offset)


def _elements(call: ast.Call) -> list[ast.AST]:
    items: list[ast.AST] = [*call.args, *call.keywords]
    return sorted(items, key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]


def append_to_brackets(fx: FixContext, node: ast.AST, items: list[ast.AST], text: str) -> Edit:
    """Add ``text`` as the last element of a call's arguments or a dict/list display."""
    source = fx.source.text
    _, _, end_line, end_col = fx.span(node)
    close = _offset(fx, end_line, end_col) - 1  # the closing bracket
    if not items:
        line, col = _position(fx, close)
        return Edit(line, col, line, col, text)
    last = items[-1]
    _, _, last_line, last_col = fx.span(last)
    after = _offset(fx, last_line, last_col)
    gap = source[after:close]
    if "#" in gap:
        raise FixUnavailable("a comment follows the last element")
    stripped = gap.lstrip()
    if stripped.startswith(","):  # trailing comma
        comma = after + gap.index(",")
        if "\n" in gap:
            first_line, _, _, _ = fx.span(last)
            indent = re.match(r"[ \t]*", fx.source.line(first_line)).group(0)  # type: ignore[union-attr]
            insert = f"{fx.source.newline}{indent}{text},"
        else:
            insert = f" {text}"
        line, col = _position(fx, comma + 1)
        return Edit(line, col, line, col, insert)
    line, col = _position(fx, after)
    return Edit(line, col, line, col, f", {text}")


def _offset_of(module: ModuleAnalysis, node: ast.AST, end: bool) -> int:
    source = module.source
    line = (node.end_lineno if end else node.lineno) or 0  # type: ignore[attr-defined]
    col = (node.end_col_offset if end else node.col_offset) or 0  # type: ignore[attr-defined]
    return source.offset(line, source.char_column(line, col))


def comment_in_the_way(module: ModuleAnalysis, container: ast.AST, items: list[ast.AST],
                       item: ast.AST | None = None) -> bool:
    """Whether removing ``item`` (or, without it, appending after the last of ``items``) would
    delete or land inside a comment: such fixes are not offered."""
    text = module.source.text
    if item is None:
        if not items:
            return False
        start, end = _offset_of(module, items[-1], True), _offset_of(module, container, True)
        return "#" in text[start:end]
    index = next(i for i, n in enumerate(items) if n is item)
    if index > 0:
        start, end = _offset_of(module, items[index - 1], True), _offset_of(module, item, False)
    elif index + 1 < len(items):
        start, end = _offset_of(module, item, True), _offset_of(module, items[index + 1], False)
    else:
        return False
    return "#" in text[start:end]


def call_items(call: ast.Call) -> list[ast.AST]:
    """Positional and keyword arguments in source order."""
    return _elements(call)


def remove_argument(fx: FixContext, call: ast.Call, item: ast.AST) -> Edit:
    """Delete one argument (keyword) of a call with its separating comma."""
    source = fx.source.text
    items = _elements(call)
    index = next(i for i, n in enumerate(items) if n is item)
    line, col, end_line, end_col = fx.span(item)
    start, end = _offset(fx, line, col), _offset(fx, end_line, end_col)
    if index > 0:
        _, _, prev_line, prev_col = fx.span(items[index - 1])
        cut_from = _offset(fx, prev_line, prev_col)
        if "#" in source[cut_from:start]:
            raise FixUnavailable("a comment sits between the arguments")
        start = cut_from
    elif index + 1 < len(items):
        next_line, next_col, _, _ = fx.span(items[index + 1])
        cut_to = _offset(fx, next_line, next_col)
        if "#" in source[end:cut_to]:
            raise FixUnavailable("a comment sits between the arguments")
        end = cut_to
    else:
        gap = source[end:]
        stripped = gap.lstrip(" \t")
        if stripped.startswith(","):
            end += len(gap) - len(stripped) + 1
    first = _position(fx, start)
    last = _position(fx, end)
    return Edit(first[0], first[1], last[0], last[1], "")


def string_literal_like(original: str, value: str) -> str:
    """``value`` as a literal with the prefix and quotes of ``original`` (a plain string)."""
    match = re.match(r"^([rRuU]?)('''|\"\"\"|'|\")", original)
    if match is None:
        raise FixUnavailable("not a plain string literal")
    prefix, quote = match.groups()
    if not original.endswith(quote) or quote in value:
        raise FixUnavailable("unexpected string literal")
    return f"{prefix}{quote}{value}{quote}"


# -- handlers called by SDK calls ------------------------------------------------------------
def target_handler(module: ModuleAnalysis, expr: ast.AST | None) -> Handler | None:
    """The handler a call's first argument (``tpe``) names, in this module or the tree."""
    if expr is None:
        return None
    definition = module.resolver.definition(expr)
    if definition is not None:
        return module.model.handler_of(definition)
    qualname = module.resolver.qualname(expr)
    if qualname is None or module.project is None:
        return None
    return _find_handler(module, qualname)


def _find_handler(module: ModuleAnalysis, dotted: str) -> Handler | None:
    """A handler defined at module level in another module of the linted tree."""
    project = module.project
    assert project is not None
    name, _, attribute = dotted.rpartition(".")
    if not name:
        return None
    path = project.find(name, near=module.file_path)
    if path is None or (module.file_path is not None and path == module.file_path.resolve()):
        return None
    settings = module.settings

    def build(source: SourceFile, tree: ast.Module) -> object:
        return ModuleAnalysis(source, tree, settings, project, path)

    other = project.summary(path, build)
    if not isinstance(other, ModuleAnalysis):
        return None
    bindings = other.scope.bindings.get(attribute)
    if not bindings or bindings[-1].kind is not Kind.DEF:
        return None
    return other.model.handler_of(bindings[-1].node)


def workflow_mains(module: ModuleAnalysis) -> dict[str, set[str]]:
    """Workflows defined in this module: service name -> names of their main handlers."""
    cached = module.memo.get("workflow_mains")
    if cached is None:
        cached = {}
        for handler in module.model.handlers:
            service = handler.service
            if service is not None and service.kind == "workflow" and service.name \
                    and handler.role == "main":
                cached.setdefault(service.name, set()).add(handler.name)
        module.memo["workflow_mains"] = cached
    return cached
