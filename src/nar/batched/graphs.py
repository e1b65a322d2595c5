"""Batched kernels of the graph algorithms (see :mod:`nar.algorithms.graphs`).

Every kernel stacks the chunk's matrices into ``A [B, n, n]`` (float64, as ``as_adjacency``) and
runs the per-sample algorithm's own step loop once for the whole chunk; samples that finish early
(or take no step at this point) are left out of the snapshot with ``active``.  A chunk the kernel
does not handle (mixed sizes, or inputs the per-sample code rejects) goes to the per-sample
function, which raises the error the user would get from ``nar.execute``.
"""
from __future__ import annotations

import numpy as np

from ..algorithms.registry import get_algorithm
from ..validation import FLOAT32_MAX
from . import kernel
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
    return A if np.abs(A).max() <= FLOAT32_MAX else None


def _sources(inputs: list[dict], n: int) -> np.ndarray | None:
    """Source nodes ``[B]``, or None if one is not an integer index in ``[0, n)``."""
    s = [x["s"] for x in inputs]
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in s):
        return None
    s = np.array(s, dtype=np.int64)
    return s if ((s >= 0) & (s < n)).all() else None


def _per_sample(name: str, inputs: list[dict]):
    algo = get_algorithm(name).fn
    return [algo(**x) for x in inputs]


def _adjacency_mask(A: np.ndarray) -> np.ndarray:
    """The ``adj`` input of every sample: ``A + I != 0`` (off the diagonal simply ``A != 0``)."""
    adj = A != 0
    diag = np.einsum("bii->bi", A)
    i = np.arange(A.shape[-1])
    adj[:, i, i] = diag + 1 != 0
    return adj


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
        return _per_sample("bfs", inputs)
    B, n, _ = A.shape
    rows = np.arange(B)
    rec = BatchRecorder("bfs", n, B)
    rec.input(s=s, A=A, adj=_adjacency_mask(A))
    into = np.ascontiguousarray((A > 0).transpose(0, 2, 1))  # into[b, v, u]: an edge u -> v
    reach = np.zeros((B, n), dtype=bool)
    reach[rows, s] = True
    pi = np.tile(np.arange(n), (B, 1))
    alive = np.ones(B, dtype=bool)
    while True:
        rec.step(active=_only(alive), reach_h=reach, pi_h=pi)
        offers = into & reach[:, None, :]  # [b, v, u]: reached u offers v
        new = offers.any(axis=2) & ~reach
        alive = new.any(axis=1)  # a finished sample is a fixed point: it never reaches more
        if not alive.any():
            break
        pi = np.where(new, offers.argmax(axis=2), pi)  # the smallest reached neighbour
        reach |= new
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
        return _per_sample("bellman_ford", inputs)
    B, n, _ = A.shape
    rows = np.arange(B)
    rec = BatchRecorder("bellman_ford", n, B)
    rec.input(s=s, A=A, adj=_adjacency_mask(A))
    into = np.where(A != 0, A, np.inf).transpose(0, 2, 1).copy()  # into[b, v, u] = A[u, v]
    d = np.zeros((B, n))
    pi = np.tile(np.arange(n), (B, 1))
    msk = np.zeros((B, n), dtype=bool)
    msk[rows, s] = True
    alive = np.ones(B, dtype=bool)
    offers = np.empty_like(into)
    for _ in range(n):
        rec.step(active=_only(alive), pi_h=pi, d=d, msk=msk)
        np.add(np.where(msk, d, np.inf)[:, None, :], into, out=offers)  # [b, v, u] = d[u] + A[u, v]
        best_u = offers.argmin(axis=2)  # first u among equal minima
        best = np.take_along_axis(offers, best_u[:, :, None], axis=2)[:, :, 0]
        offered = best < np.inf
        take = offered & (~msk | (best < d))
        # a sample that changes nothing is a fixed point: take is empty, and stays so
        alive = (take | (offered & ~msk)).any(axis=1)
        if not alive.any():
            break
        d = np.where(take, best, d)
        pi = np.where(take, best_u, pi)
        msk |= offered
    else:  # a negative cycle: the per-sample code raises its error
        return _per_sample("bellman_ford", inputs)
    rec.output(pi=pi)
    return rec.finish()


# -------------------------------------------------------------------------------- Dijkstra, Prim
@kernel("dijkstra")
def dijkstra(inputs: list[dict]):
    """Mirrors ``graphs.dijkstra`` (see :func:`_best_first`)."""
    A = _stack(inputs)
    if A is None or A.min() < 0:
        return _per_sample("dijkstra", inputs)
    return _best_first("dijkstra", A, inputs, "d")


@kernel("mst_prim")
def mst_prim(inputs: list[dict]):
    """Mirrors ``graphs.mst_prim`` (see :func:`_best_first`)."""
    A = _stack(inputs)
    if A is None or not _symmetric(A):
        return _per_sample("mst_prim", inputs)
    return _best_first("mst_prim", A, inputs, "key")


def _best_first(name: str, A: np.ndarray, inputs: list[dict], value_probe: str):
    """Mirrors ``graphs._best_first``: one EXTRACT-MIN per step, the queued node of least value
    and then least index (the per-sample heap pops (value, node) pairs, and values only drop); it
    relaxes the unmarked neighbours ``A[u, v] != 0``.  A sample stops when its queue is empty."""
    B, n, _ = A.shape
    s = _sources(inputs, n)
    if s is None:
        return _per_sample(name, inputs)
    prim = value_probe == "key"
    rows = np.arange(B)
    rec = BatchRecorder(name, n, B)
    rec.input(s=s, A=A, adj=_adjacency_mask(A))
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
        return _per_sample("floyd_warshall", inputs)
    B, n, _ = A.shape
    group = max(1, _GROUP_VALUES // n ** 3)
    out = []
    for lo in range(0, B, group):
        part = _floyd_warshall(A[lo:lo + group])
        if part is None:
            return _per_sample("floyd_warshall", inputs)
        out += part
    return out


_GROUP_VALUES = 1 << 21  # values of [group, n, n, n] (floyd_warshall's hint history) per group


def _floyd_warshall(A: np.ndarray):
    """Trajectories of ``A [b, n, n]``, or None if one has a negative cycle."""
    B, n, _ = A.shape
    rec = BatchRecorder("floyd_warshall", n, B)
    adj = _adjacency_mask(A)
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
