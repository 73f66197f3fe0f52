"""Bad input never crashes a run and never loses data: each case is an IDL001 and the run goes on."""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import HANDLER, Run

BAD_CASES: dict[str, bytes] = {
    "syntax.py": b"import restate\n\ndef broken(:\n    pass\n",
    "indent.py": b"import restate\nif True:\nprint('x')\n",
    "undecodable.py": b"import restate\nname = '\xff\xfe\xfa'\n",
    "binary.py": b"\x7fELF\x02\x01\x01\x00\x00restate\x00\x00",
    "bad_cookie.py": b"# -*- coding: no-such-codec -*-\nimport restate\n",
    "latin1_without_cookie.py": b"import restate\nx = '\xe9t\xe9'\n",
    "deep.py": b"import restate\nx = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n",
    "deep_lists.py": b"import restate\nx = " + b"[" * 300 + b"]" * 300 + b"\n",
}


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_file_is_idl001_and_run_goes_on(
    name: str, write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write(name, BAD_CASES[name])
    write("good.py", HANDLER)
    run = cli("check", "--output-format", "json", str(tmp_path))
    assert run.code == 1
    findings = run.json()
    bad = [f for f in findings if f["path"].endswith(name)]
    good = [f for f in findings if f["path"].endswith("good.py")]
    assert [f["code"] for f in bad] == ["IDL001"], findings
    assert bad[0]["message"]
    assert [f["code"] for f in good] == ["IDL101"]


def test_messages_say_why(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    for name, data in BAD_CASES.items():
        write(name, data)
    findings = {f["path"].rsplit("/", 1)[-1]: f for f in cli(
        "check", "--output-format", "json", str(tmp_path)).json()}
    assert "syntax error" in findings["syntax.py"]["message"]
    assert findings["syntax.py"]["line"] == 3
    assert "binary" in findings["binary.py"]["message"]
    assert "decode" in findings["undecodable.py"]["message"]
    assert findings["undecodable.py"]["line"] == 2
    assert "no-such-codec" in findings["bad_cookie.py"]["message"]
    assert "nested" in findings["deep.py"]["message"] or "syntax" in findings["deep.py"]["message"]


def test_empty_and_whitespace_files_are_clean(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("empty.py", b"")
    write("blank.py", b"\n\n   \n")
    write("only_comment.py", b"# restate\n")
    run = cli("check", str(tmp_path))
    assert run.code == 0, run.out + run.err


def test_bom_and_cookie_files_are_analysed(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("bom.py", codecs.BOM_UTF8 + HANDLER.encode())
    latin = b"# -*- coding: latin-1 -*-\n" + HANDLER.encode() + b"# caf\xe9\n"
    write("latin.py", latin)
    findings = cli("check", "--output-format", "json", str(tmp_path)).json()
    assert sorted((f["path"].rsplit("/", 1)[-1], f["code"], f["line"]) for f in findings) == [
        ("bom.py", "IDL101", 10),
        ("latin.py", "IDL101", 11),
    ]


def test_file_over_the_size_limit(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    big = HANDLER + "x = 1\n" * 200_000
    write("big.py", big)
    write("pyproject.toml", '[tool.idemlint]\nmax-file-size = "1MB"\n')
    findings = cli("check", "--output-format", "json", str(tmp_path)).json()
    assert [f["code"] for f in findings] == ["IDL001"]
    assert "too large" in findings[0]["message"]


def test_large_file_within_the_limit_is_analysed(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("big.py", HANDLER + "x = 1\n" * 100_000)
    findings = cli("check", "--output-format", "json", str(tmp_path)).json()
    assert [f["code"] for f in findings] == ["IDL101"]


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True,
                    reason="root can read any file")
def test_unreadable_file(write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]) -> None:
    path = write("secret.py", HANDLER)
    path.chmod(0)
    try:
        findings = cli("check", "--output-format", "json", str(tmp_path)).json()
    finally:
        path.chmod(0o644)
    assert [f["code"] for f in findings] == ["IDL001"]
    assert "cannot read" in findings[0]["message"]


def test_directory_named_like_a_python_file_and_fifo(
    tmp_path: Path, write: Callable[..., Path], cli: Callable[..., Run]
) -> None:
    (tmp_path / "pkg.py").mkdir()
    write("pkg.py/inner.py", HANDLER)
    run = cli("check", "--output-format", "json", str(tmp_path))
    assert [f["code"] for f in run.json()] == ["IDL101"]


def test_symlink_loops_do_not_hang(tmp_path: Path, write: Callable[..., Path], cli: Callable[..., Run]) -> None:
    write("pkg/good.py", HANDLER)
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path / "pkg", target_is_directory=True)
    (tmp_path / "a.py").symlink_to(tmp_path / "b.py")
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")
    run = cli("check", "--output-format", "json", str(tmp_path))
    codes = sorted(f["code"] for f in run.json())
    assert codes == ["IDL001", "IDL001", "IDL101"], run.out
    assert run.code == 1


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 syntax parses on 3.12+")
def test_newer_syntax_on_older_python_is_idl001(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("generic.py", "import restate\n\ndef first[T](xs: list[T]) -> T:\n    return xs[0]\n")
    findings = cli("check", "--output-format", "json", str(tmp_path)).json()
    assert [f["code"] for f in findings] == ["IDL001"]
    assert f"Python {sys.version_info.major}.{sys.version_info.minor}" in findings[0]["message"]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="needs Python 3.12+")
def test_newer_syntax_parses_on_newer_python(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write("generic.py", "import restate\n\ndef first[T](xs: list[T]) -> T:\n    return xs[0]\n")
    assert cli("check", str(tmp_path)).code == 0


def test_fix_never_writes_broken_code(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fix whose result would not parse is refused; the file stays byte-identical."""
    from idemlint.checks.nondeterminism import _shared as replacements
    from idemlint.diagnostics import Fix

    def broken(module, kc):  # type: ignore[no-untyped-def]
        return Fix("safe", "break it", lambda fx: [fx.replace(kc.node, "await (")])

    monkeypatch.setitem(replacements.STRATEGIES, "ctx-time", broken)
    path = write("svc.py", HANDLER)
    before = path.read_bytes()
    run = cli("check", "--fix", str(path))
    assert path.read_bytes() == before
    assert run.code == 1
    assert "invalid Python" in run.err
