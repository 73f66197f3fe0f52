"""A real Restate server (npm ``@restatedev/restate-server``) and the ASGI endpoint serving the cases."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .procs import LOOPBACK, Process, free_port, http_ok

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "restate-server"
PACKAGE = "@restatedev/restate-server@1.7"
BINARY = CACHE / "node_modules" / "@restatedev" / "restate-server-linux-x64" / "bin" / "restate-server"
HERE = Path(__file__).resolve().parent


def restate_binary() -> Path:
    """The server binary, installed from npm into the project's cache folder when missing."""
    if BINARY.exists():
        return BINARY
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed: it is needed once to install " + PACKAGE)
    view = subprocess.run([npm, "view", PACKAGE, "version"], capture_output=True, text=True, timeout=120)
    if view.returncode != 0:
        raise RuntimeError(f"`npm view {PACKAGE}` failed:\n{view.stderr}")
    CACHE.mkdir(parents=True, exist_ok=True)
    install = subprocess.run(
        [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", PACKAGE],
        capture_output=True, text=True, timeout=600,
    )
    if install.returncode != 0 or not BINARY.exists():
        raise RuntimeError(f"`npm install {PACKAGE}` failed:\n{install.stdout}\n{install.stderr}")
    return BINARY


@dataclass
class RestateServer:
    process: Process
    ingress: str
    admin: str

    @classmethod
    def start(cls, workdir: Path) -> RestateServer:
        admin_port, ingress_port, node_port = free_port(), free_port(), free_port()
        env = {
            "RESTATE_ADMIN__BIND_ADDRESS": f"{LOOPBACK}:{admin_port}",
            "RESTATE_INGRESS__BIND_ADDRESS": f"{LOOPBACK}:{ingress_port}",
            "RESTATE_BIND_ADDRESS": f"{LOOPBACK}:{node_port}",
            "RESTATE_ADVERTISED_ADDRESS": f"http://{LOOPBACK}:{node_port}/",
            "RESTATE_BOOTSTRAP_NUM_PARTITIONS": "1",
            "RESTATE_DEFAULT_NUM_PARTITIONS": "1",
            "RESTATE_ROCKSDB_TOTAL_MEMORY_SIZE": "64 MB",
            "RESTATE_SHUTDOWN_TIMEOUT": "2s",
            # a forced retry comes back fast; a case that retries forever is killed by its test
            "RESTATE_DEFAULT_RETRY_POLICY__INITIAL_INTERVAL": "100ms",
            "RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL": "1s",
            "RESTATE_LOG_FILTER": "warn,restate=info",
        }
        process = Process(
            [str(restate_binary()), "--no-logo", "--listen-mode", "tcp", "--node-name", "replay",
             "--base-dir", str(workdir / "data")],
            log=workdir / "restate.log", env=env, cwd=workdir,
        )
        server = cls(process, f"http://{LOOPBACK}:{ingress_port}", f"http://{LOOPBACK}:{admin_port}")
        process.wait_until(lambda: http_ok(server.admin + "/health"), 60, "restate-server admin")
        process.wait_until(lambda: http_ok(server.ingress + "/restate/health"), 60,
                           "restate-server ingress")
        return server

    def register(self, uri: str) -> dict[str, Any]:
        response = httpx.post(self.admin + "/deployments", json={"uri": uri, "force": True},
                              timeout=30)
        response.raise_for_status()
        return dict(response.json())

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of the admin SQL introspection API (``sys_invocation``, ``sys_journal``, ...)."""
        response = httpx.post(self.admin + "/query", json={"query": sql},
                              headers={"accept": "application/json"}, timeout=30)
        response.raise_for_status()
        return list(response.json()["rows"])

    def invocation(self, invocation_id: str) -> dict[str, Any]:
        rows = self.query(f"SELECT * FROM sys_invocation WHERE id = '{invocation_id}'")
        return rows[0] if rows else {}

    def kill(self, invocation_id: str) -> None:
        """Stop an invocation that retries forever (the harm some cases show)."""
        httpx.patch(f"{self.admin}/invocations/{invocation_id}/kill", timeout=30)

    def wait_invocation(self, invocation_id: str, until: str, timeout: float = 30) -> dict[str, Any]:
        """Poll ``sys_invocation`` until the row satisfies ``until`` (a key: "completed", "failure")."""
        deadline = time.monotonic() + timeout
        row: dict[str, Any] = {}
        while time.monotonic() < deadline:
            row = self.invocation(invocation_id)
            if until == "completed" and row.get("status") == "completed":
                return row
            if until == "failure" and row.get("last_failure"):
                return row
            time.sleep(0.1)
        raise AssertionError(f"invocation {invocation_id} not {until} after {timeout} s: {row}")

    def stop(self) -> None:
        self.process.stop(grace=3)


@dataclass
class Endpoint:
    """The case services served by hypercorn in a subprocess (its own process group)."""

    process: Process
    uri: str

    @classmethod
    def start(cls, workdir: Path, module_dirs: list[Path], env: dict[str, str],
              protocol: str = "bidi") -> Endpoint:
        port = free_port()
        process = Process(
            [sys.executable, str(HERE / "serve_restate.py"), protocol, f"{LOOPBACK}:{port}",
             *map(str, module_dirs)],
            log=workdir / f"endpoint-{protocol}.log", env=env, cwd=workdir,
        )
        uri = f"http://{LOOPBACK}:{port}"
        process.wait_until(lambda: http_ok(uri + "/health"), 60, f"hypercorn endpoint ({protocol})")
        return cls(process, uri)

    def stop(self) -> None:
        self.process.stop(grace=5)
