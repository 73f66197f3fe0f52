"""Realistic services with `# expect: CODE@column` markers: findings must match exactly."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from idemlint.engine import Linter
from idemlint.testing import settings_for

from .sdk_build import build_app

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "services"
MARKER = re.compile(r"expect:\s*(.+)$")


def expectations(text: str) -> set[tuple[int, str, int]]:
    out: set[tuple[int, str, int]] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT and (match := MARKER.search(token.string)):
            for item in match.group(1).split(","):
                code, _, column = item.strip().partition("@")
                out.add((token.start[0], code, int(column)))
    return out


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("nondeterminism_*.py")), ids=lambda p: p.stem)
def test_findings_match_markers(path: Path) -> None:
    linter = Linter(settings_for({"select": ["IDL1"]}))
    result = linter.check_path(path)
    found = {(f.line, f.code, f.column) for f in result.findings}
    assert found == expectations(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.py")), ids=lambda p: p.stem)
def test_fixture_services_build_with_the_sdk(path: Path, tmp_path: Path) -> None:
    assert build_app(path.read_text(encoding="utf-8"), tmp_path)
