"""What a URL expression renders to (literals, f-strings, ``+``, ``%``, ``str.format``,
``urljoin``, ``"/".join``, ``URL / ...``, environment variables, module constants) and whether
it is an invocation path on the Restate ingress."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ...analysis import ModuleAnalysis
from ...scopes import FUNCTION_NODES, Binding, Kind
from ...syntax import argument, string_value
from ._clients import origin
from ._shared import ingress_tables

# -- URLs --------------------------------------------------------------------------------------
UNKNOWN = "\x00"  # a value we cannot see (one path segment at most, we assume)
INGRESS = "\x01"  # the base URL of the ingress (a variable/env var named like one)
HARNESS = "\x02"  # the ingress URL of the test harness
_SENTINELS = UNKNOWN + INGRESS + HARNESS


def ingress_name(module: ModuleAnalysis, name: str) -> bool:
    """Names of variables, constants, settings and env vars that hold the ingress URL."""
    tables = ingress_tables(module.kb)
    upper = name.upper()
    return (
        module.kb.framework.package.upper() in upper
        and any(w in upper for w in tables.url_words)
        and not any(w in upper for w in tables.not_url_words)
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
        if isinstance(expr.op, ast.Div) and _is_url_path(module, expr.left):
            left = render(module, expr.left, depth + 1)
            if left is None:
                return None
            return left.rstrip("/") + "/" + _part(module, expr.right, depth).lstrip("/")
        return None
    if isinstance(expr, ast.Subscript):
        if module.resolver.qualname(expr.value) == ingress_tables(module.kb).urls.environ:
            return _env(module, expr.slice, None, depth)
        return None
    if isinstance(expr, ast.Name):
        if ingress_name(module, expr.id):
            return INGRESS
        binding = module.resolver.binding(expr)
        if binding is None:
            return None
        if binding.kind is Kind.IMPORT:
            return INGRESS if ingress_name(module, (binding.qualname or "").rsplit(".", 1)[-1]) else None
        if binding.kind in (Kind.ASSIGN, Kind.WITH) and binding.value is not None:
            return render(module, binding.value, depth + 1)
        if binding.kind is Kind.PARAM:  # `base_url: str = os.environ["RESTATE_INGRESS_URL"]`
            default = _param_default(binding)
            return render(module, default, depth + 1) if default is not None else None
        return None
    if isinstance(expr, ast.Attribute):
        if ingress_name(module, expr.attr):
            return INGRESS
        if expr.attr == ingress_tables(module.kb).harness_url:
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


def _is_url_path(module: ModuleAnalysis, expr: ast.expr, depth: int = 0) -> bool:
    """A URL object (``yarl.URL(...)``), or one divided by a path (the ``/`` of a URL is a URL)."""
    if depth > 8:
        return False
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
        return _is_url_path(module, expr.left, depth + 1)
    path_types = ingress_tables(module.kb).urls.path_types
    return (module.resolver.qualname(expr) or "").startswith(path_types)


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
    if variable is not None and ingress_name(module, variable):
        return INGRESS
    if default is not None:
        return render(module, default, depth + 1)
    return UNKNOWN


def _render_call(module: ModuleAnalysis, call: ast.Call, depth: int) -> str | None:
    urls = ingress_tables(module.kb).urls
    qualname = module.resolver.qualname(call.func) or ""
    func = call.func
    if qualname in urls.getenv and call.args:
        return _env(module, call.args[0], argument(call, 1, "default"), depth)
    if qualname in urls.urljoin and len(call.args) >= 2:
        return _urljoin(render(module, call.args[0], depth + 1), _part(module, call.args[1], depth))
    if qualname in urls.wrappers and len(call.args) == 1:
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
        if func.attr == ingress_tables(module.kb).harness_url:  # container.ingress_url()
            owner = origin(module, func.value)
            if owner is not None and owner.kind == "harness":
                return HARNESS
        if func.attr == "join" and call.args and (
            module.resolver.qualname(func.value) or ""
        ).startswith(urls.joinable):  # URL(base).join(path)
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


def ingress_target(module: ModuleAnalysis, url: str | None) -> Target | None:
    """The invocation an absolute URL (rendered) addresses, if it is one on the ingress."""
    if url is None or not url:
        return None
    tables = ingress_tables(module.kb)
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
        elif match.group(2).endswith(f":{tables.default_port}"):
            evidence = False  # any host on the default port: needs a Restate-looking path or file
        else:
            return None
    if any(c in rest for c in (INGRESS, HARNESS)):
        return None
    path = re.split(r"[?#]", rest, maxsplit=1)[0]
    segments = [s for s in path.split("/") if s]
    send = False
    if len(segments) >= 3 and segments[-1] == tables.send_segment:
        segments, send = segments[:-1], True
    if len(segments) not in (2, 3) or segments[0].lower() in tables.not_invocations:
        return None
    weak = not evidence and not send and not _looks_like_the_ingress(module, segments[0])
    return Target(harness, tuple(segments), send, weak)


def _configured_base(module: ModuleAnalysis, url: str) -> int | None:
    lowered = url.lower()
    for base in module.settings.ingress_urls:
        prefix = base.lower().rstrip("/")
        if lowered.startswith(prefix) and (len(url) == len(prefix) or url[len(prefix)] in "/?#"):
            return len(prefix)
    return None


def _looks_like_the_ingress(module: ModuleAnalysis, service: str) -> bool:
    """A port-8080 URL counts as the ingress in a file that mentions Restate, or when the path
    starts with a service-like name: Restate services are named like classes (``Greeter``,
    ``productService``, ``my.pkg.Greeter``), REST paths mostly are not (``api``, ``orders``)."""
    return (module.shared(_mentions_framework) or any(c.isupper() for c in service)
            or "." in service)


def _mentions_framework(module: ModuleAnalysis) -> bool:
    return module.kb.framework.package in module.source.text.lower()
