import os
import uuid

import httpx

RESTATE_INGRESS_URL = os.environ["RESTATE_INGRESS_URL"]


def pay(order_id: str, amount: int) -> str:
    order = {"id": order_id, "amount": amount}
    headers = {"idempotency-key": str(uuid.uuid4())}
    return httpx.post(f"{RESTATE_INGRESS_URL}/Payments/pay", json=order, headers=headers, timeout=30).json()
