import restate
from replay_harness import record

svc = restate.Service("IDL206")


def charge(tag: str) -> str:
    record(tag, "charge")
    return tag


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> str:
    return await ctx.run_typed("charge", charge, options=restate.RunOptions(max_attempts=3), tag=tag)
