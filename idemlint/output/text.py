"""Human formats: ``text`` (one line per finding) and ``full`` (code frame and fix diff)."""

from __future__ import annotations

import difflib

from ..diagnostics import Finding
from ..fixes.apply import apply_edits
from . import Report, register


def line_of(finding: Finding, report: Report) -> str:
    marker = "[*] " if report.applicable(finding) else ""
    return (
        f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {marker}"
        f"{finding.message}"
    )


@register("text")
def text(report: Report) -> str:
    return "".join(line_of(f, report) + "\n" for f in report.findings)


@register("full", shows_edits=True)
def full(report: Report) -> str:
    out: list[str] = []
    for finding in report.findings:
        out.append(line_of(finding, report))
        out.extend(_frame(finding, report))
        if finding.fix is not None:
            label = "" if finding.fix.applicability == "safe" else " (unsafe)"
            out.append(f"  = help: {finding.fix.message}{label}")
            out.extend(_diff(finding, report))
        out.append("")
    return "\n".join(out) + ("\n" if out else "")


def _frame(finding: Finding, report: Report) -> list[str]:
    source = report.source(finding.path)
    if source is None:
        return []
    first = max(1, finding.line - 1)
    last = min(len(source.lines), finding.end_line + 1)
    width = len(str(last))
    gutter = " " * width
    lines = [f"{gutter} |"]
    for number in range(first, last + 1):
        text = source.line(number)
        lines.append(f"{number:>{width}} | {text}")
        if finding.line <= number <= finding.end_line:
            start = finding.column - 1 if number == finding.line else len(text) - len(text.lstrip())
            end = finding.end_column - 1 if number == finding.end_line else len(text)
            carets = "^" * max(1, end - start)
            suffix = f" {finding.code}" if number == finding.end_line else ""
            lines.append(f"{gutter} | {' ' * start}{carets}{suffix}")
    lines.append(f"{gutter} |")
    return lines


def _diff(finding: Finding, report: Report) -> list[str]:
    source = report.source(finding.path)
    if source is None or finding.fix is None or not finding.fix.edits:
        return []
    fixed, applied = apply_edits(source, [finding])
    if not applied:
        return []
    diff = difflib.unified_diff(
        source.text.splitlines(), fixed.splitlines(), lineterm="", n=0
    )
    return ["    " + line for line in list(diff)[2:]]
