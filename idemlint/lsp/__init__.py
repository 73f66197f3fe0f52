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

Importing this package needs pygls and lsprotocol: ``ImportError`` otherwise (the CLI turns
it into a usage error naming the extra).
"""

from __future__ import annotations

from .debounce import DEBOUNCE_ENV, Debounce
from .positions import Positions, minimal_edit
from .server import FIX_ALL_KIND, IdemlintServer, create_server, serve

__all__ = [
    "DEBOUNCE_ENV",
    "FIX_ALL_KIND",
    "Debounce",
    "IdemlintServer",
    "Positions",
    "create_server",
    "minimal_edit",
    "serve",
]
