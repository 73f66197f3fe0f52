"""Values regenerated on every evaluation (clock, random and uuid reads), and the ones a value
is computed from: the key rules ask whether an idempotency key differs on every retry."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace

from .analysis import ModuleAnalysis
from .scopes import FUNCTION_NODES, Binding, Kind, children, parent
from .syntax import string_value


@dataclass(frozen=True)
class Fresh:
    """A value that differs on every evaluation: a clock/random/uuid read."""

    node: ast.Call
    spelled: str
    context: bool  # ctx.uuid()/ctx.random(): deterministic per invocation, not across them
    via: Binding | None = None  # the variable it reached the key through


# Codes of the knowledge base's categories whose calls return a new value every time.
FRESH_CODES = frozenset({"IDL101", "IDL102", "IDL103"})
# The context's own seeded generators: the same on every retry of one invocation.
_GRANULAR_FORMATS = re.compile(r"%[HIMSfsTXcpzZ]")


def _date_granular(call: ast.Call, qualname: str) -> bool:
    """A clock read reduced to a day (``date.today()``, ``now().date()``, ``strftime("%Y-%m-%d")``)."""
    if qualname == "datetime.date.today":
        return True
    up = parent(call)
    if isinstance(up, ast.Attribute) and up.value is call:
        outer = parent(up)
        if up.attr == "date" and isinstance(outer, ast.Call):
            return True
        if up.attr == "strftime" and isinstance(outer, ast.Call) and outer.args:
            fmt = string_value(outer.args[0])
            return fmt is not None and not _GRANULAR_FORMATS.search(fmt)
    return False


def fresh_values(
    module: ModuleAnalysis, expr: ast.AST, follow: bool = True, depth: int = 0
) -> list[Fresh]:
    """Clock/random/uuid reads the value of ``expr`` is computed from.

    Names bound by an assignment inside a function are followed (``key = uuid4()``);
    journaled actions (``await ctx.run_typed(...)``) stop the search: their result is recorded.
    """
    out: list[Fresh] = []
    if depth > 4:
        return out
    model = module.model
    generators = frozenset().union(*(fw.context_generators for fw in model.frameworks))
    stack: list[ast.AST] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (*FUNCTION_NODES, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call):
            if model.action_call(node) is not None:
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in generators:
                framework = model.context_framework(func.value)
                if framework is not None and func.attr in framework.context_generators:
                    out.append(Fresh(node, module.text(node.func) + "()", True))
                    continue
            qualname = module.resolver.qualname(func)
            if qualname is not None:
                entry = module.kb.lookup(qualname)
                if (
                    entry is not None
                    and entry.code in FRESH_CODES
                    and not (entry.when == "no-args" and (node.args or node.keywords))
                    and not _date_granular(node, qualname)
                ):
                    out.append(Fresh(node, " ".join(module.text(func).split()) + "()", False))
                    continue
        elif follow and isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            binding = module.resolver.binding(node)
            if (
                binding is not None
                and binding.kind is Kind.ASSIGN
                and binding.value is not None
                and binding.scope.is_function
            ):
                for found in fresh_values(module, binding.value, True, depth + 1):
                    out.append(replace(found, via=found.via or binding))
            continue
        stack.extend(children(node))
    out.sort(key=lambda f: (f.node.lineno, f.node.col_offset))
    return out
