"""Activities and the workflow the Temporal cases share (outside the linted case files)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from replay_harness import record
from temporalio import activity, workflow


@activity.defn
async def record_value(tag: str, value: Any) -> None:
    record(tag, value)


@workflow.defn(sandboxed=False)
class Order:
    @workflow.run
    async def run(self, order_id: str) -> str:
        await workflow.execute_activity(record_value, args=[order_id, "placed"],
                                        start_to_close_timeout=timedelta(seconds=10))
        return order_id
