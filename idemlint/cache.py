"""The result cache: findings of a file are computed again only when something they depend on
changed (like ruff's ``.ruff_cache``).

An entry is keyed by the file's content and path, the resolved configuration, the knowledge
base, idemlint's own code and the Python version. It also lists what the findings were
computed from outside the file (other modules of the tree read for service definitions, and
the module lookups that found them or not); those are checked again before the entry is
served, so a result is never returned for content the analysis did not see.

Entries are single files written atomically (unique temporary name, then rename), so
concurrent runs can share a cache directory: a reader sees a whole entry or none. Only check
results are stored; ``--fix`` uses one when it shows nothing to fix, and stores the result of
a fixed file under the content it wrote.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from collections.abc import Iterable
from pathlib import Path

from . import __version__
from .config import Settings
from .diagnostics import Finding
from .knowledge import blake2b, bundled_digest
from .project import SUMMARY_MAX_BYTES, Dependency, Project, digest, module_name
from .source import LoadError, read

CACHE_DIR_NAME = ".idemlint_cache"
_FORMAT = 1  # bump when the entry layout changes


def cache_dir(settings: Settings) -> Path:
    """Where the cache lives: ``$IDEMLINT_CACHE_DIR``, else next to the configuration file,
    else in the current directory (ruff's rule)."""
    override = os.environ.get("IDEMLINT_CACHE_DIR")
    if override:
        return Path(override)
    base = settings.source.parent if settings.source is not None else Path.cwd()
    return base / CACHE_DIR_NAME


def disabled_by_environment() -> bool:
    return os.environ.get("IDEMLINT_NO_CACHE", "").strip().lower() not in ("", "0", "false")


def clean(directories: Iterable[Path]) -> list[Path]:
    """Remove cache directories (``idemlint clean``); returns those removed."""
    import shutil

    removed: list[Path] = []
    for directory in directories:
        if directory.is_dir() and not directory.is_symlink():
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
    return removed


class ResultCache:
    """Lookups and stores for one run (one configuration)."""

    def __init__(self, directory: Path, settings: Settings) -> None:
        self.root = directory
        self.directory = directory / f"v{__version__}-{_FORMAT}"
        self.fingerprint = _fingerprint(settings)
        self._digests: dict[str, str] = {}
        self._ready = False
        self.hits = 0
        self.misses = 0

    # -- keys --------------------------------------------------------------------------------
    def key(self, path: Path, display: str, content_digest: str) -> str:
        """The entry name for a file with this content, seen under this path."""
        absolute = os.path.abspath(path)
        name, is_package = module_name(Path(absolute))
        parts = (self.fingerprint, display, absolute, f"{name}:{is_package}", content_digest)
        return blake2b("\0".join(parts).encode("utf-8", "surrogatepass"),
                               digest_size=20).hexdigest()

    def _entry(self, key: str) -> Path:
        return self.directory / key[:2] / key

    # -- lookups -----------------------------------------------------------------------------
    def load(self, key: str, project: Project) -> list[Finding] | None:
        """The cached findings, if the entry exists and its dependencies are unchanged."""
        try:
            with open(self._entry(key), "rb") as handle:
                entry = pickle.load(handle)
            findings, dependencies = entry["findings"], entry["dependencies"]
        except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError, ValueError,
                AttributeError, ImportError, IndexError):
            self.misses += 1
            return None
        if not all(self._still(dep, project) for dep in dependencies):
            self.misses += 1
            return None
        self.hits += 1
        return findings  # type: ignore[no-any-return]

    def _still(self, dependency: Dependency, project: Project) -> bool:
        kind, what, expected = dependency
        if kind == "find":
            dotted, _, near = what.partition("|")
            found = project.find(dotted, Path(near) if near else None)
            return (os.fspath(found) if found is not None else "") == expected
        if kind == "file":
            return self._digest(what) == expected
        return False

    def _digest(self, path: str) -> str:
        known = self._digests.get(path)
        if known is None:
            try:
                known = digest(read(Path(path), SUMMARY_MAX_BYTES))
            except LoadError:
                known = ""
            self._digests[path] = known
        return known

    # -- stores ------------------------------------------------------------------------------
    def store(
        self, key: str, findings: list[Finding], dependencies: Iterable[Dependency]
    ) -> None:
        """Write an entry atomically; a cache that cannot be written is silently skipped."""
        import tempfile

        entry = {"findings": findings, "dependencies": sorted(dependencies)}
        target = self._entry(key)
        try:
            self._prepare()
            target.parent.mkdir(exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    pickle.dump(entry, handle, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temp, target)
            except BaseException:
                if os.path.exists(temp):
                    os.unlink(temp)
                raise
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            return

    def _prepare(self) -> None:
        """Create the directory with a ``.gitignore`` of ``*`` and a CACHEDIR.TAG, as ruff."""
        if self._ready:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, text in (
            (".gitignore", "# Automatically created by idemlint.\n*\n"),
            ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"
                             "# This file is a cache directory tag created by idemlint.\n"),
        ):
            marker = self.root / name
            if not marker.exists():
                with contextlib.suppress(OSError):
                    marker.write_text(text, encoding="utf-8")
        self._ready = True


def _fingerprint(settings: Settings) -> str:
    """Everything besides the file that decides its findings."""
    parts = [
        __version__,
        sys.version,
        _code_stamp(),
        bundled_digest(),
        repr(settings),
    ]
    return blake2b("\0".join(parts).encode("utf-8", "surrogatepass"),
                           digest_size=20).hexdigest()


def _code_stamp() -> str:
    """idemlint's own files (name, size, modification time): a development checkout or an
    upgrade without a version bump invalidates the cache too."""
    package = Path(__file__).resolve().parent
    stamp: list[str] = []
    for directory, subdirectories, files in os.walk(package):
        subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(directory, name))
                stamp.append(f"{directory}/{name}:{info.st_size}:{info.st_mtime_ns}")
    return blake2b("\n".join(stamp).encode("utf-8", "surrogatepass")).hexdigest()
