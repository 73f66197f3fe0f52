"""Adding ``# noqa`` comments for findings: ``idemlint check --add-noqa`` and the editor's
"Suppress IDLxxx on this line" code action share this logic.

One edit per line: the codes of every finding placed on a line are merged into that line's
existing comment (``noqa.with_codes``) or appended as ``  # noqa: CODES``. The comment goes on
the finding's own line (the line flake8 also honours). A comment is never put where it would
change the code: not at the end of a line that continues inside a string, nor after a
backslash continuation; the tokenizer decides. When the finding's line cannot take a comment,
the first and then the last line of its statement (``Finding.statement``) are tried, both of
which idemlint's matching accepts.
"""

from __future__ import annotations

import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .diagnostics import Edit, Finding
from .noqa import _NOQA, with_codes
from .source import SourceFile

if TYPE_CHECKING:
    from .engine import FileResult

# Findings no suppression comment can silence (the file could not be analysed).
UNSUPPRESSIBLE = frozenset({"IDL001"})


@dataclass
class _Line:
    """What the tokenizer says about one physical line."""

    comment: tokenize.TokenInfo | None = None
    open_at_end: bool = False  # the line ends inside a string or with a backslash


@dataclass
class _Layout:
    lines: dict[int, _Line] = field(default_factory=dict)

    def can_comment(self, lineno: int) -> bool:
        info = self.lines.get(lineno)
        return info is None or not info.open_at_end

    def comment(self, lineno: int) -> tokenize.TokenInfo | None:
        info = self.lines.get(lineno)
        return info.comment if info is not None else None


def _layout(source: SourceFile) -> _Layout | None:
    """Comments and "open" line ends of every line; None when the file does not tokenize."""
    physical = source.lines
    feed = iter([line + "\n" for line in physical])
    layout = _Layout()
    try:
        tokens = list(tokenize.generate_tokens(lambda: next(feed, "")))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    fstring_start = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    open_fstrings: list[int] = []
    for token in tokens:
        kind = token.type
        if kind == tokenize.COMMENT:
            layout.lines.setdefault(token.start[0], _Line()).comment = token
        elif kind == tokenize.STRING and token.end[0] > token.start[0]:
            for lineno in range(token.start[0], token.end[0]):
                layout.lines.setdefault(lineno, _Line()).open_at_end = True
        elif fstring_start is not None and kind == fstring_start:
            open_fstrings.append(token.start[0])
        elif fstring_end is not None and kind == fstring_end and open_fstrings:
            start = open_fstrings.pop()
            for lineno in range(start, token.end[0]):
                layout.lines.setdefault(lineno, _Line()).open_at_end = True
    for index, text in enumerate(physical, start=1):
        if text.endswith("\\"):
            info = layout.lines.setdefault(index, _Line())
            if info.comment is None:  # a backslash in a comment continues nothing
                info.open_at_end = True
    return layout


def _candidates(finding: Finding) -> list[int]:
    """Lines where a `# noqa` suppresses ``finding``, in order of preference."""
    out: list[int] = []
    preferred = [finding.line]
    if finding.statement is not None:
        first, last = finding.statement
        # The finding's own line first: flake8 (which honours only that line) agrees then.
        preferred = [finding.line, first, last]
    for line in preferred:
        if line not in out:
            out.append(line)
    return out


def _target_line(finding: Finding, layout: _Layout) -> int | None:
    candidates = [line for line in _candidates(finding) if layout.can_comment(line)]
    for line in candidates:  # merge into an existing noqa directive when there is one
        comment = layout.comment(line)
        if comment is not None and _NOQA.search(comment.string):
            return line
    return candidates[0] if candidates else None


def add_noqa_edits(source: SourceFile, findings: Iterable[Finding]) -> list[Edit]:
    """Edits adding ``# noqa: CODE`` for ``findings`` (one per line, sorted)."""
    wanted = [f for f in findings if f.code not in UNSUPPRESSIBLE]
    if not wanted:
        return []
    layout = _layout(source)
    if layout is None:
        return []  # not tokenizable: no place for a comment can be trusted
    codes_by_line: dict[int, list[str]] = {}
    for finding in sorted(wanted, key=lambda f: (f.line, f.column, f.code)):
        line = _target_line(finding, layout)
        if line is None or not 0 < line <= len(source.lines):
            continue
        codes = codes_by_line.setdefault(line, [])
        if finding.code not in codes:
            codes.append(finding.code)
    edits: list[Edit] = []
    for lineno, codes in sorted(codes_by_line.items()):
        text = source.line(lineno)
        comment = layout.comment(lineno)
        if comment is not None:
            new = with_codes(comment.string, sorted(codes))
            if new != comment.string:
                edits.append(Edit(lineno, comment.start[1], lineno, comment.end[1], new))
            continue
        code_end = len(text.rstrip())
        addition = ("  " if code_end else "") + with_codes(None, sorted(codes))
        edits.append(Edit(lineno, code_end, lineno, len(text), addition))
    return edits


def apply_edits(source: SourceFile, edits: Sequence[Edit]) -> str:
    """``source``'s text with non-overlapping ``edits`` applied."""
    text = source.text
    for edit in sorted(edits, reverse=True):
        start = source.offset(edit.line, edit.column)
        end = source.offset(edit.end_line, edit.end_column)
        text = text[:start] + edit.content + text[end:]
    return text


def add_noqa(text: str, findings: Iterable[Finding], path: str = "<string>") -> str:
    """``text`` with ``# noqa`` comments added for ``findings``."""
    source = SourceFile.from_text(path, text)
    return apply_edits(source, add_noqa_edits(source, findings))


def run_add_noqa(results: Iterable[FileResult]) -> tuple[int, list[str]]:
    """Add ``# noqa`` comments for the findings of a ``check`` run, writing files in place.

    Returns the number of lines changed and error messages (files that could not be
    rewritten, e.g. changed since they were read). ``FileResult.path`` is the path as given
    on the command line. Encoding, BOM and newline style are kept; writes are atomic.
    """
    from pathlib import Path

    from .runner import write_atomically
    from .source import LoadError, read

    changed = 0
    errors: list[str] = []
    for result in results:
        findings = [f for f in result.findings if f.code not in UNSUPPRESSIBLE]
        if not findings:
            continue
        path = Path(result.path)
        try:
            raw = read(path, 0)
            source = SourceFile.from_bytes(result.path, raw)
        except LoadError as error:
            errors.append(f"{result.path}: {error.message}")
            continue
        edits = add_noqa_edits(source, findings)
        if not edits:
            continue
        problem = write_atomically(path, raw, source.encode(apply_edits(source, edits)))
        if problem is not None:
            errors.append(f"{result.path}: not written: {problem}")
            continue
        changed += len(edits)
    return changed, errors
