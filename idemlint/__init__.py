"""idemlint: a linter for durable-execution (Restate) handler code."""

__version__ = "0.1.0"
