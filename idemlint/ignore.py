"""Git's ignore files while walking a tree: ``.gitignore`` (nested), ``.ignore``,
``.git/info/exclude`` and the global excludes file, matched with ``pathspec``.

Precedence is git's (and ripgrep's for ``.ignore``): a deeper file overrides a shallower one,
``.ignore`` overrides ``.gitignore`` in the same directory, and the global excludes file has
the lowest priority. The last pattern that matches decides, so ``!keep.py`` re-includes. A
directory that is ignored is not entered (git cannot re-include a file inside it either).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec

# pathspec is imported when an ignore file is found: a run on a tree without any pays nothing.

IGNORE_FILES = (".gitignore", ".ignore")  # lowest priority first


@dataclass(frozen=True)
class Layer:
    """The patterns of one ignore file, relative to ``base`` (an absolute directory).

    ``any`` is every pattern's regular expression in one: most paths match none, and one
    ``re.match`` tells so without going through ``pathspec``'s per-pattern loop.
    """

    base: str
    spec: pathspec.GitIgnoreSpec
    any: re.Pattern[str] | None

    @classmethod
    def of(cls, base: str, spec: pathspec.GitIgnoreSpec) -> Layer:
        parts = [
            _UNNAMED.sub("(?:", regex.pattern)
            for pattern in spec.patterns
            if pattern.include is not None
            and isinstance(regex := getattr(pattern, "regex", None), re.Pattern)
        ]
        try:
            combined = re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None
        except re.error:  # pragma: no cover (pathspec's expressions always combine)
            combined = None
        return cls(base, spec, combined)


_UNNAMED = re.compile(r"\(\?P<[^>]+>")

Chain = tuple[Layer, ...]  # lowest priority first


def load(path: Path, base: Path) -> Layer | None:
    """The layer of one ignore file (None if it is unreadable or has no patterns)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError:
        return None
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    if not len(spec):
        return None
    return Layer.of(os.path.abspath(base), spec)


def ignored(chain: Chain, path: str, is_dir: bool) -> bool:
    """Whether the absolute ``path`` is ignored by ``chain`` (deepest decisive match wins)."""
    for layer in reversed(chain):
        base = layer.base
        if not path.startswith(base):
            continue
        relative = path[len(base) :].lstrip(os.sep)
        if not relative:
            continue
        if os.sep != "/":  # pragma: no cover
            relative = relative.replace(os.sep, "/")
        if is_dir:
            relative += "/"
        if layer.any is not None and layer.any.match(relative) is None:
            continue
        result = layer.spec.check_file(relative)
        if result.include is not None:
            return bool(result.include)
    return False


def layers_in(directory: Path, names: set[str] | frozenset[str]) -> list[Layer]:
    """The layers of the ignore files among ``names`` (a listing of ``directory``)."""
    out: list[Layer] = []
    for name in IGNORE_FILES:
        if name in names:
            layer = load(directory / name, directory)
            if layer is not None:
                out.append(layer)
    return out


def chain_above(root: Path, stop: Path | None) -> Chain:
    """The layers that apply to a walk starting at ``root`` from outside it: the global
    excludes file, the repository's ``info/exclude``, then the ignore files of ``root``'s
    ancestors up to the repository's top (or ``stop`` when not in a repository)."""
    root = Path(os.path.abspath(root))
    repo = _repository(root)
    layers: list[Layer] = []
    global_layer = _global_excludes()
    if global_layer is not None:
        layers.append(Layer.of(str(repo or Path(root.anchor)), global_layer.spec))
    top = repo or (Path(os.path.abspath(stop)) if stop is not None else None)
    if repo is not None:
        exclude = load(repo / ".git" / "info" / "exclude", repo)
        if exclude is not None:
            layers.append(exclude)
    if top is not None and top != root and top in root.parents:
        ancestors = [p for p in reversed(root.parents) if p == top or top in p.parents]
        for directory in ancestors:
            layers.extend(layers_in(directory, frozenset(IGNORE_FILES)))
    return tuple(layers)


def _repository(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


@lru_cache(maxsize=1)
def _global_excludes() -> Layer | None:
    """git's ``core.excludesFile``, else ``$XDG_CONFIG_HOME/git/ignore``."""
    path = _configured_excludes_file() or _xdg_config() / "git" / "ignore"
    return load(path, Path("/"))


def _xdg_config() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return Path(xdg) if xdg else Path.home() / ".config"


_SECTION = re.compile(r"^\s*\[\s*([A-Za-z0-9.-]+)(?:\s+\"[^\"]*\")?\s*\]")
_EXCLUDES = re.compile(r"^\s*excludesfile\s*=\s*(.*?)\s*$", re.IGNORECASE)


def _configured_excludes_file() -> Path | None:
    """``core.excludesFile`` from the user's git configuration (global file, then XDG)."""
    found: str | None = None
    for config in (_xdg_config() / "git" / "config", Path.home() / ".gitconfig"):
        try:
            text = config.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        section = ""
        for line in text.splitlines():
            header = _SECTION.match(line)
            if header:
                section = header.group(1).lower()
                continue
            match = _EXCLUDES.match(line)
            if section == "core" and match:
                found = match.group(1).strip('"')  # ~/.gitconfig is read last and wins
    if not found:
        return None
    return Path(os.path.expanduser(found))
