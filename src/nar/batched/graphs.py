"""Batched kernels of the graph algorithms (see :mod:`nar.algorithms.graphs`).

Every kernel stacks the chunk's matrices into ``A [B, n, n]`` (float64, as ``as_adjacency``) and
runs the per-sample algorithm's own step loop once for the whole chunk; samples that finish early
(or take no step at this point) are left out of the snapshot with ``active``.  A chunk the kernel
does not handle (mixed sizes, or inputs the per-sample code rejects) goes to the per-sample
function, which raises the error the user would get from ``nar.execute``.
"""
from __future__ import annotations

import numpy as np

from ..algorithms.graphs import adjacency_mask
from ..validation import FLOAT32_MAX, to_float32_exact
from . import kernel, per_sample
from .recorder import BatchRecorder


# ---------------------------------------------------------------------------------------- helpers
def _stack(inputs: list[dict]) -> np.ndarray | None:
    """``A [B, n, n]`` float64, or None if the matrices are not all square of one size or not
    acceptable to every algorithm (non-finite or too large weights)."""
    mats = [np.asarray(x["A"]) for x in inputs]
    shape = mats[0].shape
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1 or any(m.shape != shape for m in mats):
        return None
    A = np.stack(mats).astype(np.float64, copy=False)
    # finite and within float32 (as_adjacency); this also bounds a sum of n weights (_check_weights)
    return to_float32_exact(A) if np.abs(A).max() <= FLOAT32_MAX else None


def _sources(inputs: list[dict], n: int) -> np.ndarray | None:
    """Source nodes ``[B]``, or None if one is not an integer index in ``[0, n)``."""
    s = [x["s"] for x in inputs]
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in s):
        return None
    s = np.array(s, dtype=np.int64)
    return s if ((s >= 0) & (s < n)).all() else None


def _only(alive: np.ndarray):
    """``active`` for BatchRecorder.step: None when every sample pushes (the fast path)."""
    return None if alive.all() else alive


def _symmetric(A: np.ndarray) -> bool:
    return bool(np.array_equal(A, A.transpose(0, 2, 1)))


# -------------------------------------------------------------------------------------------- BFS
@kernel("bfs")
def bfs(inputs: list[dict]):
    """Mirrors ``graphs.bfs``: parallel rounds over edges ``A > 0``, the smallest reached neighbour
    becomes the parent; a sample stops pushing after its first round that reaches nothing."""
    A = _stack(inputs)
    s = None if A is None else _sources(inputs, A.shape[1])
    if s is None:
        return per_sample("bfs", inputs)
    B, n, _ = A.shape
    rows = np.arange(B)
    rec = BatchRecorder("bfs", n, B)
    rec.input(s=s, A=A, adj=adjacency_mask(A))
    edge = A > 0
    reach = np.zeros((B, n), dtype=bool)
    reach[rows, s] = True
    pi = np.tile(np.arange(n), (B, 1))
    alive = np.ones(B, dtype=bool)
    fb, fu = rows, s  # the frontier: (sample, node) reached in the previous round, ascending
    while True:
        rec.step(active=_only(alive), reach_h=reach, pi_h=pi)
        # only the frontier's rows can reach anything new (see graphs.bfs): O(n^2) per sample
        out = edge[fb, fu]  # [K, n]
        groups, start = np.unique(fb, return_index=True)
        new = np.logical_or.reduceat(out, start, axis=0) & ~reach[groups]  # [G, n]
        alive = np.zeros(B, dtype=bool)
        alive[groups] = new.any(axis=1)  # a finished sample is a fixed point: it never reaches more
        if not alive.any():
            break
        first = np.minimum.reduceat(np.where(out, fu[:, None], n), start, axis=0)  # smallest u
        g, v = np.nonzero(new)
        fb, fu = groups[g], v
        pi[fb, fu] = first[g, v]
        reach[fb, fu] = True
    rec.output(pi=pi)
    return rec.finish()


