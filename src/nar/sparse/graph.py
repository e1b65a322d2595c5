"""``SparseGraph``: an edge list with CSR access, validated at construction; no ``[n, n]`` array.

Edges are sorted by (sender, receiver), without duplicates or self-loops; an undirected graph stores
both directions of every edge (with equal weights).  ``weights`` is float32 ``[E]`` or ``None``
(every edge weighs 1).  The constructors (:meth:`SparseGraph.from_edges`, :meth:`from_networkx`,
:meth:`from_dense`) sort, symmetrise and check their input; the dataclass itself checks the invariants
(a wrong edge list raises :class:`~nar.InputError` naming the argument).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..validation import FLOAT32_MAX, InputError, as_array, as_node, is_networkx, networkx_nodes

MAX_DENSE_NODES = 8192  # to_dense() / dense comparisons only below this size (an n x n float64 array)


def _int_array(arg: str, value, E: int | None = None) -> np.ndarray:
    arr = as_array(value)
    if arr.ndim != 1:
        raise InputError(f"SparseGraph: {arg} must be a 1-D array of node indices, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind != "f" or not np.all(arr == np.round(arr)):
            raise InputError(f"SparseGraph: {arg} must hold integer node indices, got dtype {arr.dtype}")
    if E is not None and arr.shape[0] != E:
        raise InputError(f"SparseGraph: {arg} must have as many entries as senders ({E}), got {arr.shape[0]}")
    return arr.astype(np.int64)


def _weights(value, E: int) -> np.ndarray | None:
    if value is None:
        return None
    arr = as_array(value)
    if arr.ndim != 1 or arr.shape[0] != E:
        raise InputError(f"SparseGraph: weights must be a 1-D array of {E} edge weights, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "biuf":
        raise InputError(f"SparseGraph: weights must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all() or (arr.size and np.abs(arr).max() > FLOAT32_MAX):
        raise InputError("SparseGraph: weights must be finite and fit in float32")
    if arr.size and np.any(arr == 0):
        raise InputError("SparseGraph: weights must be non-zero (a zero weight means 'no edge' in the "
                         "CLRS adjacency convention); drop the edge instead")
    return arr.astype(np.float32)


def _check_n(n) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"SparseGraph: n must be an integer >= 1 (the number of nodes), got {n!r}")
    return int(n)


@dataclass(frozen=True, eq=False)
class SparseGraph:
    """A graph on nodes ``0..n-1`` as sorted edge arrays (see the module docstring)."""

    n: int
    senders: np.ndarray
    receivers: np.ndarray
    weights: np.ndarray | None
    directed: bool

    def __post_init__(self):
        n = _check_n(self.n)
        s = _int_array("senders", self.senders)
        r = _int_array("receivers", self.receivers, s.shape[0])
        w = _weights(self.weights, s.shape[0])
        for arg, arr in (("senders", s), ("receivers", r)):
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                bad = int(arr[(arr < 0) | (arr >= n)][0])
                raise InputError(f"SparseGraph: {arg} holds node {bad}, outside [0, {n}) (n = {n})")
        if np.any(s == r):
            i = int(np.flatnonzero(s == r)[0])
            raise InputError(f"SparseGraph: self-loop ({s[i]}, {s[i]}) at edge {i}; self-loops are not "
                             "allowed (the model edge set adds every (i, i) itself)")
        key = s * n + r
        if key.size > 1 and not np.all(key[1:] > key[:-1]):
            i = int(np.flatnonzero(key[1:] <= key[:-1])[0])
            what = "duplicate edge" if key[i + 1] == key[i] else "edges not sorted by (sender, receiver) at"
            raise InputError(f"SparseGraph: {what} ({s[i + 1]}, {r[i + 1]}); build the graph with "
                             "SparseGraph.from_edges, which sorts (and rejects duplicates)")
        if not self.directed:
            rev = np.searchsorted(key, r * n + s)
            ok = rev < key.size
            ok[ok] = key[rev[ok]] == (r * n + s)[ok]
            if not ok.all():
                i = int(np.flatnonzero(~ok)[0])
                raise InputError(f"SparseGraph: undirected graph lacks the reverse of edge ({s[i]}, {r[i]})")
            if w is not None and not np.array_equal(w, w[rev]):
                raise InputError("SparseGraph: an undirected graph needs equal weights in both directions")
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "senders", s)
        object.__setattr__(self, "receivers", r)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "directed", bool(self.directed))

    # -- constructors --------------------------------------------------------------------------
    @classmethod
    def from_edges(cls, n: int, senders, receivers, weights=None, *, directed: bool = False) -> "SparseGraph":
        """A graph from an edge list in any order.  Undirected: each edge given once, in either
        direction (both directions are stored); giving an edge twice is an error, as is a self-loop."""
        n = _check_n(n)
        s = _int_array("senders", senders)
        r = _int_array("receivers", receivers, s.shape[0])
        w = _weights(weights, s.shape[0])
        for arg, arr in (("senders", s), ("receivers", r)):
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                bad = int(arr[(arr < 0) | (arr >= n)][0])
                raise InputError(f"SparseGraph.from_edges: {arg} holds node {bad}, outside [0, {n}) (n = {n})")
        if np.any(s == r):
            u = int(s[s == r][0])
            raise InputError(f"SparseGraph.from_edges: self-loop ({u}, {u}); self-loops are not allowed")
        if not directed:
            lo, hi = np.minimum(s, r), np.maximum(s, r)
            _reject_duplicates(lo * n + hi, n, "undirected edge {%d, %d} is given twice")
            s, r = np.concatenate([lo, hi]), np.concatenate([hi, lo])
            if w is not None:
                w = np.concatenate([w, w])
        else:
            _reject_duplicates(s * n + r, n, "directed edge (%d, %d) is given twice")
        order = np.argsort(s * n + r, kind="stable")
        return cls(n, s[order], r[order], None if w is None else w[order], directed)

    @classmethod
    def from_networkx(cls, G, weight: str | None = "weight") -> "SparseGraph":
        """A networkx graph; nodes become ``0..n-1`` in sorted label order (as :func:`nar.execute`),
        weights from the ``weight`` attribute (default 1; ``weight=None``: unweighted)."""
        if not is_networkx(G):
            raise InputError(f"SparseGraph.from_networkx: G must be a networkx graph, got {type(G).__name__}")
        nodes = networkx_nodes("SparseGraph.from_networkx", G)
        index = {v: i for i, v in enumerate(nodes)}
        edges = [(index[u], index[v], d.get(weight, 1) if weight else 1) for u, v, d in G.edges(data=True)]
        if any(u == v for u, v, _ in edges):
            raise InputError("SparseGraph.from_networkx: G has self-loops; remove them "
                             "(G.remove_edges_from(nx.selfloop_edges(G)))")
        arr = np.array([(u, v) for u, v, _ in edges], dtype=np.int64).reshape(-1, 2)
        w = np.array([x for _, _, x in edges], dtype=np.float64) if weight else None
        return cls.from_edges(len(nodes), arr[:, 0], arr[:, 1], w, directed=G.is_directed())

    @classmethod
    def from_dense(cls, A, *, directed: bool | None = None) -> "SparseGraph":
        """The non-zero off-diagonal entries of an ``[n, n]`` matrix; ``directed`` defaults to whether
        ``A`` is asymmetric.  A non-zero diagonal is an error (no self-loops)."""
        A = as_array(A)
        if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] < 1:
            raise InputError(f"SparseGraph.from_dense: A must be a square n x n matrix, got shape {A.shape}")
        if np.any(np.diagonal(A) != 0):
            raise InputError("SparseGraph.from_dense: A has non-zero diagonal entries (self-loops), "
                             "which a SparseGraph does not hold")
        if directed is None:
            directed = not np.array_equal(A, A.T)
        elif not directed and not np.array_equal(A, A.T):
            raise InputError("SparseGraph.from_dense: directed=False needs a symmetric A")
        s, r = np.nonzero(A)
        return cls(A.shape[0], s, r, A[s, r], bool(directed))

    # -- views ---------------------------------------------------------------------------------
    @property
    def num_edges(self) -> int:
        """Number of stored (directed) edges E; an undirected edge counts twice."""
        return int(self.senders.shape[0])

    @property
    def edge_weights(self) -> np.ndarray:
        """float32 ``[E]``: the weights, or ones for an unweighted graph."""
        return np.ones(self.num_edges, np.float32) if self.weights is None else self.weights

    @cached_property
    def _csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        indptr = np.searchsorted(self.senders, np.arange(self.n + 1)).astype(np.int64)
        return indptr, self.receivers, self.edge_weights

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(indptr [n + 1], indices [E], weights float32 [E])``: the out-neighbours of ``u`` are
        ``indices[indptr[u]:indptr[u + 1]]`` in increasing order."""
        return self._csr

    def transpose(self) -> "SparseGraph":
        """The graph with every edge reversed."""
        if not self.directed:
            return self
        order = np.lexsort((self.senders, self.receivers))
        w = None if self.weights is None else self.weights[order]
        return SparseGraph(self.n, self.receivers[order], self.senders[order], w, True)

    def to_dense(self) -> np.ndarray:
        """float64 ``[n, n]`` adjacency (the weight, 1 if unweighted, where an edge is; 0 elsewhere),
        the ``A`` input of the dense :func:`nar.execute`.  Small graphs only."""
        if self.n > MAX_DENSE_NODES:
            raise InputError(f"SparseGraph.to_dense: n = {self.n} is too large for an n x n matrix "
                             f"(at most {MAX_DENSE_NODES})")
        A = np.zeros((self.n, self.n))
        A[self.senders, self.receivers] = self.edge_weights
        return A

    def source(self, s) -> int:
        """``s`` checked as a node of this graph."""
        return as_node("SparseGraph", "source", s, self.n)

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        w = "weighted" if self.weights is not None else "unweighted"
        return f"SparseGraph(n={self.n}, E={self.num_edges}, {kind}, {w})"


