import restate
from replay_harness import record

svc = restate.Service("IDL204")


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> str:
    ctx.run_typed("email", lambda: record(tag, "email"))
    return tag
