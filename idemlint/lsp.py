"""The language server, ``idemlint lsp`` (stdio, pygls + lsprotocol).

A thin front end over the engine:

* diagnostics on open, change (debounced per document, latest text wins) and save, each with
  the rule code, its documentation link, ``source: "idemlint"`` and the finding's severity;
* code actions: the rule's quick fix (labelled safe/unsafe), "Suppress IDLxxx on this line"
  (``idemlint.suppress``) and ``source.fixAll.idemlint`` (safe fixes, the engine's fix loop);
* configuration found like the CLI finds it (nearest ``idemlint.toml`` or ``pyproject.toml``
  with ``[tool.idemlint]`` above the document), reloaded when those files change;
* the engine runs on one worker thread, so the event loop keeps reading messages; whatever
  goes wrong analysing one document is logged (``window/logMessage``) and the server lives on.

Positions: findings hold 1-based lines and character columns; LSP positions are 0-based and
counted in the negotiated encoding (UTF-16 code units unless the client offers another), so
columns are converted line by line. Lines are split like the LSP specifies (``\\n``, ``\\r\\n``,
``\\r``), which is also how ``SourceFile`` splits them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    from lsprotocol import types as lsp
    from pygls.lsp.server import LanguageServer
    from pygls.uris import to_fs_path
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise SystemExit(
        f"idemlint: error: `idemlint lsp` needs pygls 2 and lsprotocol ({exc}); "
        "install them with: pip install 'idemlint[lsp]'"
    ) from exc

from . import __version__
from .config import CONFIG_FILES, ConfigError, Settings, find_config, load_settings
from .diagnostics import Edit, Finding
from .engine import FileResult, Linter
from .project import Project
from .source import LoadError, SourceFile
from .suppress import UNSUPPRESSIBLE, add_noqa_edits

log = logging.getLogger("idemlint.lsp")

FIX_ALL_KIND = "source.fixAll.idemlint"
FIX_ALL_TITLE = "idemlint: fix all safely fixable problems"
DEBOUNCE_ENV = "IDEMLINT_LSP_DEBOUNCE_MS"
DEFAULT_DEBOUNCE_MS = 150
PYTHON_SUFFIXES = (".py", ".pyi")
SEVERITY = {
    "error": lsp.DiagnosticSeverity.Error,
    "warning": lsp.DiagnosticSeverity.Warning,
    "info": lsp.DiagnosticSeverity.Information,
}


# -- positions ---------------------------------------------------------------------------------
def _units(text: str, encoding: str) -> int:
    """Length of ``text`` in the client's position encoding."""
    if text.isascii() or encoding == lsp.PositionEncodingKind.Utf32:
        return len(text)
    if encoding == lsp.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _char_column(line: str, units: int, encoding: str) -> int:
    """Character column of a client position (clamped to the line)."""
    if line.isascii() or encoding == lsp.PositionEncodingKind.Utf32:
        return min(max(units, 0), len(line))
    counted = 0
    for index, char in enumerate(line):
        if counted >= units:
            return index
        counted += _units(char, encoding)
    return len(line)


class Positions:
    """Converts between (1-based line, character column) and LSP positions for one text."""

    def __init__(self, source: SourceFile, encoding: str) -> None:
        self.source = source
        self.encoding = encoding

    def position(self, line: int, column: int) -> lsp.Position:
        """LSP position of a 1-based line and 0-based character column (clamped to the text)."""
        lines = self.source.lines
        if line < 1:
            return lsp.Position(line=0, character=0)
        if line > len(lines):
            return lsp.Position(line=len(lines) - 1, character=_units(lines[-1], self.encoding))
        text = lines[line - 1]
        column = min(max(column, 0), len(text))
        return lsp.Position(line=line - 1, character=_units(text[:column], self.encoding))

    def finding_range(self, finding: Finding) -> lsp.Range:
        return lsp.Range(
            start=self.position(finding.line, finding.column - 1),
            end=self.position(finding.end_line, finding.end_column - 1),
        )

    def edit(self, edit: Edit) -> lsp.TextEdit:
        return lsp.TextEdit(
            range=lsp.Range(
                start=self.position(edit.line, edit.column),
                end=self.position(edit.end_line, edit.end_column),
            ),
            new_text=edit.content,
        )

    def from_client(self, position: lsp.Position) -> tuple[int, int]:
        """(1-based line, character column) of a client position."""
        line = position.line + 1
        lines = self.source.lines
        if line > len(lines):
            return len(lines), len(lines[-1]) if lines else 0
        return line, _char_column(self.source.line(line), position.character, self.encoding)


