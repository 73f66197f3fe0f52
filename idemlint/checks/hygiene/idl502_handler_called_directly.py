"""IDL502 handler-called-directly."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping

from ...analysis import ModuleAnalysis
from ...dataflow import callee
from ...diagnostics import Finding
from ...model import Handler
from ...registry import Invalid, Rule, Valid
from ...syntax import one_line
from ._shared import hygiene_tables


class HandlerCalledDirectly(Rule):
    """
    ## What it does
    Reports handler code that calls another handler (or itself) as a plain Python function:
    `await other_handler(ctx, req)`, `await Handlers.verify(ctx, email)`, `await clients.work(ctx, 1)`
    — handlers defined in the same module or in another module of the linted tree, at module level
    or in classes (`@staticmethod` in either decorator order). The message names the context method
    to use, by the callee's service kind: `ctx.service_call(handler, arg=...)` for a service,
    `ctx.object_call(handler, key=..., arg=...)` for a virtual object,
    `ctx.workflow_call(handler, key=..., arg=...)` for a workflow.

    Passing a handler to `ctx.service_call(...)` etc. is not a call and is not reported.

    ## Why is this bad?
    `@svc.handler()` returns the function itself (wrapped): calling it runs the callee inside the
    *current* invocation — with this invocation's journal, key and state (a virtual object's state
    of another key is not reachable this way), without its own retries, idempotency, timeout or
    concurrency guarantees, and invisible to Restate's tooling. A later change to either handler
    can make replays diverge.

    ## Use instead
    Call the handler through the context, with the key of the object it should run for. To
    share code, move it into a plain helper both handlers call.

    ## Fix safety
    No fix: the key and the argument of the call cannot be derived mechanically.

    ## Options
    None.
    """

    code = "IDL502"
    name = "handler-called-directly"
    summary = "A handler is called as a plain Python function from handler code"
    severity = "error"
    VALID = [
        Valid("""
            import restate

            svc = restate.Service("Greeter")
            counter = restate.VirtualObject("Counter")


            @counter.handler()
            async def add(ctx: restate.ObjectContext, n: int) -> int:
                return n


            def shout(name: str) -> str:
                return name.upper()


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                total = await ctx.object_call(add, key=name, arg=1)
                ctx.object_send(add, key=name, arg=2)
                return shout(name) + str(total)
        """),
        Valid(
            """
            import restate

            greeter = restate.Service("Greeter")
            visits = restate.VirtualObject("Visits")


            @visits.handler()
            async def add(ctx: restate.ObjectContext, n: int) -> int:
                total = (await ctx.get("total", type_hint=int) or 0) + n
                ctx.set("total", total)
                return total


            @greeter.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                count = await ctx.object_call(add, key=name, arg=1)
                return f"Hello {name}, visit #{count}"
            """,
            doc=True,
        ),
    ]
    INVALID = [
        Invalid(
            """
            import restate

            greeter = restate.Service("Greeter")
            visits = restate.VirtualObject("Visits")


            @visits.handler()
            async def add(ctx: restate.ObjectContext, n: int) -> int:
                total = (await ctx.get("total", type_hint=int) or 0) + n
                ctx.set("total", total)
                return total


            @greeter.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                count = await add(ctx, 1)
                return f"Hello {name}, visit #{count}"
            """,
            ((16, 19),),
            message="`Visits/add` is called directly; use `await ctx.object_call(add, key=..., arg=...)`",
            doc=True,
        ),
        Invalid(
            """
            import restate

            svc = restate.Service("Greeter")
            counter = restate.VirtualObject("Counter")


            @counter.handler()
            async def add(ctx: restate.ObjectContext, n: int) -> int:
                return n


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                return str(await add(ctx, 1)) + await welcome(ctx, name)


            @svc.handler(name="welcome")
            async def welcome(ctx: restate.Context, name: str) -> str:
                return f"hi {name}"
            """,
            ((14, 22), (14, 43)),
            message="directly",
        ),
        Invalid(
            """
            import restate

            wf = restate.Workflow("Signup")


            class Signup:
                @wf.main()
                @staticmethod
                async def run(ctx: restate.WorkflowContext, email: str) -> str:
                    return await Signup.verify(ctx, email)

                @staticmethod
                @wf.handler()
                async def verify(ctx: restate.WorkflowSharedContext, email: str) -> str:
                    return email
            """,
            ((10, 22),),
            message="workflow_call",
            note="handlers in a class, both decorator orders",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        model = module.model
        call_methods = hygiene_tables(module).call_methods
        for _, node in model.handler_calls():
            found = callee(module, node.func)
            if found is None or isinstance(found.func, (ast.ClassDef, ast.Lambda)):
                continue
            handler = found.module.model.handler_of(found.func)
            if handler is None:
                continue
            ctx = model.context_name_at(node) or "ctx"
            use = _replacement(handler, call_methods, ctx, one_line(module.text(node.func)))
            service = handler.service.name if handler.service and handler.service.name else None
            named = f"`{service}/{handler.name}`" if service else f"`{handler.name}`"
            yield module.finding(
                self,
                node,
                f"handler {named} is called directly; use {use}",
                detail=(
                    "A handler called as a Python function runs inside this invocation (this "
                    "journal, this key, no retries or idempotency of its own) instead of "
                    "through Restate, as its own invocation."
                ),
            )


def _replacement(handler: Handler, call_methods: Mapping[str, str], ctx: str, target: str) -> str:
    """The context call to use instead, by the callee's service kind."""
    kind = handler.service.kind if handler.service is not None else None
    method = call_methods.get(kind or "")
    if method is None:
        return f"`{ctx}.{'/'.join(call_methods.values())}`"
    if kind == "service":
        return f"`await {ctx}.{method}({target}, arg=...)`"
    return f"`await {ctx}.{method}({target}, key=..., arg=...)`"
