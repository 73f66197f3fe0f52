"""Where an ingress client or HTTP session comes from: the SDK's client constructor, the test
harness, an HTTP library's client, or a parameter annotated with one of their types; with the
base URL and default headers given to the constructor."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import Literal

from ...analysis import ModuleAnalysis
from ...scopes import Binding, Kind
from ...syntax import argument
from ._shared import IngressTables, ingress_tables

OriginKind = Literal["sdk", "http", "harness"]
# Context-manager plumbing that returns the client it is given (contextlib, `async with`).
_ENTER_CONTEXT = frozenset({"enter_async_context", "enter_context"})
_ENTER = frozenset({"__aenter__", "__enter__"})


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
    tables = ingress_tables(module.kb)
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
            return _typed(tables, resolver.annotation_type(annotation), binding)
        return None
    if isinstance(expr, ast.Attribute):
        attribute = resolver.self_attribute(expr)
        if attribute is not None:
            if attribute.value is not None:
                return origin(module, attribute.value, depth + 1)
            return None
        owner = origin(module, expr.value, depth + 1)
        if owner is not None and owner.kind == "harness" and expr.attr == tables.harness_client:
            return Origin("sdk", harness=True)
        return None
    if not isinstance(expr, ast.Call):
        return None
    return _constructed(module, tables, expr, depth)


def _constructed(
    module: ModuleAnalysis, tables: IngressTables, expr: ast.Call, depth: int
) -> Origin | None:
    """The client a call returns: a constructor, ``scope(...)``, or context-manager entry."""
    func = expr.func
    if isinstance(func, ast.Attribute):
        if func.attr in _ENTER_CONTEXT and expr.args:
            return origin(module, expr.args[0], depth + 1)
        if func.attr in _ENTER:
            return origin(module, func.value, depth + 1)
        if func.attr == tables.scope:
            owner = origin(module, func.value, depth + 1)
            if owner is not None and owner.kind == "sdk":
                return replace(owner, scoped=True, binding=None)
            return None
        if func.attr == tables.harness_http_client:
            owner = origin(module, func.value, depth + 1)
            if owner is not None and owner.kind == "harness":
                return Origin("http", harness=True, ctor=expr, library=tables.http.harness_library)
            return None
    qualname = module.resolver.qualname(func)
    if qualname is None:
        return None
    fw = module.kb.framework
    if qualname in fw.ingress_clients:
        params = tables.parameters
        return Origin(
            "sdk", ctor=expr, base=argument(expr, 0, params.client_url),
            headers=argument(expr, 1, params.client_headers),
        )
    if qualname in fw.ingress_harnesses or qualname in tables.harness_types:
        return Origin("harness", harness=True, ctor=expr)
    library = tables.http.clients.get(qualname)
    if library is not None:
        base = argument(expr, 0 if library in tables.http.positional_base else None, "base_url")
        headers = argument(expr, None, "headers")
        return Origin("http", ctor=expr, library=library, base=base, headers=headers)
    return None


def _typed(tables: IngressTables, annotation: str | None, binding: Binding) -> Origin | None:
    if annotation is None:
        return None
    if annotation in tables.client_types:
        return Origin("sdk", binding=binding)
    if annotation in tables.scoped_client_types:
        return Origin("sdk", scoped=True, binding=binding)
    if annotation in tables.harness_types:
        return Origin("harness", harness=True, binding=binding)
    library = tables.http.clients.get(annotation)
    if library is not None:
        return Origin("http", library=library, binding=binding)
    return None
