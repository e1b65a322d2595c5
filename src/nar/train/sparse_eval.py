"""``nar eval RUN --n 4096 --graph er|geometric|grid``: a trained run scored on large sparse graphs.

The model is the run's own (dense-trained) Reasoner run through :mod:`nar.models.sparse`; the graphs come
from :mod:`nar.sparse`'s samplers.  Prints per algorithm the CLRS score, model seconds per graph and peak memory.
"""
from __future__ import annotations

import json

from ..models.sparse.scoring import GRAPHS, SparseEvalResult, evaluate
from ..validation import InputError
from .inference import load


def evaluate_run(path, *, n: int = 4096, graph: str = "er", count: int = 1, seed: int = 0,
                 algorithms: list[str] | None = None, which: str = "best", device: str = "cpu",
                 batch_graphs: int = 1, **graph_options) -> dict[str, SparseEvalResult]:
    """Scores of the run at ``path`` on ``count`` sparse ``graph`` graphs of ``n`` nodes per algorithm."""
    loaded = load(path, device=device, which=which)
    if loaded.step_count != "truth":
        raise InputError("sparse evaluation runs the ground-truth number of steps; this run halts by its "
                         "learned termination head (step_count='learned')")
    names = algorithms or loaded.algorithms
    bad = [a for a in names if a not in loaded.algorithms]
    if bad:
        raise InputError(f"--algorithm: this run was trained on {loaded.algorithms}, not {bad}")
    return {a: evaluate(loaded.model, a, n=n, graph=graph, count=count, seed=seed, batch_graphs=batch_graphs,
                        **graph_options) for a in names}


def cli_eval(args) -> int:
    """``nar eval`` with ``--graph`` set: reads ``checkpoint``, ``n``, ``graph``, ``count`` (default 1),
    ``seed`` (default 0), ``algorithm`` (comma-separated), ``which``, ``device``, ``json``, ``batch_size``
    (graphs per forward pass, default 1) and ``step_count`` (only ``truth``)."""
    if args.graph not in GRAPHS:
        raise InputError(f"--graph must be one of {', '.join(GRAPHS)}, got {args.graph!r}")
    if getattr(args, "step_count", None) not in (None, "truth"):
        raise InputError("--step-count: sparse evaluation runs the ground-truth number of steps (truth)")
    algs = args.algorithm.split(",") if getattr(args, "algorithm", None) else None
    device = "cpu" if getattr(args, "device", "cpu") in (None, "auto") else args.device
    results = evaluate_run(args.checkpoint, n=args.n, graph=args.graph, count=getattr(args, "count", None) or 1,
                           seed=0 if getattr(args, "seed", None) is None else args.seed, algorithms=algs,
                           which=getattr(args, "which", "best"), device=device,
                           batch_graphs=getattr(args, "batch_size", None) or 1)
    if getattr(args, "json", False):
        print(json.dumps({k: r.as_dict() for k, r in results.items()}, indent=1))
        return 0
    print(f"set: sparse {args.graph} graphs (n={args.n}, seed={0 if args.seed is None else args.seed})")
    print("| algorithm | n | graphs | edges/graph | score | outputs | hints | s/graph | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        outs = ", ".join(f"{k} {v:.4f}" for k, v in r.scores.outputs.items())
        hints = ", ".join(f"{k} {v:.4f}" for k, v in r.scores.hints.items())
        print(f"| {name} | {r.n} | {r.count} | {r.edges:.0f} | {r.scores.score:.4f} | {outs} | {hints} | "
              f"{r.seconds_per_graph:.3f} | {r.peak_bytes / 2**20:.0f} |")
    return 0
