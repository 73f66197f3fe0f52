"""What the case services import to force a retry and to report what they saw.

Outside the linted file on purpose: idemlint checks each case file alone, so these helpers add
no findings of their own. The handler code under test spells its side effects itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

SINK = os.environ.get("REPLAY_SINK", "http://127.0.0.1:9")
STATE = Path(os.environ.get("REPLAY_STATE", "."))


class ForcedRetry(RuntimeError):
    """A retryable failure: Restate retries the invocation, replaying its journal."""


def fail_once(ctx: Any, step: str = "") -> None:
    """Fail the first attempt of this invocation here (after its first journaled step)."""
    marker = STATE / f"failed-{ctx.request().id}{step}"
    if not marker.exists():
        marker.touch()
        raise ForcedRetry("forced retry (replay test)")


def record(tag: str, value: Any) -> None:
    """Tell the sink what this attempt saw or did (one event per call)."""
    httpx.post(f"{SINK}/event/{tag}", json=value, timeout=10).raise_for_status()
