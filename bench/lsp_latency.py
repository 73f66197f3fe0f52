"""Latency of `idemlint lsp` on a generated 2,000-line handler file (issue 12's LSP targets).

Usage: python bench/lsp_latency.py [--edits 40] [--lines 2000] [--fix-all-mb 0]

Prints medians and p95 of:

* analysis only: the server's analysis of one version of the document, in process (config
  lookup, content hash, engine), each run on a distinct text so nothing is reused; wall
  time and the thread's CPU time (which other load on the machine does not inflate);
* didChange -> publishDiagnostics over stdio, one keystroke-sized edit at a time, with the
  default (adaptive) debounce, with the debounce off, and with the old fixed 150 ms;
* the same for a didChange that does not change the text (the analysis is reused);
* typing bursts: 5 keystrokes 80 ms apart, timed from the last one (what "diagnostics after
  the last keystroke" means when analyses of earlier keystrokes may still be running);
* with ``--fix-all-mb N``: a small document's diagnostics and code actions while a fix-all
  runs on an N MB document.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from idemlint.lsp import DEBOUNCE_ENV  # noqa: E402
from tests.lsp_client import LspClient  # noqa: E402

HEADER = '''"""Generated benchmark service: many handlers, some with replay hazards."""

import asyncio
import random
import time
import uuid
from datetime import datetime, timedelta

import restate

orders = restate.Service("Orders")
carts = restate.VirtualObject("Carts")

'''

HANDLER = '''

@{service}.handler()
async def handler_{n}(ctx: {context}, request: dict) -> dict:
    """Handler {n}."""
    items = request.get("items", [])
    total = sum(float(item["price"]) * int(item["qty"]) for item in items)
    if total > {n}:
        discount = {hazard}
    else:
        discount = 0.0
    stamp = await ctx.run_typed("stamp_{n}", lambda: time.time())
    await ctx.sleep(timedelta(milliseconds={n}))
    result = {{"total": total - discount, "stamp": stamp, "n": {n}}}
    return result
'''

HAZARDS = [
    "random.random() * total",
    "0.1 * total",
    "float(len(str(uuid.uuid4()))) / 100",
    "0.05 * total",
    "datetime.now().timestamp() % 1",
    "0.2 * total",
]


def generate(lines: int) -> str:
    parts = [HEADER]
    n = 0
    while sum(p.count("\n") for p in parts) < lines:
        service, context = ("orders", "restate.Context") if n % 2 else (
            "carts", "restate.ObjectContext")
        parts.append(HANDLER.format(
            n=n, service=service, context=context, hazard=HAZARDS[n % len(HAZARDS)]))
        n += 1
    text = "".join(parts)
    return "\n".join(text.split("\n")[:lines]).rstrip() + "\n    return {}\n"


def _edited(lines: list[str], target: int, version: int) -> str:
    """The document after a keystroke-sized edit: a constant in one handler changes."""
    lines = list(lines)
    lines[target] = f"        discount = 0.{version % 10}{version} * total"
    return "\n".join(lines)


def measure_analysis(text: str, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of the server's analysis (CPU: unaffected by other load)."""
    from idemlint.lsp.server import IdemlintServer
    from idemlint.runner import tune_gc

    tune_gc()  # as the server does
    server = IdemlintServer()
    with tempfile.TemporaryDirectory() as directory:
        uri = (Path(directory) / "orders_service.py").as_uri()
        lines = text.split("\n")
        target = next(i for i, line in enumerate(lines) if "0.1 * total" in line)
        server.analyse(uri, 1, text)  # warm: configuration, imports
        wall: list[float] = []
        cpu: list[float] = []
        for version in range(2, runs + 2):
            edited = _edited(lines, target, version)
            started, started_cpu = time.perf_counter(), time.thread_time()
            server.analyse(uri, version, edited)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
    return wall, cpu


