"""Transition shim: the names the key rules (checks/keys.py) still import from here, at their
new homes. Delete this module once keys imports them directly (see the ingress branch report)."""

from __future__ import annotations

from ..dataflow import Fresh, fresh_values, target_handler, uses_of
from ..fixes.text import comment_in_the_way, remove_argument
from ..knowledge import bundled
from ..syntax import (
    argument,
    call_items,
    inside,
    is_none,
    keyword,
    string_value,
    unwrap_str,
    walk_function,
)
from .ingress._shared import ingress_tables

_TABLES = ingress_tables(bundled())
EXPLICIT_RECOVERY = _TABLES.explicit_recovery
KEY_INDEX = dict(_TABLES.key_index)
SCOPED_KEY_INDEX = dict(_TABLES.scoped_key_index)

__all__ = [
    "EXPLICIT_RECOVERY", "KEY_INDEX", "SCOPED_KEY_INDEX", "Fresh", "argument", "call_items",
    "comment_in_the_way", "fresh_values", "inside", "is_none", "keyword", "remove_argument",
    "string_value", "target_handler", "unwrap_str", "uses_of", "walk_function",
]
