"""`idemlint lsp` driven like an editor: a subprocess spoken to in JSON-RPC over stdio."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls")

from idemlint.config import load_settings
from idemlint.engine import Linter
from idemlint.project import Project
from idemlint.source import SourceFile

from .lsp_client import LspClient, apply_workspace_edit

FIXTURES = Path(__file__).parent / "fixtures" / "frontends"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(FIXTURES, root)
    return root


@pytest.fixture
def client(workspace: Path) -> Iterator[LspClient]:
    lsp = LspClient(cwd=workspace)
    try:
        lsp.initialize(workspace)
        yield lsp
    finally:
        lsp.kill()


def _range(line: int, start: int, end: int | None = None) -> dict[str, Any]:
    return {
        "start": {"line": line, "character": start},
        "end": {"line": line, "character": start if end is None else end},
    }


def _at(diagnostics: list[dict[str, Any]], code: str, line0: int) -> dict[str, Any]:
    found = [d for d in diagnostics if d["code"] == code and d["range"]["start"]["line"] == line0]
    assert found, f"no {code} on line {line0 + 1}: {diagnostics}"
    return found[0]


def _codes(diagnostics: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted((d["code"], d["range"]["start"]["line"] + 1) for d in diagnostics)


def _engine_findings(workspace: Path, path: Path) -> list[tuple[str, int]]:
    settings = load_settings(None, path.parent)
    linter = Linter(settings, Project.for_paths([workspace], settings.root))
    result = linter.check_source(SourceFile.from_text(str(path), path.read_text()), path)
    return sorted((f.code, f.line) for f in result.findings)


def _open(client: LspClient, path: Path) -> tuple[str, str, list[dict[str, Any]]]:
    uri, text = path.as_uri(), path.read_text(encoding="utf-8")
    client.open(uri, text)
    return uri, text, client.diagnostics(uri, version=1)


def test_editor_session(client: LspClient, workspace: Path) -> None:
    path = workspace / "shop" / "checkout.py"
    uri, text, diagnostics = _open(client, path)

    # The same findings as the engine (the catalogue extension from pyproject.toml included).
    assert _codes(diagnostics) == _engine_findings(workspace, path)
    assert ("IDL101", 36) in _codes(diagnostics)  # `wall_time()`, catalogued in the config
    first = diagnostics[0]
    assert first["source"] == "idemlint"
    assert first["severity"] == 1
    assert first["codeDescription"]["href"].endswith(f"/{first['code']}/")

    # Quick fix: the rule's own fix, safe and preferred.
    uuid_diag = _at(diagnostics, "IDL103", 20)
    actions = client.code_actions(uri, uuid_diag["range"], [uuid_diag])
    titles = [a["title"] for a in actions]
    fix = next(a for a in actions if a["kind"] == "quickfix" and "(safe fix)" in a["title"])
    assert fix["isPreferred"] is True
    assert "Suppress IDL103 on this line" in titles
    texts = apply_workspace_edit({uri: text}, fix["edit"])
    text = texts[uri]
    assert "order_id = str(ctx.uuid())" in text
    client.change(uri, text, version=2)
    diagnostics = client.diagnostics(uri, version=2)
    assert ("IDL103", 21) not in _codes(diagnostics)

    # Suppress on a multi-line statement: the comment goes on the statement's first line.
    network = _at(diagnostics, "IDL104", 23)
    actions = client.code_actions(uri, _range(24, 10), [network])
    suppress = next(a for a in actions if a["title"] == "Suppress IDL104 on this line")
    assert suppress["isPreferred"] is False
    text = apply_workspace_edit({uri: text}, suppress["edit"])[uri]
    assert text.splitlines()[23].endswith("urllib.request.urlopen(  # noqa: IDL104")
    client.change(uri, text, version=3)
    diagnostics = client.diagnostics(uri, version=3)
    assert "IDL104" not in {d["code"] for d in diagnostics}
    assert "IDL002" not in {d["code"] for d in diagnostics}

    # Fix all (safe fixes only), through codeAction/resolve when the client supports it.
    before_fix = text
    actions = client.code_actions(uri, _range(0, 0), only=["source.fixAll"])
    assert [a["kind"] for a in actions] == ["source.fixAll.idemlint"]
    action = actions[0]
    if "edit" not in action:
        action = client.request("codeAction/resolve", action)
    text = apply_workspace_edit({uri: text}, action["edit"])[uri]
    settings = load_settings(None, path.parent)
    linter = Linter(settings, Project.for_paths([workspace], settings.root))
    expected = linter.fix_source(SourceFile.from_text(str(path), before_fix), path, unsafe=False)
    assert text == expected.fixed_text
    client.change(uri, text, version=4)
    diagnostics = client.diagnostics(uri, version=4)
    remaining = {d["code"] for d in diagnostics}
    assert remaining == {"IDL101"}  # the `wall_time()` extension has no fix
    assert client.code_actions(uri, _range(0, 0), only=["source.fixAll"]) == []

    assert client.shutdown() == 0


def test_fix_all_resolved_lazily(workspace: Path) -> None:
    lsp = LspClient(cwd=workspace)
    try:
        lsp.initialize(workspace, resolve_edits=True)
        path = workspace / "shop" / "signup.py"
        uri, text, _ = _open(lsp, path)
        actions = lsp.code_actions(uri, _range(0, 0), only=["source"])
        assert len(actions) == 1 and "edit" not in actions[0]  # computed on demand
        resolved = lsp.request("codeAction/resolve", actions[0])
        text = apply_workspace_edit({uri: text}, resolved["edit"])[uri]
        assert "await ctx.sleep(timedelta(seconds=2))" in text
        lsp.change(uri, text, version=2)
        assert "IDL107" not in {d["code"] for d in lsp.diagnostics(uri, version=2)}
        assert lsp.shutdown() == 0
    finally:
        lsp.kill()


def test_unsafe_fix_is_labelled_and_not_preferred(client: LspClient, workspace: Path) -> None:
    uri, text, diagnostics = _open(client, workspace / "shop" / "checkout.py")
    # `datetime.utcnow()` is not in this file; build one with an unsafe fix.
    uri = (workspace / "shop" / "stamps.py").as_uri()
    text = textwrap.dedent("""\
        from datetime import datetime

        import restate

        svc = restate.Service("Stamps")


        @svc.handler()
        async def stamp(ctx: restate.Context) -> str:
            return datetime.utcnow().isoformat()
    """)
    client.open(uri, text)
    diagnostics = client.diagnostics(uri, version=1)
    clock = _at(diagnostics, "IDL101", 9)
    actions = client.code_actions(uri, clock["range"], [clock])
    fix = next(a for a in actions if "unsafe fix" in a["title"])
    assert fix["isPreferred"] is False
    assert fix["kind"] == "quickfix"
    # Fix all leaves unsafe fixes alone.
    assert client.code_actions(uri, _range(0, 0), only=["source.fixAll"]) == []


def test_positions_are_utf16_code_units(client: LspClient, workspace: Path) -> None:
    path = workspace / "shop" / "signup.py"
    _, text, diagnostics = _open(client, path)
    line = text.splitlines()[17]
    assert "📧" in line  # one character, two UTF-16 code units
    clock = _at(diagnostics, "IDL101", 17)
    chars = line.index("time.monotonic()")
    assert clock["range"]["start"]["character"] == chars + 1
    assert clock["range"]["end"]["character"] == chars + 1 + len("time.monotonic()")


def test_positions_in_negotiated_utf8(workspace: Path) -> None:
    lsp = LspClient(cwd=workspace)
    try:
        result = lsp.initialize(workspace, position_encodings=("utf-8", "utf-16"))
        assert result["capabilities"]["positionEncoding"] == "utf-8"
        path = workspace / "shop" / "signup.py"
        uri, text, diagnostics = _open(lsp, path)
        line = text.splitlines()[17]
        clock = _at(diagnostics, "IDL101", 17)
        prefix = line[: line.index("time.monotonic()")]
        assert clock["range"]["start"]["character"] == len(prefix.encode("utf-8"))
        # Suppress edit columns are UTF-8 too.
        actions = lsp.code_actions(uri, clock["range"], [clock])
        suppress = next(a for a in actions if a["title"].startswith("Suppress"))
        new = apply_workspace_edit({uri: text}, suppress["edit"], encoding="utf-8")[uri]
        assert new.splitlines()[17] == line + "  # noqa: IDL101"
    finally:
        lsp.kill()


def test_debounce_latest_text_wins(workspace: Path) -> None:
    # A long debounce, so that a slow CI machine cannot split the burst below.
    client = LspClient(cwd=workspace, env={"IDEMLINT_LSP_DEBOUNCE_MS": "1500"})
    try:
        client.initialize(workspace)
        _debounce_session(client, workspace)
    finally:
        client.kill()


def _debounce_session(client: LspClient, workspace: Path) -> None:
    path = workspace / "shop" / "signup.py"
    uri, text, first = _open(client, path)
    lines = text.splitlines(keepends=True)
    for version in range(2, 7):  # a burst of keystrokes, faster than the debounce
        lines.append(f"# edit {version}\n")
        client.change(uri, "".join(lines), version=version)
    published = client.wait_for(
        lambda m: m.get("method") == "textDocument/publishDiagnostics"
        and m["params"]["uri"] == uri
    )
    assert published["params"]["version"] == 6  # intermediate versions were never analysed
    assert _codes(published["params"]["diagnostics"]) == _codes(first)
    # Saving text that was already analysed does not analyse it again.
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    time.sleep(0.5)
    late = [m for m in client.drain() if m.get("method") == "textDocument/publishDiagnostics"]
    assert late == []

    # Saving during the debounce analyses the latest text at once.
    lines.append("# edit 7\n")
    client.change(uri, "".join(lines), version=7)
    started = time.monotonic()
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    assert _codes(client.diagnostics(uri, version=7)) == _codes(first)
    assert time.monotonic() - started < 1.4  # before the 1.5 s debounce would have fired

    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert client.diagnostics(uri) == []  # closing clears the document's diagnostics


def test_config_reloaded_when_pyproject_changes(client: LspClient, workspace: Path) -> None:
    uri, _, diagnostics = _open(client, workspace / "shop" / "signup.py")
    assert "IDL107" in {d["code"] for d in diagnostics}
    config = workspace / "pyproject.toml"
    original = config.read_text(encoding="utf-8")

    config.write_text(original + 'ignore = ["IDL107"]\n', encoding="utf-8")
    client.notify(
        "workspace/didChangeWatchedFiles", {"changes": [{"uri": config.as_uri(), "type": 2}]}
    )
    assert "IDL107" not in {d["code"] for d in client.diagnostics(uri)}

    config.write_text(original, encoding="utf-8")  # saved in the editor this time
    client.notify("textDocument/didSave", {"textDocument": {"uri": config.as_uri()}})
    assert "IDL107" in {d["code"] for d in client.diagnostics(uri)}

    # A broken configuration is reported, and linting goes on with the defaults.
    config.write_text(original + 'ignore = ["NOPE"]\n', encoding="utf-8")
    client.notify("textDocument/didSave", {"textDocument": {"uri": config.as_uri()}})
    message = client.wait_for(lambda m: m.get("method") == "window/showMessage")
    assert "invalid configuration" in message["params"]["message"]
    assert "IDL107" in {d["code"] for d in client.diagnostics(uri)}


def test_hostile_documents_do_not_kill_the_server(client: LspClient, workspace: Path) -> None:
    documents = {
        "nul.py": "import restate\nx = 1\x00\n",
        "surrogate.py": "import restate\nx = '\ud800'\n",
        "nested.py": "import restate\nx = " + "-" * 100_000 + "1\n",
        "parens.py": "import restate\nx = " + "(" * 5000 + ")" * 5000 + "\n",
        "binary.py": "import restate\n" + "".join(chr(i) for i in range(1, 0x3000, 7)),
    }
    for name, text in documents.items():
        uri = (workspace / name).as_uri()
        client.open(uri, text)
        diagnostics = client.diagnostics(uri, version=1)
        assert [d["code"] for d in diagnostics] == ["IDL001"], name
    # ... and the server still works.
    uri, _, diagnostics = _open(client, workspace / "shop" / "signup.py")
    assert "IDL107" in {d["code"] for d in diagnostics}
    assert client.shutdown() == 0


CRASHING_SERVER = """
import sys
from idemlint.engine import Linter

