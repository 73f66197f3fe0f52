"""Writing the command line's output: closed pipes, undecodable file names, colour.

* A reader that goes away (``idemlint rule --all | head``) is not an error: the rest of the
  output is discarded quietly and the exit code stays the one the run earned.
* A file name that is not valid UTF-8 reaches Python as lone surrogates; it is written back as
  the original bytes (``surrogateescape``), to the terminal and to ``-o FILE`` alike.
* Colour only on a terminal, ``NO_COLOR`` (any value) turns it off even there and wins over
  ``FORCE_COLOR``, which turns it on anywhere (https://no-color.org, https://force-color.org).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

_closed = False


def stdout_closed() -> bool:
    """Whether the reader of stdout went away during this run."""
    return _closed


def out(text: str) -> None:
    """Write to stdout (flushed: findings come before the summary on stderr)."""
    global _closed
    if _closed or not text:
        return
    stream = sys.stdout
    try:
        try:
            stream.write(text)
        except UnicodeEncodeError:
            buffer = getattr(stream, "buffer", None)
            if buffer is None:
                stream.write(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
            else:
                stream.flush()
                encoding = stream.encoding or "utf-8"
                buffer.write(_encode(text, encoding))
        stream.flush()
    except BrokenPipeError:
        silence_stdout()


def _encode(text: str, encoding: str) -> bytes:
    try:
        return text.encode(encoding, "surrogateescape")
    except UnicodeEncodeError:  # a character the terminal's encoding cannot show
        return text.encode(encoding, "backslashreplace")


def silence_stdout() -> None:
    """The reader is gone: point stdout at /dev/null so that nothing, not even the flush at
    interpreter exit, raises ``BrokenPipeError`` again."""
    global _closed
    _closed = True
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture it)
        pass


def write_file(path: Path, text: str) -> None:
    """Write ``-o FILE`` output in UTF-8; undecodable file names keep their original bytes."""
    path.write_bytes(text.encode("utf-8", "surrogateescape"))


def use_color(stream: TextIO | None = None) -> bool:
    """Whether to colour output written to ``stream`` (stdout by default)."""
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR")
    if force is not None and force not in ("", "0", "false"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    stream = stream if stream is not None else sys.stdout
    try:
        return stream.isatty()
    except (ValueError, AttributeError):
        return False
