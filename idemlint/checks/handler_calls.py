"""Moved: the catalogued calls are in ``idemlint.calls``, ``is_durable`` in
``idemlint.dataflow``. Kept until the imports of other families are repointed."""

from __future__ import annotations

from ..calls import KnownCall, known_calls
from ..dataflow import is_durable

__all__ = ["KnownCall", "is_durable", "known_calls"]
