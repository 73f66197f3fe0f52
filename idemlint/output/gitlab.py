"""GitLab Code Quality report: a JSON array of Code Climate issues (the subset GitLab reads).

Each issue has ``description``, ``check_name``, ``fingerprint``, ``severity`` and
``location.path`` / ``location.positions``. The fingerprint identifies a finding across
pipelines, so it hashes what survives unrelated edits (path, code, message, the text of the
finding's line) plus the finding's index among otherwise identical findings; it leaves out
line numbers, which shift whenever code above the finding changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter
from pathlib import Path, PurePath
from typing import Any

from ..diagnostics import Finding
from . import Report, register

# GitLab's severities are info, minor, major, critical, blocker.
SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


def report_path(path: str) -> str:
    """The path as GitLab wants it: relative to the project root, ``/``-separated, no ``./``."""
    pure = PurePath(path)
    if pure.is_absolute():
        with contextlib.suppress(ValueError):  # outside the project: keep it as given
            pure = pure.relative_to(Path.cwd())
    text = pure.as_posix()
    while text.startswith("./"):
        text = text[2:]
    return text


def _line_text(finding: Finding, report: Report) -> str:
    source = report.source(finding.path)
    if source is None or not 1 <= finding.line <= len(source.lines):
        return ""
    return source.line(finding.line).strip()


def fingerprints(report: Report) -> list[str]:
    """One fingerprint per finding, in order: stable across runs, unique within a report."""
    seen: Counter[tuple[str, ...]] = Counter()
    out = []
    for finding in report.findings:
        key = (report_path(finding.path), finding.code, finding.message,
               _line_text(finding, report))
        occurrence = seen[key]
        seen[key] += 1
        digest = hashlib.sha256()
        for part in (*key, str(occurrence)):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\0")
        out.append(digest.hexdigest())
    return out


def _issue(finding: Finding, fingerprint: str) -> dict[str, Any]:
    return {
        "description": finding.message,
        "check_name": finding.code,
        "fingerprint": fingerprint,
        "severity": SEVERITY[finding.severity],
        "location": {
            "path": report_path(finding.path),
            "positions": {
                "begin": {"line": finding.line, "column": finding.column},
                "end": {"line": finding.end_line, "column": finding.end_column},
            },
        },
    }


@register("gitlab")
def gitlab(report: Report) -> str:
    issues = [_issue(f, fp) for f, fp in zip(report.findings, fingerprints(report), strict=True)]
    return json.dumps(issues, indent=2) + "\n"
