"""IDL207 deprecated-ctx-run."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...diagnostics import Edit, Finding, Fix, FixUnavailable
from ...fixes.context import FixContext
from ...fixes.text import as_positional, comma, comma_joined, tight_equal
from ...model import Action
from ...registry import Invalid, Rule, Valid
from ...syntax import plain_call
from ._shared import DeprecatedAction, Frame, actions_with_frames, options_spelling, tables


class DeprecatedCtxRun(Rule):
    """
    ## What it does
    Reports `ctx.run(name, action, ...)` on the Restate context (its docstring in
    `restate/context.py`: "DEPRECATED: Use ctx.run_typed instead").

    ## Why is this bad?
    `ctx.run` takes retry settings as loose keywords, forwards arguments only through a tuple
    (`args=`), and infers the serializer from the raw return annotation. `run_typed` takes a
    `RunOptions`, forwards `*args, **kwargs` with type checking (`ParamSpec`), and supports the
    retry settings `run` lacks (`initial_retry_interval`, `max_retry_interval`,
    `retry_interval_factor`).

    ## Use instead
    `ctx.run_typed(name, action, RunOptions(...), *args)`: the retry settings go into
    `RunOptions(...)` and the arguments are forwarded positionally.

    ## Fix safety
    The fix maps the arguments, positional or keyword: `name`, `action`; `serde`,
    `max_attempts`, `max_retry_duration` (→ `max_duration`) and `type_hint` into
    `RunOptions(...)`; a literal `args=(a, b)` becomes forwarded positional arguments
    (`RunOptions()` is then inserted). The journal entry keeps its name.
    - **Safe** when everything is literal and the serializer cannot change.
    - **Unsafe** when `args=` is not a literal tuple (it becomes `*args`, which fails if it can be
      `None`), when the action's return annotation or `type_hint` is `Optional[...]`/`X | None`
      (`run_typed` unwraps it to pick the serializer, so e.g. a dataclass comes back as a dataclass
      instead of a dict), or when the action's body cannot be found to read its annotation.
    - No fix with `*args`/`**kwargs` in the call.

    The layout of the call (line breaks, trailing comma) and the kept arguments' text are preserved.

    ## Options
    None.
    """

    code = "IDL207"
    name = "deprecated-ctx-run"
    summary = "Deprecated `ctx.run(...)`: use `ctx.run_typed(...)`"
    severity = "warning"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
            import asyncio

            import restate

            svc = restate.Service("Jobs")


            def main() -> None:
                asyncio.run(asyncio.sleep(0))  # not the context


            @svc.handler()
            async def job(ctx: restate.Context, n: int) -> int:
                return await ctx.run_typed("double", lambda: n * 2)
        """),
    ]
    INVALID = [
        Invalid(
            """
                from datetime import timedelta

                import restate

                svc = restate.Service("Jobs")


                def double(n: int) -> int:
                    return n * 2


                @svc.handler()
                async def job(ctx: restate.Context, n: int) -> int:
                    a = await ctx.run("double", double, args=(n,))
                    b = await ctx.run("triple", lambda: n * 3, max_attempts=3, max_retry_duration=timedelta(seconds=10))
                    c = await ctx.run("plain", action=lambda: a + b)
                    return c
            """,
            ((14, 15), (15, 15), (16, 15)),
            fixed="""
                from datetime import timedelta

                import restate

                svc = restate.Service("Jobs")


                def double(n: int) -> int:
                    return n * 2


                @svc.handler()
                async def job(ctx: restate.Context, n: int) -> int:
                    a = await ctx.run_typed("double", double, restate.RunOptions(), n)
                    b = await ctx.run_typed("triple", lambda: n * 3, restate.RunOptions(max_attempts=3, max_duration=timedelta(seconds=10)))
                    c = await ctx.run_typed("plain", lambda: a + b)
                    return c
            """,
            doc=True,
        ),
        Invalid(
            """
                from typing import Optional

                from restate import Context, Service

                svc = Service("Jobs")


                def lookup(key: str) -> Optional[dict]:
                    return None


                @svc.handler()
                async def job(ctx: Context, key: str, extra: tuple) -> dict:
                    found = await ctx.run("lookup", lookup, args=(key,))
                    more = await ctx.run("more", lookup, args=extra)
                    return found or more or {}
            """,
            ((14, 19), (15, 18)),
            message="run_typed",
            unsafe=True,
            fixed="""
                from typing import Optional

                from restate import Context, Service, RunOptions

                svc = Service("Jobs")


                def lookup(key: str) -> Optional[dict]:
                    return None


                @svc.handler()
                async def job(ctx: Context, key: str, extra: tuple) -> dict:
                    found = await ctx.run_typed("lookup", lookup, RunOptions(), key)
                    more = await ctx.run_typed("more", lookup, RunOptions(), *extra)
                    return found or more or {}
            """,
            note="Optional return type and a non-literal args tuple: unsafe",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        deprecated = tables(module).deprecated
        for action, frames in actions_with_frames(module):
            target = deprecated.get(action.spec.method)
            if target is None or action.spec.forwards:
                continue
            call = action.call
            receiver = " ".join(module.text(action.receiver).split())
            yield module.finding(
                self,
                call,
                f"`{receiver}.{action.spec.method}(...)` is deprecated; use "
                f"`{receiver}.{target.replacement}(...)`",
                fix=self._fix(module, action, frames, target),
                detail=f"Use `{receiver}.{target.replacement}(name, action, RunOptions(...), "
                "*args)`: the retry settings go into `RunOptions` (`max_retry_duration` becomes "
                "`max_duration`) and the `args` are passed positionally.",
            )

    def _fix(
        self, module: ModuleAnalysis, action: Action, frames: list[Frame], target: DeprecatedAction
    ) -> Fix | None:
        call, spec, params = action.call, action.spec, target.params
        if not plain_call(call) or len(call.args) > len(params):
            return None
        values: dict[str, ast.expr] = dict(zip(params, call.args, strict=False))
        for keyword in call.keywords:
            if keyword.arg not in params or keyword.arg in values:
                return None
            values[keyword.arg] = keyword.value  # type: ignore[index]
        name_param, action_param = params[spec.name], params[spec.action]
        if name_param not in values or action_param not in values:
            return None
        safe = True
        packed = values.get(spec.args_keyword) if spec.args_keyword else None
        forwarded: list[ast.expr] = []
        starred: ast.expr | None = None
        if isinstance(packed, ast.Tuple):
            forwarded = list(packed.elts)
        elif packed is not None and not (isinstance(packed, ast.Constant) and packed.value is None):
            starred, safe = packed, False
        hint = values.get(target.type_hint) if target.type_hint else None
        if hint is not None:
            safe = safe and not _optional_annotation(module, hint)
        elif not frames:
            safe = False  # the action's return annotation decides its serde: unknown here
        else:
            for frame in frames:
                returns = getattr(frame.func, "returns", None)
                if _optional_annotation(module, returns):
                    safe = False
        needs_options = (
            any(old in values for old in target.options) or bool(forwarded) or starred is not None
        )
        args_param = spec.args_keyword

        def build(fx: FixContext) -> list[Edit]:
            import libcst as cst

            node = fx.cst_expression(call)
            if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
                raise FixUnavailable("not a method call")
            original = list(node.args)
            by_param: dict[str, cst.Arg] = dict(
                zip(params, [a for a in original if a.keyword is None], strict=False)
            )
            by_param.update((a.keyword.value, a) for a in original if a.keyword is not None)
            args = [as_positional(by_param[name_param]), as_positional(by_param[action_param])]
            edits: list[Edit] = []
            if needs_options:
                run_options, edits = options_spelling(fx)
                options = [
                    cst.Arg(keyword=cst.Name(new), value=by_param[old].value, equal=tight_equal())
                    for old, new in target.options.items()
                    if old in by_param
                ]
                value = cst.Call(func=cst.parse_expression(run_options), args=comma_joined(options))
                args.append(cst.Arg(value=value))
            packed = by_param.get(args_param) if args_param else None
            if forwarded and packed is not None and isinstance(packed.value, cst.Tuple):
                for element in packed.value.elements:
                    if isinstance(element, cst.StarredElement):
                        args.append(cst.Arg(value=element.value, star="*"))
                    else:
                        args.append(cst.Arg(value=element.value))
            elif starred is not None and packed is not None:
                args.append(cst.Arg(value=packed.value, star="*"))
            commas = [a.comma for a in original[:-1] if isinstance(a.comma, cst.Comma)]
            separators = commas + [commas[-1] if commas else comma()] * len(args)
            args = [a.with_changes(comma=separators[i]) for i, a in enumerate(args[:-1])] + [
                args[-1].with_changes(comma=original[-1].comma)
            ]
            updated = node.with_changes(
                func=node.func.with_changes(attr=cst.Name(target.replacement)), args=args
            )
            return [*edits, fx.replace(call, fx.code(updated))]

        return Fix(
            "safe" if safe else "unsafe", f"Rewrite as `ctx.{target.replacement}(...)`", build
        )


def _optional_annotation(module: ModuleAnalysis, annotation: ast.expr | None) -> bool:
    """``Optional[X]``, ``Union[X, None]``, ``X | None`` (run_typed unwraps them, run does not)."""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return _string_may_be_optional(annotation.value)
    if isinstance(annotation, ast.BinOp):
        return any(
            isinstance(side, ast.Constant) and side.value is None
            for side in (annotation.left, annotation.right)
        ) or _optional_annotation(module, annotation.left) or _optional_annotation(
            module, annotation.right
        )
    if isinstance(annotation, ast.Subscript):
        outer = module.resolver.qualname(annotation.value)
        if outer == "typing.Optional":
            return True
        if outer == "typing.Union":
            elts = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else []
            return any(isinstance(e, ast.Constant) and e.value is None for e in elts)
    return False


def _string_may_be_optional(text: str) -> bool:
    """A string annotation that mentions ``Optional`` or ``None`` (or cannot be parsed)."""
    try:
        dumped = ast.dump(ast.parse(text, mode="eval").body)
    except SyntaxError:
        return True
    return "Optional" in dumped or "None" in dumped
