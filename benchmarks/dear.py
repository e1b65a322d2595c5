"""DEAR beside the step-wise reasoner without hints that is given the true step count (issue 4).

For each algorithm and seed, both models are trained with the same processor, width, batch size, number
of steps, learning rate, gradient clipping and the same stream of training batches (CLRS sizes 4/7/11/13/16
cycled, random ``pos``, the generalist per-graph ER ``p``); the weights with the best validation score
(n = 16) are tested at ``--test-n`` (64).  The step-wise reasoner (:class:`nar.models.Reasoner`,
``hint_mode='none'``) runs each graph for its ground-truth number of steps; DEAR
(:class:`nar.models.deq.DEQReasoner`) finds a fixed point with its solver and is told nothing.

Results are appended to ``--out/results.jsonl`` (one line per algorithm, seed and model; a rerun skips
what is there) and the trained weights go to ``--out/<algorithm>-<model>-s<seed>.pt`` for
``benchmarks/dear_inference.py``.  The table printed at the end (``--table`` prints it alone) reads the
JSONL file.

    python benchmarks/dear.py --algorithms bellman_ford bfs --seeds 0 --steps 1000 --hidden 32 --out runs/dear
"""
from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

import nar
from nar.data import collate
from nar.data.dataset import OnTheFlyDataset
from nar.models import Reasoner, evaluate
from nar.models.deq import DEQConfig, DEQReasoner, evaluate_deq
from nar.samplers import generalist_p, sampler_options

DEAR_ALGORITHMS = ["bellman_ford", "floyd_warshall", "dag_shortest_paths", "mst_prim", "bfs", "dfs",
                   "strongly_connected_components", "binary_search", "minimum", "insertion_sort"]
TRAIN_SIZES = [4, 7, 11, 13, 16]


def build(model: str, algorithm: str, args) -> torch.nn.Module:
    if model == "nar":
        return Reasoner(algorithm, args.processor, args.hidden, hint_mode="none")
    cfg = DEQConfig(solver=args.solver, tol=args.tol, grad=args.grad, max_iter=args.max_iter,
                    eval_max_iter=args.eval_max_iter)
    return DEQReasoner(algorithm, args.processor, args.hidden, config=cfg)


def eval_set(algorithm: str, n: int, count: int, seed: int, batch: int, device) -> list:
    trajs = nar.sample(algorithm, n=n, count=count, seed=seed)
    return [collate(trajs[i:i + batch]).to(device) for i in range(0, count, batch)]


def score(model, batches, kind: str) -> tuple[float, dict]:
    if kind == "deq":
        scores, summary = evaluate_deq(model, batches)
        return scores.score, summary.as_dict()
    return evaluate(model, batches, hints=False).score, {}


