"""Rule modules; importing this package registers every rule."""

from . import meta, nondeterminism  # noqa: F401
