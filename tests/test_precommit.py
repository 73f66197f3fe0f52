"""The pre-commit hooks for real: `pre-commit try-repo <this checkout>` in a temporary repo.

pre-commit builds the hook's environment with pip from this checkout (PyPI must be reachable
for the dependencies), so this is the slowest test of the suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import HANDLER

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _try_repo(repo: Path, hook: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--all-files",
         "--verbose"],
        cwd=repo, capture_output=True, text=True, env=env, timeout=600,
    )


def test_hooks_check_then_fix_then_pass(tmp_path: Path) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "test@example.com")
    _git(repo, "config", "user.name", "test")
    service = repo / "service.py"
    service.write_text(HANDLER)
    (repo / "notes.txt").write_text("not python\n")
    _git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "PRE_COMMIT_COLOR": "never"}

    check = _try_repo(repo, "idemlint", env)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "service.py:10:12: IDL101" in check.stdout
    assert service.read_text() == HANDLER

    fix = _try_repo(repo, "idemlint-fix", env)
    assert fix.returncode == 1, fix.stdout + fix.stderr  # files were modified
    assert "return await ctx.time()" in service.read_text()

    again = _try_repo(repo, "idemlint", env)
    assert again.returncode == 0, again.stdout + again.stderr


def test_hook_manifest() -> None:
    import yaml  # pre-commit depends on PyYAML

    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"idemlint", "idemlint-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types_or"] == ["python", "pyi"]
        assert hook["require_serial"] is True
        assert hook["minimum_pre_commit_version"]
    assert "--fix" in hooks["idemlint-fix"]["entry"]
    assert textwrap.dedent(hooks["idemlint"]["entry"]).startswith("idemlint check")
