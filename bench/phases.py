"""Per-phase CPU profile of idemlint on a tree, in one process: read, parse, index, model, rules.

Hands the lead a table to route hot spots (a slow rule goes to its owner, a slow phase to the
core). Times are process CPU seconds, medians over ``--rounds``; the parse floor (read +
``ast.parse``) is printed first so every phase reads as a ratio of it.

    python bench/phases.py /tmp/dense            # a tree made by bench/generate.py
"""

from __future__ import annotations

import argparse
import ast
import gc
import statistics
import time
import warnings
from collections import defaultdict
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tree", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from idemlint.analysis import ModuleAnalysis
    from idemlint.config import Settings
    from idemlint.engine import Linter
    from idemlint.project import Project
    from idemlint.runner import tune_gc
    from idemlint.source import SourceFile

    settings = Settings(root=args.tree.resolve())
    project = Project.for_paths([args.tree], None)
    linter = Linter(settings, project)
    files = sorted(p for p in args.tree.rglob("*.py") if "site-packages" not in p.parts)
    tune_gc()
    rounds: list[dict[str, float]] = []
    for _ in range(args.rounds):
        phase: dict[str, float] = defaultdict(float)
        clock = time.process_time
        for path in files:
            start = clock()
            raw = path.read_bytes()
            source = SourceFile.from_bytes(str(path), raw)
            phase["read+decode"] += clock() - start
            start = clock()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(source.text, filename=str(path))
            phase["parse"] += clock() - start
            start = clock()
            module = ModuleAnalysis(source, tree, settings, project, path)
            phase["index"] += clock() - start
            start = clock()
            module.model  # noqa: B018
            phase["model"] += clock() - start
            for rule in linter.rules:
                start = clock()
                list(rule.check(module))
                phase[f"rule {rule.code}"] += clock() - start
            del module, tree
        start = clock()
        gc.collect()
        phase["gc at end"] += clock() - start
        rounds.append(phase)
    names = list(rounds[0])
    median = {name: statistics.median(r[name] for r in rounds) for name in names}
    floor = median["read+decode"] + median["parse"]
    total = sum(median.values())
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    print(f"{args.tree}: {len(files)} files, {lines} lines; parse floor {floor:.3f} s CPU")
    print(f"  {'phase':<16} {'cpu s':>8} {'x floor':>8} {'share':>7}")
    for name in sorted(names, key=lambda n: -median[n]):
        print(f"  {name:<16} {median[name]:>8.3f} {median[name] / floor:>8.2f} "
              f"{median[name] / total:>7.1%}")
    print(f"  {'total':<16} {total:>8.3f} {total / floor:>8.2f}")


if __name__ == "__main__":
    main()
