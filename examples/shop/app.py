"""The ASGI app serving the shop's services (run with: hypercorn examples.shop.app:app)."""

import restate

from .cart import cart
from .checkout import checkout
from .signup import signup

app = restate.app([checkout, cart, signup])
