"""Output formats. Each format is a function from a ``Report`` to text, registered by name."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..diagnostics import Finding
from ..registry import Rule, all_rules
from ..source import LoadError, SourceFile, read


@dataclass
class Report:
    """Everything a format may show about a run."""

    findings: list[Finding]
    unsafe_fixes: bool = False
    fixed: Counter[str] = field(default_factory=Counter)
    show_fixes: bool = False
    color: bool = False  # ANSI colours (human formats, on a terminal)
    _sources: dict[str, SourceFile | None] = field(default_factory=dict)

    @property
    def rules(self) -> dict[str, type[Rule]]:
        return all_rules()

    def applicable(self, finding: Finding) -> bool:
        """Whether ``--fix`` (with the current unsafe setting) would apply this finding's fix."""
        fix = finding.fix
        return fix is not None and (fix.applicability == "safe" or self.unsafe_fixes)

    def remember(self, source: SourceFile) -> None:
        """Use this text for ``source.path`` instead of reading the file (stdin, editors)."""
        self._sources[source.path] = source

    def source(self, path: str) -> SourceFile | None:
        """The file's current text (read lazily; formats that show code frames use it)."""
        if path not in self._sources:
            try:
                self._sources[path] = SourceFile.from_bytes(path, read(Path(path), 0))
            except LoadError:
                self._sources[path] = None
        return self._sources[path]


Formatter = Callable[[Report], str]
FORMATS: dict[str, Formatter] = {}


def register(name: str) -> Callable[[Formatter], Formatter]:
    def decorate(func: Formatter) -> Formatter:
        FORMATS[name] = func
        return func

    return decorate


def render(name: str, report: Report) -> str:
    _load()
    return FORMATS[name](report)


def names() -> list[str]:
    _load()
    return list(FORMATS)


def _load() -> None:
    from . import github, gitlab, junit, machine, pylint, sarif, text  # noqa: F401  (registration)
