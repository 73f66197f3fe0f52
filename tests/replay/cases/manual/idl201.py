import restate
from replay_harness import fail_once, record

svc = restate.Service("IDL201")


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> str:
    reservation = str(ctx.uuid())

    async def reserve() -> str:
        return reservation

    await ctx.run_typed("reserve", reserve)
    order_id = str(ctx.uuid())
    await ctx.run_typed("send it", record, restate.RunOptions(), tag, order_id)
    fail_once(ctx)
    return order_id
