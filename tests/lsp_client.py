"""A minimal LSP client speaking JSON-RPC over a subprocess's stdio, as an editor does.

Used by ``tests/test_lsp.py`` and ``bench/lsp_latency.py``. Every wait has a timeout, so a
hung server fails the caller instead of hanging it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Message = dict[str, Any]
DEFAULT_TIMEOUT = 20.0


class LspError(AssertionError):
    """The server misbehaved: no answer in time, an error response, or it died."""


class LspClient:
    def __init__(
        self,
        command: Sequence[str] | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        command = list(command or [sys.executable, "-m", "idemlint", "lsp"])
        full_env = {**os.environ, **(env or {})}
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=full_env,
        )
        self._next_id = 0
        self._messages: queue.Queue[Message | None] = queue.Queue()
        self._backlog: list[Message] = []  # received, not yet consumed
        self.stderr: list[bytes] = []
        self.log_messages: list[Message] = []
        self.requests_from_server: list[Message] = []
        self._write_lock = threading.Lock()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    # -- transport ---------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        try:
            while True:
                headers: dict[str, str] = {}
                while True:
                    line = stream.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, colon, value = line.decode("ascii", "replace").partition(":")
                    if not colon:  # not a header: something wrote to the server's stdout
                        self.stderr.append(b"client: not an LSP header: " + line + b"\n")
                        return
                    headers[name.strip().lower()] = value.strip()
                length = int(headers["content-length"])
                body = stream.read(length)
                if len(body) < length:
                    return
                self._messages.put(json.loads(body.decode("utf-8")))
        finally:
            self._messages.put(None)

    def _read_stderr(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        for line in iter(stream.readline, b""):
            self.stderr.append(line)

    def send(self, message: Message) -> None:
        self.send_raw(json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8"))

    def send_raw(self, body: bytes) -> None:
        """One frame with ``body`` as is (for malformed messages)."""
        frame = f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body
        with self._write_lock:
            assert self.process.stdin is not None
            self.process.stdin.write(frame)
            self.process.stdin.flush()

    def _receive(self, deadline: float) -> Message:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LspError(f"timed out waiting for the server; stderr:\n{self.stderr_text()}")
        try:
            message = self._messages.get(timeout=remaining)
        except queue.Empty:
            raise LspError(
                f"timed out waiting for the server; stderr:\n{self.stderr_text()}"
            ) from None
        if message is None:
            self._messages.put(None)
            raise LspError(f"the server closed its output; stderr:\n{self.stderr_text()}")
        if "method" in message and "id" in message:  # a request from the server
            self.requests_from_server.append(message)
            self.send({"id": message["id"], "result": None})
        if message.get("method") == "window/logMessage":
            self.log_messages.append(message["params"])
        return message

    def wait_for(
        self, predicate: Callable[[Message], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> Message:
        for index, message in enumerate(self._backlog):
            if predicate(message):
                return self._backlog.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline)
            if predicate(message):
                return message
            self._backlog.append(message)

    def stderr_text(self) -> str:
        return b"".join(self.stderr).decode("utf-8", "replace")[-4000:]

    # -- JSON-RPC ----------------------------------------------------------------------------
    def request(self, method: str, params: Any, timeout: float = DEFAULT_TIMEOUT) -> Any:
        response = self.response(self.start_request(method, params), timeout)
        if "error" in response:
            raise LspError(f"{method} failed: {response['error']}")
        return response.get("result")

    def start_request(self, method: str, params: Any) -> int:
        """Send a request without waiting; returns its id (see ``response``)."""
        self._next_id += 1
        self.send({"id": self._next_id, "method": method, "params": params})
        return self._next_id

    def response(self, request_id: int | str, timeout: float = DEFAULT_TIMEOUT) -> Message:
        """The response (result or error) to request ``request_id``."""
        return self.wait_for(lambda m: m.get("id") == request_id and "method" not in m, timeout)

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def diagnostics(
        self,
        uri: str,
        version: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list[dict[str, Any]]:
        """The next publishDiagnostics for ``uri`` (for ``version``, if given)."""

        def matches(message: Message) -> bool:
            if message.get("method") != "textDocument/publishDiagnostics":
                return False
            params = message["params"]
            if params["uri"] != uri:
                return False
            return version is None or params.get("version") == version

        return list(self.wait_for(matches, timeout)["params"]["diagnostics"])

    def received(self) -> list[Message]:
        """Messages received so far and not consumed, without consuming them."""
        messages = self.drain()
        self._backlog = [*messages, *self._backlog]
        return list(messages)

    def drain(self) -> list[Message]:
        """Messages received so far and not consumed (without waiting)."""
        while True:
            try:
                message = self._messages.get_nowait()
            except queue.Empty:
                break
            if message is None:
                self._messages.put(None)
                break
            self._backlog.append(message)
        out, self._backlog = self._backlog, []
        return out

    # -- lifecycle ---------------------------------------------------------------------------
    def initialize(
        self,
        root: Path,
        position_encodings: Sequence[str] = ("utf-16",),
        resolve_edits: bool = False,
    ) -> dict[str, Any]:
        code_action: dict[str, Any] = {
            "codeActionLiteralSupport": {
                "codeActionKind": {"valueSet": ["quickfix", "source", "source.fixAll"]}
            },
            "isPreferredSupport": True,
        }
        if resolve_edits:
            code_action["resolveSupport"] = {"properties": ["edit"]}
            code_action["dataSupport"] = True
        result = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "capabilities": {
                    "general": {"positionEncodings": list(position_encodings)},
                    "workspace": {
                        "didChangeWatchedFiles": {"dynamicRegistration": True},
                        "workspaceEdit": {"documentChanges": True},
                    },
                    "textDocument": {
                        "synchronization": {"didSave": True},
                        "publishDiagnostics": {"versionSupport": True},
                        "codeAction": code_action,
                    },
                },
            },
        )
        self.notify("initialized", {})
        return dict(result)

    def shutdown(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        self.request("shutdown", None, timeout)
        self.notify("exit", None)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise LspError("the server did not exit after `exit`") from None

    def children(self) -> list[int]:
        """Process ids of the server's child processes (Linux ``/proc``)."""
        out: list[int] = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:
                    out.append(int(stat.parent.name))
        return out

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    # -- documents ---------------------------------------------------------------------------
    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": version,
                              "text": text}},
        )

    def change(self, uri: str, text: str, version: int) -> None:
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )

    def code_actions(
        self,
        uri: str,
        range_: dict[str, Any],
        diagnostics: list[dict[str, Any]] | None = None,
        only: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        context: dict[str, Any] = {"diagnostics": diagnostics or []}
        if only is not None:
            context["only"] = only
        result = self.request(
            "textDocument/codeAction",
            {"textDocument": {"uri": uri}, "range": range_, "context": context},
        )
        return list(result or [])


# -- applying edits like an editor (UTF-16 positions) ----------------------------------------------
def _split_lines(text: str) -> list[str]:
    """Lines with their terminators, split only at \\n, \\r\\n and \\r (as LSP does)."""
    out: list[str] = []
    start = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\r" and text[index + 1 : index + 2] == "\n":
            out.append(text[start : index + 2])
            index += 2
            start = index
            continue
        if char in "\r\n":
            out.append(text[start : index + 1])
            start = index + 1
        index += 1
    out.append(text[start:])
    return out


def offset_at(text: str, position: dict[str, int], encoding: str = "utf-16") -> int:
    lines = _split_lines(text)
    line = position["line"]
    if line >= len(lines):
        return len(text)
    offset = sum(len(x) for x in lines[:line])
    content = lines[line].rstrip("\r\n")
    units = 0
    for index, char in enumerate(content):
        if units >= position["character"]:
            return offset + index
        if encoding == "utf-8":
            units += len(char.encode("utf-8"))
        elif encoding == "utf-16":
            units += 2 if ord(char) > 0xFFFF else 1
        else:
            units += 1
    return offset + len(content)


def apply_text_edits(
    text: str, edits: list[dict[str, Any]], encoding: str = "utf-16"
) -> str:
    spans = sorted(
        (
            (offset_at(text, e["range"]["start"], encoding),
             offset_at(text, e["range"]["end"], encoding), e["newText"])
            for e in edits
        ),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def apply_workspace_edit(
    texts: dict[str, str], edit: dict[str, Any], encoding: str = "utf-16"
) -> dict[str, str]:
    """Apply a WorkspaceEdit (``changes`` or ``documentChanges``) to in-memory documents."""
    out = dict(texts)
    for uri, edits in (edit.get("changes") or {}).items():
        out[uri] = apply_text_edits(out[uri], edits, encoding)
    for change in edit.get("documentChanges") or []:
        uri = change["textDocument"]["uri"]
        out[uri] = apply_text_edits(out[uri], change["edits"], encoding)
    return out
