"""Scoring sparse runs (CLRS metrics, as :mod:`nar.models.evaluation`) and evaluation on large sparse graphs.

    res = evaluate(model, "bfs", n=4096, graph="er", count=4, seed=0)
    res.scores.score, res.seconds_per_graph, res.peak_bytes

``model``: a :class:`~nar.models.Reasoner` or anything holding one as ``.model`` (e.g. what
``nar.train.load(run)`` returns; ``nar.train.sparse_eval`` does that for a run directory).  Graphs are drawn by
:mod:`nar.sparse`'s samplers and run by its algorithms; nothing ``[n, n]`` is built.
"""
from __future__ import annotations

import math
import os
import resource
import time
from dataclasses import dataclass, field

import torch

from ...specs import Stage, Type
from ...validation import InputError
from ..evaluation import Scores
from ..probe_types import METRIC_TYPES
from . import model as sm
from . import probes

GRAPHS = ("er", "geometric", "grid")


class SparseScoreAccumulator:
    """Sums CLRS metric statistics of :class:`~nar.models.sparse.model.SparsePrediction` s over batches:
    outputs pooled over every graph; hints per step over the graphs still running (t < length), then
    averaged over steps weighted by the number of such graphs (as :class:`nar.models.evaluation.ScoreAccumulator`)."""

    def __init__(self, algorithm: str):
        from ...sparse.specs import spec_of

        self.algorithm, self.spec = algorithm, spec_of(algorithm)
        self.outputs: dict[str, torch.Tensor] = {}
        self.hints: dict[str, list[torch.Tensor]] = {}
        self.hint_counts: dict[str, list[float]] = {}
        self.samples = 0

    def add(self, pred, batch) -> None:
        st = sm.structure(batch)
        self.samples += batch.num_graphs
        for k, p in self.spec.items():
            if p.stage != Stage.OUTPUT:
                continue
            stats, _ = probes.metric_stats(Type(p.type), p.location, pred.outputs[k], batch.outputs[k], st)
            stats = stats.reshape(-1, stats.shape[-1]).sum(0).cpu()
            self.outputs[k] = self.outputs[k] + stats if k in self.outputs else stats
        lengths = batch.lengths.to(st.node_graph.device)
        for k, h in pred.hints.items():
            p = self.spec[k]
            acc, cnt = self.hints.setdefault(k, []), self.hint_counts.setdefault(k, [])
            for t in range(1, h.shape[0]):
                truth = batch.hints[k][min(t, batch.hints[k].shape[0] - 1)]
                stats, gid = probes.metric_stats(Type(p.type), p.location, h[t], truth, st)
                live = (t < lengths)
                stats = (stats * live[gid].view((-1,) + (1,) * (stats.dim() - 1))).reshape(-1, stats.shape[-1])
                if len(acc) < t:
                    acc.append(torch.zeros(stats.shape[-1], dtype=torch.float64))
                    cnt.append(0.0)
                acc[t - 1] += stats.sum(0).cpu()
                cnt[t - 1] += float(live.sum())

    def result(self) -> Scores:
        outputs = {k: METRIC_TYPES[self.spec[k].type].metric_value(v) for k, v in self.outputs.items()}
        score = sum(outputs.values()) / len(outputs) if outputs else math.nan
        hints = {}
        for k, stats in self.hints.items():
            mt, counts = METRIC_TYPES[self.spec[k].type], self.hint_counts[k]
            num = sum(mt.metric_value(s) * c for s, c in zip(stats, counts) if c > 0)
            hints[k] = num / sum(counts) if sum(counts) > 0 else math.nan
        return Scores(self.algorithm, outputs, score, hints, self.samples)


def score(model, batches, *, hints: bool = True, steps: str | int = "truth") -> Scores:
    """CLRS scores of ``model`` on SparseBatches of one algorithm (eval mode, no teacher forcing, no grad)."""
    model = _reasoner(model)
    if hasattr(batches, "edge_index"):
        batches = [batches]
    acc = None
    for batch in batches:
        acc = acc or SparseScoreAccumulator(batch.algorithm)
        pred = sm.predict(model, batch, steps=steps, with_hints=hints)
        acc.add(pred if hints else sm.SparsePrediction(batch.algorithm, pred, {}, None), batch)
    if acc is None:
        raise InputError("score needs at least one sparse batch")
    return acc.result()


