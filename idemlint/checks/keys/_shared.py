"""What the key rules (IDL301, IDL302) share: the keyed context calls of a module, and the
attach semantics that make a key on such a call meaningful. SDK names come from
``[tables.keys]`` of the framework profile.

A call or send made through the context (``ctx.service_call``, ``ctx.object_send``,
``ctx.generic_call``, ...) is a journaled command: Restate records it once and a replay reuses
the record (``restate/server_context.py`` ``do_raw_call`` -> ``vm.sys_call``/``sys_send``). A
key protects across *invocations*, not within one, so inside a handler it is redundant unless
attach semantics are visible (the invocation is reached again later by id or key) or the service
runs with explicit recovery (``restate/_preview.py``: each attempt's calls are new requests).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from ...analysis import ModuleAnalysis
from ...dataflow import target_handler, uses_of
from ...knowledge import Framework, KnowledgeError
from ...model import Unit
from ...patterns import expand
from ...scopes import Kind, parent
from ...syntax import (
    argument,
    binding_created_by,
    inside,
    is_none,
    keyword,
    string_value,
    unwrap_str,
    walk_function,
)
from ..ingress._shared import ingress_tables

# The role ``[service_wrappers]`` gives the wrapper that turns on explicit recovery.
_EXPLICIT_RECOVERY_ROLE = "explicit-recovery"


@dataclass(frozen=True)
class KeysTables:
    """A typed view of ``[tables.keys]`` (plus the explicit-recovery wrappers of
    ``[service_wrappers]``); a profile without the table gives empty names, which match
    nothing."""

    scope_method: str
    handle_id_method: str
    key_sinks: frozenset[str]
    request_method: str
    request_key_attributes: frozenset[str]
    pure_context_methods: frozenset[str]
    generic_methods: frozenset[str]
    service_argument: str
    handler_argument: str
    attach_path: str
    explicit_recovery: frozenset[str]

    @classmethod
    def read(cls, framework: Framework) -> KeysTables:
        table = framework.table("keys")
        return cls(
            scope_method=table.get("scope_method", ""),
            handle_id_method=table.get("handle_id_method", ""),
            key_sinks=frozenset(table.get("key_sinks", ())),
            request_method=table.get("request_method", ""),
            request_key_attributes=frozenset(table.get("request_key_attributes", ())),
            pure_context_methods=frozenset(table.get("pure_context_methods", ())),
            generic_methods=frozenset(table.get("generic_methods", ())),
            service_argument=table.get("service_argument", ""),
            handler_argument=table.get("handler_argument", ""),
            attach_path=table.get("attach_path", ""),
            explicit_recovery=frozenset(
                name for name, role in framework.service_wrappers.items()
                if role == _EXPLICIT_RECOVERY_ROLE
            ),
        )


def keys_tables(module: ModuleAnalysis) -> KeysTables:
    """The view of the module's profile, built once per loaded profile (the profile is kept
    alongside, so its id cannot be reused by another)."""
    return module.kb.framework.view(KeysTables.read)


def context_method(
    module: ModuleAnalysis, node: ast.AST | None, among: frozenset[str] | None = None
) -> str | None:
    """``m`` when ``node`` is a call ``<context>.m(...)`` (with ``m`` in ``among`` if given)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    method = node.func.attr
    if among is not None and method not in among:
        return None
    return method if module.model.is_context(node.func.value) else None


def _calls_and_sends(module: ModuleAnalysis) -> frozenset[str]:
    fw = module.kb.framework
    return fw.calls | fw.sends


# -- keyed calls ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyedCall:
    """A context call/send in handler code that passes an idempotency key."""

    call: ast.Call
    method: str
    value: ast.expr  # the key expression
    keyword: ast.keyword | None  # None when the key is positional
    unit: Unit


def keyed_calls(module: ModuleAnalysis) -> list[KeyedCall]:
    """Every keyed context call in handler code (collected once per module)."""
    return module.shared(_keyed_calls)


def _keyed_calls(module: ModuleAnalysis) -> list[KeyedCall]:
    return list(_collect(module))


def _collect(module: ModuleAnalysis) -> Iterable[KeyedCall]:
    methods = _calls_and_sends(module)
    name = module.kb.framework.ingress_key_argument
    scope_method = keys_tables(module).scope_method
    signatures = ingress_tables(module.kb)  # where each call/send method takes its key
    for unit, node in module.model.handler_calls():
        method = context_method(module, node, methods)
        if method is None:
            continue
        assert isinstance(node.func, ast.Attribute)
        scoped = _scoped(module, node.func.value, scope_method)
        table = signatures.scoped_key_index if scoped else signatures.key_index
        kw = keyword(node, name)
        value = kw.value if kw is not None else argument(node, table.get(method), name)
        if value is None or is_none(value):
            continue
        yield KeyedCall(node, method, value, kw, unit)


