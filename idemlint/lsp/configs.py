"""Which settings and linter apply to a document: found like the CLI finds them, cached.

Shared by the server (analysis threads) and the fix-all worker process, so both lint a
document with the same configuration.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ..config import ConfigError, Settings, find_config, load_settings
from ..engine import Linter
from ..project import Project


@dataclass
class Resolved:
    """The settings and linter of one configuration file (or of none)."""

    settings: Settings
    linter: Linter
    error: str | None = None


class Configs:
    """Settings per document directory, cached per configuration file; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._file_for_dir: dict[Path, Path | None] = {}
        self._resolved: dict[tuple[Path | None, Path | None], Resolved] = {}
        self.generation = 0  # bumped on every reset: results of older ones are stale
        self.projects = 0  # bumped when other modules' summaries are forgotten

    def reset(self) -> None:
        with self._lock:
            self._file_for_dir.clear()
            self._resolved.clear()
            self.generation += 1

    def for_path(self, path: Path | None, roots: list[Path]) -> Resolved:
        """Settings and linter for a document at ``path`` (``None``: not a file)."""
        root = workspace_root_for(path, roots) if path is not None else None
        directory = path.parent if path is not None else (root or Path.cwd())
        with self._lock:
            if directory not in self._file_for_dir:
                self._file_for_dir[directory] = find_config(directory)
            config_file = self._file_for_dir[directory]
            # Without a configuration file, paths are relative to the workspace folder.
            key = (config_file, None if config_file else (root or directory))
            cached = self._resolved.get(key)
            if cached is None:
                start = config_file.parent if config_file else (root or directory)
                cached = self._resolved[key] = _resolve(config_file, start, roots)
            return cached

    def reset_projects(self, roots: list[Path]) -> None:
        """Forget summaries of other modules (a Python file changed on disk)."""
        with self._lock:
            self.projects += 1
            for resolved in self._resolved.values():
                source = resolved.settings.source
                resolved.linter.project = Project.for_paths(
                    roots, source.parent if source else None
                )


def _resolve(config_file: Path | None, start: Path, roots: list[Path]) -> Resolved:
    error: str | None = None
    try:
        settings = load_settings(config_file, start)
        settings.kb  # knowledge-base extensions are validated here  # noqa: B018
    except ConfigError as exc:
        error = f"idemlint: invalid configuration, using the defaults: {exc}"
        settings = Settings(root=start.resolve())
    project = Project.for_paths(roots, config_file.parent if config_file else None)
    return Resolved(settings, Linter(settings, project), error)


def workspace_root_for(path: Path, roots: list[Path]) -> Path | None:
    """The innermost workspace folder holding ``path``."""
    best: Path | None = None
    for root in roots:
        try:
            path.resolve().relative_to(root.resolve())
        except ValueError:
            continue
        if best is None or len(root.parts) > len(best.parts):
            best = root
    return best
