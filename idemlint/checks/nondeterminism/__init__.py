"""IDL1xx: values and side effects that change on replay (clocks, randomness, I/O, sleeps)."""
