"""Benchmark idemlint: every figure of issue 12 as a ratio to a baseline measured in the same run.

Tools alternate within every round (machine noise hits all alike); medians are printed. Each
figure names its baseline and its target:

- handler-dense code: idemlint CPU / parse floor (read + ``ast.parse`` of the same files in one
  process), lines/s per core; wall time against ruff and flake8;
- the stdlib tree (no durable code): idemlint wall / ruff wall;
- start-up on one small file (ms, and against ruff);
- result cache: second run on an unchanged tree / first run;
- ``--fix`` / plain check on the same files (fresh copies);
- peak RSS per process (first run of the dense tree; ``--big``: the 1M-line tree at -j 1 and
  -j N, time of 1M lines / time of 50k lines, and a 5 MB file fixed).

    python bench/run.py                      # dense tree (~52k lines) + stdlib
    python bench/run.py --big                # also the 1M-line tree and the 5 MB file (slow)
    python bench/run.py --tree path/to/code  # your own trees (repeatable)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
FLOOR = (
    "import ast, sys, pathlib, warnings\n"
    "warnings.simplefilter('ignore')\n"
    "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.py')):\n"
    "    if 'site-packages' in p.parts: continue\n"
    "    try: ast.parse(p.read_bytes())\n"
    "    except (SyntaxError, ValueError): pass\n"
)


@dataclass
class Sample:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float, rss_mb: float) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)
        self.rss_mb.append(rss_mb)

    @property
    def w(self) -> float:
        return statistics.median(self.wall)

    @property
    def c(self) -> float:
        return statistics.median(self.cpu)

    @property
    def peak(self) -> float:
        return max(self.rss_mb)


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Wall and CPU seconds (process and its children) and peak RSS (MB) of the largest."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=env)
    _, _, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = 0
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def count_lines(tree: Path) -> tuple[int, int]:
    files = lines = 0
    paths = [tree] if tree.is_file() else tree.rglob("*.py")
    for path in paths:
        if "site-packages" in path.parts:
            continue
        try:
            lines += path.read_bytes().count(b"\n")
            files += 1
        except OSError:
            pass
    return files, lines


def idemlint(*args: str, jobs: int = 1) -> list[str]:
    return [PYTHON, "-m", "idemlint", "check", "--isolated", "--exit-zero", "-q", "-j", str(jobs),
            *args]


def ruff() -> list[str] | None:
    if _has("ruff"):
        return [PYTHON, "-m", "ruff", "check", "--isolated", "--no-cache", "--exit-zero", "-q"]
    return None


def flake8(jobs: int) -> list[str] | None:
    if _has("flake8"):
        return [PYTHON, "-m", "flake8", "--isolated", "--exit-zero", "-j", str(jobs),
                "--extend-exclude", "site-packages", "--select", "E,F,W,C90"]
    return None


def _has(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(name) is not None


def rounds(n: int, contenders: dict[str, Callable[[], tuple[float, float, float]]]
           ) -> dict[str, Sample]:
    """Run every contender once to warm up, then ``n`` alternating rounds."""
    out = {name: Sample() for name in contenders}
    for run in contenders.values():
        run()
    for _ in range(n):
        for name, run in contenders.items():
            out[name].add(*run())
    return out


class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def ratio(self, figure: str, value: float, base: float, unit: str, target: str) -> None:
        shown = f"{value:.3f} / {base:.3f} {unit}"
        self.rows.append((figure, shown, f"{value / base:.2f}x" if base else "-", target))

    def value(self, figure: str, shown: str, target: str) -> None:
        self.rows.append((figure, shown, "", target))

    def print(self) -> None:
        width = max(len(r[0]) for r in self.rows)
        print(f"\n{'figure':<{width}}  {'value / baseline':>28}  {'ratio':>7}  target")
        for figure, shown, ratio, target in self.rows:
            print(f"{figure:<{width}}  {shown:>28}  {ratio:>7}  {target}")


def generate(out: Path, modules: int, handlers: int = 60) -> Path:
    subprocess.run([PYTHON, str(HERE / "generate.py"), str(out), "--modules", str(modules),
                    "--handlers", str(handlers)], check=True, stdout=subprocess.DEVNULL)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", type=Path, default=[],
                        help="extra tree to lint (repeatable)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--modules", type=int, default=40, help="modules in the dense tree")
    parser.add_argument("--no-stdlib", action="store_true")
    parser.add_argument("--big", action="store_true",
                        help="also the 1M-line tree (generated, ~30 MB) and a 5 MB file")
    args = parser.parse_args()

    # Installed tools run from bytecode: do not measure compiling them on every start.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    scratch = Path(tempfile.mkdtemp(prefix="idemlint-bench-"))
    cache_env = {**os.environ, "IDEMLINT_CACHE_DIR": str(scratch / "cache")}
    no_cache = {**os.environ, "IDEMLINT_NO_CACHE": "1"}
    report = Report()
    try:
        dense = generate(scratch / "dense", args.modules)
        trees: dict[str, Path] = {"dense": dense}
        if not args.no_stdlib:
            trees["stdlib"] = Path(sysconfig.get_paths()["stdlib"])
        for extra in args.tree:
            trees[extra.name] = extra
        print(f"machine: {os.cpu_count()} cores, jobs={args.jobs}, rounds={args.rounds}, "
              f"python {sys.version.split()[0]}")

        # -- throughput against the parse floor, ruff and flake8 --------------------------------
        for name, tree in trees.items():
            files, lines = count_lines(tree)
            contenders: dict[str, Callable[[], tuple[float, float, float]]] = {
                "parse floor": lambda t=tree: measure([PYTHON, "-c", FLOOR, str(t)]),
                "idemlint -j1": lambda t=tree: measure(idemlint(str(t)), no_cache),
                f"idemlint -j{args.jobs}": lambda t=tree: measure(
                    idemlint(str(t), jobs=args.jobs), no_cache),
            }
            if (command := ruff()) is not None:
                contenders["ruff"] = lambda t=tree, c=command: measure([*c, str(t)])
            if (command := flake8(args.jobs)) is not None and name != "stdlib":
                contenders["flake8"] = lambda t=tree, c=command: measure([*c, str(t)])
            samples = rounds(args.rounds, contenders)
            print(f"\n{name}: {files} files, {lines} lines")
            print(f"  {'tool':<14} {'wall s':>8} {'cpu s':>8} {'lines/cpu-s':>12} {'peak MB':>8}")
            for tool, sample in samples.items():
                print(f"  {tool:<14} {sample.w:>8.3f} {sample.c:>8.3f} "
                      f"{lines / max(sample.c, 1e-9):>12,.0f} {sample.peak:>8.0f}")
            one = samples["idemlint -j1"]
            floor = samples["parse floor"]
            # The floor process pays interpreter start-up too: compare the work only.
            startup = measure([PYTHON, "-c", "pass"])[1]
            report.ratio(f"{name}: idemlint CPU / parse floor (one process)",
                         one.c - startup, floor.c - startup, "s", "<= 2x")
            report.value(f"{name}: idemlint lines/s per core",
                         f"{lines / max(one.c, 1e-9):,.0f}", ">= 80k (dense, reference machine)")
            best = min(s.w for t, s in samples.items() if t.startswith("idemlint"))
            if "ruff" in samples:
                report.ratio(f"{name}: idemlint wall / ruff wall", best, samples["ruff"].w, "s",
                             "<= 0.5x on stdlib" if name == "stdlib" else "(reference)")
            if "flake8" in samples:
                report.ratio(f"{name}: idemlint wall / flake8 wall", best,
                             samples["flake8"].w, "s", "(reference)")
            report.value(f"{name}: idemlint peak RSS per process", f"{one.peak:.0f} MB",
                         "<= 150 MB")

        # -- start-up ---------------------------------------------------------------------------
        small = scratch / "small.py"
        small.write_text("import time\nimport restate\nsvc = restate.Service('C')\n\n"
                         "@svc.handler()\nasync def now(ctx: restate.Context) -> float:\n"
                         "    return time.time()\n")
        contenders = {
            "idemlint": lambda: measure(idemlint(str(small)), no_cache),
            "python -c pass": lambda: measure([PYTHON, "-c", "pass"]),
        }
        if (command := ruff()) is not None:
            contenders["ruff"] = lambda: measure([*command, str(small)])
        samples = rounds(max(args.rounds, 9), contenders)
        report.value("start-up: idemlint on one small file",
                     f"{samples['idemlint'].w * 1000:.0f} ms", "<= 60 ms")
        report.ratio("start-up: idemlint / bare interpreter", samples["idemlint"].w,
                     samples["python -c pass"].w, "s", "(reference)")
        if "ruff" in samples:
            report.ratio("start-up: idemlint / ruff", samples["idemlint"].w,
                         samples["ruff"].w, "s", "(reference)")

        # -- result cache -----------------------------------------------------------------------
        cold, warm = Sample(), Sample()
        for _ in range(args.rounds):
            shutil.rmtree(scratch / "cache", ignore_errors=True)
            cold.add(*measure(idemlint(str(dense), jobs=args.jobs), cache_env))
            warm.add(*measure(idemlint(str(dense), jobs=args.jobs), cache_env))
        report.ratio("cache: second run / first run (dense, wall)", warm.w, cold.w, "s",
                     "<= 0.2x")

        # -- fix against check ------------------------------------------------------------------
        check, fix = Sample(), Sample()
        for i in range(args.rounds):
            copy = scratch / f"fix{i}"
            shutil.copytree(dense, copy)
            check.add(*measure(idemlint(str(copy)), no_cache))
            fix.add(*measure(idemlint("--fix", str(copy)), no_cache))
            shutil.rmtree(copy)
        report.ratio("fix: --fix CPU / check CPU (dense, -j1)", fix.c, check.c, "s", "<= 1.5x")

        if args.big:
            _big(scratch, args, no_cache, report)
        report.print()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _big(scratch: Path, args: argparse.Namespace, env: dict[str, str], report: Report) -> None:
    """The 1M-line handler-dense tree (made on demand, never committed) and a 5 MB file."""
    big = generate(scratch / "big", 770)
    small = generate(scratch / "fifty", 38)
    _, big_lines = count_lines(big)
    _, small_lines = count_lines(small)
    print(f"\nbig tree: {big_lines} lines; small tree: {small_lines} lines")
    one = Sample()
    one.add(*measure(idemlint(str(big)), env))
    many = Sample()
    many.add(*measure(idemlint(str(big), jobs=args.jobs), env))
    fifty = rounds(3, {"fifty": lambda: measure(idemlint(str(small)), env)})["fifty"]
    report.value("1M lines: peak RSS per process, -j1", f"{one.peak:.0f} MB", "<= 150 MB")
    report.value(f"1M lines: peak RSS per process, -j{args.jobs}", f"{many.peak:.0f} MB",
                 "<= 150 MB")
    report.ratio("1M lines: CPU / CPU of 50k lines (x lines ratio)", one.c / big_lines,
                 fifty.c / small_lines, "s/line", "<= 1.025x (20.5x for 20x lines)")
    report.value("1M lines: lines/s per core (-j1)", f"{big_lines / one.c:,.0f}", "")

    text = subprocess.run(
        [PYTHON, "-c", "import random, sys; sys.path.insert(0, sys.argv[1]); import generate;"
         "print(generate.module(0, 8200, random.Random(7)), end='')", str(HERE)],
        check=True, capture_output=True, text=True).stdout
    five = scratch / "five.py"
    five.write_text(text)
    check = Sample()
    check.add(*measure(idemlint(str(five)), env))
    fix = Sample()
    fix.add(*measure(idemlint("--fix", str(five)), env))
    mb = len(text.encode()) / 1e6
    report.value(f"{mb:.1f} MB file: --fix wall", f"{fix.w:.1f} s", "<= 15 s")
    report.ratio(f"{mb:.1f} MB file: --fix CPU / check CPU", fix.c, check.c, "s", "<= 1.5x")
    report.value(f"{mb:.1f} MB file: --fix peak RSS", f"{fix.peak:.0f} MB", "")


if __name__ == "__main__":
    main()