def _reject_duplicates(key: np.ndarray, n: int, message: str) -> None:
    if key.size < 2:
        return
    srt = np.sort(key)
    dup = np.flatnonzero(srt[1:] == srt[:-1])
    if dup.size:
        k = int(srt[dup[0]])
        raise InputError("SparseGraph.from_edges: " + message % (k // n, k % n))


def unique(a: np.ndarray) -> np.ndarray:
    """``np.unique(a)`` by sorting (numpy's hash-based unique is far slower on large int64 arrays)."""
    s = np.sort(a)
    return s[np.concatenate([[True], s[1:] != s[:-1]])] if s.size else s


def first_occurrences(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(a, return_index=True)``: the sorted distinct values and where each first occurs."""
    order = np.argsort(a, kind="stable")
    s = a[order]
    first = np.concatenate([[True], s[1:] != s[:-1]]) if s.size else np.zeros(0, bool)
    return s[first], order[first]


def model_edges(n: int, senders: np.ndarray, receivers: np.ndarray) -> np.ndarray:
    """int64 ``[2, M]``: the symmetric closure of the edges plus every self-loop, sorted by
    (sender, receiver) -- the edge set of a :class:`~nar.sparse.SparseTrajectory`."""
    loops = np.arange(n, dtype=np.int64)
    key = np.concatenate([senders * n + receivers, receivers * n + senders, loops * n + loops])
    key = unique(key)
    return np.stack([key // n, key % n])


def edge_positions(edge_index: np.ndarray, n: int, senders, receivers) -> np.ndarray:
    """Positions in ``edge_index`` (sorted, as :func:`model_edges` makes it) of the pairs
    ``(senders, receivers)``, which must all be in it."""
    key = edge_index[0] * n + edge_index[1]
    want = np.asarray(senders, np.int64) * n + np.asarray(receivers, np.int64)
    pos = np.searchsorted(key, want)
    if want.size and (np.any(pos >= key.size) or np.any(key[np.minimum(pos, key.size - 1)] != want)):
        raise ValueError("edge_positions: a pair is not in the edge set")
    return pos
