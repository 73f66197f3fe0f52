import asyncio

import restate
from replay_harness import fail_once, record

svc = restate.Service("IDL109Gather")


async def quote(tag: str, seconds: float) -> str:
    await asyncio.sleep(seconds)
    record(tag, f"quoted after {seconds}")
    return f"after {seconds}"


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> list:
    fast = ctx.run_typed("fast", quote, restate.RunOptions(), tag, 0.05)
    slow = ctx.run_typed("slow", quote, restate.RunOptions(), tag, 0.2)
    quotes = await asyncio.gather(fast, slow)
    fail_once(ctx)
    return quotes
