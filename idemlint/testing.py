"""Helpers to lint and fix code held in strings (tests, rule examples, editors)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import Settings, settings_from_table
from .diagnostics import Finding
from .engine import Linter
from .source import SourceFile


def settings_for(config: Mapping[str, Any] | None = None, **overrides: Any) -> Settings:
    """Settings from a ``[tool.idemlint]``-style mapping (validated like a real file)."""
    settings = settings_from_table(dict(config or {}), None, Path.cwd())
    return settings.with_overrides(**overrides) if overrides else settings


def lint_code(
    code: str, settings: Settings | None = None, path: str = "example.py"
) -> list[Finding]:
    """Findings for ``code``, with fix edits built (as ``--output-format json`` shows them)."""
    linter = Linter(settings or settings_for())
    result = linter.check_source(SourceFile.from_text(path, code))
    linter.materialize_fixes(result)
    return result.findings


def fix_code(
    code: str,
    settings: Settings | None = None,
    unsafe: bool = False,
    codes: set[str] | None = None,
    path: str = "example.py",
) -> str:
    """``code`` after ``--fix`` (``unsafe``: ``--unsafe-fixes``), restricted to ``codes``."""
    linter = Linter(settings or settings_for())
    result = linter.fix_source(SourceFile.from_text(path, code), None, unsafe, codes)
    return result.fixed_text if result.fixed_text is not None else code
