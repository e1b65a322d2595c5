"""Segment operations over edge lists (no PyG): max, sum, softmax, argmax by group, and the graph
structure a sparse forward needs (reverse edges, self-loops, pointer edges, triplets).

Groups are given as an int64 index per row (``group [R]`` into ``0 .. size-1``); every group that
receives no row gets 0 from :func:`segment_max` / :func:`segment_sum`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from ...validation import InputError


def segment_max(x: Tensor, group: Tensor, size: int) -> Tensor:
    """``out[g] = max over rows r with group[r] == g of x[r]`` (``[size, ...]``; 0 for empty groups).

    Differentiable: the gradient goes to every row attaining the maximum (``scatter_reduce`` 'amax')."""
    idx = group.view(-1, *([1] * (x.dim() - 1))).expand_as(x)
    out = x.new_zeros((size,) + x.shape[1:])
    return out.scatter_reduce(0, idx, x, reduce="amax", include_self=False)


def segment_sum(x: Tensor, group: Tensor, size: int) -> Tensor:
    """``out[g] = sum of x[r] over group[r] == g`` (``[size, ...]``)."""
    return x.new_zeros((size,) + x.shape[1:]).index_add(0, group, x)


def segment_log_softmax(x: Tensor, group: Tensor, size: int) -> Tensor:
    """Log-softmax of ``x [R, ...]`` within each group (over rows)."""
    top = segment_max(x.detach(), group, size)
    shifted = x - top[group]
    lse = segment_sum(shifted.exp(), group, size).log()
    return shifted - lse[group]


def segment_softmax(x: Tensor, group: Tensor, size: int) -> Tensor:
    """Softmax of ``x [R, ...]`` within each group (over rows)."""
    return segment_log_softmax(x, group, size).exp()


def segment_argmax(x: Tensor, group: Tensor, size: int) -> Tensor:
    """Index of the first row attaining each group's maximum of ``x [R]`` (``int64 [size]``; -1 if empty)."""
    top = segment_max(x, group, size)
    rows = torch.arange(x.shape[0], device=x.device)
    cand = torch.where(x == top[group], rows, torch.full_like(rows, x.shape[0]))
    first = torch.full((size,), x.shape[0], dtype=torch.long, device=x.device)
    first = first.scatter_reduce(0, group, cand, reduce="amin", include_self=True)
    return torch.where(first == x.shape[0], torch.full_like(first, -1), first)


def edge_ids(keys: Tensor, n: int, senders: Tensor, receivers: Tensor) -> Tensor:
    """Position of each pair (senders[r], receivers[r]) in the sorted edge keys (``s * n + r``); -1 if absent."""
    want = senders * n + receivers
    pos = torch.searchsorted(keys, want).clamp_max(max(keys.shape[0] - 1, 0))
    found = keys[pos] == want if keys.numel() else torch.zeros_like(want, dtype=torch.bool)
    return torch.where(found, pos, torch.full_like(pos, -1))


