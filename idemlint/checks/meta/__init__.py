"""IDL0xx: about the run itself (files that cannot be analysed, suppressions)."""
