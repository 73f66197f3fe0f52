"""Places orders from a web backend: calls into Restate through its ingress."""

import os

import httpx
import restate

INGRESS = os.environ.get("RESTATE_INGRESS_URL", "http://localhost:8080")


async def place(order: dict) -> dict:
    # A retry after a timeout places the order twice: no idempotency key.
    async with restate.create_client(INGRESS) as client:
        from .checkout import place_order

        return await client.service_call(place_order, arg=order)


def add_to_cart(customer_id: str, item: dict, request_id: str) -> int:
    response = httpx.post(f"{INGRESS}/Cart/{customer_id}/add_item", json=item)
    response.raise_for_status()
    return response.json()
