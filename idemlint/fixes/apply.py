"""Applying fixes to text: non-overlapping edits in one pass, repeated until stable.

Like ruff: a fix whose edits overlap an already accepted fix is deferred to the next pass;
the file is re-linted between passes (bounded). A fix is offered only if its own result
parses (checked when it is built, see ``materialize``); a pass whose combined result does not
parse is split until the fixes that break it are found, dropped and reported.

Everything here is linear in the number of edits (one sorted sweep, one join), so a fix-all
on a multi-megabyte file costs a few lint passes, not a quadratic number of comparisons.
"""

from __future__ import annotations

import ast
import bisect
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..diagnostics import Edit, Finding, FixUnavailable
from ..source import SourceFile
from .context import FixContext

MAX_PASSES = 12

Range = tuple[int, int, str]  # start offset, end offset, new content


@dataclass
class FixOutcome:
    """The text after fixing, what was fixed, and fixes that were refused.

    ``findings``/``context`` are the lint of the final text when the loop ended on it (the
    caller then need not lint it again); ``None`` when the pass limit was reached.
    """

    text: str
    fixed: Counter[str] = field(default_factory=Counter)
    broken: list[Finding] = field(default_factory=list)
    passes: int = 0
    findings: list[Finding] | None = None
    context: FixContext | None = None
    tree: ast.Module | None = None  # the final text parsed, when known


def materialize(findings: Sequence[Finding], context: FixContext | None) -> list[Finding]:
    """Build the edits of every lazy fix; drop a fix that cannot be built or whose own
    application does not parse (it is never offered). Returns the findings whose fix was
    dropped because its result would not parse."""
    broken: list[Finding] = []
    checker = _SyntaxCheck(context) if context is not None else None
    for finding in findings:
        fix = finding.fix
        if fix is None or fix.edits is not None:
            continue
        if fix.build is None or context is None or checker is None:
            finding.fix = None
            continue
        try:
            edits = tuple(sorted(fix.build(context)))
        except FixUnavailable:
            edits = ()
        fix.build = None
        if not edits:
            finding.fix = None
        elif not checker.parses_with(edits):
            finding.fix = None
            broken.append(finding)
        else:
            fix.edits = edits
    return broken


def drop_builders(findings: Sequence[Finding]) -> None:
    """Forget unbuilt fixes (their closures keep the whole syntax tree alive)."""
    for finding in findings:
        if finding.fix is not None and finding.fix.edits is None:
            finding.fix = None


class _SyntaxCheck:
    """Whether a fix's edits leave the module parseable, cheaply.

    Edits inside one simple statement are checked on that statement's text alone (a few
    hundred characters instead of the file); anything else (inserted statements, edits
    spanning statements, a statement that no longer parses alone) falls back to parsing the
    whole edited text.
    """

    def __init__(self, context: FixContext) -> None:
        self.source = context.source
        self.tree = context.module.tree
        self._statements: list[ast.stmt] | None = None
        self._lines: list[int] = []

    def statements(self) -> list[ast.stmt]:
        """Simple statements in source order (only statement lists are walked, not
        expressions: a tenth of the nodes)."""
        if self._statements is None:
            out: list[ast.stmt] = []
            stack: list[ast.stmt] = list(reversed(self.tree.body))
            while stack:
                stmt = stack.pop()
                nested = _nested_statements(stmt)
                if nested is None:
                    out.append(stmt)
                else:
                    stack.extend(reversed(nested))
            self._statements = out
            self._lines = [s.lineno for s in out]
        return self._statements

    def _span(self, stmt: ast.stmt) -> tuple[int, int] | None:
        source = self.source
        line, end_line, end_col = stmt.lineno, stmt.end_lineno, stmt.end_col_offset
        if end_line is None or end_col is None:
            return None
        start = source.offset(line, source.char_column(line, stmt.col_offset))
        return start, source.offset(end_line, source.char_column(end_line, end_col))

    def parses_with(self, edits: Sequence[Edit]) -> bool:
        source = self.source
        ranges = sorted(_ranges(source, edits))
        statements = self.statements()
        first, last = ranges[0][0], ranges[-1][1]
        index = bisect.bisect_right(self._lines, min(e.line for e in edits)) - 1
        span = None
        while index >= 0:  # the nearest statement starting at or before the first edit
            span = self._span(statements[index])
            if span is not None and span[0] <= first:
                break
            span = None
            index -= 1
        if span is not None:
            start, end = span
            if start <= first and last <= end and not (first == start and ranges[0][1] == start):
                local = [(a - start, b - start, c) for a, b, c in ranges]
                tree = parse_or_none(splice(source.text[start:end], local))
                if tree is not None and len(tree.body) == 1:
                    return True
        return parse_or_none(splice(source.text, ranges)) is not None


def _nested_statements(stmt: ast.stmt) -> list[ast.stmt] | None:
    """The statements inside a compound statement, in source order (None: a simple one)."""
    if isinstance(stmt, ast.Match):
        return [s for case in stmt.cases for s in case.body]
    body = getattr(stmt, "body", None)
    if body is None:
        return None
    out: list[ast.stmt] = list(body)
    for handler in getattr(stmt, "handlers", ()):
        out.extend(handler.body)
    out.extend(getattr(stmt, "orelse", ()))
    out.extend(getattr(stmt, "finalbody", ()))
    return out


