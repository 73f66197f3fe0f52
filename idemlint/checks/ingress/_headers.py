"""What a headers value holds, as far as the code shows: dict literals, dict variables built
in the function (``headers[...] = ...``, ``.update(...)``), merges, lists of pairs, a client's
default headers; and whether a header name is the idempotency key or a near miss of it."""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass, field
from typing import Literal

from ...analysis import ModuleAnalysis
from ...dataflow import uses_of
from ...scopes import FUNCTION_NODES, Binding, Kind, parent
from ...syntax import before, inside, is_none, string_value
from ._clients import Origin
from ._shared import ingress_tables

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
    core = normal.removeprefix("x-").removeprefix(module.kb.framework.package + "-")
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
        if module.resolver.qualname(expr.func) in ingress_tables(module.kb).http.mappings and len(expr.args) <= 1:
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
    if binding is None or found.library not in ingress_tables(module.kb).http.session_headers:
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


def added_headers(
    module: ModuleAnalysis, request: ast.AST | None, at: ast.AST, info: Headers
) -> Headers:
    """``req.add_header(name, value)`` on the request variable before it is opened."""
    if not isinstance(request, ast.Name):
        return info
    binding = module.resolver.binding(request)
    if binding is None:
        return info
    for use in uses_of(module, binding, binding.scope.node):
        up = parent(use)
        call = parent(up) if up is not None else None
        if (
            isinstance(up, ast.Attribute)
            and up.attr in ("add_header", "add_unredirected_header")
            and isinstance(call, ast.Call)
            and len(call.args) == 2
            and before(use, at)
        ):
            info.add(module, call.args[0], call.args[1])
    return info
