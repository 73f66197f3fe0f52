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

What an analysis is (``analyses``), findings as diagnostics (``diagnostics``), quick fixes
(``actions``) and the LSP methods answered (``features``) live in sibling modules; this one
holds the server's state and runs work off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import FeatureRequestError, JsonRpcContentModified
from pygls.lsp.server import LanguageServer

from .. import __version__
from ..source import SourceFile
from .actions import FIX_ALL_KIND, FIX_ALL_TITLE, quick_fixes, wanted, workspace_edit
from .analyses import Analysis, Document, analyse, uri_to_path
from .configs import Configs
from .debounce import Debounce
from .diagnostics import diagnostics
from .fixer import FixError, FixJob, FixPool
from .positions import Positions, minimal_edit
from .protocol import AnsweringProtocol

log = logging.getLogger("idemlint.lsp")

ANALYSIS_THREADS = 3
KEEP_EARLIER_BELOW = 1_000_000  # characters: an earlier analysis is kept for undo below this


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
        """Analyse ``text``, or reuse the latest or the earlier analysis of ``uri``."""
        known = (self.analyses.get(uri), self.earlier.get(uri))
        return analyse(uri, version, text, self.configs, self.roots(), known)

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
            self.publish(uri, version, diagnostics(outcome, self.encoding))
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
        if wanted(only, lsp.CodeActionKind.QuickFix):
            loop = asyncio.get_running_loop()
            actions.extend(await loop.run_in_executor(
                self.worker, quick_fixes, analysis, linter, source, positions, params, self.encoding
            ))
        if wanted(only, FIX_ALL_KIND):
            fix_all = await self._fix_all(analysis, source, positions)
            if fix_all is not None:
                actions.append(fix_all)
        return actions

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
        return workspace_edit(analysis.uri, analysis.version, [edit])

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


