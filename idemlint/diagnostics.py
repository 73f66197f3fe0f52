"""Findings, fixes and edits: the values every front end shows and the JSON contract carries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .fixes.context import FixContext

Severity = Literal["error", "warning", "info"]
Applicability = Literal["safe", "unsafe"]
DOCS_URL = "https://idemlint.dev/rules/{code}/"


def rule_url(code: str) -> str:
    return DOCS_URL.format(code=code)


@dataclass(frozen=True, slots=True, order=True)
class Edit:
    """Replace the text between two positions (1-based lines, 0-based character columns)."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str

    def to_json(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "location": {"line": self.line, "column": self.column + 1},
            "end_location": {"line": self.end_line, "column": self.end_column + 1},
        }


class FixUnavailable(Exception):
    """Raised by a fix builder when the code is not of a shape it can rewrite safely."""


FixBuilder = Callable[["FixContext"], Sequence[Edit]]


@dataclass(slots=True)
class Fix:
    """A fix: how safe it is, what it does, and its edits (built lazily with libcst)."""

    applicability: Applicability
    message: str
    build: FixBuilder | None = field(default=None, repr=False, compare=False)
    edits: tuple[Edit, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "applicability": self.applicability,
            "message": self.message,
            "edits": [e.to_json() for e in self.edits or ()],
        }

    def __getstate__(self) -> dict[str, Any]:  # builders are closures: never pickled
        return {"applicability": self.applicability, "message": self.message,
                "build": None, "edits": self.edits}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, value)


@dataclass(slots=True)
class Finding:
    """One diagnostic. ``column``/``end_column`` are 1-based, in characters."""

    code: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    severity: Severity = "error"
    fix: Fix | None = None
    # First and last line of the statement the finding sits in (where a noqa comment may go).
    statement: tuple[int, int] | None = field(default=None, compare=False)
    # The why: consequence on replay, call chain, what to do. ``message`` stays one short
    # line; front ends show ``detail`` where there is room (``--output-format full``, hover).
    detail: str = field(default="", compare=False)

    @property
    def url(self) -> str:
        return rule_url(self.code)

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "severity": self.severity,
            "url": self.url,
            "fix": self.fix.to_json() if self.fix is not None and self.fix.edits else None,
        }
