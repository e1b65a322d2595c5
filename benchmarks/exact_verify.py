"""Exact reasoners: verification time and correctness of the four programs.

Part "reference": 100 graphs per program from the reference validators' distribution (n in 2..7,
degree cap <= 3, Bellman-Ford weights 1..3), programs built for D = 3, ideal and NTK predictors.
Part "large": 100 connected random graphs with 8..64 nodes and maximum degree <= 3 (random
bounded-degree spanning tree + extra edges), NTK predictor -- the reference verified n <= 7 only.
Each graph is decoded at its own iteration bound and compared with the textbook ground truth and
with ``nar.execute`` (parents of bfs / bellman_ford / dfs).  Wall and process-CPU seconds per
program; the machine load is printed because the benchmark machine is shared.

    python benchmarks/exact_verify.py [--parts reference large] [--graphs 100] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import time

import numpy as np
import torch

from nar.exact.ntk import NTKPredictor
from nar.exact.programs import get_program
from nar.exact.verification import random_graphs, verify

PROGRAMS = ("flooding", "bfs", "dfs", "bellman_ford")


def part(name: str, count: int, nodes, kind: str, predictors, threads, seed: int = 0):
    print(f"\n## {name}: {count} graphs, n in {nodes[0]}..{nodes[1]}, D <= 3 ({kind} generator)")
    print(f"{'program':<13} {'pred':<6} {'exact':>7} {'N':>5} {'k':>5} {'l':>3} {'max m':>6} "
          f"{'steps':>6} {'wall s':>7} {'cpu s':>6}  min mean(1-bits) / max mean(0-bits)")
    for prog in PROGRAMS:
        cls = get_program(prog)
        rng = np.random.default_rng(seed)
        gs = random_graphs(rng, count, nodes, 3, (1, 3) if cls.weighted else None, kind=kind)
        program = cls(D=3, l=cls.bits_for(gs))
        for pred in predictors:
            predictor = None if pred == "ideal" else NTKPredictor()
            c0, w0 = time.process_time(), time.perf_counter()
            rep = verify(program, gs, predictor)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            margin = "" if pred == "ideal" else f"{rep.stats.min_pos:.4f} / {rep.stats.max_neg:.2g}"
            print(f"{prog:<13} {pred:<6} {rep.passed:>3}/{len(gs):<3} {program.compiled.N:>5} "
                  f"{program.k:>5} {program.l:>3} {rep.stats.max_matched:>6} {max(r.steps for r in rep.results):>6} "
                  f"{wall:>7.2f} {cpu:>6.2f}  {margin}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parts", nargs="+", default=["reference", "large"], choices=["reference", "large"])
    ap.add_argument("--graphs", type=int, default=100)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: the executor's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# exact_verify  {time.strftime('%Y-%m-%d %H:%M')}  {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, torch {torch.__version__}, load average {os.getloadavg()[0]:.1f}")
    if "reference" in args.parts:
        part("reference", args.graphs, (2, 7), "reference", ("ideal", "ntk"), args.threads)
    if "large" in args.parts:
        part("large", args.graphs, (8, 64), "bounded", ("ntk",), args.threads, seed=1)
    print(f"\npeak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
