"""Run idemlint on one case file (alone, as a subprocess) and apply its fixes to a copy."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from idemlint.cli import main


def idemlint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI, in-process (a subprocess per call costs about a second on this machine)."""
    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess(["idemlint", *args], code, out.getvalue(), err.getvalue())


def findings(path: Path) -> list[dict[str, Any]]:
    """idemlint's JSON findings for ``path`` checked on its own (its folder is the project)."""
    proc = idemlint("check", "--output-format", "json", "--exit-zero", path.name, cwd=path.parent)
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout))


def lines_of(path: Path, code: str) -> list[int]:
    return sorted(f["line"] for f in findings(path) if f["code"] == code)


def apply_fixes(path: Path) -> None:
    """``idemlint check --fix --unsafe-fixes`` on ``path`` in place."""
    proc = idemlint("check", "--fix", "--unsafe-fixes", "--exit-zero", path.name, cwd=path.parent)
    assert proc.returncode == 0, proc.stderr


def copy_alone(source: Path, folder: Path) -> Path:
    """Copy a case file into a folder of its own, so that idemlint sees nothing else."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(source, folder / source.name))


def rename_services(text: str, suffix: str) -> str:
    """Give the fixed variant's services other names, so both variants share one deployment."""
    return re.sub(r'((?:Service|VirtualObject|Workflow)\(")(\w+)(")', rf"\g<1>\g<2>{suffix}\g<3>",
                  text)
