"""Human formats: ``text`` (one line per finding: the short message) and ``full`` (the
message, the finding's ``detail``, a code frame and the fix as a diff).

With ``Report.color`` the path, the code and the fix marker are coloured the way ruff colours
them; the message itself never is (it is what people copy).
"""

from __future__ import annotations

import difflib

from ..diagnostics import Finding
from ..fixes.apply import apply_edits
from . import Report, register

BOLD, RED, CYAN, RESET = "\x1b[1m", "\x1b[1;31m", "\x1b[36m", "\x1b[0m"


def line_of(finding: Finding, report: Report) -> str:
    marker = "[*] " if report.applicable(finding) else ""
    if report.color:
        colon = f"{CYAN}:{RESET}"
        marker = f"{CYAN}[*]{RESET} " if marker else ""
        return (
            f"{BOLD}{finding.path}{RESET}{colon}{finding.line}{colon}{finding.column}{colon} "
            f"{RED}{finding.code}{RESET} {marker}{finding.message}"
        )
    return (
        f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {marker}"
        f"{finding.message}"
    )


@register("text")
def text(report: Report) -> str:
    return "".join(line_of(f, report) + "\n" for f in report.findings)


@register("full")
def full(report: Report) -> str:
    out: list[str] = []
    for finding in report.findings:
        out.append(line_of(finding, report))
        if finding.detail:
            out.extend("  " + line if line else "" for line in finding.detail.splitlines())
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
