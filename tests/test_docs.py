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
def test_every_rule_page_is_generated_current_and_complete(code: str) -> None:
    """The page comes from the rule's class; the checked-in copy is what the code renders,
    and it has ruff's sections in order."""
    page = DOCS / f"{code}.md"
    assert page.is_file(), f"missing docs/rules/{code}.md"
    text = rule_page(code)
    assert text is not None
    assert page.read_text(encoding="utf-8") == text, (
        f"docs/rules/{code}.md is stale: run `python -m idemlint.docs --write {code}`")
    assert text.splitlines()[0] == f"# {code}: {RULES[code].name}"
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings[: len(SECTIONS)] == SECTIONS, headings


@pytest.mark.parametrize("code", list(RULES))
def test_page_example_is_one_the_rule_flags_and_fixes(code: str) -> None:
    """The page's Example is an INVALID example (so the test suite checks the rule flags it,
    and that its fixed text is what --fix writes); every rule shows one."""
    rule = RULES[code]
    marked = [e for e in rule.INVALID if e.doc]
    assert len(marked) == 1, f"{code}: mark exactly one INVALID example doc=True"
    if marked[0].fixed is None:
        assert sum(e.doc for e in rule.VALID) == 1, (
            f"{code}: the doc example has no fix, so mark one VALID example doc=True")
    text = rule_page(code) or ""
    assert f"```python\n{marked[0].code.rstrip()}\n```" in text


def test_every_page_belongs_to_a_rule() -> None:
    pages = {p.stem for p in DOCS.glob("IDL*.md")}
    assert pages == set(RULES), pages ^ set(RULES)


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
    from idemlint.docs import generated_pages

    root = DOCS.parent.parent
    for relative, text in generated_pages().items():
        assert (root / relative).read_text(encoding="utf-8") == text, (
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
