"""Command line: ``idemlint check``, ``idemlint rule``, ``idemlint lsp``.

Exit codes (ruff's): 0 no findings (or all fixed), 1 findings remain (or ``--diff`` has
changes), 2 usage, configuration or internal error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .cli_common import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, UsageError, reads_stdin
from .cli_io import out, silence_stdout
from .config import ConfigError
from .docs import rule_page
from .output import names
from .registry import all_rules

__all__ = ["EXIT_CLEAN", "EXIT_ERROR", "EXIT_FINDINGS", "UsageError", "main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idemlint",
        description="Find code in durable-execution handlers that breaks on replay.",
    )
    parser.add_argument("--version", action="version", version=f"idemlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="lint files and directories (default: .)")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       help="files and directories to lint; `-` reads the source from stdin")
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
    check.add_argument("--stdin-filename", metavar="PATH",
                       help="the path of the source read from stdin (`-`): for configuration, "
                            "per-file-ignores and the printed path")
    check.add_argument("--respect-gitignore", action=argparse.BooleanOptionalAction,
                       default=None,
                       help="skip files ignored by .gitignore, .ignore and git's global "
                            "excludes while walking directories (default: on)")
    check.add_argument("-w", "--watch", action="store_true",
                       help="run again whenever a Python file or the configuration changes")
    check.add_argument("--show-settings", action="store_true",
                       help="print the resolved settings for the first file and exit")
    check.add_argument("--show-files", action="store_true",
                       help="print the files that would be checked and exit")

    rule = sub.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code", nargs="?", help="a rule code, e.g. IDL101")
    rule.add_argument("--all", action="store_true", help="list every rule")

    lsp = sub.add_parser("lsp", help="run the language server on stdio")
    lsp.add_argument("--stdio", action="store_true",
                     help="speak on stdin/stdout (the default; accepted for LSP clients)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "rule":
            return _rule(args)
        if args.command == "lsp":
            try:
                from .lsp import serve
            except ImportError as exc:  # the `lsp` extra is not installed
                raise UsageError(
                    f"`idemlint lsp` needs pygls 2 and lsprotocol ({exc}); "
                    'install them with: pip install "idemlint[lsp]"'
                ) from exc
            return serve()
        if args.command != "check":
            _parser().print_help(sys.stderr)
            return EXIT_ERROR
        return _check(args)
    except (ConfigError, UsageError) as exc:
        print(f"idemlint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of our output went away: not an error of ours
        silence_stdout()
        return EXIT_ERROR


def _check(args: argparse.Namespace) -> int:
    _validate(args)
    if reads_stdin(args):
        from .cli_stdin import check_stdin

        return check_stdin(args)
    from .cli_check import check

    if args.watch:
        from .cli_watch import watch

        return watch(args, lambda: check(args))
    return check(args)


def _validate(args: argparse.Namespace) -> None:
    """Combinations of options that cannot work together (exit 2)."""
    if args.add_noqa and (args.fix or args.diff):
        raise UsageError("--add-noqa cannot be combined with --fix or --diff")
    if reads_stdin(args):
        if args.paths != [Path("-")]:
            raise UsageError("`-` (read from stdin) cannot be combined with other paths")
        for flag, name in ((args.add_noqa, "--add-noqa"), (args.watch, "--watch"),
                           (args.show_files, "--show-files"),
                           (args.show_settings, "--show-settings")):
            if flag:
                raise UsageError(f"{name} cannot be used when reading from stdin (`-`)")
    elif args.stdin_filename is not None:
        raise UsageError("--stdin-filename needs `-` as the path to lint")
    if args.watch and (args.add_noqa or args.diff or args.show_files or args.show_settings):
        raise UsageError("--watch cannot be combined with --add-noqa, --diff or --show-*")


def _rule(args: argparse.Namespace) -> int:
    rules = all_rules()
    if args.all or not args.code:
        width = max(len(r.name) for r in rules.values())
        for code, rule in rules.items():
            fix = {"always": "fix", "sometimes": "fix?", "none": ""}[rule.fix_availability]
            default = "" if rule.default_enabled else " (opt-in)"
            out(f"{code}  {rule.name:<{width}}  {fix:<4}  {rule.summary}{default}\n")
        return EXIT_CLEAN
    code = args.code.upper()
    if code not in rules:
        raise UsageError(f"unknown rule {args.code!r} (try `idemlint rule --all`)")
    page = rule_page(code)
    if page is None:
        rule = rules[code]
        page = f"# {code} ({rule.name})\n\n{rule.summary}\n"
    out(page if page.endswith("\n") else page + "\n")
    return EXIT_CLEAN


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
