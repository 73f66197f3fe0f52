"""Findings as LSP diagnostics: range in the client's encoding, severity, code and its link."""

from __future__ import annotations

from lsprotocol import types as lsp

from ..diagnostics import Finding
from ..source import SourceFile
from .analyses import Analysis
from .positions import Positions

SEVERITY = {
    "error": lsp.DiagnosticSeverity.Error,
    "warning": lsp.DiagnosticSeverity.Warning,
    "info": lsp.DiagnosticSeverity.Information,
}


def diagnostic_message(finding: Finding) -> str:
    """The finding's one-line message, then its detail (the why) after a blank line.

    Editors show the first line inline (virtual text, the problems list) and the whole
    message on hover, so the detail is there when asked for and out of the way otherwise.
    """
    detail = finding.detail.strip()
    return f"{finding.message}\n\n{detail}" if detail else finding.message


def diagnostics(analysis: Analysis, encoding: str) -> list[lsp.Diagnostic]:
    """The analysis's findings as LSP diagnostics, positioned in the client's encoding."""
    source = analysis.result.source or SourceFile.from_text(analysis.uri, analysis.text)
    positions = Positions(source, encoding)
    return [
        lsp.Diagnostic(
            range=positions.finding_range(finding),
            message=diagnostic_message(finding),
            severity=SEVERITY.get(finding.severity, lsp.DiagnosticSeverity.Error),
            code=finding.code,
            code_description=lsp.CodeDescription(href=finding.url),
            source="idemlint",
            tags=[lsp.DiagnosticTag.Unnecessary] if finding.code == "IDL002" else None,
        )
        for finding in analysis.result.findings
    ]
