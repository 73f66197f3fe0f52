"""The knowledge-base calls in handler code, computed once per module.

Shared by every rule that asks "which known APIs does handler code call?" (the IDL1xx
rules report them, other families consult them): one walk over handler code, one
qualified-name lookup per call, each entry's ``when`` condition checked here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .analysis import ModuleAnalysis
from .dataflow import is_durable
from .knowledge import ApiEntry, Framework
from .model import HandlerModel, Unit
from .patterns import PatternTable
from .syntax import argument

# Keyword names of the delay parameter of the sleep functions (stdlib, trio, anyio).
SLEEP_DELAY_KEYWORDS = ("secs", "seconds", "delay")


@dataclass(frozen=True, slots=True)
class KnownCall:
    """A call (or a mutation) in handler code matching a knowledge-base entry."""

    node: ast.AST  # the ast.Call, or the mutated target for `[mutations]` entries
    qualname: str
    entry: ApiEntry
    unit: Unit

    @property
    def method(self) -> str:
        """The last part of the qualified name (`asyncio.gather` -> `gather`)."""
        return self.qualname.rsplit(".", 1)[-1]


def known_calls(module: ModuleAnalysis) -> list[KnownCall]:
    """Every known call in the module's handler code, in source order (cached per module)."""
    return module.shared(_collect)


def _collect(module: ModuleAnalysis) -> list[KnownCall]:
    model = module.model
    kb = module.kb
    qualname = module.resolver.qualname
    out: list[KnownCall] = []
    for unit, call in model.handler_calls():
        name = qualname(call.func)
        if name is None:
            continue
        entry = kb.lookup(name)
        if entry is not None and _condition_holds(_when(entry, name, unit), call, model):
            out.append(KnownCall(call, name, entry, unit))
    if _may_mutate(module):
        for unit, node in model.handler_nodes():
            if not isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
                continue
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if isinstance(target, ast.Subscript):
                    name = qualname(target.value)
                    entry = kb.mutations.get(name) if name else None
                    if entry is not None and name is not None:
                        out.append(KnownCall(target, name, entry, unit))
    out.sort(key=lambda kc: (kc.node.lineno, kc.node.col_offset))  # type: ignore[attr-defined]
    return out


def _may_mutate(module: ModuleAnalysis) -> bool:
    """Whether a `[mutations]` target (e.g. `os.environ`) is spelled in the file at all."""
    text = module.source.text
    return any(name in text for name in module.shared(_mutation_names))


def _mutation_names(module: ModuleAnalysis) -> set[str]:
    return {pattern.rsplit(".", 1)[-1] for pattern, _ in module.kb.mutations.items()}


# id(framework) -> (framework, its `when` overrides): a framework profile may say that an API's
# condition does not hold in its durable code (`when = ""`: always reported) or another one.
_WHEN: dict[int, tuple[Framework, PatternTable[str]]] = {}


def _when(entry: ApiEntry, qualname: str, unit: Unit) -> str | None:
    """The entry's condition as the framework of the unit's durable code states it: the
    `when` of its `[tables.nondeterminism.apis]` entry if it gives one (see rules/README.md)."""
    framework = unit.framework
    if framework is None:
        return entry.when
    cached = _WHEN.get(id(framework))
    if cached is None or cached[0] is not framework:
        table: PatternTable[str] = PatternTable()
        for pattern, spec in framework.table("nondeterminism").get("apis", {}).items():
            if isinstance(spec, dict) and isinstance(spec.get("when"), str):
                table.add(pattern, spec["when"])
        cached = _WHEN[id(framework)] = (framework, table)
    override = cached[1].get(qualname)
    if override is None:
        return entry.when
    return override or None


def _condition_holds(when: str | None, call: ast.Call, model: HandlerModel) -> bool:
    if when == "no-args":
        return not call.args and not call.keywords
    if when == "nonzero-delay":
        delay = argument(call, 0, *SLEEP_DELAY_KEYWORDS)
        return not (isinstance(delay, ast.Constant) and delay.value == 0)
    if when == "durable-future-arg":
        values = [*call.args, *(k.value for k in call.keywords)]
        return any(is_durable(model, value) for value in values)
    return True