def minimal_edit(old: str, new: str) -> tuple[int, int, str]:
    """One replacement turning ``old`` into ``new``: (start offset, end offset, text)."""
    limit = min(len(old), len(new))
    start = 0
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    # Never split a "\r\n" pair (positions between them do not exist in LSP).
    if 0 < start < len(old) and old[start - 1] == "\r" and old[start] == "\n":
        start -= 1
    if 0 < end_old < len(old) and old[end_old - 1] == "\r" and old[end_old] == "\n":
        end_old += 1
        end_new += 1
    return start, end_old, new[start:end_new]


# -- documents and configuration -----------------------------------------------------------------
@dataclass
class Analysis:
    """The findings of one version of one document."""

    uri: str
    version: int | None
    text: str
    result: FileResult
    linter: Linter | None
    path: Path | None
    messages: list[str] = field(default_factory=list)  # internal errors, logged by the loop


@dataclass
class _Config:
    settings: Settings
    linter: Linter
    error: str | None = None


def uri_to_path(uri: str) -> Path | None:
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


class IdemlintServer(LanguageServer):
    """pygls server holding the open documents, their latest analyses and the configuration."""

    def __init__(self) -> None:
        super().__init__(
            "idemlint", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Full
        )
        self.debounce = _env_debounce()
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="idemlint-engine")
        self.docs: dict[str, tuple[int | None, str]] = {}
        self.analyses: dict[str, Analysis] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}
        self._config_for_dir: dict[Path, Path | None] = {}
        self._configs: dict[tuple[Path | None, Path | None], _Config] = {}
        self._reported_config_errors: set[str] = set()

    # -- configuration (called on the worker thread) -------------------------------------------
    @property
    def encoding(self) -> str:
        try:
            encoding = self.workspace.position_encoding  # a str enum, or a plain str
            return encoding or lsp.PositionEncodingKind.Utf16
        except Exception:
            return lsp.PositionEncodingKind.Utf16

    def roots(self) -> list[Path]:
        out: list[Path] = []
        try:
            workspace = self.workspace
        except Exception:
            return out
        for folder in workspace.folders.values():
            path = uri_to_path(folder.uri)
            if path is not None:
                out.append(path)
        root = workspace.root_path
        if root and Path(root) not in out:
            out.append(Path(root))
        return out

    def _workspace_root_for(self, path: Path) -> Path | None:
        best: Path | None = None
        for root in self.roots():
            try:
                path.resolve().relative_to(root.resolve())
            except ValueError:
                continue
            if best is None or len(root.parts) > len(best.parts):
                best = root
        return best

    def config_for(self, path: Path | None) -> _Config:
        """Settings and linter for a document (cached per configuration file)."""
        root = self._workspace_root_for(path) if path is not None else None
        directory = path.parent if path is not None else (root or Path.cwd())
        if directory not in self._config_for_dir:
            self._config_for_dir[directory] = find_config(directory)
        config_file = self._config_for_dir[directory]
        # Without a configuration file, paths are relative to the workspace folder.
        key = (config_file, None if config_file else (root or directory))
        cached = self._configs.get(key)
        if cached is not None:
            return cached
        error: str | None = None
        start = config_file.parent if config_file else (root or directory)
        try:
            settings = load_settings(config_file, start)
            settings.kb  # knowledge-base extensions are validated here  # noqa: B018
        except ConfigError as exc:
            error = f"idemlint: invalid configuration, using the defaults: {exc}"
            settings = Settings(root=start.resolve())
        project = Project.for_paths(self.roots(), config_file.parent if config_file else None)
        cached = _Config(settings, Linter(settings, project), error)
        self._configs[key] = cached
        return cached

    def reset_configuration(self) -> None:
        self._config_for_dir.clear()
        self._configs.clear()
        self._reported_config_errors.clear()

    def reset_projects(self) -> None:
        """Forget summaries of other modules (a Python file changed on disk)."""
        for config in list(self._configs.values()):
            source = config.settings.source
            config.linter.project = Project.for_paths(
                self.roots(), source.parent if source else None
            )

    # -- analysis (worker thread) ----------------------------------------------------------------
    def analyse(self, uri: str, version: int | None, text: str) -> Analysis:
        path = uri_to_path(uri)
        display = str(path) if path is not None else uri
        source = SourceFile.from_text(display, text)
        config = self.config_for(path)
        messages = [config.error] if config.error else []
        linter = config.linter
        settings = config.settings
        empty = FileResult(display, source=source)
        if path is not None and settings.is_excluded(path):
            return Analysis(uri, version, text, empty, None, path, messages)
        raw = text.encode("utf-8", "surrogatepass")
        if settings.max_file_size and len(raw) > settings.max_file_size:
            error = LoadError(
                f"file too large to analyse: {len(raw) / 1e6:.1f} MB "
                f"(limit {settings.max_file_size / 1e6:.1f} MB, see `max-file-size`)"
            )
            empty.findings = linter.load_error_findings(display, error, path)
            return Analysis(uri, version, text, empty, linter, path, messages)
        if not linter.always_parse and not linter.worth_parsing(raw):
            return Analysis(uri, version, text, empty, linter, path, messages)
        result = linter.check_source(source, path)
        messages.extend(result.internal_errors)
        return Analysis(uri, version, text, result, linter, path, messages)

    def analyse_safely(self, uri: str, version: int | None, text: str) -> Analysis | str:
        try:
            return self.analyse(uri, version, text)
        except Exception:
            return f"idemlint: internal error analysing {uri}:\n{traceback.format_exc()}"

    # -- publishing (event loop) -----------------------------------------------------------------
    def schedule(self, uri: str, delay: float, force: bool = True) -> None:
        """(Re)start the analysis of ``uri`` after ``delay`` seconds; latest text wins.

        ``force=False`` (a save): nothing is done if the text was already analysed.
        """
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
            force = True  # the cancelled run may have been the one that mattered
        task = asyncio.get_running_loop().create_task(self._lint_later(uri, delay, force))
        self.pending[uri] = task

    async def _lint_later(self, uri: str, delay: float, force: bool = True) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            document = self.docs.get(uri)
            if document is None:
                return
            version, text = document
            analysed = self.analyses.get(uri)
            if not force and analysed is not None and analysed.text == text:
                return  # e.g. saved without edits since the last analysis
            loop = asyncio.get_running_loop()
            outcome = await loop.run_in_executor(
                self.worker, self.analyse_safely, uri, version, text
            )
            if self.docs.get(uri) != document:
                return  # edited or closed meanwhile: a newer run publishes
            if isinstance(outcome, str):
                self.log(outcome, lsp.MessageType.Error)
                self.analyses.pop(uri, None)
                self.publish(uri, version, [])
                return
            for message in outcome.messages:
                if message in self._reported_config_errors:
                    continue
                if message.startswith("idemlint: invalid configuration"):
                    self._reported_config_errors.add(message)
                    self.window_show_message(
                        lsp.ShowMessageParams(type=lsp.MessageType.Error, message=message)
                    )
                self.log(message, lsp.MessageType.Error)
            self.analyses[uri] = outcome
            self.publish(uri, version, self.diagnostics(outcome))
        except asyncio.CancelledError:
            raise
        except Exception:  # never let one document take the server down
            self.log(f"idemlint: internal error publishing {uri}:\n{traceback.format_exc()}")
        finally:
            if self.pending.get(uri) is asyncio.current_task():
                del self.pending[uri]

    def diagnostics(self, analysis: Analysis) -> list[lsp.Diagnostic]:
        source = analysis.result.source or SourceFile.from_text(analysis.uri, analysis.text)
        positions = Positions(source, self.encoding)
        out: list[lsp.Diagnostic] = []
        for finding in analysis.result.findings:
            out.append(
                lsp.Diagnostic(
                    range=positions.finding_range(finding),
                    message=finding.message,
                    severity=SEVERITY.get(finding.severity, lsp.DiagnosticSeverity.Error),
                    code=finding.code,
                    code_description=lsp.CodeDescription(href=finding.url),
                    source="idemlint",
                    tags=[lsp.DiagnosticTag.Unnecessary] if finding.code == "IDL002" else None,
                )
            )
        return out

    def publish(self, uri: str, version: int | None, diagnostics: list[lsp.Diagnostic]) -> None:
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    def log(self, message: str, kind: lsp.MessageType = lsp.MessageType.Error) -> None:
        log.log(logging.ERROR if kind == lsp.MessageType.Error else logging.INFO, "%s", message)
        with contextlib.suppress(Exception):  # the client may be gone
            self.window_log_message(lsp.LogMessageParams(type=kind, message=message))

    def relint_all(self) -> None:
        for uri in list(self.docs):
            self.schedule(uri, 0)

    # -- code actions (worker thread) ------------------------------------------------------------
    def code_actions(
        self, params: lsp.CodeActionParams, document: tuple[int | None, str]
    ) -> list[lsp.CodeAction]:
        uri = params.text_document.uri
        version, text = document
        analysis = self.analyses.get(uri)
        if analysis is None or analysis.text != text:
            analysis = self.analyse(uri, version, text)
        linter, source = analysis.linter, analysis.result.source
        if linter is None or source is None:
            return []
        positions = Positions(source, self.encoding)
        only = params.context.only
        actions: list[lsp.CodeAction] = []
        if _wanted(only, lsp.CodeActionKind.QuickFix):
            actions.extend(self._quick_fixes(analysis, linter, source, positions, params))
        if _wanted(only, FIX_ALL_KIND):
            fix_all = self._fix_all(analysis, linter, source, positions)
            if fix_all is not None:
                actions.append(fix_all)
        return actions

    def _quick_fixes(
        self,
        analysis: Analysis,
        linter: Linter,
        source: SourceFile,
        positions: Positions,
        params: lsp.CodeActionParams,
    ) -> list[lsp.CodeAction]:
        uri = analysis.uri
        start = positions.from_client(params.range.start)
        end = positions.from_client(params.range.end)
        requested = {
            (d.code, d.range.start.line, d.range.start.character)
            for d in params.context.diagnostics
            if d.source == "idemlint"
        }
        relevant: list[tuple[Finding, lsp.Diagnostic]] = []
        for finding, diagnostic in zip(
            analysis.result.findings, self.diagnostics(analysis), strict=True
        ):
            key = (finding.code, diagnostic.range.start.line, diagnostic.range.start.character)
            first = (finding.line, finding.column - 1)
            last = (finding.end_line, finding.end_column - 1)
            if key in requested or (first <= end and start <= last):
                relevant.append((finding, diagnostic))
        if not relevant:
            return []
        # Build the fix edits of just these findings.
        linter.materialize_fixes(
            FileResult(source.path, [f for f, _ in relevant], source=source), analysis.path
        )
        fixes: list[lsp.CodeAction] = []
        suppressions: list[lsp.CodeAction] = []
        seen: set[tuple[str, tuple[Edit, ...]]] = set()
        for finding, diagnostic in relevant:
            fix = finding.fix
            if fix is not None and fix.edits:
                safe = fix.applicability == "safe"
                fixes.append(
                    lsp.CodeAction(
                        title=f"{finding.code}: {fix.message} ({'safe' if safe else 'unsafe'} fix)",
                        kind=lsp.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        is_preferred=safe,
                        edit=_workspace_edit(uri, analysis.version, [
                            positions.edit(e) for e in fix.edits
                        ]),
                    )
                )
            if finding.code in UNSUPPRESSIBLE:
                continue
            edits = add_noqa_edits(source, [finding])
            if not edits or (finding.code, tuple(edits)) in seen:
                continue
            seen.add((finding.code, tuple(edits)))
            suppressions.append(
                lsp.CodeAction(
                    title=f"Suppress {finding.code} on this line",
                    kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=False,
                    edit=_workspace_edit(uri, analysis.version, [
                        positions.edit(e) for e in edits
                    ]),
                )
            )
        return fixes + suppressions

    def _fix_all(
        self, analysis: Analysis, linter: Linter, source: SourceFile, positions: Positions
    ) -> lsp.CodeAction | None:
        safe = [f for f in analysis.result.findings if f.fix and f.fix.applicability == "safe"]
        if not safe:
            return None
        action = lsp.CodeAction(title=FIX_ALL_TITLE, kind=FIX_ALL_KIND)
        if self.resolves_edits:  # the fix loop runs only when the client picks the action
            action.data = {"uri": analysis.uri, "version": analysis.version}
            return action
        action.edit = self.fix_all_edit(analysis.uri, analysis.version, linter, source,
                                        analysis.path, positions)
        return action if action.edit is not None else None

    def fix_all_edit(
        self,
        uri: str,
        version: int | None,
        linter: Linter,
        source: SourceFile,
        path: Path | None,
        positions: Positions,
    ) -> lsp.WorkspaceEdit | None:
        """The safe fixes of the document as one edit (the engine's fix loop)."""
        fixed = linter.fix_source(source, path, unsafe=False)
        if fixed.fixed_text is None or fixed.fixed_text == source.text:
            return None
        start, end, new_text = minimal_edit(source.text, fixed.fixed_text)
        edit = lsp.TextEdit(
            range=lsp.Range(
                start=positions.position(*source.position(start)),
                end=positions.position(*source.position(end)),
            ),
            new_text=new_text,
        )
        return _workspace_edit(uri, version, [edit])

    def resolve_fix_all(
        self, action: lsp.CodeAction, document: tuple[int | None, str], uri: str
    ) -> lsp.CodeAction:
        version, text = document
        analysis = self.analyses.get(uri)
        if analysis is None or analysis.text != text:
            analysis = self.analyse(uri, version, text)
        source = analysis.result.source
        if analysis.linter is not None and source is not None:
            positions = Positions(source, self.encoding)
            action.edit = self.fix_all_edit(
                uri, version, analysis.linter, source, analysis.path, positions
            )
        if action.edit is None:
            action.edit = lsp.WorkspaceEdit(changes={})
        return action

    @property
    def resolves_edits(self) -> bool:
        """Whether the client resolves code actions lazily (``codeAction/resolve`` for edit)."""
        capabilities = self.client_capabilities
        text_document = capabilities.text_document if capabilities else None
        code_action = text_document.code_action if text_document else None
        support = code_action.resolve_support if code_action else None
        return bool(support and "edit" in support.properties)


