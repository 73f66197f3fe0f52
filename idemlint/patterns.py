"""Qualified-name patterns of the knowledge base: brace sets, wildcards, fast lookup.

A lookup costs one dict probe per dotted prefix of the name, so matching stays cheap on the
hot path (every call in handler code is looked up).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_BRACES = re.compile(r"\{([^{}]*)\}")
_VALID = re.compile(r"^[A-Za-z_][\w]*(\(\))?(\.([A-Za-z_]\w*(\(\))?|\*))*$")


class PatternError(ValueError):
    """A pattern that is not of the documented form."""


def expand(pattern: str) -> list[str]:
    """Expand brace sets: ``a.{b,c}.d`` -> ``[a.b.d, a.c.d]`` (several sets multiply)."""
    match = _BRACES.search(pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    out: list[str] = []
    for alternative in match.group(1).split(","):
        out.extend(expand(head + alternative.strip() + tail))
    return out


def check(pattern: str) -> None:
    """Raise PatternError unless ``pattern`` (already brace-expanded) is well formed."""
    if not _VALID.match(pattern) or ("*" in pattern and not pattern.endswith(".*")):
        raise PatternError(f"not a qualified-name pattern: {pattern!r}")


class PatternTable(Generic[T]):
    """Maps qualified-name patterns to values; exact names win over the nearest wildcard."""

    __slots__ = ("_exact", "_wild")

    def __init__(self) -> None:
        self._exact: dict[str, T] = {}
        self._wild: dict[str, T] = {}

    def add(self, pattern: str, value: T) -> None:
        for name in expand(pattern):
            check(name)
            if name.endswith(".*"):
                self._wild[name[:-2]] = value
            else:
                self._exact[name] = value

    def update(self, items: Iterable[tuple[str, T]]) -> None:
        for pattern, value in items:
            self.add(pattern, value)

    def get(self, name: str) -> T | None:
        value = self._exact.get(name)
        if value is not None or not self._wild:
            return value
        end = len(name)
        while True:
            end = name.rfind(".", 0, end)
            if end <= 0:
                return None
            value = self._wild.get(name[:end])
            if value is not None:
                return value

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __len__(self) -> int:
        return len(self._exact) + len(self._wild)

    def items(self) -> Iterator[tuple[str, T]]:
        yield from self._exact.items()
        for prefix, value in self._wild.items():
            yield prefix + ".*", value
