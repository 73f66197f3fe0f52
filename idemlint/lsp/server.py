"""The language server: documents, analyses, diagnostics and code actions over pygls.

Threads and processes, so the event loop only reads and answers messages:

* analysis (and building quick-fix edits) runs on a small thread pool, at most one analysis
  per document at a time (the next one waits for it, and analyses the latest text);
* fix-all runs in worker processes (``fixer``): cancelling the request or changing the
  document kills the worker, and the request is answered at once;
* ``exit`` ends the process at once, whatever is running.

An analysis is reused when the document's text (by content hash) and its settings are those
of a previous analysis: no work for a version bump without edits, an undo, or a configuration
saved unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import FeatureRequestError, JsonRpcContentModified
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from .. import __version__
from ..config import CONFIG_FILES, Settings
from ..diagnostics import Edit, Finding
from ..engine import FileResult, Linter
from ..source import LoadError, SourceFile
from ..suppress import UNSUPPRESSIBLE, add_noqa_edits
from .configs import Configs
from .debounce import Debounce
from .fixer import FixError, FixJob, FixPool
from .positions import Positions, minimal_edit
from .protocol import AnsweringProtocol

log = logging.getLogger("idemlint.lsp")

FIX_ALL_KIND = "source.fixAll.idemlint"
FIX_ALL_TITLE = "idemlint: fix all safely fixable problems"
PYTHON_SUFFIXES = (".py", ".pyi")
ANALYSIS_THREADS = 3
KEEP_EARLIER_BELOW = 1_000_000  # characters: an earlier analysis is kept for undo below this
SEVERITY = {
    "error": lsp.DiagnosticSeverity.Error,
    "warning": lsp.DiagnosticSeverity.Warning,
    "info": lsp.DiagnosticSeverity.Information,
}

Document = tuple[int | None, str]  # (version, text)


@dataclass
class Analysis:
    """The findings of one version of one document."""

    uri: str
    version: int | None
    text: str
    result: FileResult
    linter: Linter | None
    path: Path | None
    settings: Settings | None = None
    digest: bytes = b""
    seconds: float = 0.0  # how long the analysis took (0 when reused)
    generation: int = 0  # the configuration generation it was made (or reused) under
    messages: list[str] = field(default_factory=list)  # internal errors, logged by the loop


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def uri_to_path(uri: str) -> Path | None:
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def diagnostic_message(finding: Finding) -> str:
    """The finding's one-line message, then its detail (the why) after a blank line.

    Editors show the first line inline (virtual text, the problems list) and the whole
    message on hover, so the detail is there when asked for and out of the way otherwise.
    """
    detail = finding.detail.strip()
    return f"{finding.message}\n\n{detail}" if detail else finding.message


class IdemlintServer(LanguageServer):
    """pygls server holding the open documents, their latest analyses and the configuration."""

    def __init__(self) -> None:
        super().__init__(
            "idemlint",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Full,
            protocol_cls=AnsweringProtocol,
        )
        self.debounce = Debounce.from_env()
        from concurrent.futures import ThreadPoolExecutor

        self.worker = ThreadPoolExecutor(
            max_workers=ANALYSIS_THREADS, thread_name_prefix="idemlint-engine"
        )
        self.fixer = FixPool()
        self.configs = Configs()
        self.docs: dict[str, Document] = {}
        self.analyses: dict[str, Analysis] = {}
        self.earlier: dict[str, Analysis] = {}  # the one before, for undo
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.running: dict[str, asyncio.Future[Analysis | str]] = {}
        self.requests: dict[str, set[asyncio.Task[Any]]] = {}  # code actions per document
        self.superseded: set[asyncio.Task[Any]] = set()
        self.shut_down = False
        self._reported_config_errors: set[str] = set()

    # -- workspace -------------------------------------------------------------------------------
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

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Errors outside a request (e.g. a malformed notification) go to the client's log,
        not to a pop-up; a request's error is in its response already."""
        if source is FeatureRequestError:
            return
        self.log(f"idemlint: {getattr(source, '__name__', source)}: {error!r}")

    def reset_configuration(self) -> None:
        self.configs.reset()
        self._reported_config_errors.clear()

    # -- analysis (worker threads) -----------------------------------------------------------------
    def analyse(self, uri: str, version: int | None, text: str) -> Analysis:
        """Analyse ``text``, or reuse an analysis of the same text with the same settings."""
        started = time.perf_counter()
        generation = self.configs.generation
        path = uri_to_path(uri)
        config = self.configs.for_path(path, self.roots())
        key = digest(text)
        for known in (self.analyses.get(uri), self.earlier.get(uri)):
            if known is not None and known.digest == key and known.settings == config.settings:
                return replace(known, version=version, seconds=0.0, generation=generation,
                               messages=[])
        display = str(path) if path is not None else uri
        source = SourceFile.from_text(display, text)
        messages = [config.error] if config.error else []
        linter, settings = config.linter, config.settings

        def done(result: FileResult, used: Linter | None) -> Analysis:
            messages.extend(result.internal_errors)
            return Analysis(uri, version, text, result, used, path, settings, key,
                            time.perf_counter() - started, generation, messages)

        empty = FileResult(display, source=source)
        if path is not None and settings.is_excluded(path):
            return done(empty, None)
        raw = text.encode("utf-8", "surrogatepass")
        if settings.max_file_size and len(raw) > settings.max_file_size:
            error = LoadError(
                f"file too large to analyse: {len(raw) / 1e6:.1f} MB "
                f"(limit {settings.max_file_size / 1e6:.1f} MB, see `max-file-size`)"
            )
            empty.findings = linter.load_error_findings(display, error, path)
            return done(empty, linter)
        if not linter.always_parse and not linter.worth_parsing(raw):
            return done(empty, linter)
        return done(linter.check_source(source, path), linter)

    def analyse_safely(self, uri: str, version: int | None, text: str) -> Analysis | str:
        try:
            return self.analyse(uri, version, text)
        except Exception:
            return f"idemlint: internal error analysing {uri}:\n{traceback.format_exc()}"

    # -- analysis (event loop) -------------------------------------------------------------------
    async def analysis(self, uri: str, document: Document) -> Analysis | str:
        """The analysis of ``document``: one analysis per document at a time, reused if
        the text was analysed already. Cancelling the caller does not stop the thread; its
        result is still remembered for the next caller."""
        while (running := self.running.get(uri)) is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(running)
        analysed = self.analyses.get(uri)
        if analysed is not None and self.is_analysed(uri, document[1]):
            return replace(analysed, version=document[0], messages=[])
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.worker, self.analyse_safely, uri, *document)
        self.running[uri] = future
        future.add_done_callback(lambda done: self._analysed(uri, done))
        return await asyncio.shield(future)

    def is_analysed(self, uri: str, text: str) -> bool:
        """Whether the latest analysis of ``uri`` is of ``text`` under today's settings."""
        analysed = self.analyses.get(uri)
        return (
            analysed is not None
            and analysed.generation == self.configs.generation
            and analysed.text == text
        )

    def _analysed(self, uri: str, future: asyncio.Future[Analysis | str]) -> None:
        if self.running.get(uri) is future:
            del self.running[uri]
        if future.cancelled() or not isinstance(outcome := future.result(), Analysis):
            return
        if outcome.seconds:
            self.debounce.record(uri, outcome.seconds)
        if uri not in self.docs:
            return
        current = self.analyses.get(uri)
        if current is not None and current.digest != outcome.digest:
            if len(current.text) < KEEP_EARLIER_BELOW:
                self.earlier[uri] = current
            else:
                self.earlier.pop(uri, None)
        self.analyses[uri] = outcome

    def forget(self, uri: str) -> None:
        self.analyses.pop(uri, None)
        self.earlier.pop(uri, None)
        self.debounce.forget(uri)

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
            outcome = await self.analysis(uri, document)
            if self.docs.get(uri) is not document:
                return  # edited or closed meanwhile: a newer run publishes
            if isinstance(outcome, str):
                self.log(outcome, lsp.MessageType.Error)
                self.analyses.pop(uri, None)
                self.publish(uri, version, [])
                return
            self.report(outcome.messages)
            self.publish(uri, version, self.diagnostics(outcome))
        except asyncio.CancelledError:
            raise
        except Exception:  # never let one document take the server down
            self.log(f"idemlint: internal error publishing {uri}:\n{traceback.format_exc()}")
        finally:
            if self.pending.get(uri) is asyncio.current_task():
                del self.pending[uri]

    def report(self, messages: list[str]) -> None:
        for message in messages:
            if message in self._reported_config_errors:
                continue
            if message.startswith("idemlint: invalid configuration"):
                self._reported_config_errors.add(message)
                self.window_show_message(
                    lsp.ShowMessageParams(type=lsp.MessageType.Error, message=message)
                )
            self.log(message, lsp.MessageType.Error)

    def diagnostics(self, analysis: Analysis) -> list[lsp.Diagnostic]:
        source = analysis.result.source or SourceFile.from_text(analysis.uri, analysis.text)
        positions = Positions(source, self.encoding)
        return [
            lsp.Diagnostic(
                range=positions.finding_range(finding),
                message=diagnostic_message(finding),
                severity=SEVERITY.get(finding.severity, lsp.DiagnosticSeverity.Error),
                code=finding.code,
                code_description=lsp.CodeDescription(href=finding.url),
                source="idemlint",
                tags=[lsp.DiagnosticTag.Unnecessary] if finding.code == "IDL002" else None,
            )
            for finding in analysis.result.findings
        ]

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

    # -- requests that a newer version of the document makes stale ----------------------------------
    @contextlib.contextmanager
    def tracked(self, uri: str) -> Any:
        """Run a request for ``uri`` so that a change or close of the document cancels it
        (answered with ContentModified), as does ``$/cancelRequest`` (RequestCancelled)."""
        task = asyncio.current_task()
        assert task is not None
        self.requests.setdefault(uri, set()).add(task)
        try:
            yield
        except asyncio.CancelledError:
            if task in self.superseded:
                raise JsonRpcContentModified(f"{uri} changed; request dropped") from None
            raise
        finally:
            self.superseded.discard(task)
            tasks = self.requests.get(uri)
            if tasks is not None:
                tasks.discard(task)
                if not tasks:
                    del self.requests[uri]

    def supersede(self, uri: str) -> None:
        for task in self.requests.pop(uri, set()):
            self.superseded.add(task)
            task.cancel()

    # -- code actions ------------------------------------------------------------------------------
    async def code_actions(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        uri = params.text_document.uri
        document = self.docs.get(uri)
        if document is None:
            return None
        analysis = await self.analysis(uri, document)
        if isinstance(analysis, str):
            self.log(analysis)
            return []
        linter, source = analysis.linter, analysis.result.source
        if linter is None or source is None:
            return []
        positions = Positions(source, self.encoding)
        only = params.context.only
        actions: list[lsp.CodeAction] = []
        if _wanted(only, lsp.CodeActionKind.QuickFix):
            loop = asyncio.get_running_loop()
            actions.extend(await loop.run_in_executor(
                self.worker, self._quick_fixes, analysis, linter, source, positions, params
            ))
        if _wanted(only, FIX_ALL_KIND):
            fix_all = await self._fix_all(analysis, source, positions)
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

    async def _fix_all(
        self, analysis: Analysis, source: SourceFile, positions: Positions
    ) -> lsp.CodeAction | None:
        safe = [f for f in analysis.result.findings if f.fix and f.fix.applicability == "safe"]
        if not safe:
            return None
        action = lsp.CodeAction(title=FIX_ALL_TITLE, kind=FIX_ALL_KIND)
        if self.resolves_edits:  # the fix loop runs only when the client picks the action
            action.data = {"uri": analysis.uri, "version": analysis.version}
            self.fixer.warm_up()  # so that a worker is ready by then
            return action
        action.edit = await self.fix_all_edit(analysis, source, positions)
        return action if action.edit is not None else None

    async def fix_all_edit(
        self, analysis: Analysis, source: SourceFile, positions: Positions
    ) -> lsp.WorkspaceEdit | None:
        """The safe fixes of the document as one edit (the engine's fix loop, in a worker
        process: cancelling the request kills it)."""
        job = FixJob(source.path, analysis.path, source.text, tuple(self.roots()),
                     (self.configs.generation, self.configs.projects))
        try:
            fixed = await self.fixer.fix(job)
        except FixError as exc:
            self.log(f"idemlint: internal error fixing {analysis.uri}:\n{exc}")
            return None
        if fixed is None or fixed == source.text:
            return None
        start, end, new_text = minimal_edit(source.text, fixed)
        edit = lsp.TextEdit(
            range=lsp.Range(
                start=positions.position(*source.position(start)),
                end=positions.position(*source.position(end)),
            ),
            new_text=new_text,
        )
        return _workspace_edit(analysis.uri, analysis.version, [edit])

    async def resolve_fix_all(self, action: lsp.CodeAction, uri: str) -> lsp.CodeAction:
        document = self.docs.get(uri)
        analysis = await self.analysis(uri, document) if document is not None else None
        if isinstance(analysis, str):
            self.log(analysis)
        elif analysis is not None and analysis.linter is not None:
            source = analysis.result.source
            if source is not None:
                action.edit = await self.fix_all_edit(
                    analysis, source, Positions(source, self.encoding)
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

    # -- lifecycle -------------------------------------------------------------------------------
    def stop_work(self) -> None:
        """Drop pending analyses, kill fix workers (``shutdown``, ``exit``)."""
        for task in self.pending.values():
            task.cancel()
        self.pending.clear()
        for uri in list(self.requests):
            for task in self.requests.pop(uri):
                task.cancel()
        self.fixer.kill_all()
        self.worker.shutdown(wait=False, cancel_futures=True)


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


def _exit_now(code: int) -> None:
    """End the process now: threads still analysing must not keep it alive."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


# -- the server --------------------------------------------------------------------------------
def create_server() -> IdemlintServer:
    server = IdemlintServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: IdemlintServer, params: lsp.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("debounceMs"), (int, float)):
            ls.debounce = Debounce(max(float(options["debounceMs"]), 0.0))

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
        ls.supersede(uri)
        # Text that is already analysed (a version bump, an undo) needs no quiet period.
        ls.schedule(uri, 0 if ls.is_analysed(uri, document.source) else ls.debounce.delay(uri))

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE, lsp.SaveOptions(include_text=False))
    async def did_save(ls: IdemlintServer, params: lsp.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if _is_config(uri):
            ls.reset_configuration()
            ls.relint_all()
        elif uri in ls.docs:
            ls.configs.reset_projects(ls.roots())  # other modules may read this one
            ls.schedule(uri, 0, force=False)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: IdemlintServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        task = ls.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        ls.supersede(uri)
        ls.forget(uri)
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
        uri = params.text_document.uri
        with ls.tracked(uri):
            try:
                return await ls.code_actions(params)
            except (asyncio.CancelledError, JsonRpcContentModified):
                raise
            except Exception:
                ls.log(f"idemlint: internal error computing code actions for "
                       f"{uri}:\n{traceback.format_exc()}")
                return None

    @server.feature(lsp.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: IdemlintServer, action: lsp.CodeAction) -> lsp.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        uri = data.get("uri")
        if action.kind != FIX_ALL_KIND or not isinstance(uri, str) or uri not in ls.docs:
            return action
        with ls.tracked(uri):
            try:
                return await ls.resolve_fix_all(action, uri)
            except (asyncio.CancelledError, JsonRpcContentModified):
                raise
            except Exception:
                ls.log(f"idemlint: internal error fixing {uri}:\n{traceback.format_exc()}")
                return action

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: IdemlintServer, *args: Any) -> None:
        ls.shut_down = True
        ls.stop_work()

    @server.feature(lsp.EXIT)
    def exit_(ls: IdemlintServer, *args: Any) -> None:
        ls.stop_work()
        _exit_now(0 if ls.shut_down else 1)

    return server


def serve(stdin: Any = None, stdout: Any = None) -> int:
    """Run the server on stdio until the client sends ``exit`` (or closes stdin)."""
    from ..runner import tune_gc

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    server = create_server()
    tune_gc()  # as for `check`: far fewer collections over large syntax trees
    if stdout is None:  # stdout is the JSON-RPC channel: a stray print must not reach it
        stdout, sys.stdout = sys.stdout.buffer, sys.stderr
    server.start_io(stdin, stdout)
    # The client closed stdin without `exit`: end now, even with an analysis running.
    server.stop_work()
    _exit_now(0 if server.shut_down else 1)
    return 1  # not reached
