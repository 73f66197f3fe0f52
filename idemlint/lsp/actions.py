"""Code actions built from an analysis: quick fixes, "suppress on this line", and the
client's ``only`` filter (fix-all's edit is made by the fix workers, ``fixer``)."""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types as lsp

from ..diagnostics import Edit, Finding
from ..engine import FileResult, Linter
from ..source import SourceFile
from ..suppress import UNSUPPRESSIBLE, add_noqa_edits
from .analyses import Analysis
from .diagnostics import diagnostics
from .positions import Positions

FIX_ALL_KIND = "source.fixAll.idemlint"
FIX_ALL_TITLE = "idemlint: fix all safely fixable problems"


def quick_fixes(
    analysis: Analysis,
    linter: Linter,
    source: SourceFile,
    positions: Positions,
    params: lsp.CodeActionParams,
    encoding: str,
) -> list[lsp.CodeAction]:
    """The quick fixes and "suppress" actions of the findings in (or asked for by) the request
    (runs on a worker thread: building fix edits parses)."""
    start = positions.from_client(params.range.start)
    end = positions.from_client(params.range.end)
    requested = {
        (d.code, d.range.start.line, d.range.start.character)
        for d in params.context.diagnostics
        if d.source == "idemlint"
    }
    relevant: list[tuple[Finding, lsp.Diagnostic]] = []
    for finding, diagnostic in zip(
        analysis.result.findings, diagnostics(analysis, encoding), strict=True
    ):
        key = (finding.code, diagnostic.range.start.line, diagnostic.range.start.character)
        first = (finding.line, finding.column - 1)
        last = (finding.end_line, finding.end_column - 1)
        if key in requested or (first <= end and start <= last):
            relevant.append((finding, diagnostic))
    if not relevant:
        return []
    # Build the fix edits of just these findings.
    linter.materialize_fixes(
        FileResult(source.path, [f for f, _ in relevant], source=source), analysis.path
    )
    fixes: list[lsp.CodeAction] = []
    suppressions: list[lsp.CodeAction] = []
    seen: set[tuple[str, tuple[Edit, ...]]] = set()
    for finding, diagnostic in relevant:
        fix = finding.fix
        if fix is not None and fix.edits:
            safe = fix.applicability == "safe"
            title = f"{finding.code}: {fix.message} ({'safe' if safe else 'unsafe'} fix)"
            fixes.append(_quick_fix(title, diagnostic, safe, analysis, positions, fix.edits))
        if finding.code in UNSUPPRESSIBLE:
            continue
        edits = add_noqa_edits(source, [finding])
        if not edits or (finding.code, tuple(edits)) in seen:
            continue
        seen.add((finding.code, tuple(edits)))
        title = f"Suppress {finding.code} on this line"
        suppressions.append(_quick_fix(title, diagnostic, False, analysis, positions, edits))
    return fixes + suppressions


def _quick_fix(
    title: str,
    diagnostic: lsp.Diagnostic,
    preferred: bool,
    analysis: Analysis,
    positions: Positions,
    edits: Sequence[Edit],
) -> lsp.CodeAction:
    """A quick fix of one diagnostic applying ``edits`` to the analysed version."""
    return lsp.CodeAction(
        title=title,
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=preferred,
        edit=workspace_edit(analysis.uri, analysis.version, [positions.edit(e) for e in edits]),
    )


def wanted(only: Sequence[str] | None, kind: str) -> bool:
    """Whether a client's ``only`` filter asks for actions of ``kind`` (prefix match)."""
    if not only:
        return True
    return any(kind == want or kind.startswith(f"{want}.") for want in only)


def workspace_edit(uri: str, version: int | None, edits: list[lsp.TextEdit]) -> lsp.WorkspaceEdit:
    if version is None:
        return lsp.WorkspaceEdit(changes={uri: list(edits)})
    return lsp.WorkspaceEdit(
        document_changes=[
            lsp.TextDocumentEdit(
                text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                edits=list(edits),
            )
        ]
    )
