"""pylint's parseable format: ``path:line: [CODE] message``, one line per finding."""

from __future__ import annotations

import re

from . import Report, register

_BREAK = re.compile(r"[ \t]*(?:\r\n|\r|\n)\s*")


@register("pylint")
def pylint(report: Report) -> str:
    # A message that quotes multi-line source is folded so each finding stays one line.
    return "".join(
        f"{f.path}:{f.line}: [{f.code}] {_BREAK.sub(' ', f.message)}\n" for f in report.findings
    )
