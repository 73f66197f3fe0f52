import random

import restate
from replay_harness import fail_once, record

svc = restate.Service("IDL102")


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> int:
    started = random.randint(1, 10**9)
    await ctx.run_typed("send it", record, restate.RunOptions(), tag, started)
    fail_once(ctx)
    return started