def measure(text: str, edits: int, debounce_ms: int | None, same_text: bool = False,
            burst: int = 1) -> list[float]:
    """Milliseconds from the last didChange of a burst of ``burst`` keystrokes (80 ms apart)
    to the diagnostics of that version."""
    env = {} if debounce_ms is None else {DEBOUNCE_ENV: str(debounce_ms)}
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        path = root / "orders_service.py"
        path.write_text(text, encoding="utf-8")
        client = LspClient(cwd=root, env=env)
        try:
            client.initialize(root)
            uri = path.as_uri()
            client.open(uri, text)
            client.diagnostics(uri, version=1, timeout=60)
            lines = text.split("\n")
            target = next(i for i, line in enumerate(lines) if "0.1 * total" in line)
            samples: list[float] = []
            version = 1
            for _ in range(edits):
                for keystroke in range(burst):
                    if keystroke:
                        time.sleep(0.08)
                    version += 1
                    new = text if same_text else _edited(lines, target, version)
                    started = time.perf_counter()
                    client.change(uri, new, version)
                client.diagnostics(uri, version=version, timeout=60)
                samples.append((time.perf_counter() - started) * 1000)
                time.sleep(0.3)  # a pause: earlier publications arrive and are skipped
            client.shutdown()
        finally:
            client.kill()
    return samples


def measure_during_fix_all(small: str, megabytes: float, rounds: int) -> dict[str, list[float]]:
    big = generate(int(megabytes * 1e6 / 34))  # ~34 bytes a line
    out: dict[str, list[float]] = {"small: didOpen -> diagnostics": [],
                                   "small: codeAction (quick fixes)": []}
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        client = LspClient(cwd=root)
        try:
            client.initialize(root)
            big_uri = (root / "big_service.py").as_uri()
            client.open(big_uri, big)
            started = time.perf_counter()
            client.diagnostics(big_uri, version=1, timeout=600)
            print(f"big document: {len(big) / 1e6:.1f} MB, analysed in "
                  f"{time.perf_counter() - started:.1f} s")
            fix_all = client.start_request("textDocument/codeAction", {
                "textDocument": {"uri": big_uri},
                "range": {"start": {"line": 0, "character": 0},
                          "end": {"line": 0, "character": 0}},
                "context": {"diagnostics": [], "only": ["source.fixAll"]},
            })
            fix_started = time.perf_counter()
            time.sleep(0.5)
            for n in range(rounds):
                uri = (root / f"small_{n}.py").as_uri()
                started = time.perf_counter()
                client.open(uri, small)
                found = client.diagnostics(uri, version=1, timeout=600)
                out["small: didOpen -> diagnostics"].append(
                    (time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                client.code_actions(uri, found[0]["range"], found[:1], only=["quickfix"])
                out["small: codeAction (quick fixes)"].append(
                    (time.perf_counter() - started) * 1000)
            answered = [m for m in client.received() if m.get("id") == fix_all]
            print(f"fix-all on the big document {'done' if answered else 'still running'} "
                  f"after {time.perf_counter() - fix_started:.1f} s")
            started = time.perf_counter()
            client.shutdown(timeout=30)
            print(f"shutdown + exit with the fix-all running: "
                  f"{(time.perf_counter() - started) * 1000:.0f} ms")
        finally:
            client.kill()
    return out


def report(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(
        f"{label:<44} n={len(samples):>3}  median {statistics.median(samples):7.1f} ms  "
        f"p95 {p95:7.1f} ms  min {ordered[0]:6.1f}  max {ordered[-1]:6.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--fix-all-mb", type=float, default=0.0,
                        help="also measure a small document while a fix-all runs on a big one")
    args = parser.parse_args()
    text = generate(args.lines)
    print(f"file: {text.count(chr(10))} lines, {len(text) / 1000:.0f} kB; "
          f"{args.edits} sequential edits\n")
    wall, cpu = measure_analysis(text, args.edits)
    results: list[tuple[str, Any]] = [
        ("analysis only (in process), wall", wall),
        ("analysis only (in process), CPU", cpu),
        ("didChange -> diagnostics, adaptive debounce", measure(text, args.edits, None)),
        ("didChange -> diagnostics, debounce off", measure(text, args.edits, 0)),
        ("didChange -> diagnostics, fixed 150 ms", measure(text, args.edits, 150)),
        ("unchanged text -> diagnostics (reused)", measure(text, args.edits, None, True)),
        ("typing burst (5 x 80 ms), adaptive", measure(text, args.edits // 2, None, burst=5)),
        ("typing burst (5 x 80 ms), debounce off", measure(text, args.edits // 2, 0, burst=5)),
        ("typing burst (5 x 80 ms), fixed 150 ms",
         measure(text, args.edits // 2, 150, burst=5)),
    ]
    for label, samples in results:
        report(label, samples)
    if args.fix_all_mb:
        print()
        for label, samples in measure_during_fix_all(text, args.fix_all_mb, 5).items():
            report(label, samples)


if __name__ == "__main__":
    main()
