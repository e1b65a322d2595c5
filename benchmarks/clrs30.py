"""Benchmark 3: the full CLRS-30 single-task table at the published budget, against Triplet-GMPNN.

    PYTHONPATH=src python3 benchmarks/clrs30.py --device cuda --jobs 8 --out runs/clrs30      # GPU
    python benchmarks/clrs30.py --out runs/clrs30 --table-only                                # re-print

One Triplet-GMPNN run per (algorithm, seed) with the CLRS baseline config (10,000 steps, batch 32,
hidden 128, Adam 1e-3, clip 1.0, on-the-fly training sizes 4/7/11/13/16, ground-truth step count),
best-validation checkpoint (n = 16) tested at n = 64 on the CLRS30 test split.  The table compares
each algorithm with the published score (Ibarz et al. 2022), then family means and the mean of family
means (published 74.14).  Targets: mean of family means >= 74.14; no core-suite algorithm more than 3
points below its published score.

``--jobs K`` trains K algorithms at a time in separate processes (one GPU holds them all easily; the
samplers run on the CPU cores).  Runs are resumable: rerun the same command after an interruption.
Needs only torch and numpy (tqdm, safetensors, PyYAML and matplotlib are optional).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from nar.specs import CLRS_30_ALGS
from nar.train.config import TrainConfig
from nar.train.published import CORE_SUITE, TRIPLET_GMPNN, TRIPLET_GMPNN_OVERALL
from nar.train.suite import family_table, load_results, markdown_table, run_suite, summarise

# rough relative cost per step (trajectory length at n = 16), to balance --jobs
_COST = {"dfs": 5, "topological_sort": 5, "articulation_points": 6, "bridges": 6, "strongly_connected_components": 7,
         "dag_shortest_paths": 5, "heapsort": 5, "quicksort": 4, "bubble_sort": 4, "insertion_sort": 3,
         "floyd_warshall": 3, "optimal_bst": 3, "matrix_chain_order": 3, "kmp_matcher": 4, "naive_string_matcher": 4,
         "graham_scan": 3, "jarvis_march": 4, "mst_kruskal": 4}


def checks(rows: dict) -> list[str]:
    """The issue's two targets, as lines of text."""
    from nar.train.published import overall

    ours = {a: 100 * sum(r["test"]) / len(r["test"]) for a, r in rows.items() if r["runs"]}
    lines = []
    if len(ours) == len(CLRS_30_ALGS):
        avg = overall(ours)
        lines.append(f"mean of family means {avg:.2f} vs published {TRIPLET_GMPNN_OVERALL}: "
                     + ("met" if avg >= TRIPLET_GMPNN_OVERALL else "NOT met"))
    else:
        lines.append(f"mean of family means: only {len(ours)}/30 algorithms finished; no overall figure")
    below = [f"{a} ({ours[a] - TRIPLET_GMPNN[a]:+.2f})" for a in CORE_SUITE if a in ours
             and ours[a] < TRIPLET_GMPNN[a] - 3]
    done = [a for a in CORE_SUITE if a in ours]
    lines.append(f"core-suite algorithms more than 3 points below published ({len(done)}/10 run): "
                 + (", ".join(below) if below else "none"))
    counts = [sum(v > t for v in ours.values()) for t in (90, 80, 60)]
    lines.append(f">90% / >80% / >60%: {counts[0]} / {counts[1]} / {counts[2]} of {len(ours)} "
                 f"(published 11 / 17 / 24 of 30)")
    return lines


def _spawn(groups, args) -> int:
    """Run each group of algorithms in its own process (same settings otherwise); logs next to --out."""
    procs = []
    for i, group in enumerate(groups):
        cmd = [sys.executable, os.path.abspath(__file__), "--algorithms", ",".join(group), "--steps", str(args.steps),
               "--batch-size", str(args.batch_size), "--seeds", args.seeds, "--out", args.out, "--device", args.device,
               "--no-table", "--quiet"]
        cmd += ["--threads", str(args.threads)] if args.threads else []
        for s in args.set:
            cmd += ["--set", s]
        os.makedirs(args.out, exist_ok=True)
        log = open(os.path.join(args.out, f"job{i}.log"), "a")
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT))
    return max(p.wait() for p in procs)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--algorithms", default="all", help="'all' or comma-separated")
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seeds", default="0")
    p.add_argument("--out", default="runs/clrs30")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--jobs", type=int, default=1, help="algorithms trained at the same time (processes)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--table-only", action="store_true")
    p.add_argument("--no-table", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    algorithms = list(CLRS_30_ALGS) if args.algorithms == "all" else [a for a in args.algorithms.split(",") if a]
    seeds = [int(s) for s in args.seeds.split(",")]
    base = TrainConfig(steps=args.steps, batch_size=args.batch_size, device=args.device,
                       threads=args.threads).with_overrides(args.set)
    t = time.time()
    if not args.table_only:
        if args.jobs > 1:
            order = sorted(algorithms, key=lambda a: -_COST.get(a, 2))
            groups = [order[i::args.jobs] for i in range(args.jobs)]
            _spawn([g for g in groups if g], args)
        else:
            run_suite(algorithms, seeds, args.out, base, progress=not args.quiet)
    if args.no_table:
        return 0
    rows = summarise(load_results(args.out, algorithms, seeds), algorithms)
    print(f"\nCLRS-30, {base.processor}, hidden {base.hidden}, batch {base.batch_size}, {base.steps} steps, "
          f"seeds {seeds}, step count: ground truth; wall time this invocation {time.time() - t:.0f} s\n")
    print(markdown_table(rows))
    print()
    print(family_table(rows))
    print()
    print("\n".join(checks(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
