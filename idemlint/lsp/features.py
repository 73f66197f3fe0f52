"""The LSP methods the server answers (pygls features), and ``serve``, the stdio entry point."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import traceback
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcContentModified

from ..config import CONFIG_FILES
from .actions import FIX_ALL_KIND
from .debounce import Debounce
from .server import IdemlintServer

PYTHON_SUFFIXES = (".py", ".pyi")


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
