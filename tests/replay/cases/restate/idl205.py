import restate
from replay_harness import fail_once

svc = restate.Service("IDL205")


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> list:
    results = []
    await ctx.run_typed("collect", lambda: results.append(tag))
    fail_once(ctx)
    return results
