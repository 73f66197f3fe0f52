"""IDL106 non-journaled-system-io."""

from __future__ import annotations

from ...registry import Invalid, Valid
from ._shared import KnownCallRule


class NonJournaledSystemIo(KnownCallRule):
    """
    ## What it does
    Reports filesystem, process and environment side effects in handler code outside a journaled
    action:
    - opening files: `open` (the builtin), `io.open`, `codecs.open`, `gzip`/`bz2`/`lzma`/`tarfile`
      `.open`, `os.open`, `aiofiles.open`;
    - `os` file and directory operations (`remove`, `rename`, `replace`, `mkdir`, `makedirs`,
      `listdir`, `scandir`, `walk`, `stat`, `chmod`, `symlink`, `getcwd`, `chdir`, ...) and
      `os.path` queries that touch the disk (`exists`, `isfile`, `isdir`, `getsize`, `getmtime`,
      ...); the `aiofiles.os` equivalents;
    - `pathlib.Path` I/O methods (`read_text`, `write_bytes`, `open`, `touch`, `unlink`, `mkdir`,
      `exists`, `iterdir`, `glob`, `stat`, ...), `Path.home()` and `Path.cwd()`;
    - `shutil` (`copy*`, `move`, `rmtree`, `make_archive`, `disk_usage`, `which`, ...), `glob.glob`,
      `tempfile` (`mkstemp`, `mkdtemp`, `mktemp`, `NamedTemporaryFile`, `TemporaryDirectory`, ...);
    - processes: `subprocess` (`run`, `call`, `check_call`, `check_output`, `Popen`, `getoutput`,
      ...), `asyncio.create_subprocess_exec`/`_shell`, `os.system`, `popen`, `fork`, `kill`,
      `spawn*`, `posix_spawn`, `exec*`;
    - changing the environment: `os.environ[key] = value`, `del os.environ[key]`,
      `os.environ.update`/`setdefault`/`pop`/`popitem`/`clear`, `os.putenv`, `os.unsetenv`.

    Reading configuration (`os.environ.get`, `os.getenv`, `os.environ[key]`) and pure path
    arithmetic (`os.path.join`, `Path(...) / "x"`, `with_suffix`, `.name`) are not reported.
    Instances are followed through bindings (`p = Path(base)`, then `p.read_text()`). Handler code
    includes helpers called from a handler (the finding's detail shows the call chain); the body
    of a journaled action is exempt, the arguments forwarded to it are not.

    ## Why is this bad?
    Restate replays a handler from its journal after a crash, a retry or a suspension, and code
    outside `ctx.run_typed(...)` runs again on every attempt, possibly on another worker, after
    other invocations ran. A subprocess or a file write runs once per attempt (a line appended
    twice, a report rendered twice); a read can see another file, or none, on the worker that
    replays, so the handler takes another branch than the journal recorded and the invocation fails
    with a journal mismatch. Changing `os.environ` affects every invocation running in the same
    process and does not exist on the next worker.

    Inside `ctx.run_typed(name, action)` the effect runs until it succeeds once and its result is
    stored in the journal; replays return that result. Return the data you need (the file's
    content, the command's output) from the action: a file left on one worker's disk is not there
    when another worker replays the handler.

    ## Use instead
    The fix leaves the `os.environ` change and the `with open(...)` block alone. Better: do the
    whole job in one action that returns the data, and pass environment values explicitly:

    ```python
    def run_render() -> str:
        env = {**os.environ, "LAST_REPORT": name}
        subprocess.run(["render", name], check=True, env=env)
        with open(f"/tmp/{name}.txt") as handle:
            return handle.read()

    return await ctx.run_typed("render", run_render)
    ```

    ## Fix safety
    The fix moves the call into a journaled action, as for IDL104. It needs the context in scope
    and a place where `await` is allowed:
    - a call whose result is discarded, `subprocess.run(["render", name], check=True)` as a
      statement → a nested `def _subprocess_run() -> None:` holding it, then
      `await ctx.run_typed("subprocess.run", _subprocess_run)`;
    - a call used through a serializable accessor (`.text`, `.json`, ...) → a lambda or nested
      function returning that value, given to `ctx.run_typed`.

    No fix for `with open(...) as f` / `async with aiofiles.open(...) as f` (wrap the whole block
    into a function, as above), assignments and deletions on `os.environ`, results kept as they
    are (`p = subprocess.run(...)`), un-awaited async calls, a comprehension's iterable, calls
    with `*args`/`**kwargs`, sync `def` handlers, and helpers without a context parameter.

    The fix is always **unsafe**; review each rewrite:
    - The result is serialized into the journal (JSON by default). `CompletedProcess`, `Popen`,
      file objects and `Path` are not serializable: return plain values (`.stdout.decode()`,
      `.returncode`, the text read).
    - Do not apply it to environment changes (`os.environ.update(...)`, `os.putenv`): the journaled
      action is skipped on replay, so the variable is never set in the process that replays. Pass
      the values explicitly instead (`env=` for a subprocess).
    - Exceptions from the action are retried by Restate instead of reaching the handler's `except`
      (only a `TerminalError` comes back), and a sync action runs in a worker thread.
    - The handler's journal changes shape: deploy the change as a new deployment, so that
      invocations already in flight finish on the code they started with.

    ## Temporal
    Workflow code (a `@workflow.defn` class's methods and what they call) is replayed from the
    workflow's history after a worker restart or a cache eviction, and records nothing of its
    own: only commands (activities, timers, children, ...) and their results are in the history.
    A file, process or environment access there runs again on every replay, and a result that differs makes the replay take
    another path than the history (a nondeterminism error). Move it into an activity
    (`@activity.defn`, run once per attempt, its result recorded) and call it with
    `workflow.execute_activity(...)`; code in activities is not reported. The workflow sandbox
    (temporalio 1.35, `worker/workflow_sandbox/_restrictions.py`) rejects some of these calls at
    run time, not all, and not with `sandboxed=False`. No fix: moving code into an activity
    needs a new function, its registration on the worker and timeouts.
    temporalint: no rule for I/O in workflow code.

    ## Options
    - `[tool.idemlint.nondeterministic]` adds your own helpers: `"mycorp.storage.upload" = "IDL106"`.
    - `deterministic = ["mycorp.storage.local_path"]` silences a name that does no I/O.
    - `# noqa: IDL106` for an effect that is harmless to repeat and decides nothing (reading a
      bundled template).
    """

    code = "IDL106"
    frameworks = ("restate", "temporal")
    name = "non-journaled-system-io"
    summary = "Filesystem, subprocess or environment side effect in handler code"
    what = "is a system side effect"
    consequence = (
        "a file, process or environment change runs again on every replay, and a read may see"
        " a different result"
    )
    fix_availability = "sometimes"
    VALID = [
        Valid("""
            import os
            import subprocess

            import restate

            svc = restate.Service("Reports")
            TEMPLATE = open("template.txt").read() if os.path.exists("template.txt") else ""


            @svc.handler()
            async def render(ctx: restate.Context, name: str) -> str:
                region = os.environ.get("REGION", "eu")  # reading configuration is fine
                out = await ctx.run_typed(
                    "render", lambda: subprocess.run(["render", name], capture_output=True).stdout.decode()
                )
                return region + out + TEMPLATE
        """),
        Valid("""
            import subprocess
            from datetime import timedelta

            from temporalio import activity, workflow


            @activity.defn
            def build(target: str) -> int:
                return subprocess.run(["make", target], check=False).returncode  # in an activity


            @workflow.defn
            class Build:
                @workflow.run
                async def run(self, target: str) -> int:
                    return await workflow.execute_activity(
                        build, target, start_to_close_timeout=timedelta(minutes=10)
                    )
        """, note="Temporal: the process inside an activity"),
    ]
    INVALID = [
        Invalid(
            """
                import os
                import subprocess
                from pathlib import Path

                import restate

                svc = restate.Service("Reports")


                @svc.handler()
                async def render(ctx: restate.Context, name: str) -> str:
                    os.environ["LAST_REPORT"] = name
                    subprocess.run(["render", name], check=True)
                    with open(f"/tmp/{name}.txt") as handle:
                        body = handle.read()
                    Path("/tmp/done").touch()
                    return body
            """,
            ((12, 5), (13, 5), (14, 10), (16, 5)),
            unsafe=True,
            fixed="""
                import os
                import subprocess
                from pathlib import Path

                import restate

                svc = restate.Service("Reports")


                @svc.handler()
                async def render(ctx: restate.Context, name: str) -> str:
                    os.environ["LAST_REPORT"] = name
                    def _subprocess_run() -> None:
                        subprocess.run(["render", name], check=True)
                    await ctx.run_typed("subprocess.run", _subprocess_run)
                    with open(f"/tmp/{name}.txt") as handle:
                        body = handle.read()
                    def _path_touch() -> None:
                        Path("/tmp/done").touch()
                    await ctx.run_typed("Path.touch", _path_touch)
                    return body
            """,
            doc=True,
        ),
        Invalid(
            """
                import os
                import subprocess

                import temporalio.workflow as wf


                @wf.defn
                class Build:
                    @wf.run
                    async def run(self, target: str) -> str:
                        if target:
                            os.environ["TARGET"] = target
                            subprocess.run(["make", target], check=False)
                        return self._log(target)

                    def _log(self, target: str) -> str:
                        with open("build.log") as log:
                            return log.read()
            """,
            ((12, 13), (13, 13), (17, 14)),
            message="is a system side effect in workflow code; move it into an activity",
            note="Temporal: no fix; environment, process, file (in a helper method)",
        ),
    ]

