"""Rule modules; importing this package registers every rule."""

from . import actions, hygiene, ingress, keys, meta, nondeterminism

__all__ = ["actions", "hygiene", "ingress", "keys", "meta", "nondeterminism"]
