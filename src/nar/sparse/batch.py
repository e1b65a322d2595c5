"""Many :class:`~nar.sparse.SparseTrajectory` s concatenated into one :class:`SparseBatch` (PyG-style).

Nodes of graph g get ids ``offset[g] .. offset[g] + sizes[g] - 1``; ``edge_index [2, sum M]`` is shifted
accordingly; ``node_graph [N]`` / ``edge_graph [M]`` give each node's / edge's graph.  Probes keep the
dense CLRS conventions restricted to the edge set: node ``[N, ...]``, edge ``[M, ...]``, graph ``[G, ...]``;
pointers hold *global* node ids.  Hints are materialised ``[T_max, N | M | G, ...]``, padded along
time only: a finished graph repeats its last snapshot (as :func:`nar.data.collate`).  Nothing is ``[n, n]``.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from ..specs import Location, Stage
from ..types import POINTER_TYPES
from ..validation import InputError
from .specs import spec_of


@dataclass
class SparseBatch:
    algorithm: str
    inputs: dict[str, Tensor]
    hints: dict[str, Tensor]  # [T_max, ...]
    outputs: dict[str, Tensor]
    edge_index: Tensor  # [2, M] int64, global node ids, sorted by (sender, receiver)
    node_graph: Tensor  # [N] int64
    edge_graph: Tensor  # [M] int64
    lengths: Tensor  # [G] int64, T of each graph
    sizes: Tensor  # [G] int64, n of each graph

    @property
    def num_graphs(self) -> int:
        return int(self.sizes.shape[0])

    @property
    def num_nodes(self) -> int:
        return int(self.node_graph.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])

    @property
    def max_length(self) -> int:
        return int(self.lengths.max())

    @property
    def offsets(self) -> Tensor:
        """``[G]``: global id of each graph's node 0."""
        return torch.cumsum(self.sizes, 0) - self.sizes

    def to(self, device) -> "SparseBatch":
        moved = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, dict):
                v = {k: t.to(device) for k, t in v.items()}
            elif isinstance(v, Tensor):
                v = v.to(device)
            moved[f.name] = v
        return SparseBatch(**moved)

    def __repr__(self) -> str:
        return (f"SparseBatch({self.algorithm!r}, graphs={self.num_graphs}, N={self.num_nodes}, "
                f"M={self.num_edges}, T_max={self.max_length})")


def _hint_array(h) -> np.ndarray:
    """``[T, ...]`` snapshots of a hint (a HintLog or an array)."""
    return h.dense() if hasattr(h, "dense") else np.asarray(h)


def collate_sparse(trajectories: Sequence) -> SparseBatch:
    """Concatenate :class:`~nar.sparse.SparseTrajectory` s of one algorithm into a :class:`SparseBatch`."""
    if not trajectories:
        raise InputError("collate_sparse needs at least one trajectory")
    name = trajectories[0].name
    if any(t.name != name for t in trajectories):
        raise InputError(f"collate_sparse needs trajectories of one algorithm, got "
                         f"{sorted({t.name for t in trajectories})}")
    spec = spec_of(name)
    sizes = np.array([t.n for t in trajectories], dtype=np.int64)
    lengths = np.array([t.length for t in trajectories], dtype=np.int64)
    offsets = np.cumsum(sizes) - sizes
    edges = [np.asarray(t.edge_index, dtype=np.int64) for t in trajectories]
    counts = np.array([e.shape[1] for e in edges], dtype=np.int64)
    T = int(lengths.max())
    groups: dict[Stage, dict[str, Tensor]] = {Stage.INPUT: {}, Stage.HINT: {}, Stage.OUTPUT: {}}
    for k, p in spec.items():
        stage = p.stage
        parts = []
        for g, t in enumerate(trajectories):
            src = getattr(t, stage.value + "s")
            if k not in src:
                raise InputError(f"collate_sparse: trajectory {g} of {name!r} lacks the {stage.value} {k!r}")
            v = _hint_array(src[k]) if stage == Stage.HINT else np.asarray(src[k])
            if stage == Stage.HINT and v.shape[0] < T:  # repeat the last snapshot
                v = np.concatenate([v, np.repeat(v[-1:], T - v.shape[0], axis=0)])
            if stage == Stage.HINT and p.location == Location.GRAPH:
                v = v[:, None]
            elif p.location == Location.GRAPH:
                v = v[None]
            axis = 1 if stage == Stage.HINT else 0
            want = {Location.NODE: t.n, Location.EDGE: counts[g], Location.GRAPH: 1}[p.location]
            if v.shape[axis] != want:
                what = {Location.NODE: "nodes", Location.EDGE: "edges of edge_index", Location.GRAPH: "graph"}
                raise InputError(f"collate_sparse: {name} {stage.value} {k!r} of trajectory {g} has length "
                                 f"{v.shape[axis]} along its {p.location.value} axis, but the trajectory has "
                                 f"{want} {what[p.location]}")
            if p.type in POINTER_TYPES:
                v = v + offsets[g]  # global node ids
            parts.append(v)
        groups[stage][k] = torch.from_numpy(np.ascontiguousarray(np.concatenate(parts, axis=1 if stage == Stage.HINT else 0)))
    edge_index = np.concatenate([e + o for e, o in zip(edges, offsets)], axis=1)
    node_graph = np.repeat(np.arange(len(trajectories)), sizes)
    return SparseBatch(name, groups[Stage.INPUT], groups[Stage.HINT], groups[Stage.OUTPUT],
                       torch.from_numpy(edge_index), torch.from_numpy(node_graph),
                       torch.from_numpy(np.repeat(np.arange(len(trajectories)), counts)),
                       torch.from_numpy(lengths), torch.from_numpy(sizes))
