"""What the hygiene rules (IDL5xx) know about the SDK, read from ``[tables.hygiene]`` of the
framework profile."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...analysis import ModuleAnalysis
from ...knowledge import Framework
from ...model import Unit
from ...patterns import expand


@dataclass(frozen=True)
class HygieneTables:
    """A typed view of ``[tables.hygiene]`` (empty when the profile has none: the rules then
    use only what Python itself defines)."""

    # Names whose mention in an ``except`` body shows it relies on catching a BaseException.
    base_exception_names: frozenset[str]
    # Service kind -> the context method that calls a handler of that kind through the SDK.
    call_methods: Mapping[str, str]
    # Qualified name of the replay-aware logger factory, and the filter class it installs.
    replay_logger: str | None
    replay_filter: str | None
    # IDL504, a framework whose replay-aware logger wraps a stdlib logger: the wrapper class
    # (``Wrapper(logger, None)``), the ready-made replay-aware logger (call-site fix), and the
    # log methods the wrapper has (a logger used with others cannot be wrapped).
    replay_logger_wrapper: str | None = None
    replay_logger_instance: str | None = None
    replay_logger_methods: frozenset[str] = frozenset()
    # IDL504's wording: the replay-aware logger to advise, and the details of its findings.
    logger_advice: str | None = None
    print_detail: str | None = None
    log_detail: str | None = None
    # IDL503's wording: the message (``{what}`` is the mutated state) and the detail.
    state_message: str | None = None
    state_detail: str | None = None
    # IDL501: calls that raise a BaseException the SDK needs to see (a bare `except:` around
    # them swallows it even without an await), the message (``{shown}`` is the clause) and
    # the finding's detail (``{line}`` is the awaiting line).
    base_exception_raisers: frozenset[str] = frozenset()
    suspension_message: str | None = None
    suspension_detail: str | None = None
    # IDL501: every await in durable code can receive the SDK's signal (a framework whose
    # cancellation and eviction are delivered to any awaiting task), not only journaled ones.
    every_await_suspends: bool = False
    # IDL505: the entry-point roles whose uncaught exception fails the workflow task unless it
    # is a failure exception (qualified names, brace patterns allowed), the class decorator's
    # keyword listing more failure types, and the advice of the message.
    task_failure_roles: frozenset[str] = frozenset()
    failure_exceptions: frozenset[str] = frozenset()
    failure_types_keyword: str | None = None
    failure_advice: str | None = None
    # IDL505: a method decorator that can set the failure types at run time.
    dynamic_config: str | None = None
    # IDL506: what the SDK validates in a workflow definition (``[tables.hygiene.definition]``).
    definition: Mapping[str, Any] = field(default_factory=dict)
    # IDL210: which handlers are read-only and what they must not do (``[tables.hygiene.read_only]``).
    read_only: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, table: Mapping[str, Any]) -> HygieneTables:
        return cls(
            base_exception_names=frozenset(table.get("base_exception_names", ())),
            call_methods=dict(table.get("call_methods", {})),
            replay_logger=table.get("replay_logger"),
            replay_filter=table.get("replay_filter"),
            replay_logger_wrapper=table.get("replay_logger_wrapper"),
            replay_logger_instance=table.get("replay_logger_instance"),
            replay_logger_methods=frozenset(table.get("replay_logger_methods", ())),
            logger_advice=table.get("logger_advice"),
            print_detail=table.get("print_detail"),
            log_detail=table.get("log_detail"),
            state_message=table.get("state_message"),
            state_detail=table.get("state_detail"),
            base_exception_raisers=frozenset(table.get("base_exception_raisers", ())),
            suspension_message=table.get("suspension_message"),
            suspension_detail=table.get("suspension_detail"),
            every_await_suspends=bool(table.get("every_await_suspends", False)),
            task_failure_roles=frozenset(table.get("task_failure_roles", ())),
            failure_exceptions=frozenset(
                name for pattern in table.get("failure_exceptions", ()) for name in expand(pattern)
            ),
            failure_types_keyword=table.get("failure_types_keyword"),
            failure_advice=table.get("failure_advice"),
            dynamic_config=table.get("dynamic_config"),
            definition=dict(table.get("definition", {})),
            read_only=dict(table.get("read_only", {})),
        )


_VIEWS: dict[int, tuple[Framework, HygieneTables]] = {}


def hygiene_tables(module: ModuleAnalysis, framework: Framework | None = None) -> HygieneTables:
    """The view of a profile (the module's default one unless ``framework`` is given), built
    once per loaded profile (the profile is kept alongside, so its id cannot be reused by
    another)."""
    framework = framework if framework is not None else module.kb.framework
    known = _VIEWS.get(id(framework))
    if known is None or known[0] is not framework:
        if len(_VIEWS) >= 32:  # profiles are few; a long test run makes many
            _VIEWS.clear()
        known = _VIEWS[id(framework)] = (framework, HygieneTables.read(framework.table("hygiene")))
    return known[1]


def unit_framework(module: ModuleAnalysis, unit: Unit) -> Framework:
    """The framework whose durable code ``unit`` is (the default profile when unknown)."""
    framework = unit.root.framework or unit.framework
    return framework if framework is not None else module.kb.framework


def durable_nodes(
    module: ModuleAnalysis, frameworks: tuple[str, ...]
) -> Iterator[tuple[Unit, Framework, ast.AST]]:
    """Every node of durable code of one of ``frameworks`` (a rule's ``frameworks``), with
    its unit and that unit's framework."""
    for unit, node in module.model.handler_nodes():
        framework = unit_framework(module, unit)
        if framework.name in frameworks:
            yield unit, framework, node
