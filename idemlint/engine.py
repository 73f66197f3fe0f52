"""The engine: from a file's bytes to its findings, and to its fixed text.

It knows rules only through the registry interface: which are enabled, what they need a file
to mention before it is worth parsing, ``check``, and two optional hooks (``load_error`` for
files that cannot be analysed, ``suppressions`` for reporting unused ``# noqa``).
"""

from __future__ import annotations

import ast
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import ModuleAnalysis
from .config import Settings
from .diagnostics import Finding
from .fixes.apply import FixOutcome, fix_text, materialize
from .fixes.context import FixContext
from .noqa import Suppressions
from .noqa import parse as parse_suppressions
from .project import Dependency, Project
from .registry import Rule, all_rules, enabled_codes
from .selection import expand_selector
from .source import LoadError, SourceFile, read


@dataclass
class FileResult:
    """What linting one file produced."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    skipped: bool = False  # prefiltered: the file cannot contain findings
    fixed: Counter[str] = field(default_factory=Counter)
    original: str | None = None  # text before fixing (set when fixes were applied)
    fixed_text: str | None = None  # text after fixing
    internal_errors: list[str] = field(default_factory=list)
    refused_fixes: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. a read-only file left unfixed
    source: SourceFile | None = field(default=None, repr=False)
    # What the findings were computed from besides the file (result cache, see cache.py).
    dependencies: frozenset[Dependency] = field(default_factory=frozenset, repr=False)
    written_digest: str | None = None  # content hash of the fixed text written to disk


class Linter:
    """Runs the enabled rules over files. One instance per run (per process)."""

    def __init__(
        self, settings: Settings, project: Project | None = None, noqa: bool = True
    ) -> None:
        """``noqa=False``: report suppressed findings too and never IDL002 (for front ends
        such as flake8 that apply ``# noqa`` themselves)."""
        self.settings = settings
        self.project = project
        self.noqa = noqa
        registry = all_rules()
        self.enabled = enabled_codes(settings)
        self.rules: list[Rule] = [
            cls(settings) for code, cls in registry.items() if code in self.enabled
        ]
        self._all_codes = list(registry)
        kb = settings.kb
        triggers: set[bytes] = set()
        confirmed: dict[bytes, list[bytes]] = {}
        needs = {rule.requires for rule in self.rules}
        # Only passive rules selected (e.g. `--select IDL001`): the user asks "does every file
        # parse?", so every file is parsed.
        self.always_parse = "always" in needs or needs <= {"passive"}
        profiles = [fw for fw in kb.frameworks.values()
                    if settings.frameworks is None or fw.name in settings.frameworks]
        if "handlers" in needs:
            for fw in profiles:
                triggers.update(fw.triggers)
                for literal, pattern in fw.trigger_patterns:
                    confirmed.setdefault(literal, []).append(pattern)
        if "ingress" in needs:
            for fw in profiles:
                triggers.update(fw.ingress_triggers)
            triggers.update(_url_triggers(settings.ingress_urls))
        if "suppressions" in needs and noqa:
            confirmed.setdefault(b"noqa", []).append(rb"[nN][oO][qQ][aA]\s*:[^\n]*\bIDL\d")
        self.triggers = tuple(sorted(triggers))
        # Literal first (cheap), then a regular expression confirms (e.g. `.main(` must be a
        # decorator, not `unittest.main()`).
        self.confirmed_triggers = tuple(
            (literal, re.compile(b"|".join(b"(?:%s)" % p for p in patterns)))
            for literal, patterns in sorted(confirmed.items())
        )

    # -- entry points ----------------------------------------------------------------------
    def check_path(
        self, path: Path, display: str | None = None, build_fixes: bool = False
    ) -> FileResult:
        display = display if display is not None else str(path)
        try:
            raw = read(path, self.settings.max_file_size)
        except LoadError as error:
            return FileResult(display, self.load_error_findings(display, error, path))
        return self.check_bytes(display, raw, path, build_fixes)

    def check_bytes(
        self, display: str, raw: bytes, path: Path | None = None, build_fixes: bool = False
    ) -> FileResult:
        if not self.worth_parsing(raw):
            return FileResult(display, skipped=True)
        try:
            source = SourceFile.from_bytes(display, raw)
        except LoadError as error:
            return FileResult(display, self.load_error_findings(display, error, path))
        return self.check_source(source, path, build_fixes=build_fixes)

    def check_source(
        self,
        source: SourceFile,
        path: Path | None = None,
        tree: ast.Module | None = None,
        build_fixes: bool = False,
    ) -> FileResult:
        """Lint decoded source; pass ``tree`` when the caller already parsed it (flake8).

        ``build_fixes``: build (and syntax-check) every fix now, so that the result holds no
        closure over the syntax tree (batch runs keep results of many files); otherwise fixes
        stay lazy for ``materialize_fixes``."""
        result = FileResult(source.path, source=source)
        findings, context = self._lint(source, path, result, tree)
        result.findings = findings
        if build_fixes:
            materialize(findings, context)
        return result

    def fix_source(
        self,
        source: SourceFile,
        path: Path | None,
        unsafe: bool,
        codes: set[str] | None = None,
        build_fixes: bool = False,
    ) -> FileResult:
        """Apply fixes until stable; the result holds the final findings and the new text."""
        result = FileResult(source.path, source=source)
        last = FileResult(source.path)  # internal errors of the latest pass

        def lint(
            text: str, tree: ast.Module | None
        ) -> tuple[list[Finding], FixContext | None]:
            nonlocal last
            current = SourceFile(source.path, text, source.encoding, source.bom, source.newline)
            last = FileResult(source.path)
            return self._lint(current, path, last, tree)

        def wanted(finding: Finding) -> bool:
            assert finding.fix is not None
            if codes is not None and finding.code not in codes:
                return False
            return finding.fix.applicability == "safe" or unsafe

        outcome: FixOutcome = fix_text(source, lint, wanted)
        final = SourceFile(source.path, outcome.text, source.encoding, source.bom, source.newline)
        if outcome.findings is not None:  # the loop ended on a lint of the final text
            findings, context = outcome.findings, outcome.context
            result.internal_errors = last.internal_errors
        else:
            findings, context = self._lint(final, path, result)
        if build_fixes:
            materialize(findings, context)
        result.findings = findings
        result.fixed = outcome.fixed
        result.refused_fixes = outcome.broken
        if outcome.text != source.text:
            result.original, result.fixed_text = source.text, outcome.text
        result.source = final
        return result

    def materialize_fixes(self, result: FileResult, path: Path | None = None) -> None:
        """Build the edits of the fixes in ``result`` (for output formats that show them)."""
        pending = [f for f in result.findings if f.fix is not None and f.fix.edits is None]
        if not pending or result.source is None:
            return
        module = self._analyse(result.source, path)
        materialize(pending, FixContext(module) if module is not None else None)

    # -- internals -------------------------------------------------------------------------
    def worth_parsing(self, raw: bytes) -> bool:
        """Whether a file can hold a finding of an enabled rule (a substring test, ~14M
        lines/s, then a regular expression on the few files that need one); always true when
        the selection asks whether every file parses. Front ends call this, and nothing else,
        before parsing."""
        if self.always_parse:
            return True
        lowered = raw.lower()
        if any(token in lowered for token in self.triggers):
            return True
        return any(
            literal in lowered and pattern.search(raw) is not None
            for literal, pattern in self.confirmed_triggers
        )

    def load_error_findings(
        self, display: str, error: LoadError, path: Path | None = None
    ) -> list[Finding]:
        disabled = self._disabled_for(path)
        out: list[Finding] = []
        for rule in self.rules:
            if rule.code not in disabled:
                finding = rule.load_error(display, error)
                if finding is not None:
                    out.append(finding)
        return out

    def _analyse(self, source: SourceFile, path: Path | None) -> ModuleAnalysis | None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarnings are not ours to report
                tree = ast.parse(source.text, filename=source.path)
            return ModuleAnalysis(source, tree, self.settings, self.project, path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None

    def _lint(
        self,
        source: SourceFile,
        path: Path | None,
        result: FileResult,
        tree: ast.Module | None = None,
    ) -> tuple[list[Finding], FixContext | None]:
        try:
            if tree is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tree = ast.parse(source.text, filename=source.path)
        except SyntaxError as exc:
            return self.load_error_findings(source.path, _syntax_error(exc, source), path), None
        except (RecursionError, MemoryError):
            error = LoadError("too deeply nested to parse (the Python parser gave up)")
            return self.load_error_findings(source.path, error, path), None
        except ValueError as exc:
            error = LoadError(f"cannot parse: {exc}")
            return self.load_error_findings(source.path, error, path), None
        try:
            module = ModuleAnalysis(source, tree, self.settings, self.project, path)
        except RecursionError:
            error = LoadError("too deeply nested to analyse")
            return self.load_error_findings(source.path, error, path), None
        disabled = self._disabled_for(path)
        findings: list[Finding] = []
        for rule in self.rules:
            if rule.code in disabled:
                continue
            try:
                findings.extend(rule.check(module))
            except RecursionError:
                error = LoadError("too deeply nested to analyse")
                findings.extend(self.load_error_findings(source.path, error, path))
                break
            except Exception:  # a bug in a rule must not stop the run
                import traceback

                result.internal_errors.append(
                    f"{source.path}: internal error in {rule.code}:\n{traceback.format_exc()}"
                )
        if self.noqa:
            suppressions = parse_suppressions(source.text)
            findings = suppressions.apply(findings)
            findings.extend(self._suppression_findings(module, suppressions, disabled))
        findings.sort(key=lambda f: f.sort_key)
        return findings, FixContext(module)

    def _suppression_findings(
        self, module: ModuleAnalysis, suppressions: Suppressions, disabled: set[str]
    ) -> list[Finding]:
        out: list[Finding] = []
        if suppressions.empty:
            return out
        for rule in self.rules:
            if rule.code not in disabled:
                found = list(rule.suppressions(module, suppressions, self.enabled - disabled))
                out.extend(suppressions.apply(found) if found else found)
        return out

    def _disabled_for(self, path: Path | None) -> set[str]:
        if path is None:
            return set()
        selectors = self.settings.ignored_codes(path)
        disabled: set[str] = set()
        for selector in selectors:
            disabled |= expand_selector(selector, self._all_codes)
        return disabled


def _syntax_error(exc: SyntaxError, source: SourceFile) -> LoadError:
    import sys

    message = exc.msg or "invalid syntax"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    line = exc.lineno or 1
    column = exc.offset or 1
    return LoadError(
        f"syntax error: {message} (parsed with Python {version})", line, max(column, 1)
    )


def _url_triggers(urls: tuple[str, ...]) -> set[bytes]:
    from urllib.parse import urlsplit

    out: set[bytes] = set()
    for url in urls:
        host = urlsplit(url).netloc or url
        if host:
            out.add(host.lower().encode())
    return out