original = Linter.check_source

def check_source(self, source, path=None, tree=None):
    if "CRASH-ME" in source.text:
        raise RuntimeError("simulated engine crash")
    return original(self, source, path, tree)

Linter.check_source = check_source
from idemlint.lsp import serve
serve()
"""


def test_crash_in_analysis_is_logged_and_server_survives(workspace: Path) -> None:
    lsp = LspClient(command=[sys.executable, "-c", CRASHING_SERVER], cwd=workspace)
    try:
        lsp.initialize(workspace)
        crash_uri = (workspace / "shop" / "crash.py").as_uri()
        lsp.open(crash_uri, "import restate\n# CRASH-ME\n")
        assert lsp.diagnostics(crash_uri, version=1) == []
        logged = lsp.wait_for(
            lambda m: m.get("method") == "window/logMessage"
            and "simulated engine crash" in m["params"]["message"]
        )
        assert logged["params"]["type"] == 1  # error
        # Other documents are still analysed, and code actions still answer.
        uri, _, diagnostics = _open(lsp, workspace / "shop" / "signup.py")
        assert "IDL107" in {d["code"] for d in diagnostics}
        sleep = _at(diagnostics, "IDL107", 15)
        assert lsp.code_actions(uri, sleep["range"], [sleep])
        assert lsp.code_actions(crash_uri, _range(1, 0)) == []
        assert lsp.shutdown() == 0
    finally:
        lsp.kill()


def test_position_conversion_units_and_clamping() -> None:
    from lsprotocol import types as lsp

    from idemlint.lsp import Positions, minimal_edit

    source = SourceFile.from_text("x.py", "a = '😀é' + b\r\nzz\n")
    utf16 = Positions(source, lsp.PositionEncodingKind.Utf16)
    utf8 = Positions(source, lsp.PositionEncodingKind.Utf8)
    utf32 = Positions(source, lsp.PositionEncodingKind.Utf32)
    column = source.line(1).index("+")  # 8 characters in
    assert utf16.position(1, column).character == column + 1  # the emoji is 2 code units
    assert utf8.position(1, column).character == column + 3 + 1  # 4 bytes + 2 bytes
    assert utf32.position(1, column).character == column
    for positions in (utf16, utf8, utf32):
        client = positions.position(1, column)
        assert positions.from_client(client) == (1, column)
    # Columns past the end of a line stay on it; lines past the end go to the last line.
    assert utf16.position(2, 99) == lsp.Position(line=1, character=2)
    assert utf16.position(9, 0) == lsp.Position(line=2, character=0)

    start, end, text = minimal_edit("a\r\nb\r\n", "a\r\nc\r\nb\r\n")
    assert "a\r\nb\r\n"[:start] + text + "a\r\nb\r\n"[end:] == "a\r\nc\r\nb\r\n"
    assert "a\r\nb\r\n"[start - 1 : start + 1] != "\r\n"  # never between \r and \n


# -- a server whose engine is instrumented (also in its spawned fix workers) ---------------------
INSTRUMENTED_SERVER = """
import sys
import time

