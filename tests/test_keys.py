"""IDL301-IDL302 beyond the rule examples: the policy in its three modes, every attach
reason, fix details, and correct handler code that must stay quiet."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from idemlint.diagnostics import Finding
from idemlint.testing import fix_code, lint_code, settings_for

from .sdk_build import build_app


def lint(code: str, *codes: str, **config: Any) -> list[Finding]:
    selected = list(codes) or ["IDL301", "IDL302"]
    settings = settings_for({"select": selected, **config})
    return [f for f in lint_code(textwrap.dedent(code), settings) if f.code in selected]


def spots(code: str, *codes: str, **config: Any) -> list[tuple[str, int]]:
    return [(f.code, f.line) for f in lint(code, *codes, **config)]


PRELUDE = """\
import uuid

import restate
from restate._preview import explicit_recovery

worker = restate.Service("Worker")
jobs = restate.VirtualObject("Jobs")


@worker.handler()
async def process(ctx: restate.Context, job: dict) -> dict:
    return job

"""


def handler(body: str, service: str = "jobs", extra: str = "") -> str:
    """A handler of ``service`` whose body is ``body`` (line 17 on, without ``extra``)."""
    return PRELUDE + extra + (
        f"\n@{service}.handler()\nasync def submit(ctx: restate.ObjectContext, job: dict) -> object:\n"
        + textwrap.indent(textwrap.dedent(body), "    ")
    )


REDUNDANT = 'ctx.service_send(process, job, idempotency_key=f"job-{ctx.key()}")\n'


# -- policy --------------------------------------------------------------------------------------
def test_policy_warn_is_the_default() -> None:
    (finding,) = lint(handler(REDUNDANT), "IDL301")
    assert finding.severity == "warning"
    (finding,) = lint(handler(REDUNDANT), "IDL301", **{"redundant-key-policy": "warn"})
    assert finding.severity == "warning"


def test_policy_strict_is_an_error() -> None:
    (finding,) = lint(handler(REDUNDANT), "IDL301", **{"redundant-key-policy": "strict"})
    assert finding.severity == "error"


def test_policy_off_reports_nothing_and_fixes_nothing() -> None:
    config = {"select": ["IDL301"], "redundant-key-policy": "off"}
    assert lint(handler(REDUNDANT), "IDL301", **{"redundant-key-policy": "off"}) == []
    code = handler(REDUNDANT)
    assert fix_code(code, settings_for(config), codes={"IDL301"}) == code


def test_policy_rejects_unknown_values() -> None:
    from idemlint.config import ConfigError

    with pytest.raises(ConfigError, match="redundant-key-policy"):
        settings_for({"redundant-key-policy": "sometimes"})


def test_noqa_keeps_one_key_deliberately() -> None:
    code = handler(
        'ctx.service_send(process, job, idempotency_key=f"evt-{job[\'id\']}")  # noqa: IDL301\n'
        + REDUNDANT
    )
    assert spots(code, "IDL301") == [("IDL301", 18)]


# -- attach semantics ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        # the invocation id of the handle, inline or later, returned or stored
        'return await ctx.service_send(process, job, idempotency_key="k-" + ctx.key()).invocation_id()\n',
        'h = ctx.service_send(process, job, idempotency_key=ctx.key())\n'
        'ctx.set("id", await h.invocation_id())\n',
        'f = ctx.service_call(process, job, idempotency_key=ctx.key())\n'
        'ctx.set("id", await f.invocation_id())\nreturn await f\n',
        # handles collected and asked for their ids
        'hs = [ctx.service_send(process, j, idempotency_key=j["id"] + "x") for j in job["all"]]\n'
        'return [await h.invocation_id() for h in hs]\n',
        # the handle passed to a helper
        'h = ctx.service_send(process, job, idempotency_key=ctx.key() + "x")\nawait remember(ctx, h)\n',
        # the key kept: stored, returned, attached to
        'key = f"job-{ctx.key()}"\nctx.service_send(process, job, idempotency_key=key)\n'
        'ctx.set("key", key)\n',
        'key = f"job-{ctx.key()}"\nctx.service_send(process, job, idempotency_key=key)\n'
        'return {"key": key}\n',
        'ctx.service_send(process, job, idempotency_key=f"job-{ctx.key()}")\n'
        'return f"job-{ctx.key()}"\n',
        # a proxy: the handler's own input, or the key this invocation came with
        'ctx.service_send(process, job, idempotency_key=job["idempotency_key"])\n',
        'ctx.service_send(process, job, idempotency_key=job.get("key"))\n',
        'ctx.service_send(process, job, idempotency_key=ctx.request().idempotency_key)\n',
        'ctx.service_send(process, job, idempotency_key=ctx.request().headers["idempotency-key"])\n',
        'k = job["key"]\nctx.service_send(process, job, idempotency_key=str(k))\n',
    ],
)
def test_attach_semantics_keep_the_key(body: str) -> None:
    extra = "\nasync def remember(ctx: restate.ObjectContext, handle) -> None:\n" \
            "    ctx.set('id', await handle.invocation_id())\n\n"
    assert spots(handler(body, extra=extra), "IDL301") == []


@pytest.mark.parametrize(
    ("service_line", "decorators"),
    [
        ('jobs = explicit_recovery(restate.VirtualObject("Jobs"))', ""),
        ('jobs = restate.VirtualObject("Jobs")\nexplicit_recovery(jobs)', ""),
        ('jobs = restate.VirtualObject("Jobs")', "@explicit_recovery\n"),
    ],
    ids=["wrapped", "called-on-the-object", "decorated-handler"],
)
def test_explicit_recovery_keeps_the_key(service_line: str, decorators: str) -> None:
    code = handler('ctx.service_send(process, job, idempotency_key=f"{ctx.request().id}-p")\n')
    code = code.replace('jobs = restate.VirtualObject("Jobs")', service_line)
    code = code.replace("\n@jobs.handler()", f"\n{decorators}@jobs.handler()")
    assert spots(code, "IDL301") == []
    assert spots(code.replace("ctx.request().id", "ctx.uuid()"), "IDL302") != []


def test_attach_by_key_through_the_ingress_elsewhere_in_the_module() -> None:
    extra = textwrap.dedent("""\
        import httpx


        def result(key: str) -> dict:
            return httpx.get(f"http://localhost:8080/restate/invocation/Worker/process/{key}/attach").json()

        """)
    code = handler('ctx.service_send(process, job, idempotency_key=f"job-{ctx.key()}")\n', extra=extra)
    assert spots(code, "IDL301") == []
    other = code.replace("/restate/invocation/Worker/", "/restate/invocation/Billing/")
    assert [c for c, _ in spots(other, "IDL301")] == ["IDL301"]
    # a random key nobody can know, attached to by key: IDL302
    random_key = code.replace('f"job-{ctx.key()}"', "str(ctx.uuid())")
    assert [c for c, _ in spots(random_key, "IDL302")] == ["IDL302"]


@pytest.mark.parametrize(
    "body",
    [
        # the id asked of another call's handle
        'h = ctx.service_send(process, job)\nctx.service_send(process, job, idempotency_key=ctx.key())\n'
        'return await h.invocation_id()\n',
        # the current invocation's id is not a reason without explicit recovery
        'ctx.service_send(process, job, idempotency_key=ctx.request().id)\n',
        # derived from the input: deliberate deduplication needs a noqa comment
        'ctx.service_send(process, job, idempotency_key=f"job-{job[\'id\']}")\n',
        # handles given to restate combinators only
        'h = ctx.service_call(process, job, idempotency_key=ctx.key())\nawait restate.gather(h)\n',
        # through ctx.scope
        'ctx.scope("tenant").service_send(process, job, idempotency_key=ctx.key())\n',
    ],
)
def test_no_attach_reason(body: str) -> None:
    assert [c for c, _ in spots(handler(body), "IDL301")] == ["IDL301"]


def test_helpers_receiving_the_context_are_checked_and_their_parameters_are_not_guessed() -> None:
    code = handler(
        "await helper(ctx, job, 'k')\n",
        extra=textwrap.dedent("""\
            async def helper(ctx: restate.Context, job: dict, key: str) -> None:
                ctx.service_send(process, job, idempotency_key=key)
                ctx.service_send(process, job, idempotency_key="fixed-" + key)

            """),
    )
    assert spots(code, "IDL301") == [("IDL301", 16)]  # the derived key, not the parameter


def test_ingress_code_is_not_idl301() -> None:
    code = PRELUDE + textwrap.dedent("""\
        async def main(order_id: str) -> None:
            async with restate.create_client("http://localhost:8080") as client:
                await client.service_send(process, {}, idempotency_key=order_id)
        """)
    assert spots(code, "IDL301") == []


# -- fixes ---------------------------------------------------------------------------------------
def fixed(code: str, unsafe: bool = False) -> str:
    return fix_code(code, settings_for({"select": ["IDL301"]}), unsafe=unsafe, codes={"IDL301"})


def test_fix_removes_the_keyword_wherever_it_is() -> None:
    code = handler(
        'ctx.service_send(process, job, idempotency_key=ctx.key(), send_delay=None)\n'
        'ctx.service_send(tpe=process, arg=job, idempotency_key=ctx.key())\n'
        'ctx.service_send(idempotency_key=ctx.key(), tpe=process, arg=job)\n'
        'ctx.service_send(\n    process,\n    job,\n    idempotency_key=ctx.key()\n)\n'
    )
    out = fixed(code)
    assert "ctx.service_send(process, job, send_delay=None)\n" in out
    assert "ctx.service_send(tpe=process, arg=job)\n" in out
    assert "ctx.service_send(tpe=process, arg=job)\n" in out
    assert "ctx.service_send(\n        process,\n        job\n    )\n" in out
    assert spots(out, "IDL301") == []


def test_fix_refuses_to_delete_comments() -> None:
    code = handler(
        "ctx.service_send(process, job,  # the job\n    idempotency_key=ctx.key())\n"
    )
    (finding,) = lint(code, "IDL301")
    assert finding.fix is None  # not offered, rather than offered and then refused
    assert fixed(code) == code


@pytest.mark.parametrize(
    ("key", "safe"),
    [
        ('f"job-{job[\'id\']}"', True),
        ('str(uuid.uuid4())', True),
        ('"job-{}".format(ctx.key()).lower()', True),
        ('str(ctx.uuid())', False),  # later ctx.uuid()/ctx.random() values would shift
        ('make_key(job)', False),
        ('await make_key_async(job)', False),
    ],
)
def test_fix_safety_follows_the_key_expression(key: str, safe: bool) -> None:
    code = handler(f"ctx.service_send(process, job, idempotency_key={key})\n")
    (finding,) = lint(code, "IDL301")
    assert finding.fix is not None
    assert (finding.fix.applicability == "safe") is safe


# -- IDL302 --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "reported"),
    [
        ('ctx.service_send(process, job, idempotency_key=str(uuid.uuid4()))\n', True),
        ('k = uuid.uuid4().hex\nctx.service_send(process, job, idempotency_key=k)\n', True),
        ('import secrets\nctx.service_send(process, job, idempotency_key=secrets.token_hex(8))\n', True),
        ('k = await ctx.run_typed("k", lambda: str(uuid.uuid4()))\n'
         'ctx.service_send(process, job, idempotency_key=k)\n', False),
        ('ctx.service_send(process, job, idempotency_key=str(ctx.uuid()))\n', False),
        ('ctx.service_send(process, job, idempotency_key=str(ctx.random().random()))\n', False),
        ('ctx.service_send(process, job, idempotency_key=str(uuid.uuid5(uuid.NAMESPACE_DNS, "x")))\n',
         False),
    ],
)
def test_nondeterministic_keys(body: str, reported: bool) -> None:
    assert bool(spots(handler(body), "IDL302")) is reported


def test_idl302_is_independent_of_the_policy() -> None:
    code = handler('ctx.service_send(process, job, idempotency_key=str(uuid.uuid4()))\n')
    assert spots(code, "IDL302", **{"redundant-key-policy": "off"}) == [("IDL302", 17)]


# -- correct handlers stay quiet -----------------------------------------------------------------
CORRECT = """\
from datetime import timedelta

