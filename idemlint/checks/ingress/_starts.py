"""Starts at a workflow engine's client: a client method that starts a workflow (or a
standalone activity) with a caller-chosen id, or the constructor of a start operation
(update-with-start). The id is the server's only deduplication of the start, so the ingress
rules check it as they check a Restate idempotency key.

Which client methods and constructors start something, and how a client instance is spelled,
is data: ``[tables.ingress.starts]`` of each framework profile (read through ``StartTables``).
A profile without that table has no starts (Restate's ingress calls are in ``_calls.py``).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...analysis import ModuleAnalysis
from ...knowledge import Framework, KnowledgeError
from ...model import Region
from ...patterns import expand
from ...scopes import Scope, scope_of
from ...syntax import keyword


@dataclass(frozen=True)
class StartTables:
    """A typed view of ``[tables.ingress.starts]``: empty when the profile has none."""

    clients: frozenset[str]  # qualified names of a client instance
    harness_clients: frozenset[str]  # clients of the test environment
    methods: Mapping[str, str]  # client method -> what it starts ("workflow", "activity")
    operations: Mapping[str, str]  # constructor of a start operation -> what it starts
    id_argument: str
    policies: tuple[str, ...]  # arguments that decide what a reused id does
    default_policy: str  # what the default policies do, for messages

    @classmethod
    def read(cls, framework: Framework) -> StartTables:
        raw: Mapping[str, Any] = framework.table("ingress").get("starts", {})
        where = f"{framework.name}: tables.ingress.starts"

        def names(key: str) -> frozenset[str]:
            value = raw.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise KnowledgeError(f"{where}.{key}: expected a list of strings")
            return frozenset(name for pattern in value for name in expand(pattern))

        def kinds(key: str) -> dict[str, str]:
            value = raw.get(key, {})
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise KnowledgeError(f"{where}.{key}: expected a table of strings")
            return {name: kind for pattern, kind in value.items() for name in expand(pattern)}

        def text(key: str) -> str:
            value = raw.get(key, "")
            if not isinstance(value, str):
                raise KnowledgeError(f"{where}.{key}: expected a string")
            return value

        return cls(
            clients=names("clients"),
            harness_clients=names("harness_clients"),
            methods=kinds("methods"),
            operations=kinds("operations"),
            id_argument=text("id_argument"),
            policies=tuple(sorted(names("policies"))),
            default_policy=text("default_policy"),
        )


_VIEWS: dict[int, tuple[Framework, StartTables]] = {}


def start_tables(framework: Framework) -> StartTables:
    """The view of one profile, built once per loaded profile."""
    known = _VIEWS.get(id(framework))
    if known is None or known[0] is not framework:
        if len(_VIEWS) >= 32:  # profiles are few; a long test run makes many
            _VIEWS.clear()
        known = _VIEWS[id(framework)] = (framework, StartTables.read(framework))
    return known[1]


@dataclass(frozen=True)
class Start:
    """A start with a caller-chosen id (``client.start_workflow(..., id=...)``)."""

    call: ast.Call
    framework: Framework
    id: ast.expr  # the id expression
    what: str  # for messages: "`client.start_workflow(...)`"
    kind: str  # what it starts: "workflow", "activity"
    region: Region | None
    harness: bool
    policy: bool  # the call sets a reuse/conflict policy

    @property
    def tables(self) -> StartTables:
        return start_tables(self.framework)


def workflow_starts(module: ModuleAnalysis) -> list[Start]:
    """Every start with an id in the module (collected once, shared by the rules)."""
    return module.shared(_collect)


def _collect(module: ModuleAnalysis) -> list[Start]:
    profiles = [
        (fw, tables) for fw in module.model.frameworks
        if (tables := start_tables(fw)).id_argument
    ]
    if not profiles:
        return []
    out: list[Start] = []
    for call in module.indexer.calls:
        func = call.func
        qualname = module.resolver.qualname(func)
        if qualname is None:
            continue
        receiver, _, method = qualname.rpartition(".")
        for fw, tables in profiles:
            harness = receiver in tables.harness_clients
            if isinstance(func, ast.Attribute) and method in tables.methods and (
                receiver in tables.clients or harness
            ):
                what = f"`{' '.join(module.text(func).split())}(...)`"
                kind = tables.methods[method]
            elif qualname in tables.operations:
                what = f"`{qualname.rsplit('.', 1)[-1]}(...)`"
                kind = tables.operations[qualname]
            else:
                continue
            given = keyword(call, tables.id_argument)
            if given is not None:
                out.append(Start(
                    call=call, framework=fw, id=given.value, what=what, kind=kind,
                    region=module.model.region(call), harness=harness or _in_test(call),
                    policy=any(keyword(call, name) is not None for name in tables.policies),
                ))
            break
    return out


def _in_test(node: ast.AST) -> bool:
    """Inside a test (a ``test*`` function, or a method of a ``Test*`` class, as pytest
    collects them): tests start every workflow with a fresh id on purpose, like the test
    environment's client."""
    scope: Scope | None = scope_of(node)
    while scope is not None:
        owner = scope.node
        if isinstance(owner, (ast.FunctionDef, ast.AsyncFunctionDef)) and owner.name.startswith(
            "test"
        ):
            return True
        if isinstance(owner, ast.ClassDef) and owner.name.startswith("Test"):
            return True
        scope = scope.parent
    return False
