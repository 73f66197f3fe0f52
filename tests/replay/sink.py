"""A local HTTP server that counts side effects: each POST /event/TAG appends its JSON body."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .procs import LOOPBACK


class Sink:
    def __init__(self) -> None:
        self._events: dict[str, list[Any]] = defaultdict(list)
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b"null"
                tag = self.path.removeprefix("/event/")
                with sink._lock:
                    sink._events[tag].append(json.loads(body or b"null"))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.url = f"http://{LOOPBACK}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self, tag: str) -> list[Any]:
        with self._lock:
            return list(self._events.get(tag, []))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
