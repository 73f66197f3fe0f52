"""``python -m idemlint``."""

from .cli import main

raise SystemExit(main())
