import restate
from replay_harness import fail_once

from replay_targets import pay

svc = restate.Service("IDL301")


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> str:
    receipt = await ctx.service_call(pay, {"id": tag, "amount": 1}, idempotency_key=f"pay-{tag}")
    fail_once(ctx)
    return receipt
