"""Processors at equal CPU budget on the core suite: triplet_gmpnn, g_forgetnet, relational_transformer.

    python benchmarks/processors_table.py --steps 150 --hidden 32 --budget-min 35 --out runs/processors_table
    python benchmarks/processors_table.py --out runs/processors_table --table-only   # re-print / re-write

One single-task run per (algorithm, processor, seed) through ``nar.train`` with the same configuration for
every processor (steps, batch, width, seeds, learning rate, on-the-fly training data), one thread; the
processors differ only by name (``nb_heads`` is used by the relational transformer alone).  Runs are
resumable (rerun the same command); the algorithms are visited in order and, for each, every processor,
so that an interrupted budget leaves complete rows.  No new run starts once the CPU time of this script
(training, data and evaluation, summed over invocations in ``<out>/cpu_ledger.json``) passes ``--budget-min``.

The published numbers used 10,000 steps of batch 32 on GPUs with width 128 (192 for the relational
transformer); at a CPU budget of a few hundred steps the gap measures the budget, not the model.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from nar.train.config import TrainConfig
from nar.train.published import CORE_SUITE, TRIPLET_GMPNN
from nar.train.suite import load_results, run_suite

PROCESSORS = ("triplet_gmpnn", "g_forgetnet", "relational_transformer")
# Published OOD test scores (n = 64, %) that could be sourced per algorithm.  G-ForgetNet: BFS as quoted
# by later work (DNAR's CLRS-30 comparison); its other per-algorithm scores were not retrievable here.
# Relational transformer: its per-algorithm table (Diao & Loynd 2023, Table 19) was not retrievable here.
PUBLISHED = {"triplet_gmpnn": TRIPLET_GMPNN, "g_forgetnet": {"bfs": 99.96}, "relational_transformer": {}}
# Overall CLRS-30 averages as reported by ReNAR (Huang et al., AAAI 2026, Table 1; 4-10 seeds, 10,000 steps).
PUBLISHED_OVERALL = {"triplet_gmpnn": "83.63 (ReNAR's Table 1; 74.14 in Ibarz et al.)", "g_forgetnet": "82.89",
                     "relational_transformer": "—"}


def caps(algorithms, cap: int) -> dict:
    from nar.specs import EVAL_MULTIPLIER

    return {a: {"val_count": cap, "test_count": cap} for a in algorithms if 32 * EVAL_MULTIPLIER.get(a, 1) > cap}


def table(results: dict, algorithms, seeds) -> str:
    lines = ["| algorithm | processor | runs | steps | train wall s | val n=16 | test n=64 | published (10k steps, GPU) |",
             "|---|---|---|---|---|---|---|---|"]
    for alg in algorithms:
        for proc in PROCESSORS:
            runs = [results[(proc, alg, s)] for s in seeds if (proc, alg, s) in results]
            runs = [r for r in runs if "error" not in r]
            pub = PUBLISHED[proc].get(alg)
            pub = "—" if pub is None else f"{pub:.2f}"
            if not runs:
                lines.append(f"| {alg} | {proc} | 0 | — | — | — | — | {pub} |")
                continue
            val = 100 * statistics.fmean(r["best_val"] for r in runs)
            test = 100 * statistics.fmean(r["test"][alg]["score"] for r in runs)
            steps = "/".join(str(s) for s in sorted({r["steps_done"] for r in runs}))
            secs = statistics.fmean(r["seconds"] for r in runs)
            lines.append(f"| {alg} | {proc} | {len(runs)} | {steps} | {secs:.0f} | {val:.2f} | {test:.2f} | {pub} |")
    return "\n".join(lines)


def means(results: dict, algorithms, seeds) -> str:
    lines = ["| processor | algorithms finished | mean test n=64 (ours) | mean train wall s per run | "
             "published CLRS-30 average |", "|---|---|---|---|---|"]
    for proc in PROCESSORS:
        done = [a for a in algorithms if any((proc, a, s) in results and "error" not in results[(proc, a, s)]
                                             for s in seeds)]
        scores = [100 * statistics.fmean(results[(proc, a, s)]["test"][a]["score"] for s in seeds
                                         if (proc, a, s) in results and "error" not in results[(proc, a, s)])
                  for a in done]
        secs = [results[(proc, a, s)]["seconds"] for a in done for s in seeds if (proc, a, s) in results
                and "error" not in results[(proc, a, s)]]
        lines.append(f"| {proc} | {len(done)} | {statistics.fmean(scores):.2f} | {statistics.fmean(secs):.0f} | "
                     f"{PUBLISHED_OVERALL[proc]} |" if done else f"| {proc} | 0 | — | — | {PUBLISHED_OVERALL[proc]} |")
    return "\n".join(lines)


def collect(out: Path, algorithms, seeds) -> dict:
    res = {}
    for proc in PROCESSORS:
        for (alg, seed), r in load_results(out / proc, algorithms, seeds).items():
            res[(proc, alg, seed)] = r
    return res


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--algorithms", default=",".join(CORE_SUITE))
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--head-size", type=int, default=16, help="relational transformer: width / heads (paper: 16)")
    p.add_argument("--seeds", default="0")
    p.add_argument("--eval-count-cap", type=int, default=32, help="validation and test samples per algorithm")
    p.add_argument("--budget-min", type=float, default=35.0, help="no new run after this much summed CPU time")
    p.add_argument("--out", default="runs/processors_table")
    p.add_argument("--fragment", default=None, help="write the Markdown section here")
    p.add_argument("--table-only", action="store_true")
    args = p.parse_args(argv)
    algorithms = [a for a in args.algorithms.split(",") if a]
    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    if args.hidden % args.head_size:
        p.error(f"--hidden ({args.hidden}) must be a multiple of --head-size ({args.head_size})")
    base = TrainConfig(steps=args.steps, hidden=args.hidden, batch_size=args.batch_size,
                       nb_heads=args.hidden // args.head_size, device="cpu", threads=1,
                       eval_every=max(1, args.steps // 2), checkpoint_every=max(1, args.steps // 3))
    per = caps(algorithms, args.eval_count_cap)
    t0 = time.time()
    ledger = out / "cpu_ledger.json"
    spent = json.loads(ledger.read_text())["cpu_seconds"] if ledger.is_file() else 0.0
    if not args.table_only:
        out.mkdir(parents=True, exist_ok=True)
        for alg in algorithms:
            for proc in PROCESSORS:
                if spent > 60 * args.budget_min:
                    print(f"budget spent ({spent:.0f} CPU s): not starting {alg} / {proc}", flush=True)
                    continue
                c0 = time.process_time()
                run_suite([alg], seeds, out / proc, base.replace(processor=proc), per_algorithm=per,
                          progress=False)
                spent += time.process_time() - c0
                ledger.write_text(json.dumps({"cpu_seconds": round(spent, 1)}) + "\n")
    results = collect(out, algorithms, seeds)
    head = (f"Core suite, equal budget per run: {args.steps} steps of batch {args.batch_size}, width {args.hidden} "
            f"(relational transformer: {args.hidden // args.head_size} heads of {args.head_size}), Adam 1e-3, "
            f"seeds {seeds}, one CPU thread; validation n=16 and test n=64 on {args.eval_count_cap} samples each. "
            f"CPU time of the runs (training, data and evaluation): {spent / 60:.1f} min (budget "
            f"{args.budget_min:.0f} min).")
    text = "\n\n".join([head, table(results, algorithms, seeds), means(results, algorithms, seeds)])
    print(text)
    if args.fragment:
        load = os.getloadavg()
        frag = [
            "## Processors at equal CPU budget (triplet_gmpnn, G-ForgetNet, relational transformer)", "",
            f"Command: `python benchmarks/processors_table.py --steps {args.steps} --hidden {args.hidden} "
            f"--budget-min {args.budget_min:g} --out {args.out} --fragment {args.fragment}`  ",
            f"Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; machine: {platform.machine()}, "
            f"{os.cpu_count()} cores shared with other jobs, load average {load[0]:.1f} / {load[1]:.1f} / "
            f"{load[2]:.1f} when the table was written; wall time of this invocation {time.time() - t0:.0f} s.", "",
            text, "",
            "The published columns used 10,000 steps of batch 32 on GPUs at width 128 (the relational "
            "transformer: 192, learning rate 2.5e-4, batch 4, and edge states carried across steps, which "
            "nar's processor interface does not do); these runs use a few hundred steps on one CPU thread, so "
            "the gap to the published column measures the budget, not the model.  Per-algorithm published "
            "scores of G-ForgetNet (except BFS) and of the relational transformer could not be retrieved in "
            "this session and are left blank rather than quoted from memory.", ""]
        Path(args.fragment).parent.mkdir(parents=True, exist_ok=True)
        Path(args.fragment).write_text("\n".join(frag))
    return 0


if __name__ == "__main__":
    sys.exit(main())
