"""IDL103 non-journaled-uuid."""

from __future__ import annotations

import ast

from ...analysis import ModuleAnalysis
from ...calls import KnownCall
from ...diagnostics import Fix
from ...registry import Invalid, Valid
from ._shared import KnownCallRule, context_name, fix_strategy, make_fix, tables


class NonJournaledUuid(KnownCallRule):
    """
    ## What it does
    Reports UUIDs generated in handler code outside a journaled action (Restate) or in workflow
    code (Temporal):
    - `uuid.uuid4()` (random) and `uuid.uuid1()` (clock plus a random clock sequence);
    - `uuid.uuid6()`, `uuid.uuid7()` (Python 3.14) and `uuid.uuid8()` called without arguments;
    - the `uuid6` backport (`uuid6.uuid6`, `uuid7`, `uuid8`) and `uuid_utils` (`uuid1`, `uuid4`,
      `uuid6`, `uuid7`, and `uuid8()` without arguments).

    Name-based UUIDs (`uuid3`, `uuid5`) are deterministic and not reported, nor is code at module
    level. Any import spelling is recognised (`from uuid import uuid4 as new_id`), helpers called
    from a handler are checked (the finding's detail shows the call chain), and arguments
    forwarded to a journaled action
    (`ctx.run_typed("create", make_order, restate.RunOptions(), uuid.uuid4())`) are reported
    because they are evaluated in the handler.

    ## Why is this bad?
    Restate replays a handler from its journal after a crash, a retry or a suspension, and code
    outside `ctx.run_typed(...)` runs again on every attempt. A UUID generated there is new on each
    attempt: the order row written under the first id is orphaned when the retry writes a second
    one, a reference handed to the customer stops matching, and an idempotency key built from
    `uuid4()` defeats its purpose, since each retry sends a fresh key and the payment provider
    charges again.

    `ctx.uuid()` returns a version-4 UUID derived from the invocation's deterministic random seed:
    the same value on every retry and replay, without a journal entry. It comes from the same
    generator as `ctx.random()`, so it is predictable: do not use it as a secret (session ids,
    password-reset links).

    ## Use instead
    When you need a time-ordered UUID (v1, v6, v7) or an unguessable one, generate it inside a
    journaled action and return its string form (the action's result must be serializable):
    `trace = await ctx.run_typed("trace id", lambda: uuid.uuid1().hex)`.

    ## Fix safety
    The fix replaces the call with `ctx.uuid()`. It needs the context in scope and a call without
    arguments; it adds no `await`, so it also applies in sync handlers and lambdas.
    - `uuid.uuid4()` → `ctx.uuid()`: **safe**, same type (`uuid.UUID`) and version.
    - `uuid.uuid1()`, `uuid6()`, `uuid7()`, `uuid8()`, the `uuid6` backport and `uuid_utils`
      functions → `ctx.uuid()`: **unsafe**. `ctx.uuid()` is a random version-4 UUID: it loses the
      embedded timestamp and the time ordering that database indexes or sorting may rely on, and
      `uuid_utils.UUID` and `uuid.UUID` are different types.
    - No fix for calls with arguments (`uuid.uuid1(node=...)`) or without a context in scope.

    ## Temporal
    In workflow code use `workflow.uuid4()` (a version-4 `uuid.UUID` from `workflow.random()`)
    or `workflow.uuid7()` (RFC 9562 version 7: the workflow time in milliseconds plus random
    bits), both replayed identically (temporalio 1.35, `workflow/_context.py`; `uuid7` is in the
    installed SDK). Neither is cryptographically safe. Activities may generate any UUID.
    Fixes (the `workflow` module as the file spells it; `from temporalio import workflow` added
    when missing), for calls without arguments:
    - `uuid.uuid4()` → `workflow.uuid4()`, `uuid.uuid7()` (3.14) → `workflow.uuid7()`: **safe**,
      same type and version;
    - `uuid.uuid1()`/`uuid6()` → `workflow.uuid7()` (time-ordered, but another version and no node
      id), `uuid8()` → `workflow.uuid4()`, the `uuid6` backport and `uuid_utils` (another UUID
      class) → `workflow.uuid4()`/`uuid7()`: **unsafe**;
    - no fix in queries and update validators: both draw from `workflow.random()`, which raises
      `ReadOnlyContextError` there.
    temporalint: TPL008 `nondeterministic-call` covers `uuid.uuid1` and `uuid.uuid4` (no fix);
    this rule adds uuid6/7/8, the `uuid6` and `uuid_utils` packages, helpers, and fixes.

    ## Options
    - `[tool.idemlint.nondeterministic]` adds your own generators: `"mycorp.ids.new_id" = "IDL103"`.
    - `deterministic = ["mycorp.ids.from_name"]` silences a name you know is deterministic.
    - `# noqa: IDL103` on a line where a new id per attempt is intended.
    """

    code = "IDL103"
    frameworks = ("restate", "temporal")
    name = "non-journaled-uuid"
    summary = "Random UUID generated in handler code"
    what = "generates a new UUID"
    consequence = "each replay generates a different UUID"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
            import uuid

            import restate

            svc = restate.Service("Orders")
            NAMESPACE = uuid.uuid4()  # module level: not handler code


            @svc.handler()
            async def create(ctx: restate.Context, sku: str) -> str:
                order_id = ctx.uuid()
                stable = uuid.uuid5(uuid.NAMESPACE_URL, sku)  # deterministic
                return f"{order_id}-{stable}"
        """),
        Valid("""
            import uuid

            from temporalio import activity, workflow
            from temporalio.workflow import uuid4


            @activity.defn
            async def external_id() -> str:
                return str(uuid.uuid4())  # activities run once per attempt


            @workflow.defn
            class Orders:
                @workflow.run
                async def run(self, order_id: str) -> str:
                    named = uuid.uuid5(uuid.NAMESPACE_URL, order_id)  # name-based
                    return f"{workflow.uuid4()} {workflow.uuid7()} {uuid4()} {named}"
        """, note="Temporal: workflow.uuid4/uuid7 (from-imported too), uuid5, uuid4 in an activity"),
    ]
    INVALID = [
        Invalid(
            """
                import uuid
                from uuid import uuid4 as new_id

                import restate

                svc = restate.Service("Orders")


                @svc.handler()
                async def create(ctx: restate.Context, sku: str) -> str:
                    try:
                        order_id = str(uuid.uuid4())
                    finally:
                        trace = new_id().hex
                    return order_id + trace
            """,
            ((12, 24), (14, 17)),
            fixed="""
                import uuid
                from uuid import uuid4 as new_id

                import restate

                svc = restate.Service("Orders")


                @svc.handler()
                async def create(ctx: restate.Context, sku: str) -> str:
                    try:
                        order_id = str(ctx.uuid())
                    finally:
                        trace = ctx.uuid().hex
                    return order_id + trace
            """,
            doc=True,
        ),
        Invalid(
            """
                import uuid

                import restate

                svc = restate.Service("Orders")


                @svc.handler()
                async def create(ctx: restate.Context) -> str:
                    return str(await ctx.run_typed("create", make_order, restate.RunOptions(), uuid.uuid1()))


                async def make_order(order_id: uuid.UUID) -> str:
                    return str(order_id)
            """,
            ((10, 80),),
            message="`uuid.uuid1()`",
            note="arguments forwarded to the action are evaluated in the handler",
        ),
        Invalid(
            """
                import uuid

                from temporalio import workflow


                @workflow.defn
                class Orders:
                    @workflow.run
                    async def run(self, items: list[str]) -> list[str]:
                        ids = []
                        for item in items:
                            if item:
                                ids.append(f"{item}-{uuid.uuid4()}")
                        return ids + [self._trace()]

                    def _trace(self) -> str:
                        return str(uuid.uuid4())
            """,
            ((13, 38), (17, 20)),
            message="use `workflow.uuid4()`",
            fixed="""
                import uuid

                from temporalio import workflow


                @workflow.defn
                class Orders:
                    @workflow.run
                    async def run(self, items: list[str]) -> list[str]:
                        ids = []
                        for item in items:
                            if item:
                                ids.append(f"{item}-{workflow.uuid4()}")
                        return ids + [self._trace()]

                    def _trace(self) -> str:
                        return str(workflow.uuid4())
            """,
            note="Temporal: nested in for/if, in a helper method",
        ),
        Invalid(
            """
                import contextlib
                from uuid import uuid1

                import temporalio.workflow as wf


                @wf.defn
                class Orders:
                    @wf.run
                    async def run(self) -> str:
                        with contextlib.suppress(KeyError):
                            return str(uuid1())
                        return ""

            """,
            ((12, 24),),
            fixed="""
                import contextlib
                from uuid import uuid1

                import temporalio.workflow as wf


                @wf.defn
                class Orders:
                    @wf.run
                    async def run(self) -> str:
                        with contextlib.suppress(KeyError):
                            return str(wf.uuid7())
                        return ""

            """,
            unsafe=True,
            note="Temporal: aliased module; uuid1 (time-based v1) -> uuid7: unsafe",
        ),
    ]


@fix_strategy("ctx-uuid")
def ctx_uuid(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    """`uuid.uuid4()` -> `ctx.uuid()`."""
    call = kc.node
    ctx = context_name(module, call)
    method = tables(module, kc).uuid_method
    if not isinstance(call, ast.Call) or ctx is None or not method or call.args or call.keywords:
        return None
    text = f"{ctx}.{method}()"
    return make_fix(kc, f"Use `{text}`", lambda fx: [fx.replace(call, text)])
