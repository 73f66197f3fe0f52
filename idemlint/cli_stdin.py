"""``idemlint check -``: lint source read from stdin, as editors and wrappers call linters.

``--stdin-filename PATH`` says where the text belongs: the configuration is looked up from
there, ``per-file-ignores`` and ``--force-exclude`` apply to it, and findings carry that path
(``-`` without it). With ``--fix`` the fixed source (or the input unchanged) goes to stdout and
the remaining findings to stderr, like ruff; ``--diff`` prints the diff.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from .cli_check import emit, statistics, summarise, unified_diff
from .cli_common import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, resolve_settings
from .cli_io import out, use_color
from .discovery import Target
from .engine import Linter
from .output import Report, render
from .project import Project
from .runner import Job, process
from .source import LoadError, SourceFile


def check_stdin(args: argparse.Namespace) -> int:
    name: str | None = args.stdin_filename
    path = Path(name) if name else Path("-")
    settings = resolve_settings(args, start=_existing(path) if name else Path.cwd())
    settings.kb  # configuration errors surface before any work  # noqa: B018
    raw = sys.stdin.buffer.read()
    fixing = args.fix or args.diff
    if name and args.force_exclude and settings.is_excluded(path):
        if args.fix and not args.diff:
            _out_bytes(raw)
        return EXIT_CLEAN
    unsafe = settings.unsafe_fixes if args.unsafe_fixes is None else args.unsafe_fixes
    job = Job(fix=fixing, unsafe=unsafe, diff=fixing)  # diff: never write, stdin has no file
    project = Project.for_paths([path], settings.source.parent if settings.source else None)
    result = process(Linter(settings, project), job, Target(path, name or "-"), raw)
    for error in result.internal_errors:
        print(f"idemlint: error: {error}", file=sys.stderr)
    findings = sorted(result.findings, key=lambda f: f.sort_key)
    report = Report(findings, unsafe_fixes=unsafe, fixed=result.fixed)
    with contextlib.suppress(LoadError):  # code frames show the text read, not the disk's
        report.remember(SourceFile.from_bytes(name or "-", _fixed_bytes(raw, result.fixed_text)))

    if args.diff:
        changed = result.fixed_text is not None and result.original is not None
        if changed:
            out("".join(unified_diff(result)))
        code = EXIT_FINDINGS if changed else EXIT_CLEAN
    elif args.fix:
        _out_bytes(_fixed_bytes(raw, result.fixed_text))
        if findings:  # what is left, where it does not mix with the source
            report.color = use_color(sys.stderr)
            sys.stderr.write(render(args.output_format, report))
        code = EXIT_FINDINGS if findings and not args.exit_zero else EXIT_CLEAN
        if args.exit_non_zero_on_fix and sum(result.fixed.values()):
            code = EXIT_FINDINGS
    elif args.statistics:
        emit(statistics(findings, report, args.output_format), args.output_file)
        code = EXIT_FINDINGS if findings and not args.exit_zero else EXIT_CLEAN
    else:
        report.color = args.output_file is None and use_color()
        emit(render(args.output_format, report), args.output_file)
        code = EXIT_FINDINGS if findings and not args.exit_zero else EXIT_CLEAN
    if not args.quiet and not args.diff:
        summarise(findings, result.fixed, report, args, [result])
    return EXIT_ERROR if result.internal_errors else code


def _existing(path: Path) -> Path:
    """Where to look for configuration: the file, or its nearest existing directory."""
    for candidate in (path, *path.absolute().parents):
        if candidate.exists():
            return candidate
    return Path.cwd()


def _fixed_bytes(raw: bytes, fixed_text: str | None) -> bytes:
    """The fixed source in the input's own encoding, BOM and newlines; the input itself when
    nothing changed (or it could not be decoded)."""
    if fixed_text is None:
        return raw
    try:
        source = SourceFile.from_bytes("-", raw)
    except LoadError:  # pragma: no cover (no fixes are computed for undecodable input)
        return raw
    return source.encode(fixed_text)


def _out_bytes(data: bytes) -> None:
    sys.stdout.flush()
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        from .cli_io import silence_stdout

        silence_stdout()
