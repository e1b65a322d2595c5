"""Samples/s of every CLRS-30 algorithm (sampler + traced execution) beside the reference.

Reference: dm-clrs 2.0.3 (google-deepmind/clrs), its own samplers timed on this project's machine class
(2-core CPU, idle), s/sample copied below as facts.

    python benchmarks/sampler.py [--sizes 16 64] [--budget 0.5] [--markdown]
"""
from __future__ import annotations

import argparse
import math
import time

import nar
from nar.algorithms.registry import registered

# algorithm: (s/sample at n=16, s/sample at n=64) of the reference
REFERENCE = {
    "articulation_points": (0.0017, 0.0184), "activity_selector": (0.0004, 0.0017),
    "bellman_ford": (0.0004, 0.0051), "bfs": (0.0003, 0.0018), "binary_search": (0.0001, 0.0002),
    "bridges": (0.0011, 0.0716), "bubble_sort": (0.0011, 0.0317), "dag_shortest_paths": (0.0006, 0.0034),
    "dfs": (0.0009, 0.005), "dijkstra": (0.0004, 0.0015), "find_maximum_subarray_kadane": (0.0003, 0.0012),
    "floyd_warshall": (0.0023, 0.1731), "graham_scan": (0.0083, 0.6513), "heapsort": (0.0023, 0.0144),
    "insertion_sort": (0.0004, 0.0021), "jarvis_march": (0.0093, 0.6881), "kmp_matcher": (0.0015, 0.0021),
    "lcs_length": (0.0009, 0.0476), "matrix_chain_order": (0.0055, 1.1242), "minimum": (0.0002, 0.0009),
    "mst_kruskal": (0.0004, 0.0185), "mst_prim": (0.0004, 0.0016), "naive_string_matcher": (0.0002, 0.0007),
    "optimal_bst": (0.0007, 0.0262), "quickselect": (0.0006, 0.0036), "quicksort": (0.0007, 0.0064),
    "segments_intersect": (0.0002, 0.0002), "strongly_connected_components": (0.0023, 0.0362),
    "task_scheduling": (0.0005, 0.0011), "topological_sort": (0.0007, 0.0039),
}


def seconds_per_sample(name: str, n: int, budget: float) -> float:
    """Grow the count until one run takes ``budget`` seconds of this process's CPU time.

    CPU time (``time.process_time``) rather than wall time, so that other jobs on a shared machine do
    not count; on an idle machine the two agree for this single-threaded work.
    """
    count, seed = 8, 0
    while True:
        t0 = time.process_time()
        nar.sample(name, n=n, count=count, seed=seed)
        dt = time.process_time() - t0
        if dt >= budget or count >= 20000:
            return dt / count
        count = max(count * 2, int(count * budget / max(dt, 1e-6) * 1.1))
        seed += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--budget", type=float, default=0.5, help="seconds of sampling per cell")
    ap.add_argument("--algorithms", nargs="*", default=None)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    names = [a for a in (args.algorithms or nar.list_algorithms()) if a in registered()]
    ratios: dict[int, list[float]] = {n: [] for n in args.sizes}
    sep = " | " if args.markdown else "  "
    header = ["algorithm"] + [f"{h} n={n}" for n in args.sizes for h in ("ref s/sample", "nar s/sample", "x ref")]
    print(("| " if args.markdown else "") + sep.join(header) + (" |" if args.markdown else ""))
    if args.markdown:
        print("|" + "---|" * len(header))
    for name in names:
        row = [name]
        for col, n in enumerate(args.sizes):
            ours = seconds_per_sample(name, n, args.budget)
            ref = REFERENCE[name][0 if n <= 16 else 1] if n in (16, 64) else float("nan")
            ratio = ref / ours
            if not math.isnan(ratio):
                ratios[n].append(ratio)
            row += [f"{ref:.2e}", f"{ours:.2e}", f"{ratio:.1f}"]
        print(("| " if args.markdown else "") + sep.join(row) + (" |" if args.markdown else ""), flush=True)
    for n, rs in ratios.items():
        if rs:
            geo = math.exp(sum(math.log(r) for r in rs) / len(rs))
            print(f"n={n}: geometric mean speed-up {geo:.1f}x over {len(rs)} algorithms; "
                  f"slowest {min(rs):.1f}x ({names[rs.index(min(rs))]})")


if __name__ == "__main__":
    main()
