"""Cart: a virtual object keyed by customer id."""

import time

import restate
from restate import ObjectContext, ObjectSharedContext

cart = restate.VirtualObject("Cart")


@cart.handler()
async def add_item(ctx: ObjectContext, item: dict) -> int:
    try:
        items = await ctx.get("items", type_hint=list) or []
    except:  # "the state may be missing": also swallows Restate's suspension
        items = []
    items.append({**item, "added_at": time.time()})
    ctx.set("items", items)
    return len(items)


@cart.handler(kind="shared")
async def view(ctx: ObjectSharedContext) -> list:
    return await ctx.get("items", type_hint=list) or []


@cart.handler()
async def clear_cart(ctx: ObjectContext) -> None:
    ctx.clear("items")
