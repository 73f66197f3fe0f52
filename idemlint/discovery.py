"""Which files a run looks at: Python files under the given paths, minus exclusions.

Directory symlinks are not followed (no loops, no escaping the tree); files named explicitly
on the command line are always checked, like ruff does without ``--force-exclude``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .config import Settings

PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True)
class Target:
    """A file to lint and how to show its path (as given: relative stays relative)."""

    path: Path
    display: str


def discover(
    paths: list[Path], settings: Settings, force_exclude: bool = False
) -> Iterator[Target]:
    """Files to lint. ``force_exclude`` applies exclusions to files named explicitly too
    (pre-commit passes every staged file by name)."""
    seen: set[Path] = set()
    for given in paths:
        if force_exclude and settings.is_excluded(given):
            continue
        if given.is_dir():
            yield from _walk(given, settings, seen)
        elif given.exists() or given.is_symlink():
            key = _key(given)
            if key not in seen:
                seen.add(key)
                yield Target(given, _display(given))
        # Missing paths are reported by the caller (exit code 2).


def _walk(root: Path, settings: Settings, seen: set[Path]) -> Iterator[Target]:
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as entries:
                items = sorted(entries, key=lambda e: e.name)
        except OSError:
            continue
        subdirs: list[Path] = []
        for entry in items:
            path = directory / entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if settings.is_excluded(path):
                continue
            if is_dir:
                subdirs.append(path)
            elif entry.name.endswith(PYTHON_SUFFIXES):
                key = _key(path)
                if key not in seen:
                    seen.add(key)
                    yield Target(path, _display(path))
        stack.extend(reversed(subdirs))


def _key(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # symlink loops
        return path.absolute()


def _display(path: Path) -> str:
    text = str(path)
    return text[2:] if text.startswith("./") else text