from idemlint.engine import Linter

_check, _fix = Linter.check_source, Linter.fix_source


def check_source(self, source, path=None, tree=None):
    print("ANALYSED", source.path, file=sys.stderr, flush=True)
    print("a stray print in the engine", flush=True)  # must not reach the JSON-RPC stream
    return _check(self, source, path, tree)


def fix_source(self, source, path, unsafe, codes=None):
    print("a stray print in a fix worker", flush=True)
    if "SLOW-FIX" in source.text:  # stands for a fix-all of many minutes
        time.sleep(120)
    return _fix(self, source, path, unsafe, codes)


Linter.check_source, Linter.fix_source = check_source, fix_source

if __name__ == "__main__":  # fix workers (spawned) import this file but do not serve
    from idemlint.lsp import serve

    serve()
"""
REQUEST_CANCELLED, CONTENT_MODIFIED = -32800, -32801
INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32600, -32601, -32602


def _instrumented(workspace: Path, tmp_path: Path, resolve_edits: bool = False) -> LspClient:
    script = tmp_path / "instrumented_server.py"
    script.write_text(INSTRUMENTED_SERVER, encoding="utf-8")
    client = LspClient(command=[sys.executable, str(script)], cwd=workspace)
    client.initialize(workspace, resolve_edits=resolve_edits)
    return client


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_dead(pids: list[int], timeout: float = 2.0) -> list[int]:
    """The pids still alive after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)
    return [pid for pid in pids if _alive(pid)]


