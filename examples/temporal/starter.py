"""Starts workflows from a web backend or a script: a retry after a timeout or a lost
response starts the same workflow again, so its id must be the same on every retry."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from . import TASK_QUEUE
from .activities import Order
from .workflows import OrderWorkflow, ReportWorkflow


async def place_order(client: Client, order: Order) -> str:
    # A new id per call: a retried request starts a second order workflow (and charges twice).
    handle = await client.start_workflow(
        OrderWorkflow.run, order, id=f"order-{uuid.uuid4()}", task_queue=TASK_QUEUE
    )
    return handle.id


async def place_order_once(client: Client, order: Order) -> str:
    # The order id is the workflow id: a retry reaches the first run (update-with-start).
    start = WithStartWorkflowOperation(
        OrderWorkflow.run, order, id=f"order-{order.order_id}", task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return await client.execute_update_with_start_workflow(
        OrderWorkflow.expedite, start_workflow_operation=start
    )


async def nightly_report(client: Client) -> str:
    # One id for every night: while last night's run is open this start fails, once it has
    # closed a new run starts (default reuse policy). Reported with --select IDL403.
    return await client.execute_workflow(ReportWorkflow.run, id="nightly-report", task_queue=TASK_QUEUE)


async def main() -> None:
    client = await Client.connect(os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"))
    order = Order(order_id=sys.argv[1], customer="ada@example.com", amount_cents=4200)
    print(await place_order(client, order))


if __name__ == "__main__":
    asyncio.run(main())
