"""Scoring a model on evaluation sets (during training, and for ``nar eval CHECKPOINT``).

Scores are CLRS's (:func:`nar.models.evaluate`'s accumulator): ``score`` = mean over output probes,
hints scored separately.  Every result carries ``step_count``: ``'truth'`` (each sample runs for its
ground-truth trajectory length) or ``'learned'`` (the termination head decides, capped at
``learned_max_steps`` or twice the longest ground-truth length of the batch).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data.batch import Batch
from ..models import ScoreAccumulator, Scores
from .config import TrainConfig


@dataclass
class EvalResult:
    """Scores of one algorithm on one set, with how the step count was chosen."""

    algorithm: str
    split: str
    n: int
    count: int
    step_count: str
    scores: Scores

    def as_dict(self) -> dict:
        return {"algorithm": self.algorithm, "split": self.split, "n": self.n, "count": self.count,
                "step_count": self.step_count, "score": self.scores.score, "outputs": self.scores.outputs,
                "hints": self.scores.hints}


def score(model, batches: list[Batch], device, *, step_count: str = "truth",
          learned_max_steps: int | None = None) -> Scores:
    """CLRS scores of ``model`` on ``batches`` (one algorithm), in eval mode without gradients."""
    acc = None
    for b in batches:
        b = b.to(device)
        if acc is None:
            acc = ScoreAccumulator(b.algorithm)
        if step_count == "learned":
            pred = model.predict(b, steps="learned", max_steps=learned_max_steps or 2 * b.max_length,
                                 with_hints=True)
        else:
            pred = model.predict(b, with_hints=True)
        acc.add(pred, b)
    if acc is None:
        raise ValueError("no batches to score")
    return acc.result()


def evaluate_sets(model, sets: dict[str, list[Batch]], cfg: TrainConfig, device, split: str) -> dict[str, EvalResult]:
    """``{algorithm: EvalResult}`` over ``sets`` (algorithm -> batches)."""
    out = {}
    with torch.no_grad():
        for name, batches in sets.items():
            s = score(model, batches, device, step_count=cfg.step_count, learned_max_steps=cfg.learned_max_steps)
            n = max(b.max_nodes for b in batches)
            out[name] = EvalResult(name, split, n, sum(b.size for b in batches), cfg.step_count, s)
    return out


def mean_score(results: dict[str, EvalResult]) -> float:
    return sum(r.scores.score for r in results.values()) / len(results)


def check_int(arg: str, value, low: int, *, optional: bool = False) -> None:
    """InputError unless ``value`` is an integer >= ``low`` (or None when ``optional``)."""
    from ..validation import InputError

    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InputError(f"{arg} must be an integer >= {low}{' or None' if optional else ''}, got {value!r}")


def evaluate_checkpoint(path, *, n: int = 64, count: int | None = None, seed: int | None = None,
                        algorithms: list[str] | None = None, batch_size: int | None = None,
                        device: str = "auto", step_count: str | None = None,
                        split: str = "test", which: str = "best") -> dict[str, EvalResult]:
    """Score a checkpoint (run dir: its ``which`` checkpoint, best-validation by default) on a fresh
    CLRS30-style set.

    ``n``/``count``/``seed`` default to the CLRS30 test split (n = 64, 32 x multiplier, seed 3).
    ``step_count`` defaults to the one the model was trained with.
    """
    from .data import eval_batches
    from .inference import load

    check_int("n", n, 1)
    check_int("count", count, 1, optional=True)
    check_int("seed", seed, 0, optional=True)
    check_int("batch_size", batch_size, 1, optional=True)
    loaded = load(path, device=device, which=which)
    cfg = loaded.config
    if step_count is not None:
        if step_count == "learned" and cfg.step_count != "learned":
            from .config import ConfigError

            raise ConfigError("this model has no termination head (trained with step_count=truth); "
                              "it can only be evaluated with the ground-truth step count")
        cfg = cfg.replace(step_count=step_count)
    names = algorithms or loaded.algorithms
    bad = [a for a in names if a not in loaded.algorithms]
    if bad:
        from ..validation import InputError

        raise InputError(f"the checkpoint has no heads for {bad}; it was trained on {loaded.algorithms}")
    sets = {a: eval_batches(cfg, a, split, n=n, count=count, seed=seed, batch_size=batch_size) for a in names}
    return evaluate_sets(loaded.model, sets, cfg, loaded.device, split)
