"""``--show-settings`` (the resolved configuration for a file) and ``--show-files`` (what a
run would check). Both print to stdout and exit 0; ``--output-format json`` gives JSON."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .cli_check import emit
from .cli_common import EXIT_CLEAN
from .config import OPTIONS, Settings
from .discovery import discover
from .registry import all_rules, expand_selector, select_codes

_BARE_KEY = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def show_files(args: argparse.Namespace, settings: Settings, paths: list[Path]) -> int:
    files = [t.display for t in discover(paths, settings, args.force_exclude)
             if t.path.exists() or t.path.is_symlink()]
    if args.output_format == "json":
        text = json.dumps(files, indent=2) + "\n"
    else:
        text = "".join(f"{name}\n" for name in files)
    emit(text, args.output_file)
    return EXIT_CLEAN


def show_settings(args: argparse.Namespace, settings: Settings, paths: list[Path]) -> int:
    """The settings in force for the first file a run would check (or the first path)."""
    first = next(iter(discover(paths, settings, args.force_exclude)), None)
    target = first.path if first is not None else paths[0]
    shown = first.display if first is not None else str(paths[0])
    values = settings_values(settings)
    enabled = enabled_for(settings, target)
    source = str(settings.source) if settings.source else None
    if args.output_format == "json":
        document = {"path": shown, "configuration": source, "root": str(settings.root),
                    "settings": values, "enabled": enabled,
                    "excluded": settings.is_excluded(target)}
        emit(json.dumps(document, indent=2) + "\n", args.output_file)
        return EXIT_CLEAN
    lines = [f"# Resolved settings for: {shown}",
             f"# Configuration file: {source or 'none (defaults)'}",
             f"# Root: {settings.root}"]
    tables: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in values.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        elif value is None:
            lines.append(f"# {key}: not set (the rules enabled by default)")
        else:
            lines.append(f"{key} = {_toml(value)}")
    lines.append(f"# enabled for this file (after per-file-ignores): {len(enabled)} rules")
    lines.append(f"enabled = {_toml(enabled)}")
    for key, table in tables:
        lines.append("")
        lines.append(f"[{key}]")
        lines.extend(f"{_key(k)} = {_toml(v)}" for k, v in table.items())
    emit("\n".join(lines) + "\n", args.output_file)
    return EXIT_CLEAN


def settings_values(settings: Settings) -> dict[str, Any]:
    """Every option's resolved value, by its configuration key, as JSON-ready values."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        value = getattr(settings, option.key.replace("-", "_"))
        if option.kind == "per-file":
            value = {pattern: list(codes) for pattern, codes in value}
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        values[option.key] = value
    return values


def enabled_for(settings: Settings, path: Path) -> list[str]:
    """The rule codes that run on ``path``: the selection minus its per-file-ignores."""
    rules = all_rules()
    enabled = select_codes(settings.select, settings.extend_select, settings.ignore, rules)
    for selector in settings.ignored_codes(path):
        enabled -= expand_selector(selector, list(rules))
    return sorted(enabled)


def _key(key: str) -> str:
    return key if key and set(key) <= _BARE_KEY else json.dumps(key)


def _toml(value: Any) -> str:
    """A TOML value (strings as basic strings, tables inline)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))
