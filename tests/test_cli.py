"""The command line: contract (JSON, exit codes), fix modes, selection, configuration."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import HANDLER, Run, run_subprocess

JSON_KEYS = {"code", "message", "path", "line", "column", "end_line", "end_column", "severity",
             "url", "fix"}

TWO_FINDINGS = """\
import time
import uuid

import restate

svc = restate.Service("Clock")


@svc.handler()
async def now(ctx: restate.Context) -> str:
    stamp = time.time()
    return f"{stamp}-{uuid.uuid4()}"
"""


def test_json_contract(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    write("app/svc.py", HANDLER)
    run = cli("check", "--output-format", "json", "app", cwd=tmp_path)
    assert run.code == 1
    (finding,) = run.json()
    assert set(finding) == JSON_KEYS
    assert finding["path"] == "app/svc.py"  # relative stays relative
    assert (finding["line"], finding["column"], finding["end_line"], finding["end_column"]) == (
        10, 12, 10, 23)
    assert finding["code"] == "IDL101"
    assert finding["severity"] == "error"
    assert finding["url"].endswith("/IDL101/")
    assert finding["fix"] == {
        "applicability": "safe",
        "message": "Replace with `await ctx.time()`",
        "edits": [{"content": "await ctx.time()", "location": {"line": 10, "column": 12},
                   "end_location": {"line": 10, "column": 23}}],
    }


def test_clean_run_exits_zero_and_prints_empty_json_array(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("ok.py", "import restate\n\nsvc = restate.Service('S')\n")
    run = cli("check", "--output-format", "json", str(tmp_path))
    assert (run.code, json.loads(run.out)) == (0, [])


def test_text_format_and_summary(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    write("svc.py", TWO_FINDINGS)
    run = cli("check", "svc.py", cwd=tmp_path)
    assert run.code == 1
    lines = run.out.splitlines()
    assert lines[0].startswith("svc.py:11:13: IDL101 [*] `time.time()` reads the wall clock")
    assert lines[1].startswith("svc.py:12:23: IDL103 [*] `uuid.uuid4()`")
    assert "Found 2 errors." in run.err
    assert "[*] 2 fixable with the `--fix` option." in run.err


def test_exit_zero_and_quiet(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    write("svc.py", HANDLER)
    run = cli("check", "--exit-zero", "--quiet", str(tmp_path))
    assert run.code == 0 and run.out and not run.err


def test_missing_path_is_usage_error(tmp_path: Path, cli: Callable[..., Run]) -> None:
    run = cli("check", str(tmp_path / "nope"))
    assert run.code == 2 and "no such file" in run.err


def test_select_ignore_prefixes(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    write("svc.py", TWO_FINDINGS)

    def codes(*args: str) -> list[str]:
        return [f["code"] for f in cli("check", "--output-format", "json", *args, str(tmp_path)).json()]

    assert codes() == ["IDL101", "IDL103"]
    assert codes("--select", "IDL103") == ["IDL103"]
    assert codes("--select", "IDL10") == ["IDL101", "IDL103"]
    assert codes("--ignore", "IDL101") == ["IDL103"]
    assert codes("--select", "IDL1", "--ignore", "IDL103") == ["IDL101"]
    assert codes("--select", "IDL2") == []
    bad = cli("check", "--select", "E501", str(tmp_path))
    assert bad.code == 2 and "E501" in bad.err


def test_fix_writes_and_reports(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    path = write("svc.py", TWO_FINDINGS)
    run = cli("check", "--fix", "--show-fixes", str(path))
    assert run.code == 0, run.err
    text = path.read_text()
    assert "stamp = await ctx.time()" in text and "{ctx.uuid()}" in text
    assert "2 fixed, 0 remaining" in run.err
    assert "IDL101 (non-journaled-clock)" in run.err
    again = cli("check", str(path))
    assert again.code == 0


def test_unsafe_fixes_are_opt_in(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    code = HANDLER.replace("time.time()", "time.monotonic()")
    path = write("svc.py", code)
    run = cli("check", str(path))
    assert "[*]" not in run.out
    assert "1 hidden fix can be enabled with the `--unsafe-fixes` option" in run.err
    assert cli("check", "--fix", str(path)).code == 1
    assert path.read_text() == code
    assert cli("check", "--fix", "--unsafe-fixes", str(path)).code == 0
    assert "return await ctx.time()" in path.read_text()


def test_diff_prints_and_writes_nothing(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    path = write("svc.py", HANDLER)
    run = cli("check", "--diff", str(path))
    assert run.code == 1
    assert "-    return time.time()" in run.out and "+    return await ctx.time()" in run.out
    assert path.read_text() == HANDLER
    path.write_text(HANDLER.replace("time.time()", "await ctx.time()"))
    assert cli("check", "--diff", str(path)).code == 0


def test_exit_non_zero_on_fix(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    path = write("svc.py", HANDLER)
    assert cli("check", "--fix", "--exit-non-zero-on-fix", str(path)).code == 1
    assert cli("check", "--fix", "--exit-non-zero-on-fix", str(path)).code == 0


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("crlf.py", lambda text: text.replace("\n", "\r\n").encode()),
        ("bom.py", lambda text: codecs.BOM_UTF8 + text.encode()),
        ("latin1.py", lambda text: ("# -*- coding: latin-1 -*-\n" + text + "# caf\xe9\n").encode("latin-1")),
    ],
)
def test_fix_keeps_newlines_bom_and_encoding(
    name: str, encode: Callable[[str], bytes], write: Callable[..., Path], cli: Callable[..., Run]
) -> None:
    path = write(name, encode(HANDLER))
    assert cli("check", "--fix", str(path)).code == 0
    assert path.read_bytes() == encode(HANDLER.replace("time.time()", "await ctx.time()"))


def test_fix_keeps_file_mode(write: Callable[..., Path], cli: Callable[..., Run]) -> None:
    path = write("svc.py", HANDLER)
    path.chmod(0o755)
    cli("check", "--fix", str(path))
    assert path.stat().st_mode & 0o777 == 0o755


def test_statistics(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    write("a.py", TWO_FINDINGS)
    write("b.py", HANDLER)
    run = cli("check", "--statistics", "--quiet", str(tmp_path))
    assert "2\tIDL101\t[*] non-journaled-clock" in run.out
    assert "1\tIDL103\t[*] non-journaled-uuid" in run.out


def test_github_format(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    write("svc.py", HANDLER)
    run = cli("check", "--output-format", "github", "svc.py", cwd=tmp_path)
    assert run.out.startswith(
        "::error title=idemlint (IDL101),file=svc.py,line=10,col=12,endLine=10,endColumn=23::"
        "svc.py:10:12: IDL101 "
    )


def test_full_format_shows_frame_and_diff(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("svc.py", HANDLER)
    out = cli("check", "--output-format", "full", "svc.py", cwd=tmp_path).out
    assert "10 |     return time.time()" in out
    assert "^^^^^^^^^^^ IDL101" in out
    assert "= help: Replace with `await ctx.time()`" in out
    assert "+    return await ctx.time()" in out


def test_sarif_format_shape(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    write("svc.py", HANDLER)
    document = cli("check", "--output-format", "sarif", "svc.py", cwd=tmp_path).json()
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    (result,) = run["results"]
    assert result["ruleId"] == "IDL101"
    rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["id"] == "IDL101" and rule["helpUri"].endswith("/IDL101/")
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 10, "startColumn": 12, "endLine": 10, "endColumn": 23}
    assert result["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"] == {
        "text": "await ctx.time()"}


# -- configuration ------------------------------------------------------------------------------
def test_config_unknown_key_names_file_and_key(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("svc.py", HANDLER)
    write("pyproject.toml", "[tool.idemlint]\nselct = ['IDL1']\n")
    run = cli("check", str(tmp_path))
    assert run.code == 2
    assert "pyproject.toml" in run.err and "'selct'" in run.err and "did you mean 'select'" in run.err


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("select = 'IDL1'", "select: expected a list of strings"),
        ("select = ['XYZ1']", "unknown rule selector"),
        ("redundant-key-policy = 'sometimes'", "redundant-key-policy: expected one of"),
        ("max-file-size = 'huge'", "max-file-size"),
        ("[tool.idemlint.nondeterministic]\n'mycorp.now' = 'IDL999'", "must be one of"),
        ("[tool.idemlint.nondeterministic]\n'my corp' = 'IDL101'", "not a qualified-name pattern"),
        ("select = [", "invalid TOML"),
    ],
)
def test_config_bad_values(
    toml: str, needle: str, write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("svc.py", HANDLER)
    body = toml if toml.startswith("[tool") else f"[tool.idemlint]\n{toml}\n"
    write("pyproject.toml", body)
    run = cli("check", str(tmp_path))
    assert run.code == 2 and needle in run.err, run.err


def test_config_select_and_per_file_ignores(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("src/svc.py", TWO_FINDINGS)
    write("tests/test_svc.py", TWO_FINDINGS)
    write("pyproject.toml", """\
        [tool.idemlint]
        select = ["IDL1"]
        ignore = ["IDL103"]

        [tool.idemlint.per-file-ignores]
        "tests/*" = ["IDL1"]
    """)
    findings = cli("check", "--output-format", "json", ".", cwd=tmp_path).json()
    assert [(f["path"], f["code"]) for f in findings] == [("src/svc.py", "IDL101")]


def test_idemlint_toml_and_explicit_config(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("svc.py", TWO_FINDINGS)
    write("idemlint.toml", "select = ['IDL103']\n")
    write("other.toml", "[tool.idemlint]\nselect = ['IDL101']\n")
    assert [f["code"] for f in cli("check", "--output-format", "json", ".", cwd=tmp_path).json()] == [
        "IDL103"]
    assert [f["code"] for f in cli("check", "--output-format", "json", "--config", "other.toml", ".",
                                   cwd=tmp_path).json()] == ["IDL101"]
    assert len(cli("check", "--output-format", "json", "--isolated", ".", cwd=tmp_path).json()) == 2


def test_exclude_and_default_excludes(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write(".venv/lib/svc.py", HANDLER)
    write("build/svc.py", HANDLER)
    write("generated/svc.py", HANDLER)
    write("app/svc.py", HANDLER)
    write("pyproject.toml", "[tool.idemlint]\nextend-exclude = ['generated']\n")
    findings = cli("check", "--output-format", "json", ".", cwd=tmp_path).json()
    assert [f["path"] for f in findings] == ["app/svc.py"]
    explicit = cli("check", "--output-format", "json", "generated/svc.py", cwd=tmp_path).json()
    assert [f["path"] for f in explicit] == ["generated/svc.py"]


def test_user_catalogue_extension_and_deterministic(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("svc.py", """\
        import time

        import restate
        from mycorp.clock import now

        svc = restate.Service("S")


        @svc.handler()
        async def h(ctx: restate.Context) -> float:
            return now() + time.time()
    """)
    write("pyproject.toml", """\
        [tool.idemlint]
        deterministic = ["time.time"]

        [tool.idemlint.nondeterministic]
        "mycorp.clock.now" = "IDL101"
    """)
    findings = cli("check", "--output-format", "json", ".", cwd=tmp_path).json()
    assert [(f["code"], f["column"]) for f in findings] == [("IDL101", 12)]
    assert "`now()` (`mycorp.clock.now`)" in findings[0]["message"]


# -- suppressions --------------------------------------------------------------------------------
def test_noqa_forms(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    write("svc.py", """\
        import time
        import uuid

        import restate

        svc = restate.Service("S")


        @svc.handler()
        async def h(ctx: restate.Context) -> str:
            a = time.time()  # noqa: IDL101
            b = uuid.uuid4()  # noqa
            c = time.time()  # noqa: IDL103
            d = "# noqa: IDL101"; e = time.time()
            f = str(
                uuid.uuid4()
            )  # noqa: IDL103
            return f"{a}{b}{c}{d}{e}{f}"
    """)
    findings = cli("check", "--output-format", "json", ".", cwd=tmp_path).json()
    assert [(f["code"], f["line"]) for f in findings] == [
        ("IDL101", 13), ("IDL002", 13), ("IDL101", 14)]


def test_multiline_statement_first_line_noqa(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("svc.py", """\
        import time

        import restate

        svc = restate.Service("S")


        @svc.handler()
        async def h(ctx: restate.Context) -> dict:
            return {  # noqa: IDL101
                "at": time.time(),
            }
    """)
    assert cli("check", ".", cwd=tmp_path).code == 0


def test_file_level_noqa(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    write("a.py", "# idemlint: noqa\n" + TWO_FINDINGS)
    write("b.py", "# idemlint: noqa: IDL101\n" + TWO_FINDINGS)
    findings = cli("check", "--output-format", "json", ".", cwd=tmp_path).json()
    assert [(f["path"], f["code"]) for f in findings] == [("b.py", "IDL103")]


def test_unused_noqa_fix(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    path = write("svc.py", HANDLER.replace("return time.time()", "return 1.0  # noqa: IDL101"))
    run = cli("check", "--fix", str(path))
    assert run.code == 0
    assert "return 1.0\n" in path.read_text()


# -- entry points --------------------------------------------------------------------------------
def test_python_dash_m_and_relative_paths(write: Callable[..., Path], tmp_path: Path) -> None:
    write("pkg/svc.py", HANDLER)
    run = run_subprocess("check", "--output-format", "json", "pkg", cwd=tmp_path)
    assert run.code == 1, run.err
    assert [f["path"] for f in run.json()] == ["pkg/svc.py"]


def test_parallel_run_matches_serial(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    body = TWO_FINDINGS + "\n" + "\n".join(f"x{i} = {i}" for i in range(3000)) + "\n"
    for i in range(12):
        write(f"m{i}.py", body)
    serial = cli("check", "--output-format", "json", "-j", "1", str(tmp_path)).json()
    parallel = cli("check", "--output-format", "json", "-j", "2", str(tmp_path)).json()
    assert serial == parallel and len(serial) == 24


def test_add_noqa_on_the_bundled_example(tmp_path: Path, cli: Callable[..., Run]) -> None:
    import shutil

    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "examples" / "shop", tmp_path / "examples" / "shop")
    first = cli("check", "--add-noqa", "examples", cwd=tmp_path)
    assert first.code == 0 and "Added 15 noqa directives." in first.err
    snapshot = {p: p.read_bytes() for p in (tmp_path / "examples").rglob("*.py")}
    assert cli("check", "examples", cwd=tmp_path).code == 0
    second = cli("check", "--add-noqa", "examples", cwd=tmp_path)
    assert second.code == 0 and "Added 0 noqa directives." in second.err
    assert snapshot == {p: p.read_bytes() for p in (tmp_path / "examples").rglob("*.py")}


def test_add_noqa_refuses_fix(tmp_path: Path, cli: Callable[..., Run]) -> None:
    assert cli("check", "--add-noqa", "--fix", str(tmp_path)).code == 2
