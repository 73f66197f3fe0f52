"""Rule modules; importing this package registers every rule."""

from . import meta, nondeterminism  # noqa: F401
from . import actions, hygiene  # noqa: F401,E402
from . import ingress, keys  # noqa: F401,E402
