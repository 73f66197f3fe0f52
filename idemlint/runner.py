"""Running the linter over many files: cheap prefilter in-process, parsing in parallel.

Every file is read once here and tested against the rules' triggers (a substring search on
the lower-cased bytes, ~14M lines/s); only files that can hold a finding are parsed, in a
process pool when there is enough work to pay for one. ``--fix`` writes are atomic.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Iterable
from dataclasses import dataclass

from .config import Settings
from .discovery import Target
from .engine import FileResult, Linter
from .fixes.write import NotWritten, replace_file
from .fixes.write import write_atomically as write_atomically  # re-exported
from .project import Project
from .source import LoadError, SourceFile, read

# Below this much source to parse, a process pool costs more than it saves.
PARALLEL_MIN_BYTES = 400_000


@dataclass(frozen=True)
class Job:
    """What to do with each file."""

    fix: bool = False  # compute fixed text (write it unless ``diff``)
    unsafe: bool = False
    diff: bool = False  # compute fixes, never write
    materialize: bool = False  # build fix edits for output (json, sarif, full, ...)
    fix_codes: frozenset[str] | None = None  # only fix these codes (None: all selected)


_WORKER: tuple[Linter, Job] | None = None


def _init_worker(settings: Settings, project: Project, job: Job) -> None:
    global _WORKER
    _WORKER = (Linter(settings, project), job)


def _work(item: tuple[Target, bytes | None]) -> FileResult:
    assert _WORKER is not None
    linter, job = _WORKER
    return process(linter, job, *item)


def process(linter: Linter, job: Job, target: Target, raw: bytes | None) -> FileResult:
    """Lint (and maybe fix) one file; never raises for bad input."""
    if raw is None:
        result = linter.check_path(target.path, target.display)
    else:
        result = _process_bytes(linter, job, target, raw)
    result.source = None  # not needed by the caller; keeps results small to pickle
    return result


def _process_bytes(linter: Linter, job: Job, target: Target, raw: bytes) -> FileResult:
    if not job.fix and not job.diff:
        result = linter.check_bytes(target.display, raw, target.path)
        if job.materialize:
            linter.materialize_fixes(result, target.path)
        return result
    try:
        source = SourceFile.from_bytes(target.display, raw)
    except LoadError:
        return linter.check_bytes(target.display, raw, target.path)
    result = linter.fix_source(source, target.path, job.unsafe, set(job.fix_codes or ()) or None)
    if job.materialize:
        linter.materialize_fixes(result, target.path)
    if result.fixed_text is not None and job.fix and not job.diff:
        try:
            replace_file(target.path, raw, source.encode(result.fixed_text))
        except NotWritten as refused:
            return _not_written(linter, job, target, raw, refused)
        except OSError as exc:
            result.internal_errors.append(
                f"{target.display}: not written: {exc.strerror or exc}")
            result.fixed.clear()
    return result


def _not_written(
    linter: Linter, job: Job, target: Target, raw: bytes, refused: NotWritten
) -> FileResult:
    """A file left alone: gone or changed is that file's error (IDL001), the run goes on;
    read-only keeps the findings of the text on disk, with a warning."""
    if refused.vanished or refused.changed:
        error = LoadError(f"not fixed: {refused.reason}")
        findings = linter.load_error_findings(target.display, error, target.path)
        return FileResult(target.display, findings)
    result = linter.check_bytes(target.display, raw, target.path)
    if job.materialize:
        linter.materialize_fixes(result, target.path)
    result.warnings.append(f"{target.display}: not fixed: {refused.reason}")
    return result


def tune_gc() -> None:
    """Fewer cyclic collections: syntax trees with parent links are large and cyclic, and the
    default thresholds rescan them constantly (measured: ~1.5x faster). Objects alive now
    (interpreter, knowledge base) are frozen out of collections."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def run(
    targets: Iterable[Target],
    settings: Settings,
    job: Job,
    project: Project | None = None,
    jobs: int | None = None,
) -> list[FileResult]:
    """Lint every target; results in the order of ``targets``."""
    project = project if project is not None else Project()
    linter = Linter(settings, project)
    tune_gc()
    results: list[FileResult | None] = []
    pending: list[tuple[int, tuple[Target, bytes | None]]] = []
    pending_bytes = 0
    for target in targets:
        try:
            raw = read(target.path, settings.max_file_size)
        except LoadError as error:
            results.append(
                FileResult(target.display, linter.load_error_findings(target.display, error, target.path))
            )
            continue
        if not linter.always_parse and not linter.worth_parsing(raw):
            results.append(FileResult(target.display, skipped=True))
            continue
        results.append(None)
        pending.append((len(results) - 1, (target, raw)))
        pending_bytes += len(raw)
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers > 1 and len(pending) > 1 and pending_bytes >= PARALLEL_MIN_BYTES:
        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        chunk = max(1, min(16, len(pending) // (workers * 4)))
        with context.Pool(
            min(workers, len(pending)), _init_worker, (settings, project, job)
        ) as pool:
            done = pool.map(_work, [item for _, item in pending], chunksize=chunk)
        for (index, _), result in zip(pending, done, strict=True):
            results[index] = result
    else:
        for index, item in pending:
            results[index] = process(linter, job, *item)
    return [r for r in results if r is not None]
