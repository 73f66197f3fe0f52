import requests

import restate
from replay_harness import SINK, fail_once

svc = restate.Service("IDL104")


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> int:
    status = requests.post(f"{SINK}/event/{tag}", json="charge", timeout=10).status_code
    await ctx.run_typed("next step", lambda: None)
    fail_once(ctx)
    return status
