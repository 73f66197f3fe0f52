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
from ._shared import (
    Frame,
    actions_with_frames,
    activity_starts,
    activity_tables,
    has_double_star,
    is_options_call,
    keyword_value,
    tables,
)


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

    ## Temporal
    Reports an activity start (`workflow.execute_activity`/`start_activity`, the local variants
    `execute_local_activity`/`start_local_activity`, and the `_class`/`_method` variants of all
    four) in workflow code that passes neither `start_to_close_timeout` nor
    `schedule_to_close_timeout`. temporalio 1.35 checks this when the activity is scheduled
    (`worker/_workflow_instance.py`, `_outbound_schedule_activity`, for remote and local
    activities alike): `if not input.start_to_close_timeout and not
    input.schedule_to_close_timeout: raise ValueError("Activity must have start_to_close_timeout
    or schedule_to_close_timeout")`. `schedule_to_start_timeout` or `heartbeat_timeout` alone do
    not satisfy it. The workflow task fails and is retried forever. A call with `**options` is
    not reported (the timeout may be among them). The activity's arguments may be spelled
    `arg` (one, positionally) or `args=[...]`; passing both is reported too:
    `temporalio.common._arg_or_args` raises `ValueError("Cannot have arg and args")` when a
    non-empty `args` comes with `arg`. No fix: the right timeout is the author's call.

    ## Options
    None.
    """

    code = "IDL206"
    name = "run-options-misconfigured"
    summary = "run_typed options passed by keyword, or RunOptions(max_retry_duration=...)"
    severity = "error"
    fix_availability = "sometimes"
    frameworks = ("restate", "temporal")
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
        Valid("""
            from datetime import timedelta

            from temporalio import activity, workflow


            @activity.defn
            async def charge(amount: int, currency: str) -> str:
                return f"{amount} {currency}"


            @workflow.defn
            class Checkout:
                @workflow.run
                async def run(self, amount: int) -> str:
                    options = {"start_to_close_timeout": timedelta(seconds=5)}
                    a = await workflow.execute_activity(
                        charge, args=[amount, "EUR"], start_to_close_timeout=timedelta(seconds=5)
                    )
                    b = await workflow.execute_local_activity(
                        charge, args=[amount, "USD"], schedule_to_close_timeout=timedelta(minutes=1)
                    )
                    c = await workflow.start_activity(charge, args=[amount, "GBP"], **options)
                    return a + b + c
        """, note="Temporal: every start has a timeout (or may get one from **options)"),
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
        Invalid(
            """
                from datetime import timedelta

                import temporalio.workflow as wf
                from temporalio import activity, workflow
                from temporalio.workflow import start_local_activity


                @activity.defn
                async def charge(amount: int) -> str:
                    return f"charged {amount}"


                @workflow.defn
                class Checkout:
                    @workflow.run
                    async def run(self, amounts: list[int]) -> str:
                        out = await workflow.execute_activity(charge, amounts[0])
                        for amount in amounts:
                            if amount:
                                try:
                                    out += await self._more(amount)
                                finally:
                                    pass
                        return out

                    async def _more(self, amount: int) -> str:
                        with open("/dev/null"):
                            first = await wf.execute_activity(
                                charge, args=[amount], heartbeat_timeout=timedelta(seconds=5)
                            )
                        second = await start_local_activity(charge, amount, args=[amount], start_to_close_timeout=timedelta(seconds=1))
                        return first + second
            """,
            ((17, 21), (28, 27), (31, 66)),
            note="Temporal: no timeout (arg / args spellings; heartbeat_timeout is not enough), "
                 "aliased, from-imported, nested, in a helper method; arg and args together",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for action, frames in actions_with_frames(module):
            yield from self._options_keyword(module, action, frames)
        yield from self._renamed_options(module)
        yield from self._activity_starts(module)

    def _activity_starts(self, module: ModuleAnalysis) -> Iterator[Finding]:
        """An activity start without a required timeout, or with both ``arg`` and ``args``."""
        model = module.model
        for call, _, fw in activity_starts(module):
            if model.region(call) != "handler" or has_double_star(call):
                continue
            view = activity_tables(fw)
            shown = f"`{' '.join(module.text(call.func).split())}(...)`"
            if view.timeouts and not any(keyword_value(call, k) for k in view.timeouts):
                names = " or ".join(f"`{k}`" for k in view.timeouts)
                yield module.finding(
                    self,
                    call,
                    f"{shown} sets no {names}; the SDK raises when it is scheduled",
                    end=call.func,
                    detail=f"An activity needs {names}: without one, scheduling it raises "
                    "ValueError and the workflow task fails (and is retried) on every attempt.",
                )
            packed = keyword_value(call, "args")
            if (
                len(call.args) >= 2
                and isinstance(packed, (ast.List, ast.Tuple))
                and packed.elts
            ):
                yield module.finding(
                    self,
                    packed,
                    f"{shown} is given both an argument and `args=`; the SDK raises",
                    detail="A single argument goes positionally after the activity, several "
                    "in `args=[...]`; both at once raise ValueError(\"Cannot have arg and args\").",
                )

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
