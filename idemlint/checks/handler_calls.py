"""Calls made by handler code that the knowledge base knows, computed once per module.

Shared by the IDL1xx rules (and any rule that asks "which known APIs does handler code
call?"): one walk over handler code, one qualified-name lookup per call.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..analysis import ModuleAnalysis
from ..knowledge import ApiEntry
from ..model import HandlerModel, Unit
from ..scopes import Kind, scope_of


@dataclass(frozen=True, slots=True)
class KnownCall:
    """A call (or a mutation) in handler code matching a knowledge-base entry."""

    node: ast.AST  # the ast.Call, or the mutated target for `[mutations]` entries
    qualname: str
    entry: ApiEntry
    unit: Unit


def known_calls(module: ModuleAnalysis) -> list[KnownCall]:
    cached = module.memo.get("known_calls")
    if cached is None:
        cached = module.memo["known_calls"] = list(_collect(module))
    return cached  # type: ignore[no-any-return]


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
        if entry is not None and _condition_holds(entry, call, model):
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
    names = module.memo.get("mutation_names")
    if names is None:
        names = module.memo["mutation_names"] = {
            pattern.rsplit(".", 1)[-1] for pattern, _ in module.kb.mutations.items()
        }
    text = module.source.text
    return any(name in text for name in names)


def _condition_holds(entry: ApiEntry, call: ast.Call, model: HandlerModel) -> bool:
    when = entry.when
    if when is None:
        return True
    if when == "no-args":
        return not call.args and not call.keywords
    if when == "nonzero-delay":
        delay = call.args[0] if call.args else next(
            (k.value for k in call.keywords if k.arg in ("delay", "seconds", "secs")), None
        )
        return not (isinstance(delay, ast.Constant) and delay.value == 0)
    if when == "durable-future-arg":
        values = [*call.args, *(k.value for k in call.keywords)]
        return any(is_durable(model, value) for value in values)
    return True


def is_durable(model: HandlerModel, expr: ast.AST | None, depth: int = 0) -> bool:
    """Whether ``expr`` is (or holds) a durable future made by the Restate context."""
    if expr is None or depth > 6:
        return False
    if isinstance(expr, ast.Call):
        func = expr.func
        if isinstance(func, ast.Attribute):
            if func.attr in model.fw.durable and model.is_context(func.value):
                return True
            if func.attr == "value" and isinstance(func.value, ast.Call):
                inner = func.value.func  # ctx.promise("x").value()
                return (
                    isinstance(inner, ast.Attribute)
                    and inner.attr == "promise"
                    and model.is_context(inner.value)
                )
        return False
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return any(is_durable(model, e, depth + 1) for e in expr.elts)
    if isinstance(expr, ast.Starred):
        return is_durable(model, expr.value, depth + 1)
    if isinstance(expr, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return is_durable(model, expr.elt, depth + 1)
    if isinstance(expr, ast.Name):
        binding = model.resolver.binding(expr)
        if binding is None or binding.kind is not Kind.ASSIGN:
            return False
        if is_durable(model, binding.value, depth + 1):
            return True
        return _appended_durable(model, expr, depth)
    return False


def _appended_durable(model: HandlerModel, name: ast.Name, depth: int) -> bool:
    """``futures.append(ctx.run_typed(...))`` somewhere in the scope that binds ``futures``."""
    binding = model.resolver.binding(name)
    if binding is None:
        return False
    for call in model.index.calls:
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("append", "extend", "insert", "add")
            and isinstance(func.value, ast.Name)
            and func.value.id == name.id
            and scope_of(func.value) is scope_of(name)
            and any(is_durable(model, a, depth + 1) for a in call.args)
        ):
            return True
    return False
