"""The knowledge base: API categories and framework profiles, loaded from the TOML in ``rules/``.

The schema is documented in ``rules/README.md``. Loading validates every key so that a typo in
the data (or in a user's ``[tool.idemlint.nondeterministic]``) is an error, not a silent miss.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import pickle
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .patterns import PatternError, PatternTable, expand

try:  # hashlib would load OpenSSL first (~5 ms of start-up) for a hash it does not provide
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - other Python implementations
    from hashlib import blake2b

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

# Vocabulary of the data (the code implements each of these; a test keeps them in step).
FIX_STRATEGIES = frozenset(
    {
        "ctx-time",
        "ctx-datetime",
        "ctx-random",
        "ctx-random-method",
        "ctx-secrets",
        "ctx-uuid",
        "ctx-sleep",
        "journal",
        "restate-combinator",
        # frameworks whose durable API is a module (profiles' [tables.nondeterminism.apis])
        "module-call",
        "module-datetime",
    }
)
CONDITIONS = frozenset({"no-args", "nonzero-delay", "durable-future-arg"})
_ENTRY_FIELDS = frozenset({"code", "use", "fix", "safe", "when", "async", "note"})
_CATEGORY_KEYS = frozenset(
    {"code", "category", "fix", "safe", "apis", "returns", "aliases", "mutations", "deterministic"}
)


_View = TypeVar("_View")


class KnowledgeError(ValueError):
    """Invalid knowledge-base data; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class ApiEntry:
    """One known API: what calling it is, and how to replace it."""

    pattern: str
    code: str
    category: str
    use: str | None = None
    fix: str | None = None
    safe: bool = False
    when: str | None = None
    is_async: bool = False
    note: str | None = None
    origin: str = ""


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """Where a journaled-action method (``run_typed``/``run``) takes its arguments."""

    method: str
    name: int = 0
    action: int = 1
    options: int | None = None
    forwards: bool = False
    action_keyword: str | None = None
    args_keyword: str | None = None


