"""Moved: the helpers live in ``idemlint.dataflow`` (and ``syntax``, ``checks/actions/_shared``).
Kept only so the hygiene family's old import path works until the lead repoints it."""

from __future__ import annotations

from ..dataflow import MUTATORS, callee, is_container_binding

__all__ = ["MUTATORS", "callee", "is_container_binding"]