def _wanted(only: Sequence[str] | None, kind: str) -> bool:
    """Whether a client's ``only`` filter asks for actions of ``kind`` (prefix match)."""
    if not only:
        return True
    return any(kind == want or kind.startswith(f"{want}.") for want in only)


def _workspace_edit(uri: str, version: int | None, edits: list[lsp.TextEdit]) -> lsp.WorkspaceEdit:
    if version is None:
        return lsp.WorkspaceEdit(changes={uri: list(edits)})
    return lsp.WorkspaceEdit(
        document_changes=[
            lsp.TextDocumentEdit(
                text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                edits=list(edits),
            )
        ]
    )


def _env_debounce() -> float:
    try:
        return max(float(os.environ.get(DEBOUNCE_ENV, DEFAULT_DEBOUNCE_MS)), 0.0) / 1000
    except ValueError:
        return DEFAULT_DEBOUNCE_MS / 1000


def _is_config(uri: str) -> bool:
    return any(uri.endswith("/" + name) for name in CONFIG_FILES)


def _is_python(uri: str, language_id: str | None = None) -> bool:
    if language_id is not None and language_id == "python":
        return True
    path = uri.split("?", 1)[0].split("#", 1)[0]
    return path.endswith(PYTHON_SUFFIXES)


def _supports_watching(server: IdemlintServer) -> bool:
    capabilities = server.client_capabilities
    workspace = capabilities.workspace if capabilities else None
    watched = workspace.did_change_watched_files if workspace else None
    return bool(watched and watched.dynamic_registration)


