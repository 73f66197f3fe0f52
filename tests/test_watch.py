"""``idemlint check --watch`` in a real process: a file change triggers a new run."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from .conftest import HANDLER

pytest.importorskip("watchfiles")

CLEAN = HANDLER.replace("time.time()", "await ctx.time()")


def _lines(stream: IO[bytes], into: queue.Queue[tuple[str, str]], name: str) -> None:
    for line in iter(stream.readline, b""):
        into.put((name, line.decode()))


def _wait_for(lines: queue.Queue[tuple[str, str]], needle: str, seen: list[str],
              timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(line)
        if needle in line:
            return True
    return False


def test_watch_relints_on_change(write: Callable[..., Path], tmp_path: Path) -> None:
    path = write("app/svc.py", CLEAN)
    write("app/notes.txt", "not python")
    proc = subprocess.Popen(
        [sys.executable, "-m", "idemlint", "check", "--watch", "app"], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    lines: queue.Queue[tuple[str, str]] = queue.Queue()
    for stream, name in ((proc.stdout, "out"), (proc.stderr, "err")):
        assert stream is not None
        threading.Thread(target=_lines, args=(stream, lines, name), daemon=True).start()
    seen: list[str] = []
    try:
        assert _wait_for(lines, "Watching for file changes.", seen, 30), seen
        assert any("Starting linter in watch mode..." in line for line in seen)
        assert any("All checks passed!" in line for line in seen)
        finding = "app/svc.py:10:12: IDL101 [*] `time.time()`"
        changed = False
        for _ in range(10):  # the watcher may start a moment after the status line
            time.sleep(0.3)
            path.write_text(HANDLER)
            if _wait_for(lines, finding, seen, 3):
                changed = True
                break
        assert changed, seen
        changed_at = next(i for i, line in enumerate(seen) if "File change detected" in line)
        # stdout (findings) and stderr (status) are read by two threads: the status line of the
        # second run may come in before the findings it follows
        rewatching = any("Watching for file changes." in line for line in seen[changed_at:])
        assert rewatching or _wait_for(lines, "Watching for file changes.", seen, 10), seen
        assert proc.poll() is None  # still watching
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            code = proc.wait(timeout=15)
    assert code == 0


def test_only_relevant_changes_trigger_a_run() -> None:
    from idemlint.cli_watch import relevant

    assert [relevant(p) for p in ("a/b.py", "stubs.pyi", "pyproject.toml", "idemlint.toml",
                                  "x/.gitignore", ".ignore", "notes.txt", "a.pyc", "b.py~")] == [
        True, True, True, True, True, True, False, False, False]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_watch_clears_the_terminal_before_each_run(write: Callable[..., Path], tmp_path: Path) -> None:
    import pty
    import select

    path = write("svc.py", CLEAN)
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "idemlint", "check", "--watch", "svc.py"], cwd=tmp_path,
        stdout=terminal, stderr=terminal, start_new_session=True, env=env,
    )
    os.close(terminal)
    screen = b""

    def read_until(needle: bytes, count: int, timeout: float) -> bool:
        nonlocal screen
        deadline = time.monotonic() + timeout
        while screen.count(needle) < count and time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    screen += os.read(controller, 4096)
                except OSError:
                    return False
        return screen.count(needle) >= count

    try:
        assert read_until(b"Watching for file changes.", 1, 30), screen
        for _ in range(10):
            time.sleep(0.3)
            path.write_text(HANDLER)
            if read_until(b"Watching for file changes.", 2, 3):
                break
        assert screen.count(b"Watching for file changes.") == 2, screen
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)
        os.close(controller)
    clear = b"\x1b[2J\x1b[3J\x1b[H"
    assert screen.startswith(clear) and screen.count(clear) == 2
    second = screen.split(clear)[2].decode().replace("\r\n", "\n")
    assert "File change detected" in second
    assert "\x1b[1;31mIDL101\x1b[0m" in second  # a terminal: coloured
