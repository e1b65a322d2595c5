"""Exact flooding on one large random graph with the NTK predictor: time and memory.

The graph: every node gets ``D`` edge stubs, the stubs are paired at random and self-loops and
duplicate edges are dropped (maximum degree <= D, almost every node in one component).  The
program is the seed paper's flooding (``D^2 + 1`` slots, cascade chains), run for its bound
``ecc(source) * (d + 3)`` steps by the GNN of Equation 2 with the closed-form NTK predictor and the
Heaviside before aggregation; the result is compared with BFS reachability.  Reports graph
construction, preparation (local IDs by distance-2 colouring, initial states) and execution times,
process CPU time and the peak resident memory.

    python benchmarks/exact_flooding_large.py [--nodes 100000] [--max-degree 4] [--bits 1] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import time

import numpy as np
import torch

from nar.exact import Graph
from nar.exact.executor import run
from nar.exact.ntk import NTKPredictor
from nar.exact.programs.flooding import Flooding


def stub_graph(rng: np.random.Generator, n: int, D: int) -> Graph:
    stubs = np.repeat(np.arange(n), D)
    rng.shuffle(stubs)
    e = stubs[: len(stubs) // 2 * 2].reshape(-1, 2)
    e = np.unique(np.sort(e[e[:, 0] != e[:, 1]], 1), axis=0)
    return Graph(n, e)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--max-degree", type=int, default=4)
    ap.add_argument("--bits", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# exact_flooding_large  {time.strftime('%Y-%m-%d %H:%M')}  {platform.machine()}, "
          f"{os.cpu_count()} cores, torch {torch.__version__}, executor threads "
          f"{args.threads or 'auto (1 below R*max(N,k) = 1e7)'}, "
          f"load average {os.getloadavg()[0]:.1f}")
    c_all, w_all = time.process_time(), time.perf_counter()
    g = stub_graph(np.random.default_rng(args.seed), args.nodes, args.max_degree)
    w1 = time.perf_counter()
    f = Flooding(D=args.max_degree, l=args.bits)
    message = 2 ** args.bits - 1
    prep = f.prepare([g], 0, [{"message": message}])
    w2 = time.perf_counter()
    c3 = time.process_time()
    res = run(f.compiled, prep.batch, prep.X0, NTKPredictor(), record_at=prep.bounds, track=False,
              threads=args.threads)
    w3, c4 = time.perf_counter(), time.process_time()
    out = f.decode(g, 0, res.snapshots[0])
    exact = np.array_equal(out["message"], f.truth(g, 0, message=message)["message"])
    reached = int((out["message"] == message).sum())
    print(f"nodes {g.n}, edges {len(g.edges)}, max degree {g.max_degree}, reached {reached}; "
          f"{f.compiled.N} templates, {f.k} state bits, {int(prep.bounds[0])} steps")
    print(f"graph {w1 - w_all:.1f} s, prepare {w2 - w1:.1f} s, execute {w3 - w2:.1f} s wall "
          f"({c4 - c3:.1f} s CPU, {1000 * (w3 - w2) / prep.bounds[0]:.0f} ms/step); total "
          f"{w3 - w_all:.1f} s wall, {time.process_time() - c_all:.1f} s CPU")
    print(f"exact: {exact}; peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
