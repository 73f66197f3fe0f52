from datetime import timedelta

import restate
from replay_harness import record

svc = restate.Service("IDL501")


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> str:
    try:
        await ctx.sleep(timedelta(milliseconds=300))
    except:
        record(tag, "compensated")
        raise restate.TerminalError("charge failed")
    return "charged"
