"""One document's analysis: made on a worker thread, or reused when the text (by content
hash) and its settings are those of an earlier analysis."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pygls.uris import to_fs_path

from ..config import Settings
from ..engine import FileResult, Linter
from ..source import LoadError, SourceFile
from .configs import Configs

Document = tuple[int | None, str]  # (version, text)


@dataclass
class Analysis:
    """The findings of one version of one document."""

    uri: str
    version: int | None
    text: str
    result: FileResult
    linter: Linter | None
    path: Path | None
    settings: Settings | None = None
    digest: bytes = b""
    seconds: float = 0.0  # how long the analysis took (0 when reused)
    generation: int = 0  # the configuration generation it was made (or reused) under
    messages: list[str] = field(default_factory=list)  # internal errors, logged by the loop


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def uri_to_path(uri: str) -> Path | None:
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def analyse(
    uri: str,
    version: int | None,
    text: str,
    configs: Configs,
    roots: list[Path],
    known: Iterable[Analysis | None],
) -> Analysis:
    """Analyse ``text``, or reuse one of the ``known`` analyses of the same text with the same
    settings."""
    started = time.perf_counter()
    generation = configs.generation
    path = uri_to_path(uri)
    config = configs.for_path(path, roots)
    key = digest(text)
    for earlier in known:
        if earlier is not None and earlier.digest == key and earlier.settings == config.settings:
            return replace(earlier, version=version, seconds=0.0, generation=generation,
                           messages=[])
    display = str(path) if path is not None else uri
    source = SourceFile.from_text(display, text)
    messages = [config.error] if config.error else []
    linter, settings = config.linter, config.settings

    def done(result: FileResult, used: Linter | None) -> Analysis:
        messages.extend(result.internal_errors)
        return Analysis(uri, version, text, result, used, path, settings, key,
                        time.perf_counter() - started, generation, messages)

    empty = FileResult(display, source=source)
    if path is not None and settings.is_excluded(path):
        return done(empty, None)
    raw = text.encode("utf-8", "surrogatepass")
    if settings.max_file_size and len(raw) > settings.max_file_size:
        error = LoadError(
            f"file too large to analyse: {len(raw) / 1e6:.1f} MB "
            f"(limit {settings.max_file_size / 1e6:.1f} MB, see `max-file-size`)"
        )
        empty.findings = linter.load_error_findings(display, error, path)
        return done(empty, linter)
    if not linter.worth_parsing(raw):
        return done(empty, linter)
    return done(linter.check_source(source, path), linter)
