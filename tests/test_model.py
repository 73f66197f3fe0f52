"""The handler model on the spellings real code uses (see docs/architecture.md)."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from idemlint.analysis import ModuleAnalysis
from idemlint.project import Project
from idemlint.source import SourceFile
from idemlint.testing import lint_code, settings_for

from .conftest import Run


def analyse(code: str, path: Path | None = None, project: Project | None = None) -> ModuleAnalysis:
    code = textwrap.dedent(code)
    tree = ast.parse(code)
    return ModuleAnalysis(SourceFile.from_text("m.py", code), tree, settings_for(), project, path)


def handler_names(code: str) -> list[str]:
    return sorted(h.name for h in analyse(code).model.handlers)


def codes_at(code: str) -> list[tuple[str, int]]:
    """IDL1xx findings (the rules that depend on what is handler code and what is an action)."""
    settings = settings_for({"select": ["IDL1"]})
    return [(f.code, f.line) for f in lint_code(textwrap.dedent(code), settings)]


@pytest.mark.parametrize(
    "header",
    [
        "import restate\nsvc = restate.Service('S')",
        "import restate as r\nsvc = r.Service('S')",
        "from restate import Service as S\nsvc = S('S')",
        "from restate.service import Service\nsvc = Service('S')",
        "import restate\nfrom restate import _preview\nsvc = _preview.explicit_recovery(restate.Service('S'))",
        "import restate\nsvc = restate.VirtualObject(name='S')",
        "import restate\nsvc: restate.Service = restate.Service('S')",
    ],
)
def test_service_spellings(header: str) -> None:
    code = header + "\n\n@svc.handler()\nasync def h(ctx, req):\n    return req\n"
    assert handler_names(code) == ["h"]


def test_handler_names_kinds_and_roles() -> None:
    model = analyse("""
        import restate
        wf = restate.Workflow("Signup")

        @wf.main()
        async def run(ctx: restate.WorkflowContext) -> None: ...

        @wf.handler("getStatus")
        async def status(ctx: restate.WorkflowSharedContext) -> str: ...

        obj = restate.VirtualObject("Cart")

        @obj.handler(name="add", kind="shared")
        async def add_item(ctx: restate.ObjectSharedContext, item: str) -> None: ...
    """).model
    assert [(h.name, h.role, h.kind, h.service.kind) for h in model.handlers] == [
        ("run", "main", None, "workflow"),
        ("getStatus", "handler", None, "workflow"),
        ("add", "handler", "shared", "object"),
    ]


def test_handlers_in_factories_classes_and_self_attributes() -> None:
    code = """
        import restate

        def register_service(downloader, service: restate.Service | None = None):
            service = service or restate.Service("yt-dlp")

            @service.handler()
            async def download(ctx: restate.Context, url: str) -> str:
                return url

            return service

        class Runtime:
            def __init__(self):
                self.actions = restate.Service("CallActions")

                @self.actions.handler("act")
                async def act(ctx: restate.Context) -> None: ...

        def build():
            obj = restate.VirtualObject("Task")

            class Handlers:
                @staticmethod
                @obj.handler(kind="shared")
                async def first(ctx: restate.ObjectSharedContext) -> None: ...

                @obj.handler()
                @staticmethod
                async def second(ctx: restate.ObjectContext) -> None: ...

            return obj

        def annotated(service: restate.Service):
            @service.handler()
            async def from_param(ctx, req): ...

        if restate is not None:
            guarded = restate.Workflow("AgentTask")

            @guarded.main()
            async def guarded_run(ctx: restate.WorkflowContext) -> None: ...
    """
    assert handler_names(code) == [
        "act", "download", "first", "from_param", "guarded_run", "second"]


def test_not_handlers() -> None:
    code = """
        import restate
        from fastapi import FastAPI
        app = FastAPI()
        svc = restate.Service("S")

        @app.post("/x")
        async def route(request) -> None: ...

        class Bot:
            def handler(self):
                return lambda f: f

        bot = Bot()

        @bot.handler()
        async def on_message(event) -> None: ...

        async def plain(ctx: restate.Context) -> None: ...  # a helper, not a handler
    """
    assert handler_names(code) == []


def test_unresolved_service_with_annotated_context_is_a_handler() -> None:
    assert handler_names("""
        from myapp.services import greeter
        from restate import Context

        @greeter.handler()
        async def greet(ctx: Context, name: str) -> str:
            return name
    """) == ["greet"]


def test_service_imported_from_another_module(tmp_path: Path) -> None:
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "services.py").write_text("import restate\ngreeter = restate.Service('Greeter')\n")
    handlers = pkg / "handlers.py"
    handlers.write_text(textwrap.dedent("""
        import time
        from .services import greeter

        @greeter.handler()
        async def greet(ctx, name):
            return time.time()
    """))
    project = Project.for_paths([tmp_path], tmp_path)
    model = analyse(handlers.read_text(), handlers, project).model
    assert [(h.name, h.service.name) for h in model.handlers] == [("greet", "Greeter")]


def test_cross_module_handler_is_checked_by_the_cli(
    tmp_path: Path, write: Callable[..., Path], cli: Callable[..., Run]
) -> None:
    write("app/__init__.py", "")
    write("app/services.py", "import restate\ngreeter = restate.Service('Greeter')\n")
    write("app/handlers.py", """\
        import time
        from app.services import greeter

        @greeter.handler()
        async def greet(ctx, name):
            return time.time()
    """)
    findings = cli("check", "--output-format", "json", ".", cwd=tmp_path).json()
    assert [(f["path"], f["code"], f["line"]) for f in findings] == [
        ("app/handlers.py", "IDL101", 6)]


ACTIONS = """
    import functools
    import time
    import restate

    svc = restate.Service("S")

    def make_action(x):
        def inner():
            return time.time() + x
        return inner

    class Client:
        def prepare(self):
            return time.time()

    async def module_action() -> float:
        return time.time()

    @svc.handler()
    async def h(ctx: restate.Context) -> float:
        client = Client()
        a = await ctx.run_typed("lambda", lambda: time.time())
        b = await ctx.run_typed("after", defined_after)
        c = await ctx.run_typed("module", module_action)
        d = await ctx.run_typed("partial", functools.partial(make_action(1)))
        e = await ctx.run_typed("bound", client.prepare)
        f = await ctx.run_typed("factory", make_action(2))
        g = await ctx.run("legacy", action=lambda: time.time())

        async def defined_after() -> float:
            return time.time()

        return a + b + c + d + e + f + g
