import sqlite3

import restate
from replay_harness import STATE, fail_once

svc = restate.Service("IDL105")


@svc.handler()
async def run(ctx: restate.Context, tag: str) -> int:
    db = sqlite3.connect(STATE / "orders.db", isolation_level=None, check_same_thread=False)
    inserted = db.execute("INSERT INTO orders VALUES (?)", (tag,)).rowcount
    await ctx.run_typed("next step", lambda: None)
    fail_once(ctx)
    return inserted