@dataclass(frozen=True)
class Framework:
    """How one durable-execution framework spells durable code, its context and its calls.

    Every field is optional in the TOML: a profile fills in the concepts its SDK has (see
    ``rules/README.md``). Durable code starts at *entry points*, found three ways: decorator
    methods of declaring objects (``services`` + ``decorators``), decorators named by their
    qualified name (``entry_decorators``), and methods of decorated classes
    (``entry_classes``)."""

    name: str
    package: str
    docs: str = ""
    title: str = ""
    # A file holds durable code of this framework only if it imports ``package``; a profile
    # whose entry points can be spelled without importing it (decorator methods of a service
    # object imported from another module) sets ``requires_import = false``.
    requires_import: bool = True
    triggers: tuple[bytes, ...] = ()
    # (lower-case literal, regular expression on the raw bytes confirming it)
    trigger_patterns: tuple[tuple[bytes, bytes], ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    services: Mapping[str, str] = field(default_factory=dict)
    service_wrappers: Mapping[str, str] = field(default_factory=dict)
    decorators: Mapping[str, str] = field(default_factory=dict)
    # decorator qualified name -> role of the entry point it declares
    entry_decorators: Mapping[str, str] = field(default_factory=dict)
    # class decorator qualified name -> {method decorator qualified name -> role}
    entry_classes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Which positional parameter of an entry point is the durable context (None: none is).
    context_position: int | None = 0
    context_types: frozenset[str] = frozenset()
    context_getters: frozenset[str] = frozenset()
    # Modules whose functions are the durable context's API (called without a context object).
    context_modules: frozenset[str] = frozenset()
    # Context methods that draw from the invocation's deterministic seed (same value on every
    # replay of one invocation, a new one for the next invocation).
    context_generators: frozenset[str] = frozenset()
    journaled_actions: frozenset[str] = frozenset()
    durable: frozenset[str] = frozenset()
    calls: frozenset[str] = frozenset()
    sends: frozenset[str] = frozenset()
    journaled: frozenset[str] = frozenset()
    accessors: frozenset[str] = frozenset()
    actions: Mapping[str, ActionSpec] = field(default_factory=dict)
    # decorator qualified name -> "journaled" (a direct call is journaled, e.g. a step) or
    # "inline" (a direct call runs the body unjournaled, e.g. an activity); either way the
    # decorated body runs once per journaled execution, not as replayed code.
    journaled_decorators: Mapping[str, str] = field(default_factory=dict)
    combinators: Mapping[str, str] = field(default_factory=dict)
    ingress_clients: frozenset[str] = frozenset()
    ingress_harnesses: frozenset[str] = frozenset()
    ingress_methods: frozenset[str] = frozenset()
    ingress_key_argument: str = ""
    ingress_key_header: str = ""
    ingress_triggers: tuple[bytes, ...] = ()
    # `[tables.<family>]` of the profile: SDK tables one rule family reads, through a typed
    # view defined next to the family (``checks/<family>/_shared.py``).
    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Typed views of ``tables`` built by the rule families (see ``view``), per builder.
    _views: dict[Callable[[Framework], Any], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def table(self, family: str) -> Mapping[str, Any]:
        """The raw ``[tables.<family>]`` of the profile ({} if absent)."""
        return self.tables.get(family, {})

    def view(self, build: Callable[[Framework], _View]) -> _View:
        """A typed view of this profile's tables, built by ``build`` once per profile (the
        rule families read their ``[tables.<family>]`` through one)."""
        views = self._views
        if build not in views:
            views[build] = build(self)
        return views[build]  # type: ignore[no-any-return]

    @property
    def display_name(self) -> str:
        return self.title or self.name.capitalize()

    @property
    def context_methods(self) -> frozenset[str]:
        """Every method of the context that records something in the journal."""
        return self.durable | self.calls | self.sends | self.journaled


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything idemlint knows about APIs, after user configuration is merged in."""

    apis: PatternTable[ApiEntry]
    deterministic: PatternTable[bool]
    returns: Mapping[str, str]
    aliases: Mapping[str, str]
    mutations: PatternTable[ApiEntry]
    frameworks: Mapping[str, Framework]
    categories: Mapping[str, str] = field(default_factory=dict)
    # The profile rules that are not yet framework-neutral read through ``framework``.
    default_framework: str = ""

    @property
    def framework(self) -> Framework:
        return self.frameworks[self.default_framework]

    def lookup(self, qualname: str) -> ApiEntry | None:
        """The entry for a called qualified name, unless it is marked deterministic."""
        entry = self.apis.get(qualname)
        if entry is None or self.deterministic.get(qualname):
            return None
        return entry

    def canonical(self, qualname: str) -> str:
        """Rewrite a re-exported spelling to its canonical name (longest alias prefix)."""
        aliases = self.aliases
        if qualname in aliases:
            return aliases[qualname]
        end = len(qualname)
        while True:
            end = qualname.rfind(".", 0, end)
            if end <= 0:
                return qualname
            head = qualname[:end]
            if head in aliases:
                return aliases[head] + qualname[end:]

    def with_extensions(
        self,
        nondeterministic: Mapping[str, Any],
        deterministic: Iterable[str],
        origin: str,
    ) -> KnowledgeBase:
        """A copy with user-declared APIs added and user-declared deterministic names."""
        if not nondeterministic and not deterministic:
            return self
        apis: PatternTable[ApiEntry] = PatternTable()
        apis.update(self.apis.items())
        for pattern, spec in nondeterministic.items():
            where = f"{origin}: nondeterministic.{pattern!r}"
            if isinstance(spec, str):
                spec = {"code": spec}
            if not isinstance(spec, dict):
                raise KnowledgeError(f"{where}: expected a code string or a table")
            code = spec.get("code")
            if not isinstance(code, str) or code not in self.categories:
                known = ", ".join(sorted(self.categories))
                raise KnowledgeError(f"{where}: `code` must be one of {known}")
            entry = _entry(pattern, spec, code, self.categories[code], None, False, where)
            _add(apis, pattern, entry, where)
        det: PatternTable[bool] = PatternTable()
        det.update(self.deterministic.items())
        for pattern in deterministic:
            _add(det, pattern, True, f"{origin}: deterministic {pattern!r}")
        return replace(self, apis=apis, deterministic=det)


def _add(table: PatternTable[Any], pattern: str, value: Any, where: str) -> None:
    try:
        table.add(pattern, value)
    except PatternError as exc:
        raise KnowledgeError(f"{where}: {exc}") from None


def _entry(
    pattern: str,
    spec: Mapping[str, Any],
    code: str,
    category: str,
    default_fix: str | None,
    default_safe: bool,
    where: str,
) -> ApiEntry:
    unknown = set(spec) - _ENTRY_FIELDS
    if unknown:
        raise KnowledgeError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    fix = spec.get("fix", default_fix) or None
    if fix is not None and fix not in FIX_STRATEGIES:
        raise KnowledgeError(f"{where}: unknown fix strategy {fix!r}")
    when = spec.get("when")
    if when is not None and when not in CONDITIONS:
        raise KnowledgeError(f"{where}: unknown condition {when!r}")
    for key, kind in (("use", str), ("note", str), ("safe", bool), ("async", bool)):
        if key in spec and not isinstance(spec[key], kind):
            raise KnowledgeError(f"{where}: `{key}` must be a {kind.__name__}")
    return ApiEntry(
        pattern=pattern,
        code=code,
        category=category,
        use=spec.get("use"),
        fix=fix,
        safe=bool(spec.get("safe", default_safe)),
        when=when,
        is_async=bool(spec.get("async", False)),
        note=spec.get("note"),
        origin=where,
    )


def _load_toml(path: Traversable) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeError(f"{path.name}: {exc}") from None


def _strings(data: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KnowledgeError(f"{where}: `{key}` must be a list of strings")
    return value


def _table(data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise KnowledgeError(f"{where}: `{key}` must be a table")
    return value


def _expanded_map(raw: Mapping[str, Any], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(value, str):
            raise KnowledgeError(f"{where}.{key}: expected a string")
        for name in expand(key):
            out[name] = value
    return out


_FRAMEWORK_KEYS = frozenset({
    "name", "title", "package", "docs", "default", "requires_import", "triggers",
    "trigger_patterns", "aliases", "services", "service_wrappers", "decorators",
    "entry_decorators", "entry_classes", "context", "actions", "journaled_decorators",
    "combinators", "ingress", "tables",
})


def _load_framework(path: Traversable) -> Framework:
    data = _load_toml(path)
    where = f"frameworks/{path.name}"
    unknown = set(data) - _FRAMEWORK_KEYS
    if unknown:
        raise KnowledgeError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    position = _table(data, "context", where).get("position", 0)
    if position is not None and not isinstance(position, int):
        raise KnowledgeError(f"{where}: context.position must be an integer")
    entry_classes = {
        decorator: dict(_table(methods, "methods", f"{where}: entry_classes.{decorator}"))
        for decorator, methods in _table(data, "entry_classes", where).items()
    }
    context = _table(data, "context", where)
    ingress = _table(data, "ingress", where)
    actions: dict[str, ActionSpec] = {}
    for method, spec in _table(data, "actions", where).items():
        try:
            actions[method] = ActionSpec(method=method, **spec)
        except TypeError as exc:
            raise KnowledgeError(f"{where}: actions.{method}: {exc}") from None

    def ctx_set(key: str) -> frozenset[str]:
        return frozenset(_strings(context, key, f"{where}: context"))

    return Framework(
        name=data["name"],
        package=data["package"],
        docs=data.get("docs", ""),
        title=data.get("title", ""),
        requires_import=bool(data.get("requires_import", True)),
        entry_decorators=_expanded_map(_table(data, "entry_decorators", where), where),
        entry_classes=entry_classes,
        context_position=None if position == -1 else position,
        context_modules=ctx_set("modules"),
        context_generators=ctx_set("generators"),
        journaled_decorators=_expanded_map(_table(data, "journaled_decorators", where), where),
        triggers=tuple(t.lower().encode() for t in _strings(data, "triggers", where)),
        trigger_patterns=tuple(
            (literal.lower().encode(), pattern.encode())
            for literal, pattern in _table(data, "trigger_patterns", where).items()
        ),
        aliases=_expanded_map(_table(data, "aliases", where), where),
        services=_table(data, "services", where),
        service_wrappers=_table(data, "service_wrappers", where),
        decorators=_table(data, "decorators", where),
        context_types=ctx_set("types"),
        context_getters=frozenset(
            name for pattern in _strings(context, "getters", where) for name in expand(pattern)
        ),
        journaled_actions=ctx_set("journaled_actions"),
        durable=ctx_set("durable"),
        calls=ctx_set("calls"),
        sends=ctx_set("sends"),
        journaled=ctx_set("journaled"),
        accessors=ctx_set("accessors"),
        actions=actions,
        combinators=_table(data, "combinators", where),
        ingress_clients=frozenset(_strings(ingress, "clients", where)),
        ingress_harnesses=frozenset(_strings(ingress, "harnesses", where)),
        ingress_methods=frozenset(_strings(ingress, "methods", where)),
        ingress_key_argument=ingress.get("key_argument", ""),
        ingress_key_header=ingress.get("key_header", ""),
        ingress_triggers=tuple(
            t.lower().encode() for t in _strings(ingress, "triggers", f"{where}: ingress")
        ),
        tables=_table(data, "tables", where),
    )


def load_from(root: Traversable) -> KnowledgeBase:
    """Load the knowledge base from a directory laid out like ``rules/``: every API category
    and every framework profile."""
    apis: PatternTable[ApiEntry] = PatternTable()
    mutations: PatternTable[ApiEntry] = PatternTable()
    deterministic: PatternTable[bool] = PatternTable()
    returns: dict[str, str] = {}
    aliases: dict[str, str] = {}
    categories: dict[str, str] = {}
    api_dir = root / "apis"
    files = sorted((p for p in api_dir.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)
    for path in files:
        data = _load_toml(path)
        where = f"apis/{path.name}"
        unknown = set(data) - _CATEGORY_KEYS
        if unknown:
            raise KnowledgeError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        code, category = data.get("code"), data.get("category")
        if not isinstance(code, str) or not isinstance(category, str):
            raise KnowledgeError(f"{where}: `code` and `category` are required strings")
        categories[code] = category
        default_fix, default_safe = data.get("fix") or None, bool(data.get("safe", False))
        for table_name, table in (("apis", apis), ("mutations", mutations)):
            for pattern, spec in _table(data, table_name, where).items():
                spot = f"{where}: {table_name}.{pattern!r}"
                if not isinstance(spec, dict):
                    raise KnowledgeError(f"{spot}: expected a table, e.g. {{}}")
                entry_code = spec.get("code", code)
                entry = _entry(
                    pattern, spec, entry_code, category, default_fix, default_safe, spot
                )
                _add(table, pattern, entry, spot)
        for pattern in _strings(data, "deterministic", where):
            _add(deterministic, pattern, True, f"{where}: deterministic {pattern!r}")
        returns.update(_expanded_map(_table(data, "returns", where), where))
        aliases.update(_expanded_map(_table(data, "aliases", where), where))
    frameworks: dict[str, Framework] = {}
    default = ""
    profiles = sorted(
        (p for p in (root / "frameworks").iterdir() if p.name.endswith(".toml")),
        key=lambda p: p.name,
    )
    for path in profiles:
        fw = _load_framework(path)
        if fw.name in frameworks:
            raise KnowledgeError(f"frameworks/{path.name}: duplicate framework {fw.name!r}")
        frameworks[fw.name] = fw
        aliases.update(fw.aliases)
        if _load_toml(path).get("default"):
            default = fw.name
    if not default:
        raise KnowledgeError("frameworks/: no profile is marked `default = true`")
    return KnowledgeBase(
        apis=apis,
        deterministic=deterministic,
        returns=returns,
        aliases=aliases,
        mutations=mutations,
        frameworks=frameworks,
        categories=categories,
        default_framework=default,
    )


@functools.lru_cache(maxsize=1)
def bundled() -> KnowledgeBase:
    """The knowledge base shipped inside the package (``idemlint._kb``).

    Validating the TOML costs more than the rest of start-up on a small file, so the
    compiled result is kept in the user cache directory, keyed by the content of the data and
    of the code that reads it (a changed file is a new key; stale entries are harmless)."""
    root = _bundled_root()
    if root is None:  # not on a file system (e.g. a zip): no cache
        from importlib import resources

        return load_from(resources.files("idemlint._kb"))
    cached = _compiled_path(bundled_digest())
    if cached is not None:
        try:
            with open(cached, "rb") as handle:
                kb = pickle.load(handle)
            if isinstance(kb, KnowledgeBase):
                return kb
        except Exception:  # missing, partial or from another layout: compile again
            pass
    kb = load_from(root)
    if cached is not None:
        _write_atomically(cached, pickle.dumps(kb, protocol=pickle.HIGHEST_PROTOCOL))
    return kb


@functools.lru_cache(maxsize=1)
def bundled_digest() -> str:
    """Content hash of the bundled data and of the code that compiles it."""
    root = _bundled_root()
    digest = blake2b(digest_size=20)
    code = Path(__file__).resolve().parent
    for path in (code / "knowledge.py", code / "patterns.py"):
        digest.update(path.read_bytes())
    if root is not None:
        for sub in ("apis", "frameworks"):
            for path in sorted((root / sub).glob("*.toml")):
                digest.update(f"{sub}/{path.name}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _bundled_root() -> Path | None:
    spec = importlib.util.find_spec("idemlint._kb")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    for location in locations:
        if (Path(location) / "apis").is_dir():
            return Path(location)
    return None


def _compiled_path(digest: str) -> Path | None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    return Path(base) / "idemlint" / f"kb-{digest}.pickle"


def _write_atomically(path: Path, data: bytes) -> None:
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".kb-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, path)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise
    except OSError:
        pass  # a read-only home: compile on every run
