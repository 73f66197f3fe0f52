from replay_temporal import Order
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError


async def place(client: Client, order_id: str, task_queue: str) -> str:
    workflow_id = f"order-{order_id}"
    try:
        handle = await client.start_workflow(
            Order.run, order_id, id=workflow_id, task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:  # the first attempt's workflow already closed
        handle = client.get_workflow_handle(workflow_id)
    return await handle.result()
