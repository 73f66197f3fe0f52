"""What every part of the command line shares: exit codes, usage errors, resolved settings."""

from __future__ import annotations

import argparse
from pathlib import Path

from .config import Settings, load_settings
from .registry import is_valid_selector

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
STDIN = Path("-")


class UsageError(Exception):
    """A bad command line (exit 2)."""


def parse_codes(values: list[str] | None) -> list[str] | None:
    """Comma-separated selectors from repeated options; UsageError for an unknown one."""
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


def reads_stdin(args: argparse.Namespace) -> bool:
    return STDIN in args.paths


def resolve_settings(args: argparse.Namespace, start: Path | None = None) -> Settings:
    """The configuration file's settings with the command line's overrides applied."""
    if start is None:
        start = args.paths[0] if args.paths else Path.cwd()
    settings = load_settings(args.config, start if start.exists() else Path.cwd(), args.isolated)
    select = parse_codes(args.select)
    changes: dict[str, object] = {}
    if select is not None:
        changes["select"] = tuple(select)
    extend = parse_codes(args.extend_select)
    if extend:
        changes["extend_select"] = settings.extend_select + tuple(extend)
    ignore = parse_codes(args.ignore)
    if ignore:
        changes["ignore"] = settings.ignore + tuple(ignore)
    if args.respect_gitignore is not None:
        changes["respect_gitignore"] = args.respect_gitignore
    return settings.with_overrides(**changes) if changes else settings
