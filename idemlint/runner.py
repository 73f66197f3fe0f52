"""Running the linter over many files: cheap prefilter in-process, parsing in parallel.

Every file is read once here and tested against the rules' triggers (a substring search on
the lower-cased bytes, ~14M lines/s); only files that can hold a finding are parsed, in a
process pool when there is enough work to pay for one. ``--fix`` writes are atomic.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config import Settings
from .diagnostics import Finding
from .discovery import Target
from .engine import FileResult, Linter
from .fixes.write import NotWritten, replace_file
from .fixes.write import write_atomically as write_atomically  # re-exported
from .project import Project, digest
from .source import LoadError, SourceFile, read

if TYPE_CHECKING:
    from .cache import ResultCache

# Below this much source to parse, a process pool costs more than it saves.
PARALLEL_MIN_BYTES = 400_000


@dataclass(frozen=True)
class Job:
    """What to do with each file."""

    fix: bool = False  # compute fixed text (write it unless ``diff``)
    unsafe: bool = False
    diff: bool = False  # compute fixes, never write
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
    project = linter.project if linter.project is not None else Project()
    with project.tracing() as dependencies:
        if raw is None:
            result = linter.check_path(target.path, target.display, build_fixes=True)
        else:
            result = _process_bytes(linter, job, target, raw)
    result.dependencies = frozenset(dependencies)
    result.source = None  # not needed by the caller; keeps results small to pickle
    collect_file_garbage()
    return result


def _process_bytes(linter: Linter, job: Job, target: Target, raw: bytes) -> FileResult:
    # Fixes are built (and syntax-checked) right away whatever the output format: a fix is
    # shown as available only if it applies cleanly, and no result keeps a closure over its
    # file's syntax tree.
    if not job.fix and not job.diff:
        return linter.check_bytes(target.display, raw, target.path, build_fixes=True)
    try:
        source = SourceFile.from_bytes(target.display, raw)
    except LoadError:
        return linter.check_bytes(target.display, raw, target.path, build_fixes=True)
    result = linter.fix_source(
        source, target.path, job.unsafe, set(job.fix_codes or ()) or None, build_fixes=True
    )
    if result.fixed_text is not None and job.fix and not job.diff:
        data = source.encode(result.fixed_text)
        try:
            replace_file(target.path, raw, data)
        except NotWritten as refused:
            return _not_written(linter, target, raw, refused)
        except OSError as exc:
            result.internal_errors.append(
                f"{target.display}: not written: {exc.strerror or exc}")
            result.fixed.clear()
        else:
            result.written_digest = digest(data)
    return result


def _not_written(linter: Linter, target: Target, raw: bytes, refused: NotWritten) -> FileResult:
    """A file left alone: gone or changed is that file's error (IDL001), the run goes on;
    read-only keeps the findings of the text on disk, with a warning."""
    if refused.vanished or refused.changed:
        error = LoadError(f"not fixed: {refused.reason}")
        findings = linter.load_error_findings(target.display, error, target.path)
        return FileResult(target.display, findings)
    result = linter.check_bytes(target.display, raw, target.path, build_fixes=True)
    result.warnings.append(f"{target.display}: not fixed: {refused.reason}")
    return result


def tune_gc() -> None:
    """Fewer cyclic collections: syntax trees with parent links are large and cyclic, and the
    default thresholds rescan them constantly (measured: ~1.5x faster). Objects alive now
    (interpreter, knowledge base) are frozen out of collections."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def collect_file_garbage() -> None:
    """Free the file just analysed, then freeze what survives (the results).

    With the thresholds above, a dead syntax tree (cyclic through parent and scope links)
    would be promoted to a generation that is almost never collected: memory grew with the
    tree size (1.8 GB on 1M lines). One collection per file finds exactly that file's
    garbage, because everything older is frozen and not scanned again."""
    gc.collect()
    gc.freeze()


def run(
    targets: Iterable[Target],
    settings: Settings,
    job: Job,
    project: Project | None = None,
    jobs: int | None = None,
    use_cache: bool = False,
) -> list[FileResult]:
    """Lint every target; results in the order of ``targets``.

    ``use_cache``: serve unchanged files from the result cache and store new results."""
    project = project if project is not None else Project()
    linter = Linter(settings, project)
    cache = _open_cache(settings) if use_cache else None
    tune_gc()
    results: list[FileResult | None] = []
    pending: list[tuple[int, tuple[Target, bytes | None]]] = []
    keys: dict[int, str] = {}
    pending_bytes = 0
    for target in targets:
        try:
            raw = read(target.path, settings.max_file_size)
        except LoadError as error:
            results.append(
                FileResult(target.display, linter.load_error_findings(target.display, error, target.path))
            )
            continue
        if not linter.worth_parsing(raw):
            results.append(FileResult(target.display, skipped=True))
            continue
        if cache is not None:
            key = cache.key(target.path, target.display, digest(raw))
            findings = cache.load(key, project)
            if findings is not None and not (
                (job.fix or job.diff) and any(_wanted(f, job) for f in findings)
            ):
                results.append(FileResult(target.display, findings))
                continue
            keys[len(results)] = key
        results.append(None)
        pending.append((len(results) - 1, (target, raw)))
        pending_bytes += len(raw)
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers > 1 and len(pending) > 1 and pending_bytes >= PARALLEL_MIN_BYTES:
        import multiprocessing  # only when a pool is worth it (start-up cost)

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
    if cache is not None:
        for index, (target, _) in pending:
            _store(cache, keys.get(index), target, results[index], job)
    return [r for r in results if r is not None]


def _open_cache(settings: Settings) -> ResultCache | None:
    from .cache import ResultCache, cache_dir, disabled_by_environment

    if disabled_by_environment():
        return None
    return ResultCache(cache_dir(settings), settings)


def _wanted(finding: Finding, job: Job) -> bool:
    """Whether this job would apply the finding's fix (then a cached result cannot stand in)."""
    fix = finding.fix
    if fix is None or not fix.edits:
        return False
    if job.fix_codes and finding.code not in job.fix_codes:
        return False
    return fix.applicability == "safe" or job.unsafe


def _store(
    cache: ResultCache, key: str | None, target: Target, result: FileResult | None, job: Job
) -> None:
    """Cache what is safe: check results of the content that was analysed."""
    if key is None or result is None or result.internal_errors or result.skipped:
        return
    if result.fixed_text is None:  # the findings are those of the file as read
        cache.store(key, result.findings, result.dependencies)
    elif result.written_digest is not None:  # ... of the text just written
        new_key = cache.key(target.path, target.display, result.written_digest)
        cache.store(new_key, result.findings, result.dependencies)