def _scoped(module: ModuleAnalysis, receiver: ast.expr, scope_method: str, depth: int = 0) -> bool:
    """``ctx.scope(...)`` (directly or through a variable): its methods take ``limit_key`` first."""
    if depth > 6:
        return False
    if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute):
        return receiver.func.attr == scope_method
    if isinstance(receiver, ast.Name):
        binding = module.resolver.binding(receiver)
        if binding is not None and binding.kind is Kind.ASSIGN and binding.value is not None:
            return _scoped(module, binding.value, scope_method, depth + 1)
    return False


# -- attach semantics ----------------------------------------------------------------------------
def explicit_recovery(module: ModuleAnalysis, unit: Unit) -> bool:
    """The handler runs with explicit recovery (its service or itself wrapped)."""
    handler = unit.handler or unit.root.handler
    if handler is None:
        return False
    wrappers = keys_tables(module).explicit_recovery
    qualname = module.resolver.qualname
    service = handler.service
    if service is not None and wrappers.intersection(service.wrappers):
        return True
    if any(qualname(d) in wrappers for d in handler.func.decorator_list):
        return True
    if service is None or service.node is None:
        return False
    # `explicit_recovery(svc)` as a statement: it sets the flag on the object in place.
    for call in module.indexer.calls:
        if qualname(call.func) in wrappers and call.args:
            wrapped = module.model.service_of(call.args[0])
            if wrapped is not None and wrapped.node is service.node:
                return True
    return False


def handle_used(module: ModuleAnalysis, kc: KeyedCall) -> bool:
    """The call's handle gives its invocation id (to attach to it, or store it) later."""
    call = kc.call
    id_method = keys_tables(module).handle_id_method
    calls_and_sends = _calls_and_sends(module)
    up = parent(call)
    if isinstance(up, ast.Attribute) and up.attr == id_method:
        return True
    func = kc.unit.func
    for node in walk_function(func):
        if not (isinstance(node, ast.Attribute) and node.attr == id_method):
            continue
        target = node.value
        if isinstance(target, ast.Name):
            binding = module.resolver.binding(target)
            if (
                binding is not None
                and binding.kind is Kind.ASSIGN
                and binding.value is not call
                and context_method(module, binding.value, calls_and_sends)
            ):
                continue  # the handle of another call
        elif target is not call and context_method(module, target, calls_and_sends):
            continue
        return True
    # The handle handed to a helper (which may read its id).
    if isinstance(up, ast.Assign) and len(up.targets) == 1 and isinstance(up.targets[0], ast.Name):
        handle = binding_created_by(up.targets[0])
        if handle is not None:
            sdk = f"{module.kb.framework.package}."
            for use in uses_of(module, handle, func):
                holder = parent(use)
                if isinstance(holder, ast.Call) and use is not holder.func:
                    name = module.resolver.qualname(holder.func) or ""
                    if not name.startswith(sdk) and not context_method(
                        module, holder, calls_and_sends
                    ):
                        return True
    return False


def _sinks(module: ModuleAnalysis, func: ast.AST) -> Iterable[ast.AST]:
    """Where a key or id leaves the invocation: returned, stored in state, attached to."""
    sinks = keys_tables(module).key_sinks
    for node in ast.walk(func):
        if isinstance(node, ast.Return) and node.value is not None:
            yield node.value
        elif context_method(module, node, sinks):
            assert isinstance(node, ast.Call)
            yield from node.args
            yield from (k.value for k in node.keywords)


def key_kept(module: ModuleAnalysis, kc: KeyedCall) -> bool:
    """The key itself is returned, stored in state or attached to."""
    value = unwrap_str(kc.value)
    binding = module.resolver.binding(value) if isinstance(value, ast.Name) else None
    dumped = ast.dump(value)
    for sink in _sinks(module, kc.unit.func):
        for node in ast.walk(sink):
            if inside(node, kc.call):
                continue
            if binding is not None:
                if isinstance(node, ast.Name) and module.resolver.binding(node) is binding:
                    return True
            elif isinstance(node, ast.expr) and ast.dump(node) == dumped:
                return True
    return False


def attach_paths(module: ModuleAnalysis) -> set[str]:
    """Services whose invocations the module attaches to by idempotency key over HTTP
    (``/restate/invocation/{Service}/.../{key}/attach|output``); ``*``: a service not spelled."""
    return module.shared(_attach_paths)


def _attach_paths(module: ModuleAnalysis) -> set[str]:
    found: set[str] = set()
    prefix = keys_tables(module).attach_path
    for node in module.nodes if prefix else ():
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                str(v.value) if isinstance(v, ast.Constant) else "\x00" for v in node.values
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if isinstance(parent(node), ast.JoinedStr):
                continue
            text = node.value
        else:
            continue
        marker = text.find(prefix)
        if marker < 0:
            continue
        service = text[marker + len(prefix):].split("/", 1)[0]
        found.add("*" if not service or "\x00" in service else service)
    return found


