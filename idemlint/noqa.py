"""Suppression comments: ``# noqa``, ``# noqa: IDL101, IDL107`` and file-level
``# idemlint: noqa[: codes]``. Only real comments count (found with ``tokenize``), never text
inside strings. Usage is tracked so unused directives can be reported (IDL002).
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

from .diagnostics import Finding

_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:(?:\s*,\s*|\s+)[A-Z]+[0-9]+)*))?",
    re.IGNORECASE,
)
_FILE = re.compile(
    r"#\s*idemlint\s*:\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:(?:\s*,\s*|\s+)[A-Z]+[0-9]+)*))?",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"[,\s]+")


@dataclass
class Directive:
    """One ``# noqa`` comment: where it is and which codes it names (None: all codes)."""

    line: int
    start: int  # 0-based character column of the `#`
    end: int
    comment: str  # the whole comment token text
    codes: tuple[str, ...] | None
    used: set[str] = field(default_factory=set)
    used_bare: bool = False

    def suppresses(self, code: str) -> bool:
        return self.codes is None or code in self.codes


@dataclass
class Suppressions:
    """All suppression comments of a file."""

    lines: dict[int, Directive] = field(default_factory=dict)
    file_all: bool = False
    file_codes: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.lines and not self.file_all and not self.file_codes

    def apply(self, findings: list[Finding]) -> list[Finding]:
        """Findings left after suppression; marks the directives that were used."""
        if self.empty:
            return findings
        kept: list[Finding] = []
        for finding in findings:
            if finding.code == "IDL001":
                kept.append(finding)
                continue
            if self.file_all or finding.code in self.file_codes:
                continue
            directive = self._directive_for(finding)
            if directive is None:
                kept.append(finding)
            elif directive.codes is None:
                directive.used_bare = True
            else:
                directive.used.add(finding.code)
        return kept

    def _directive_for(self, finding: Finding) -> Directive | None:
        candidates = [finding.line]
        if finding.statement is not None:
            candidates.extend(finding.statement)
        for line in candidates:
            directive = self.lines.get(line)
            if directive is not None and directive.suppresses(finding.code):
                return directive
        return None


def parse(text: str) -> Suppressions:
    """Collect suppression comments; tolerant of files ``tokenize`` rejects."""
    result = Suppressions()
    if "noqa" not in text.lower():
        return result
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return result
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        comment = token.string
        file_match = _FILE.search(comment)
        if file_match:
            codes = file_match.group("codes")
            if codes:
                result.file_codes |= frozenset(c.upper() for c in _SPLIT.split(codes) if c)
            else:
                result.file_all = True
            continue
        match = _NOQA.search(comment)
        if match is None:
            continue
        codes = match.group("codes")
        line, col = token.start
        result.lines[line] = Directive(
            line=line,
            start=col,
            end=token.end[1],
            comment=comment,
            codes=tuple(c.upper() for c in _SPLIT.split(codes) if c) if codes else None,
        )
    return result


def without_codes(comment: str, remove: set[str]) -> str:
    """The comment with ``remove`` taken out of its ``noqa`` list ('' if nothing is left)."""
    match = _NOQA.search(comment)
    if match is None or not match.group("codes"):
        return comment
    codes = [c for c in _SPLIT.split(match.group("codes")) if c]
    kept = [c for c in codes if c.upper() not in remove]
    before = comment[: match.start()].rstrip()
    after = comment[match.end() :]
    if kept:
        return f"{comment[: match.start()]}# noqa: {', '.join(kept)}{after}"
    rest = after.strip()
    if before and rest:
        return f"{before}  {rest if rest.startswith('#') else '# ' + rest}"
    if before:
        return before
    return f"# {rest.lstrip('#').strip()}" if rest else ""


def with_codes(comment: str | None, add: list[str]) -> str:
    """A comment that also suppresses ``add`` (merging into an existing ``noqa`` list)."""
    if not comment:
        return f"# noqa: {', '.join(add)}"
    match = _NOQA.search(comment)
    if match is None:
        return f"{comment}  # noqa: {', '.join(add)}"
    if not match.group("codes"):
        return comment  # a bare noqa already suppresses everything
    codes = [c for c in _SPLIT.split(match.group("codes")) if c]
    merged = codes + [c for c in add if c not in {x.upper() for x in codes}]
    return f"{comment[: match.start()]}# noqa: {', '.join(merged)}{comment[match.end():]}"
