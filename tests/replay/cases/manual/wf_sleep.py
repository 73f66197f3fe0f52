import asyncio

from temporalio import workflow


@workflow.defn(sandboxed=False)
class Case:
    @workflow.run
    async def run(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "woke"
