import restate
from replay_harness import fail_once, record

svc = restate.Service("IDL202")


def charge(tag: str) -> dict:
    record(tag, "charge")
    return {"charged": tag}


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> dict:
    receipt = await ctx.run_typed("charge", charge(tag))
    fail_once(ctx)
    return receipt
