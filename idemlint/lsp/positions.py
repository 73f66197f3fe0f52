"""Positions: engine (1-based line, character column) <-> LSP (0-based, client's encoding).

LSP positions are counted in the negotiated encoding (UTF-16 code units unless the client
offers another), so columns are converted line by line. Lines are split like the LSP
specifies (``\\n``, ``\\r\\n``, ``\\r``), which is also how ``SourceFile`` splits them.
"""

from __future__ import annotations

from lsprotocol import types as lsp

from ..diagnostics import Edit, Finding
from ..source import SourceFile


def _units(text: str, encoding: str) -> int:
    """Length of ``text`` in the client's position encoding."""
    if text.isascii() or encoding == lsp.PositionEncodingKind.Utf32:
        return len(text)
    if encoding == lsp.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _char_column(line: str, units: int, encoding: str) -> int:
    """Character column of a client position (clamped to the line)."""
    if line.isascii() or encoding == lsp.PositionEncodingKind.Utf32:
        return min(max(units, 0), len(line))
    counted = 0
    for index, char in enumerate(line):
        if counted >= units:
            return index
        counted += _units(char, encoding)
    return len(line)


class Positions:
    """Converts between (1-based line, character column) and LSP positions for one text."""

    def __init__(self, source: SourceFile, encoding: str) -> None:
        self.source = source
        self.encoding = encoding

    def position(self, line: int, column: int) -> lsp.Position:
        """LSP position of a 1-based line and 0-based character column (clamped to the text)."""
        lines = self.source.lines
        if line < 1:
            return lsp.Position(line=0, character=0)
        if line > len(lines):
            return lsp.Position(line=len(lines) - 1, character=_units(lines[-1], self.encoding))
        text = lines[line - 1]
        column = min(max(column, 0), len(text))
        return lsp.Position(line=line - 1, character=_units(text[:column], self.encoding))

    def finding_range(self, finding: Finding) -> lsp.Range:
        return lsp.Range(
            start=self.position(finding.line, finding.column - 1),
            end=self.position(finding.end_line, finding.end_column - 1),
        )

    def edit(self, edit: Edit) -> lsp.TextEdit:
        return lsp.TextEdit(
            range=lsp.Range(
                start=self.position(edit.line, edit.column),
                end=self.position(edit.end_line, edit.end_column),
            ),
            new_text=edit.content,
        )

    def from_client(self, position: lsp.Position) -> tuple[int, int]:
        """(1-based line, character column) of a client position."""
        line = position.line + 1
        lines = self.source.lines
        if line > len(lines):
            return len(lines), len(lines[-1]) if lines else 0
        return line, _char_column(self.source.line(line), position.character, self.encoding)


def minimal_edit(old: str, new: str) -> tuple[int, int, str]:
    """One replacement turning ``old`` into ``new``: (start offset, end offset, text)."""
    limit = min(len(old), len(new))
    start = 0
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    # Never split a "\r\n" pair (positions between them do not exist in LSP).
    if 0 < start < len(old) and old[start - 1] == "\r" and old[start] == "\n":
        start -= 1
    if 0 < end_old < len(old) and old[end_old - 1] == "\r" and old[end_old] == "\n":
        end_old += 1
        end_new += 1
    return start, end_old, new[start:end_new]


