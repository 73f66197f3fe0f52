import asyncio

from replay_temporal import record_value
from temporalio import workflow


@workflow.defn(sandboxed=False)
class Case:
    @workflow.run
    async def run(self, tag: str) -> str:
        await record_value(tag, "charge")
        await asyncio.sleep(0.5)
        return tag
