"""The calls into Restate in a module: SDK client methods (``client.service_call(...)``) and
POST/PUT requests to an invocation path on the ingress (httpx, requests, aiohttp, urllib), with
the idempotency key they carry; and the base class of the rules that check them.

A call made by a web app, a CLI or a cron job has no journal: a retry after a timeout or a lost
response starts the handler again unless the request carries an idempotency key that is the
same on every retry. Calls made inside journaled actions are collected too: an action is
retried until it succeeds.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from ...analysis import ModuleAnalysis
from ...dataflow import target_handler
from ...model import Region
from ...registry import Rule
from ...scopes import Kind
from ...syntax import argument, has_unpacking, is_none, string_value
from ._clients import Origin, origin
from ._headers import Headers, added_headers, headers, session_headers
from ._shared import ingress_tables, workflow_mains
from ._urls import HARNESS, INGRESS, UNKNOWN, Target, ingress_target, render

_VERBS = {"post": "POST", "put": "PUT"}
_GENERIC_VERBS = frozenset({"request", "stream"})


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


class IngressRule(Rule):
    """Base of the ingress rules: they run on files that may call the ingress, and skip
    test-harness clients unless ``include-test-harness`` is set."""

    requires = "ingress"

    def calls(self, module: ModuleAnalysis) -> Iterator[IngressCall]:
        include = self.settings.include_test_harness
        for ic in ingress_calls(module):
            if ic.harness and not include:
                continue
            yield ic


def ingress_calls(module: ModuleAnalysis) -> list[IngressCall]:
    """Every call into Restate in the module (collected once, shared by the rules)."""
    return module.shared(_ingress_calls)


def _ingress_calls(module: ModuleAnalysis) -> list[IngressCall]:
    return list(_collect(module))


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
    tables = ingress_tables(module.kb)
    qualname = module.resolver.qualname(receiver)
    if qualname is None:
        return None
    if qualname in tables.client_instances:
        return Origin("sdk", scoped=tables.client_instances[qualname])
    if qualname in tables.harness_clients:
        return Origin("sdk", harness=True)
    return None


def _sdk_call(module: ModuleAnalysis, call: ast.Call, method: str, found: Origin) -> IngressCall | None:
    fw = module.kb.framework
    tables = ingress_tables(module.kb)
    params = tables.parameters
    table = tables.scoped_key_index if found.scoped else tables.key_index
    if method not in table:
        return None
    index = table[method]
    key = argument(call, index, fw.ingress_key_argument)
    if is_none(key):
        key = None
    request_headers = argument(call, index + 1, params.headers)
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
        object_key=argument(call, tables.object_key_index.get(method), params.object_key),
        target_call=call,
        headers_expr=request_headers,
    )
    if method in tables.workflow_methods:
        target = argument(call, 0, params.target)
        handler = target_handler(module, target)
        if handler is not None:
            ic.workflow = handler.role == "main"
        else:
            ic.workflow = _spelled_name(module, target) == tables.workflow_main
        ic.workflow_id = ic.object_key
    elif method in tables.generic_methods and ic.object_key is not None:
        service = string_value(argument(call, 0, params.service))
        handler_name = string_value(argument(call, 1, params.handler))
        ic.workflow = handler_name is not None and _workflow_path(module, service or "", handler_name)
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


def _workflow_path(module: ModuleAnalysis, service: str, handler: str) -> bool:
    """Whether ``service``/``handler`` submits a workflow run (its id is then the key)."""
    return handler == ingress_tables(module.kb).workflow_main or handler in workflow_mains(
        module
    ).get(service, set())


# -- raw HTTP -----------------------------------------------------------------------------------
def _http_call(module: ModuleAnalysis, call: ast.Call) -> IngressCall | None:
    http = ingress_tables(module.kb).http
    qualname = module.resolver.qualname(call.func)
    if qualname == http.urlopen:
        return _urlopen(module, call)
    library: str | None = None
    method: str | None = None
    found: Origin | None = None
    if qualname is not None and qualname in http.functions:
        library, method = http.functions[qualname]
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
            library = http.instances.get(instance)
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
    _request_details(module, ic, target, url_expr, call, request_headers)
    ic.known = info.known and not any(k.arg is None for k in call.keywords)
    return ic


def _relative(url: str) -> bool:
    return not url.startswith((INGRESS, HARNESS, UNKNOWN)) and "://" not in url


def _http_ingress(
    module: ModuleAnalysis,
    call: ast.Call,
    verb: str,
    target: Target,
    harness: bool,
    info: Headers,
) -> IngressCall:
    send = "/" + ingress_tables(module.kb).send_segment if target.send else ""
    path = "/" + "/".join(_show(s) for s in target.segments) + send
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


def _request_details(
    module: ModuleAnalysis,
    ic: IngressCall,
    target: Target,
    url_expr: ast.expr,
    target_call: ast.Call | None,
    request_headers: ast.expr | None,
) -> None:
    """Where a fix adds the header, and whether the request submits a workflow run."""
    ic.url = url_expr
    ic.target_call = target_call
    ic.headers_expr = request_headers
    ic.workflow = target.keyed and _workflow_path(module, target.service, target.handler)
    ic.workflow_id = url_expr if ic.workflow else None


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
        info = added_headers(module, first, call, info)
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
    ic.qualname = ingress_tables(module.kb).http.urlopen
    _request_details(module, ic, target, url_expr, request, request_headers)
    return ic


def _request_ctor(module: ModuleAnalysis, expr: ast.AST | None) -> ast.Call | None:
    if isinstance(expr, ast.Name):
        binding = module.resolver.binding(expr)
        if binding is not None and binding.kind is Kind.ASSIGN:
            expr = binding.value
    if isinstance(expr, ast.Call) and module.resolver.qualname(expr.func) == ingress_tables(
        module.kb
    ).http.request:
        return expr
    return None
