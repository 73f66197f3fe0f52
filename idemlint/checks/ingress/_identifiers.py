"""A stable identifier of the request in scope (a parameter or variable such as ``order_id``),
for the IDL401 fix that passes it as the idempotency key."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ...analysis import ModuleAnalysis
from ...regenerated import fresh_values
from ...scopes import Binding, Kind, Scope, lookup, scope_of
from ...syntax import string_value

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
