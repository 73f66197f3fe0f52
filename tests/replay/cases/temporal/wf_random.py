import random
from datetime import timedelta

from replay_temporal import record_value
from temporalio import workflow


@workflow.defn(sandboxed=False)
class Case:
    @workflow.run
    async def run(self, tag: str) -> int:
        value = random.randint(1, 10**9)
        await workflow.execute_activity(record_value, args=[tag, value],
                                        start_to_close_timeout=timedelta(seconds=10))
        return value