def _open_slow(client: LspClient, workspace: Path) -> tuple[str, str]:
    """A document whose fix-all takes minutes (it has a safe fix: IDL107's sleep)."""
    uri = (workspace / "shop" / "slow.py").as_uri()
    text = (workspace / "shop" / "signup.py").read_text(encoding="utf-8") + "# SLOW-FIX\n"
    client.open(uri, text)
    assert "IDL107" in {d["code"] for d in client.diagnostics(uri, version=1)}
    return uri, text


def _fix_all_params(uri: str) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "range": _range(0, 0),
            "context": {"diagnostics": [], "only": ["source.fixAll"]}}


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@needs_proc
def test_long_fix_all_blocks_neither_other_documents_nor_exit(
    workspace: Path, tmp_path: Path
) -> None:
    client = _instrumented(workspace, tmp_path)
    try:
        slow_uri, _ = _open_slow(client, workspace)
        slow = client.start_request("textDocument/codeAction", _fix_all_params(slow_uri))
        time.sleep(0.5)  # the fix loop is running in a worker process

        started = time.monotonic()
        uri, text, diagnostics = _open(client, workspace / "shop" / "signup.py")
        sleep = _at(diagnostics, "IDL107", 15)
        quick = client.code_actions(uri, sleep["range"], [sleep], only=["quickfix"])
        fix_all = client.code_actions(uri, _range(0, 0), only=["source.fixAll"])
        elapsed = time.monotonic() - started
        assert elapsed < 30, elapsed  # not the 120 s of the other document's fix-all
        assert any("(safe fix)" in a["title"] for a in quick)
        assert [a["kind"] for a in fix_all] == ["source.fixAll.idemlint"]
        fixed = apply_workspace_edit({uri: text}, fix_all[0]["edit"])[uri]
        assert "await ctx.sleep(timedelta(seconds=2))" in fixed
        assert not [m for m in client.received() if m.get("id") == slow]  # still running

        children = client.children()
        assert children  # the fix workers
        started = time.monotonic()
        shutdown = client.start_request("shutdown", None)
        assert client.response(shutdown, timeout=5)["result"] is None
        assert client.response(slow, timeout=5)["error"]["code"] == REQUEST_CANCELLED
        after = client.start_request("textDocument/codeAction", _fix_all_params(uri))
        assert client.response(after, timeout=5)["error"]["code"] == INVALID_REQUEST
        client.notify("exit", None)
        assert client.process.wait(timeout=2) == 0
        assert time.monotonic() - started < 3
        assert _wait_dead(children) == []  # no fix worker left behind
    finally:
        client.kill()


