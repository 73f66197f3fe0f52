"""Configuration: the option schema, discovery of ``[tool.idemlint]``, validation, settings.

The schema (``OPTIONS``) is data: validation, defaults and the configuration reference in the
docs are all generated from it, so they cannot drift apart.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from .knowledge import KnowledgeBase, KnowledgeError, bundled
from .selection import expand_selector, is_valid_selector

CONFIG_FILES = ("idemlint.toml", "pyproject.toml")
DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".hg", ".mypy_cache", ".nox", ".pants.d",
    ".pytest_cache", ".ruff_cache", ".svn", ".tox", ".venv", "__pypackages__", "__pycache__",
    "_build", "buck-out", "build", "dist", "node_modules", "site-packages", "venv",
)


class ConfigError(ValueError):
    """A configuration problem; the message names the file and the key."""


@dataclass(frozen=True)
class Option:
    """One configuration key: its type, default and documentation."""

    key: str
    kind: str  # "codes" | "globs" | "strings" | "bool" | "choice" | "size" | "table" | "per-file"
    default: Any
    doc: str
    example: str = ""
    choices: tuple[str, ...] = ()


OPTIONS: tuple[Option, ...] = (
    Option("select", "codes", None,
           "Rule codes or prefixes to enable (replaces the default set). `ALL` selects every "
           "rule.", 'select = ["IDL1", "IDL201"]'),
    Option("extend-select", "codes", [],
           "Codes or prefixes to enable on top of `select` (e.g. opt-in rules).",
           'extend-select = ["IDL504"]'),
    Option("ignore", "codes", [],
           "Codes or prefixes to disable.", 'ignore = ["IDL107"]'),
    Option("per-file-ignores", "per-file", {},
           "Codes to disable in files matching a glob (relative to the configuration file).",
           '[tool.idemlint.per-file-ignores]\n"tests/*" = ["IDL1"]'),
    Option("exclude", "globs", list(DEFAULT_EXCLUDE),
           "Files and directories never linted (replaces the default list).",
           'exclude = [".venv", "build"]'),
    Option("extend-exclude", "globs", [],
           "Files and directories never linted, added to `exclude`.",
           'extend-exclude = ["generated/*"]'),
    Option("respect-gitignore", "bool", True,
           "Skip files ignored by git while walking directories: `.gitignore` files (nested "
           "ones too), `.ignore`, `.git/info/exclude` and git's global excludes file "
           "(`core.excludesFile`, default `$XDG_CONFIG_HOME/git/ignore`). Files named on the "
           "command line are always checked. `--no-respect-gitignore` turns this off.",
           "respect-gitignore = false"),
    Option("frameworks", "strings", None,
           "The durable-execution frameworks to check for, by profile name (`restate`, "
           "`temporal`). By default a file is checked against every framework whose package it "
           "imports (Restate also through service objects imported from other modules); a file "
           "that imports two frameworks is checked against both.",
           'frameworks = ["temporal"]'),
    Option("nondeterministic", "table", {},
           "Extra APIs for the knowledge base: qualified-name pattern -> rule code (or a table "
           "with `code`, `use`, `async`, `note`).",
           '[tool.idemlint.nondeterministic]\n"mycorp.clock.now" = "IDL101"'),
    Option("deterministic", "strings", [],
           "Qualified-name patterns that are never reported (your deterministic helpers).",
           'deterministic = ["mycorp.clock.frozen_now", "mycorp.cache.*"]'),
    Option("redundant-key-policy", "choice", "warn",
           "How IDL301 (idempotency key on a call made inside a handler) is reported: `warn` "
           "(warning), `strict` (error) or `off`.",
           'redundant-key-policy = "strict"', ("warn", "strict", "off")),
    Option("ingress-urls", "strings", [],
           "Base URLs of your Restate ingress, in addition to the defaults (any host on port "
           "8080; variables named like RESTATE_INGRESS_URL).",
           'ingress-urls = ["https://restate.internal.example.com"]'),
    Option("include-test-harness", "bool", False,
           "Also check ingress calls made through `restate.test_harness(...)` clients.",
           "include-test-harness = true"),
    Option("max-file-size", "size", 10_000_000,
           "Files larger than this are reported as IDL001 instead of analysed (bytes, or a "
           'string such as "10MB").', 'max-file-size = "20MB"'),
    Option("unsafe-fixes", "bool", False,
           "Apply unsafe fixes with `--fix` (like `--unsafe-fixes`).", "unsafe-fixes = true"),
)
OPTION_BY_KEY = {option.key: option for option in OPTIONS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one run (configuration file + command line)."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    frameworks: tuple[str, ...] | None = None  # None: every framework a file imports
    nondeterministic: Mapping[str, Any] = field(default_factory=dict)
    deterministic: tuple[str, ...] = ()
    redundant_key_policy: str = "warn"
    ingress_urls: tuple[str, ...] = ()
    include_test_harness: bool = False
    max_file_size: int = 10_000_000
    unsafe_fixes: bool = False
    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None  # the configuration file, if any
    _kb: KnowledgeBase | None = field(default=None, compare=False, repr=False)

    @property
    def kb(self) -> KnowledgeBase:
        """The bundled knowledge base with this configuration's extensions merged in."""
        if self._kb is None:
            origin = str(self.source) if self.source else "configuration"
            try:
                kb = bundled().with_extensions(self.nondeterministic, self.deterministic, origin)
            except KnowledgeError as exc:
                raise ConfigError(str(exc)) from None
            object.__setattr__(self, "_kb", kb)
        return self._kb  # type: ignore[return-value]

    def selected_explicitly(self, code: str) -> bool:
        """Whether ``select`` or ``extend-select`` names ``code`` (by itself, by a prefix such
        as ``IDL4``, or ``ALL``) and ``ignore`` does not: the user asked for this rule, not
        for the default set."""
        codes = (code,)
        chosen = any(
            expand_selector(selector, codes)
            for selector in (*(self.select or ()), *self.extend_select)
        )
        return chosen and not any(expand_selector(selector, codes) for selector in self.ignore)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, _kb=None, **changes)

    # -- paths -----------------------------------------------------------------------------
    def relative(self, path: Path) -> PurePosixPath:
        """``path`` relative to the configuration root (symlinks are not resolved)."""
        absolute = Path(os.path.abspath(path))
        for root in (Path(os.path.abspath(self.root)), self.root):
            try:
                return PurePosixPath(absolute.relative_to(root).as_posix())
            except ValueError:
                continue
        return PurePosixPath(path.as_posix())

    def is_excluded(self, path: Path) -> bool:
        patterns = (*self.exclude, *self.extend_exclude)
        if not patterns:
            return False
        return _matches(self.relative(path), path.name, patterns)

    def ignored_codes(self, path: Path) -> frozenset[str]:
        """Code selectors disabled for ``path`` by ``per-file-ignores``."""
        if not self.per_file_ignores:
            return frozenset()
        relative = self.relative(path)
        out: set[str] = set()
        for pattern, codes in self.per_file_ignores:
            if _matches(relative, path.name, (pattern,)):
                out.update(codes)
        return frozenset(out)


