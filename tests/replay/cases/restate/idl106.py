import subprocess

import restate
from replay_harness import STATE, fail_once

svc = restate.Service("IDL106")


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> None:
    subprocess.run(["sh", "-c", f"echo {tag} >> {STATE}/lines-{tag}.txt"], check=True)
    await ctx.run_typed("next step", lambda: None)
    fail_once(ctx)
