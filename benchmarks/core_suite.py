"""Benchmark 2: accuracy of Triplet-GMPNN on the CPU core suite, beside the published scores.

    python benchmarks/core_suite.py --steps 1000 --time-limit 600 --seeds 0 --out runs/core_suite
    python benchmarks/core_suite.py --out runs/core_suite --table-only     # re-print the table

One single-task run per (algorithm, seed) with the CLRS baseline config (nar.train.TrainConfig defaults:
hidden 128, batch 32, Adam 1e-3, clip 1.0, on-the-fly sizes 4/7/11/13/16, ground-truth step count);
validation at n = 16 (best checkpoint), test at n = 64.  The published numbers were obtained with
10,000 steps: at a CPU budget of a few hundred steps the gap measures the budget, not the model.
Runs are resumable: rerun the same command after an interruption.
"""
from __future__ import annotations

import argparse
import sys
import time

from nar.train.config import TrainConfig
from nar.train.published import CORE_SUITE
from nar.train.suite import load_results, markdown_table, run_suite, summarise


def caps(algorithms, val_cap, test_cap) -> dict:
    """Per-algorithm val_count/test_count where the CLRS30 size (32 x multiplier) exceeds a cap."""
    from nar.specs import EVAL_MULTIPLIER

    per = {}
    for a in algorithms:
        full = 32 * EVAL_MULTIPLIER.get(a, 1)
        for key, cap in (("val_count", val_cap), ("test_count", test_cap)):
            if cap and full > cap:
                per.setdefault(a, {})[key] = cap
    return per


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--algorithms", default=",".join(CORE_SUITE), help="comma-separated (default: the core suite)")
    p.add_argument("--steps", type=int, default=1000, help="training steps per run (default 1000)")
    p.add_argument("--time-limit", type=float, default=None, help="seconds of training per run (stops early)")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    p.add_argument("--out", default="runs/core_suite")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None, help="torch threads per run")
    p.add_argument("--val-count-cap", type=int, default=None,
                   help="cap the validation set (CLRS30 uses 32 x multiplier = 2048 for minimum/binary_search)")
    p.add_argument("--test-count-cap", type=int, default=None,
                   help="cap the test set likewise (CPU budgets; the CLRS30 protocol is 32 x multiplier)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any TrainConfig override")
    p.add_argument("--table-only", action="store_true", help="only print the table of finished runs")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    algorithms = [a for a in args.algorithms.split(",") if a]
    seeds = [int(s) for s in args.seeds.split(",")]
    base = TrainConfig(steps=args.steps, time_limit=args.time_limit, device=args.device,
                       threads=args.threads).with_overrides(args.set)
    per = caps(algorithms, args.val_count_cap, args.test_count_cap)
    t = time.time()
    if args.table_only:
        results = load_results(args.out, algorithms, seeds)
    else:
        results = run_suite(algorithms, seeds, args.out, base, per_algorithm=per, progress=not args.quiet)
    rows = summarise(results, algorithms)
    print(f"\nCore suite, {base.processor}, hidden {base.hidden}, batch {base.batch_size}, up to {base.steps} steps"
          + (f" or {base.time_limit:.0f} s" if base.time_limit else "") + f" per run, seeds {seeds}, "
          f"step count: ground truth; wall time this invocation {time.time() - t:.0f} s\n")
    if per:
        print(f"Evaluation sets capped (CPU budget): {per}\n")
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
