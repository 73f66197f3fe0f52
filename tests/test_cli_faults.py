"""Regression tests for the command-line faults of issue 11 (each failed before its fix)."""

from __future__ import annotations

import codecs
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import HANDLER, Run, run_subprocess

TWO_FINDINGS = HANDLER.replace(
    "    return time.time()\n", "    stamp = time.time()\n    return stamp + time.time()\n"
)


def _closed_pipe(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run idemlint with a stdout whose reader is already gone (like `| head` that exited)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "idemlint", *args], cwd=cwd, stdout=write_end,
            stderr=subprocess.PIPE, timeout=60, check=False,
        )
    finally:
        os.close(write_end)


# -- 1: a closed pipe -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("rule", "--all"), 0),
        (("rule", "IDL101"), 0),
        (("check", "."), 1),
        (("check", "--diff", "."), 1),
        (("check", "--statistics", "."), 1),
        (("check", "--output-format", "json", "."), 1),
    ],
)
def test_closed_pipe_is_quiet_and_keeps_the_exit_code(
    args: tuple[str, ...], code: int, write: Callable[..., Path], tmp_path: Path
) -> None:
    write("svc.py", TWO_FINDINGS)
    proc = _closed_pipe(*args, cwd=tmp_path)  # closed before the first write: fails every time
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode == code


# -- 2: --statistics ------------------------------------------------------------------------------
def test_statistics_alone_prints_only_the_table(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("a.py", TWO_FINDINGS)
    run = cli("check", "--statistics", str(tmp_path))
    assert run.code == 1
    assert run.out == "2\tIDL101\t[*] non-journaled-clock\n"


def test_statistics_in_json_formats_are_json(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("a.py", TWO_FINDINGS)
    write("b.py", HANDLER.replace("time.time()", "time.monotonic()"))
    expected = [
        {"code": "IDL101", "name": "non-journaled-clock", "count": 3, "fixable": True},
    ]
    run = cli("check", "--statistics", "--output-format", "json", str(tmp_path))
    assert (run.code, json.loads(run.out)) == (1, expected)
    lines = cli("check", "--statistics", "--output-format", "json-lines", str(tmp_path)).out
    assert [json.loads(line) for line in lines.splitlines()] == expected
    clean = cli("check", "--statistics", "--output-format", "json", "--select", "IDL2",
                str(tmp_path))
    assert (clean.code, json.loads(clean.out)) == (0, [])


# -- 3: file names that are not UTF-8 -------------------------------------------------------------
@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes")
@pytest.mark.parametrize(
    "fmt", ["text", "full", "json", "json-lines", "sarif", "github", "gitlab", "junit", "pylint"]
)
def test_non_utf8_file_name_in_every_format(
    fmt: str, tmp_path: Path, cli: Callable[..., Run]
) -> None:
    directory = os.fsencode(tmp_path / "d")
    os.mkdir(directory)
    with open(os.path.join(directory, b"caf\xe9.py"), "wb") as handle:
        handle.write(HANDLER.encode())
    output = tmp_path / "out.txt"
    to_file = cli("check", "--output-format", fmt, "-o", str(output), "d", cwd=tmp_path)
    assert to_file.code == 1, to_file.err
    data = output.read_bytes()
    if fmt == "sarif":
        uri = json.loads(data)["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
            "artifactLocation"]["uri"]
        assert uri == "d/caf%E9.py"
    elif fmt in ("json", "json-lines", "gitlab", "junit"):  # JSON and XML escape it
        assert r"d/caf\udce9.py" in data.decode()
    else:
        assert b"d/caf\xe9.py" in data  # the name's own bytes, as the file system has them
    to_stdout = subprocess.run(
        [sys.executable, "-m", "idemlint", "check", "--output-format", fmt, "d"],
        cwd=tmp_path, capture_output=True, timeout=60, check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},  # strict UTF-8 stdout
    )
    assert to_stdout.returncode == 1 and b"Traceback" not in to_stdout.stderr, to_stdout.stderr
    assert to_stdout.stdout == data


# -- 5: a fix must not call a name the handler rebinds --------------------------------------------
SLEEP = """\
import asyncio
{imports}
import restate

svc = restate.Service("Sleepy")


@svc.handler()
async def nap(ctx: restate.Context) -> None:
    {shadow}
    await asyncio.sleep(1)
"""


@pytest.mark.parametrize(
    ("imports", "shadow", "added", "call"),
    [
        # the name is free: imported as before
        ("", "pass", "from datetime import timedelta\n", "timedelta(seconds=1)"),
        # rebound in the handler: module-qualified
        ("", "timedelta = 5", "import datetime\n", "datetime.timedelta(seconds=1)"),
        # imported, but rebound in the handler: the module's own spelling
        ("import datetime\nfrom datetime import timedelta\n", "timedelta = 5", "",
         "datetime.timedelta(seconds=1)"),
        # both `timedelta` and `datetime` taken: an alias
        ("from datetime import datetime\n", "timedelta = 5",
         "from datetime import timedelta as timedelta_\n", "timedelta_(seconds=1)"),
    ],
)
def test_fix_spells_names_the_handler_does_not_rebind(
    imports: str, shadow: str, added: str, call: str, write: Callable[..., Path],
    cli: Callable[..., Run],
) -> None:
    path = write("svc.py", SLEEP.format(imports=imports, shadow=shadow), dedent=False)
    run = cli("check", "--fix", "--select", "IDL107", str(path))
    assert run.code == 0, run.out + run.err
    text = path.read_text()
    assert f"await ctx.sleep({call})" in text
    header = f"import asyncio\n{imports}{added}" if added else f"import asyncio\n{imports}"
    assert text.startswith(header), text
    compile(text, "svc.py", "exec")


def test_fix_unavailable_when_every_spelling_is_taken(
    write: Callable[..., Path], cli: Callable[..., Run]
) -> None:
    code = SLEEP.format(imports="from datetime import datetime\n",
                        shadow="timedelta = timedelta_ = _timedelta = 5")
    path = write("svc.py", code, dedent=False)
    run = cli("check", "--fix", "--select", "IDL107", str(path))
    assert run.code == 1 and path.read_text() == code
    assert run.out.startswith(f"{path}:12:11: IDL107 ")


# -- 6: SIGKILL during --fix ----------------------------------------------------------------------
STALL = """\
import os, sys, time
from idemlint.fixes import write


def stall(src, dst):  # the run is killed between writing the temporary file and renaming it
    print("STALLED", flush=True)
    time.sleep(60)


write.os.replace = stall
from idemlint.cli import main

sys.exit(main(["check", "--fix", "-j", "1", sys.argv[1]]))
"""


@pytest.mark.skipif(os.name != "posix", reason="process groups and SIGKILL")
def test_killed_fix_run_leaves_no_temp_file_behind(write: Callable[..., Path], tmp_path: Path) -> None:
    path = write("pkg/svc.py", HANDLER)
    script = write("stall.py", STALL)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "pkg")], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"STALLED\n"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    leftovers = [p.name for p in (tmp_path / "pkg").iterdir() if p.name != "svc.py"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".svc.py.idemlint-"), leftovers
    assert path.read_text() == HANDLER  # the original is intact
    time.sleep(0.05)  # the next run starts after the killed one
    again = run_subprocess("check", "--fix", "pkg", cwd=tmp_path)
    assert again.code == 0, again.err
    assert sorted(p.name for p in (tmp_path / "pkg").iterdir()) == ["svc.py"]
    assert "return await ctx.time()" in path.read_text()