# ----------------------------------------------------------------------------------- Bellman-Ford
@kernel("bellman_ford")
def bellman_ford(inputs: list[dict]):
    """Mirrors ``graphs.bellman_ford``: synchronous rounds relaxing edges ``A != 0`` out of the
    reached nodes, the smallest ``u`` among equal best offers; a sample stops after its first round
    that changes neither ``d`` nor ``msk``.  Not converged after n rounds (a negative cycle): the
    chunk goes to the per-sample code, which raises."""
    A = _stack(inputs)
    s = None if A is None else _sources(inputs, A.shape[1])
    if s is None:
        return per_sample("bellman_ford", inputs)
    B, n, _ = A.shape
    rows = np.arange(B)
    rec = BatchRecorder("bellman_ford", n, B)
    rec.input(s=s, A=A, adj=adjacency_mask(A))
    W = np.where(A != 0, A, np.inf)  # absent edges never offer anything
    d = np.zeros((B, n))
    pi = np.tile(np.arange(n), (B, 1))
    msk = np.zeros((B, n), dtype=bool)
    msk[rows, s] = True
    alive = np.ones(B, dtype=bool)
    ab, au = rows, s  # the active nodes (sample, u), ascending: only they offer anything new
    for _ in range(n):
        rec.step(active=_only(alive), pi_h=pi, d=d, msk=msk)
        offers = d[ab, au][:, None] + W[ab, au]  # [K, n]: d[u] + A[u, v]
        groups, start = np.unique(ab, return_index=True)
        best = np.minimum.reduceat(offers, start, axis=0)  # [G, n]
        owner = np.repeat(np.arange(groups.size), np.diff(np.append(start, ab.size)))
        # the first u among equal minima
        best_u = np.minimum.reduceat(np.where(offers == best[owner], au[:, None], n), start, axis=0)
        take = (best < np.inf) & (~msk[groups] | (best < d[groups]))
        # a sample that changes nothing is a fixed point: it has no active node any more
        alive = np.zeros(B, dtype=bool)
        alive[groups] = take.any(axis=1)
        if not alive.any():
            break
        g, v = np.nonzero(take)
        ab, au = groups[g], v
        d[ab, au] = best[g, v]
        pi[ab, au] = best_u[g, v]
        msk[ab, au] = True
    else:  # a negative cycle: the per-sample code raises its error
        return per_sample("bellman_ford", inputs)
    rec.output(pi=pi)
    return rec.finish()


# -------------------------------------------------------------------------------- Dijkstra, Prim
@kernel("dijkstra")
def dijkstra(inputs: list[dict]):
    """Mirrors ``graphs.dijkstra`` (see :func:`_best_first`)."""
    A = _stack(inputs)
    if A is None or A.min() < 0:
        return per_sample("dijkstra", inputs)
    return _best_first("dijkstra", A, inputs, "d")


@kernel("mst_prim")
def mst_prim(inputs: list[dict]):
    """Mirrors ``graphs.mst_prim`` (see :func:`_best_first`)."""
    A = _stack(inputs)
    if A is None or not _symmetric(A):
        return per_sample("mst_prim", inputs)
    return _best_first("mst_prim", A, inputs, "key")


def _best_first(name: str, A: np.ndarray, inputs: list[dict], value_probe: str):
    """Mirrors ``graphs._best_first``: one EXTRACT-MIN per step, the queued node of least value
    and then least index (the per-sample heap pops (value, node) pairs, and values only drop); it
    relaxes the unmarked neighbours ``A[u, v] != 0``.  A sample stops when its queue is empty."""
    B, n, _ = A.shape
    s = _sources(inputs, n)
    if s is None:
        return per_sample(name, inputs)
    prim = value_probe == "key"
    rows = np.arange(B)
    rec = BatchRecorder(name, n, B)
    rec.input(s=s, A=A, adj=adjacency_mask(A))
    value = np.zeros((B, n))
    pi = np.tile(np.arange(n), (B, 1))
    mark = np.zeros((B, n), dtype=bool)
    queued = np.zeros((B, n), dtype=bool)
    queued[rows, s] = True
    rec.step(pi_h=pi, mark=mark, in_queue=queued, u=s, **{value_probe: value})
    for _ in range(n):
        alive = queued.any(axis=1)
        if not alive.any():
            break
        u = np.where(queued, value, np.inf).argmin(axis=1)  # least value, then least index
        live = rows[alive]
        mark[live, u[live]] = True
        queued[live, u[live]] = False
        w = A[rows, u]  # [b, v] = A[u, v]
        offered = w if prim else value[rows, u][:, None] + w
        better = (w != 0) & ~mark & (~queued | (offered < value)) & alive[:, None]
        value = np.where(better, offered, value)
        pi = np.where(better, u[:, None], pi)
        queued |= better
        rec.step(active=_only(alive), pi_h=pi, mark=mark, in_queue=queued, u=u,
                 **{value_probe: value})
    rec.output(pi=pi)
    return rec.finish()


