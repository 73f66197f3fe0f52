"""How long to wait after a change before analysing: fixed, or adapted to the analysis time.

Debouncing only saves work that a newer keystroke would make useless. When analysis takes
20 ms, waiting 150 ms for quiet is pure latency; when it takes a second, starting one per
keystroke wastes the machine (a running analysis cannot be stopped, and the next one waits
for it). So by default the delay follows the document's recent analysis times: half their
median, clamped to [``MIN_MS``, ``MAX_MS``]. (Only one analysis of a document runs at a
time, so a short delay cannot pile up work; past 150 ms, waiting costs more latency than the
analyses it saves.)
"""

from __future__ import annotations

import os
import statistics
from collections import deque

DEBOUNCE_ENV = "IDEMLINT_LSP_DEBOUNCE_MS"
MIN_MS = 20.0
MAX_MS = 150.0  # the former fixed debounce: never slower than it
FACTOR = 0.5
FIRST_MS = 50.0  # before any analysis of the document was timed
SAMPLES = 9


class Debounce:
    """Per-document debounce: ``fixed_ms`` if set, else adaptive."""

    def __init__(self, fixed_ms: float | None = None) -> None:
        self.fixed_ms = fixed_ms
        self._times: dict[str, deque[float]] = {}

    @classmethod
    def from_env(cls) -> Debounce:
        value = os.environ.get(DEBOUNCE_ENV, "").strip()
        try:
            return cls(max(float(value), 0.0)) if value else cls()
        except ValueError:
            return cls()

    def record(self, uri: str, seconds: float) -> None:
        """One analysis of ``uri`` took ``seconds``."""
        self._times.setdefault(uri, deque(maxlen=SAMPLES)).append(seconds * 1000)

    def forget(self, uri: str) -> None:
        self._times.pop(uri, None)

    def delay_ms(self, uri: str) -> float:
        if self.fixed_ms is not None:
            return self.fixed_ms
        times = self._times.get(uri)
        if not times:
            return FIRST_MS
        return min(max(FACTOR * statistics.median(times), MIN_MS), MAX_MS)

    def delay(self, uri: str) -> float:
        """The delay in seconds."""
        return self.delay_ms(uri) / 1000
