"""The linted tree as a set of modules: dotted names of files, and lazy summaries of them.

Handlers often decorate a service object created in another module (``from .svc import
greeter``). Only then is that module read and summarised, once per process.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .knowledge import blake2b
from .source import LoadError, SourceFile, read

# ("find", "dotted|near", found path or "") or ("file", path, content digest or ""): checked
# again before a cached result is served (see cache.py).
Dependency = tuple[str, str, str]


def _find_dep(dotted: str, near: Path | None, found: Path | None) -> Dependency:
    where = os.fspath(near) if near is not None else ""
    return ("find", f"{dotted}|{where}", os.fspath(found) if found is not None else "")


def module_name(path: Path) -> tuple[str | None, bool]:
    """Dotted module name of a file from its package chain, and whether it is a package."""
    path = path.resolve() if not path.is_absolute() else path
    if path.suffix not in (".py", ".pyi"):
        return None, False
    is_package = path.stem == "__init__"
    parts: list[str] = [] if is_package else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").exists():
        parts.append(directory.name)
        if directory.parent == directory:
            break
        directory = directory.parent
    if not parts:
        return None, is_package
    parts.reverse()
    if not all(part.isidentifier() for part in parts):
        return None, is_package
    return ".".join(parts), is_package


def package_root(path: Path) -> Path:
    """The directory from which the file's top-level package is importable."""
    directory = path.resolve().parent
    while (directory / "__init__.py").exists() and directory.parent != directory:
        directory = directory.parent
    return directory


@dataclass
class Project:
    """Where to look for modules of the linted tree, and the summaries read so far."""

    roots: list[Path] = field(default_factory=list)
    _files: dict[str, Path | None] = field(default_factory=dict)
    _package_roots: dict[Path, Path] = field(default_factory=dict)
    _cache: dict[Path, object] = field(default_factory=dict)
    # Dependency tracing (for the result cache): what a file's findings were computed from.
    _collectors: list[set[Dependency]] = field(default_factory=list)
    _deps_of: dict[Path, set[Dependency]] = field(default_factory=dict)
    _digests: dict[Path, str] = field(default_factory=dict)

    # -- dependencies ------------------------------------------------------------------------
    @contextmanager
    def tracing(self) -> Iterator[set[Dependency]]:
        """Collect every lookup and every other module used while linting one file."""
        collected: set[Dependency] = set()
        self._collectors.append(collected)
        try:
            yield collected
        finally:
            self._collectors.remove(collected)

    @contextmanager
    def inside(self, path: Path) -> Iterator[None]:
        """Work done on behalf of module ``path`` (its lazy model): what it uses is recorded
        as its own dependency too, so that a later user of its memoised answers gets them."""
        deps = self._deps_of.setdefault(path.resolve(), set())
        self._collectors.append(deps)
        try:
            yield
        finally:
            self._collectors.remove(deps)

    def _record(self, *deps: Dependency) -> None:
        for collector in self._collectors:
            collector.update(deps)

    @classmethod
    def for_paths(cls, paths: Iterable[Path], config_root: Path | None) -> Project:
        roots: list[Path] = []
        for candidate in [*(p if p.is_dir() else p.parent for p in paths)]:
            roots.append(candidate.resolve())
        if config_root is not None:
            roots.extend([config_root, config_root / "src"])
        seen: list[Path] = []
        for root in roots:
            if root not in seen and root.is_dir():
                seen.append(root)
        return cls(roots=seen)

    def find(self, dotted: str, near: Path | None = None) -> Path | None:
        """The file defining module ``dotted``, searched from ``near``'s package root first."""
        if near is not None:
            base = self._package_roots.get(near)
            if base is None:
                base = self._package_roots[near] = package_root(near)
            roots = [base, *self.roots]
        else:
            roots = self.roots
        key = f"{roots[0] if roots else ''}|{dotted}"
        if key in self._files:
            known = self._files[key]
            if self._collectors:
                self._record(_find_dep(dotted, near, known))
            return known
        found: Path | None = None
        relative = Path(*dotted.split("."))
        for root in roots:
            for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
                if candidate.is_file():
                    found = candidate
                    break
            if found is not None:
                break
        self._files[key] = found
        if self._collectors:
            self._record(_find_dep(dotted, near, found))
        return found

    def summary(self, path: Path, build: Callable[[SourceFile, ast.Module], object]) -> object:
        """A summary of another module, built once by ``build`` (``None`` if unreadable)."""
        path = path.resolve()
        if path not in self._cache:
            self._cache[path] = None  # import cycles resolve to "unknown"
            self._summarise(path, build)
        if self._collectors:
            digest = self._digests.get(path, "")
            self._record(("file", os.fspath(path), digest), *self._deps_of.get(path, ()))
        return self._cache[path]

    def _summarise(self, path: Path, build: Callable[[SourceFile, ast.Module], object]) -> None:
        try:
            raw = read(path, SUMMARY_MAX_BYTES)
        except LoadError:
            return
        self._digests[path] = digest(raw)
        try:
            source = SourceFile.from_bytes(os.fspath(path), raw)
            tree = ast.parse(source.text, os.fspath(path))
        except (LoadError, SyntaxError, ValueError, RecursionError, MemoryError):
            return
        self._cache[path] = build(source, tree)


SUMMARY_MAX_BYTES = 2_000_000


def digest(raw: bytes) -> str:
    """Content hash used to tell whether a file changed (result cache)."""
    return blake2b(raw, digest_size=16).hexdigest()
