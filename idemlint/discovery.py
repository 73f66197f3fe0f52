"""Which files a run looks at: Python files under the given paths, minus exclusions.

Directory symlinks are not followed (no loops, no escaping the tree); files named explicitly
on the command line are always checked, like ruff does without ``--force-exclude``. A path
that does not exist is still a target: reading it fails, and that is reported for that path
(IDL001) while the others are linted.

Walking costs one ``scandir`` per directory and, per entry, two precompiled regular
expressions (``exclude``) plus the ignore files in force (``.gitignore`` and friends, see
``ignore``); paths are built as strings, and only symlinks are resolved.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import ignore
from .config import Settings

PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True)
class Target:
    """A file to lint and how to show its path (as given: relative stays relative)."""

    path: Path
    display: str


class Excluder:
    """``exclude`` + ``extend-exclude`` compiled once: a pattern without ``/`` matches any
    path component, one with ``/`` the path relative to the configuration root (or a parent
    of it). Same semantics as ``Settings.is_excluded``, without a ``fnmatch`` call per
    pattern and component."""

    def __init__(self, patterns: Sequence[str]) -> None:
        names = [p.rstrip("/") for p in patterns if "/" not in p.rstrip("/")]
        paths = [p.rstrip("/") for p in patterns if "/" in p.rstrip("/")]
        self._name = _compile(names)
        self._path = _compile([*paths, *(p + "/*" for p in paths)])

    def name(self, name: str) -> bool:
        """Whether a single path component is excluded."""
        return self._name is not None and self._name.match(name) is not None

    def relative(self, relative: str) -> bool:
        """Whether a ``/``-separated path relative to the root is excluded by a path pattern."""
        return self._path is not None and self._path.match(relative) is not None

    def path(self, relative: str) -> bool:
        """The whole check for a relative path: any component, or the path patterns."""
        return any(self.name(part) for part in relative.split("/") if part) or self.relative(
            relative
        )


def _compile(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(os.path.normcase(p))})"
                               for p in patterns))


def discover(
    paths: list[Path], settings: Settings, force_exclude: bool = False
) -> Iterator[Target]:
    """Files to lint. ``force_exclude`` applies exclusions to files named explicitly too
    (pre-commit passes every staged file by name)."""
    excluder = Excluder((*settings.exclude, *settings.extend_exclude))
    seen: set[str] = set()
    for given in paths:
        if force_exclude and settings.is_excluded(given):
            continue
        if given.is_dir():
            yield from _Walk(given, settings, excluder, seen).run()
        else:  # a file, a symlink, or missing: reading it tells which
            key = _key(str(given))
            if key not in seen:
                seen.add(key)
                yield Target(given, _display(str(given)))


class _Walk:
    """One directory tree: exclusions, ignore files, symlinked files deduplicated."""

    def __init__(self, root: Path, settings: Settings, excluder: Excluder, seen: set[str]):
        self.root = root
        self.settings = settings
        self.excluder = excluder
        self.seen = seen
        self.respect = settings.respect_gitignore

    def run(self) -> Iterator[Target]:
        relative = self.settings.relative(self.root).as_posix()
        relative = "" if relative == "." else relative
        if relative and self.excluder.path(relative):
            return
        root_abs = os.path.abspath(self.root)
        chain: ignore.Chain = ()
        if self.respect:
            source = self.settings.source
            top = source.parent if source is not None else Path.cwd()
            chain = ignore.chain_above(Path(root_abs), top)
            if ignore.ignored(chain, root_abs, True):
                return
        # (shown path, absolute path, real path, path relative to the configuration root,
        # ignore chain): directory symlinks are not followed, so a child's real path is its
        # parent's plus its name, without a system call.
        sep = os.sep
        # Roots lose a trailing separator ("/" becomes ""): children are parent + sep + name.
        stack = [(str(self.root).rstrip(sep), root_abs.rstrip(sep), _key(root_abs).rstrip(sep),
                  relative, chain)]
        while stack:
            shown, absolute, real, rel, chain = stack.pop()
            try:
                with os.scandir(absolute or sep) as listing:
                    entries = sorted(listing, key=lambda e: e.name)
            except OSError:
                continue
            if self.respect:
                names = {e.name for e in entries}
                if not names.isdisjoint(ignore.IGNORE_FILES):
                    chain = chain + tuple(ignore.layers_in(Path(absolute or sep), names))
            subdirs = []
            for entry in entries:
                name = entry.name
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                if not is_dir and not name.endswith(PYTHON_SUFFIXES):
                    continue
                child_rel = f"{rel}/{name}" if rel else name
                if self.excluder.name(name) or self.excluder.relative(child_rel):
                    continue
                child_abs = absolute + sep + name
                if chain and ignore.ignored(chain, child_abs, is_dir):
                    continue
                child_shown = shown + sep + name
                if is_dir:
                    subdirs.append((child_shown, child_abs, real + sep + name, child_rel, chain))
                    continue
                key = _key(child_abs) if entry.is_symlink() else real + sep + name
                if key not in self.seen:
                    self.seen.add(key)
                    yield Target(Path(child_shown), _display(child_shown))
            stack.extend(reversed(subdirs))


def _key(path: str) -> str:
    """The real path: the same file reached twice is linted once (symlink loops included)."""
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):  # pragma: no cover
        return os.path.abspath(path)


def _display(text: str) -> str:
    return text[2:] if text.startswith("./") else text
