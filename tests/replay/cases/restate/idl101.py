import time

import restate
from replay_harness import fail_once, record

svc = restate.Service("IDL101")


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> float:
    started = time.time()
    await ctx.run_typed("send it", record, restate.RunOptions(), tag, started)
    fail_once(ctx)
    return started
