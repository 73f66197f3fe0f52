"""The target of the ingress cases: counts its runs per order at the sink."""

import restate
from replay_harness import record

payments = restate.Service("Payments")


@payments.handler()
async def pay(ctx: restate.Context, order: dict) -> str:
    await ctx.run_typed("charge", record, restate.RunOptions(), order["id"], order["amount"])
    return f"paid {order['id']}"
