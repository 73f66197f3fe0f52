"""IDL205 action-mutates-outer-state."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

from ...analysis import ModuleAnalysis
from ...dataflow import MUTATORS, is_container_expr
from ...diagnostics import Finding
from ...registry import Invalid, Rule, Valid
from ...scopes import Kind, Scope, scope_of
from ...syntax import assigned_targets, root_name, scope_within, walk_body
from ._shared import Frame, action_label, actions_with_frames, local_value, outer_context


class ActionMutatesOuterState(Rule):
    """
    ## What it does
    Reports a journaled action that changes state living outside it:
    - assignment to a `nonlocal` or `global` name (`count += 1`);
    - attribute or subscript assignment/deletion on an outer object (`self.total += n`,
      `state["n"] = 1`, `del cache[k]`);
    - a mutating method (`append`, `extend`, `insert`, `remove`, `pop`, `clear`, `sort`,
      `reverse`, `update`, `setdefault`, `popitem`, `add`, `discard`, `*_update`, `appendleft`,
      ...) on an outer list/dict/set/deque/`defaultdict`/`Counter`/... .

    "Outer" objects are closure variables and parameters of the handler, module-level names,
    `self` of a bound method used as the action, and objects reaching the action's parameters
    through forwarded `run_typed` arguments, `functools.partial` arguments or default values
    (`lambda log=AUDIT: log.extend(items)`). Nested functions inside the action are checked too;
    their own locals and the action's locals are not outer.

    Mutating methods are reported only on objects known to be containers (a literal, a
    comprehension, `list()`/`dict()`/`set()`/`collections.*`, or annotated as one): calling
    `db.add(row)` or `cache.set(k, v)` on a client is the side effect the action exists to journal.
    Modules (`os.environ.update(...)`) are not outer state here (see IDL106).

    ## Why is this bad?
    On replay the action is skipped and its journaled result returned: the mutation does not
    happen, so from that point the handler sees different state than on the first execution
    (a counter not incremented, a list missing an element) and may take another path.

    ## Use instead
    Return the value from the action and assign it in the handler.

    ## Fix safety
    No fix: the rewrite depends on what the mutation means.

    ## Options
    None.
    """

    code = "IDL205"
    name = "action-mutates-outer-state"
    summary = "A journaled action mutates state that lives outside it"
    severity = "error"
    VALID = [
        Valid("""
            import restate

            svc = restate.Service("Orders")


            @svc.handler()
            async def order(ctx: restate.Context, items: list) -> list:
                def build() -> list:
                    lines = []
                    for item in items:
                        lines.append(item.upper())
                    seen = {}
                    seen["n"] = len(lines)
                    return lines

                lines = await ctx.run_typed("build", build)
                totals = {}
                totals["count"] = len(lines)  # handler code, not the action
                lines.append("done")
                return lines
        """, note="locals of the action; mutation in the handler"),
        Valid("""
            import restate
            from sqlalchemy.orm import Session

            svc = restate.Service("Orders")
            db = Session()


            @svc.handler()
            async def order(ctx: restate.Context, sku: str) -> None:
                await ctx.run_typed("save", lambda: db.add(sku))
        """, note="a client's method is the side effect the action journals"),
        Valid(
            """
                import restate

                svc = restate.Service("Orders")


                def fetch_count(order_id: str) -> int:
                    return len(order_id)


                @svc.handler()
                async def count(ctx: restate.Context, order_ids: list[str]) -> list[int]:
                    results = []
                    for order_id in order_ids:
                        results.append(await ctx.run_typed("count", fetch_count, restate.RunOptions(), order_id))
                    return results
            """,
            doc=True,
        ),
    ]
    INVALID = [
        Invalid(
            """
                import restate

                svc = restate.Service("Orders")


                def fetch_count(order_id: str) -> int:
                    return len(order_id)


                @svc.handler()
                async def count(ctx: restate.Context, order_ids: list[str]) -> list[int]:
                    results = []
                    for order_id in order_ids:
                        await ctx.run_typed("count", lambda: results.append(fetch_count(order_id)))
                    return results
            """,
            ((14, 46),),
            doc=True,
        ),
        Invalid(
            """
                import restate

                svc = restate.Service("Orders")
                AUDIT: list = []


                @svc.handler()
                async def order(ctx: restate.Context, items: list) -> int:
                    results = []
                    state = {"n": 0}
                    count = 0

                    def bump() -> None:
                        nonlocal count
                        count += 1
                        state["n"] += 1

                    await ctx.run_typed("collect", lambda: results.append(len(items)))
                    await ctx.run_typed("bump", bump)
                    await ctx.run_typed("audit", lambda log=AUDIT: log.extend(items))
                    await ctx.run_typed("extend", add_all, restate.RunOptions(), results, items)
                    return count + len(results)


                def add_all(target: list, values: list) -> None:
                    target.extend(values)
            """,
            ((15, 9), (16, 9), (18, 44), (20, 52), (26, 5)),
            message="mutates outer",
        ),
        Invalid(
            """
                import restate

                obj = restate.VirtualObject("Counter")


                class Counter:
                    def __init__(self) -> None:
                        self.total = 0

                    def add(self, n: int) -> int:
                        self.total += n
                        return self.total


                @obj.handler()
                async def add(ctx: restate.ObjectContext, n: int) -> int:
                    counter = Counter()
                    return await ctx.run_typed("add", counter.add, restate.RunOptions(), n)
            """,
            ((11, 9),),
            note="a bound method mutating its instance",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        reported: set[int] = set()
        for action, frames in actions_with_frames(module):
            label = action_label(action)
            for frame in frames:
                for node, what in outer_mutations(module, frame):
                    if id(node) in reported:
                        continue
                    reported.add(id(node))
                    yield module.finding(
                        self,
                        node,
                        f"journaled action mutates outer `{what}`; return the value instead",
                        detail=f"The journaled action {label} mutates `{what}`, which lives "
                        "outside it: on replay the action is skipped and the mutation does not "
                        "happen, so the handler sees different state. Return the value from the "
                        "action and assign it in the handler.",
                    )


def outer_mutations(module: ModuleAnalysis, frame: Frame) -> Iterator[tuple[ast.AST, str]]:
    """Mutations of state that lives outside the frame's function (node, what)."""
    model = module.model
    for node in walk_body(frame.func):
        for target in assigned_targets(node):
            if isinstance(target, ast.Name):
                if _nonlocal_outside(target.id, scope_of(target), frame):
                    yield target, target.id
            elif isinstance(target, (ast.Attribute, ast.Subscript)):
                if model.is_context(target.value):
                    continue
                if _origin_outer(module, target, frame) is not None:
                    yield target, " ".join(module.text(target).split())
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS
        ):
            receiver = node.func.value
            if outer_context(module, receiver, frame):
                continue
            if _origin_outer(module, receiver, frame) is None:
                continue
            if _container_origin(module, receiver, frame):
                yield node, " ".join(module.text(receiver).split())


