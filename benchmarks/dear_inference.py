"""Inference effort of DEAR beside the step-wise reasoner given the true step count (issue 4).

Per algorithm and size n: processor applications per graph (step-wise: its ground-truth number of
steps, ``max(length - 1, 1)``; DEAR: its solver's evaluations + 1 at the fixed point for the decoders)
and time per sample of ``model.predict`` on batches already built and on the device -- set-up
(sampling, collating, transfer, model construction, loading weights, a warm-up call) is excluded.
Wall time and process CPU time are both given (the CPU time is less sensitive to a shared machine).
The models are the ones ``benchmarks/dear.py`` trained (``--runs``: ``<alg>-nar-s<seed>.pt`` and
``<alg>-deq-s<seed>.pt``, built with the settings saved in its ``results.jsonl``); ``--untrained``
times freshly initialised models instead (a smoke test: an untrained DEQ need not converge).

    python benchmarks/dear_inference.py --runs /work/dear_runs/main --sizes 64 256 --device cpu
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

import nar
from nar.data import collate
from nar.models import Reasoner, evaluate
from nar.models.deq import DEQConfig, DEQReasoner, evaluate_deq

LONG = ["insertion_sort", "dfs", "strongly_connected_components", "mst_prim"]


def settings(runs: Path, algorithm: str, seed: int) -> dict:
    path = runs / "results.jsonl"
    for line in path.read_text().splitlines() if path.is_file() else []:
        r = json.loads(line)
        if r["algorithm"] == algorithm and r["seed"] == seed and r["model"] == "deq":
            return r["settings"]
    raise FileNotFoundError(f"no DEAR result for {algorithm} seed {seed} in {path}; run benchmarks/dear.py first")


def models(algorithm: str, args, device) -> tuple[torch.nn.Module, torch.nn.Module, dict]:
    runs = Path(args.runs) if args.runs else None
    s = {"processor": "mpnn", "hidden": 32, "solver": "anderson", "tol": 1e-2, "grad": "phantom", "max_iter": 40,
         "eval_max_iter": 160} if args.untrained else settings(runs, algorithm, args.seed)
    cfg = DEQConfig(solver=s["solver"], tol=s["tol"], grad=s["grad"], max_iter=s["max_iter"],
                    eval_max_iter=s["eval_max_iter"])
    torch.manual_seed(args.seed)
    step = Reasoner(algorithm, s["processor"], s["hidden"], hint_mode="none")
    deq = DEQReasoner(algorithm, s["processor"], s["hidden"], config=cfg)
    if not args.untrained:
        step.load_state_dict(torch.load(runs / f"{algorithm}-nar-s{args.seed}.pt", map_location="cpu"))
        deq.load_state_dict(torch.load(runs / f"{algorithm}-deq-s{args.seed}.pt", map_location="cpu"))
    if args.tol is not None:
        deq.config = dataclasses.replace(deq.config, tol=args.tol)
    return step.to(device).eval(), deq.to(device).eval(), s


def timed(fn, device) -> tuple[float, float]:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t, c = time.perf_counter(), time.process_time()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - t, time.process_time() - c


def run(algorithm: str, n: int, count: int, batch: int, args, device) -> list[dict]:
    step, deq, s = models(algorithm, args, device)
    trajs = nar.sample(algorithm, n=n, count=count, seed=3)
    batches = [collate(trajs[i:i + batch]).to(device) for i in range(0, count, batch)]
    warm = collate(nar.sample(algorithm, n=min(n, 16), count=2, seed=4)).to(device)
    rows = []
    with torch.no_grad():
        for name, model in (("step-wise (true steps)", step), ("DEAR", deq)):
            model.predict(warm)  # warm-up: first-call allocations are set-up
            walls, cpus = [], []
            for _ in range(args.repeats):
                w, c = timed(lambda: [model.predict(b) for b in batches], device)
                walls.append(w)
                cpus.append(c)
            if name == "DEAR":
                scores, summary = evaluate_deq(model, batches)
                apps = summary.applications.to(torch.float64)
                extra = {"converged": float(summary.converged.double().mean()),
                         "residual_median": float(summary.residual.double().median())}
            else:
                scores = evaluate(model, batches, hints=False)
                apps = torch.cat([(b.lengths - 1).clamp_min(1) for b in batches]).to(torch.float64)
                extra = {}
            rows.append({"algorithm": algorithm, "n": n, "model": name, "samples": count, "batch": batch,
                         "applications_mean": float(apps.mean()), "applications_max": float(apps.max()),
                         "wall_ms_per_sample": 1000 * min(walls) / count, "cpu_ms_per_sample": 1000 * min(cpus) / count,
                         "score": scores.score, "tol": deq.config.tol, **extra, "settings": s})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--algorithms", nargs="+", default=LONG)
    ap.add_argument("--sizes", nargs="+", type=int, default=[64, 256])
    ap.add_argument("--counts", nargs="+", type=int, default=[16, 2], help="samples per size")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--runs", default=None, help="output folder of benchmarks/dear.py")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tol", type=float, default=None, help="DEAR's tolerance at inference (default: trained one)")
    ap.add_argument("--untrained", action="store_true")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None, help="append the rows as JSON lines to this file")
    args = ap.parse_args()
    if not args.untrained and not args.runs:
        ap.error("give --runs (trained models of benchmarks/dear.py) or --untrained")
    if len(args.counts) != len(args.sizes):
        ap.error("--counts needs one count per size")
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print("| algorithm | n | model | processor applications / graph (mean, max) | ms / sample (wall) | "
          "ms / sample (CPU) | score | DEAR converged |")
    print("|---|---|---|---|---|---|---|---|")
    for n, count in zip(args.sizes, args.counts):
        for alg in args.algorithms:
            for r in run(alg, n, count, min(args.batch, count), args, device):
                conv = f"{100 * r['converged']:.0f}%" if "converged" in r else ""
                print(f"| {alg} | {n} | {r['model']} | {r['applications_mean']:.1f}, {r['applications_max']:.0f} | "
                      f"{r['wall_ms_per_sample']:.1f} | {r['cpu_ms_per_sample']:.1f} | {100 * r['score']:.1f} | {conv} |",
                      flush=True)
                if args.out:
                    r.update(device=str(device), threads=torch.get_num_threads(), machine=platform.node(),
                             date=datetime.now(timezone.utc).isoformat(timespec="seconds"))
                    with open(args.out, "a") as fh:
                        fh.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
