"""GitHub Actions workflow commands: one ``::error``/``::warning`` annotation per finding."""

from __future__ import annotations

from . import Report, register

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


@register("github")
def github(report: Report) -> str:
    out = []
    for f in report.findings:
        props = ",".join(
            [
                f"title={_property(f'idemlint ({f.code})')}",
                f"file={_property(f.path)}",
                f"line={f.line}",
                f"col={f.column}",
                f"endLine={f.end_line}",
                f"endColumn={f.end_column}",
            ]
        )
        message = f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}"
        out.append(f"::{_LEVEL[f.severity]} {props}::{_data(message)}\n")
    return "".join(out)
