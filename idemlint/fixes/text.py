"""Text-edit helpers for fix builders: indentation, parentheses, adding and removing call
arguments and dict items without disturbing comments or formatting."""

from __future__ import annotations

# == moved from checks/action_support.py / actions.py (actions family) ==


# == moved from checks/ingress_support.py (ingress/keys family) ==


# == moved from checks/replacements.py (nondeterminism family) ==


# == moved from checks/hygiene.py (hygiene family) ==
