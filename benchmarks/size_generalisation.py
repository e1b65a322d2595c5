"""Benchmark 4: size generalisation of the core-suite graph algorithms (test at n = 128 and n = 256).

    python benchmarks/size_generalisation.py --runs runs/core_suite --sizes 128,256 --count 32

Takes the best-validation checkpoints of the core-suite runs (``benchmarks/core_suite.py``, trained at
n <= 16) and scores them on fresh CLRS30-style test sets (default sampler, seed 3) of ``n`` nodes with
the ground-truth step count.  Dense Triplet-GMPNN activations grow as B x n^3: use a small
``--batch-size`` at n = 256.  Results are cached per (algorithm, seed, n) in ``<runs>/size_generalisation.json``,
so an interrupted invocation resumes; ``--table-only`` re-prints.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from nar.train.evaluation import evaluate_checkpoint
from nar.train.published import CORE_GRAPH_ALGORITHMS, TRIPLET_GMPNN
from nar.train.suite import run_dir

CACHE = "size_generalisation.json"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", default="runs/core_suite", help="the core suite's --out")
    p.add_argument("--algorithms", default=",".join(CORE_GRAPH_ALGORITHMS))
    p.add_argument("--seeds", default="0")
    p.add_argument("--sizes", default="128,256")
    p.add_argument("--count", type=int, default=32, help="test graphs per size (CLRS30: 32)")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--table-only", action="store_true")
    args = p.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    algorithms = [a for a in args.algorithms.split(",") if a]
    seeds = [int(s) for s in args.seeds.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    cache_path = Path(args.runs) / CACHE
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    for name in algorithms:
        for seed in seeds:
            d = run_dir(args.runs, name, seed)
            for n in sizes:
                key = f"{name}/s{seed}/n{n}/c{args.count}"
                if key in cache or args.table_only:
                    continue
                if not (d / "checkpoints").is_dir():
                    print(f"[{name} s{seed}] no run in {d}; skipped", flush=True)
                    break
                t = time.time()
                r = evaluate_checkpoint(d, n=n, count=args.count, batch_size=args.batch_size, device=args.device)[name]
                cache[key] = {**r.as_dict(), "seconds": round(time.time() - t, 1)}
                cache_path.write_text(json.dumps(cache, indent=1))
                print(f"[{name} s{seed}] n={n}: {r.scores.score:.4f} ({time.time() - t:.0f} s)", flush=True)
    print(f"\nSize generalisation, best-validation checkpoints of {args.runs}, {args.count} test graphs per size, "
          f"step count: ground truth\n")
    head = "| algorithm | test n=64 | " + " | ".join(f"n={n}" for n in sizes) + " | published n=64 |"
    print(head + "\n" + "|---" * (len(sizes) + 3) + "|")
    for name in algorithms:
        cells = []
        at64 = []
        for seed in seeds:
            res = run_dir(args.runs, name, seed) / "results.json"
            if res.is_file():
                at64.append(json.loads(res.read_text())["test"][name]["score"])
        cells.append(f"{100 * sum(at64) / len(at64):.2f}" if at64 else "—")
        for n in sizes:
            vals = [cache[k]["score"] for k in (f"{name}/s{s}/n{n}/c{args.count}" for s in seeds) if k in cache]
            cells.append(f"{100 * sum(vals) / len(vals):.2f}" if vals else "not run")
        print(f"| {name} | " + " | ".join(cells) + f" | {TRIPLET_GMPNN[name]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
