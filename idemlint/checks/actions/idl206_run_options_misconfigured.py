"""IDL206 run-options-misconfigured."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

from ...analysis import ModuleAnalysis
from ...diagnostics import Edit, Finding, Fix
from ...fixes.context import FixContext
from ...fixes.text import keyword_to_positional
from ...model import Action
from ...registry import Invalid, Rule, Valid
from ...scopes import FUNCTION_NODES
from ...syntax import plain_call
from ._shared import Frame, actions_with_frames, is_options_call, tables


class RunOptionsMisconfigured(Rule):
    """
    ## What it does
    Reports two ways of configuring `run_typed` that the SDK silently ignores:
    - `options=` passed as a keyword: `ctx.run_typed("x", action, options=RunOptions(...))`.
      Reported when the value is a `RunOptions(...)` or when the action's body is known and does not
      accept an `options` keyword (no `options` parameter, no `**kwargs`).
    - `RunOptions(max_retry_duration=...)`, anywhere.

    ## Why is this bad?
    `run_typed(self, name, action, options=RunOptions(), /, *args, **kwargs)` takes `options`
    positional-only (`restate/context.py`): a keyword `options=` lands in `**kwargs` and is forwarded
    to the action (`functools.partial(action, *args, **kwargs)` in `server_context.py`). The run uses
    default options, and calling the action raises `TypeError: unexpected keyword argument
    'options'` — retried forever.

    `RunOptions.max_retry_duration` is documented "Deprecated: Use max_duration instead" and
    `run_typed` never reads it (it passes `options.max_duration` to the retry policy): the limit
    you set is not applied.

    ## Use instead
    Pass the options as the third positional argument, and limit the retries with `max_duration`.

    ## Fix safety
    **Safe.** `options=` moves to the third positional slot when the call has exactly the name and
    the action positionally (no fix when forwarded positional arguments already occupy the slot).
    `max_retry_duration=` is renamed to `max_duration=` unless `max_duration` is also given.

    ## Options
    None.
    """

    code = "IDL206"
    name = "run-options-misconfigured"
    summary = "run_typed options passed by keyword, or RunOptions(max_retry_duration=...)"
    severity = "error"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
            from datetime import timedelta

            import restate
            from restate import RunOptions

            svc = restate.Service("Payments")


            def charge(amount: int, options: dict) -> int:
                return amount + len(options)


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> int:
                opts = RunOptions(max_attempts=3, max_duration=timedelta(seconds=30))
                a = await ctx.run_typed("charge", charge, opts, amount, options={"retry": True})
                return a + await ctx.run_typed("again", lambda: a, RunOptions(max_attempts=1))
        """, note="`options=` forwarded to an action that takes it"),
    ]
    INVALID = [
        Invalid(
            """
                from datetime import timedelta

                import restate

                svc = restate.Service("Payments")


                def charge() -> int:
                    return 1


                @svc.handler()
                async def pay(ctx: restate.Context) -> int:
                    a = await ctx.run_typed("charge", charge, options=restate.RunOptions(max_attempts=3))
                    b = await ctx.run_typed(
                        "again",
                        charge,
                        options=restate.RunOptions(max_retry_duration=timedelta(seconds=5)),
                    )
                    return a + b
            """,
            ((14, 47), (18, 9), (18, 36)),
            fixed="""
                from datetime import timedelta

                import restate

                svc = restate.Service("Payments")


                def charge() -> int:
                    return 1


                @svc.handler()
                async def pay(ctx: restate.Context) -> int:
                    a = await ctx.run_typed("charge", charge, restate.RunOptions(max_attempts=3))
                    b = await ctx.run_typed(
                        "again",
                        charge,
                        restate.RunOptions(max_duration=timedelta(seconds=5)),
                    )
                    return a + b
            """,
            doc=True,
        ),
        Invalid(
            """
                import restate

                svc = restate.Service("Payments")


                async def charge(amount: int) -> int:
                    return amount


                @svc.handler()
                async def pay(ctx: restate.Context, amount: int) -> int:
                    return await ctx.run_typed("charge", charge, amount, options=restate.RunOptions())
            """,
            ((12, 58),),
            note="a forwarded positional argument sits in the options slot: no fix",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for action, frames in actions_with_frames(module):
            yield from self._options_keyword(module, action, frames)
        yield from self._renamed_options(module)

    def _options_keyword(
        self, module: ModuleAnalysis, action: Action, frames: list[Frame]
    ) -> Iterator[Finding]:
        """``run_typed(..., options=...)``: the keyword is forwarded to the action."""
        spec = action.spec
        keyword_name = tables(module).options_keyword
        if not spec.forwards or spec.options is None or keyword_name is None:
            return
        for keyword in action.call.keywords:
            if keyword.arg != keyword_name:
                continue
            explicit = is_options_call(module, keyword.value)
            takes = [f.func for f in frames if _takes_keyword(f.func, keyword_name)]
            if not explicit and (not frames or takes):
                continue
            fix = None
            if len(action.call.args) == spec.options and plain_call(action.call):
                call, slot = action.call, spec.options

                def build(fx: FixContext, call: ast.Call = call, kw: ast.keyword = keyword,
                          slot: int = slot) -> list[Edit]:
                    return keyword_to_positional(fx, call, kw, slot)

                fix = Fix("safe", "Pass the options positionally", build)
            yield module.finding(
                self,
                keyword,
                f"`{keyword_name}=` is forwarded to the action; pass the options positionally",
                fix=fix,
                detail=f"The `{keyword_name}` parameter is positional-only, so the keyword is "
                "forwarded to the action (a TypeError when the action is called) and the run uses "
                "default options. Pass it as the third positional argument.",
            )

    def _renamed_options(self, module: ModuleAnalysis) -> Iterator[Finding]:
        """``RunOptions(max_retry_duration=...)``: an option the action method ignores."""
        view = tables(module)
        renamed = view.renamed_options
        if not renamed or view.options_type is None:
            return
        shown = view.options_type.rpartition(".")[2]
        for call in module.indexer.calls:
            if not is_options_call(module, call):
                continue
            names = {k.arg for k in call.keywords}
            for keyword in call.keywords:
                new = renamed.get(keyword.arg) if keyword.arg is not None else None
                if new is None:
                    continue
                fix = None
                if new not in names:

                    def rename(fx: FixContext, kw: ast.keyword = keyword, new: str = new
                               ) -> list[Edit]:
                        return [fx.replace(kw, f"{new}={fx.text(kw.value)}")]

                    fix = Fix("safe", f"Rename to `{new}`", rename)
                yield module.finding(
                    self,
                    keyword,
                    f"`{shown}({keyword.arg}=...)` is ignored; use `{new}`",
                    fix=fix,
                    detail=f"`{keyword.arg}` is deprecated and run_typed never reads it: the "
                    f"action retries without that limit. Use `{new}`.",
                )


def _takes_keyword(func: ast.AST, name: str) -> bool:
    """Whether the function accepts the keyword ``name`` (a parameter, or ``**kwargs``)."""
    if not isinstance(func, FUNCTION_NODES):
        return False
    args = func.args
    return args.kwarg is not None or any(a.arg == name for a in (*args.args, *args.kwonlyargs))
