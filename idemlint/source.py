"""Reading a source file safely: bytes, encoding, BOM, newline style, and position mapping.

Everything that can go wrong with an input file becomes a ``LoadError`` with a message a
user can act on; nothing here raises anything else for bad input.
"""

from __future__ import annotations

import bisect
import codecs
import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

_NEWLINE = re.compile(r"\r\n|\r|\n")
_CODING_ERROR = re.compile(r"^(?:unknown encoding|encoding problem)[: ]*(.*)$")
# PEP 263's cookie, as the tokenizer looks for it on the first two lines.
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


class LoadError(Exception):
    """A file that cannot be read, decoded or parsed; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = max(line, 1)
        self.column = max(column, 1)


@dataclass
class SourceFile:
    """A decoded file and the bookkeeping to map positions and write it back unchanged."""

    path: str
    text: str
    encoding: str = "utf-8"
    bom: bool = False
    newline: str = "\n"
    _starts: list[int] = field(default_factory=list, repr=False)
    _lines: list[str] | None = field(default=None, repr=False)

    @classmethod
    def from_bytes(cls, path: str, raw: bytes) -> SourceFile:
        text, encoding, bom = decode(raw)
        return cls(path=path, text=text, encoding=encoding, bom=bom, newline=newline_of(text))

    @classmethod
    def from_text(cls, path: str, text: str) -> SourceFile:
        return cls(path=path, text=text, newline=newline_of(text))

    # -- lines ---------------------------------------------------------------------------
    @property
    def lines(self) -> list[str]:
        """Lines without their terminators (split like Python's tokenizer does)."""
        if self._lines is None:
            self._lines = _NEWLINE.split(self.text)
        return self._lines

    def line(self, lineno: int) -> str:
        lines = self.lines
        return lines[lineno - 1] if 0 < lineno <= len(lines) else ""

    def _line_starts(self) -> list[int]:
        if not self._starts:
            self._starts = [0] + [m.end() for m in _NEWLINE.finditer(self.text)]
        return self._starts

    # -- positions -----------------------------------------------------------------------
    def char_column(self, lineno: int, byte_col: int) -> int:
        """Convert an ``ast`` column (UTF-8 bytes) to a 0-based character column."""
        line = self.line(lineno)
        if line.isascii():
            return byte_col
        return len(line.encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    def offset(self, lineno: int, char_col: int) -> int:
        """Character offset in ``text`` of a 1-based line and 0-based character column."""
        starts = self._line_starts()
        if lineno > len(starts):
            return len(self.text)
        return min(starts[max(lineno, 1) - 1] + char_col, len(self.text))

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and 0-based character column of a character offset."""
        starts = self._line_starts()
        index = bisect.bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index]

    # -- writing back ----------------------------------------------------------------------
    def encode(self, text: str) -> bytes:
        """Encode ``text`` the way this file was stored (encoding and BOM kept)."""
        data = text.encode(self.encoding)
        return codecs.BOM_UTF8 + data if self.bom else data


def newline_of(text: str) -> str:
    match = _NEWLINE.search(text)
    return match.group(0) if match else "\n"


def decode(raw: bytes) -> tuple[str, str, bool]:
    """Decode Python source bytes (PEP 263 cookie or BOM, else UTF-8); LoadError if not text."""
    if b"\x00" in raw:
        raise LoadError("binary file: contains NUL bytes, not Python source")
    bom = raw.startswith(codecs.BOM_UTF8)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        if bom:
            contradiction = _bom_against_cookie(raw)
            if contradiction is not None:
                raise contradiction from None
        detail = _CODING_ERROR.sub(r"\1", str(exc)) or str(exc)
        raise LoadError(f"cannot decode: {detail}") from None
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    body = raw[len(codecs.BOM_UTF8) :] if bom else raw
    try:
        return body.decode(encoding), encoding, bom
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        col = exc.start - (body.rfind(b"\n", 0, exc.start) + 1) + 1
        raise LoadError(
            f"cannot decode as {encoding}: {exc.reason} (byte 0x{body[exc.start]:02x} "
            f"at offset {exc.start})",
            line,
            col,
        ) from None
    except LookupError:
        raise LoadError(f"cannot decode: unknown encoding {encoding!r}") from None


def _bom_against_cookie(raw: bytes) -> LoadError | None:
    """A UTF-8 BOM with a cookie naming another encoding: Python refuses the file ("encoding
    problem: <cookie> with BOM"); say that, where the cookie is."""
    lines = raw[len(codecs.BOM_UTF8) :].splitlines()[:2]
    for number, line in enumerate(lines, start=1):
        match = _COOKIE.match(line)
        if match is None:
            if number == 1 and not line.strip().startswith(b"#") and line.strip():
                return None  # code on line 1: line 2 is not a cookie line
            continue
        name = match.group(1).decode("ascii", "replace")
        return LoadError(
            f"cannot decode: the file starts with a UTF-8 byte-order mark but its coding "
            f"cookie says {name!r} (Python: encoding problem: {name} with BOM)",
            number,
            match.start(1) + 1,
        )
    return None


def read(path: Path, max_bytes: int) -> bytes:
    """Read a file's bytes; LoadError for anything the OS refuses or a file over the limit."""
    try:
        size = path.stat().st_size
        if max_bytes and size > max_bytes:
            raise LoadError(
                f"file too large to analyse: {size / 1e6:.1f} MB "
                f"(limit {max_bytes / 1e6:.1f} MB, see `max-file-size`)"
            )
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1 if max_bytes else -1)
    except LoadError:
        raise
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise LoadError(f"cannot read file: {reason}") from None
    if max_bytes and len(data) > max_bytes:
        raise LoadError(f"file too large to analyse (over {max_bytes / 1e6:.1f} MB)")
    return data
