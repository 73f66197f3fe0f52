"""IDL101–IDL107, IDL109: non-journaled clocks, randomness, UUIDs, I/O, sleeps, combinators.

One rule per code; all of them read the same list of known calls in handler code (computed
once per module), keep those whose knowledge-base entry carries their code, and plan the fix
named by the entry.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import ClassVar

from ..analysis import ModuleAnalysis
from ..diagnostics import Finding
from ..registry import Rule, register
from .handler_calls import KnownCall, known_calls
from .replacements import plan_fix


class KnownCallRule(Rule):
    """Reports handler-code calls whose knowledge-base entry has this rule's code."""

    what: ClassVar[str]  # e.g. "reads the wall clock"
    consequence: ClassVar[str]  # what goes wrong on replay
    default_use: ClassVar[str] = ""

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for kc in known_calls(module):
            if kc.entry.code != self.code:
                continue
            yield module.finding(
                self, kc.node, self.message(module, kc), fix=plan_fix(module, kc)
            )

    def message(self, module: ModuleAnalysis, kc: KnownCall) -> str:
        node = kc.node
        if isinstance(node, ast.Call):
            spelled = " ".join(module.text(node.func).split())
            shown = f"`{spelled}()`"
        else:
            spelled = " ".join(module.text(node).split())
            shown = f"`{spelled}`"
        qualified = kc.qualname
        if qualified != spelled and not qualified.startswith("builtins."):
            shown += f" (`{qualified}`)"
        ctx = module.model.context_name_at(node) or "ctx"
        use = (kc.entry.use or self.default_use).replace("{ctx}", ctx)
        text = f"{shown} {self.what} in handler code: {self.consequence}"
        if use:
            text += f"; use `{use}`"
        if kc.entry.note:
            text += f" ({kc.entry.note})"
        return text + _reached(module, kc)


def _reached(module: ModuleAnalysis, kc: KnownCall) -> str:
    """Explain how a helper's code is handler code: the call chain from the handler."""
    unit = kc.unit
    if unit.reason != "called" or not unit.via:
        return ""
    handler = unit.handler
    chain = " -> ".join(f"`{module.text(call.func)}()` (line {call.lineno})" for call in unit.via)
    origin = f"handler `{handler.name}`" if handler else "a function receiving the context"
    return f" [reached from {origin} via {chain}]"


_JOURNAL = "ctx.run_typed(...)"


@register
class WallClock(KnownCallRule):
    code = "IDL101"
    name = "non-journaled-clock"
    summary = "Wall-clock read in handler code outside a journaled action"
    what = "reads the wall clock"
    consequence = "each replay sees a different time"
    default_use = "await {ctx}.time()"
    fix_availability = "sometimes"


@register
class Randomness(KnownCallRule):
    code = "IDL102"
    name = "non-journaled-random"
    summary = "Unseeded randomness in handler code"
    what = "draws unseeded random values"
    consequence = "each replay draws different values"
    default_use = "{ctx}.random()"
    fix_availability = "sometimes"


@register
class RandomUuid(KnownCallRule):
    code = "IDL103"
    name = "non-journaled-uuid"
    summary = "Random UUID generated in handler code"
    what = "generates a new UUID"
    consequence = "each replay produces a different one"
    default_use = "{ctx}.uuid()"
    fix_availability = "sometimes"


@register
class NetworkIO(KnownCallRule):
    code = "IDL104"
    name = "non-journaled-network-io"
    summary = "Network I/O in handler code outside a journaled action"
    what = "performs network I/O"
    consequence = "it runs again on every replay (duplicate requests, double charges)"
    default_use = "await " + _JOURNAL
    fix_availability = "sometimes"


@register
class DatabaseIO(KnownCallRule):
    code = "IDL105"
    name = "non-journaled-database-io"
    summary = "Database or cache I/O in handler code outside a journaled action"
    what = "performs database / cache I/O"
    consequence = "it runs again on every replay and may read different data"
    default_use = "await " + _JOURNAL
    fix_availability = "sometimes"


@register
class SystemIO(KnownCallRule):
    code = "IDL106"
    name = "non-journaled-system-io"
    summary = "Filesystem, subprocess or environment side effect in handler code"
    what = "has a filesystem, process or environment side effect"
    consequence = "it runs again on every replay and may see a different result"
    default_use = "await " + _JOURNAL
    fix_availability = "sometimes"


@register
class NonDurableSleep(KnownCallRule):
    code = "IDL107"
    name = "non-durable-sleep"
    summary = "Non-durable sleep in a handler"
    what = "sleeps in process memory"
    consequence = "the wait is lost on a crash and blocks the invocation instead of suspending it"
    default_use = "await {ctx}.sleep(timedelta(seconds=...))"
    fix_availability = "sometimes"


@register
class AsyncioCombinator(KnownCallRule):
    code = "IDL109"
    name = "asyncio-combinator-on-journaled-futures"
    summary = "asyncio combinator or task over Restate durable futures"
    what = "combines Restate durable futures with asyncio"
    consequence = (
        "asyncio does not journal which future completed first, so replays can diverge"
    )
    default_use = "restate.gather / restate.select"
    fix_availability = "sometimes"
