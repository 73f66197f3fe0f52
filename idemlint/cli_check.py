"""``idemlint check`` on files and directories: run, report, summarise, exit code."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections import Counter
from pathlib import Path

from .cli_common import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, UsageError, resolve_settings
from .cli_io import out, use_color, write_file
from .diagnostics import Finding
from .discovery import discover
from .engine import FileResult
from .output import Report, render
from .project import Project
from .runner import Job, run

# Formats whose reader is a program: ``--statistics`` is JSON there too.
JSON_FORMATS = ("json", "json-lines")


def check(args: argparse.Namespace) -> int:
    """Lint the given paths once (``--watch`` calls this on every change)."""
    settings = resolve_settings(args)
    settings.kb  # configuration errors surface before any work  # noqa: B018
    paths = given_paths(args)
    if args.show_settings or args.show_files:
        from .cli_show import show_files, show_settings

        return show_settings(args, settings, paths) if args.show_settings else show_files(
            args, settings, paths)
    unsafe = settings.unsafe_fixes if args.unsafe_fixes is None else args.unsafe_fixes
    job = Job(
        fix=args.fix or args.diff,
        unsafe=unsafe,
        diff=args.diff,
    )
    project = Project.for_paths(paths, settings.source.parent if settings.source else None)
    results = run(
        discover(paths, settings, args.force_exclude), settings, job, project, args.jobs,
        use_cache=not args.no_cache,
    )
    return report(args, results, unsafe)


def given_paths(args: argparse.Namespace) -> list[Path]:
    """The paths to lint; all of them missing is a usage error (a typo), some of them missing
    is reported for each (IDL001) while the others are linted."""
    paths: list[Path] = args.paths or [Path(".")]
    if not any(p.exists() or p.is_symlink() for p in paths):
        raise UsageError(f"no such file or directory: {', '.join(map(str, paths))}")
    return paths


def report(args: argparse.Namespace, results: list[FileResult], unsafe: bool) -> int:
    """Print what ``results`` hold in the requested form; the exit code."""
    findings = sorted((f for r in results for f in r.findings), key=lambda f: f.sort_key)
    fixed: Counter[str] = Counter()
    for result in results:
        fixed.update(result.fixed)
    internal = [e for r in results for e in r.internal_errors]
    for error in internal:
        print(f"idemlint: error: {error}", file=sys.stderr)
    for result in results:
        for warning in result.warnings:
            print(f"idemlint: warning: {warning}", file=sys.stderr)
        for refused in result.refused_fixes:
            print(
                f"idemlint: warning: a fix for {refused.code} in {result.path} would have "
                "produced invalid Python; it was not applied (please report this)",
                file=sys.stderr,
            )

    if args.diff:
        return _diff(results, args, internal)
    if args.add_noqa:
        return _add_noqa(results, args, internal)

    color = args.output_file is None and use_color()
    summary = Report(findings, unsafe_fixes=unsafe, fixed=fixed, show_fixes=args.show_fixes,
                     color=color)
    if args.statistics:
        emit(statistics(findings, summary, args.output_format), args.output_file)
    else:
        emit(render(args.output_format, summary), args.output_file)
    if not args.quiet:
        summarise(findings, fixed, summary, args, results)
    if internal:
        return EXIT_ERROR
    if args.exit_non_zero_on_fix and sum(fixed.values()):
        return EXIT_FINDINGS
    if findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def emit(text: str, output_file: Path | None) -> None:
    if output_file is not None:
        write_file(output_file, text)
    else:
        out(text)


def _diff(results: list[FileResult], args: argparse.Namespace, internal: list[str]) -> int:
    changed = 0
    count = 0
    for result in results:
        if result.fixed_text is None or result.original is None:
            continue
        changed += 1
        count += sum(result.fixed.values())
        out("".join(unified_diff(result)))
    if not args.quiet:
        if changed:
            print(f"Would fix {count} error{'s' * (count != 1)} in {changed} "
                  f"file{'s' * (changed != 1)}.", file=sys.stderr)
        else:
            print("No fixes available.", file=sys.stderr)
    if internal:
        return EXIT_ERROR
    return EXIT_FINDINGS if changed else EXIT_CLEAN


def unified_diff(result: FileResult) -> list[str]:
    assert result.original is not None and result.fixed_text is not None
    return list(difflib.unified_diff(
        result.original.splitlines(keepends=True),
        result.fixed_text.splitlines(keepends=True),
        fromfile=result.path,
        tofile=result.path,
    ))


def _add_noqa(results: list[FileResult], args: argparse.Namespace, internal: list[str]) -> int:
    from .suppress import run_add_noqa

    changed, errors = run_add_noqa(results)
    for error in errors:
        print(f"idemlint: error: {error}", file=sys.stderr)
    if not args.quiet:
        print(f"Added {changed} noqa directive{'s' * (changed != 1)}.", file=sys.stderr)
    return EXIT_ERROR if errors or internal else EXIT_CLEAN


def statistics(findings: list[Finding], report: Report, output_format: str) -> str:
    """Counts per rule, most frequent first: a table, or JSON for the JSON formats (objects
    with ``code``, ``name``, ``count``, ``fixable``, as ruff prints them)."""
    rules = report.rules
    counts = Counter(f.code for f in findings)
    fixable = {f.code for f in findings if report.applicable(f)}
    rows = [
        {"code": code, "name": rules[code].name if code in rules else "", "count": count,
         "fixable": code in fixable}
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    if output_format == "json":
        return json.dumps(rows, indent=2) + "\n"
    if output_format == "json-lines":
        return "".join(json.dumps(row) + "\n" for row in rows)
    width = max((len(str(n)) for n in counts.values()), default=1)
    return "".join(
        f"{row['count']:>{width}}\t{row['code']}\t{'[*]' if row['fixable'] else '   '} "
        f"{row['name']}\n"
        for row in rows
    )


def summarise(
    findings: list[Finding],
    fixed: Counter[str],
    report: Report,
    args: argparse.Namespace,
    results: list[FileResult],
) -> None:
    total_fixed = sum(fixed.values())
    if args.show_fixes and total_fixed:
        print(f"Fixed {total_fixed} error{'s' * (total_fixed != 1)}:", file=sys.stderr)
        rules = report.rules
        for result in results:
            if result.fixed:
                print(f"- {result.path}:", file=sys.stderr)
                for code, n in sorted(result.fixed.items()):
                    print(f"    {n} × {code} ({rules[code].name})", file=sys.stderr)
    if not findings:
        if total_fixed:
            print(f"Found {total_fixed} error{'s' * (total_fixed != 1)} "
                  f"({total_fixed} fixed, 0 remaining).", file=sys.stderr)
        else:
            print("All checks passed!", file=sys.stderr)
        return
    n = len(findings)
    if total_fixed:
        print(f"Found {n + total_fixed} errors ({total_fixed} fixed, {n} remaining).",
              file=sys.stderr)
    else:
        print(f"Found {n} error{'s' * (n != 1)}.", file=sys.stderr)
    fixable = sum(1 for f in findings if report.applicable(f))
    hidden = sum(1 for f in findings if f.fix is not None and not report.applicable(f))
    if fixable:
        print(f"[*] {fixable} fixable with the `--fix` option.", file=sys.stderr)
    if hidden:
        print(f"({hidden} hidden fix{'es' * (hidden != 1)} can be enabled with the "
              "`--unsafe-fixes` option.)", file=sys.stderr)