def train_one(algorithm: str, kind: str, seed: int, args, device) -> dict:
    opts = {"random_pos": True}
    if "p" in sampler_options(algorithm):
        opts["p"] = list(generalist_p(algorithm))
    stream = OnTheFlyDataset(algorithm, TRAIN_SIZES, args.batch_size, seed=1000 + seed, **opts)
    val = eval_set(algorithm, 16, args.val_count, 2, args.eval_batch, device)
    torch.manual_seed(seed)
    model = build(kind, algorithm, args).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    best, best_state, best_step, curve = -1.0, None, 0, []
    t0 = time.perf_counter()
    train_time = 0.0
    for step in range(1, args.steps + 1):
        batch = collate(stream.trajectories(step)).to(device)
        ts = time.perf_counter()
        model.train()
        gen = torch.Generator(device=device).manual_seed(seed * 100003 + step)
        losses = model.loss(model(batch, generator=gen), batch)
        opt.zero_grad(set_to_none=True)
        losses["total"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        train_time += time.perf_counter() - ts
        if step % args.eval_every == 0 or step == args.steps:
            with torch.no_grad():
                v, _ = score(model, val, kind)
            curve.append((step, round(v, 4), round(float(losses["total"].detach()), 4)))
            if v > best:
                best, best_state, best_step = v, copy.deepcopy(model.state_dict()), step
            print(f"  {algorithm} {kind} s{seed} step {step}: loss {float(losses['total'].detach()):.3f} "
                  f"val {v:.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    model.load_state_dict(best_state)
    test = eval_set(algorithm, args.test_n, args.test_count, 3, args.eval_batch, device)
    te = time.perf_counter()
    with torch.no_grad():
        test_score, solver = score(model, test, kind)
    test_seconds = time.perf_counter() - te
    out = Path(args.out)
    torch.save(model.state_dict(), out / f"{algorithm}-{kind}-s{seed}.pt")
    return {"algorithm": algorithm, "model": kind, "seed": seed, "test": test_score, "val": best,
            "best_step": best_step, "steps": args.steps, "train_seconds": round(train_time, 1),
            "test_seconds": round(test_seconds, 1), "solver": solver, "curve": curve,
            "settings": {k: getattr(args, k) for k in ("processor", "hidden", "batch_size", "lr", "solver", "tol",
                                                        "grad", "max_iter", "eval_max_iter", "test_n",
                                                        "test_count", "val_count", "device")},
            "torch_threads": torch.get_num_threads(), "machine": platform.node(),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def table(path: Path) -> str:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    by: dict = {}
    for r in rows:
        by.setdefault(r["algorithm"], {}).setdefault(r["model"], []).append(r)
    lines = ["| algorithm | NAR, no hints, true step count | DEAR | DEAR - NAR | DEAR iterations (mean / max) | "
             "DEAR converged | seeds |", "|---|---|---|---|---|---|---|"]
    within = 0
    for alg in [a for a in DEAR_ALGORITHMS if a in by] + sorted(set(by) - set(DEAR_ALGORITHMS)):
        nar_r, deq_r = by[alg].get("nar", []), by[alg].get("deq", [])
        seeds = sorted({r["seed"] for r in nar_r} & {r["seed"] for r in deq_r})
        if not seeds:
            continue
        a = [r["test"] for r in nar_r if r["seed"] in seeds]
        d = [r["test"] for r in deq_r if r["seed"] in seeds]
        its = [r["solver"]["iterations/mean"] for r in deq_r if r["seed"] in seeds]
        mx = [r["solver"]["iterations/max"] for r in deq_r if r["seed"] in seeds]
        conv = [r["solver"]["converged"] for r in deq_r if r["seed"] in seeds]
        diff = 100 * (statistics.mean(d) - statistics.mean(a))
        within += diff >= -2
        lines.append(f"| {alg} | {_ms(a)} | {_ms(d)} | {diff:+.1f} | {statistics.mean(its):.1f} / {max(mx):.0f} | "
                     f"{100 * statistics.mean(conv):.0f}% | {','.join(map(str, seeds))} |")
    lines.append(f"\nDEAR within 2 points of the baseline or above it on {within} algorithm(s).")
    return "\n".join(lines)


def _ms(xs: list[float]) -> str:
    m = 100 * statistics.mean(xs)
    return f"{m:.1f} ± {100 * statistics.stdev(xs):.1f}" if len(xs) > 1 else f"{m:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--algorithms", nargs="+", default=DEAR_ALGORITHMS)
    ap.add_argument("--models", nargs="+", default=["nar", "deq"], choices=["nar", "deq"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--processor", default="mpnn")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--batch-size", dest="batch_size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--solver", default="anderson")
    ap.add_argument("--tol", type=float, default=1e-2)
    ap.add_argument("--grad", default="phantom")
    ap.add_argument("--max-iter", dest="max_iter", type=int, default=40)
    ap.add_argument("--eval-max-iter", dest="eval_max_iter", type=int, default=160)
    ap.add_argument("--eval-every", dest="eval_every", type=int, default=100)
    ap.add_argument("--val-count", dest="val_count", type=int, default=64)
    ap.add_argument("--test-n", dest="test_n", type=int, default=64)
    ap.add_argument("--test-count", dest="test_count", type=int, default=32)
    ap.add_argument("--eval-batch", dest="eval_batch", type=int, default=16)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="runs/dear")
    ap.add_argument("--table", action="store_true", help="only print the table of --out/results.jsonl")
    args = ap.parse_args()
    out = Path(args.out)
    path = out / "results.jsonl"
    if args.table:
        print(table(path))
        return
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    done = set()
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                done.add((r["algorithm"], r["model"], r["seed"]))
    for seed in args.seeds:
        for alg in args.algorithms:
            for kind in args.models:
                if (alg, kind, seed) in done:
                    continue
                r = train_one(alg, kind, seed, args, device)
                print(f"{alg} {kind} seed {seed}: test {r['test']:.4f} (val {r['val']:.4f} at step {r['best_step']}, "
                      f"{r['train_seconds']:.0f} s training) {r['solver']}", flush=True)
                with path.open("a") as fh:
                    fh.write(json.dumps(r) + "\n")
    print(table(path))


if __name__ == "__main__":
    main()
