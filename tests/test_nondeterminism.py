"""IDL1xx: one-line messages with the why in ``detail``, and SDK names read from the
framework profile's ``[tables.nondeterminism]``."""

from __future__ import annotations

import textwrap
from dataclasses import replace

from idemlint.config import Settings
from idemlint.testing import fix_code, lint_code, settings_for

HEADER = """\
import datetime as dt
import os
import time
from time import time as now

import restate

svc = restate.Service("Clock")
"""


def findings(body: str, settings: Settings | None = None) -> list[tuple[int, str, str]]:
    code = HEADER + textwrap.dedent(body)
    settings = settings or settings_for({"select": ["IDL1"]})
    return [(f.line, f.message, f.detail) for f in lint_code(code, settings)]


def test_message_names_call_and_replacement_detail_says_why() -> None:
    assert findings("""
        @svc.handler()
        async def h(context: restate.Context) -> float:
            return now() + dt.datetime.now().timestamp()
    """) == [
        (12, "`now()` (`time.time`) reads the wall clock; use `await context.time()`",
         "In handler code, each replay sees a different time."),
        # the entry's replacement is too long for the message: the rule's, and the exact one
        # in the detail
        (12, "`dt.datetime.now()` reads the wall clock; use `await context.time()`",
         "`dt.datetime.now()` is `datetime.datetime.now()`. In handler code, each replay sees a "
         "different time. Replace it with "
         "`datetime.datetime.fromtimestamp(await context.time())`."),
    ]


def test_note_and_call_chain_go_to_the_detail() -> None:
    assert findings("""
        def salt() -> bytes:
            return os.urandom(16)

        @svc.handler()
        async def h(ctx: restate.Context) -> str:
            return salt().hex()
    """) == [
        (11, "`os.urandom()` draws unseeded random values; use `ctx.random().randbytes(n)`",
         "In handler code, each replay draws different values. Note: ctx.random() is "
         "deterministic and not cryptographically secure. This code is reached from handler "
         "`h` via `salt()` (line 15)."),
    ]


def _with_tables(**changes: object) -> Settings:
    settings = settings_for({"select": ["IDL1"]})
    kb = settings.kb
    table = {**kb.framework.table("nondeterminism"), **changes}
    framework = replace(kb.framework, tables={**kb.framework.tables, "nondeterminism": table})
    frameworks = {**kb.frameworks, kb.default_framework: framework}
    object.__setattr__(settings, "_kb", replace(kb, frameworks=frameworks))
    return settings


def test_fixes_and_messages_spell_the_context_methods_of_the_profile() -> None:
    settings = _with_tables(clock_method="now", use={"IDL101": "await {ctx}.now()"})
    body = """
        @svc.handler()
        async def h(ctx: restate.Context) -> float:
            return time.time()
    """
    assert [m for _, m, _ in findings(body, settings)] == [
        "`time.time()` reads the wall clock; use `await ctx.time()`"]  # the entry's own `use`
    fixed = fix_code(HEADER + textwrap.dedent(body), settings)
    assert fixed.splitlines()[-1] == "    return await ctx.now()"


def test_no_fix_when_the_profile_names_no_context_method() -> None:
    settings = _with_tables(clock_method="")
    code = HEADER + textwrap.dedent("""
        @svc.handler()
        async def h(ctx: restate.Context) -> float:
            return time.time()
    """)
    assert [(f.line, f.fix) for f in lint_code(code, settings)] == [(12, None)]
