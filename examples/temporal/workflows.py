"""Workflows: replayed from their history after a crash or an eviction, so they must make the
same decisions every time. Side effects go through the activities in activities.py."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from .activities import (
        Order,
        charge_card,
        open_refund,
        reserve_stock,
        send_receipt,
        ship_parcel,
    )

FAST = timedelta(seconds=30)


@workflow.defn
class ShipmentWorkflow:
    @workflow.run
    async def run(self, order_id: str) -> str:
        return await workflow.execute_activity(
            ship_parcel, order_id, start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=1),
        )


@workflow.defn
class RefundWorkflow:
    @workflow.run
    async def run(self, order: Order) -> None:
        await workflow.execute_activity(open_refund, order, start_to_close_timeout=FAST)


@workflow.defn
class OrderWorkflow:
    def __init__(self) -> None:
        self._approved = False
        self._status = "new"

    @workflow.signal
    def approve(self) -> None:
        self._approved = True

    @workflow.query
    def status(self) -> str:
        return self._status

    @workflow.update
    async def expedite(self) -> str:
        self._approved = True
        return self._status

    @workflow.run
    async def run(self, order: Order) -> str:
        await workflow.execute_activity(reserve_stock, order, start_to_close_timeout=FAST)
        await workflow.execute_activity(
            charge_card, order, start_to_close_timeout=FAST,
            retry_policy=RetryPolicy(maximum_attempts=5),
        )
        self._status = "paid"
        if order.amount_cents > 100_000:
            await workflow.wait_condition(lambda: self._approved, timeout=timedelta(days=1))
        tracking = await self._ship(order)
        await workflow.execute_activity(
            send_receipt, order, start_to_close_timeout=FAST,
            activity_id=f"receipt-{order.order_id}",  # an id from the input: stable on replay
        )
        self._status = "shipped"
        return tracking

    async def _ship(self, order: Order) -> str:
        # A fresh uuid on every replay: the child's id no longer matches the history.
        return await workflow.execute_child_workflow(
            ShipmentWorkflow.run, order.order_id, id=f"shipment-{uuid.uuid4()}"
        )


@workflow.defn
class ReportWorkflow:
    @workflow.run
    async def run(self) -> str:
        return str(workflow.uuid4())  # deterministic: drawn from the workflow's seed


@workflow.defn
class ReminderWorkflow:
    """Each line of `run` breaks on replay; `idemlint check` says how."""

    @workflow.run
    async def run(self, order: Order) -> str:
        sent_at = datetime.now()  # a different time on every replay
        time.sleep(5)  # blocks the workflow thread instead of starting a durable timer
        await open_refund(order)  # runs inline: unjournaled, again on every replay
        await workflow.execute_activity(send_receipt, order)  # no timeout: rejected at run time
        return sent_at.isoformat()
