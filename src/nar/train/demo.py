"""``make demo``'s learned-reasoner part: train a small Triplet-GMPNN on bfs for about two minutes on CPU,
test it at n = 64, print the scores, write the learning curve, and run it on a graph of one's own."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from .config import TrainConfig
from .loop import Trainer


class TimedTrainer(Trainer):
    """A :class:`~nar.train.Trainer` whose progress bar counts the seconds of ``cfg.time_limit``, not steps
    (the demo's step budget is only a cap: ``0/100000 ... ETA 6:12:35`` said nothing about a 2-minute run)."""

    def __init__(self, cfg: TrainConfig, out_dir, *, progress: bool = True):
        super().__init__(cfg, out_dir, progress=False)  # no step bar
        self.bar, self.start = None, None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(total=round(cfg.time_limit), desc=f"{','.join(cfg.algorithms)} {cfg.processor}",
                            unit="s", dynamic_ncols=True, bar_format="{desc}: {percentage:3.0f}%|{bar}| "
                            "{n:.0f}/{total:.0f} s [{elapsed}<{remaining}{postfix}]")

    def compute_loss(self, model, batch, generator) -> dict:
        losses = super().compute_loss(model, batch, generator)
        if self.bar is not None:
            if self.start is None:  # the clock starts with training (not with building the model)
                self.start = time.perf_counter()
                self.bar.reset(total=self.bar.total)
            done = min(round(time.perf_counter() - self.start), self.bar.total)
            self.bar.set_postfix(loss=f"{float(losses['total'].detach()):.3f}", refresh=False)
            self.bar.update(done - self.bar.n)  # tqdm throttles the redraws
        return losses

    def on_train_end(self, model, step: int) -> None:
        if self.bar is not None:
            self.bar.update(self.bar.total - self.bar.n if step < self.cfg.steps else 0)
            self.bar.close()


def demo_run(out_dir="demo_out/bfs_reasoner", seconds: float = 120.0, *, hidden: int = 64,
             processor: str = "triplet_gmpnn", progress: bool = True, seed: int = 0) -> dict:
    """Train for ``seconds`` of wall time (checkpoints, logs and ``learning_curves.png`` in ``out_dir``;
    a previous demo run there is replaced); returns the run's results."""
    from ..api import execute
    from .inference import load
    from .loop import CONFIG
    from .report import write_report

    out = Path(out_dir)
    if (out / CONFIG).is_file():  # a previous demo run: start afresh
        shutil.rmtree(out)
    cfg = TrainConfig(algorithms=["bfs"], processor=processor, hidden=hidden, steps=100_000, time_limit=seconds,
                      eval_every=10, checkpoint_every=50, log_every=5, seed=seed, device="cpu",
                      threads=1)  # small tensors: one thread is as fast, and robust on a busy machine
    print(f"training a {processor} reasoner (hidden {hidden}) on bfs for {seconds:.0f} s on CPU ...", flush=True)
    res = TimedTrainer(cfg, out, progress=progress).run()
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
