"""Signup: a workflow that sends a verification email and waits for the click."""

import secrets
from datetime import timedelta

import restate
from restate import WorkflowContext, WorkflowSharedContext

signup = restate.Workflow("Signup")


def send_email(address: str, token: str) -> None:
    print(f"verify {address}: https://shop.example.com/verify?token={token}")


@signup.main()
async def run(ctx: WorkflowContext, email: str) -> bool:
    token = secrets.token_urlsafe(16)
    await ctx.run("send verification", lambda: send_email(email, token))
    clicked = ctx.promise("email.clicked")
    match await restate.select(clicked=clicked.value(), timeout=ctx.sleep(timedelta(days=1))):
        case ["clicked", value]:
            return value == token
        case _:
            return False


@signup.handler()
async def click(ctx: WorkflowSharedContext, token: str) -> None:
    await ctx.promise("email.clicked").resolve(token)
