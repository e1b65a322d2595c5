"""Run a compiled program on a batch of graphs: the GNN step of Equation 2 of the seed paper.

One step, for all nodes of all graphs at once (states kept transposed, ``XT [k, R]``, 0/1):

1. match: ``matched = (W @ XT == need)`` (one sparse product, :mod:`nar.exact.compiler`);
2. local prediction: a predictor turns the matched sets into output bits ``H [k, R]``
   (``ideal``: OR of matched labels; ``ntk``/``ensemble``: a learned mean, then Heaviside);
3. aggregation: local bits stay, communication bits are summed over the closed neighbourhood:
   ``x'_v = M_loc * H_v + sum_{u in N[v]} M_comm * H_u``.

The Heaviside comes before the aggregation (the paper's choice); the ablations of its Section 7.3
(``heaviside="after"``, ``"none"``) are available for small runs.  A communication value above 1
means two nodes within two hops wrote the same slot: :class:`SlotCollision` is raised (it never
happens when local IDs are a distance-2 colouring and programs write only their own slot).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .compiler import Compiled
from .graph import GraphBatch


class SlotCollision(RuntimeError):
    """An aggregated communication bit exceeded 1."""


class Predictor:
    """Maps matched templates to a real-valued mean ``mu [k, R]`` and binary outputs ``H``.

    Shapes are transposed (one column per node): ``matched [N, R]`` (float 0/1), ``m [R]`` (number
    of matched templates), ``counts [k, R]`` (matched label sums ``Y_S``).
    """

    name = "predictor"
    tau = 0.0
    needs_matched = True  # False: ``mean`` reads only ``m`` and ``counts`` (matched may be partial)

    def mean(self, compiled: Compiled, matched: torch.Tensor, m: torch.Tensor,
             counts: torch.Tensor) -> torch.Tensor | None:
        """The real-valued prediction ``[k, R]``; None for the ideal executor."""
        raise NotImplementedError

    def binarize(self, counts: torch.Tensor, mu: torch.Tensor | None) -> torch.Tensor:
        return mu > self.tau


class IdealPredictor(Predictor):
    """The exact template-matching function: OR of the labels of all matched templates."""

    name = "ideal"
    needs_matched = False

    def mean(self, compiled, matched, m, counts):
        return None

    def binarize(self, counts, mu):
        return counts > 0


_FAR = 1e30  # beyond any learned mean


@dataclass
class RunStats:
    """What a run saw: matches per node and, for learned predictors, the margin around ``tau``."""

    steps: int = 0
    max_matched: int = 0
    min_pos: float = float("inf")   # smallest mean where the ideal output is 1
    max_neg: float = float("-inf")  # largest mean where the ideal output is 0
    mismatches: int = 0             # (node, step) pairs whose learned output differs from ideal
    max_comm: float = 0.0

    def merge_chunk(self, m: torch.Tensor, mu: torch.Tensor | None, ideal: torch.Tensor,
                    H: torch.Tensor | None) -> None:
        """Fold the matches and margins of some nodes of the current step into the totals."""
        self.max_matched = max(self.max_matched, int(m.max()) if m.numel() else 0)
        if mu is not None and mu.numel():
            # masked min / max without boolean indexing: push the other class out of range
            # (``mu + 0`` is exact, so the extremes are the true ones)
            pos = float((~ideal).to(mu.dtype).mul_(_FAR).add_(mu).min())
            neg = float(ideal.to(mu.dtype).mul_(-_FAR).add_(mu).max())
            if pos < _FAR / 2:
                self.min_pos = min(self.min_pos, pos)
            if neg > -_FAR / 2:
                self.max_neg = max(self.max_neg, neg)
            if H is not None:
                self.mismatches += int((H != ideal).any(0).sum())

    def end_step(self, comm_max: float) -> None:
        self.steps += 1
        self.max_comm = max(self.max_comm, comm_max)

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
        heaviside: str = "before", track: bool = True, observe=None,
        dedupe: bool | None = None, threads: int | None = None) -> RunResult:
    """Iterate Equation 2 for ``steps`` steps (default: ``max(record_at)``).

    ``X0 [R, k]``: initial states (rows in batch order).  ``record_at[g]``: after which step graph
    ``g``'s rows are snapshotted (its iteration bound).  ``heaviside``: ``"before"`` aggregation
    (Equation 2), ``"after"``, or ``"none"`` (ablations; states become real-valued and a literal
    then holds only on an exact 0 or 1).  ``track``: collect :class:`RunStats` (margins cost a few
    passes over ``[k, R]``).  ``observe(t, XT, mu)``: optional callback after every step.
    ``dedupe``: evaluate the local step once per distinct state (a node's output depends on its own
    state only); ``None`` = on for batches of 4096+ nodes while fewer than half the states differ.
    ``threads``: torch intra-op threads for the run (restored afterwards); ``None`` = 1 for small
    problems (``R * max(N, k) < 1e7``: thread start-up costs more than these ops), else unchanged.
    """
    if threads is None and batch.R * max(compiled.N, compiled.k) < 10_000_000:
        threads = 1
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    try:
        return _run(compiled, batch, X0, predictor, steps, record_at, heaviside, track, observe, dedupe)
    finally:
        torch.set_num_threads(previous)


def _run(compiled, batch, X0, predictor, steps, record_at, heaviside, track, observe, dedupe):
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
    binary = heaviside == "before"
    dtype = torch.float32 if binary else torch.float64
    XT = torch.from_numpy(np.ascontiguousarray(np.asarray(X0).T)).to(dtype)
    c0 = compiled.comm_start
    stats, snaps = RunStats(), {}
    record = {} if record_at is None else _by_step(record_at)
    for g in record.get(0, []):
        snaps[g] = XT[:, batch.rows(g)].T.numpy().copy()
    dedupe = (batch.R >= 4096) if dedupe is None else dedupe
    chunk = max(64, CHUNK_ELEMENTS // max(compiled.N, compiled.k))
    for t in range(1, steps + 1):
        inverse = None
        if dedupe and binary:
            rep, inverse = unique_columns(XT)
            if len(rep) > batch.R // 2 and t > 1:
                dedupe, inverse = False, None  # too few repeats to pay for the sort
        XU = XT if inverse is None else torch.index_select(XT, 1, rep)
        H, mu = _local_step(compiled, predictor, XU, binary, dtype, stats if track else None,
                            chunk, keep_mean=observe is not None)
        if inverse is not None:
            H = torch.index_select(H, 1, inverse)
            mu = None if mu is None else torch.index_select(mu, 1, inverse)
        comm = batch.aggregate(H[c0:].T.contiguous()).T
        XT = H
        XT[c0:] = comm
        if heaviside == "after":
            XT = (XT > predictor.tau).to(dtype)
        comm_max = float(comm.max()) if comm.numel() else 0.0
        if binary and comm_max > 1:
            raise SlotCollision(f"step {t}: an aggregated communication bit reached {comm_max:g}; two "
                                "nodes within two hops wrote the same slot")
        if track:
            stats.end_step(comm_max)
        if observe is not None:
            observe(t, XT, mu)
        for g in record.get(t, []):
            snaps[g] = XT[:, batch.rows(g)].T.numpy().copy()
    return RunResult(final=XT.T.numpy().copy(), snapshots=snaps, stats=stats)


CHUNK_ELEMENTS = 1 << 21  # columns per local-step chunk: about 2M entries of [max(N, k), chunk]


def _local_step(compiled, predictor, XU, binary, dtype, stats, chunk, keep_mean=False):
    """The local half of a step on states ``XU [k, U]``, ``chunk`` columns at a time (a node's
    output depends on its own state only, so the temporaries ``[N, chunk]`` stay small): returns
    ``H [k, U]`` (``dtype``, contiguous) and, if ``keep_mean``, the learned mean ``[k, U]``."""
    k, U = XU.shape
    H = torch.empty((k, U), dtype=dtype)
    mus = [] if keep_mean else None
    # only the templates that agree with the bits all nodes share can match (binary states)
    sub, index = compiled.active(XU) if binary and U else (compiled, None)
    for lo in range(0, max(U, 1), chunk):
        X = XU[:, lo: lo + chunk]
        matched = sub.match_t(X) if binary else compiled.match_exact_t(X)
        m = matched.sum(0)
        counts = sub.counts_t(matched)
        if index is not None and predictor.needs_matched:
            full = torch.zeros((compiled.N, matched.shape[1]), dtype=matched.dtype)
            matched = full.index_copy_(0, index, matched)
        mu = predictor.mean(compiled, matched, m, counts)
        ideal = counts > 0
        if binary:
            Hb = predictor.binarize(counts, mu)
            H[:, lo: lo + chunk] = Hb
        else:
            Hb = None
            H[:, lo: lo + chunk] = mu
        if stats is not None:
            stats.merge_chunk(m, mu if binary else None, ideal, Hb)
        if keep_mean:
            mus.append(mu)
    mu = None if not keep_mean or mus[0] is None else torch.cat(mus, 1)
    return H, mu


def unique_columns(XT: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Distinct columns of a 0/1 matrix ``XT [k, R]``: ``(rep, inverse)`` with
    ``XT[:, rep][:, inverse] == XT``.  Columns are packed exactly into 48-bit float64 words (two
    24-bit float32 products each), pairs of words are sorted together as complex numbers, and
    longer states are ranked pair by pair -- exact, no hashing."""
    k, R = XT.shape
    X32 = XT.to(torch.float32)
    words = []
    for start in range(0, k, 48):
        lo = X32[start: start + 24]
        hi = X32[start + 24: start + 48]
        w = ((2.0 ** torch.arange(lo.shape[0], dtype=torch.float32)) @ lo).to(torch.float64)
        if hi.shape[0]:
            w += ((2.0 ** torch.arange(hi.shape[0], dtype=torch.float32)) @ hi).to(torch.float64) * 2.0 ** 24
        words.append(w.numpy())
    rank = None
    for i in range(0, len(words), 2):
        key = words[i] + 1j * words[i + 1] if i + 1 < len(words) else words[i]
        if rank is not None:
            _, r2 = np.unique(key, return_inverse=True)
            key = rank.astype(np.float64) * (int(r2.max()) + 1) + r2
        _, rank = np.unique(key, return_inverse=True)
    rank = rank.reshape(-1)
    U = int(rank.max()) + 1 if R else 0
    rep = np.zeros(U, dtype=np.int64)
    rep[rank] = np.arange(R)
    return torch.from_numpy(rep), torch.from_numpy(rank)


def _by_step(record_at) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for g, t in enumerate(np.asarray(record_at).tolist()):
        out.setdefault(int(t), []).append(g)
    return out
