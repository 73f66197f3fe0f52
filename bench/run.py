"""Benchmark idemlint against ruff, flake8 (and optionally Fixit) on the same trees.

Runs each tool on each tree, alternating tools within every round so that machine noise hits
all of them alike, and prints medians (wall and CPU), lines per second, lines per second per
core, and the ratio to idemlint.

    python bench/run.py                      # generated handler-dense tree + CPython stdlib
    python bench/run.py --tree path/to/code  # your own trees (repeatable)
    python bench/run.py --fixit              # also Fixit (slow: dense tree only)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass
class Tool:
    name: str
    command: list[str]
    trees: set[str] | None = None  # None: every tree


@dataclass
class Sample:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def count_lines(tree: Path) -> tuple[int, int]:
    files = lines = 0
    for path in tree.rglob("*.py"):
        if "site-packages" in path.parts:
            continue
        try:
            lines += path.read_bytes().count(b"\n")
            files += 1
        except OSError:
            pass
    return files, lines


def tools(jobs: int, with_fixit: bool) -> list[Tool]:
    python = sys.executable
    found = [
        Tool("idemlint", [python, "-m", "idemlint", "check", "--isolated", "--exit-zero", "-q",
                          "-j", str(jobs)]),
    ]
    if shutil.which("ruff") or _has_module("ruff"):
        found.append(Tool("ruff", [python, "-m", "ruff", "check", "--isolated", "--no-cache",
                                   "--exit-zero", "-q"]))
    if _has_module("flake8"):
        found.append(Tool("flake8", [python, "-m", "flake8", "--isolated", "--exit-zero",
                                     "-j", str(jobs), "--extend-exclude", "site-packages",
                                     "--select", "E,F,W,C90"]))
    if with_fixit and _has_module("fixit"):
        found.append(Tool("fixit", [python, "-m", "fixit", "lint"], trees={"dense"}))
    return found


def _has_module(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(name) is not None


def measure(command: list[str], tree: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([*command, str(tree)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", type=Path, default=[],
                        help="extra tree to lint (repeatable)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--modules", type=int, default=60, help="modules in the generated tree")
    parser.add_argument("--no-stdlib", action="store_true")
    parser.add_argument("--fixit", action="store_true", help="also run Fixit (slow)")
    args = parser.parse_args()

    trees: dict[str, Path] = {}
    scratch = Path(tempfile.mkdtemp(prefix="idemlint-bench-"))
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(scratch / "dense"),
                    "--modules", str(args.modules)], check=True, stdout=subprocess.DEVNULL)
    trees["dense"] = scratch / "dense"
    if not args.no_stdlib:
        trees["stdlib"] = Path(sysconfig.get_paths()["stdlib"])
    for extra in args.tree:
        trees[extra.name] = extra

    runners = tools(args.jobs, args.fixit)
    sizes = {name: count_lines(path) for name, path in trees.items()}
    results: dict[tuple[str, str], Sample] = {}
    for name, path in trees.items():
        for tool in runners:  # warm-up (file cache, bytecode)
            if tool.trees is None or name in tool.trees:
                measure(tool.command, path)
        for _ in range(args.rounds):
            for tool in runners:
                if tool.trees is not None and name not in tool.trees:
                    continue
                wall, cpu = measure(tool.command, path)
                sample = results.setdefault((name, tool.name), Sample())
                sample.wall.append(wall)
                sample.cpu.append(cpu)

    cores = args.jobs
    print(f"machine: {os.cpu_count()} cores, jobs={cores}, rounds={args.rounds}, "
          f"python {sys.version.split()[0]}")
    for name in trees:
        files, lines = sizes[name]
        print(f"\n{name}: {files} files, {lines} lines")
        print(f"  {'tool':<9} {'wall s':>8} {'cpu s':>8} {'lines/s':>11} {'lines/s/core':>13} "
              f"{'vs idemlint':>12}")
        base = results.get((name, "idemlint"))
        base_wall = statistics.median(base.wall) if base else None
        for tool in runners:
            sample = results.get((name, tool.name))
            if sample is None:
                continue
            wall = statistics.median(sample.wall)
            cpu = statistics.median(sample.cpu)
            ratio = f"{wall / base_wall:.2f}x" if base_wall else "-"
            print(f"  {tool.name:<9} {wall:>8.2f} {cpu:>8.2f} {lines / wall:>11,.0f} "
                  f"{lines / max(cpu, 1e-9):>13,.0f} {ratio:>12}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
