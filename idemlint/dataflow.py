"""Data-flow questions rules share: what a value is (a durable future, a mutable container,
a callable), whether it is consumed, which function a call reaches, which values are
regenerated on every evaluation. Framework knowledge comes from the knowledge base."""

from __future__ import annotations

# == moved from checks/action_support.py (actions family) ==


# == moved from checks/ingress_support.py (ingress/keys family) ==


# == moved from checks/replacements.py / handler_calls.py (nondeterminism family) ==


# == moved from checks/hygiene.py (hygiene family) ==
