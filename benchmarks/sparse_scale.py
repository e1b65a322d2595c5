"""Sparse models at scale (issue 10): time and memory of the sparse forward on large sparse graphs.

Cases (each measured in a fresh worker process, one thread, so that its peak memory is its own):

    target     mpnn bfs on one 16,384-node ER graph, full trajectory (targets: < 10 s, < 2 GB)
    target     triplet_gmpnn bfs on one 4,096-node ER graph (target: < 60 s)
    sweep      mpnn and triplet_gmpnn bfs at n = 1,024, 4,096, 16,384: memory against the number of edges

Models: the shipped pretrained ``mpnn-bfs`` / ``triplet_gmpnn-bfs`` (trained dense at n <= 16), run sparse, so the
score column is also a (single-graph) size-generalisation figure.  Graphs: ``nar.sparse.sample("bfs", n, 1, seed,
graph="er")`` (expected degree 4), generated once per size in their own process and cached under ``--out``.
Reported per case: model wall seconds and process CPU seconds of the forward + decoding (the machine is
shared: CPU seconds are the load-independent figure), peak resident memory of the worker (VmHWM) and the
part of it above the resident memory just before the run (the model's own), edges M and steps T.

    python benchmarks/sparse_scale.py --out runs/sparse_scale --fragment benchmarks/fragments/sparse_models.md
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

CASES = [  # (processor, n, role)
    ("mpnn", 16384, "target < 10 s, < 2 GB"),
    ("triplet_gmpnn", 4096, "target < 60 s"),
    ("mpnn", 1024, "sweep"),
    ("mpnn", 4096, "sweep"),
    ("triplet_gmpnn", 1024, "sweep"),
    ("triplet_gmpnn", 16384, "sweep"),
]


def rss_bytes(field: str = "VmRSS") -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def graph_file(out: Path, n: int, seed: int) -> Path:
    return out / f"bfs_er_n{n}_s{seed}.pkl"


def generate(out: Path, n: int, seed: int) -> None:
    from nar.sparse import sample

    t0 = time.perf_counter()
    traj = sample("bfs", n, 1, seed, graph="er")[0]
    with open(graph_file(out, n, seed), "wb") as f:
        pickle.dump({"traj": traj, "seconds": time.perf_counter() - t0}, f)


def measure(out: Path, proc: str, n: int, seed: int) -> dict:
    import torch

    torch.set_num_threads(1)
    from nar.models.sparse.scoring import evaluate
    from nar.pretrained import load

    with open(graph_file(out, n, seed), "rb") as f:
        data = pickle.load(f)
    model = load(f"{proc}-bfs").model
    base = rss_bytes()
    c0 = time.process_time()
    res = evaluate(model, "bfs", trajectories=[data["traj"]])
    cpu = time.process_time() - c0
    peak = rss_bytes("VmHWM")
    return {"processor": proc, "n": n, "seed": seed, "edges": res.edges, "steps": res.steps,
            "score": res.scores.score, "hints": res.scores.hints, "wall_s": res.seconds_per_graph, "cpu_s": cpu,
            "peak_mb": peak / 2**20, "model_mb": (peak - base) / 2**20, "data_s": data["seconds"]}


def run_worker(args_list: list[str]) -> str:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    res = subprocess.run([sys.executable, __file__, *args_list], capture_output=True, text=True, env=env)
    if res.returncode:
        raise RuntimeError(f"worker {args_list} failed:\n{res.stderr}")
    return res.stdout


def linear_fit(xs, ys):
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    icpt = my - slope * mx
    ss_res = sum((y - (icpt + slope * x)) ** 2 for x, y in zip(xs, ys))
    ss_tot = sum((y - my) ** 2 for y in ys) or 1.0
    return slope, icpt, 1 - ss_res / ss_tot


def table(rows: list[dict], args) -> str:
    load = os.getloadavg()
    lines = [
        "## Sparse models at scale (issue 10)",
        "",
        f"Command: `python benchmarks/sparse_scale.py --out {args.out} --seed {args.seed}`; "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.machine()}, {os.cpu_count()} cores "
        f"(shared), torch {__import__('torch').__version__}, 1 thread per worker; load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.",
        "",
        "Pretrained dense models (`mpnn-bfs`, `triplet_gmpnn-bfs`, trained at n <= 16) run sparse on one ER graph "
        "(expected degree 4) per size, full trajectory (ground-truth step count, every hint decoded). "
        "Wall seconds depend on the machine's load; CPU seconds are the process's own. "
        "Model MB = peak resident memory minus the resident memory just before the run.",
        "",
        "| processor | n | edges M | steps T | wall s | CPU s | peak MB | model MB | score (pi) | role |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['processor']} | {r['n']:,} | {r['edges']:,.0f} | {r['steps']:.0f} | {r['wall_s']:.2f} | "
                     f"{r['cpu_s']:.2f} | {r['peak_mb']:.0f} | {r['model_mb']:.0f} | {r['score']:.3f} | {r['role']} |")
    lines.append("")
    for proc in sorted({r["processor"] for r in rows}):
        pts = sorted((r["edges"], r["model_mb"]) for r in rows if r["processor"] == proc)
        if len(pts) >= 3:
            slope, icpt, r2 = linear_fit([p[0] for p in pts], [p[1] for p in pts])
            lines.append(f"- {proc}: model memory = {icpt:.1f} MB + {slope * 2**20 / 1024:.2f} KiB per edge "
                         f"(least squares over {len(pts)} sizes, R^2 = {r2:.4f}).")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="runs/sparse_scale")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fragment", help="write the Markdown table to this file")
    ap.add_argument("--worker", nargs=3, metavar=("KIND", "PROC", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.worker:
        kind, proc, n = args.worker
        if kind == "gen":
            generate(out, int(n), args.seed)
        else:
            print(json.dumps(measure(out, proc, int(n), args.seed)))
        return
    rows = []
    for proc, n, role in CASES:
        if not graph_file(out, n, args.seed).exists():
            run_worker(["--out", str(out), "--seed", str(args.seed), "--worker", "gen", "-", str(n)])
        r = json.loads(run_worker(["--out", str(out), "--seed", str(args.seed), "--worker", "run", proc, str(n)]))
        r["role"] = role
        rows.append(r)
        print(json.dumps(r), flush=True)
    (out / "results.json").write_text(json.dumps(rows, indent=1))
    text = table(rows, args)
    print(text)
    if args.fragment:
        Path(args.fragment).write_text(text)


if __name__ == "__main__":
    main()
