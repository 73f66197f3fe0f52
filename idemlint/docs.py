"""Rule documentation: the pages in ``docs/rules/`` (shipped as ``idemlint._docs``)."""

from __future__ import annotations

from importlib import resources


def rule_page(code: str) -> str | None:
    """The Markdown page of a rule, or None if it has none."""
    page = resources.files("idemlint._docs") / f"{code}.md"
    try:
        return page.read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None


def section(page: str, title: str) -> str:
    """The text of one ``## title`` section of a page ('' if absent)."""
    lines = page.splitlines()
    out: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("## "):
            inside = line[3:].strip().lower() == title.lower()
            continue
        if inside:
            out.append(line)
    return "\n".join(out).strip()
