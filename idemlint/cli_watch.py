"""``idemlint check --watch``: lint, then lint again whenever a Python file, a configuration
file or an ignore file under the given paths changes (``watchfiles``, the ``watch`` extra).

Like ruff, each run starts on a cleared screen (when stdout is a terminal) and the status
lines carry the time; they go to stderr, findings to stdout. Ctrl-C ends it with exit 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .cli_common import EXIT_CLEAN, UsageError
from .cli_io import out
from .config import CONFIG_FILES, ConfigError
from .discovery import PYTHON_SUFFIXES
from .ignore import IGNORE_FILES

CLEAR = "\x1b[2J\x1b[3J\x1b[H"
WATCHED_NAMES = frozenset((*CONFIG_FILES, *IGNORE_FILES))


def relevant(path: str) -> bool:
    """Changes that can change the result: Python files, configuration, ignore files."""
    name = Path(path).name
    return name.endswith(PYTHON_SUFFIXES) or name in WATCHED_NAMES


def watch(args: argparse.Namespace, run_once: Callable[[], int]) -> int:
    try:
        import watchfiles
    except ImportError:
        raise UsageError(
            "--watch needs the `watch` extra: pip install \"idemlint[watch]\""
        ) from None
    paths = [str(p) for p in (args.paths or [Path(".")])]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    _status("Starting linter in watch mode...", clear=True)
    _run(run_once)
    try:
        for changes in watchfiles.watch(
            *paths, watch_filter=lambda _change, path: relevant(path), raise_interrupt=True
        ):
            _status(f"File change detected ({len(changes)} "
                    f"change{'s' * (len(changes) != 1)})...", clear=True)
            _run(run_once)
    except KeyboardInterrupt:
        pass
    return EXIT_CLEAN


def _run(run_once: Callable[[], int]) -> None:
    try:
        run_once()
    except (ConfigError, UsageError) as exc:  # fixed while watching: keep watching
        print(f"idemlint: error: {exc}", file=sys.stderr)
    _status("Watching for file changes.")


def _status(message: str, clear: bool = False) -> None:
    if clear and sys.stdout.isatty():
        out(CLEAR)
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)
