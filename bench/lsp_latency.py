"""didChange -> publishDiagnostics latency of `idemlint lsp` on a generated 2,000-line handler file.

Usage: python bench/lsp_latency.py [--edits 40] [--lines 2000]

Starts the server as an editor would (stdio JSON-RPC), opens the file, then sends one edit at
a time (full-text didChange, as the server asks for) and measures the time until the
diagnostics for that document version arrive. Runs twice: with the server's default debounce
(what a user sees) and with the debounce off (analysis + transport only).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from idemlint.lsp import DEBOUNCE_ENV, DEFAULT_DEBOUNCE_MS  # noqa: E402
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


def measure(text: str, edits: int, debounce_ms: int | None) -> list[float]:
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
            found = client.diagnostics(uri, version=1, timeout=60)
            if debounce_ms is None:
                print(f"diagnostics in the file: {len(found)}")
            lines = text.split("\n")
            target = next(i for i, line in enumerate(lines) if "0.1 * total" in line)
            samples: list[float] = []
            for version in range(2, edits + 2):
                # a keystroke-sized edit: change a constant in one handler
                lines[target] = f"        discount = 0.{version % 10} * total"
                started = time.perf_counter()
                client.change(uri, "\n".join(lines), version)
                client.diagnostics(uri, version=version, timeout=60)
                samples.append((time.perf_counter() - started) * 1000)
            client.shutdown()
        finally:
            client.kill()
    return samples


def report(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(
        f"{label:<34} n={len(samples):>3}  median {statistics.median(samples):7.1f} ms  "
        f"p95 {p95:7.1f} ms  min {ordered[0]:6.1f}  max {ordered[-1]:6.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--lines", type=int, default=2000)
    args = parser.parse_args()
    text = generate(args.lines)
    print(f"file: {text.count(chr(10))} lines, {len(text) / 1000:.0f} kB; "
          f"{args.edits} sequential edits\n")
    report(f"default debounce ({DEFAULT_DEBOUNCE_MS} ms)", measure(text, args.edits, None))
    report("debounce off (analysis only)", measure(text, args.edits, 0))


if __name__ == "__main__":
    main()
