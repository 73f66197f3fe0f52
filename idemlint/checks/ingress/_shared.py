"""What the ingress rules share: the SDK's call signatures and client spellings (a typed view
of ``[tables.ingress]`` in the framework profile, also read by the key rules) and small
helpers of the rules."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...analysis import ModuleAnalysis
from ...dataflow import uses_of
from ...knowledge import Framework, KnowledgeBase, KnowledgeError
from ...model import Region
from ...regenerated import Fresh
from ...scopes import FUNCTION_NODES, parent
from ...syntax import inside


# -- the typed view of [tables.ingress] ----------------------------------------------------------
@dataclass(frozen=True)
class HttpTables:
    """HTTP clients that can call the ingress directly, and the urllib spellings."""

    functions: Mapping[str, tuple[str, str]]  # qualified name -> (library, method)
    clients: Mapping[str, str]  # constructor/annotation -> library
    instances: Mapping[str, str]  # instance qualified name -> library
    positional_base: frozenset[str]  # libraries whose constructor takes the base URL first
    session_headers: frozenset[str]  # libraries with mutable `session.headers`
    harness_library: str
    mappings: frozenset[str]  # header mapping constructors
    urlopen: str
    request: str


@dataclass(frozen=True)
class UrlTables:
    """Library calls a URL expression is built with."""

    environ: str
    getenv: frozenset[str]
    urljoin: frozenset[str]
    wrappers: frozenset[str]
    path_types: tuple[str, ...]
    joinable: tuple[str, ...]


@dataclass(frozen=True)
class Parameters:
    """Parameter names of the SDK's call/send methods and of the client constructor."""

    target: str
    service: str
    handler: str
    object_key: str
    headers: str
    client_url: str
    client_headers: str


@dataclass(frozen=True)
class IngressTables:
    """The SDK's ingress knowledge, read from ``[tables.ingress]`` of the framework profile."""

    explicit_recovery: str
    client_types: frozenset[str]
    scoped_client_types: frozenset[str]
    harness_types: frozenset[str]
    harness_clients: frozenset[str]
    client_instances: Mapping[str, bool]  # instance qualified name -> scoped
    key_index: Mapping[str, int]  # method -> position of `idempotency_key` (`headers` next)
    scoped_key_index: Mapping[str, int]
    object_key_index: Mapping[str, int]
    parameters: Parameters
    scope: str
    harness_client: str
    harness_http_client: str
    harness_url: str
    workflow_methods: frozenset[str]
    generic_methods: frozenset[str]
    workflow_main: str
    default_port: int
    send_segment: str
    not_invocations: frozenset[str]
    url_words: tuple[str, ...]
    not_url_words: tuple[str, ...]
    http: HttpTables
    urls: UrlTables


def ingress_tables(kb: KnowledgeBase) -> IngressTables:
    """The typed view of the knowledge base's ``[tables.ingress]`` (built once per profile)."""
    return kb.framework.view(_ingress_tables)


def _ingress_tables(framework: Framework) -> IngressTables:
    return _build(framework.table("ingress"))


def _build(raw: Mapping[str, Any]) -> IngressTables:
    def get(table: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
        value = table.get(key)
        if not isinstance(value, kind):
            raise KnowledgeError(f"tables.ingress{where}.{key}: expected a {kind.__name__}")
        return value

    def strings(table: Mapping[str, Any], key: str, where: str = "") -> frozenset[str]:
        return frozenset(get(table, key, list, where))

    def ints(key: str) -> dict[str, int]:
        return {method: int(index) for method, index in get(raw, key, dict, "").items()}

    access = get(raw, "access", dict, "")
    http = get(raw, "http", dict, "")
    urls = get(raw, "urls", dict, "")
    return IngressTables(
        explicit_recovery=get(raw, "explicit_recovery", str, ""),
        client_types=strings(raw, "client_types"),
        scoped_client_types=strings(raw, "scoped_client_types"),
        harness_types=strings(raw, "harness_types"),
        harness_clients=strings(raw, "harness_clients"),
        client_instances={k: bool(v) for k, v in get(raw, "client_instances", dict, "").items()},
        key_index=ints("key_index"),
        scoped_key_index=ints("scoped_key_index"),
        object_key_index=ints("object_key_index"),
        parameters=Parameters(**get(raw, "parameters", dict, "")),
        scope=get(access, "scope", str, ".access"),
        harness_client=get(access, "harness_client", str, ".access"),
        harness_http_client=get(access, "harness_http_client", str, ".access"),
        harness_url=get(access, "harness_url", str, ".access"),
        workflow_methods=strings(access, "workflow_methods", ".access"),
        generic_methods=strings(access, "generic_methods", ".access"),
        workflow_main=get(access, "workflow_main", str, ".access"),
        default_port=get(access, "default_port", int, ".access"),
        send_segment=get(access, "send_segment", str, ".access"),
        not_invocations=strings(access, "not_invocations", ".access"),
        url_words=tuple(get(access, "url_words", list, ".access")),
        not_url_words=tuple(get(access, "not_url_words", list, ".access")),
        http=HttpTables(
            functions={k: (v[0], v[1]) for k, v in get(http, "functions", dict, ".http").items()},
            clients=dict(get(http, "clients", dict, ".http")),
            instances=dict(get(http, "instances", dict, ".http")),
            positional_base=strings(http, "positional_base", ".http"),
            session_headers=strings(http, "session_headers", ".http"),
            harness_library=get(http, "harness_library", str, ".http"),
            mappings=strings(http, "mappings", ".http"),
            urlopen=get(http, "urlopen", str, ".http"),
            request=get(http, "request", str, ".http"),
        ),
        urls=UrlTables(
            environ=get(urls, "environ", str, ".urls"),
            getenv=strings(urls, "getenv", ".urls"),
            urljoin=strings(urls, "urljoin", ".urls"),
            wrappers=strings(urls, "wrappers", ".urls"),
            path_types=tuple(get(urls, "path_types", list, ".urls")),
            joinable=tuple(get(urls, "joinable", list, ".urls")),
        ),
    )


# -- helpers of the rules -------------------------------------------------------------------------
def retry_phrase(region: Region | None) -> str:
    """Who sends the request again."""
    if region == "action":
        return "a retry of the journaled action around it (actions are retried until they succeed)"
    if region == "handler":
        return "a replay of this handler code"
    return "a retry after a timeout or a lost response"


def workflow_mains(module: ModuleAnalysis) -> dict[str, set[str]]:
    """Workflows defined in this module: service name -> names of their main handlers."""
    return module.shared(_workflow_mains)


def _workflow_mains(module: ModuleAnalysis) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for handler in module.model.handlers:
        service = handler.service
        if service is not None and service.kind == "workflow" and service.name \
                and handler.role == "main":
            found.setdefault(service.name, set()).add(handler.name)
    return found


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