@dataclass
class SparseEvalResult:
    """Scores of one algorithm on ``count`` sparse graphs of ``n`` nodes, with cost figures: model seconds per
    graph (the forward pass and decoding, not the data), data seconds per graph (sampling + the algorithm), the
    process's peak resident memory during the run (``peak_bytes``; CUDA: peak allocated device memory) and
    the mean number of model edges / steps per graph."""

    algorithm: str
    graph: str
    n: int
    count: int
    scores: Scores
    seconds_per_graph: float
    data_seconds_per_graph: float
    peak_bytes: int
    edges: float
    steps: float
    processor: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"algorithm": self.algorithm, "graph": self.graph, "n": self.n, "count": self.count,
                "processor": self.processor, "score": self.scores.score, "outputs": self.scores.outputs,
                "hints": self.scores.hints, "seconds_per_graph": self.seconds_per_graph,
                "data_seconds_per_graph": self.data_seconds_per_graph, "peak_bytes": self.peak_bytes,
                "edges": self.edges, "steps": self.steps, **self.extra}


def _reasoner(model):
    inner = getattr(model, "model", None)
    model = inner if isinstance(inner, torch.nn.Module) else model
    if not (isinstance(model, torch.nn.Module) and hasattr(model, "heads_for") and hasattr(model, "processor")):
        raise InputError(f"model must be a nar Reasoner (or a loaded run holding one as .model), got "
                         f"{type(model).__name__}")
    return model


def reset_peak_memory(device: torch.device) -> None:
    """Start a new peak-memory window (CUDA: the allocator's peak; CPU: the process's VmHWM, where Linux lets
    us reset it through /proc/self/clear_refs)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_memory(device: torch.device) -> int:
    """Bytes: CUDA peak allocated, else the process's peak resident set (VmHWM; ru_maxrss if unreadable)."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def sample_trajectories(algorithm: str, n: int, graph: str, count: int, seed: int, **options) -> list:
    """``count`` :class:`~nar.sparse.SparseTrajectory` s of ``algorithm`` on ``graph`` graphs of ``n`` nodes
    (:func:`nar.sparse.sample`)."""
    from ...sparse.api import sample

    if graph not in GRAPHS:
        raise InputError(f"graph must be one of {', '.join(GRAPHS)}, got {graph!r}")
    return sample(algorithm, n, count, seed, graph=graph, **options)


def evaluate(model, algorithm: str, n: int = 4096, graph: str = "er", count: int = 1, seed: int = 0, *,
             batch_graphs: int = 1, hints: bool = True, steps: str | int = "truth", device=None,
             trajectories: list | None = None, **graph_options) -> SparseEvalResult:
    """Score ``model`` on ``count`` fresh sparse ``graph`` graphs of ``n`` nodes (see the module docstring).

    ``batch_graphs`` graphs go through the model at once; ``trajectories`` (SparseTrajectories) replaces the
    sampled set; ``graph_options`` go to the sampler (e.g. ``degree``).
    """
    from ...sparse.batch import collate_sparse

    model = _reasoner(model)
    for arg, v, low in (("n", n, 1), ("count", count, 1), ("batch_graphs", batch_graphs, 1)):
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise InputError(f"{arg} must be an integer >= {low}, got {v!r}")
    if algorithm not in model.algorithms:
        raise InputError(f"this model was trained on {model.algorithms}, not {algorithm!r}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    reset_peak_memory(device)
    t0 = time.perf_counter()
    trajs = trajectories if trajectories is not None else sample_trajectories(algorithm, n, graph, count, seed,
                                                                              **graph_options)
    data_s = time.perf_counter() - t0
    acc = SparseScoreAccumulator(algorithm)
    model_s = 0.0
    edges = steps_sum = 0
    was = model.training
    model.eval()
    try:
        for i in range(0, len(trajs), batch_graphs):
            batch = collate_sparse(trajs[i:i + batch_graphs]).to(device)
            edges += batch.num_edges
            steps_sum += int(batch.lengths.sum())
            t1 = time.perf_counter()
            with torch.no_grad():
                pred = sm.decode(model, sm.forward(model, batch, 0.0, steps=steps), batch)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            model_s += time.perf_counter() - t1
            if not hints:
                pred.hints = {}
            acc.add(pred, batch)
    finally:
        model.train(was)
    k = len(trajs)
    return SparseEvalResult(algorithm, graph, n, k, acc.result(), model_s / k, data_s / k, peak_memory(device),
                            edges / k, steps_sum / k, model.processor.name)
