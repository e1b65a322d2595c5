"""Undirected graphs for the exact reasoners: loading, local IDs (distance-2 colouring), batching.

* :class:`Graph`: ``n`` nodes, undirected edges ``(u < v)``, optional integer-or-float weights,
  sorted adjacency lists.  Built from an adjacency matrix, an edge list or a networkx graph.
* :func:`local_ids`: greedy colouring of the square of the graph in BFS order, so that IDs are
  unique within two hops (at most ``D^2 + 1`` colours for maximum degree ``D``; at most ``D + 1``
  on a tree, because BFS order colours a node after its parent's neighbourhood only).
* :class:`GraphBatch`: many graphs as one block-diagonal closed-neighbourhood matrix
  ``A + I`` (sparse CSR), the aggregation of Equation 2 for all nodes of all graphs at once.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import torch

from ..validation import InputError
from .compiler import to_csr


MAX_WEIGHT = float(2 ** 53)  # larger magnitudes are not exact integers in float64


def check_weights(weights: np.ndarray) -> None:
    """Edge weights must be real numbers, finite, of magnitude <= 2^53 (:class:`InputError`)."""
    if weights.dtype.kind not in "biuf":
        raise InputError(f"edge weights must be numbers, got dtype {weights.dtype}"
                         + (f" (e.g. {str(weights[0])!r})" if weights.size else ""))
    if weights.size:
        magnitude = np.abs(weights.astype(np.float64))
        if not np.all(magnitude <= MAX_WEIGHT):  # also catches nan
            bad = weights[np.flatnonzero(~(magnitude <= MAX_WEIGHT))[0]]
            raise InputError(f"edge weights must be finite numbers of magnitude <= 2^53, got {bad}")


@dataclass
class Graph:
    """An undirected simple graph on nodes ``0..n-1``; ``edges[e] = (u, v)`` with ``u < v``."""

    n: int
    edges: np.ndarray                  # [E, 2] int64, u < v, unique
    weights: np.ndarray | None = None  # [E] (as given), or None for unweighted
    _adj: list | None = field(default=None, repr=False)

    def __post_init__(self):
        self.edges = np.asarray(self.edges, dtype=np.int64).reshape(-1, 2)
        if self.n < 1:
            raise InputError("a graph needs at least one node")
        if self.edges.size:
            if self.edges.min() < 0 or self.edges.max() >= self.n:
                raise InputError(f"edge endpoints must be node indices in [0, {self.n})")
            if np.any(self.edges[:, 0] == self.edges[:, 1]):
                raise InputError("self-loops are not allowed (the framework adds its own)")
        lo = self.edges.min(1)
        hi = self.edges.max(1)
        key = lo * self.n + hi
        _, first = np.unique(key, return_index=True)
        if len(first) != len(key):
            raise InputError("duplicate edges are not allowed")
        order = np.argsort(key, kind="stable")
        self.edges = np.stack([lo, hi], 1)[order]
        if self.weights is not None:
            self.weights = np.asarray(self.weights).reshape(-1)
            if len(self.weights) != len(self.edges):
                raise InputError("need one weight per edge")
            self.weights = self.weights[order]
            check_weights(self.weights)

    # ---- constructors ------------------------------------------------------------------------
    @classmethod
    def from_adjacency(cls, A, weighted: bool = False) -> "Graph":
        """From a square symmetric matrix; edges where ``A != 0`` (the diagonal is ignored)."""
        A = np.asarray(A)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise InputError(f"adjacency must be a square matrix, got shape {A.shape}")
        if A.dtype.kind not in "biuf":
            raise InputError(f"adjacency must be a numeric matrix, got dtype {A.dtype}")
        if A.dtype.kind == "f" and not np.isfinite(A).all():
            raise InputError("adjacency must be finite (no NaN or inf)")
        if not np.array_equal(A, A.T):
            raise InputError("adjacency must be symmetric (an undirected graph)")
        u, v = np.nonzero(np.triu(A, 1))
        return cls(A.shape[0], np.stack([u, v], 1), A[u, v] if weighted else None)

    @classmethod
    def from_networkx(cls, G, weight: str | None = None) -> "Graph":
        if G.is_directed():
            raise InputError("the exact programs take undirected graphs")
        nodes = sorted(G.nodes)
        index = {v: i for i, v in enumerate(nodes)}
        edges, ws = [], []
        for u, v, data in G.edges(data=True):
            if u == v:
                raise InputError("self-loops are not allowed")
            edges.append((index[u], index[v]))
            if weight is not None:
                if weight not in data:
                    raise InputError(f"edge ({u}, {v}) has no {weight!r} attribute")
                ws.append(data[weight])
        return cls(len(nodes), np.array(edges, dtype=np.int64).reshape(-1, 2),
                   np.array(ws) if weight is not None else None)

    def to_adjacency(self) -> np.ndarray:
        """Dense ``[n, n]`` matrix: the weights (or 1) on edges, 0 elsewhere."""
        A = np.zeros((self.n, self.n))
        w = 1.0 if self.weights is None else self.weights.astype(np.float64)
        A[self.edges[:, 0], self.edges[:, 1]] = w
        A[self.edges[:, 1], self.edges[:, 0]] = w
        return A

    # ---- structure ---------------------------------------------------------------------------
    @property
    def adj(self) -> list[list[int]]:
        """Sorted neighbour lists."""
        if self._adj is None:
            adj = [[] for _ in range(self.n)]
            for u, v in self.edges.tolist():
                adj[u].append(v)
                adj[v].append(u)
            self._adj = [sorted(a) for a in adj]
        return self._adj

    def degrees(self) -> np.ndarray:
        return np.bincount(self.edges.reshape(-1), minlength=self.n)

    @property
    def max_degree(self) -> int:
        return int(self.degrees().max()) if self.n else 0

    def weight_of(self) -> dict[tuple[int, int], object]:
        w = self.weights if self.weights is not None else np.ones(len(self.edges))
        out = {}
        for (u, v), x in zip(self.edges.tolist(), w.tolist()):
            out[(u, v)] = out[(v, u)] = x
        return out

    def hops(self, source: int) -> np.ndarray:
        """Unweighted distances from ``source`` (-1 where unreachable)."""
        dist = np.full(self.n, -1, dtype=np.int64)
        dist[source] = 0
        queue, adj = deque([source]), self.adj
        while queue:
            u = queue.popleft()
            for v in adj[u]:
                if dist[v] < 0:
                    dist[v] = dist[u] + 1
                    queue.append(v)
        return dist

    def eccentricity(self, source: int) -> int:
        return int(self.hops(source).max())

    def is_connected(self) -> bool:
        return bool((self.hops(0) >= 0).all())


def bfs_order(g: Graph) -> list[int]:
    """All nodes, component by component (smallest first node), each in BFS order."""
    seen = np.zeros(g.n, dtype=bool)
    order, adj = [], g.adj
    for root in range(g.n):
        if seen[root]:
            continue
        seen[root] = True
        queue = deque([root])
        while queue:
            u = queue.popleft()
            order.append(u)
            for v in adj[u]:
                if not seen[v]:
                    seen[v] = True
                    queue.append(v)
    return order


def component_roots(g: Graph) -> list[int]:
    """The smallest node of every connected component."""
    label = np.arange(g.n)
    e = g.edges
    while len(e):  # min-label propagation with pointer jumping: O(log n) rounds of vector ops
        lo = np.minimum(label[e[:, 0]], label[e[:, 1]])
        new = label.copy()
        np.minimum.at(new, e[:, 0], lo)
        np.minimum.at(new, e[:, 1], lo)
        new = new[new]
        if np.array_equal(new, label):
            break
        label = new
    return np.flatnonzero(label == np.arange(g.n)).tolist()


def local_ids(g: Graph) -> np.ndarray:
    """Greedy distance-2 colouring in BFS order: ``ids[v]`` in ``0..``, unique within two hops."""
    adj = g.adj
    ids = [-1] * g.n
    for v in bfs_order(g):
        used = set()
        for u in adj[v]:
            used.add(ids[u])
            for w in adj[u]:
                used.add(ids[w])
        c = 0
        while c in used:
            c += 1
        ids[v] = c
    return np.array(ids, dtype=np.int64)


def check_local_ids(g: Graph, ids: np.ndarray) -> bool:
    """True when every closed neighbourhood has distinct IDs (no two nodes within two hops share
    one), the condition for collision-free slots."""
    for v, a in enumerate(g.adj):
        vals = [ids[v]] + [ids[u] for u in a]
        if len(set(vals)) != len(vals):
            return False
    return True


class GraphBatch:
    """Graphs stacked node-wise: rows ``offsets[g]:offsets[g+1]`` belong to graph ``g``."""

    def __init__(self, graphs: list[Graph]):
        if not graphs:
            raise InputError("need at least one graph")
        self.graphs = list(graphs)
        sizes = np.array([g.n for g in graphs], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.R = int(self.offsets[-1])
        src, dst = [np.arange(self.R)], [np.arange(self.R)]
        for g, off in zip(graphs, self.offsets[:-1]):
            e = g.edges + off
            src += [e[:, 0], e[:, 1]]
            dst += [e[:, 1], e[:, 0]]
        src, dst = np.concatenate(src), np.concatenate(dst)
        idx = torch.from_numpy(np.stack([dst, src]))
        self.closed = to_csr(idx, torch.ones(len(src)), (self.R, self.R))
        self.graph_of = np.repeat(np.arange(len(graphs)), sizes)

    def __len__(self) -> int:
        return len(self.graphs)

    def rows(self, g: int) -> slice:
        return slice(int(self.offsets[g]), int(self.offsets[g + 1]))

    def aggregate(self, H: torch.Tensor) -> torch.Tensor:
        """Sum of ``H [R, c]`` over each node's closed neighbourhood."""
        return torch.sparse.mm(self.closed, H)