import restate
from restate._preview import explicit_recovery

payments = explicit_recovery(restate.Service("Payments"))
orders = restate.VirtualObject("Orders")
psp = restate.Service("Psp")


@psp.handler()
async def capture(ctx: restate.Context, amount: int) -> str:
    return "ok"


@payments.handler()
async def pay(ctx: restate.Context, amount: int) -> str:
    return await ctx.service_call(capture, amount, idempotency_key=f"{ctx.request().id}-capture")


@orders.handler()
async def place(ctx: restate.ObjectContext, order: dict) -> str:
    receipt = await ctx.service_call(pay, order["amount"])
    ctx.object_send(expire, ctx.key(), None, send_delay=timedelta(hours=1))
    job = ctx.service_send(capture, 1, idempotency_key=f"audit-{ctx.key()}")
    ctx.set("audit", await job.invocation_id())
    return receipt


@orders.handler()
async def expire(ctx: restate.ObjectContext, reason: None) -> None:
    ctx.clear_all()


@orders.handler()
async def audit_result(ctx: restate.ObjectContext) -> str:
    return await ctx.attach_invocation(await ctx.get("audit", type_hint=str), type_hint=str)
"""


def test_correct_handlers_have_no_findings(tmp_path: Path) -> None:
    settings = settings_for({"select": ["IDL3", "IDL4"]})
    assert [(f.code, f.line, f.message) for f in lint_code(CORRECT, settings)] == []
    build_app(CORRECT, tmp_path)


def test_forwarded_key_attributes_come_from_the_profile_table() -> None:
    """`ctx.request().idempotency_key` is a forwarded key because `[tables.keys]` says so."""
    from .test_hygiene import with_tables

    code = handler('ctx.service_send(process, job, idempotency_key=ctx.request().idempotency_key)\n')
    settings = settings_for({"select": ["IDL301"]})
    assert [f for f in lint_code(code, settings) if f.code == "IDL301"] == []
    table = {**settings.kb.framework.table("keys"), "request_key_attributes": []}
    other = with_tables(settings, keys=table)
    assert [(f.code, f.line, f.column) for f in lint_code(code, other)] == [("IDL301", 17, 36)]