# -------------------------------------------------------------------------------- Floyd-Warshall
@kernel("floyd_warshall")
def floyd_warshall(inputs: list[dict]):
    """Mirrors ``graphs.floyd_warshall``: one snapshot before each intermediate node ``k``; a pair
    takes the path through ``k`` (and ``Pi[k, j]``) if it is strictly shorter or the first.  The
    chunk runs in groups of samples small enough for the cache (n^3 values a sample).  A negative
    cycle: the chunk goes to the per-sample code, which raises."""
    A = _stack(inputs)
    if A is None:
        return per_sample("floyd_warshall", inputs)
    B, n, _ = A.shape
    group = max(1, _GROUP_VALUES // n ** 3)
    out = []
    for lo in range(0, B, group):
        part = _floyd_warshall(A[lo:lo + group])
        if part is None:
            return per_sample("floyd_warshall", inputs)
        out += part
    return out


_GROUP_VALUES = 1 << 21  # values of [group, n, n, n] (floyd_warshall's hint history) per group


def _floyd_warshall(A: np.ndarray):
    """Trajectories of ``A [b, n, n]``, or None if one has a negative cycle."""
    B, n, _ = A.shape
    rec = BatchRecorder("floyd_warshall", n, B)
    adj = adjacency_mask(A)
    rec.input(A=A, adj=adj)
    msk = adj
    dist = np.where(msk, A, np.inf)  # no path: no offer
    Pi = np.repeat(np.arange(n)[:, None], n, axis=1)[None].repeat(B, axis=0)
    through = np.empty_like(dist)
    for k in range(n):
        rec.step(Pi_h=Pi, D=np.where(msk, dist, A), msk=msk, k=k)  # D keeps A where msk is 0
        np.add(dist[:, :, k, None], dist[:, None, k, :], out=through)
        Pi = np.where(through < dist, Pi[:, None, k, :], Pi)  # strictly shorter (or first)
        np.minimum(dist, through, out=dist)
        msk = dist < np.inf
    D = np.where(msk, dist, A)
    if not np.isfinite(D).all() or (np.einsum("bii->bi", D) < 0).any():
        return None
    rec.output(Pi=Pi)
    return rec.finish()


# ---------------------------------------------------------------------------------------- Kruskal
@kernel("mst_kruskal")
def mst_kruskal(inputs: list[dict]):
    """Mirrors ``graphs.mst_kruskal``: the samples take their e-th lightest edge together (a
    stable sort of the upper triangle, row-major among equal weights); each FIND step up a tree is
    a snapshot of the samples still climbing; samples out of edges push nothing."""
    A = _stack(inputs)
    if A is None or A.min() < 0 or not _symmetric(A):
        return per_sample("mst_kruskal", inputs)
    B, n, _ = A.shape
    rows = np.arange(B)
    rec = _GrowingEdgesRecorder("mst_kruskal", n, B, "in_mst_h")
    rec.input(A=A, adj=adjacency_mask(A))
    phase = [np.full(B, p, dtype=np.int64) for p in range(3)]
    pi = np.tile(np.arange(n), (B, 1))  # the disjoint-set forest
    empty = np.zeros((B, n), dtype=bool)
    rec.step(pi=pi, u=0, v=0, root_u=0, root_v=0, mask_u=empty, mask_v=empty, phase=phase[0])
    eu, ev, count = _edges_by_weight(A)
    for e in range(int(count.max(initial=0))):
        act = e < count
        only = _only(act)
        u, v = eu[:, e], ev[:, e]
        mask_u, mask_v = empty.copy(), empty.copy()
        mask_u[rows, u] = mask_v[rows, v] = True
        rec.step(active=only, u=u, v=v, root_u=u, root_v=v, mask_u=mask_u, mask_v=mask_v,
                 phase=phase[1])
        root_u = _find(rec, pi, u, mask_u, act, "u", None)  # phase stays 1
        root_v = _find(rec, pi, v, mask_v, act, "v", phase[2])
        join = act & (root_u != root_v)
        b = rows[join]
        pi[b, np.minimum(root_u, root_v)[b]] = np.maximum(root_u, root_v)[b]
        rec.step(active=only, pi=pi, phase=phase[0])
        rec.add_edges(b, u[b], v[b])  # in_mst_h from this snapshot on
    return rec.finish()


class _GrowingEdgesRecorder(BatchRecorder):
    """A BatchRecorder for an edge hint that only ever gains edges (Kruskal's ``in_mst_h``), a
    local feature: instead of a ``[B, n, n]`` version per change, it keeps the events (sample,
    snapshot, u, v) and writes the ``[B, T, n, n]`` history in one pass at ``finish``.  The output
    of the same name (the final edge set) is recorded too.  Edges are undirected (both u, v and
    v, u are set)."""

    def __init__(self, name: str, n: int, batch: int, hint: str):
        super().__init__(name, n, batch)
        self._hint = hint
        self._started = False
        self._events: list[tuple[np.ndarray, ...]] = []  # (rows, snapshot, u, v) per add_edges

    def step(self, active=None, **changed) -> None:
        if not self._started:  # the hint starts empty (BatchRecorder wants every hint at first)
            self._started = True
            changed[self._hint] = np.zeros((self.batch, self.n, self.n), dtype=np.float32)
        super().step(active, **changed)

    def add_edges(self, rows: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
        """Add edge (u, v) to the hint of samples ``rows`` from their last snapshot on."""
        if rows.size:
            self._events.append((rows, self.lengths[rows] - 1, u, v))

    def _edge_events(self) -> tuple[np.ndarray, ...]:
        if not self._events:
            return (np.zeros(0, dtype=np.int64),) * 4
        return tuple(np.concatenate(part) for part in zip(*self._events))

    def finish(self, extras=None):
        rows, _, u, v = self._edge_events()
        final = np.zeros((self.batch, self.n, self.n), dtype=np.float32)
        final[rows, u, v] = final[rows, v, u] = 1
        self.output(**{self._hint.removesuffix("_h"): final})
        return super().finish(extras, built={self._hint: self._growing_history})

    def _growing_history(self, T: int) -> np.ndarray:
        """The growing hint as ``[B, T, n, n]`` in one pass: an edge is in every snapshot from the
        one it was added at."""
        rows, at, u, v = self._edge_events()
        since = np.full((self.batch, self.n, self.n), T, dtype=np.int32)  # first snapshot holding the edge
        since[rows, u, v] = since[rows, v, u] = at
        hist = np.empty((self.batch, T, self.n, self.n), dtype=np.float32)
        for t in range(T):  # one snapshot at a time: a small source, measured faster than broadcasting
            np.greater_equal(t, since, out=hist[:, t], casting="unsafe")
        return hist


def _edges_by_weight(A: np.ndarray):
    """Every sample's edges ``A[u, v] > 0``, ``u < v``, in increasing weight, row-major among
    equal weights: endpoints ``eu, ev [B, E]`` (valid up to ``count [B]``)."""
    iu, iv = np.triu_indices(A.shape[1], 1)  # row-major
    W = A[:, iu, iv]
    order = np.argsort(np.where(W > 0, W, np.inf), axis=1, kind="stable")  # non-edges last
    return iu[order], iv[order], (W > 0).sum(axis=1)


def _find(rec: BatchRecorder, pi: np.ndarray, x: np.ndarray, mask: np.ndarray, act: np.ndarray,
          side: str, phase) -> np.ndarray:
    """FIND from ``x [B]`` with path compression for the ``act`` samples, one snapshot per step
    up the tree (of the samples still climbing); ``mask`` marks the nodes visited, which are the
    path compressed at each step.  Updates ``pi`` and ``mask`` in place; returns the roots."""
    rows = np.arange(len(x))
    root = x.copy()
    climbing = act & (pi[rows, root] != root)
    extra = {} if phase is None else {"phase": phase}
    while climbing.any():
        b = rows[climbing]
        root[b] = pi[b, root[b]]
        pi[b] = np.where(mask[b], root[b, None], pi[b])
        mask[b, root[b]] = True
        rec.step(active=_only(climbing), pi=pi, **{"root_" + side: root, "mask_" + side: mask}, **extra)
        climbing &= pi[rows, root] != root
    return root