def _ranges(source: SourceFile, edits: Sequence[Edit]) -> list[Range]:
    return [
        (source.offset(e.line, e.column), source.offset(e.end_line, e.end_column), e.content)
        for e in edits
    ]


def splice(text: str, ranges: Sequence[Range]) -> str:
    """``text`` with non-overlapping ``ranges`` replaced, built with one join.

    Ranges are applied as if one by one from the last to the first (stable order): two
    insertions at the same point end up in the reverse of the order they were given.
    """
    ordered = sorted(ranges, key=lambda r: (r[0], r[1]), reverse=True)
    ordered.reverse()  # ascending, with equal keys in reverse given order
    pieces: list[str] = []
    position = 0
    for start, end, content in ordered:
        pieces.append(text[position:start])
        pieces.append(content)
        position = max(position, end)
    pieces.append(text[position:])
    return "".join(pieces)


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    (a0, a1), (b0, b1) = a, b
    if a0 == a1 and b0 == b1:
        return False  # two insertions at one point can both apply
    if a0 == a1:
        return b0 < a0 < b1
    if b0 == b1:
        return a0 < b0 < a1
    return a0 < b1 and b0 < a1


class _Accepted:
    """Accepted, pairwise non-overlapping ranges kept sorted (ends are then sorted too), so
    an overlap test looks at the neighbours only."""

    def __init__(self) -> None:
        self.keys: list[tuple[int, int]] = []
        self.ranges: list[Range] = []
        self.seen: set[Range] = set()

    def conflicts(self, start: int, end: int) -> bool:
        keys = self.keys
        index = bisect.bisect_left(keys, (end, end)) if end > start else \
            bisect.bisect_left(keys, (start, start))
        # Candidates start before `end` (or at the point of an insertion); walk back while
        # they still reach past `start`.
        j = index - 1
        while j >= 0 and keys[j][1] > start:
            if _overlaps((start, end), keys[j]):
                return True
            j -= 1
        k = index
        while k < len(keys) and keys[k][0] < end:
            if _overlaps((start, end), keys[k]):
                return True
            k += 1
        return False

    def add(self, item: Range) -> None:
        key = (item[0], item[1])
        index = bisect.bisect_right(self.keys, key)
        self.keys.insert(index, key)
        self.ranges.append(item)
        self.seen.add(item)


def apply_edits(source: SourceFile, findings: Sequence[Finding]) -> tuple[str, list[Finding]]:
    """Apply the fixes of ``findings`` that do not overlap; returns new text and applied."""
    accepted = _Accepted()
    applied: list[Finding] = []
    ordered = sorted(
        (f for f in findings if f.fix is not None and f.fix.edits),
        key=lambda f: f.fix.edits[0] if f.fix and f.fix.edits else Edit(0, 0, 0, 0, ""),
    )
    for finding in ordered:
        assert finding.fix is not None and finding.fix.edits
        fresh = [r for r in _ranges(source, finding.fix.edits) if r not in accepted.seen]
        if any(accepted.conflicts(r[0], r[1]) for r in fresh):
            continue
        for r in fresh:
            accepted.add(r)
        applied.append(finding)
    return splice(source.text, accepted.ranges), applied


def parse_or_none(text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def parses(text: str) -> bool:
    return parse_or_none(text) is not None


# lint(text, tree) -> findings whose fixes are lazy, and the FixContext to build them with;
# ``tree`` is the text already parsed when the fix loop has it (None: parse it).
LintPass = Callable[[str, "ast.Module | None"], tuple[list[Finding], FixContext | None]]


def fix_text(
    source: SourceFile,
    lint: LintPass,
    wanted: Callable[[Finding], bool],
) -> FixOutcome:
    """Apply wanted fixes until none applies (or MAX_PASSES); never returns broken code."""
    outcome = FixOutcome(text=source.text)
    current = source
    tree: ast.Module | None = None
    for _ in range(MAX_PASSES):
        findings, context = lint(current.text, tree)
        outcome.findings, outcome.context, outcome.tree = findings, context, tree
        refused = {(f.code, f.message) for f in outcome.broken}
        candidates = [
            f for f in findings
            if f.fix is not None and wanted(f) and (f.code, f.message) not in refused
        ]
        if not candidates:
            break
        outcome.broken.extend(materialize(candidates, context))
        text, applied = apply_edits(current, candidates)
        tree = parse_or_none(text) if applied else None
        if applied and tree is None:
            good = _parseable_subset(current, applied, outcome.broken)
            text, applied = apply_edits(current, good)
            tree = parse_or_none(text)
        if not applied or text == current.text:
            break
        outcome.fixed.update(f.code for f in applied)
        outcome.passes += 1
        current = SourceFile(
            path=source.path, text=text, encoding=source.encoding, bom=source.bom,
            newline=source.newline,
        )
        outcome.findings = outcome.context = outcome.tree = None
    outcome.text = current.text
    return outcome


def _parseable_subset(
    current: SourceFile, applied: list[Finding], broken: list[Finding]
) -> list[Finding]:
    """The fixes of ``applied`` that parse together, found by halving (each fix parses alone;
    only combinations can break, which is rare): O(k log n) parses for k bad fixes."""
    good: list[Finding] = []

    def add(group: list[Finding]) -> None:
        trial, _ = apply_edits(current, [*good, *group])
        if parses(trial):
            good.extend(group)
        elif len(group) == 1:
            broken.append(group[0])
        else:
            middle = len(group) // 2
            add(group[:middle])
            add(group[middle:])

    add(applied)
    return good
