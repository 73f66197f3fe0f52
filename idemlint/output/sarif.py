"""SARIF 2.1.0: the rules with their help text and URL, results with locations and fixes."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..diagnostics import Finding, rule_url
from ..docs import rule_page, section
from . import Report, register

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _artifact(path: str) -> dict[str, str]:
    """An ``artifactLocation``. ``uri`` must be a valid URI reference (SARIF 3.10.2), so the
    path is percent-encoded (spaces, ``%``, ``#``, ``:``, non-ASCII, the bytes of a name that
    is not UTF-8); a relative path is resolved against ``%SRCROOT%``, an absolute one becomes
    a ``file:`` URI with no base."""
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": pure.as_uri()}
    # A file name that is not UTF-8 holds lone surrogates: its original bytes are encoded.
    raw = pure.as_posix().encode("utf-8", "surrogateescape")
    return {"uri": quote(raw, safe="/"), "uriBaseId": "%SRCROOT%"}


def _region(line: int, column: int, end_line: int, end_column: int) -> dict[str, int]:
    return {
        "startLine": line,
        "startColumn": column,
        "endLine": end_line,
        "endColumn": end_column,
    }


def _rule(code: str, rule: Any) -> dict[str, Any]:
    page = rule_page(code) or ""
    what = section(page, "What it does") or rule.summary
    return {
        "id": code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": what},
        "help": {"text": page or rule.summary, "markdown": page or rule.summary},
        "helpUri": rule_url(code),
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": ["durable-execution", *rule.frameworks]},
    }


def _result(finding: Finding, index: int | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        **({"ruleIndex": index} if index is not None else {}),
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(finding.path),
                    "region": _region(
                        finding.line, finding.column, finding.end_line, finding.end_column
                    ),
                }
            }
        ],
    }
    fix = finding.fix
    if fix is not None and fix.edits:
        result["fixes"] = [
            {
                "description": {"text": f"{fix.message} ({fix.applicability})"},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(finding.path),
                        "replacements": [
                            {
                                "deletedRegion": _region(
                                    e.line, e.column + 1, e.end_line, e.end_column + 1
                                ),
                                "insertedContent": {"text": e.content},
                            }
                            for e in fix.edits
                        ],
                    }
                ],
            }
        ]
    return result


@register("sarif")
def sarif(report: Report) -> str:
    rules = report.rules
    codes = sorted(rules)
    index = {code: i for i, code in enumerate(codes)}
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "idemlint",
                        "version": __version__,
                        "informationUri": "https://idemlint.dev",
                        "rules": [_rule(code, rules[code]) for code in codes],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index.get(f.code)) for f in report.findings],
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
