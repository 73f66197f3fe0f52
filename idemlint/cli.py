"""Command line: ``idemlint check``, ``idemlint rule``, ``idemlint lsp``.

Exit codes (ruff's): 0 no findings (or all fixed), 1 findings remain (or ``--diff`` has
changes), 2 usage, configuration or internal error.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import ConfigError, Settings, load_settings
from .diagnostics import Finding
from .discovery import discover
from .docs import rule_page
from .engine import FileResult
from .output import SHOWS_EDITS, Report, names, render
from .project import Project
from .registry import all_rules, is_valid_selector
from .runner import Job, run

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A bad command line (exit 2)."""


def _codes(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip().upper()
            if not part:
                continue
            if not is_valid_selector(part):
                raise UsageError(f"unknown rule selector {part!r} (try `idemlint rule --all`)")
            out.append(part)
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idemlint",
        description="Find code in durable-execution handlers that breaks on replay.",
    )
    parser.add_argument("--version", action="version", version=f"idemlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="lint files and directories (default: .)")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    check.add_argument("--select", action="append", metavar="CODES",
                       help="only these rule codes or prefixes (comma-separated)")
    check.add_argument("--extend-select", action="append", metavar="CODES",
                       help="enable these codes on top of the selection")
    check.add_argument("--ignore", action="append", metavar="CODES",
                       help="disable these codes or prefixes")
    check.add_argument("--output-format", default="text", choices=names(),
                       help="how findings are printed (default: text)")
    check.add_argument("-o", "--output-file", type=Path, help="write findings to a file")
    check.add_argument("--fix", action=argparse.BooleanOptionalAction, default=False,
                       help="apply safe fixes")
    check.add_argument("--unsafe-fixes", action=argparse.BooleanOptionalAction, default=None,
                       help="also apply (and show) unsafe fixes")
    check.add_argument("--diff", action="store_true",
                       help="print the fixes as a unified diff instead of writing them")
    check.add_argument("--show-fixes", action="store_true", help="list what was fixed")
    check.add_argument("--exit-zero", action="store_true",
                       help="exit 0 even if findings remain")
    check.add_argument("--exit-non-zero-on-fix", action="store_true",
                       help="exit 1 if any file was fixed, even if nothing remains")
    check.add_argument("--statistics", action="store_true", help="print counts per rule")
    check.add_argument("--add-noqa", action="store_true",
                       help="append `# noqa: CODE` to every line with a finding (adoption)")
    check.add_argument("--config", type=Path, metavar="FILE",
                       help="use this idemlint.toml / pyproject.toml")
    check.add_argument("--isolated", action="store_true", help="ignore configuration files")
    check.add_argument("-q", "--quiet", action="store_true", help="print findings only")
    check.add_argument("--force-exclude", action="store_true",
                       help="apply exclusions to paths given explicitly (for pre-commit)")
    check.add_argument("-j", "--jobs", type=int, default=None,
                       help="worker processes (default: number of CPUs)")
    check.add_argument("--no-cache", action="store_true",
                       help="do not read or write the result cache (.idemlint_cache)")

    rule = sub.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code", nargs="?", help="a rule code, e.g. IDL101")
    rule.add_argument("--all", action="store_true", help="list every rule")

    sub.add_parser("lsp", help="run the language server on stdio")
    sub.add_parser("clean", help="remove the result cache (.idemlint_cache)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "rule":
            return _rule(args)
        if args.command == "clean":
            return _clean()
        if args.command == "lsp":
            from .lsp import serve

            serve()
            return EXIT_CLEAN
        if args.command != "check":
            _parser().print_help(sys.stderr)
            return EXIT_ERROR
        return _check(args)
    except (ConfigError, UsageError) as exc:
        print(f"idemlint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _settings(args: argparse.Namespace) -> Settings:
    start = args.paths[0] if args.paths else Path.cwd()
    settings = load_settings(args.config, start if start.exists() else Path.cwd(), args.isolated)
    select = _codes(args.select)
    changes: dict[str, object] = {}
    if select is not None:
        changes["select"] = tuple(select)
    extend = _codes(args.extend_select)
    if extend:
        changes["extend_select"] = settings.extend_select + tuple(extend)
    ignore = _codes(args.ignore)
    if ignore:
        changes["ignore"] = settings.ignore + tuple(ignore)
    return settings.with_overrides(**changes) if changes else settings


def _check(args: argparse.Namespace) -> int:
    settings = _settings(args)
    settings.kb  # configuration errors surface before any work  # noqa: B018
    paths: list[Path] = args.paths or [Path(".")]
    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(map(str, missing))}")
    unsafe = settings.unsafe_fixes if args.unsafe_fixes is None else args.unsafe_fixes
    if args.add_noqa and (args.fix or args.diff):
        raise UsageError("--add-noqa cannot be combined with --fix or --diff")
    job = Job(
        fix=args.fix or args.diff,
        unsafe=unsafe,
        diff=args.diff,
        materialize=args.output_format in SHOWS_EDITS and not args.diff,
    )
    project = Project.for_paths(paths, settings.source.parent if settings.source else None)
    results = run(
        discover(paths, settings, args.force_exclude), settings, job, project, args.jobs,
        use_cache=not args.no_cache,
    )
    findings = sorted((f for r in results for f in r.findings), key=lambda f: f.sort_key)
    fixed: Counter[str] = Counter()
    for result in results:
        fixed.update(result.fixed)
    internal = [e for r in results for e in r.internal_errors]
    for error in internal:
        print(f"idemlint: error: {error}", file=sys.stderr)
    for result in results:
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

    report = Report(findings, unsafe_fixes=unsafe, fixed=fixed, show_fixes=args.show_fixes)
    _emit(render(args.output_format, report), args.output_file)
    if args.statistics:
        _statistics(findings, report)
    if not args.quiet:
        _summary(findings, fixed, report, args, results)
    if internal:
        return EXIT_ERROR
    if args.exit_non_zero_on_fix and sum(fixed.values()):
        return EXIT_FINDINGS
    if findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _emit(text: str, output_file: Path | None) -> None:
    if output_file is not None:
        output_file.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()  # findings before the summary on stderr


def _diff(results: list[FileResult], args: argparse.Namespace, internal: list[str]) -> int:
    changed = 0
    count = 0
    for result in results:
        if result.fixed_text is None or result.original is None:
            continue
        changed += 1
        count += sum(result.fixed.values())
        sys.stdout.writelines(
            difflib.unified_diff(
                result.original.splitlines(keepends=True),
                result.fixed_text.splitlines(keepends=True),
                fromfile=result.path,
                tofile=result.path,
            )
        )
    if not args.quiet:
        if changed:
            print(f"Would fix {count} error{'s' * (count != 1)} in {changed} "
                  f"file{'s' * (changed != 1)}.", file=sys.stderr)
        else:
            print("No fixes available.", file=sys.stderr)
    if internal:
        return EXIT_ERROR
    return EXIT_FINDINGS if changed else EXIT_CLEAN


def _add_noqa(results: list[FileResult], args: argparse.Namespace, internal: list[str]) -> int:
    from .suppress import run_add_noqa

    changed, errors = run_add_noqa(results)
    for error in errors:
        print(f"idemlint: error: {error}", file=sys.stderr)
    if not args.quiet:
        print(f"Added {changed} noqa directive{'s' * (changed != 1)}.", file=sys.stderr)
    return EXIT_ERROR if errors or internal else EXIT_CLEAN


def _statistics(findings: list[Finding], report: Report) -> None:
    rules = report.rules
    counts = Counter(f.code for f in findings)
    fixable = {f.code for f in findings if report.applicable(f)}
    width = max((len(str(n)) for n in counts.values()), default=1)
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        marker = "[*]" if code in fixable else "   "
        name = rules[code].name if code in rules else ""
        print(f"{count:>{width}}\t{code}\t{marker} {name}")


def _summary(
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


def _clean() -> int:
    from .cache import CACHE_DIR_NAME, cache_dir, clean

    settings = load_settings(start=Path.cwd())
    candidates = {p.resolve(): p for p in (cache_dir(settings), Path.cwd() / CACHE_DIR_NAME)}
    for removed in clean(candidates.values()):
        print(f"Removed {removed}", file=sys.stderr)
    return EXIT_CLEAN


def _rule(args: argparse.Namespace) -> int:
    rules = all_rules()
    if args.all or not args.code:
        width = max(len(r.name) for r in rules.values())
        for code, rule in rules.items():
            fix = {"always": "fix", "sometimes": "fix?", "none": ""}[rule.fix_availability]
            default = "" if rule.default_enabled else " (opt-in)"
            print(f"{code}  {rule.name:<{width}}  {fix:<4}  {rule.summary}{default}")
        return EXIT_CLEAN
    code = args.code.upper()
    if code not in rules:
        raise UsageError(f"unknown rule {args.code!r} (try `idemlint rule --all`)")
    page = rule_page(code)
    if page is None:
        rule = rules[code]
        page = f"# {code} ({rule.name})\n\n{rule.summary}\n"
    sys.stdout.write(page if page.endswith("\n") else page + "\n")
    return EXIT_CLEAN


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