@dataclass
class Structure:
    """The edge set of a (batched) sparse graph and the indices derived from it, computed once.

    ``edge_index [2, M]`` (sender, receiver), sorted by (sender, receiver), no duplicates, containing every
    self-loop and closed under reversal (the model edge set of :mod:`nar.sparse`); ``node_graph [N]``,
    ``edge_graph [M]`` graph ids; ``num_graphs`` G.
    """

    edge_index: Tensor
    node_graph: Tensor
    num_graphs: int
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        ei = self.edge_index
        if ei.dim() != 2 or ei.shape[0] != 2:
            raise InputError(f"edge_index must have shape [2, M], got {tuple(ei.shape)}")
        n = self.num_nodes
        if ei.numel() and (int(ei.min()) < 0 or int(ei.max()) >= n):
            raise InputError(f"edge_index holds node ids outside 0..{n - 1}")
        keys = self.keys
        if keys.numel() > 1 and not bool((keys[1:] > keys[:-1]).all()):
            raise InputError("edge_index must be sorted by (sender, receiver) without duplicates")
        if bool((self.self_edge < 0).any()):
            raise InputError("edge_index must contain the self-loop (i, i) of every node")
        if bool((self.reverse < 0).any()):
            raise InputError("edge_index must be symmetric: (j, i) for every edge (i, j)")
        if bool((self.node_graph[self.senders] != self.node_graph[self.receivers]).any()):
            raise InputError("edge_index joins nodes of different graphs")

    def _memo(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    @property
    def num_nodes(self) -> int:
        return int(self.node_graph.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])

    @property
    def senders(self) -> Tensor:
        return self.edge_index[0]

    @property
    def receivers(self) -> Tensor:
        return self.edge_index[1]

    @property
    def keys(self) -> Tensor:
        return self._memo("keys", lambda: self.senders * self.num_nodes + self.receivers)

    @property
    def edge_graph(self) -> Tensor:
        return self._memo("edge_graph", lambda: self.node_graph[self.senders])

    @property
    def reverse(self) -> Tensor:
        """``[M]``: the id of edge (j, i) for every edge (i, j)."""
        return self._memo("reverse", lambda: self.find(self.receivers, self.senders))

    @property
    def self_edge(self) -> Tensor:
        """``[N]``: the id of edge (i, i)."""
        nodes = torch.arange(self.num_nodes, device=self.edge_index.device)
        return self._memo("self_edge", lambda: self.find(nodes, nodes))

    @property
    def degree(self) -> Tensor:
        """Out-degree per node (self-loop included)."""
        return self._memo("degree", lambda: torch.bincount(self.senders, minlength=self.num_nodes))

    def find(self, senders: Tensor, receivers: Tensor) -> Tensor:
        """Edge ids of the pairs (senders[r], receivers[r]); -1 where a pair is not an edge."""
        return edge_ids(self.keys, self.num_nodes, senders, receivers)

    def pointer_edges(self, pointers: Tensor, what: str = "pointer") -> Tensor:
        """Edge ids of (i, pointers[..., i]) for node pointers ``[..., N]``; :class:`InputError` if one is not an edge."""
        nodes = torch.arange(self.num_nodes, device=pointers.device).expand_as(pointers)
        ids = self.find(nodes.reshape(-1), pointers.reshape(-1)).view(pointers.shape)
        if bool((ids < 0).any()):
            flat = (ids < 0).reshape(-1).nonzero()[0, 0]
            i = int(flat) % self.num_nodes
            raise InputError(f"{what}: node {i} points to node {int(pointers.reshape(-1)[flat])}, which is not "
                             f"one of its edges; a sparse batch needs every pointer i -> p[i] to be an edge of "
                             f"edge_index")
        return ids

    def triplets(self) -> tuple[Tensor, Tensor, Tensor]:
        """Edge ids ``(ij, ik, jk)`` of every triplet (i, j, k) whose three edges (i, j), (i, k), (j, k)
        are in the edge set, enumerated per node i over pairs of its out-edges: cost sum_i deg_i^2."""
        return self._memo("triplets", self._triplets)

    def triplet_count_bound(self) -> int:
        """sum_i deg_i^2: the number of candidate pairs :meth:`triplets` examines."""
        return int((self.degree.to(torch.float64) ** 2).sum())

    def _triplets(self):
        dev = self.edge_index.device
        deg = self.degree
        indptr = torch.zeros(self.num_nodes + 1, dtype=torch.long, device=dev)
        indptr[1:] = torch.cumsum(deg, 0)
        counts = deg[self.senders]  # every edge (i, j) pairs with each of i's out-edges (i, k)
        ij = torch.repeat_interleave(torch.arange(self.num_edges, device=dev), counts)
        start = torch.cumsum(counts, 0) - counts
        offset = torch.arange(ij.shape[0], device=dev) - torch.repeat_interleave(start, counts)
        ik = indptr[self.senders[ij]] + offset
        jk = self.find(self.receivers[ij], self.receivers[ik])
        keep = jk >= 0
        return ij[keep], ik[keep], jk[keep]
