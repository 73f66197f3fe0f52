"""The language server, ``idemlint lsp`` (stdio, pygls + lsprotocol; the ``lsp`` extra).

A thin front end over the engine:

* diagnostics on open, change (debounced per document, adapted to the analysis time; latest
  text wins; unchanged text is not analysed again) and save, each with the rule code, its
  documentation link, ``source: "idemlint"`` and the finding's severity;
* code actions: the rule's quick fix (labelled safe/unsafe), "Suppress IDLxxx on this line"
  and ``source.fixAll.idemlint`` (safe fixes, the engine's fix loop, in a killable process);
* configuration found like the CLI finds it, reloaded when those files change;
* every request answered (a result or an error), long work off the event loop, ``exit``
  honoured at once.

The server needs pygls and lsprotocol: importing ``serve`` raises ``ImportError`` without
them (the CLI turns it into a usage error naming the extra).
"""

from __future__ import annotations

from typing import Any

from .debounce import DEBOUNCE_ENV, Debounce

# The rest needs pygls: imported on first use, so that fix workers (which import
# ``idemlint.lsp.fixer``) start without loading pygls and lsprotocol.
_LAZY = {
    "FIX_ALL_KIND": "actions",
    "IdemlintServer": "server",
    "create_server": "features",
    "serve": "features",
    "Positions": "positions",
    "minimal_edit": "positions",
}

__all__ = ["DEBOUNCE_ENV", "Debounce", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)
