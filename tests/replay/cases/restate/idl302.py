import uuid

import restate
from replay_harness import fail_once

from replay_targets import pay

svc = restate.Service("IDL302")


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> str:
    receipt = await ctx.service_call(pay, {"id": tag, "amount": 1}, idempotency_key=str(uuid.uuid4()))
    fail_once(ctx)
    return receipt
