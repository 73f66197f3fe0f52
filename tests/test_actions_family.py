"""IDL201–IDL207 as a family: the SDK tables they read (``[tables.actions]``, through a typed
view), and their findings' one-line messages with the explanation in ``detail``."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import replace

import pytest

from idemlint.analysis import ModuleAnalysis
from idemlint.checks.actions._shared import ActionTables, DeprecatedAction, tables
from idemlint.config import Settings
from idemlint.knowledge import KnowledgeError
from idemlint.source import SourceFile
from idemlint.testing import lint_code, settings_for

CODES = ["IDL201", "IDL202", "IDL203", "IDL204", "IDL205", "IDL206", "IDL207"]


def _lint(code: str, settings: Settings | None = None) -> list[tuple[str, int, int, str, str]]:
    found = lint_code(textwrap.dedent(code).lstrip("\n"), settings or settings_for({"select": CODES}))
    return [(f.code, f.line, f.column, f.message, f.detail) for f in found if f.code in CODES]


def test_restate_profile_tables() -> None:
    view = ActionTables.load(settings_for().kb.framework.table("actions"))
    assert view.options_type == "restate.RunOptions"
    assert view.options_import == ("restate", "RunOptions")
    assert view.options_keyword == "options"
    assert view.draws == {"random", "uuid"}
    assert view.scoping == {"scope"}
    assert view.timers == {"sleep"}
    assert (view.promise, view.promise_value) == ("promise", "value")
    assert view.renamed_options == {"max_retry_duration": "max_duration"}
    assert view.sends["object_call"] == "object_send"
    assert view.deprecated == {
        "run": DeprecatedAction(
            replacement="run_typed",
            params=("name", "action", "serde", "max_attempts", "max_retry_duration", "type_hint",
                    "args"),
            options={"serde": "serde", "max_attempts": "max_attempts",
                     "max_retry_duration": "max_duration", "type_hint": "type_hint"},
            type_hint="type_hint",
        )
    }


def test_absent_tables_give_an_empty_view() -> None:
    view = ActionTables.load({})
    assert view == ActionTables()
    assert view.options_import is None


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"draws": "random"}, "`draws` must be a list of strings"),
        ({"options_type": 1}, "`options_type` must be a string"),
        ({"sends": {"service_call": 1}}, "`sends` must be a table of strings"),
        ({"deprecated": {"run": "run_typed"}}, "`deprecated` must be a table of tables"),
    ],
)
def test_malformed_tables_name_the_key(raw: dict[str, object], error: str) -> None:
    with pytest.raises(KnowledgeError) as info:
        ActionTables.load(raw, "restate: tables.actions")
    assert str(info.value) == f"restate: tables.actions: {error}"


DEPRECATED_AND_KEYWORD_OPTIONS = """
    from datetime import timedelta

    import restate

    svc = restate.Service("Jobs")


    def double(n: int) -> int:
        return n * 2


    @svc.handler()
    async def job(ctx: restate.Context, n: int) -> int:
        a = await ctx.run("double", double, args=(n,))
        return a + await ctx.run_typed("again", double, options=restate.RunOptions(max_retry_duration=timedelta(seconds=1)))
"""


def test_the_rules_read_their_sdk_names_from_the_profile() -> None:
    """Without `[tables.actions]` the deprecated method and the options object are unknown."""
    settings = settings_for({"select": CODES})
    assert [f[:3] for f in _lint(DEPRECATED_AND_KEYWORD_OPTIONS, settings)] == [
        ("IDL207", 14, 15), ("IDL206", 15, 53), ("IDL206", 15, 80),
    ]
    kb = settings.kb
    bare = replace(kb, frameworks={**kb.frameworks, kb.default_framework: replace(kb.framework, tables={})})
    object.__setattr__(settings, "_kb", bare)
    assert _lint(DEPRECATED_AND_KEYWORD_OPTIONS, settings) == []


def test_messages_are_one_line_and_details_explain() -> None:
    found = _lint("""
        from datetime import timedelta

        import restate

        svc = restate.VirtualObject("Cart")


        async def fetch(url: str) -> int:
            return len(url)


        def total(n: int) -> int:
            return n


        @svc.handler()
        async def add(ctx: restate.ObjectContext, item: str) -> int:
            seen = []
            await ctx.run_typed("token", lambda: ctx.uuid())
            await ctx.run_typed("store", lambda: ctx.set("item", item))
            await ctx.run_typed("total", total(1))
            await ctx.run_typed("fetch", lambda: fetch(item))
            await ctx.run_typed("seen", lambda: seen.append(item))
            ctx.sleep(timedelta(seconds=1))
            return await ctx.run_typed("n", total, options=restate.RunOptions(max_attempts=1))
    """)
    assert [f[:4] for f in found] == [
        ("IDL201", 19, 42, "`ctx.uuid()` inside a journaled action; draw it in the handler"),
        ("IDL201", 20, 42, "`ctx.set()` inside a journaled action; call it in the handler"),
        ("IDL202", 21, 34, "the result of `total(...)` is the journaled action; pass a callable"),
        ("IDL203", 22, 42,
         'sync action `"fetch"` returns un-awaited `fetch()`; pass `fetch` itself'),
        ("IDL205", 23, 41, "journaled action mutates outer `seen`; return the value instead"),
        ("IDL204", 24, 5, "`ctx.sleep(...)` is never awaited; await it"),
        ("IDL206", 25, 44, "`options=` is forwarded to the action; pass the options positionally"),
    ]
    details = [f[4] for f in found]
    assert details[0].startswith('Inside the journaled action `"token"`, `ctx.uuid()` draws from')
    assert details[1].startswith('`ctx.set()` uses the outer Restate context inside the journaled '
                                 'action `"store"`')
    assert details[2].startswith('`total(...)` is called in the handler and its result is passed '
                                 'as the journaled action `"total"`')
    assert "worker thread" in details[3]
    assert details[5] == ("`ctx.sleep(...)` creates a durable future that is never awaited. "
                          "Nothing waits for the timer, so the handler does not pause.")
    assert details[4].startswith('The journaled action `"seen"` mutates `seen`, which lives outside')
    assert "positional-only" in details[6]
    assert all(len(f[3]) <= 80 for f in found)


def test_unneeded_call_points_to_its_send() -> None:
    found = _lint("""
        import restate

        svc = restate.Service("Calls")


        @svc.handler()
        async def work(ctx: restate.Context, n: int) -> int:
            return n


        @svc.handler()
        async def call(ctx: restate.Context) -> None:
            ctx.object_call(work, "key", 1)
    """)
    assert [f[:4] for f in found] == [
        ("IDL204", 13, 5, "`ctx.object_call(...)` is never awaited; await it or use `object_send`"),
    ]
    assert found[0][4] == ("`ctx.object_call(...)` creates a durable future that is never "
                           "awaited. The call is made but its result and errors are never seen.")


def test_the_view_is_read_once_per_knowledge_base() -> None:
    settings = settings_for()

    def analysis(s: Settings) -> ModuleAnalysis:
        return ModuleAnalysis(SourceFile.from_text("m.py", "x = 1\n"), ast.parse("x = 1\n"), s)

    first = tables(analysis(settings))
    assert tables(analysis(settings)) is first
    other = settings_for()
    kb = other.kb
    object.__setattr__(other, "_kb", replace(kb, frameworks={**kb.frameworks, kb.default_framework: replace(kb.framework, tables={})}))
    assert tables(analysis(other)) == ActionTables()
    assert tables(analysis(settings)) is first