"""


def test_action_targets_are_exempt() -> None:
    module = analyse(ACTIONS)
    model = module.model
    assert len(model.actions) == 7
    assert all(action.targets for action in model.actions), [
        module.text(a.action) for a in model.actions if not a.targets]
    assert codes_at(ACTIONS) == []


def test_forwarded_arguments_and_defaults_are_handler_code() -> None:
    assert codes_at("""
        import time
        import restate
        svc = restate.Service("S")

        async def record(at: float, note: str) -> None: ...

        @svc.handler()
        async def h(ctx: restate.Context) -> None:
            await ctx.run_typed("record", record, restate.RunOptions(), time.time(), note=str(time.time()))
            await ctx.run("legacy", record, args=(time.time(), "x"))
            await ctx.run_typed("default", lambda at=time.time(): at)
    """) == [("IDL101", 10), ("IDL101", 10), ("IDL101", 11), ("IDL101", 12)]


def test_context_reaches_helpers_self_and_getters() -> None:
    module = analyse("""
        import restate
        from restate.extensions import current_context

        class Steps:
            def __init__(self, ctx):
                self.ctx = ctx

            async def step(self):
                return await self.ctx.run_typed("x", lambda: 1)

        async def helper(c, n):
            return await c.sleep(n)

        def from_var():
            ctx = current_context()
            return ctx.uuid()

        svc = restate.Service("S")

        @svc.handler()
        async def h(restate: restate.Context) -> None:
            alias = restate
            await helper(alias, 1)
            await Steps(restate).step()
    """)
    model = module.model
    receivers = {
        module.text(call.func.value)
        for call in module.indexer.calls
        if isinstance(call.func, ast.Attribute) and model.is_context(call.func.value)
    }
    # `c` is a context because `helper(alias, 1)` passes the aliased handler context.
    assert receivers == {"self.ctx", "c", "ctx"}
    assert len(model.actions) == 1


def test_not_a_context() -> None:
    module = analyse("""
        import contextvars
        import restate

        svc = restate.Service("S")

        class Fake:
            def run(self, name, fn):
                return fn()

        @svc.handler()
        async def h(ctx: restate.Context) -> None:
            other = contextvars.copy_context()
            other.run(print, "x")
            Fake().run("name", lambda: 1)
    """)
    assert module.model.actions == []


def test_regions() -> None:
    module = analyse(ACTIONS)
    model = module.model
    regions = {}
    for call in module.indexer.calls:
        if module.resolver.qualname(call.func) == "time.time":
            regions[call.lineno] = model.region(call)
    assert regions == {
        10: "action", 15: "action", 18: "action", 23: "action", 29: "action", 32: "action"}


def test_helper_chain_and_recursion_terminate() -> None:
    findings = lint_code(textwrap.dedent("""
        import time
        import restate

        svc = restate.Service("S")

        def a(n):
            return b(n) if n else time.time()

        def b(n):
            return a(n - 1)

        @svc.handler()
        async def h(ctx: restate.Context) -> float:
            return a(3)
    """))
    assert [(f.code, f.line) for f in findings] == [("IDL101", 8)]
    assert "reached from handler `h` via `a()` (line 15)" in findings[0].detail


def test_sync_def_with_context_parameter_is_handler_code() -> None:
    assert codes_at("""
        import uuid
        from restate import Context

        def do_call(ctx: Context, req: dict) -> str:
            return str(uuid.uuid4())
    """) == [("IDL103", 6)]
