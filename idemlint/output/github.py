"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` per finding.

``::error title={title},file={name},line={line},col={col},endLine={endLine},
endColumn={endColumn}::{message}``. The message is escaped like the toolkit's ``escapeData``
(``%``, CR, LF) and property values like its ``escapeProperty`` (also ``:`` and ``,``).
The runner accepts ``col``/``endColumn`` only on a single-line range (it drops them, with a
warning, when ``line`` and ``endLine`` differ), so a multi-line finding carries lines only.
"""

from __future__ import annotations

from ..diagnostics import Finding
from . import Report, register

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _properties(f: Finding) -> list[str]:
    one_line = f.end_line == f.line and f.end_column >= f.column
    return [
        f"title={_property(f'idemlint ({f.code})')}",
        f"file={_property(f.path)}",
        f"line={f.line}",
        *([f"col={f.column}"] if one_line else []),
        f"endLine={max(f.end_line, f.line)}",
        *([f"endColumn={f.end_column}"] if one_line else []),
    ]


@register("github")
def github(report: Report) -> str:
    out = []
    for f in report.findings:
        message = f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}"
        out.append(f"::{_LEVEL[f.severity]} {','.join(_properties(f))}::{_data(message)}\n")
    return "".join(out)
