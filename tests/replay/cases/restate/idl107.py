import asyncio

import restate
from replay_harness import fail_once

svc = restate.Service("IDL107")


@svc.handler()
async def run(ctx: restate.Context, seconds: float) -> None:
    await ctx.run_typed("first step", lambda: None)
    await asyncio.sleep(seconds)
    fail_once(ctx)
