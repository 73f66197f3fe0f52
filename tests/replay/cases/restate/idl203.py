import restate
from replay_harness import record

svc = restate.Service("IDL203")


async def fetch(tag: str) -> str:
    record(tag, "fetch")
    return tag


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> str:
    return await ctx.run_typed("fetch", lambda: fetch(tag))