def _target_service(module: ModuleAnalysis, kc: KeyedCall) -> str | None:
    tables = keys_tables(module)
    if kc.method in tables.generic_methods:
        return string_value(argument(kc.call, 0, tables.service_argument))
    handler = target_handler(module, argument(kc.call, 0, tables.handler_argument))
    if handler is not None and handler.service is not None:
        return handler.service.name
    return None


def attached_by_key(module: ModuleAnalysis, kc: KeyedCall) -> bool:
    """The module attaches to the called service's invocations by idempotency key."""
    paths = attach_paths(module)
    if not paths:
        return False
    return "*" in paths or _target_service(module, kc) in paths


def _passed_through(module: ModuleAnalysis, expr: ast.expr, depth: int = 0) -> bool:
    """The key is the handler's own input forwarded (a proxy), or the key this invocation
    was submitted with (``ctx.request().idempotency_key``)."""
    root: ast.AST = unwrap_str(expr)
    chain: list[str] = []
    while True:
        if isinstance(root, ast.Attribute):
            chain.append(root.attr)
            root = root.value
        elif isinstance(root, ast.Subscript):
            root = root.value
        elif (
            isinstance(root, ast.Call)
            and isinstance(root.func, ast.Attribute)
            and root.func.attr == "get"
        ):
            root = root.func.value
        else:
            break
    if isinstance(root, ast.Call) and isinstance(root.func, ast.Attribute):
        tables = keys_tables(module)
        return bool(
            context_method(module, root, frozenset({tables.request_method}))
            and tables.request_key_attributes.intersection(chain)
        )
    if isinstance(root, ast.Name):
        binding = module.resolver.binding(root)
        if binding is None:
            return False
        if binding.kind is Kind.PARAM:
            return not module.model.is_context_param(binding.node)  # type: ignore[arg-type]
        if binding.kind is Kind.ASSIGN and binding.value is not None and depth < 3:
            return _passed_through(module, binding.value, depth + 1)
    return False


def attach_reason(module: ModuleAnalysis, kc: KeyedCall) -> str | None:
    """Why a key on this call is not redundant, if the code shows a reason."""
    if explicit_recovery(module, kc.unit):
        return "explicit recovery"
    if handle_used(module, kc):
        return "invocation id used"
    if key_kept(module, kc):
        return "key kept"
    if attached_by_key(module, kc):
        return "attached by key"
    if _passed_through(module, kc.value):
        return "forwarded"
    return None


# -- ids of commands scheduled from workflow code (IDL302) ----------------------------------------
@dataclass(frozen=True)
class IdSpec:
    """Where a command function takes its id, and what the id is called in messages."""

    argument: str
    what: str


@dataclass(frozen=True)
class CommandIds:
    """A typed view of ``[tables.keys.ids]`` and ``[tables.keys] id_source``: functions that
    schedule a command from workflow code with a caller-chosen id (a child workflow, an
    activity). Empty when the profile has none (Restate's keys are context-method arguments)."""

    ids: dict[str, IdSpec]  # qualified name -> where the id is
    id_source: str  # a deterministic source of unique ids, for messages

    @classmethod
    def read(cls, framework: Framework) -> CommandIds:
        table = framework.table("keys")
        ids: dict[str, IdSpec] = {}
        for pattern, spec in table.get("ids", {}).items():
            if not isinstance(spec, dict) or not {"argument", "what"} <= set(spec):
                raise KnowledgeError(
                    f"{framework.name}: tables.keys.ids.{pattern}: expected "
                    "{ argument = ..., what = ... }"
                )
            for name in expand(pattern):
                ids[name] = IdSpec(str(spec["argument"]), str(spec["what"]))
        return cls(ids=ids, id_source=str(table.get("id_source", "")))


def command_ids_table(framework: Framework) -> CommandIds:
    """The view of one profile, built once per loaded profile."""
    return framework.view(CommandIds.read)


@dataclass(frozen=True)
class CommandId:
    """A command scheduled from workflow code with an explicit id (``id=``/``activity_id=``)."""

    call: ast.Call
    value: ast.expr
    spec: IdSpec
    unit: Unit
    id_source: str


def command_ids(module: ModuleAnalysis) -> list[CommandId]:
    """Every command with an explicit id in durable code (collected once per module)."""
    return module.shared(_command_ids)


def _command_ids(module: ModuleAnalysis) -> list[CommandId]:
    return list(_collect_ids(module))


def _collect_ids(module: ModuleAnalysis) -> Iterable[CommandId]:
    if not any(command_ids_table(fw).ids for fw in module.model.frameworks):
        return
    for unit, call in module.model.handler_calls():
        if unit.framework is None:
            continue
        table = command_ids_table(unit.framework)
        spec = table.ids.get(module.resolver.qualname(call.func) or "")
        if spec is None:
            continue
        given = keyword(call, spec.argument)
        if given is not None and not is_none(given.value):
            yield CommandId(call, given.value, spec, unit, table.id_source)
