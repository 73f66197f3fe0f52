"""flake8 plugin: idemlint's findings as flake8 errors (``IDLxxx``).

A thin front end: it hands flake8's already parsed ``ast`` tree to the engine and yields the
findings. Configuration comes from the nearest ``[tool.idemlint]`` / ``idemlint.toml`` above
each file (knowledge-base extensions, ``redundant-key-policy``, the rule selection), cached
per directory. ``# noqa`` comments, ``--select``/``--ignore`` and flake8's own per-file
ignores are left to flake8: the engine is run with its suppression handling off, so IDL002
(unused ``noqa``), which only idemlint can judge, is never reported here.

Entry point (``pyproject.toml``)::

    [project.entry-points."flake8.extension"]
    IDL = "idemlint.flake8_plugin:Flake8Checker"
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import __version__
from .config import ConfigError, find_config, load_settings
from .engine import Linter
from .project import Project
from .source import SourceFile

# flake8 may lint thousands of files per process: one Linter per configuration file, and the
# configuration file found for each directory.
_CONFIG_FOR_DIR: dict[Path, Path | None] = {}
_LINTERS: dict[Path | None, Linter | ConfigError] = {}
_STDIN_NAMES = ("stdin", "-")


def _linter_for(path: Path | None) -> Linter | ConfigError:
    directory = (path.parent if path is not None else Path.cwd()).resolve()
    if directory not in _CONFIG_FOR_DIR:
        _CONFIG_FOR_DIR[directory] = find_config(directory)
    config = _CONFIG_FOR_DIR[directory]
    linter = _LINTERS.get(config)
    if linter is None:
        try:
            settings = load_settings(config, directory)
            settings.kb  # validate knowledge-base extensions now  # noqa: B018
        except ConfigError as error:
            linter = error
        else:
            root = config.parent if config is not None else None
            linter = Linter(settings, Project.for_paths([], root), noqa=False)
        _LINTERS[config] = linter
    return linter


def clear_cache() -> None:
    """Forget cached configuration (tests, long-running hosts)."""
    _CONFIG_FOR_DIR.clear()
    _LINTERS.clear()


class Flake8Checker:
    """The flake8 ``tree`` plugin; flake8 passes ``tree``, ``filename`` and ``lines``."""

    name = "idemlint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: list[str]) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        path = None if self.filename in _STDIN_NAMES else Path(self.filename)
        linter = _linter_for(path)
        if isinstance(linter, ConfigError):
            # Like `idemlint check` (exit 2): nothing is linted with a broken configuration.
            yield 1, 0, f"IDL001 invalid idemlint configuration: {linter}", type(self)
            return
        text = "".join(self.lines)
        if not linter.worth_parsing(text.encode("utf-8", "surrogatepass")):
            return  # the same prefilter as `idemlint check`: nothing here can be reported
        source = SourceFile.from_text(os.fspath(self.filename), text)
        tree = self.tree if isinstance(self.tree, ast.Module) else None
        result = linter.check_source(source, path, tree)
        for error in result.internal_errors:  # a bug in one rule; the others still report
            sys.stderr.write(f"idemlint: error: {error}\n")
        for finding in result.findings:
            if finding.code == "IDL002":
                continue
            yield finding.line, max(finding.column - 1, 0), (
                f"{finding.code} {finding.message}"
            ), type(self)
