"""IDL212 unbounded-retries."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

from ...analysis import ModuleAnalysis
from ...diagnostics import Finding
from ...model import Action
from ...registry import Invalid, Rule, Valid
from ...scopes import Kind
from ._shared import (
    activity_starts,
    activity_tables,
    has_double_star,
    is_options_call,
    keyword_value,
    tables,
)

# `RetryPolicy(initial_interval, backoff_coefficient, maximum_interval, maximum_attempts, ...)`:
# where a positional limit sits in the policy's constructor.
_POLICY_LIMIT_POSITION = 3


class UnboundedRetries(Rule):
    """
    ## What it does
    Reports a journaled unit started without any bound on its retries (opt-in):
    - Restate: `ctx.run_typed(...)` whose `RunOptions` set neither `max_attempts` nor
      `max_duration` (or that has no options), and the deprecated `ctx.run(...)` without
      `max_attempts=` / `max_retry_duration=`.
    - Temporal: an activity start with neither `retry_policy=RetryPolicy(maximum_attempts=N)`
      (N other than 0) nor `schedule_to_close_timeout=`.

    Options built elsewhere are followed through one assignment (`OPTS = RunOptions(...)`); an
    options value that cannot be seen (a parameter, an attribute, `**kwargs`) is not reported.

    ## Why is this bad?
    A side effect that fails for a reason retrying cannot cure (a rejected card, a bug, a
    deleted record) is retried again and again: the handler or workflow never finishes and
    never reaches its error handling or compensation. Bounding the retries turns the failure
    into an error the code can handle.

    ## Use instead
    Give the retries a limit: `RunOptions(max_attempts=5)` / `max_duration=timedelta(...)`;
    `retry_policy=RetryPolicy(maximum_attempts=5)` or `schedule_to_close_timeout=...`.

    ## Fix safety
    No fix: the limit is a business decision.

    ## Options
    None. Not enabled by default (retrying until an operator intervenes is a valid design):
    `extend-select = ["IDL212"]`.

    ## Temporal
    temporalio 1.35: `RetryPolicy.maximum_attempts` defaults to 0, "If 0, the default, there is no
    maximum" (`temporalio/common.py`); with no `retry_policy` "a server-defined default is used"
    (`workflow/_activities.py`), which retries without a maximum. `schedule_to_close_timeout` is
    "inclusive of all retries", so it bounds them in time; `start_to_close_timeout` is "per
    retry" and does not. Applies to remote and local activities (`execute_*`/`start_*`, and the
    `_class`/`_method` variants).

    ## Restate
    restate-sdk: `RunOptions.max_attempts` / `max_duration` default to `None`; with neither, the
    run falls back to the invocation's retry policy, configured on the server (not visible
    here). `max_retry_duration` does not count: `run_typed` ignores it (IDL206).
    """

    code = "IDL212"
    name = "unbounded-retries"
    summary = "A journaled action or activity is started without a bound on its retries"
    severity = "warning"
    default_enabled = False
    frameworks = ("restate", "temporal")
    VALID = [
        Valid("""
            from datetime import timedelta

            import restate

            svc = restate.Service("Pay")
            BOUNDED = restate.RunOptions(max_duration=timedelta(minutes=5))


            def charge(amount: int) -> str:
                return f"charged {amount}"


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                a = await ctx.run_typed("a", charge, restate.RunOptions(max_attempts=3), amount)
                b = await ctx.run_typed("b", charge, BOUNDED, amount)
                return a + b
        """, config={"select": ["IDL212"]}, doc=True, note="Restate: bounded runs"),
        Valid("""
            from datetime import timedelta

            from temporalio import activity, workflow
            from temporalio.common import RetryPolicy

            POLICY = RetryPolicy(maximum_attempts=5)


            @activity.defn
            async def charge(amount: int) -> str:
                return f"charged {amount}"


            @workflow.defn
            class Pay:
                @workflow.run
                async def run(self, amount: int) -> str:
                    t = timedelta(seconds=5)
                    a = await workflow.execute_activity(charge, amount, start_to_close_timeout=t, retry_policy=POLICY)
                    b = await workflow.execute_activity(charge, amount, schedule_to_close_timeout=timedelta(minutes=5))
                    c = await workflow.execute_local_activity(
                        charge, amount, start_to_close_timeout=t,
                        retry_policy=RetryPolicy(maximum_attempts=1),
                    )
                    return a + b + c
        """, config={"select": ["IDL212"]}, note="Temporal: a policy with a limit, or a window"),
    ]
    INVALID = [
        Invalid(
            """
                import restate

                svc = restate.Service("Pay")


                def charge(amount: int) -> str:
                    return f"charged {amount}"


                @svc.handler()
                async def pay(ctx: restate.Context, amount: int) -> str:
                    a = await ctx.run_typed("a", charge, restate.RunOptions(), amount)
                    b = await ctx.run_typed("b", lambda: charge(amount))
                    return a + b
            """,
            ((12, 15), (13, 15)),
            config={"select": ["IDL212"]},
            message="without a retry limit",
            doc=True,
            note="Restate: default options, no options",
        ),
        Invalid(
            """
                from datetime import timedelta

                import temporalio.workflow as wf
                from temporalio import activity
                from temporalio.common import RetryPolicy
                from temporalio.workflow import start_activity


                @activity.defn
                async def charge(amount: int) -> str:
                    return f"charged {amount}"


                @wf.defn
                class Pay:
                    @wf.run
                    async def run(self, amounts: list[int]) -> str:
                        out = ""
                        for amount in amounts:
                            if amount:
                                try:
                                    with open("/dev/null"):
                                        out += await self._pay(amount)
                                finally:
                                    pass
                        return out

                    async def _pay(self, amount: int) -> str:
                        t = timedelta(seconds=5)
                        a = await wf.execute_activity(charge, amount, start_to_close_timeout=t)
                        b = await start_activity(
                            charge, args=[amount], start_to_close_timeout=t,
                            retry_policy=RetryPolicy(maximum_attempts=0),
                        )
                        return a + b
            """,
            ((30, 19), (31, 19)),
            config={"select": ["IDL212"]},
            note="Temporal: no policy; maximum_attempts=0 means no maximum; aliased, "
                 "from-imported, nested, in a helper method",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        yield from self._actions(module)
        yield from self._activities(module)

    def _actions(self, module: ModuleAnalysis) -> Iterator[Finding]:
        view = tables(module)
        bounded = set(view.bounded_options)
        if not bounded:
            return
        for action in module.model.actions:
            if _action_bounded(module, action, bounded) is not False:
                continue
            shown = f"`{' '.join(module.text(action.call.func).split())}(...)`"
            fields = " or ".join(f"`{b}`" for b in view.bounded_options)
            yield module.finding(
                self,
                action.call,
                f"{shown} runs without a retry limit: set {fields}",
                end=action.call.func,
                detail=f"With neither {fields}, a failing action is retried by the "
                "invocation's retry policy, possibly forever; the handler never sees the error.",
            )

    def _activities(self, module: ModuleAnalysis) -> Iterator[Finding]:
        model = module.model
        for call, _, fw in activity_starts(module):
            view = activity_tables(fw)
            if view.retry_keyword is None or view.retry_window is None:
                continue
            if model.region(call) != "handler" or has_double_star(call):
                continue
            if _given(keyword_value(call, view.retry_window)):
                continue
            if _policy_bounded(module, keyword_value(call, view.retry_keyword), view.retry_policy,
                               view.retry_limit) is not False:
                continue
            shown = f"`{' '.join(module.text(call.func).split())}(...)`"
            policy = (view.retry_policy or "").rpartition(".")[2]
            yield module.finding(
                self,
                call,
                f"{shown} starts an activity without a retry limit: set "
                f"`{view.retry_keyword}={policy}({view.retry_limit}=...)` or "
                f"`{view.retry_window}=`",
                end=call.func,
                detail="Without a maximum number of attempts or a window for all attempts, a "
                "failing activity is retried without end and the workflow never sees the error.",
            )


def _given(value: ast.expr | None) -> bool:
    return value is not None and not (isinstance(value, ast.Constant) and value.value is None)


def _assigned(module: ModuleAnalysis, expr: ast.expr | None) -> ast.expr | None:
    """The value a name was assigned (one step), else the expression itself."""
    if isinstance(expr, ast.Name):
        binding = module.resolver.binding(expr)
        if binding is not None and binding.kind is Kind.ASSIGN and binding.value is not None:
            return binding.value  # type: ignore[return-value]
    return expr


def _action_bounded(module: ModuleAnalysis, action: Action, bounded: set[str]) -> bool | None:
    """Whether the action's retries are bounded; None when the options cannot be seen."""
    call = action.call
    if has_double_star(call):
        return None
    deprecated = tables(module).deprecated.get(action.spec.method)
    if not action.spec.forwards:
        if deprecated is None:
            return None
        limits = [i for i, p in enumerate(deprecated.params) if deprecated.options.get(p) in bounded]
        if limits and len(call.args) > limits[0]:  # a limit given positionally
            return None
        return any(deprecated.options.get(k.arg or "") in bounded and _given(k.value)
                   for k in call.keywords)
    options = _assigned(module, action.options)
    if options is None:
        return False
    if not is_options_call(module, options):
        return None
    assert isinstance(options, ast.Call)
    if has_double_star(options):
        return None
    return any(k.arg in bounded and _given(k.value) for k in options.keywords)


def _policy_bounded(
    module: ModuleAnalysis, policy: ast.expr | None, policy_type: str | None, limit: str | None
) -> bool | None:
    """Whether a retry policy limits the attempts; None when it cannot be seen."""
    if policy is None or (isinstance(policy, ast.Constant) and policy.value is None):
        return False
    value = _assigned(module, policy)
    if (
        not isinstance(value, ast.Call)
        or module.resolver.qualname(value.func) != policy_type
        or has_double_star(value)
    ):
        return None
    given = keyword_value(value, limit) if limit else None
    if given is None and len(value.args) > _POLICY_LIMIT_POSITION:
        given = value.args[_POLICY_LIMIT_POSITION]
    if given is None:
        return False
    return not (isinstance(given, ast.Constant) and given.value in (0, None))
