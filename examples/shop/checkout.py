"""Checkout: charges the customer, reserves stock, emails a receipt."""

import asyncio
import random
import time
import uuid
from datetime import datetime

import httpx
import restate
from restate import Context

from .cart import cart, clear_cart

checkout = restate.Service("Checkout")
PSP_URL = "https://psp.example.com/v1/charges"


async def charge_card(customer_id: str, amount_cents: int, reference: str) -> str:
    """Calls the payment provider; journaled by the handler through ctx.run_typed."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            PSP_URL, json={"customer": customer_id, "amount": amount_cents, "ref": reference}
        )
        response.raise_for_status()
        return response.json()["charge_id"]


def send_receipt(email: str, order_id: str) -> None:
    print(f"receipt for {order_id} sent to {email}")


async def notify_warehouse(order_id: str) -> None:
    async with httpx.AsyncClient() as client:
        await client.post("https://warehouse.example.com/orders", json={"order": order_id})


@checkout.handler()
async def place_order(ctx: Context, order: dict) -> dict:
    # A new id on every replay: the payment provider sees a different reference each time.
    order_id = str(uuid.uuid4())
    placed_at = datetime.now().isoformat()

    amount = sum(item["price"] * item["qty"] for item in order["items"])
    charge_id = await ctx.run_typed(
        "charge", charge_card, restate.RunOptions(max_attempts=5), order["customer"], amount, order_id
    )

    # Stock service call outside a journaled action: repeated on every retry.
    async with httpx.AsyncClient() as client:
        await client.post("https://stock.example.com/reserve", json={"order": order_id})

    # A random courier, re-drawn on replay.
    courier = random.choice(["dhl", "ups", "gls"])

    # Waiting for the warehouse with an in-memory sleep (lost on a crash).
    await asyncio.sleep(30)

    await ctx.run_typed("receipt", lambda: send_receipt(order["email"], order_id))
    # The call below runs *now*, outside the journal; run_typed receives its result.
    await ctx.run_typed("notify warehouse", notify_warehouse(order_id))
    # Calls from a handler are journaled: this key protects nothing.
    await ctx.object_call(clear_cart, key=order["customer"], arg=None, idempotency_key=order_id)
    return {
        "order_id": order_id,
        "charge_id": charge_id,
        "courier": courier,
        "placed_at": placed_at,
        "took": time.time() - order.get("started", 0),
    }
