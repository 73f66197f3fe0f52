"""Activities: the side effects of an order (stock, payment, shipping, mail). They run once
per attempt on a worker, are retried until they succeed, and are never replayed: I/O, clocks
and random values belong here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from temporalio import activity

from . import TASK_QUEUE

PAYMENTS_URL = "https://payments.example.com/charges"


@dataclass
class Order:
    order_id: str
    customer: str
    amount_cents: int


@activity.defn
async def reserve_stock(order: Order) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            "https://stock.example.com/reserve", json={"order": order.order_id}
        )
        response.raise_for_status()


@activity.defn
async def charge_card(order: Order) -> str:
    # The payment provider deduplicates by key: a retried attempt sends the same one.
    async with httpx.AsyncClient() as http:
        response = await http.post(
            PAYMENTS_URL,
            json={"customer": order.customer, "amount": order.amount_cents},
            headers={"Idempotency-Key": f"charge-{order.order_id}"},
        )
        response.raise_for_status()
        return str(response.json()["payment_id"])


@activity.defn
async def ship_parcel(order_id: str) -> str:
    activity.heartbeat()
    return f"TRACK-{uuid.uuid4().hex[:10]}"  # an activity may draw random values


@activity.defn
async def send_receipt(order: Order) -> None:
    async with httpx.AsyncClient() as http:
        await http.post("https://mail.example.com/send", json={"to": order.customer})


@activity.defn
async def open_refund(order: Order) -> None:
    # Started from an activity: a retry of this activity starts a second refund workflow.
    client = activity.client()
    await client.start_workflow(
        "RefundWorkflow", order, id=f"refund-{uuid.uuid4()}", task_queue=TASK_QUEUE
    )
