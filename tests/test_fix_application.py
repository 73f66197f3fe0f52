"""Fix application: only fixes whose result parses are offered; edits apply in one linear sweep."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from idemlint.config import Settings
from idemlint.diagnostics import Edit, Finding, Fix
from idemlint.engine import Linter
from idemlint.fixes.apply import apply_edits, splice
from idemlint.source import SourceFile

from .conftest import HANDLER, Run

FSTRING_CALL = """\
import httpx
import restate

svc = restate.Service("S")


@svc.handler()
async def h(ctx: restate.Context, url: str) -> str:
    return f"got {httpx.get(url).text}"
"""


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="PEP 701 f-strings accept the fix")
def test_fix_inside_fstring_that_would_break_the_file_is_not_offered(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    """Issue 11, fault 4: the IDL104 journaling fix of a call inside an f-string."""
    path = write("svc.py", FSTRING_CALL)
    findings = cli("check", "--unsafe-fixes", "--output-format", "json", str(path)).json()
    assert [(f["code"], f["line"], f["column"], f["fix"]) for f in findings] == [
        ("IDL104", 9, 19, None)
    ]
    run = cli("check", "--unsafe-fixes", str(path))
    assert run.out == (
        f"{path}:9:19: IDL104 `httpx.get()` performs network I/O; use "
        "`await ctx.run_typed(...)`\n"
    )
    assert "fixable" not in run.err


def _break_time_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    from idemlint.checks.nondeterminism import _shared as replacements

    def broken(module, kc):  # type: ignore[no-untyped-def]
        return Fix("safe", "break it", lambda fx: [fx.replace(kc.node, "await (")])

    monkeypatch.setitem(replacements.STRATEGIES, "ctx-time", broken)


def test_fix_that_does_not_parse_is_not_offered(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _break_time_fix(monkeypatch)
    path = write("svc.py", HANDLER)
    for jobs in ("1", "2"):
        findings = cli("check", "-j", jobs, "--output-format", "json", str(path)).json()
        assert [(f["code"], f["line"], f["fix"]) for f in findings] == [("IDL101", 10, None)]
        run = cli("check", "-j", jobs, str(path))
        assert "[*]" not in run.out and "fixable" not in run.err
        assert run.out.startswith(f"{path}:10:12: IDL101 ")


def test_language_server_quick_fix_is_not_built_for_a_fix_that_does_not_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The LSP builds quick fixes with ``materialize_fixes``: a broken one is dropped."""
    _break_time_fix(monkeypatch)
    linter = Linter(Settings())
    result = linter.check_source(SourceFile.from_text("svc.py", HANDLER))
    assert [f.fix is not None for f in result.findings] == [True]  # lazy, not built yet
    linter.materialize_fixes(result)
    assert [(f.code, f.fix) for f in result.findings] == [("IDL101", None)]


def test_good_fix_is_still_offered_and_built_eagerly_in_batch_runs(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    path = write("svc.py", HANDLER)
    findings = cli("check", "--output-format", "json", str(path)).json()
    assert [e["content"] for e in findings[0]["fix"]["edits"]] == ["await ctx.time()"]
    run = cli("check", str(path))
    assert run.out.startswith(f"{path}:10:12: IDL101 [*] ")


# -- applying edits ---------------------------------------------------------------------------
def _finding(*edits: Edit) -> Finding:
    return Finding("IDL101", "m", "f.py", 1, 1, 1, 1, fix=Fix("safe", "m", edits=edits))


def test_overlapping_fix_is_deferred_and_identical_edits_are_shared() -> None:
    source = SourceFile.from_text("f.py", "abcdef\n")
    first = _finding(Edit(1, 0, 1, 2, "X"), Edit(1, 6, 1, 6, "!"))
    overlapping = _finding(Edit(1, 1, 1, 3, "Y"))
    sharing = _finding(Edit(1, 4, 1, 5, "Z"), Edit(1, 6, 1, 6, "!"))
    inside_insert = _finding(Edit(1, 5, 1, 5, "+"))
    text, applied = apply_edits(source, [overlapping, sharing, first, inside_insert])
    assert text == "XcdZ+f!\n"
    assert applied == [first, sharing, inside_insert]


def test_insertion_inside_an_accepted_range_conflicts() -> None:
    source = SourceFile.from_text("f.py", "abcdef\n")
    wide = _finding(Edit(1, 1, 1, 5, "W"))
    point = _finding(Edit(1, 3, 1, 3, "P"))
    assert apply_edits(source, [wide, point]) == ("aWf\n", [wide])


def test_two_insertions_at_one_point_keep_the_historical_order() -> None:
    # Applied last-to-first (stable): the later of two insertions at a point comes first.
    assert splice("ab", [(1, 1, "X"), (1, 1, "Y"), (0, 1, "A")]) == "AYXb"


def test_fix_application_is_linear_in_the_number_of_edits() -> None:
    lines = 40_000
    source = SourceFile.from_text("f.py", "x = 1\n" * lines)
    findings = [_finding(Edit(n, 4, n, 5, "2")) for n in range(1, lines + 1)]
    start = time.perf_counter()
    text, applied = apply_edits(source, findings)
    elapsed = time.perf_counter() - start
    assert text == "x = 2\n" * lines
    assert len(applied) == lines
    assert elapsed < 2.0  # pairwise checks took minutes here
