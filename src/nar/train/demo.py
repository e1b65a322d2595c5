"""``make demo``'s learned-reasoner part: train a small Triplet-GMPNN on bfs for about two minutes on CPU,
test it at n = 64, print the scores, write the learning curve, and run it on a graph of one's own."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from .config import TrainConfig


def demo_run(out_dir="demo_out/bfs_reasoner", seconds: float = 120.0, *, hidden: int = 64,
             processor: str = "triplet_gmpnn", progress: bool = True, seed: int = 0) -> dict:
    """Train for ``seconds`` of wall time (checkpoints, logs and ``learning_curves.png`` in ``out_dir``;
    a previous demo run there is replaced); returns the run's results."""
    from ..api import execute
    from .inference import load
    from .loop import CONFIG, train
    from .report import write_report

    out = Path(out_dir)
    if (out / CONFIG).is_file():  # a previous demo run: start afresh
        shutil.rmtree(out)
    cfg = TrainConfig(algorithms=["bfs"], processor=processor, hidden=hidden, steps=100_000, time_limit=seconds,
                      eval_every=10, checkpoint_every=50, log_every=5, seed=seed, device="cpu",
                      threads=1)  # small tensors: one thread is as fast, and robust on a busy machine
    print(f"training a {processor} reasoner (hidden {hidden}) on bfs for {seconds:.0f} s on CPU ...", flush=True)
    res = train(cfg, out, progress=progress)
    test = res["test"]["bfs"]
    print(f"\n{res['steps_done']} steps in {res['seconds']:.0f} s; best validation score (n = {cfg.val_n}): "
          f"{res['best_val']:.3f} at step {res['best_step']}")
    print(f"test at n = {test['n']} ({test['count']} graphs, step count: {test['step_count']}): "
          f"score {test['score']:.3f}  (pi {test['outputs']['pi']:.3f}; hints "
          + ", ".join(f"{k} {v:.3f}" for k, v in test["hints"].items()) + ")")
    md, png = write_report([out], out)
    print(f"learning curve: {png}" if png else "learning curve: matplotlib is not installed (see eval.csv)")

    model = load(out)  # best-validation checkpoint, as nar.load would
    rng = np.random.default_rng(seed)
    n = 64
    adj = (rng.random((n, n)) < 0.1).astype(float)
    adj = np.maximum(adj, adj.T)
    pred = model.predict("bfs", A=adj, s=0)["pi"]
    truth = execute("bfs", A=adj, s=0).outputs["pi"]
    print(f"own graph (n = {n}, ER p = 0.1): predicted BFS parents match the true ones at "
          f"{(pred == truth).mean():.1%} of the nodes")
    return res
