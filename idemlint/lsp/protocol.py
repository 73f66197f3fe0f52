"""JSON-RPC that answers every request: a client waiting for a reply that never comes hangs.

pygls drops a request whose ``params`` do not match the method's type (missing, ``null``, the
wrong shape), one without ``"jsonrpc": "2.0"`` and any request after ``shutdown``, with a log
line and no response. Here each of them gets an error response with the request's id.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol

_ANSWERED = object()  # a request already answered with an error while it was decoded


def _request_id(message: Any) -> int | str | None:
    """The id of a request (a dict or a structured message), if it has a usable one."""
    if isinstance(message, dict):
        if "method" not in message:
            return None
        ident = message.get("id")
    else:
        if getattr(message, "method", None) is None:
            return None
        ident = getattr(message, "id", None)
    if isinstance(ident, bool) or not isinstance(ident, (int, str)):
        return None
    return ident


class AnsweringProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that replies with an error instead of dropping a request."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            ident = _request_id(data)
            if ident is None:
                raise  # a notification: pygls logs it, there is no one to answer
            if isinstance(exc, JsonRpcInvalidParams):
                exc = JsonRpcInvalidParams(
                    f"invalid or missing params for {data.get('method')!r}"
                )
            self._send_response(ident, error=exc.to_response_error())
            return _ANSWERED

    def handle_message(self, message: Any) -> None:
        if message is _ANSWERED:
            return
        ident = _request_id(message)
        if isinstance(message, dict):  # no "jsonrpc" member: not decoded as a message
            if ident is not None:
                self._reject(ident, "not a JSON-RPC 2.0 request")
            return
        if ident is not None and getattr(message, "jsonrpc", None) != self.VERSION:
            self._reject(ident, 'not a JSON-RPC 2.0 request ("jsonrpc": "2.0" missing)')
            return
        if ident is not None and self._shutdown and message.method != lsp.EXIT:
            self._reject(ident, "the server is shutting down")
            return
        super().handle_message(message)

    def _reject(self, ident: int | str, why: str) -> None:
        self._send_response(ident, error=JsonRpcInvalidRequest(why).to_response_error())
