"""Fix-all in worker processes, so a long fix loop can be cancelled by killing it.

A thread cannot be stopped, and the fix loop on a multi-MB document runs for many seconds:
the server hands fix-all to a small pool of child processes (spawned, so no locks are
inherited from the server's threads) and kills the one whose request is cancelled or whose
document changed meanwhile. Workers start on first use and are reused.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ..source import SourceFile
from .configs import Configs


@dataclass(frozen=True)
class FixJob:
    """What a worker needs to fix one document like the server would lint it."""

    display: str
    path: Path | None
    text: str
    roots: tuple[Path, ...]
    generation: tuple[int, int]  # the server's configuration and project generations


class FixError(Exception):
    """The worker failed (its traceback is the message) or died."""


def _worker_main(conn: Connection) -> None:
    """Child process: answer fix jobs until the pipe closes."""
    # The inherited stdout is the server's JSON-RPC channel: nothing may be written to it.
    with contextlib.suppress(OSError, ValueError):
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    configs = Configs()
    generation = (0, 0)
    while True:
        try:
            job: FixJob = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if job.generation != generation:
                configs.reset()
                generation = job.generation
            linter = configs.for_path(job.path, list(job.roots)).linter
            source = SourceFile.from_text(job.display, job.text)
            fixed = linter.fix_source(source, job.path, unsafe=False).fixed_text
            reply: tuple[str, Any] = ("ok", fixed)
        except Exception:
            reply = ("error", traceback.format_exc())
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


class _Worker:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child,), name="idemlint-fix", daemon=True
        )
        self.process.start()
        child.close()

    def run(self, job: FixJob) -> str | None:
        """Blocking: the fixed text, or ``None`` when nothing changes."""
        try:
            self.conn.send(job)
            kind, value = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise FixError(f"the fix worker stopped ({exc!r})") from None
        if kind != "ok":
            raise FixError(str(value))
        return value if isinstance(value, str) else None

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.conn.close()


class FixPool:
    """At most ``size`` concurrent fix-alls, each in its own killable process."""

    def __init__(self, size: int = 2) -> None:
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._lock = threading.Lock()
        self._slots: asyncio.Semaphore | None = None
        self._size = size
        self._threads = ThreadPoolExecutor(max_workers=size, thread_name_prefix="idemlint-fix")

    async def fix(self, job: FixJob) -> str | None:
        """The fixed text; cancelling the awaiting task kills the worker at once."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
        async with self._slots:
            worker = self._take()
            loop = asyncio.get_running_loop()
            try:
                result = await loop.run_in_executor(self._threads, worker.run, job)
            except BaseException:  # cancelled, or the worker failed: never reuse it
                self._discard(worker)
                raise
            self._give_back(worker)
            return result

    def warm_up(self) -> None:
        """Start a worker ahead of the first fix-all (its imports take a moment)."""
        with self._lock:
            if not self._idle and not self._busy:
                self._idle.append(_Worker())

    def kill_all(self) -> None:
        with self._lock:
            workers = [*self._idle, *self._busy]
            self._idle.clear()
            self._busy.clear()
        for worker in workers:
            worker.kill()
        self._threads.shutdown(wait=False, cancel_futures=True)

    def _take(self) -> _Worker:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None or not worker.process.is_alive():
            worker = _Worker()
        with self._lock:
            self._busy.add(worker)
        return worker

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            self._idle.append(worker)

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
        worker.kill()