def test_temp_files_of_live_processes_are_kept(tmp_path: Path) -> None:
    from idemlint.fixes import write

    mine = tmp_path / f".a.py.idemlint-{os.getpid()}-x1.tmp"
    mine.write_text("in progress")
    assert write.remove_stale_temps(tmp_path) == []
    assert mine.exists()


def test_leftovers_of_older_versions_are_removed_when_old(tmp_path: Path) -> None:
    from idemlint.fixes import write

    old, recent, other = (tmp_path / ".a.py.k2j4_x9q.idemlint", tmp_path / ".b.py.p0o9i8u7.idemlint",
                          tmp_path / ".notes.idemlint")
    for path in (old, recent, other):
        path.write_text("fixed text")
    stale = write._STARTED - write.LEGACY_MAX_AGE - 60  # this process started a while ago
    os.utime(old, (stale, stale))
    os.utime(other, (stale, stale))
    assert write.remove_stale_temps(tmp_path) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".b.py.p0o9i8u7.idemlint",
                                                          ".notes.idemlint"]


# -- 7: a file deleted during the run -------------------------------------------------------------
def test_file_deleted_during_fix_is_that_files_error(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from idemlint.engine import Linter

    doomed = write("a.py", HANDLER)
    other = write("b.py", HANDLER)
    real = Linter.fix_source

    def fix_then_delete(self, source, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(self, source, path, *args, **kwargs)
        if path == doomed:
            doomed.unlink()
        return result

    monkeypatch.setattr(Linter, "fix_source", fix_then_delete)
    run = cli("check", "--fix", "--output-format", "json", "-j", "1", str(tmp_path))
    assert run.code == 1, run.err
    (finding,) = run.json()
    assert (finding["path"], finding["code"], finding["line"]) == (str(doomed), "IDL001", 1)
    assert finding["message"] == "not fixed: the file was deleted during the run"
    assert "return await ctx.time()" in other.read_text()
    assert run.err == "Found 2 errors (1 fixed, 1 remaining).\n"


def test_file_deleted_before_it_is_read(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from idemlint import cli_check

    write("a.py", HANDLER)
    write("b.py", HANDLER)
    real = cli_check.discover

    def discover_then_delete(*args, **kwargs):  # type: ignore[no-untyped-def]
        for target in real(*args, **kwargs):
            if target.path.name == "a.py":
                target.path.unlink()
            yield target

    monkeypatch.setattr(cli_check, "discover", discover_then_delete)
    run = cli("check", "--output-format", "json", ".", cwd=tmp_path)
    assert run.code == 1
    assert [(f["path"], f["code"], f["message"]) for f in run.json()] == [
        ("a.py", "IDL001", "cannot read file: No such file or directory"),
        ("b.py", "IDL101", run.json()[1]["message"]),
    ]


# -- 8: a missing path among good ones ------------------------------------------------------------
def test_missing_path_among_good_ones_is_reported_and_the_rest_linted(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("svc.py", HANDLER)
    run = cli("check", "--output-format", "json", "nope.py", "svc.py", "gone/", cwd=tmp_path)
    assert run.code == 1, run.err
    assert [(f["path"], f["code"], f["line"], f["column"]) for f in run.json()] == [
        ("gone", "IDL001", 1, 1), ("nope.py", "IDL001", 1, 1), ("svc.py", "IDL101", 10, 12)]
    assert run.json()[0]["message"] == "cannot read file: No such file or directory"


def test_only_missing_paths_stay_a_usage_error(tmp_path: Path, cli: Callable[..., Run]) -> None:
    run = cli("check", "nope.py", "gone", cwd=tmp_path)
    assert run.code == 2
    assert run.err == "idemlint: error: no such file or directory: nope.py, gone\n"


# -- 11: read-only files and owners ---------------------------------------------------------------
@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_read_only_file_is_not_rewritten(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    locked = write("locked.py", HANDLER)
    free = write("free.py", HANDLER)
    locked.chmod(0o444)
    inode = locked.stat().st_ino
    try:
        run = cli("check", "--fix", "--output-format", "json", "-j", "1", ".", cwd=tmp_path)
    finally:
        locked.chmod(0o644)
    assert locked.read_text() == HANDLER and locked.stat().st_ino == inode
    assert "return await ctx.time()" in free.read_text()
    assert run.code == 1
    (finding,) = run.json()
    assert (finding["path"], finding["code"], finding["line"]) == ("locked.py", "IDL101", 10)
    assert "idemlint: warning: locked.py: not fixed: the file is read-only\n" in run.err
    assert "Found 2 errors (1 fixed, 1 remaining)." in run.err


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root (chown)")
def test_fix_keeps_the_owner_of_someone_elses_file(
    write: Callable[..., Path], cli: Callable[..., Run]
) -> None:
    path = write("svc.py", HANDLER)
    os.chown(path, 4321, 4322)
    assert cli("check", "--fix", str(path)).code == 0
    info = path.stat()
    assert "return await ctx.time()" in path.read_text()
    assert (info.st_uid, info.st_gid) == (4321, 4322)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may chown")
def test_fix_refuses_to_take_over_someone_elses_file(tmp_path: Path) -> None:
    from idemlint.fixes.write import NotWritten, _keep_owner

    temp = tmp_path / "t"
    temp.write_text("x")
    fake = os.stat_result((0o100644, 0, 0, 1, 0, 0, 1, 0, 0, 0))  # owned by root
    with pytest.raises(NotWritten, match="belongs to another user"):
        _keep_owner(str(temp), fake)


# -- 12: BOM with a contradicting coding cookie ---------------------------------------------------
def test_bom_with_another_cookie_says_what_python_says(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("a.py", codecs.BOM_UTF8 + b"# -*- coding: latin-1 -*-\n" + HANDLER.encode())
    write("b.py", codecs.BOM_UTF8 + b"#!/usr/bin/env python\n# coding=cp1252\n"
          + HANDLER.encode())
    findings = cli("check", "--output-format", "json", ".", cwd=tmp_path).json()
    assert [(f["path"], f["code"], f["line"], f["column"], f["message"]) for f in findings] == [
        ("a.py", "IDL001", 1, 15, "cannot decode: the file starts with a UTF-8 byte-order mark "
         "but its coding cookie says 'latin-1' (Python: encoding problem: latin-1 with BOM)"),
        ("b.py", "IDL001", 2, 10, "cannot decode: the file starts with a UTF-8 byte-order mark "
         "but its coding cookie says 'cp1252' (Python: encoding problem: cp1252 with BOM)"),
    ]
