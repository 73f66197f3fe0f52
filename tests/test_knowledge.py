"""The knowledge base: schema, patterns, representative lookups, and packaging in the wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from idemlint.checks.nondeterminism._shared import STRATEGIES
from idemlint.knowledge import FIX_STRATEGIES, KnowledgeError, bundled
from idemlint.patterns import PatternError, PatternTable, expand
from idemlint.testing import settings_for

ROOT = Path(__file__).resolve().parent.parent


def test_every_fix_strategy_of_the_schema_is_implemented() -> None:
    assert set(STRATEGIES) == set(FIX_STRATEGIES)


def test_bundled_knowledge_base_loads_with_every_category() -> None:
    kb = bundled()
    assert set(kb.categories) == {
        "IDL101", "IDL102", "IDL103", "IDL104", "IDL105", "IDL106", "IDL107", "IDL108", "IDL109"}
    assert len(kb.apis) > 1000
    assert kb.framework.name == "restate"


@pytest.mark.parametrize(
    ("name", "code", "is_async"),
    [
        ("time.time", "IDL101", False),
        ("datetime.datetime.now", "IDL101", False),
        ("random.randint", "IDL102", False),
        ("secrets.token_hex", "IDL102", False),
        ("uuid.uuid4", "IDL103", False),
        ("requests.post", "IDL104", False),
        ("requests.Session().get", "IDL104", False),
        ("httpx.AsyncClient().post", "IDL104", True),
        ("aiohttp.ClientSession().get", "IDL104", True),
        ("boto3.client().put_object", "IDL104", False),
        ("openai.OpenAI().chat.completions.create", "IDL104", False),
        ("stripe.Charge.create", "IDL104", False),
        ("sqlite3.Connection().execute", "IDL105", False),
        ("asyncpg.Connection().fetch", "IDL105", True),
        ("redis.Redis().set", "IDL105", False),
        ("builtins.open", "IDL106", False),
        ("subprocess.run", "IDL106", False),
        ("pathlib.Path().write_text", "IDL106", False),
        ("time.sleep", "IDL107", False),
        ("asyncio.sleep", "IDL107", True),
        ("asyncio.gather", "IDL109", True),
    ],
)
def test_known_apis(name: str, code: str, is_async: bool) -> None:
    entry = bundled().lookup(name)
    assert entry is not None, name
    assert (entry.code, entry.is_async) == (code, is_async)


@pytest.mark.parametrize(
    "name",
    [
        "os.environ.get", "os.getenv", "os.path.join", "uuid.uuid5", "random.Random().randint",
        "httpx.AsyncClient", "httpx.AsyncClient().build_request", "asyncpg.connect",
        "asyncpg.create_pool", "requests.Request", "json.dumps", "urllib.parse.urljoin",
        "pathlib.Path().with_suffix", "boto3.client().get_paginator",
    ],
)
def test_not_findings(name: str) -> None:
    assert bundled().lookup(name) is None, name


def test_returns_follow_instances() -> None:
    kb = bundled()
    assert kb.returns["sqlite3.connect()"] == "sqlite3.Connection()"
    assert kb.lookup(kb.returns["sqlite3.connect()"] + ".execute") is not None


def test_patterns() -> None:
    assert expand("a.{b,c}.{d,e}") == ["a.b.d", "a.b.e", "a.c.d", "a.c.e"]
    table: PatternTable[int] = PatternTable()
    table.add("stripe.*", 1)
    table.add("stripe.api_key", 2)
    table.add("x.Y().*", 3)
    assert table.get("stripe.Charge.create") == 1
    assert table.get("stripe.api_key") == 2
    assert table.get("stripe") is None
    assert table.get("x.Y().z") == 3
    for bad in ("a b", "a.*.b", "1a", "a..b", ""):
        with pytest.raises(PatternError):
            table.add(bad, 0)


def test_user_extensions_and_errors() -> None:
    settings = settings_for({
        "nondeterministic": {"mycorp.Client().charge": {"code": "IDL104", "async": True}},
        "deterministic": ["time.time"],
    })
    kb = settings.kb
    entry = kb.lookup("mycorp.Client().charge")
    assert entry is not None and entry.is_async and entry.code == "IDL104"
    assert kb.lookup("time.time") is None
    with pytest.raises(KnowledgeError):
        bundled().with_extensions({"x.y": {"code": "IDL104", "colour": "red"}}, [], "test")


def test_wheel_ships_knowledge_base_and_runs_from_elsewhere(tmp_path: Path) -> None:
    """`pip install .` (not editable): the knowledge base is inside the wheel; rule pages render."""
    dist = tmp_path / "dist"
    # Build from a copy of the sources: a developer's stale `build/` would leak old files into
    # the wheel (setuptools reuses it).
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("idemlint", "rules"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
        capture_output=True, text=True, timeout=280,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = dist.glob("idemlint-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "idemlint/_kb/frameworks/restate.toml" in names
    assert "idemlint/_kb/apis/network.toml" in names
    assert not any(name.startswith("idemlint/_docs/") for name in names)  # pages come from code
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        capture_output=True, text=True, timeout=120,
    )
    assert install.returncode == 0, install.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "svc.py").write_text(
        "import time\nimport restate\nsvc = restate.Service('S')\n\n@svc.handler()\n"
        "async def h(ctx):\n    return time.time()\n"
    )
    code = (
        "import sys, idemlint; assert idemlint.__file__.startswith(sys.argv[1]), idemlint.__file__;"
        "from idemlint.cli import main; raise SystemExit(main(['check', 'svc.py']))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run(
        [sys.executable, "-c", code, str(target)], cwd=elsewhere, capture_output=True,
        text=True, env=env, timeout=60,
    )
    assert run.returncode == 1, run.stderr
    assert "svc.py:7:12: IDL101" in run.stdout
    code = "from idemlint.cli import main; raise SystemExit(main(['rule', 'IDL101']))"
    page = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, capture_output=True, text=True, env=env,
        timeout=60,
    )
    assert page.returncode == 0, page.stderr
    assert page.stdout.startswith("# IDL101: non-journaled-clock\n")