# -- the server --------------------------------------------------------------------------------
def create_server() -> IdemlintServer:
    server = IdemlintServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: IdemlintServer, params: lsp.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("debounceMs"), (int, float)):
            ls.debounce = max(float(options["debounceMs"]), 0.0) / 1000

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: IdemlintServer, params: lsp.InitializedParams) -> None:
        if not _supports_watching(ls):
            return
        watchers = [lsp.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_FILES]
        ls.client_register_capability(
            lsp.RegistrationParams(
                registrations=[
                    lsp.Registration(
                        id="idemlint-config-watcher",
                        method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                        register_options=lsp.DidChangeWatchedFilesRegistrationOptions(
                            watchers=watchers
                        ),
                    )
                ]
            )
        )

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: IdemlintServer, params: lsp.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        if not _is_python(item.uri, item.language_id):
            return
        ls.docs[item.uri] = (item.version, item.text)
        ls.schedule(item.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: IdemlintServer, params: lsp.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri not in ls.docs:
            return
        document = ls.workspace.get_text_document(uri)
        ls.docs[uri] = (params.text_document.version, document.source)
        ls.schedule(uri, ls.debounce)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE, lsp.SaveOptions(include_text=False))
    async def did_save(ls: IdemlintServer, params: lsp.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if _is_config(uri):
            ls.reset_configuration()
            ls.relint_all()
        elif uri in ls.docs:
            ls.reset_projects()  # other modules may read this one (service objects)
            ls.schedule(uri, 0, force=False)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: IdemlintServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        task = ls.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        ls.analyses.pop(uri, None)
        if ls.docs.pop(uri, None) is not None:
            ls.publish(uri, None, [])

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(
        ls: IdemlintServer, params: lsp.DidChangeWatchedFilesParams
    ) -> None:
        if any(_is_config(change.uri) for change in params.changes):
            ls.reset_configuration()
            ls.relint_all()

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(
            code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL_KIND],
            resolve_provider=True,
        ),
    )
    async def code_action(
        ls: IdemlintServer, params: lsp.CodeActionParams
    ) -> list[lsp.CodeAction] | None:
        document = ls.docs.get(params.text_document.uri)
        if document is None:
            return None
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(ls.worker, ls.code_actions, params, document)
        except Exception:
            ls.log(
                f"idemlint: internal error computing code actions for "
                f"{params.text_document.uri}:\n{traceback.format_exc()}"
            )
            return None

    @server.feature(lsp.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: IdemlintServer, action: lsp.CodeAction) -> lsp.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        uri = data.get("uri")
        document = ls.docs.get(uri) if isinstance(uri, str) else None
        if action.kind != FIX_ALL_KIND or document is None or uri is None:
            return action
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                ls.worker, ls.resolve_fix_all, action, document, uri
            )
        except Exception:
            ls.log(f"idemlint: internal error fixing {uri}:\n{traceback.format_exc()}")
            return action

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: IdemlintServer, *args: Any) -> None:
        for task in ls.pending.values():
            task.cancel()
        ls.pending.clear()
        ls.worker.shutdown(wait=False, cancel_futures=True)

    return server


def serve(stdin: Any = None, stdout: Any = None) -> None:
    """Run the server on stdio until the client sends ``exit``."""
    from .runner import tune_gc

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    server = create_server()
    tune_gc()  # as for `check`: far fewer collections over large syntax trees
    server.start_io(stdin, stdout)
