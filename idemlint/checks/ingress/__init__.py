"""IDL4xx: calls into Restate from outside a handler (the ingress) and their idempotency keys."""
