"""The result cache: identical output with and without it, never stale, safe to share."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from idemlint.engine import Linter

from .conftest import HANDLER, Run

ROOT = Path(__file__).resolve().parent.parent
TREES = [ROOT / "examples", ROOT / "tests" / "fixtures"]


def _cache_dir() -> Path:
    return Path(os.environ["IDEMLINT_CACHE_DIR"])


def _entries() -> list[Path]:
    return sorted(p for p in _cache_dir().rglob("*") if p.is_file() and len(p.name) == 40)


def _no_linting(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("linted although the cache holds the result")

    monkeypatch.setattr(Linter, "_lint", fail)


@pytest.mark.parametrize("tree", TREES, ids=lambda p: p.name)
@pytest.mark.parametrize("extra", [[], ["--unsafe-fixes"]], ids=["safe", "unsafe"])
def test_same_json_with_and_without_the_cache(
    tree: Path, extra: list[str], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["check", "--output-format", "json", *extra, str(tree)]
    uncached = cli(*args, "--no-cache")
    assert not _cache_dir().exists()  # --no-cache writes nothing
    cold = cli(*args)
    assert len(_entries()) > 2
    _no_linting(monkeypatch)
    warm = cli(*args)
    assert uncached.out == cold.out == warm.out
    assert uncached.code == cold.code == warm.code
    assert len(uncached.json()) > 0


def test_changed_file_is_analysed_again(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    path = write("svc.py", HANDLER)
    first = cli("check", "--output-format", "json", str(path)).json()
    assert [(f["code"], f["line"]) for f in first] == [("IDL101", 10)]
    write("svc.py", HANDLER.replace("return time.time()", "return 1.0\n    # was time.time()"))
    assert cli("check", "--output-format", "json", str(path)).json() == []


def test_change_in_another_module_the_findings_used_invalidates_them(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Handlers of a service defined elsewhere: the entry depends on that module too."""
    write("pkg/__init__.py", "")
    write("pkg/svc.py", "import restate\n\ngreeter = restate.Service('G')\n")
    handlers = write(
        "pkg/handlers.py",
        "import time\n\nfrom .svc import greeter\n\n\n@greeter.handler()\n"
        "async def now(ctx) -> float:\n    return time.time()\n",
    )

    def codes() -> list[tuple[str, int]]:
        found = cli("check", "--output-format", "json", str(handlers)).json()
        return [(f["code"], f["line"]) for f in found]

    assert codes() == [("IDL101", 8)]
    with monkeypatch.context() as patch:
        _no_linting(patch)
        assert codes() == [("IDL101", 8)]  # served from the cache
    write("pkg/svc.py", "greeter = object()\n")
    assert codes() == []
    (tmp_path / "pkg" / "svc.py").unlink()  # the lookup now finds nothing
    assert codes() == []
    write("pkg/svc/__init__.py", "import restate\n\ngreeter = restate.Service('G')\n")
    assert codes() == [("IDL101", 8)]


def test_fixed_file_is_not_served_stale(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write("svc.py", HANDLER)
    before = cli("check", "--output-format", "json", str(path)).json()
    assert [f["code"] for f in before] == ["IDL101"]
    fixed = cli("check", "--fix", "--output-format", "json", str(path))
    assert fixed.json() == [] and fixed.code == 0
    assert "await ctx.time()" in path.read_text()
    with monkeypatch.context() as patch:
        _no_linting(patch)  # the fixed content was stored when it was written
        assert cli("check", "--output-format", "json", str(path)).json() == []
    path.write_text(HANDLER)  # back to the original: its entry says there is a fix to apply
    assert cli("check", "--fix", str(path)).code == 0
    assert "await ctx.time()" in path.read_text()


def test_diff_uses_the_cache_only_when_nothing_would_change(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    path = write("svc.py", HANDLER)
    cli("check", str(path))
    run = cli("check", "--diff", str(path))
    assert run.code == 1
    assert run.out.endswith("-    return time.time()\n+    return await ctx.time()\n")
    assert path.read_text() == HANDLER
    clean = write("clean.py", "import restate\n\nx = 1\n")
    cli("check", str(clean))
    assert cli("check", "--diff", str(clean)).out == ""


def test_cache_directory_is_ignored_by_git_and_removed_by_clean(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("IDEMLINT_CACHE_DIR")
    path = write("svc.py", HANDLER)
    cli("check", str(path), cwd=tmp_path)
    cache = tmp_path / ".idemlint_cache"
    assert (cache / ".gitignore").read_text() == "# Automatically created by idemlint.\n*\n"
    assert (cache / "CACHEDIR.TAG").is_file()
    run = cli("clean", cwd=tmp_path)
    assert run.code == 0
    assert not cache.exists()
    assert run.err == f"Removed {cache}\n"


def test_concurrent_runs_share_a_cache(tmp_path: Path) -> None:
    env = {**os.environ, "IDEMLINT_CACHE_DIR": str(tmp_path / "shared")}
    command = [sys.executable, "-m", "idemlint", "check", "--output-format", "json", "-j", "1",
               str(ROOT / "examples")]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, env=env) for _ in range(4)]
    outputs = [run.communicate()[0] for run in runs]
    again = subprocess.run(command, stdout=subprocess.PIPE, env=env, check=False).stdout
    assert len(set(outputs)) == 1 and outputs[0] == again and outputs[0].startswith(b"[")
    leftovers = [p for p in (tmp_path / "shared").rglob(".tmp-*")]
    assert leftovers == []


def test_corrupt_entry_is_a_miss(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    path = write("svc.py", HANDLER)
    expected = cli("check", "--output-format", "json", str(path)).out
    entries = _entries()
    assert len(entries) == 1
    entries[0].write_bytes(b"\x80\x05garbage")
    assert cli("check", "--output-format", "json", str(path)).out == expected


def test_module_used_through_another_module_is_a_dependency_of_every_user(
    write: Callable[..., Path], tmp_path: Path, cli: Callable[..., Run]
) -> None:
    """``svc`` re-exports the service of ``base``; the second handler module gets ``svc``'s
    memoised answer, and still depends on ``base``."""
    write("pkg/__init__.py", "")
    write("pkg/base.py", "import restate\n\ngreeter = restate.Service('G')\n")
    write("pkg/svc.py", "from .base import greeter\n")
    handler = (
        "import time\n\nfrom .svc import greeter\n\n\n@greeter.handler()\n"
        "async def now(ctx) -> float:\n    return time.time()\n"
    )
    write("pkg/h1.py", handler)
    write("pkg/h2.py", handler)

    def codes() -> list[tuple[str, str]]:
        found = cli("check", "--output-format", "json", str(tmp_path / "pkg")).json()
        return [(Path(f["path"]).name, f["code"]) for f in found]

    assert codes() == [("h1.py", "IDL101"), ("h2.py", "IDL101")]
    write("pkg/base.py", "greeter = object()\n")
    assert codes() == []