def _origin_outer(
    module: ModuleAnalysis, expr: ast.AST | None, frame: Frame | None, depth: int = 0
) -> ast.Name | None:
    """The outer name an object reached from ``expr`` lives in (evaluated in ``frame``)."""
    if expr is None or depth > 10:
        return None
    name = root_name(expr)
    if name is None:
        return None
    binding = module.resolver.binding(name)
    if binding is None or binding.kind is Kind.IMPORT:
        return None
    if frame is None or not scope_within(binding.scope, frame.func):
        return name
    value = local_value(binding, frame)
    return _origin_outer(module, value[0], value[1], depth + 1) if value else None


def _container_origin(
    module: ModuleAnalysis, expr: ast.AST, frame: Frame | None, depth: int = 0
) -> bool:
    """Whether ``expr`` (evaluated in ``frame``) is a known list/dict/set/... ."""
    if depth > 10:
        return False
    if isinstance(expr, ast.Subscript):
        return _container_origin(module, expr.value, frame, depth + 1)
    if isinstance(expr, ast.Name) and frame is not None:
        binding = module.resolver.binding(expr)
        value = local_value(binding, frame) if binding and scope_within(binding.scope, frame.func) else None
        if value is not None:
            return _container_origin(module, value[0], value[1], depth + 1)
    return is_container_expr(module, expr)


def _nonlocal_outside(name: str, scope: Scope, frame: Frame) -> bool:
    """A ``global`` name, or a ``nonlocal`` one bound outside the frame's function."""
    if name in scope.declared_global:
        return True
    if name not in scope.declared_nonlocal:
        return False
    current = scope.parent
    while current is not None:
        if current.is_function and name in current.bindings and name not in current.declared_nonlocal:
            return not scope_within(current, frame.func)
        current = current.parent
    return True
