"""Documentation generated from the code, so it cannot drift from it.

``python -m idemlint.docs --write`` regenerates ``docs/configuration.md`` (from the option
schema), ``docs/rules/index.md`` (from the registry) and one page per rule (from the rule's
class: attributes, docstring and examples); a test checks all are current. ``idemlint rule``
renders the same page at run time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .config import DEFAULT_EXCLUDE, OPTIONS, Option

if TYPE_CHECKING:
    from .registry import Rule


def rule_page(code: str) -> str | None:
    """The Markdown page of a rule, generated from its class, or None for an unknown code."""
    from .registry import all_rules

    rule = all_rules().get(code)
    return render_rule_page(rule) if rule is not None else None


def section(page: str, title: str) -> str:
    """The text of one ``## title`` section of a page ('' if absent)."""
    return sections(page).get(title.lower(), "")


def sections(text: str) -> dict[str, str]:
    """``## Title`` sections of a Markdown text by lower-cased title (text before the first
    heading under ``""``); headings inside code fences do not count."""
    out: dict[str, list[str]] = {"": []}
    current, fenced = "", False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            current = line[3:].strip().lower()
            out[current] = []
            continue
        out[current].append(line)
    return {title: "\n".join(lines).strip() for title, lines in out.items()}


# The page's sections, in order; Example and Use instead open with the rule's own examples.
PAGE_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety",
                 "Options")
_FIX = {"always": "always", "sometimes": "sometimes", "none": "none"}


def _framework_names(rule: type[Rule]) -> str:
    if not rule.frameworks:
        return "all"
    return ", ".join(
        name.capitalize() + (" (opt-in)" if name in rule.opt_in_frameworks else "")
        for name in rule.frameworks
    )


def _header(rule: type[Rule]) -> str:
    enabled = ("**Enabled by default**" if rule.default_enabled
               else "**Opt-in** (not enabled by default)")
    frameworks = _framework_names(rule)
    header = (f"{enabled} · **Severity:** {rule.severity} · **Fix:** "
              f"{_FIX[rule.fix_availability]} · **Frameworks:** {frameworks}")
    if rule.requires in ("handlers", "ingress"):  # a claim about what happens at run time
        header += " · [Proof on the real engines](../proof.md)"
    return header


def _doc_examples(rule: type[Rule]) -> tuple[str | None, str | None]:
    """The page's example and its corrected form: the INVALID example marked ``doc`` (its
    fixed text, else the VALID example marked ``doc``)."""
    invalid = next((e for e in rule.INVALID if e.doc), None)
    valid = next((e for e in rule.VALID if e.doc), None)
    example = invalid.code if invalid is not None else None
    corrected = invalid.fixed if invalid is not None and invalid.fixed is not None else None
    if corrected is None and valid is not None:
        corrected = valid.code
    return example, corrected


def _block(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```"


def render_rule_page(rule: type[Rule]) -> str:
    """A rule's page: header from its attributes, prose from its docstring, Example and Use
    instead from its examples (so a page's example is one the rule really flags and fixes)."""
    prose = sections(rule.prose())
    example, corrected = _doc_examples(rule)
    generated = {"example": example, "use instead": corrected}
    parts = [f"# {rule.code}: {rule.name}", "", _header(rule), "",
             "<!-- Generated from idemlint/checks by `python -m idemlint.docs --write`: "
             "edit the rule's docstring and examples, not this page. -->"]
    titles = [*PAGE_SECTIONS, *(t for t in _titles(rule.prose()) if t.lower() not in
                                {p.lower() for p in PAGE_SECTIONS})]
    for title in titles:
        key = title.lower()
        code = generated.get(key)
        body = [text for text in (_block(code) if code else None, prose.get(key)) if text]
        if body:
            parts += ["", f"## {title}", *body]
    return "\n".join(parts) + "\n"


def _titles(text: str) -> list[str]:
    fenced, out = False, []
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("## "):
            out.append(line[3:].strip())
    return out


HEADER = """# Configuration

idemlint reads `[tool.idemlint]` from the nearest `pyproject.toml` above the first path it
checks, or an `idemlint.toml` (same keys, at top level, or under `[tool.idemlint]`). An
`idemlint.toml` wins over a `pyproject.toml` in the same directory. `--config FILE` picks a file,
`--isolated` ignores them all. An unknown key or a bad value stops the run with exit code 2 and
a message naming the file and the key.

Command-line options override the file: `--select` replaces `select`, `--extend-select` and
`--ignore` add to theirs, `--unsafe-fixes` / `--no-unsafe-fixes` override `unsafe-fixes`.

<!-- Generated by `python -m idemlint.docs --write` from idemlint/config.py: edit that, not this page. -->
"""


def _default(option: Option) -> str:
    if option.key == "exclude":
        return ", ".join(f"`{name}`" for name in DEFAULT_EXCLUDE)
    if option.default is None:
        return ("every framework a file imports" if option.key == "frameworks"
                else "every rule enabled by default")
    if option.kind == "size":
        return f"`{option.default:,}` bytes"
    return f"`{json.dumps(option.default)}`"


def configuration_page() -> str:
    """docs/configuration.md, from ``config.OPTIONS``."""
    parts = [HEADER]
    for option in OPTIONS:
        parts.append(f"\n## `{option.key}`\n\n{option.doc}\n")
        if option.choices:
            parts.append(f"\n**Values:** {', '.join(f'`{c}`' for c in option.choices)}  \n")
        parts.append(f"\n**Default:** {_default(option)}\n")
        if option.example:
            example = option.example
            if not example.startswith("["):
                example = f"[tool.idemlint]\n{example}"
            parts.append(f"\n```toml\n{example}\n```\n")
    return "".join(parts)




def rules_index_page() -> str:
    """docs/rules/index.md, from the rule registry."""
    from .registry import all_rules

    fix = {"always": "yes", "sometimes": "sometimes", "none": ""}
    lines = [
        "# Rules",
        "",
        "<!-- Generated by `python -m idemlint.docs --write` from the rule registry. -->",
        "",
        "| code | name | summary | severity | fix | default | frameworks |",
        "|---|---|---|---|---|---|---|",
    ]
    for code, rule in all_rules().items():
        default = "on" if rule.default_enabled else "opt-in"
        summary = rule.summary.replace("|", "\\|")
        lines.append(
            f"| [{code}]({code}.md) | {rule.name} | {summary} "
            f"| {rule.severity} | {fix[rule.fix_availability]} | {default} "
            f"| {_framework_names(rule)} |"
        )
    return "\n".join(lines) + "\n"


def generated_pages() -> dict[Path, str]:
    """Every generated page by path relative to the repository root."""
    from .registry import all_rules

    pages = {
        Path("docs/configuration.md"): configuration_page(),
        Path("docs/rules/index.md"): rules_index_page(),
    }
    for code, rule in all_rules().items():
        pages[Path("docs/rules") / f"{code}.md"] = render_rule_page(rule)
    return pages


def main(argv: list[str]) -> int:
    """``--write [CODE ...]``: write the generated pages (only those rules' pages if codes are
    given); without ``--write``, print them."""
    root = Path(__file__).resolve().parent.parent
    codes = {arg for arg in argv if not arg.startswith("-")}
    for relative, text in generated_pages().items():
        if codes and relative.stem not in codes:
            continue
        if "--write" in argv:
            (root / relative).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
