"""One exact program on one large random graph with the NTK predictor: time and memory.

The graph: every node gets ``D`` edge stubs, the stubs are paired at random and self-loops and
duplicate edges are dropped (maximum degree <= D, almost every node in one component); weighted
programs get integer weights drawn from ``--weights``.  The program (``bfs``, ``flooding``,
``bellman_ford``, ``dfs`` or any registered one) runs from node 0 for its own iteration bound, by
the GNN of Equation 2 with the closed-form NTK predictor (Heaviside before aggregation), and the
decoded outputs are compared with the textbook ground truth (:mod:`nar.exact.truth`).  Reports
graph construction, preparation (checks, local IDs by distance-2 colouring, initial states),
execution (wall and process CPU) and truth times, and the peak resident memory of the process.
``--sweep`` doubles ``--nodes`` while the execution stays under ``--limit`` seconds (each size in
a fresh process, so peak memory is per size).

    python benchmarks/exact_large.py --program bfs [--nodes 100000] [--max-degree 4] [--threads N]
    python benchmarks/exact_large.py --program bellman_ford --nodes 1000 --sweep --limit 60
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np
import torch

from nar.exact import Graph
from nar.exact.executor import run
from nar.exact.ntk import NTKPredictor
from nar.exact.programs import get_program


def stub_graph(rng: np.random.Generator, n: int, D: int, weights: tuple[int, int] | None = None) -> Graph:
    stubs = np.repeat(np.arange(n), D)
    rng.shuffle(stubs)
    e = stubs[: len(stubs) // 2 * 2].reshape(-1, 2)
    e = np.unique(np.sort(e[e[:, 0] != e[:, 1]], 1), axis=0)
    w = None if weights is None else rng.integers(weights[0], weights[1] + 1, len(e))
    return Graph(n, e, w)


def measure(program: str, nodes: int, D: int, seed: int = 0, bits: int | None = None,
            weights=(1, 3), threads: int | None = None, message_bits: int = 1) -> dict:
    """Build, prepare, execute and check one run; returns the numbers (peak memory of this process)."""
    cls = get_program(program)
    c_all, w0 = time.process_time(), time.perf_counter()
    g = stub_graph(np.random.default_rng(seed), nodes, D, weights if cls.weighted else None)
    w1 = time.perf_counter()
    if program == "flooding":
        prog, inputs = cls(D=D, l=message_bits), [{"message": 2 ** message_bits - 1}]
    else:
        l = bits if bits is not None else (cls.bits_for([g], 0) if cls.weighted else
                                           max(g.eccentricity(0), 1).bit_length())
        prog, inputs = cls(D=D, l=l), None
    prep = prog.prepare([g], 0, inputs)
    w2, c2 = time.perf_counter(), time.process_time()
    res = run(prog.compiled, prep.batch, prep.X0, NTKPredictor(), record_at=prep.bounds, track=False,
              threads=threads)
    w3, c3 = time.perf_counter(), time.process_time()
    out = prog.decode(g, 0, res.snapshots[0])
    truth = prog.truth(g, 0, **(inputs[0] if inputs else {}))
    exact = all(np.array_equal(out[key], truth[key]) for key in out if key in truth)
    w4 = time.perf_counter()
    return {"program": program, "nodes": g.n, "edges": int(len(g.edges)), "max_degree": g.max_degree,
            "templates": prog.compiled.N, "state_bits": prog.k, "l": prog.l, "steps": int(prep.bounds[0]),
            "graph_s": w1 - w0, "prepare_s": w2 - w1, "execute_s": w3 - w2, "execute_cpu_s": c3 - c2,
            "ms_per_step": 1000 * (w3 - w2) / max(int(prep.bounds[0]), 1), "truth_s": w4 - w3,
            "total_s": w3 - w0, "total_cpu_s": time.process_time() - c_all, "exact": bool(exact),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def show(r: dict) -> str:
    return (f"{r['program']}: nodes {r['nodes']}, edges {r['edges']}, max degree {r['max_degree']}; "
            f"{r['templates']} templates, {r['state_bits']} state bits, l = {r['l']}, {r['steps']} steps | "
            f"graph {r['graph_s']:.1f} s, prepare {r['prepare_s']:.1f} s, execute {r['execute_s']:.1f} s wall "
            f"({r['execute_cpu_s']:.1f} s CPU, {r['ms_per_step']:.0f} ms/step); total {r['total_s']:.1f} s wall, "
            f"{r['total_cpu_s']:.1f} s CPU (truth check {r['truth_s']:.1f} s more) | exact: {r['exact']}; "
            f"peak resident memory {r['peak_mb']:.0f} MB")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--program", default="bfs")
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--max-degree", type=int, default=4)
    ap.add_argument("--bits", type=int, default=None,
                    help="l (default: what the graph needs); flooding: the message width (default 1)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sweep", action="store_true", help="double --nodes while execution < --limit s")
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--json", action="store_true", help="print one JSON line (used by --sweep)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.sweep:
        print(f"# exact_large --sweep  {time.strftime('%Y-%m-%d %H:%M')}  {platform.machine()}, "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
        n, best = args.nodes, None
        while True:
            cmd = [sys.executable, __file__, "--program", args.program, "--nodes", str(n), "--max-degree",
                   str(args.max_degree), "--seed", str(args.seed), "--json"]
            cmd += ["--threads", str(args.threads)] if args.threads else []
            try:
                line = subprocess.run(cmd, capture_output=True, text=True, check=True,
                                      timeout=20 * args.limit).stdout.strip().splitlines()[-1]
            except subprocess.TimeoutExpired:
                print(f"{n} nodes: killed after {20 * args.limit:.0f} s")
                break
            r = json.loads(line)
            print(show(r), flush=True)
            if r["execute_s"] > args.limit or not r["exact"]:
                break
            best, n = r, 2 * n
        print(f"largest exact under {args.limit:.0f} s of execution: "
              + (f"{best['nodes']} nodes ({best['execute_s']:.1f} s)" if best else "none"))
        return
    message_bits = args.bits or 1
    r = measure(args.program, args.nodes, args.max_degree, args.seed,
                None if args.program == "flooding" else args.bits, threads=args.threads,
                message_bits=message_bits)
    if args.json:
        print(json.dumps(r))
        return
    print(f"# exact_large  {time.strftime('%Y-%m-%d %H:%M')}  {platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}, executor threads {args.threads or 'auto (1 below R*max(N,k) = 1e7)'}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(show(r))


if __name__ == "__main__":
    main()
