import time

from temporalio import workflow


@workflow.defn(sandboxed=False)
class Case:
    @workflow.run
    async def run(self, seconds: float) -> str:
        time.sleep(seconds)
        return "woke"
