"""IDL5xx: handler hygiene (suspension swallowed, handlers called directly, process state, replayed output)."""
