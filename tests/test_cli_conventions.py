"""Conventions ruff users expect, through the real command line: stdin, ignore files,
``--show-settings``/``--show-files``, colour, the ``full`` format's detail."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from idemlint.diagnostics import Finding

from .conftest import HANDLER, Run

FIXED = HANDLER.replace("time.time()", "await ctx.time()")
MESSAGE = "`time.time()` reads the wall clock; use `await ctx.time()`"


def idemlint(*args: str, cwd: Path, stdin: bytes = b"", env: dict[str, str] | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """``python -m idemlint`` with bytes on stdin (what an editor integration does)."""
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "idemlint", *args], cwd=cwd, input=stdin, capture_output=True,
        timeout=timeout, env={**base, "PYTHONWARNINGS": "ignore", **(env or {})}, check=False,
    )


# -- stdin ----------------------------------------------------------------------------------------
def test_stdin_without_a_name(tmp_path: Path) -> None:
    proc = idemlint("check", "-", cwd=tmp_path, stdin=HANDLER.encode())
    assert proc.returncode == 1
    assert proc.stdout.decode() == f"-:10:12: IDL101 [*] {MESSAGE}\n"
    assert proc.stderr.decode() == "Found 1 error.\n[*] 1 fixable with the `--fix` option.\n"


def test_stdin_filename_gives_path_config_and_per_file_ignores(
    write: Callable[..., Path], tmp_path: Path
) -> None:
    write("pyproject.toml", """\
        [tool.idemlint]
        extend-select = ["IDL103"]

        [tool.idemlint.per-file-ignores]
        "tests/*" = ["IDL101"]
    """)
    (tmp_path / "sub").mkdir()
    source = HANDLER.replace("return time.time()", "import uuid\n    return uuid.uuid4()")
    json_out = idemlint("check", "--output-format", "json", "-", "--stdin-filename",
                        "app/svc.py", cwd=tmp_path, stdin=source.encode())
    assert [(f["path"], f["code"]) for f in json.loads(json_out.stdout)] == [
        ("app/svc.py", "IDL103")]
    ignored = idemlint("check", "-", "--stdin-filename", "tests/test_svc.py", cwd=tmp_path,
                       stdin=HANDLER.encode())
    assert (ignored.returncode, ignored.stdout) == (0, b"")
    # the configuration is found from the file's place, not from the working directory
    elsewhere = idemlint("check", "-", "--stdin-filename", str(tmp_path / "tests" / "t.py"),
                         cwd=tmp_path / "sub", stdin=HANDLER.encode())
    assert (elsewhere.returncode, elsewhere.stdout) == (0, b"")


def test_stdin_fix_writes_the_fixed_source_to_stdout(tmp_path: Path) -> None:
    data = codecs.BOM_UTF8 + HANDLER.replace("\n", "\r\n").encode()
    proc = idemlint("check", "--fix", "-", "--stdin-filename", "svc.py", cwd=tmp_path,
                    stdin=data)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == codecs.BOM_UTF8 + FIXED.replace("\n", "\r\n").encode()
    assert proc.stderr.decode() == "Found 1 error (1 fixed, 0 remaining).\n"
    assert not (tmp_path / "svc.py").exists()


def test_stdin_fix_with_remaining_findings_and_bad_input(tmp_path: Path) -> None:
    unsafe = HANDLER.replace("time.time()", "time.monotonic()")
    proc = idemlint("check", "--fix", "-", cwd=tmp_path, stdin=unsafe.encode())
    assert proc.returncode == 1
    assert proc.stdout == unsafe.encode()  # nothing safe to fix: the input, unchanged
    assert proc.stderr.decode().startswith("-:10:12: IDL101 ")
    broken = b"import restate\nx = (\n"
    proc = idemlint("check", "--fix", "-", cwd=tmp_path, stdin=broken)
    assert (proc.returncode, proc.stdout) == (1, broken)
    assert "-:2:5: IDL001 syntax error" in proc.stderr.decode()


def test_stdin_statistics(tmp_path: Path) -> None:
    proc = idemlint("check", "--statistics", "--output-format", "json", "-", cwd=tmp_path,
                    stdin=HANDLER.encode())
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == [
        {"code": "IDL101", "name": "non-journaled-clock", "count": 1, "fixable": True}]


def test_stdin_full_format_frames_the_text_read(write: Callable[..., Path], tmp_path: Path) -> None:
    write("svc.py", "# the file on disk is older than the editor's buffer\n")
    proc = idemlint("check", "--output-format", "full", "-", "--stdin-filename", "svc.py",
                    cwd=tmp_path, stdin=HANDLER.encode())
    assert proc.returncode == 1
    assert "10 |     return time.time()" in proc.stdout.decode()
    assert "older" not in proc.stdout.decode()


def test_stdin_diff_and_force_exclude(write: Callable[..., Path], tmp_path: Path) -> None:
    proc = idemlint("check", "--diff", "-", "--stdin-filename", "svc.py", cwd=tmp_path,
                    stdin=HANDLER.encode())
    assert proc.returncode == 1
    assert proc.stdout.decode().splitlines()[:2] == ["--- svc.py", "+++ svc.py"]
    assert "+    return await ctx.time()" in proc.stdout.decode()
    write("pyproject.toml", "[tool.idemlint]\nextend-exclude = ['generated']\n")
    excluded = idemlint("check", "--fix", "--force-exclude", "-", "--stdin-filename",
                        "generated/svc.py", cwd=tmp_path, stdin=HANDLER.encode())
    assert (excluded.returncode, excluded.stdout) == (0, HANDLER.encode())


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("-", "svc.py"), "`-` (read from stdin) cannot be combined with other paths"),
        (("--stdin-filename", "a.py", "svc.py"), "--stdin-filename needs `-`"),
        (("--add-noqa", "-"), "--add-noqa cannot be used when reading from stdin"),
        (("--watch", "-"), "--watch cannot be used when reading from stdin"),
    ],
)
def test_stdin_usage_errors(args: tuple[str, ...], needle: str, write: Callable[..., Path],
                            tmp_path: Path, cli: Callable[..., Run]) -> None:
    write("svc.py", HANDLER)
    run = cli("check", *args, cwd=tmp_path)
    assert run.code == 2 and run.err == f"idemlint: error: {needle}" + run.err.split(needle)[1]


# -- ignore files ---------------------------------------------------------------------------------
def _paths(proc: subprocess.CompletedProcess[bytes]) -> list[str]:
    assert proc.returncode in (0, 1), proc.stderr
    return [f["path"] for f in json.loads(proc.stdout)]


def test_gitignore_nested_negation_and_dot_ignore(write: Callable[..., Path], tmp_path: Path) -> None:
    for name in ("app/svc.py", "gen/out.py", "app/gen_a.py", "app/keep_gen.py", "logs/x.py",
                 "app/deep/local.py", "app/deep/kept.py", "scratch/s.py", "top.py"):
        write(name, HANDLER)
    write(".gitignore", "gen/\n/logs\napp/gen_*.py\n")
    write("app/.gitignore", "deep/*.py\n!deep/kept.py\n")
    write(".ignore", "scratch/\n")
    env = {"XDG_CONFIG_HOME": str(tmp_path / "nowhere"), "HOME": str(tmp_path / "nowhere")}
    found = _paths(idemlint("check", "--output-format", "json", ".", cwd=tmp_path, env=env))
    assert found == ["app/deep/kept.py", "app/keep_gen.py", "app/svc.py", "top.py"]
    everything = _paths(idemlint("check", "--output-format", "json", "--no-respect-gitignore",
                                 ".", cwd=tmp_path, env=env))
    assert len(everything) == 9
    # a subdirectory walk still honours the ignore files above it
    assert _paths(idemlint("check", "--output-format", "json", "app", cwd=tmp_path,
                           env=env)) == ["app/deep/kept.py", "app/keep_gen.py", "app/svc.py"]
    # a file named on the command line is always checked
    assert _paths(idemlint("check", "--output-format", "json", "gen/out.py", cwd=tmp_path,
                           env=env)) == ["gen/out.py"]
    write("pyproject.toml", "[tool.idemlint]\nrespect-gitignore = false\n")
    assert len(_paths(idemlint("check", "--output-format", "json", ".", cwd=tmp_path,
                               env=env))) == 9
    assert len(_paths(idemlint("check", "--output-format", "json", "--respect-gitignore", ".",
                               cwd=tmp_path, env=env))) == 4


def test_git_info_exclude_and_global_excludes(write: Callable[..., Path], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for name in ("a.py", "local_only.py", "global_xdg.py", "global_cfg.py", "sub/b.py"):
        write(f"repo/{name}", HANDLER)
    write("repo/.git/info/exclude", "local_only.py\n")
    home = tmp_path / "home"
    write("home/.config/git/ignore", "global_xdg.py\n")
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    found = _paths(idemlint("check", "--output-format", "json", ".", cwd=repo, env=env))
    assert found == ["a.py", "global_cfg.py", "sub/b.py"]
    # core.excludesFile replaces the XDG default
    write("home/.gitconfig", '[user]\n  name = x\n[core]\n\texcludesFile = "~/my-ignores"\n')
    write("home/my-ignores", "global_cfg.py\n")
    found = _paths(idemlint("check", "--output-format", "json", ".", cwd=repo, env=env))
    assert found == ["a.py", "global_xdg.py", "sub/b.py"]


def test_exclusion_walk_uses_no_fnmatch_per_entry(
    write: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fnmatch

    from idemlint.config import Settings
    from idemlint.discovery import discover

    for i in range(30):
        write(f"pkg{i % 3}/sub{i % 5}/m{i}.py", "x = 1\n")
    write("pkg0/build/skip.py", "x = 1\n")
    write("pkg1/generated/deep/skip.py", "x = 1\n")
    calls = 0
    real = fnmatch.fnmatch

    def counting(name: str, pattern: str) -> bool:
        nonlocal calls
        calls += 1
        return real(name, pattern)

    monkeypatch.setattr(fnmatch, "fnmatch", counting)
    settings = Settings(root=tmp_path, extend_exclude=("pkg1/generated",))
    found = sorted(t.path.relative_to(tmp_path).as_posix() for t in discover([tmp_path], settings))
    assert len(found) == 30 and not any("skip" in f for f in found)
    assert calls == 0


@pytest.mark.parametrize(
    "relative",
    ["build", "a/build/x.py", "a/b.py", "generated/x.py", "x/generated/y.py", "venv",
     "docs/_build/z.py", "node_modules", "a/node_modules/b", "tests/data/big.py"],
)
def test_compiled_excludes_agree_with_the_settings(relative: str, tmp_path: Path) -> None:
    from pathlib import PurePosixPath

    from idemlint.config import DEFAULT_EXCLUDE, _matches
    from idemlint.discovery import Excluder

    patterns = (*DEFAULT_EXCLUDE, "generated/*", "tests/data/")
    expected = _matches(PurePosixPath(relative), relative.rsplit("/", 1)[-1], patterns)
    assert Excluder(patterns).path(relative) == expected


# -- --show-settings / --show-files ---------------------------------------------------------------
def test_show_files(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    write("app/b.py", HANDLER)
    write("app/a.py", "x = 1\n")
    write("app/notes.txt", "x")
    write("build/c.py", HANDLER)
    run = cli("check", "--show-files", ".", cwd=tmp_path)
    assert (run.code, run.out, run.err) == (0, "app/a.py\napp/b.py\n", "")
    run = cli("check", "--show-files", "--output-format", "json", "app", cwd=tmp_path)
    assert run.json() == ["app/a.py", "app/b.py"]


def test_show_settings(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    write("tests/test_a.py", HANDLER)
    write("pyproject.toml", """\
        [tool.idemlint]
        select = ["IDL1"]
        ignore = ["IDL107"]
        max-file-size = "2MB"

        [tool.idemlint.per-file-ignores]
        "tests/*" = ["IDL101", "IDL102"]

        [tool.idemlint.nondeterministic]
        "mycorp.now" = { code = "IDL101", async = true }
    """)
    run = cli("check", "--show-settings", "tests", cwd=tmp_path)
    assert run.code == 0
    lines = run.out.splitlines()
    assert lines[:2] == ["# Resolved settings for: tests/test_a.py",
                         f"# Configuration file: {tmp_path / 'pyproject.toml'}"]
    assert 'select = ["IDL1"]' in lines and 'ignore = ["IDL107"]' in lines
    assert "max-file-size = 2000000" in lines and "respect-gitignore = true" in lines
    assert 'enabled = ["IDL001", "IDL103", "IDL104", "IDL105", "IDL106", "IDL108", "IDL109"]' in lines
    assert lines[-5:] == ["[per-file-ignores]", '"tests/*" = ["IDL101", "IDL102"]', "",
                          "[nondeterministic]", '"mycorp.now" = { code = "IDL101", async = true }']
    document = cli("check", "--show-settings", "--output-format", "json",
                   "--extend-select", "IDL504", "tests/test_a.py", cwd=tmp_path).json()
    assert document["path"] == "tests/test_a.py"
    assert document["configuration"] == str(tmp_path / "pyproject.toml")
    assert document["settings"]["select"] == ["IDL1"]
    assert document["settings"]["extend-select"] == ["IDL504"]
    assert document["settings"]["per-file-ignores"] == {"tests/*": ["IDL101", "IDL102"]}
    assert document["enabled"] == [
        "IDL001", "IDL103", "IDL104", "IDL105", "IDL106", "IDL108", "IDL109", "IDL504"]
    assert document["excluded"] is False


# -- colour ---------------------------------------------------------------------------------------
COLOURED = (f"\x1b[1msvc.py\x1b[0m\x1b[36m:\x1b[0m10\x1b[36m:\x1b[0m12\x1b[36m:\x1b[0m "
            f"\x1b[1;31mIDL101\x1b[0m \x1b[36m[*]\x1b[0m {MESSAGE}\n")
PLAIN = f"svc.py:10:12: IDL101 [*] {MESSAGE}\n"


def test_force_color_and_no_color(write: Callable[..., Path], tmp_path: Path) -> None:
    write("svc.py", HANDLER)
    assert idemlint("check", "svc.py", cwd=tmp_path).stdout.decode() == PLAIN
    forced = idemlint("check", "svc.py", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert forced.stdout.decode() == COLOURED
    both = idemlint("check", "svc.py", cwd=tmp_path, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert both.stdout.decode() == PLAIN
    json_out = idemlint("check", "--output-format", "json", "svc.py", cwd=tmp_path,
                        env={"FORCE_COLOR": "1"})
    assert b"\x1b" not in json_out.stdout
    to_file = idemlint("check", "-o", "out.txt", "svc.py", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert to_file.returncode == 1 and (tmp_path / "out.txt").read_text() == PLAIN


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize(("no_color", "expected"), [(None, COLOURED), ("1", PLAIN)])
def test_terminal_is_coloured_unless_no_color(
    no_color: str | None, expected: str, write: Callable[..., Path], tmp_path: Path
) -> None:
    import pty

    write("svc.py", HANDLER)
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = "xterm"
    if no_color is not None:
        env["NO_COLOR"] = no_color
    proc = subprocess.Popen([sys.executable, "-m", "idemlint", "check", "svc.py"], cwd=tmp_path,
                            stdout=terminal, stderr=subprocess.DEVNULL, env=env)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert proc.wait(timeout=60) == 1
    assert b"".join(chunks).decode().replace("\r\n", "\n") == expected


# -- the full format shows the detail -------------------------------------------------------------
def test_text_shows_the_message_full_adds_the_detail(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from idemlint.engine import Linter

    real = Linter._lint

    def with_detail(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        findings, context = real(self, *args, **kwargs)
        out: list[Finding] = []
        for finding in findings:
            finding.detail = "On replay the handler reads a new time.\n\nUse the journal."
            out.append(finding)
        return out, context

    monkeypatch.setattr(Linter, "_lint", with_detail)
    write("svc.py", HANDLER)
    text = cli("check", "svc.py", cwd=tmp_path).out
    assert text == PLAIN
    full = cli("check", "--output-format", "full", "svc.py", cwd=tmp_path).out
    assert full.splitlines()[:8] == [
        PLAIN.rstrip("\n"),
        "  On replay the handler reads a new time.",
        "",
        "  Use the journal.",
        "   |",
        " 9 | async def now(ctx: restate.Context) -> float:",
        "10 |     return time.time()",
        "   |            ^^^^^^^^^^^ IDL101",
    ]
    assert "  = help: Replace with `await ctx.time()`" in full
    assert json.loads(cli("check", "--output-format", "json", "svc.py", cwd=tmp_path).out)[0][
        "message"] == MESSAGE
