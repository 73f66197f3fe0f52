"""Applying fixes to text: non-overlapping edits in one pass, repeated until stable.

Like ruff: a fix whose edits overlap an already accepted fix is deferred to the next pass;
the file is re-linted between passes (bounded); a pass whose result does not parse is
retried fix by fix and any fix that breaks the syntax is dropped and reported.
"""

from __future__ import annotations

import ast
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..diagnostics import Edit, Finding, FixUnavailable
from ..source import SourceFile
from .context import FixContext

MAX_PASSES = 12


@dataclass
class FixOutcome:
    """The text after fixing, what was fixed, and fixes that were refused."""

    text: str
    fixed: Counter[str] = field(default_factory=Counter)
    broken: list[Finding] = field(default_factory=list)
    passes: int = 0


def materialize(findings: Sequence[Finding], context: FixContext | None) -> None:
    """Build the edits of every lazy fix; a fix that cannot be built is dropped."""
    for finding in findings:
        fix = finding.fix
        if fix is None or fix.edits is not None:
            continue
        if fix.build is None or context is None:
            finding.fix = None
            continue
        try:
            edits = tuple(sorted(fix.build(context)))
        except FixUnavailable:
            edits = ()
        fix.build = None
        if edits:
            fix.edits = edits
        else:
            finding.fix = None


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    (a0, a1), (b0, b1) = a, b
    if a0 == a1 and b0 == b1:
        return False  # two insertions at one point can both apply
    if a0 == a1:
        return b0 < a0 < b1
    if b0 == b1:
        return a0 < b0 < a1
    return a0 < b1 and b0 < a1


def apply_edits(source: SourceFile, findings: Sequence[Finding]) -> tuple[str, list[Finding]]:
    """Apply the fixes of ``findings`` that do not overlap; returns new text and applied."""
    accepted: list[tuple[int, int, str]] = []
    applied: list[Finding] = []
    ordered = sorted(
        (f for f in findings if f.fix is not None and f.fix.edits),
        key=lambda f: f.fix.edits[0] if f.fix and f.fix.edits else Edit(0, 0, 0, 0, ""),
    )
    for finding in ordered:
        assert finding.fix is not None and finding.fix.edits
        ranges = [
            (source.offset(e.line, e.column), source.offset(e.end_line, e.end_column), e.content)
            for e in finding.fix.edits
        ]
        fresh = [r for r in ranges if r not in accepted]  # an identical edit is shared
        if any(_overlaps(r[:2], a[:2]) for r in fresh for a in accepted):
            continue
        accepted.extend(fresh)
        applied.append(finding)
    text = source.text
    for start, end, content in sorted(accepted, key=lambda r: (r[0], r[1]), reverse=True):
        text = text[:start] + content + text[end:]
    return text, applied


def parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


# lint(text) -> findings whose fixes are lazy, and the FixContext to build them with.
LintPass = Callable[[str], tuple[list[Finding], FixContext | None]]


def fix_text(
    source: SourceFile,
    lint: LintPass,
    wanted: Callable[[Finding], bool],
) -> FixOutcome:
    """Apply wanted fixes until none applies (or MAX_PASSES); never returns broken code."""
    outcome = FixOutcome(text=source.text)
    current = source
    for _ in range(MAX_PASSES):
        findings, context = lint(current.text)
        refused = {(f.code, f.message) for f in outcome.broken}
        candidates = [
            f for f in findings
            if f.fix is not None and wanted(f) and (f.code, f.message) not in refused
        ]
        if not candidates:
            break
        materialize(candidates, context)
        text, applied = apply_edits(current, candidates)
        if applied and not parses(text):
            good: list[Finding] = []
            for finding in applied:
                trial, _ = apply_edits(current, [*good, finding])
                if parses(trial):
                    good.append(finding)
                else:
                    outcome.broken.append(finding)
            text, applied = apply_edits(current, good)
        if not applied or text == current.text:
            break
        outcome.fixed.update(f.code for f in applied)
        outcome.passes += 1
        current = SourceFile(
            path=source.path, text=text, encoding=source.encoding, bom=source.bom,
            newline=source.newline,
        )
    outcome.text = current.text
    return outcome
