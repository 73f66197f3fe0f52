"""What the hygiene rules (IDL5xx) know about the SDK, read from ``[tables.hygiene]`` of the
framework profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...analysis import ModuleAnalysis
from ...knowledge import Framework


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

    @classmethod
    def read(cls, table: Mapping[str, Any]) -> HygieneTables:
        return cls(
            base_exception_names=frozenset(table.get("base_exception_names", ())),
            call_methods=dict(table.get("call_methods", {})),
            replay_logger=table.get("replay_logger"),
            replay_filter=table.get("replay_filter"),
        )


_VIEWS: dict[int, tuple[Framework, HygieneTables]] = {}


def hygiene_tables(module: ModuleAnalysis) -> HygieneTables:
    """The view of the module's profile, built once per loaded profile (the profile is kept
    alongside, so its id cannot be reused by another)."""
    framework = module.kb.framework
    known = _VIEWS.get(id(framework))
    if known is None or known[0] is not framework:
        if len(_VIEWS) >= 32:  # profiles are few; a long test run makes many
            _VIEWS.clear()
        known = _VIEWS[id(framework)] = (framework, HygieneTables.read(framework.table("hygiene")))
    return known[1]
