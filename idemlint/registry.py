"""Rules: the base class, the registry, selection by code prefix, and rule examples.

A rule is one class with a code, a summary, its examples (VALID/INVALID, as in Fixit) and a
``check`` method. The engine iterates the registry; it knows no rule by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from .diagnostics import Finding, Severity

if TYPE_CHECKING:
    from .analysis import ModuleAnalysis
    from .config import Settings

# What a file must mention for a rule to have anything to say about it ("passive": the rule
# only reports through engine hooks and never makes the engine parse a file).
Requires = Literal["handlers", "ingress", "suppressions", "always", "passive"]
CODE = re.compile(r"^IDL\d{3}$")


@dataclass(frozen=True)
class Valid:
    """Code on which the rule must report nothing."""

    code: str
    config: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Invalid:
    """Code on which the rule must report at ``expected`` positions (1-based line, column).

    ``fixed`` is the exact text after applying the rule's fixes (``unsafe`` selects whether
    unsafe fixes are applied); ``None`` means the example asserts no fix is offered.
    """

    code: str
    expected: tuple[tuple[int, int], ...]
    fixed: str | None = None
    unsafe: bool = False
    message: str | None = None  # a substring every reported message must contain
    config: dict[str, Any] = field(default_factory=dict)
    note: str = ""


class Rule:
    """Base of every rule. Subclasses set the class attributes and implement ``check``."""

    code: ClassVar[str]
    name: ClassVar[str]  # kebab-case, e.g. "non-journaled-clock"
    summary: ClassVar[str]  # one line, shown by `idemlint rule --all`
    severity: ClassVar[Severity] = "error"
    default_enabled: ClassVar[bool] = True
    requires: ClassVar[Requires] = "handlers"
    fix_availability: ClassVar[Literal["always", "sometimes", "none"]] = "none"
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def effective_severity(self) -> Severity:
        """Severity after configuration (rules with a severity option override this)."""
        return self.severity

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        raise NotImplementedError


_RULES: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator adding a rule to the registry (codes are unique)."""
    if not CODE.match(cls.code):
        raise ValueError(f"bad rule code {cls.code!r}")
    if cls.code in _RULES and _RULES[cls.code] is not cls:
        raise ValueError(f"duplicate rule code {cls.code}")
    _RULES[cls.code] = cls
    return cls


def all_rules() -> dict[str, type[Rule]]:
    """Every registered rule by code (importing the rule modules registers them)."""
    from . import checks  # noqa: F401  (registration side effect)

    return dict(sorted(_RULES.items()))


def expand_selector(selector: str, codes: Iterable[str]) -> set[str]:
    """Codes matched by a selector: a code prefix (``IDL1``, ``IDL10``), or ``ALL``."""
    if selector == "ALL":
        return set(codes)
    return {code for code in codes if code.startswith(selector)}


def is_valid_selector(selector: str) -> bool:
    return selector == "ALL" or bool(re.match(r"^IDL\d{0,3}$", selector))


def select_codes(
    select: Iterable[str] | None,
    extend_select: Iterable[str],
    ignore: Iterable[str],
    rules: dict[str, type[Rule]],
) -> set[str]:
    """The enabled codes: ``select`` (default: rules enabled by default), plus, minus.

    IDL001 (unreadable file) stays on unless ignored by its exact code.
    """
    codes = list(rules)
    if select is None:
        enabled = {code for code, rule in rules.items() if rule.default_enabled}
    else:
        enabled = set()
        for selector in select:
            enabled |= expand_selector(selector, codes)
    for selector in extend_select:
        enabled |= expand_selector(selector, codes)
    ignore = list(ignore)
    for selector in ignore:
        enabled -= {c for c in expand_selector(selector, codes) if c != "IDL001"}
    if "IDL001" not in ignore and "IDL001" in rules:
        enabled.add("IDL001")
    return enabled


def iter_examples(
    rules: dict[str, type[Rule]],
) -> Iterator[tuple[type[Rule], Valid | Invalid, int]]:
    for rule in rules.values():
        examples: list[Valid | Invalid] = [*rule.VALID, *rule.INVALID]
        for i, example in enumerate(examples):
            yield rule, example, i
