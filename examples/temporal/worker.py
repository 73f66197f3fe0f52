"""The worker: polls the task queue and runs the workflows and activities."""

from __future__ import annotations

import asyncio
import os

from temporalio.client import Client
from temporalio.worker import Worker

from . import TASK_QUEUE
from .activities import charge_card, open_refund, reserve_stock, send_receipt, ship_parcel
from .workflows import (
    OrderWorkflow,
    RefundWorkflow,
    ReminderWorkflow,
    ReportWorkflow,
    ShipmentWorkflow,
)

WORKFLOWS = [OrderWorkflow, ShipmentWorkflow, RefundWorkflow, ReportWorkflow, ReminderWorkflow]
ACTIVITIES = [reserve_stock, charge_card, ship_parcel, send_receipt, open_refund]


async def main() -> None:
    client = await Client.connect(os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"))
    worker = Worker(client, task_queue=TASK_QUEUE, workflows=WORKFLOWS, activities=ACTIVITIES)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
