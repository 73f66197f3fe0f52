"""IDL105 non-journaled-database-io."""

from __future__ import annotations

from ...registry import Invalid, Valid
from ._shared import KnownCallRule


class NonJournaledDatabaseIo(KnownCallRule):
    """
    ## What it does
    Reports database and cache operations in handler code outside a journaled action:
    - SQL: `sqlite3` (`execute`, `executemany`, `commit`, `fetch*`, ... on connections and
      cursors), `psycopg2` (cursor `execute`/`fetch*`/`copy_*`, connection `commit`/`rollback`,
      `extras.execute_batch`/`execute_values`), `psycopg` 3 (sync and async connections and
      cursors), `asyncpg` (`execute`, `fetch`, `fetchrow`, `fetchval`, `copy_*` on connections,
      pools and prepared statements);
    - SQLAlchemy Core (`Connection.execute`/`scalar(s)`/`commit`/..., `AsyncConnection`) and ORM
      (`Session`/`scoped_session` `execute`, `get`, `merge`, `refresh`, `flush`, `commit`,
      `rollback`, `bulk_*`; `Query.all`/`first`/`one`/`count`/...; `AsyncSession`);
    - Redis (`redis` and `redis.asyncio`: commands such as `get`, `set`, `incr`, `hset`, `lpush`,
      `zadd`, `xadd`, `publish`, `eval`; `Pipeline.execute`, `PubSub`, `Lock`), also through
      cluster and sentinel clients;
    - MongoDB (`pymongo` collections, databases and clients, sync and `AsyncMongoClient`; `motor`)
      and Elasticsearch (sync and async clients, `indices`, `helpers.bulk`/`scan`/...).

    Opening connections, pools, engines and sessions (`asyncpg.connect`, `create_engine`,
    `sqlite3.connect`) is not reported, nor are calls that only stage work (`Session.add`,
    `add_all`, commands queued on a pipeline before `execute`, `cursor()`).

    Instances are followed through bindings and factories: `conn = await asyncpg.connect(...)`,
    `async with pool.acquire() as conn`, `self.db = redis.Redis()`, parameters annotated
    `session: AsyncSession`, `engine.connect()`, `Session().query(...)`, `client.get_database(...)`.
    A pymongo subscript (`client["shop"]["orders"]`) cannot be followed: annotate the variable as
    `pymongo.collection.Collection` or use `get_database`/`get_collection`. Handler code includes
    helpers called from a handler (the finding's detail shows the call chain); the body of a
    journaled action is exempt, the arguments forwarded to it are not.

    ## Why is this bad?
    Restate replays a handler from its journal after a crash, a retry or a suspension, and code
    outside `ctx.run_typed(...)` runs again on every attempt. A write there is applied once per
    attempt (stock decremented twice, a duplicate row), and a read can return other rows on the
    replay than on the first run, so the handler takes another branch than the one the journal
    recorded and the invocation fails with a journal mismatch.

    Inside `ctx.run_typed(name, action)` the operation runs until it succeeds once and its result is
    stored in the journal; replays return the stored result without touching the database. A crash
    after the commit but before the result is journaled runs the action again, so make writes
    idempotent (an upsert keyed by an id from `ctx.uuid()`, a conditional update).

    ## Use instead
    The fix leaves `conn.fetchval(...)` alone (its result is kept, and the connection is opened
    outside any action). Open the connection and read inside one action:

    ```python
    async def read_stock() -> int:
        conn = await asyncpg.connect("postgresql://db/shop")
        try:
            return await conn.fetchval("SELECT n FROM stock WHERE sku = $1", sku)
        finally:
            await conn.close()

    left = await ctx.run_typed("read stock", read_stock)
    ```

    ## Fix safety
    The fix moves the call into a journaled action, exactly as for IDL104. It needs the context in
    scope and a place where `await` is allowed:
    - a call whose result is discarded, `await cache.set(sku, left)` as a statement → a nested
      `async def _cache_set() -> None:` holding it, then `await ctx.run_typed("cache.set", _cache_set)`;
    - a call used through a serializable accessor, `cur.execute(query).rowcount` →
      `await ctx.run_typed("cur.execute", lambda: cur.execute(query).rowcount)` (an awaited call gets
      a nested `async def` returning the expression instead of the lambda).

    No fix when the result itself is kept (rows, cursors, `left = await conn.fetchval(...)`),
    for un-awaited async calls, `with`/`async with` items, a comprehension's iterable
    (`for row in cur.fetchall()`), calls with `*args`/`**kwargs`, sync `def` handlers, and
    helpers without a context parameter.

    The fix is always **unsafe**; review each rewrite:
    - The result is serialized into the journal (JSON by default; Pydantic, msgspec and dataclasses
      through the action's return annotation). Return plain values from the action.
    - Journaling the statements of one transaction one by one breaks it: after a crash, the replay
      skips the statements already journaled, so the new connection never runs them again. Put the
      whole transaction into one action.
    - A connection opened outside the action is still opened on every replay, although the
      journaled statements no longer use it; open it inside the action.
    - Exceptions from the action are retried by Restate instead of reaching the handler's `except`
      (only a `TerminalError` comes back), and a sync action runs in a worker thread.
    - The handler's journal changes shape: deploy the change as a new deployment, so that
      invocations already in flight finish on the code they started with.

    ## Temporal
    Workflow code (a `@workflow.defn` class's methods and what they call) is replayed from the
    workflow's history after a worker restart or a cache eviction, and records nothing of its
    own: only commands (activities, timers, children, ...) and their results are in the history.
    A database or cache query there runs again on every replay, and a result that differs makes the replay take
    another path than the history (a nondeterminism error). Move it into an activity
    (`@activity.defn`, run once per attempt, its result recorded) and call it with
    `workflow.execute_activity(...)`; code in activities is not reported. The workflow sandbox
    (temporalio 1.35, `worker/workflow_sandbox/_restrictions.py`) rejects some of these calls at
    run time, not all, and not with `sandboxed=False`. No fix: moving code into an activity
    needs a new function, its registration on the worker and timeouts.
    temporalint: no rule for I/O in workflow code.

    ## Options
    - `[tool.idemlint.nondeterministic]` adds your own data access layer:
      `"mycorp.db.Repository().{save,load}" = { code = "IDL105", async = true }`.
    - `deterministic = ["mycorp.db.Repository().query_builder"]` silences a method that does no I/O.
    - `# noqa: IDL105` for a read whose result decides nothing and may safely repeat.
    """

    code = "IDL105"
    frameworks = ("restate", "temporal")
    name = "non-journaled-database-io"
    summary = "Database or cache I/O in handler code outside a journaled action"
    what = "performs database / cache I/O"
    consequence = "it runs again on every replay and may read different data"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
            import sqlite3

            import restate

            svc = restate.Service("Inventory")


            @svc.handler()
            async def reserve(ctx: restate.Context, sku: str) -> int:
                def update() -> int:
                    with sqlite3.connect("stock.db") as conn:
                        return conn.execute("UPDATE stock SET n = n - 1 WHERE sku = ?", (sku,)).rowcount

                return await ctx.run_typed("reserve", update)
        """),
        Valid("""
            import sqlite3
            from datetime import timedelta

            from temporalio import activity, workflow


            @activity.defn
            def count_orders(path: str) -> int:
                with sqlite3.connect(path) as db:  # activities may query
                    return db.execute("select count(*) from orders").fetchone()[0]


            @workflow.defn
            class Report:
                @workflow.run
                async def run(self, path: str) -> int:
                    return await workflow.execute_activity(
                        count_orders, path, start_to_close_timeout=timedelta(seconds=30)
                    )
        """, note="Temporal: the query inside an activity"),
    ]
    INVALID = [
        Invalid(
            """
                import asyncpg
                import redis.asyncio as aioredis

                import restate

                svc = restate.Service("Inventory")
                cache = aioredis.Redis()


                @svc.handler()
                async def reserve(ctx: restate.Context, sku: str) -> int:
                    conn = await asyncpg.connect("postgresql://db/shop")
                    left = await conn.fetchval("SELECT n FROM stock WHERE sku = $1", sku)
                    await cache.set(sku, left)
                    return left
            """,
            ((13, 18), (14, 11)),
            unsafe=True,
            fixed="""
                import asyncpg
                import redis.asyncio as aioredis

                import restate

                svc = restate.Service("Inventory")
                cache = aioredis.Redis()


                @svc.handler()
                async def reserve(ctx: restate.Context, sku: str) -> int:
                    conn = await asyncpg.connect("postgresql://db/shop")
                    left = await conn.fetchval("SELECT n FROM stock WHERE sku = $1", sku)
                    async def _cache_set() -> None:
                        await cache.set(sku, left)
                    await ctx.run_typed("cache.set", _cache_set)
                    return left
            """,
            doc=True,
        ),
        Invalid(
            """
                import sqlite3

                from temporalio import workflow


                @workflow.defn
                class Report:
                    @workflow.run
                    async def run(self, path: str) -> int:
                        db = sqlite3.connect(path)
                        try:
                            return db.execute("select count(*) from orders").fetchone()[0]
                        finally:
                            db.close()
            """,
            ((12, 20), (12, 20)),
            message="performs database / cache I/O in workflow code; move it into an activity",
            note="Temporal: no fix; in try (the query and the fetch of its cursor)",
        ),
    ]

