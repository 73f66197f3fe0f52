"""IDL302 nondeterministic-idempotency-key."""

from __future__ import annotations

from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...diagnostics import Finding
from ...regenerated import Fresh, fresh_values
from ...registry import Invalid, Rule, Valid
from ._shared import (
    attached_by_key,
    command_ids,
    explicit_recovery,
    handle_used,
    key_kept,
    keyed_calls,
)


class NondeterministicIdempotencyKey(Rule):
    """
    ## What it does
    Reports an idempotency key given to a context call or send (`ctx.service_call(...,
    idempotency_key=...)` and the other `ctx.*_call`/`ctx.*_send`/`ctx.generic_*`) inside handler
    code when it is built from values that change on every evaluation: `uuid.uuid4()`/`uuid1()`, a
    wall clock (`time.time()`, `datetime.now()`), `random.*`, `secrets.*`, `os.urandom` — inline or
    through a variable assigned in the same function. Keys from a journaled action
    (`await ctx.run_typed(...)`) are recorded and are not reported; day-granular clock reads
    (`date.today()`, `now().date()`, `strftime("%Y-%m-%d")`) are taken as deliberate.

    Keys from `ctx.uuid()`/`ctx.random()` are reported only where they are not good enough:
    - the handler runs with **explicit recovery** (`restate._preview.explicit_recovery`): each
      attempt runs the handler again from the start, so `ctx.uuid()` only gives the same key if each
      attempt draws random values in the same order; the SDK asks for a key made from
      `ctx.request().id`;
    - the module attaches to the called service **by key** (`/restate/invocation/{Service}/...`) but
      the random key is neither stored nor returned: nobody can know it.

    Elsewhere `ctx.uuid()` is stable (seeded per invocation, `restate/server_context.py`) and the
    key is at most redundant (IDL301).

    ## Why is this bad?
    The key is part of the journaled call: the Restate shared core compares the `idempotency_key` of
    a recorded call with the one the replay produces (`sdk-shared-core`,
    `src/service_protocol/messages.rs`, `CallCommandMessage::header_eq` and
    `OneWayCallCommandMessage::header_eq`). A key that changes on replay makes the replay diverge
    from the journal, and since no two evaluations produce the same key, it can never deduplicate
    anything either. See IDL301 for when a key inside a handler is useful at all.

    ## Use instead
    A key derived from the input (above), or, under explicit recovery, from the invocation id:
    `idempotency_key=f"{ctx.request().id}-ship"`.

    ## Fix safety
    No fix: which stable value identifies the call is a design decision. IDL103/IDL101/IDL102 also
    report the `uuid4()`/clock/random call itself, with their own fixes (`ctx.uuid()`...).

    ## Options
    None. Your own non-deterministic helpers are added through
    `[tool.idemlint.nondeterministic]` with codes IDL101–IDL103.

    ## Temporal
    Reports the id of a command scheduled from workflow code — a child workflow's `id=`
    (`workflow.start_child_workflow` / `execute_child_workflow`) or an activity's `activity_id=`
    (`workflow.start_activity` / `execute_activity`, local activities, and their `_class` /
    `_method` forms) — built from the stdlib's `uuid`, a clock or `random` (inline or through a
    variable), in the run, signal and update methods of a `@workflow.defn` class and the helpers
    they call. `workflow.uuid4()`, `workflow.random()` and an id from the workflow's input are
    stable on replay and are not reported; nor is anything inside an activity.

    The id is part of the command recorded in the history, and the replay compares it: the core
    fails a replay whose child workflow id differs from the recorded one ("Child workflow id of
    scheduled event ... does not match", sdk-core `child_workflow_state_machine.rs`, and the same
    check for activity ids in `activity_state_machine.rs`, under `IdAndTypeDeterminismChecks`).
    That is the TMPRL1100 nondeterminism error of sdk-python #1109, where a `uuid.uuid4()` child
    id broke every replay. Left unset, the SDK draws the child id from `workflow.uuid4()`
    (`temporalio/workflow/_workflow_ops.py`: `id=id or str(uuid4())`) and the activity id from
    the command's sequence number — both deterministic.

    Use `workflow.uuid4()` (or leave the id unset), or build it from the input
    (`id=f"shipment-{order_id}"`). No fix: IDL103 and the other IDL1xx codes report the call and
    fix it.
    """

    code = "IDL302"
    frameworks = ("restate", "temporal")
    name = "nondeterministic-idempotency-key"
    summary = "Idempotency key built inside a handler from values that change on replay"
    severity = "error"
    requires = "handlers"
    VALID = [
        Valid("""
            import uuid

            import restate

            svc = restate.Service("Orders")


            @svc.handler()
            async def ship(ctx: restate.Context, order_id: str) -> str:
                return order_id


            @svc.handler()
            async def place(ctx: restate.Context, order_id: str) -> str:
                key = await ctx.run_typed("key", lambda: str(uuid.uuid4()))
                handle = ctx.service_send(ship, order_id, idempotency_key=key)
                ctx.service_send(ship, order_id, idempotency_key=f"ship-{order_id}")
                ctx.service_send(ship, order_id, idempotency_key=str(ctx.uuid()))
                return await handle.invocation_id()
        """, note="journaled, input-derived, and ctx.uuid() keys are stable on replay"),
        Valid("""
            from datetime import date

            import restate

            svc = restate.Service("Reports")


            @svc.handler()
            async def build(ctx: restate.Context, day: str) -> str:
                return day


            @svc.handler()
            async def daily(ctx: restate.Context) -> str:
                return await ctx.service_call(build, "today", idempotency_key=f"report-{date.today()}")
        """, note="a day-granular key is deliberate (IDL101 still reports the clock read)"),
        Valid("""
            import restate
            from restate._preview import explicit_recovery

            svc = explicit_recovery(restate.Service("Payments"))


            @svc.handler()
            async def capture(ctx: restate.Context, amount: int) -> str:
                return "ok"


            @svc.handler()
            async def pay(ctx: restate.Context, amount: int) -> str:
                return await ctx.service_call(capture, amount, idempotency_key=f"{ctx.request().id}-capture")
        """, note="explicit recovery with a key from the request id (as the SDK documents)"),
        Valid(
            """
            import restate

            svc = restate.Service("Orders")


            @svc.handler()
            async def ship(ctx: restate.Context, order_id: str) -> str:
                return order_id


            @svc.handler()
            async def place(ctx: restate.Context, order_id: str) -> str:
                handle = ctx.service_send(ship, order_id, idempotency_key=f"ship-{order_id}")
                return await handle.invocation_id()
            """,
            doc=True,
        ),
    ]
    VALID += [
        Valid("""
            import uuid
            from datetime import timedelta

            from temporalio import activity, workflow


            @activity.defn
            async def ship(order_id: str) -> str:
                return f"{order_id}-{uuid.uuid4()}"


            @workflow.defn
            class Shipment:
                @workflow.run
                async def run(self, order_id: str) -> str:
                    return order_id


            @workflow.defn
            class Order:
                @workflow.run
                async def run(self, order_id: str) -> str:
                    await workflow.execute_child_workflow(Shipment.run, order_id, id=f"shipment-{order_id}")
                    await workflow.execute_child_workflow(Shipment.run, order_id, id=str(workflow.uuid4()))
                    await workflow.execute_child_workflow(Shipment.run, order_id)
                    token = workflow.random().randint(0, 9)
                    return await workflow.execute_activity(
                        ship, order_id, activity_id=f"ship-{order_id}-{token}",
                        start_to_close_timeout=timedelta(seconds=30),
                    )
        """, note="Temporal: ids from the input, workflow.uuid4(), workflow.random(), the SDK's "
             "default; uuid4() inside an activity"),
    ]
    INVALID = [
        Invalid(
            """
                import random
                import time
                import uuid
                from datetime import datetime, timedelta

                import temporalio.workflow as wf
                from temporalio import activity
                from temporalio.workflow import start_child_workflow


                @activity.defn
                async def ship(order_id: str) -> str:
                    return order_id


                @wf.defn
                class Shipment:
                    @wf.run
                    async def run(self, order_id: str) -> str:
                        return order_id


                @wf.defn
                class Order:
                    @wf.run
                    async def run(self, order_id: str) -> str:
                        child = await start_child_workflow(Shipment.run, order_id, id=f"shipment-{uuid.uuid4()}")
                        for attempt in range(2):
                            try:
                                await self._ship(order_id)
                            except Exception:
                                continue
                        await child
                        return order_id

                    @wf.signal
                    async def resend(self, order_id: str) -> None:
                        if order_id:
                            await wf.execute_child_workflow(Shipment.run, order_id, id=f"resend-{random.randint(0, 999)}")

                    async def _ship(self, order_id: str) -> str:
                        activity_id = f"ship-{datetime.now():%H%M%S}"
                        await wf.execute_local_activity(ship, order_id, activity_id=str(time.time()), start_to_close_timeout=timedelta(seconds=5))
                        return await wf.execute_activity(ship, order_id, activity_id=activity_id, start_to_close_timeout=timedelta(seconds=30))
            """,
            ((27, 71), (39, 72), (43, 69), (44, 70)),
            message="changes on replay",
            note="Temporal: from-imported, aliased, in a signal handler, in a helper method "
                 "called from a retry loop, through a variable",
        ),
        Invalid(
            """
                import uuid

                import restate

                svc = restate.Service("Orders")


                @svc.handler()
                async def ship(ctx: restate.Context, order_id: str) -> str:
                    return order_id


                @svc.handler()
                async def place(ctx: restate.Context, order_id: str) -> str:
                    handle = ctx.service_send(ship, order_id, idempotency_key=str(uuid.uuid4()))
                    return await handle.invocation_id()
            """,
            ((15, 63),),
            message="`uuid.uuid4()`",
            doc=True,
        ),
        Invalid(
            """
                import random
                import time

                from restate import ObjectContext, VirtualObject

                accounts = VirtualObject("Account")


                @accounts.handler()
                async def deposit(ctx: ObjectContext, amount: int) -> None:
                    ctx.set("balance", amount)


                @accounts.handler()
                async def transfer(ctx: ObjectContext, target: str, amount: int) -> str:
                    key = f"transfer-{time.time()}-{random.randint(0, 999)}"
                    await ctx.object_call(deposit, target, amount, idempotency_key=key)
                    ctx.set("last_transfer", key)
                    return key
            """,
            ((17, 68),),
            message="idempotency key from `time.time()` changes on replay; build it from the input",
        ),
        Invalid(
            """
                import restate
                from restate._preview import explicit_recovery

                svc = explicit_recovery(restate.Service("Payments"))


                @svc.handler()
                async def capture(ctx: restate.Context, amount: int) -> str:
                    return "ok"


                @svc.handler()
                async def pay(ctx: restate.Context, amount: int) -> str:
                    return await ctx.service_call(capture, amount, idempotency_key=str(ctx.uuid()))
            """,
            ((14, 68),),
            message="explicit recovery",
            note="ctx.uuid() under explicit recovery: the SDK asks for a key from ctx.request().id",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        yield from self._keys(module)
        yield from self._command_ids(module)

    def _command_ids(self, module: ModuleAnalysis) -> Iterable[Finding]:
        """Ids of commands scheduled from workflow code (a child workflow, an activity) built
        from values that change on replay."""
        for cid in command_ids(module):
            plain = [f for f in fresh_values(module, cid.value) if not f.context]
            if not plain:
                continue
            fresh = plain[0]
            where = f" (through `{fresh.via.name}`)" if fresh.via is not None else ""
            source = f"`{cid.id_source}` or " if cid.id_source else ""
            yield module.finding(
                self,
                cid.value,
                f"{cid.spec.what} from `{fresh.spelled}` changes on replay; use {source}an id "
                "from the input",
                detail=(
                    f"The {cid.spec.what} is built from `{fresh.spelled}`{where} in workflow "
                    "code. It is part of the command recorded in the history, and a replay "
                    "compares it with the record: a new value fails the replay with a "
                    "nondeterminism error (TMPRL1100). Build it from the workflow's input or "
                    f"draw it from {source.removesuffix(' or ') or 'a deterministic source'}."
                ),
            )

    def _keys(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for kc in keyed_calls(module):
            fresh = fresh_values(module, kc.value)
            plain = [f for f in fresh if not f.context]
            if plain:
                yield module.finding(
                    self,
                    kc.value,
                    f"idempotency key from `{plain[0].spelled}` changes on replay; build it "
                    "from the input",
                    detail=_fresh_detail(plain[0]),
                )
                continue
            drawn = [f for f in fresh if f.context]
            if not drawn:
                continue
            if explicit_recovery(module, kc.unit):
                yield module.finding(
                    self,
                    kc.value,
                    f"key from `{drawn[0].spelled}` under explicit recovery; derive it from "
                    "`ctx.request().id`",
                    detail=(
                        "Under explicit recovery every attempt runs the handler again from the "
                        "start, so the key is only the same if each attempt draws random values "
                        "in the same order. Derive it from `ctx.request().id` (the invocation "
                        "id), as `restate._preview.explicit_recovery` documents."
                    ),
                )
            elif (
                attached_by_key(module, kc)
                and not key_kept(module, kc)
                and not handle_used(module, kc)
            ):
                yield module.finding(
                    self,
                    kc.value,
                    f"random key from `{drawn[0].spelled}` is attached to by key; derive it "
                    "from the input",
                    detail=(
                        "The module attaches to the called service's invocations by "
                        "idempotency key, but this key is random per invocation and neither "
                        "stored nor returned: nobody else can know it."
                    ),
                )


def _fresh_detail(fresh: Fresh) -> str:
    where = f" (through `{fresh.via.name}`)" if fresh.via is not None else ""
    return (
        f"The key is built from `{fresh.spelled}`{where} inside a handler. It changes on every "
        "replay, but it is part of the journaled call, so a replay no longer matches the "
        "journal and no retry can ever send the same key again. Build it from the input or "
        "the invocation (or drop it, see IDL301)."
    )
