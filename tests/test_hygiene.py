"""IDL501–IDL504 beyond the rule examples: spellings real code uses, handlers in other
modules of the tree, opt-in behaviour of IDL504."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from idemlint.config import Settings
from idemlint.testing import fix_code, lint_code, settings_for

from .test_actions import lint, lint_tree, src, where


def test_idl501_suspension_reached_in_several_ways() -> None:
    found = lint("""
        import asyncio
        from datetime import timedelta

        import restate
        from restate import Context, TerminalError

        svc = restate.Service("P")


        async def step(ctx: Context) -> None:
            await ctx.sleep(timedelta(seconds=1))


        async def no_journal() -> int:
            return 1


        @svc.handler()
        async def h(ctx: Context) -> str:
            try:
                await step(ctx)
            except BaseException:
                raise TerminalError("failed")
            try:
                await no_journal()
            except:
                pass
            try:
                await asyncio.gather(ctx.run_typed("a", lambda: 1))
            except:
                pass
            try:
                async for f in restate.as_completed(ctx.sleep(timedelta(seconds=1))):
                    await f
            except BaseException as e:
                raise e
            try:
                try:
                    await ctx.run_typed("x", lambda: 1)
                except TerminalError:
                    pass
            except BaseException:
                return "swallowed"
            return "ok"
    """, "IDL501")
    assert where(found) == [("IDL501", 22, 5), ("IDL501", 30, 5), ("IDL501", 42, 5)]
    assert "line 21" in found[0].detail


def test_idl501_bare_except_fix_keeps_the_rest_of_the_line() -> None:
    code = src("""
        import restate

        svc = restate.Service("P")


        @svc.handler()
        async def h(ctx: restate.Context) -> int:
            try:
                return await ctx.run_typed("x", lambda: 1)
            except :  # noqa: E722
                return 0
    """)
    fixed = fix_code(code, settings_for({"select": ["IDL501"]}), codes={"IDL501"})
    assert "    except Exception :  # noqa: E722\n" in fixed


def test_idl502_handler_in_another_module(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/other.py": """
            import restate

            other = restate.VirtualObject("Other")


            @other.handler()
            async def work(ctx: restate.ObjectContext, n: int) -> int:
                return n


            def helper(n: int) -> int:
                return n
        """,
        "app/main.py": """
            import restate
            from .other import helper, work
            from . import other

            svc = restate.Service("Main")


            @svc.handler()
            async def h(ctx: restate.Context) -> int:
                a = await work(ctx, 1)
                b = await other.work(ctx, 2)
                c = await ctx.object_call(work, key="k", arg=3)
                return a + b + c + helper(4)
        """,
    }
    found = lint_tree(tmp_path, files, "IDL502")["app/main.py"]
    assert where(found) == [("IDL502", 10, 15), ("IDL502", 11, 15)]
    assert "`Other/work`" in found[0].message
    assert "await ctx.object_call(work, key=..., arg=...)" in found[0].message


def test_idl503_caches_and_chains() -> None:
    found = lint("""
        import httpx
        import restate

        svc = restate.Service("P")
        _clients: dict = {}
        STATS = {"n": 0}


        def client_for(name: str) -> httpx.AsyncClient:
            if name not in _clients:
                _clients[name] = httpx.AsyncClient(base_url=name)
            return _clients[name]


        def count() -> None:
            STATS["n"] += 1


        class Tracker:
            seen: set = set()

            def __init__(self) -> None:
                self.mine = []

            def track(self, item: str) -> None:
                self.seen.add(item)
                self.mine.append(item)


        @svc.handler()
        async def h(ctx: restate.Context, item: str) -> None:
            client_for(item)
            count()
            Tracker().track(item)
    """, "IDL503")
    assert where(found) == [("IDL503", 16, 5), ("IDL503", 26, 9)]
    assert "reached from handler `h` via `count()`" in found[0].detail


def test_idl504_is_opt_in() -> None:
    code = src("""
        import restate

        svc = restate.Service("P")


        @svc.handler()
        async def h(ctx: restate.Context) -> None:
            print("hello")
    """)
    assert [f.code for f in lint_code(code, settings_for())] == []
    assert [f.code for f in lint_code(code, settings_for({"extend-select": ["IDL504"]}))] == [
        "IDL504"
    ]


def test_idl504_logger_spellings() -> None:
    found = lint("""
        import logging
        from logging import getLogger

        import restate

        svc = restate.Service("P")
        plain = getLogger("plain")


        class Handlers:
            def __init__(self) -> None:
                self.logger = logging.getLogger("svc")

            async def run(self, ctx: restate.Context) -> None:
                self.logger.info("x")


        @svc.handler()
        async def h(ctx: restate.Context) -> None:
            logging.getLogger(__name__).warning("y")
            plain.debug("z")
            await Handlers().run(ctx)
    """, "IDL504")
    assert where(found) == [("IDL504", 15, 9), ("IDL504", 20, 5), ("IDL504", 21, 5)]
    assert [f.fix is not None for f in found] == [False, False, True]


def test_idl504_module_installing_the_restate_filter() -> None:
    found = lint("""
        import logging

        import restate

        svc = restate.Service("P")
        logger = logging.getLogger(__name__)
        logger.addFilter(restate.RestateLoggingFilter())


        @svc.handler()
        async def h(ctx: restate.Context) -> None:
            logger.info("filtered on replay")
            print("not filtered")
    """, "IDL504")
    assert where(found) == [("IDL504", 13, 5)]


def with_tables(settings: Settings, **tables: Mapping[str, Any]) -> Settings:
    """``settings`` whose default framework profile has ``tables`` among its ``[tables.*]``."""
    kb = settings.kb
    framework = replace(kb.framework, tables={**kb.framework.tables, **tables})
    frameworks = {**kb.frameworks, kb.default_framework: framework}
    return replace(settings, _kb=replace(kb, frameworks=frameworks))


def test_idl504_fix_follows_the_profile_table() -> None:
    """The replay-aware logger factory comes from `[tables.hygiene]`, not from the code."""
    code = src("""
        import logging

        import restate

        svc = restate.Service("P")
        logger = logging.getLogger(__name__)


        @svc.handler()
        async def h(ctx: restate.Context) -> None:
            logger.info("x")
    """)
    settings = settings_for({"select": ["IDL504"]})
    table = dict(settings.kb.framework.table("hygiene"))
    other = with_tables(settings, hygiene={**table, "replay_logger": "mylogs.replay_logger"})
    fixed = fix_code(code, other, codes={"IDL504"})
    assert "from mylogs import replay_logger\n" in fixed
    assert "logger = replay_logger(__name__)\n" in fixed
    (finding,) = lint_code(code, with_tables(settings, hygiene={}))
    assert (finding.line, finding.column, finding.fix) == (11, 5, None)
