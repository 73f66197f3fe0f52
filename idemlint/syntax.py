"""Generic questions about Python syntax trees, independent of any framework or rule:
arguments of a call, walking a function body, positions, literal values."""

from __future__ import annotations

# == moved from checks/action_support.py (actions family) ==


# == moved from checks/ingress_support.py (ingress/keys family) ==


# == moved from checks/replacements.py / handler_calls.py (nondeterminism family) ==


# == moved from checks/hygiene.py (hygiene family) ==
