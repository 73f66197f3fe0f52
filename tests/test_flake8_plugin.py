"""The flake8 plugin, run by the real flake8 in a subprocess and compared to `idemlint check`."""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("flake8")

from idemlint import flake8_plugin
from idemlint.flake8_plugin import Flake8Checker

from .conftest import run_subprocess

FIXTURES = Path(__file__).parent / "fixtures" / "frontends"
FORMAT = "%(path)s|%(row)d|%(col)d|%(code)s|%(text)s"
Row = tuple[str, int, int, str, str]


def flake8(*args: str, cwd: Path = FIXTURES) -> tuple[int, list[Row], str]:
    """Run flake8 (config files ignored) and parse its findings."""
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", f"--format={FORMAT}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    rows: list[Row] = []
    for line in proc.stdout.splitlines():
        path, row, col, code, text = line.split("|", 4)
        rows.append((Path(path).as_posix().removeprefix("./"), int(row), int(col), code, text))
    return proc.returncode, sorted(rows), proc.stderr


def idemlint_check(*args: str, cwd: Path = FIXTURES) -> list[Row]:
    run = run_subprocess("check", "--output-format", "json", *args, cwd=cwd)
    assert run.code in (0, 1), run.err
    return sorted(
        (f["path"], f["line"], f["column"], f["code"], f["message"]) for f in json.loads(run.out)
    )


def test_plugin_is_registered() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True, timeout=60
    )
    assert "idemlint:" in proc.stdout


def test_same_findings_as_idemlint_check() -> None:
    code, rows, err = flake8("--select", "IDL", "shop")
    assert code == 1, err
    expected = idemlint_check("shop")
    assert rows == expected
    assert len(rows) >= 12
    # The catalogue extension in the fixture's [tool.idemlint] applies under flake8 too.
    assert any(r[3] == "IDL101" and "shop.clock.wall_time" in r[4] for r in rows)
    # Columns are characters (the line has an emoji before the call), like `idemlint check`.
    line = (FIXTURES / "shop" / "signup.py").read_text(encoding="utf-8").splitlines()[17]
    emoji_row = next(r for r in rows if r[0] == "shop/signup.py" and r[1] == 18)
    assert emoji_row[2] == line.index("time.monotonic()") + 1


def test_same_findings_file_by_file() -> None:
    for path in sorted((FIXTURES / "shop").glob("*.py")):
        relative = path.relative_to(FIXTURES).as_posix()
        _, rows, err = flake8("--select", "IDL", relative)
        assert rows == idemlint_check(relative), (relative, err)


def test_noqa_is_left_to_flake8() -> None:
    _, honoured, _ = flake8("--select", "IDL", "shop/checkout.py")
    _, everything, _ = flake8("--select", "IDL", "--disable-noqa", "shop/checkout.py")
    extra = sorted(set(everything) - set(honoured))
    # The two findings the fixture silences with noqa comments (IDL103 and IDL101).
    assert [(r[1], r[3]) for r in extra] == [(28, "IDL103"), (47, "IDL101")]


def test_select_and_ignore_are_left_to_flake8() -> None:
    _, all_rows, _ = flake8("--select", "IDL", "shop")
    _, only_sleep, _ = flake8("--select", "IDL107", "shop")
    assert only_sleep == [r for r in all_rows if r[3] == "IDL107"] != []
    _, without_clock, _ = flake8("--select", "IDL", "--extend-ignore", "IDL101", "shop")
    assert without_clock == [r for r in all_rows if r[3] != "IDL101"]
    _, per_file, _ = flake8("--select", "IDL", "--per-file-ignores", "shop/signup.py:IDL", "shop")
    assert per_file == [r for r in all_rows if r[0] != "shop/signup.py"]


def test_unused_noqa_is_never_reported(tmp_path: Path) -> None:
    source = textwrap.dedent("""\
        import restate

        svc = restate.Service("Quiet")


        @svc.handler()
        async def ping(ctx: restate.Context) -> str:
            return "pong"  # noqa: IDL104
    """)
    (tmp_path / "quiet.py").write_text(source, encoding="utf-8")
    assert [r[3] for r in idemlint_check("quiet.py", cwd=tmp_path)] == ["IDL002"]
    code, rows, err = flake8("--select", "IDL", "quiet.py", cwd=tmp_path)
    assert (code, rows) == (0, []), err


def test_broken_configuration_is_reported(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.idemlint]\nignore = ["NOPE"]\n')
    (tmp_path / "svc.py").write_text("import restate\n")
    code, rows, err = flake8("--select", "IDL", "svc.py", cwd=tmp_path)
    assert code == 1, err
    assert [(r[1], r[3]) for r in rows] == [(1, "IDL001")]
    assert "invalid idemlint configuration" in rows[0][4] and "NOPE" in rows[0][4]


def test_uses_the_tree_flake8_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    path = FIXTURES / "shop" / "signup.py"
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    flake8_plugin.clear_cache()

    def no_second_parse(*args: object, **kwargs: object) -> ast.Module:
        raise AssertionError("the plugin parsed the file again")

    monkeypatch.setattr(ast, "parse", no_second_parse)
    checker = Flake8Checker(tree, str(path), text.splitlines(keepends=True))
    results = list(checker.run())
    assert {message.split()[0] for _, _, message, _ in results} >= {"IDL102", "IDL107"}
    assert all(kind is Flake8Checker for *_, kind in results)
    assert all(col >= 0 for _, col, _, _ in results)


def test_fixtures_are_real_restate_services() -> None:
    restate = pytest.importorskip("restate")
    sys.path.insert(0, str(FIXTURES))
    try:
        modules = [
            importlib.import_module(f"shop.{name}")
            for name in ("services", "checkout", "accounts", "signup")
        ]
        services = [
            value
            for module in modules
            for value in vars(module).values()
            if isinstance(value, (restate.Service, restate.VirtualObject, restate.Workflow))
        ]
        assert len({id(s) for s in services}) == 3
        restate.app(services=list({id(s): s for s in services}.values()))
    finally:
        sys.path.remove(str(FIXTURES))
        for name in [m for m in sys.modules if m == "shop" or m.startswith("shop.")]:
            del sys.modules[name]
