"""Run a compiled program on a batch of graphs: the GNN step of Equation 2 of the seed paper.

One step, for all nodes of all graphs at once (``X [R, k]``, 0/1):

1. match: ``matched = X W^T == need`` (one sparse product, :mod:`nar.exact.compiler`);
2. local prediction: a predictor turns the matched set into output bits ``H [R, k]``
   (``ideal``: OR of matched labels; ``ntk``/``ensemble``: a learned mean, then Heaviside);
3. aggregation: local bits stay, communication bits are summed over the closed neighbourhood:
   ``X' = M_loc * H + (A + I) (M_comm * H)``.

The Heaviside comes before the aggregation (the paper's choice); the ablations of Section 7.3
("after", "none") are available through ``heaviside=``.  A communication value above 1 means two
nodes within two hops wrote the same slot: :class:`SlotCollision` is raised (it never happens
when local IDs are a distance-2 colouring and programs write only their own slot).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from .compiler import Compiled
from .graph import GraphBatch

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")


class SlotCollision(RuntimeError):
    """An aggregated communication bit exceeded 1."""


class Predictor:
    """Maps matched templates to a real-valued mean ``mu [R, k]`` and binary outputs ``H``."""

    name = "predictor"
    tau = 0.0

    def mean(self, compiled: Compiled, matched: torch.Tensor, counts: torch.Tensor) -> torch.Tensor | None:
        """The real-valued prediction (None for the ideal executor)."""
        raise NotImplementedError

    def binarize(self, counts: torch.Tensor, mu: torch.Tensor | None) -> torch.Tensor:
        return mu > self.tau


class IdealPredictor(Predictor):
    """The exact template-matching function: OR of the labels of all matched templates."""

    name = "ideal"

    def mean(self, compiled, matched, counts):
        return None

    def binarize(self, counts, mu):
        return counts > 0


@dataclass
class RunStats:
    """What a run saw: matches per node and, for learned predictors, the margin around ``tau``."""

    steps: int = 0
    max_matched: int = 0
    min_pos: float = float("inf")   # smallest mean where the ideal output is 1
    max_neg: float = float("-inf")  # largest mean where the ideal output is 0
    mismatches: int = 0             # (node, step) rows whose learned output differs from ideal
    max_comm: float = 0.0

    def merge_step(self, m_max: int, mu: torch.Tensor | None, ideal: torch.Tensor, H: torch.Tensor,
                   comm_max: float) -> None:
        self.steps += 1
        self.max_matched = max(self.max_matched, m_max)
        self.max_comm = max(self.max_comm, comm_max)
        if mu is not None:
            pos, neg = mu[ideal], mu[~ideal]
            if pos.numel():
                self.min_pos = min(self.min_pos, float(pos.min()))
            if neg.numel():
                self.max_neg = max(self.max_neg, float(neg.max()))
            self.mismatches += int((H != ideal).any(1).sum())

    @property
    def midgap(self) -> float:
        """Threshold halfway between the two classes of means (nan if they overlap)."""
        if self.min_pos <= self.max_neg:
            return float("nan")
        return 0.5 * (self.min_pos + self.max_neg)


@dataclass
class RunResult:
    final: np.ndarray                       # [R, k] state after the last step
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)  # graph -> its rows at its step
    stats: RunStats = field(default_factory=RunStats)


def run(compiled: Compiled, batch: GraphBatch, X0: np.ndarray, predictor: Predictor | None = None,
        steps: int | None = None, record_at: np.ndarray | None = None,
        heaviside: str = "before", track: bool = True) -> RunResult:
    """Iterate Equation 2 for ``steps`` steps (default: ``max(record_at)``).

    ``record_at[g]``: after which step graph ``g``'s rows are snapshotted (its iteration bound).
    ``heaviside``: ``"before"`` aggregation (Equation 2), ``"after"``, or ``"none"`` (ablations;
    with ``"none"`` states are real-valued and a literal holds only on an exact 0 or 1).
    """
    predictor = predictor or IdealPredictor()
    if heaviside not in ("before", "after", "none"):
        raise ValueError(f"heaviside must be 'before', 'after' or 'none', got {heaviside!r}")
    if heaviside != "before" and predictor.name == "ideal":
        raise ValueError("the ideal executor has no real-valued mean to ablate the Heaviside on")
    if X0.shape != (batch.R, compiled.k):
        raise ValueError(f"initial states must be [{batch.R}, {compiled.k}], got {X0.shape}")
    if steps is None:
        if record_at is None:
            raise ValueError("give steps or record_at")
        steps = int(np.max(record_at))
    dtype = torch.float32 if heaviside == "before" else torch.float64
    X = torch.from_numpy(np.asarray(X0)).to(dtype)
    c0 = compiled.comm_start
    stats, snaps = RunStats(), {}
    record = {} if record_at is None else _by_step(record_at)
    for g in record.get(0, []):
        snaps[g] = X[batch.rows(g)].numpy().copy()
    for t in range(1, steps + 1):
        matched = compiled.match(X) if heaviside == "before" else compiled.match_exact(X)
        counts = compiled.label_counts(matched)
        mu = predictor.mean(compiled, matched, counts)
        ideal = counts > 0
        if heaviside == "before":
            H = predictor.binarize(counts, mu).to(dtype)
            comm = batch.aggregate(H[:, c0:].contiguous())
            X = torch.cat([H[:, :c0], comm], 1)
        else:
            mu = mu.to(dtype)
            comm = batch.aggregate(mu[:, c0:].contiguous())
            X = torch.cat([mu[:, :c0], comm], 1)
            if heaviside == "after":
                X = (X > predictor.tau).to(dtype)
            H = X
        comm_max = float(comm.max()) if comm.numel() else 0.0
        if heaviside == "before" and comm_max > 1:
            raise SlotCollision(f"step {t}: an aggregated communication bit reached {comm_max:g}; two "
                                "nodes within two hops wrote the same slot")
        if track:
            m_max = int(matched.sum(1).max()) if matched.numel() else 0
            stats.merge_step(m_max, mu if heaviside == "before" else None, ideal,
                             H.bool() if heaviside == "before" else ideal, comm_max)
        for g in record.get(t, []):
            snaps[g] = X[batch.rows(g)].numpy().copy()
    return RunResult(final=X.numpy(), snapshots=snaps, stats=stats)


def _by_step(record_at) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for g, t in enumerate(np.asarray(record_at).tolist()):
        out.setdefault(int(t), []).append(g)
    return out
