"""``nar.sparse.execute`` at n = 10^5 (issue 10, sparse graphs at large n).

Every sparse algorithm on a 10^5-node ER graph (expected degree 4) and on a random geometric graph
(mean degree ~4), each drawn by :func:`nar.sparse.sample_inputs` with the algorithm's CLRS direction,
weights and source: wall and CPU seconds of ``execute`` (hints recorded), the trajectory length T,
the number of hint changes logged, and the peak memory ``tracemalloc`` sees during a second, traced
run (tracing slows Python down, so times come from the untraced run).  Then ``bfs`` on a path of
``--path-n`` nodes: the dense ``nar.execute`` (in a child process, stopped after ``--dense-timeout``
seconds) against the sparse one.

    OMP_NUM_THREADS=1 python benchmarks/sparse_execute.py --fragment benchmarks/fragments/sparse_execute.md
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime, timezone

import numpy as np

from nar.sparse import ALGORITHMS, execute, sample_inputs
from nar.sparse.samplers import path


def run_one(name: str, family: str, n: int, seed: int) -> dict:
    # at mean degree 4 a geometric graph has no giant component (percolation needs ~4.5): link its
    # pieces (connected=True) so that the searches from a source cover the graph
    inputs = sample_inputs(name, n, seed, graph=family, connected=family == "geometric")
    g, s = inputs["graph"], inputs.get("source")
    t, c = time.perf_counter(), time.process_time()
    traj = execute(name, g, s)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    events = sum(h.num_events for h in traj.hints.values())
    length = traj.length
    del traj
    tracemalloc.start()
    execute(name, g, s)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return dict(name=name, family=family, E=g.num_edges, wall=wall, cpu=cpu, T=length, events=events,
                peak_mb=peak / 2**20)


DENSE_CHILD = """
import sys, time, numpy as np, nar
n = int(sys.argv[1])
A = np.zeros((n, n)); i = np.arange(n - 1); A[i, i + 1] = A[i + 1, i] = 1
t = time.perf_counter(); traj = nar.execute("bfs", A=A, s=0)
print(time.perf_counter() - t, traj.length)
"""


def path_bfs(n: int, timeout: float) -> dict:
    g = path(n)
    t = time.perf_counter()
    traj = execute("bfs", g, 0)
    sparse = time.perf_counter() - t
    try:
        out = subprocess.run([sys.executable, "-c", DENSE_CHILD, str(n)], capture_output=True, text=True,
                             timeout=timeout, check=True).stdout.split()
        dense, dense_T = float(out[0]), int(out[1])
    except subprocess.TimeoutExpired:
        dense, dense_T = None, None
    return dict(n=n, sparse=sparse, T=traj.length, dense=dense, dense_T=dense_T)


def table(rows: list[dict], bfs: dict, n: int, timeout: float) -> str:
    lines = ["| algorithm | graph | E | wall s | CPU s | T | hint changes | peak MB |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['family']} | {r['E']:,} | {r['wall']:.2f} | {r['cpu']:.2f} | "
                     f"{r['T']:,} | {r['events']:,} | {r['peak_mb']:.0f} |")
    dense = f"{bfs['dense']:.2f} s (T = {bfs['dense_T']:,})" if bfs["dense"] is not None else \
        f"not finished in {timeout:.0f} s"
    lines += ["", f"bfs on a path of {bfs['n']:,} nodes from node 0: sparse {bfs['sparse']:.3f} s "
              f"(T = {bfs['T']:,}), dense `nar.execute` {dense}."]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--families", nargs="+", default=["er", "geometric"])
    ap.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS))
    ap.add_argument("--path-n", type=int, default=5000)
    ap.add_argument("--dense-timeout", type=float, default=300.0)
    ap.add_argument("--fragment", help="write the table, with command, date, machine and load, here")
    args = ap.parse_args(argv)
    rows = []
    for family in args.families:
        for name in args.algorithms:
            rows.append(run_one(name, family, args.n, args.seed))
            r = rows[-1]
            print(f"{name:30s} {family:10s} wall {r['wall']:6.2f} s  cpu {r['cpu']:6.2f} s  T {r['T']:>8,}  "
                  f"peak {r['peak_mb']:6.0f} MB", flush=True)
    bfs = path_bfs(args.path_n, args.dense_timeout)
    text = table(rows, bfs, args.n, args.dense_timeout)
    print(text)
    if args.fragment:
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        head = [
            "## Sparse execution at n = 10^5 (`nar.sparse.execute`)", "",
            f"Command: `OMP_NUM_THREADS=1 python benchmarks/sparse_execute.py {' '.join(argv or sys.argv[1:])}`  ",
            f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}; "
            f"load average at the end {load} (the machine was shared, so wall seconds exceed CPU seconds).", "",
            f"n = {args.n:,}; ER: G(n, p = 4 / (n - 1)); geometric: unit square, radius for mean degree 4. "
            "Direction, weights and source as each algorithm's CLRS sampler; hints recorded as change logs. "
            "The geometric graphs are made connected (`connected=True`: one edge between consecutive "
            "components; at mean degree 4 they have no giant component). "
            "Peak MB: tracemalloc during a second run of `execute` (inputs excluded).", "", ""
        ]
        with open(args.fragment, "w") as f:
            f.write("\n".join(head) + text + "\n")


if __name__ == "__main__":
    main()