@needs_proc
def test_cancel_request_kills_the_fix_worker(workspace: Path, tmp_path: Path) -> None:
    client = _instrumented(workspace, tmp_path, resolve_edits=True)
    try:
        slow_uri, _ = _open_slow(client, workspace)
        [action] = client.code_actions(slow_uri, _range(0, 0), only=["source.fixAll"])
        assert "edit" not in action and action["data"]["uri"] == slow_uri
        resolve = client.start_request("codeAction/resolve", action)
        time.sleep(1.0)  # the fix loop is running in a worker process
        workers = client.children()
        started = time.monotonic()
        client.notify("$/cancelRequest", {"id": resolve})
        reply = client.response(resolve, timeout=5)
        assert reply["error"]["code"] == REQUEST_CANCELLED
        assert time.monotonic() - started < 2
        assert len(_wait_dead(workers)) < len(workers)  # the busy worker was killed

        # Fix-all still works afterwards (a new worker).
        uri, text, _ = _open(client, workspace / "shop" / "signup.py")
        [action] = client.code_actions(uri, _range(0, 0), only=["source.fixAll"])
        resolved = client.request("codeAction/resolve", action)
        text = apply_workspace_edit({uri: text}, resolved["edit"])[uri]
        assert "await ctx.sleep(timedelta(seconds=2))" in text
        assert client.shutdown() == 0
    finally:
        client.kill()


