"""The rule pages and the rule registry stay in step; `idemlint rule` prints the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from idemlint.cli import main
from idemlint.docs import rule_page
from idemlint.registry import all_rules

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"
SECTIONS = ["What it does", "Why is this bad?", "Example", "Use instead", "Fix safety", "Options"]
RULES = all_rules()


@pytest.mark.parametrize("code", list(RULES))
def test_every_rule_has_a_page_with_the_sections(code: str) -> None:
    page = DOCS / f"{code}.md"
    assert page.is_file(), f"missing docs/rules/{code}.md"
    text = page.read_text(encoding="utf-8")
    assert text.splitlines()[0] == f"# {code}: {RULES[code].name}"
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    if code in ("IDL001",):
        assert "What it does" in headings
        return
    assert headings[: len(SECTIONS)] == SECTIONS, headings


def test_every_page_belongs_to_a_rule() -> None:
    pages = {p.stem for p in DOCS.glob("IDL*.md")}
    assert pages == set(RULES), pages ^ set(RULES)


def test_packaged_page_is_the_docs_page() -> None:
    for code in RULES:
        assert rule_page(code) == (DOCS / f"{code}.md").read_text(encoding="utf-8")


def test_rule_command_prints_the_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rule", "IDL101"]) == 0
    assert capsys.readouterr().out == (DOCS / "IDL101.md").read_text(encoding="utf-8")


def test_rule_all_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rule", "--all"]) == 0
    out = capsys.readouterr().out
    for code, rule in RULES.items():
        assert re.search(rf"^{code}\s+{re.escape(rule.name)}\s", out, re.MULTILINE), code


def test_unknown_rule_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rule", "IDL999"]) == 2
    assert "unknown rule" in capsys.readouterr().err


def test_generated_pages_are_current() -> None:
    from idemlint.docs import GENERATED

    root = DOCS.parent.parent
    for relative, render in GENERATED.items():
        assert (root / relative).read_text(encoding="utf-8") == render(), (
            f"{relative} is stale: run `python -m idemlint.docs --write`")


def test_readme_lists_every_rule() -> None:
    readme = (DOCS.parent.parent / "README.md").read_text(encoding="utf-8")
    for code, rule in RULES.items():
        assert re.search(rf"^\| {code} \| {re.escape(rule.name)} \|", readme, re.MULTILINE), code


def test_docs_site_builds(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = DOCS.parent.parent
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert (tmp_path / "site" / "rules" / "IDL101" / "index.html").is_file()
