import uuid

import restate
from replay_harness import fail_once, record

svc = restate.Service("IDL103")


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> str:
    started = str(uuid.uuid4())
    await ctx.run_typed("send it", record, restate.RunOptions(), tag, started)
    fail_once(ctx)
    return started