def _matches(relative: PurePosixPath, name: str, patterns: Sequence[str]) -> bool:
    text = relative.as_posix()
    parts = relative.parts
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if "/" in pattern:
            if fnmatch.fnmatch(text, pattern) or fnmatch.fnmatch(text, pattern + "/*"):
                return True
        elif fnmatch.fnmatch(name, pattern) or any(fnmatch.fnmatch(p, pattern) for p in parts):
            return True
    return False


# -- loading ---------------------------------------------------------------------------------
def find_config(start: Path) -> Path | None:
    """The nearest ``idemlint.toml``, or ``pyproject.toml`` with ``[tool.idemlint]``."""
    import tomllib

    directory = start.resolve()
    if directory.is_file():
        directory = directory.parent
    for candidate_dir in (directory, *directory.parents):
        for name in CONFIG_FILES:
            candidate = candidate_dir / name
            if not candidate.is_file():
                continue
            if name == "idemlint.toml":
                return candidate
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue
            except tomllib.TOMLDecodeError as exc:  # it may hold our settings: say so
                raise ConfigError(f"{candidate}: invalid TOML: {exc}") from None
            if "idemlint" in data.get("tool", {}):
                return candidate
    return None


def read_table(path: Path) -> dict[str, Any]:
    """The idemlint table of a configuration file (top level of idemlint.toml)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("idemlint", {})
    else:
        table = data.get("tool", {}).get("idemlint", data)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.idemlint] must be a table")
    return table


def _size(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*", value, re.I)
        if match:
            scale = {"": 1, "B": 1, "K": 1e3, "KB": 1e3, "M": 1e6, "MB": 1e6, "G": 1e9, "GB": 1e9}
            return int(float(match.group(1)) * scale[match.group(2).upper()])
    raise ConfigError(f"{where}: expected a size in bytes or a string like \"10MB\"")


def _validate(option: Option, value: Any, where: str) -> Any:
    kind = option.kind
    if kind in ("codes", "globs", "strings"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of strings")
        if kind == "codes":
            bad = [v for v in value if not is_valid_selector(v)]
            if bad:
                raise ConfigError(
                    f"{where}: unknown rule selector(s) {', '.join(map(repr, bad))} "
                    "(expected codes such as IDL101, prefixes such as IDL1, or ALL)"
                )
        return tuple(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false")
        return value
    if kind == "choice":
        if value not in option.choices:
            raise ConfigError(f"{where}: expected one of {', '.join(map(repr, option.choices))}")
        return value
    if kind == "size":
        return _size(value, where)
    if kind == "table":
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table")
        return dict(value)
    if kind == "per-file":
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table of glob = [codes]")
        out = []
        for pattern, codes in value.items():
            codes = _validate(OPTION_BY_KEY["ignore"], codes, f"{where}.{pattern!r}")
            out.append((pattern, codes))
        return tuple(out)
    raise AssertionError(kind)


def settings_from_table(table: Mapping[str, Any], source: Path | None, root: Path) -> Settings:
    """Validate a ``[tool.idemlint]`` table into Settings; ConfigError names file and key."""
    where_file = str(source) if source else "configuration"
    values: dict[str, Any] = {}
    for key, value in table.items():
        option = OPTION_BY_KEY.get(key)
        if option is None:
            close = [k for k in OPTION_BY_KEY if _similar(k, key)]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where_file}: unknown key {key!r} in [tool.idemlint]{hint}")
        values[key.replace("-", "_")] = _validate(option, value, f"{where_file}: {key}")
    settings = Settings(root=root, source=source, **values)
    known = settings.kb.frameworks  # also validates knowledge-base extensions now
    unknown = [name for name in settings.frameworks or () if name not in known]
    if unknown:
        raise ConfigError(
            f"{where_file}: frameworks: unknown framework(s) {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(sorted(known))})"
        )
    return settings


def _similar(a: str, b: str) -> bool:
    import difflib

    return difflib.SequenceMatcher(None, a, b).ratio() > 0.75


def load_settings(
    config: Path | None = None, start: Path | None = None, isolated: bool = False
) -> Settings:
    """Settings from ``config`` (explicit), else the nearest configuration file above ``start``."""
    if isolated:
        return Settings(root=(start or Path.cwd()).resolve())
    path = config if config is not None else find_config(start or Path.cwd())
    if path is None:
        return Settings(root=(start or Path.cwd()).resolve())
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    return settings_from_table(read_table(path), path.resolve(), path.resolve().parent)
