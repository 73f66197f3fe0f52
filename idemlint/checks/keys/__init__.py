"""IDL3xx: idempotency keys on calls and sends made from inside a handler."""
