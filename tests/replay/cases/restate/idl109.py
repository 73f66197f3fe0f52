import asyncio

import restate
from replay_harness import record

svc = restate.Service("IDL109")


async def quote(tag: str, seconds: float) -> str:
    await asyncio.sleep(seconds)
    record(tag, f"quoted after {seconds}")
    return f"after {seconds}"


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> str:
    fast = ctx.run_typed("fast", quote, restate.RunOptions(), tag, 0.05)
    slow = ctx.run_typed("slow", quote, restate.RunOptions(), tag, 0.2)
    done, _ = await asyncio.wait([fast, slow], return_when=asyncio.FIRST_COMPLETED)
    return await done.pop()
