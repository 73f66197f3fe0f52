"""Rules: the base class and its hooks, automatic registration, and rule examples.

A rule is one class in one file (``checks/<family>/idlNNN_<name>.py``): its code and
attributes, its prose (the class docstring, in ruff's sections), its examples (VALID/INVALID,
as in Fixit) and its ``check``. Defining a subclass with a ``code`` registers it; the engine
iterates the registry and knows no rule by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from textwrap import dedent
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from .diagnostics import Finding, Severity
from .selection import CODE, expand_selector, is_valid_selector, select_codes

if TYPE_CHECKING:
    from .analysis import ModuleAnalysis
    from .config import Settings
    from .noqa import Suppressions
    from .source import LoadError

__all__ = [
    "Invalid", "Rule", "Valid", "all_rules", "enabled_codes", "expand_selector", "is_valid_selector",
    "iter_examples", "select_codes",
]

# What a file must mention for a rule to have anything to say about it ("passive": the rule
# only reports through engine hooks and never makes the engine parse a file).
Requires = Literal["handlers", "ingress", "suppressions", "always", "passive"]
FixAvailability = Literal["always", "sometimes", "none"]


def _example_text(text: str) -> str:
    """Examples are written indented inside the rule class; they are stored flush left."""
    return dedent(text).lstrip("\n")


@dataclass(frozen=True)
class Valid:
    """Code on which the rule must report nothing. ``doc``: shown as "Use instead" on the
    rule's page when no INVALID example with a fix is marked for the page."""

    code: str
    config: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    doc: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", _example_text(self.code))


@dataclass(frozen=True)
class Invalid:
    """Code on which the rule must report at ``expected`` positions (1-based line, column).

    ``fixed`` is the exact text after applying the rule's fixes (``unsafe`` selects whether
    unsafe fixes are applied); ``None`` means the example asserts no fix is offered.
    ``doc``: the example shown on the rule's page (its ``fixed`` text is "Use instead").
    ``builds=False``: the SDK rejects this code when it runs (a rule about definitions the
    SDK refuses), so the example-build test does not import it.
    """

    code: str
    expected: tuple[tuple[int, int], ...]
    fixed: str | None = None
    unsafe: bool = False
    message: str | None = None  # a substring every reported message must contain
    config: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    doc: bool = False
    builds: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", _example_text(self.code))
        if self.fixed is not None:
            object.__setattr__(self, "fixed", _example_text(self.fixed))


class Rule:
    """Base of every rule. A subclass that sets ``code`` is registered when it is defined.

    The engine calls three hooks: ``check`` for every parsed file the rule may concern,
    ``load_error`` for a file that cannot be analysed, ``suppressions`` with the file's
    ``# noqa`` directives. Each does nothing unless overridden.
    """

    code: ClassVar[str]
    name: ClassVar[str]  # kebab-case, e.g. "non-journaled-clock"
    summary: ClassVar[str]  # one line, shown by `idemlint rule --all`
    severity: ClassVar[Severity] = "error"
    default_enabled: ClassVar[bool] = True
    requires: ClassVar[Requires] = "handlers"
    fix_availability: ClassVar[FixAvailability] = "none"
    frameworks: ClassVar[tuple[str, ...]] = ("restate",)
    # Frameworks (of ``frameworks``) for which the rule reports only when its code is selected
    # explicitly (``select``/``extend-select``), although it is enabled by default for the others:
    # what is a bug in one SDK can be an idiom in another (IDL403: a fixed workflow id).
    opt_in_frameworks: ClassVar[tuple[str, ...]] = ()
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            _register(cls)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def effective_severity(self) -> Severity:
        """Severity after configuration (rules with a severity option override this)."""
        return self.severity

    def reports_for(self, framework: str) -> bool:
        """Whether the rule reports findings in durable code of ``framework``: always, unless
        the framework is one of ``opt_in_frameworks`` and the code was not selected
        explicitly."""
        return framework not in self.opt_in_frameworks or self.settings.selected_explicitly(
            self.code
        )

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        return ()

    def load_error(self, path: str, error: LoadError) -> Finding | None:
        return None

    def suppressions(
        self, module: ModuleAnalysis, suppressions: Suppressions, enabled: set[str]
    ) -> Iterable[Finding]:
        return ()

    @classmethod
    def prose(cls) -> str:
        """The rule's documentation (its docstring, dedented)."""
        doc = cls.__dict__.get("__doc__")
        return inspect.cleandoc(doc) if doc else ""


_RULES: dict[str, type[Rule]] = {}


def _register(cls: type[Rule]) -> None:
    if not CODE.match(cls.code):
        raise ValueError(f"bad rule code {cls.code!r}")
    if cls.code in _RULES and _RULES[cls.code] is not cls:
        raise ValueError(f"duplicate rule code {cls.code}")
    _RULES[cls.code] = cls


def all_rules() -> dict[str, type[Rule]]:
    """Every registered rule by code (importing the rule modules registers them)."""
    from . import checks  # noqa: F401  (registration side effect)

    return dict(sorted(_RULES.items()))


def enabled_codes(settings: Settings) -> set[str]:
    """The codes a run enables: the settings' selection over the registered rules."""
    rules = all_rules()
    return select_codes(
        settings.select, settings.extend_select, settings.ignore,
        {code: rule.default_enabled for code, rule in rules.items()},
    )


def iter_examples(
    rules: dict[str, type[Rule]],
) -> Iterator[tuple[type[Rule], Valid | Invalid, int]]:
    for rule in rules.values():
        examples: list[Valid | Invalid] = [*rule.VALID, *rule.INVALID]
        for i, example in enumerate(examples):
            yield rule, example, i
