"""CLRS scoring of hard predictions (``clrs/_src/evaluation.py``), accumulated over any number of batches.

Per output probe (original spec names and types): pointer -> exact-match accuracy per node (edge);
mask_one, categorical -> argmax accuracy; mask -> F1 at 0.5 pooled over the whole set; scalar -> MSE;
sorting ``pred`` is scored as a pointer after fusing the permutation and its first-node mask.
The set's ``score`` is the mean over output probes.  Hints are scored separately, as CLRS does:
at every step ``t >= 1`` over the samples still running (``t < length``), then averaged over steps
weighted by the number of such samples.  Sufficient statistics (counts, tp/fp/fn, squared-error sums)
are summed across batches, so splitting a set into batches does not change its scores.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import torch

from ..specs import SPECS, Stage
from .probe_types import METRIC_TYPES, Ctx


@dataclass
class Scores:
    """Scores of one algorithm on a sample set."""

    algorithm: str
    outputs: dict[str, float]
    score: float  # mean over output probes
    hints: dict[str, float] = field(default_factory=dict)
    samples: int = 0

    def as_dict(self) -> dict[str, float]:
        """Flat ``{'score', 'output/<name>', 'hint/<name>'}`` (for logging)."""
        d = {"score": self.score}
        d.update({f"output/{k}": v for k, v in self.outputs.items()})
        d.update({f"hint/{k}": v for k, v in self.hints.items()})
        return d


class ScoreAccumulator:
    """Sums CLRS metric statistics of :class:`~nar.models.reasoner.Prediction` s over batches."""

    def __init__(self, algorithm: str):
        if algorithm not in SPECS:
            raise KeyError(f"unknown algorithm {algorithm!r}")
        self.algorithm = algorithm
        self.spec = SPECS[algorithm]
        self.outputs: dict[str, torch.Tensor] = {}
        self.hints: dict[str, torch.Tensor] = {}  # [S, K] per step
        self.hint_counts: dict[str, torch.Tensor] = {}  # [S] samples per step
        self.samples = 0

    def add(self, pred, batch) -> None:
        """Add one batch: ``pred`` a Prediction of ``batch`` (a :class:`nar.data.Batch`)."""
        if batch.algorithm != self.algorithm or pred.algorithm != self.algorithm:
            raise ValueError(f"accumulator of {self.algorithm!r} got {batch.algorithm!r}/{pred.algorithm!r}")
        ctx = Ctx(batch.node_mask)
        self.samples += batch.size
        for k, p in self.spec.items():
            if p.stage != Stage.OUTPUT:
                continue
            mt = METRIC_TYPES[p.type]
            stats = mt.metric_stats(pred.outputs[k], batch.outputs[k], ctx.loc_mask(p.location))
            stats = stats.reshape(-1, stats.shape[-1]).sum(0).cpu()
            self.outputs[k] = self.outputs[k] + stats if k in self.outputs else stats
        lengths = batch.lengths.to(batch.node_mask.device)
        for k, h in pred.hints.items():
            p = self.spec[k]
            s = h.shape[1] - 1
            if s < 1:
                continue
            t = torch.arange(1, s + 1, device=h.device)
            truth = batch.hints[k].index_select(1, t.clamp_max(batch.hints[k].shape[1] - 1))
            live = t[None, :] < lengths[:, None]  # [B, S]
            stats = METRIC_TYPES[p.type].metric_stats(h[:, 1:], truth, ctx.loc_mask(p.location, timed=True))
            stats = stats * live.view(live.shape + (1,) * (stats.dim() - 2)).to(stats.dtype)
            stats = stats.transpose(0, 1).reshape(s, -1, stats.shape[-1]).sum(1).cpu()  # [S, K]
            count = live.sum(0).to(torch.float64).cpu()
            self.hints[k] = _add_padded(self.hints.get(k), stats)
            self.hint_counts[k] = _add_padded(self.hint_counts.get(k), count)

    def result(self) -> Scores:
        outputs = {k: METRIC_TYPES[self.spec[k].type].metric_value(v) for k, v in self.outputs.items()}
        score = sum(outputs.values()) / len(outputs) if outputs else float("nan")
        hints = {}
        for k, stats in self.hints.items():
            mt, counts = METRIC_TYPES[self.spec[k].type], self.hint_counts[k]
            num = sum(mt.metric_value(stats[i]) * float(counts[i]) for i in range(len(counts)) if counts[i] > 0)
            den = float(counts.sum())
            hints[k] = num / den if den > 0 else float("nan")
        return Scores(self.algorithm, outputs, score, hints, self.samples)


def _add_padded(acc: torch.Tensor | None, new: torch.Tensor) -> torch.Tensor:
    if acc is None:
        return new.clone()
    if acc.shape[0] < new.shape[0]:
        acc, new = new.clone(), acc
    acc[: new.shape[0]] += new
    return acc


def evaluate(model, batches, *, hints: bool = True, steps: str | int = "truth",
             max_steps: int | None = None) -> Scores:
    """Score ``model`` on a :class:`nar.data.Batch` or an iterable of batches of one algorithm.

    Runs in eval mode without gradients and without teacher forcing; returns :class:`Scores`
    (``score`` = mean over output probes; ``hints`` empty when ``hints=False`` or the model has none).
    """
    if not isinstance(batches, Iterable) or hasattr(batches, "algorithm"):
        batches = [batches]
    acc = None
    for batch in batches:
        if acc is None:
            acc = ScoreAccumulator(batch.algorithm)
        pred = model.predict(batch, steps=steps, max_steps=max_steps, with_hints=True)
        if not hints:
            pred.hints = {}
        acc.add(pred, batch)
    if acc is None:
        raise ValueError("evaluate needs at least one batch")
    return acc.result()