def test_fix_all_superseded_by_a_new_version(workspace: Path, tmp_path: Path) -> None:
    client = _instrumented(workspace, tmp_path, resolve_edits=True)
    try:
        slow_uri, text = _open_slow(client, workspace)
        [action] = client.code_actions(slow_uri, _range(0, 0), only=["source.fixAll"])
        resolve = client.start_request("codeAction/resolve", action)
        time.sleep(0.5)
        started = time.monotonic()
        client.change(slow_uri, text + "# typed\n", version=2)
        assert client.response(resolve, timeout=5)["error"]["code"] == CONTENT_MODIFIED
        assert time.monotonic() - started < 2
        client.diagnostics(slow_uri, version=2)

        # `exit` without `shutdown`, with a fix-all running: the process ends at once, code 1.
        [action] = client.code_actions(slow_uri, _range(0, 0), only=["source.fixAll"])
        client.start_request("codeAction/resolve", action)
        time.sleep(0.5)
        started = time.monotonic()
        client.notify("exit", None)
        assert client.process.wait(timeout=2) == 1
        assert time.monotonic() - started < 2
    finally:
        client.kill()


def test_every_request_gets_an_answer(client: LspClient, workspace: Path) -> None:
    uri, _, _ = _open(client, workspace / "shop" / "signup.py")
    code_action = "textDocument/codeAction"
    malformed: list[tuple[dict[str, Any], int]] = [
        ({"id": 101, "method": code_action}, INVALID_PARAMS),  # no params
        ({"id": 102, "method": code_action, "params": None}, INVALID_PARAMS),
        ({"id": 103, "method": code_action, "params": [1, 2]}, INVALID_PARAMS),
        ({"id": 104, "method": code_action, "params": {"textDocument": 5}}, INVALID_PARAMS),
        ({"id": "s-105", "method": "codeAction/resolve", "params": {"data": 1}},
         INVALID_PARAMS),
        ({"id": 106, "method": "textDocument/hover"}, INVALID_PARAMS),
        ({"id": 107, "method": "no/such/method", "params": {}}, METHOD_NOT_FOUND),
    ]
    for message, _ in malformed:
        client.send(message)
    client.send_raw(b'{"id": 108, "method": "shutdown"}')  # no "jsonrpc" member
    client.send_raw(b'{"jsonrpc": "1.0", "id": 109, "method": "shutdown"}')
    client.notify("textDocument/didOpen", None)  # a notification: no answer, no crash...
    started = time.monotonic()
    for message, code in malformed:
        reply = client.response(message["id"], timeout=5)
        assert reply.get("error", {}).get("code") == code, (message, reply)
    for request_id in (108, 109):
        assert client.response(request_id, timeout=5)["error"]["code"] == INVALID_REQUEST
    assert time.monotonic() - started < 5
    # ... but a line in the client's log, not a pop-up.
    logged = client.wait_for(lambda m: m.get("method") == "window/logMessage")
    assert logged["params"]["message"].startswith("idemlint: JsonRpcException: ")
    assert not [m for m in client.received() if m.get("method") == "window/showMessage"]

    # Well-formed requests about unknown documents or odd positions get a result.
    assert client.code_actions((workspace / "nope.py").as_uri(), _range(0, 0)) == []
    far = {"start": {"line": 9999, "character": 9999}, "end": {"line": 9999, "character": 0}}
    assert isinstance(client.code_actions(uri, far), list)
    assert client.request("codeAction/resolve", {"title": "x", "data": {"uri": 5}}) == {
        "title": "x", "data": {"uri": 5}
    }
    assert client.shutdown() == 0


