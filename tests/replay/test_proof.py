"""docs/proof.md is generated from the registry and current; every registered case has a test."""

from __future__ import annotations

import ast
from pathlib import Path

from .proof import PAGE, render
from .registry import CASES, NOT_OBSERVABLE, PENDING

HERE = Path(__file__).resolve().parent


def test_proof_page_is_current() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), "run: python -m tests.replay.proof"


def test_every_case_is_exercised_by_a_test() -> None:
    source = "\n".join(p.read_text() for p in sorted(HERE.glob("test_*.py")) if p.name != Path(__file__).name)
    strings = {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant)}
    assert sorted(c.key for c in CASES if c.key not in strings) == []


def test_registry_files_exist() -> None:
    for case in CASES:
        assert case.path.is_file(), case.path
        assert case.fix_path is None or case.fix_path.is_file(), case.fix_path


def test_status_follows_line_and_reason() -> None:
    statuses = {case.key: case.status for case in CASES}
    assert [k for k, s in statuses.items() if s == PENDING] == [
        "T-activity-call"]
    assert [k for k, s in statuses.items() if s == NOT_OBSERVABLE] == ["IDL301", "IDL109-gather"]
