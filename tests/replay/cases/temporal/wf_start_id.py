import uuid

from replay_temporal import Order
from temporalio.client import Client


async def place(client: Client, order_id: str, task_queue: str) -> str:
    handle = await client.start_workflow(Order.run, order_id, id=f"order-{uuid.uuid4()}",
                                         task_queue=task_queue)
    return await handle.result()