def test_unchanged_text_is_not_analysed_again(workspace: Path, tmp_path: Path) -> None:
    client = _instrumented(workspace, tmp_path)
    path = workspace / "shop" / "signup.py"

    def analyses() -> int:
        time.sleep(0.2)  # stderr is read by another thread
        return client.stderr_text().count(f"ANALYSED {path}")

    try:
        uri, text, first = _open(client, path)
        assert analyses() == 1
        client.change(uri, text, version=2)  # a version bump, same text
        assert client.diagnostics(uri, version=2) == first
        assert analyses() == 1
        client.change(uri, text + "x = 1\n", version=3)
        assert _codes(client.diagnostics(uri, version=3)) == _codes(first)
        assert analyses() == 2
        client.change(uri, text, version=4)  # undo
        assert client.diagnostics(uri, version=4) == first
        assert analyses() == 2
        config = workspace / "pyproject.toml"  # saved without a change: same settings
        client.notify("textDocument/didSave", {"textDocument": {"uri": config.as_uri()}})
        assert client.diagnostics(uri, version=4) == first
        assert analyses() == 2
        config.write_text(config.read_text(encoding="utf-8") + 'ignore = ["IDL107"]\n',
                          encoding="utf-8")
        client.notify("textDocument/didSave", {"textDocument": {"uri": config.as_uri()}})
        assert "IDL107" not in {d["code"] for d in client.diagnostics(uri, version=4)}
        assert analyses() == 3
        assert client.shutdown() == 0
    finally:
        client.kill()


def test_lsp_stdio_flag_is_accepted(workspace: Path) -> None:
    client = LspClient(command=[sys.executable, "-m", "idemlint", "lsp", "--stdio"],
                       cwd=workspace)
    try:
        result = client.initialize(workspace)
        assert result["serverInfo"]["name"] == "idemlint"
        # The client goes away without `exit`: the server ends too (code 1, as for no shutdown).
        assert client.process.stdin is not None
        client.process.stdin.close()
        assert client.process.wait(timeout=5) == 1
    finally:
        client.kill()


def test_lsp_without_the_extra_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    # As if pygls were not installed: `import pygls` raises ImportError.
    (blocker / "sitecustomize.py").write_text('import sys\nsys.modules["pygls"] = None\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(blocker), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run(
        [sys.executable, "-m", "idemlint", "lsp"], capture_output=True, text=True, env=env,
        stdin=subprocess.DEVNULL, timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("idemlint: error: `idemlint lsp` needs pygls 2 and lsprotocol")
    assert done.stderr.rstrip().endswith('install them with: pip install "idemlint[lsp]"')


def test_diagnostic_message_carries_the_detail() -> None:
    from idemlint.diagnostics import Finding
    from idemlint.engine import FileResult
    from idemlint.lsp.analyses import Analysis
    from idemlint.lsp.diagnostics import diagnostics

    source = SourceFile.from_text("x.py", "import time\ntime.time()\n")
    plain = Finding("IDL101", "`time.time()` in a handler", "x.py", 2, 1, 2, 12)
    detailed = Finding("IDL101", "`time.time()` in a handler", "x.py", 2, 1, 2, 12,
                       detail="On replay the clock differs.\nUse ctx.time().")
    result = FileResult("x.py", [plain, detailed], source=source)
    analysis = Analysis("file:///x.py", 1, source.text, result, None, None)
    messages = [d.message for d in diagnostics(analysis, "utf-16")]
    assert messages == [
        "`time.time()` in a handler",
        "`time.time()` in a handler\n\nOn replay the clock differs.\nUse ctx.time().",
    ]


def test_debounce_adapts_to_the_analysis_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from idemlint.lsp.debounce import DEBOUNCE_ENV, Debounce

    debounce = Debounce()
    assert debounce.delay_ms("a") == 50.0  # nothing measured yet
    debounce.record("a", 0.004)
    assert debounce.delay_ms("a") == 20.0  # fast analysis: the floor
    for seconds in (0.100, 0.140, 0.900):
        debounce.record("a", seconds)
    assert debounce.delay_ms("a") == pytest.approx(60.0)  # half the median (not the outlier)
    for _ in range(9):
        debounce.record("b", 3.0)
    assert debounce.delay_ms("b") == 150.0  # slow analysis: the ceiling
    assert debounce.delay_ms("a") == pytest.approx(60.0)  # per document
    debounce.forget("a")
    assert debounce.delay_ms("a") == 50.0
    assert Debounce(150).delay_ms("b") == 150  # a configured debounce is fixed
    monkeypatch.setenv(DEBOUNCE_ENV, "300")
    assert Debounce.from_env().delay_ms("b") == 300
    monkeypatch.setenv(DEBOUNCE_ENV, "soon")
    assert Debounce.from_env().fixed_ms is None
