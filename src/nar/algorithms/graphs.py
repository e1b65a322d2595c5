"""CLRS-30 graph algorithms (CLRS ch. 22-25), traced with :class:`nar.trace.Tracer`.

Graphs are dense (weighted) adjacency matrices ``A`` (``A[u, v]`` the weight of edge u -> v, 0 = no
edge); ``adj`` is ``(A + I) != 0`` as in CLRS (every node is adjacent to itself).  "No parent" is a
self-pointer.  Semantics (snapshots, tie-breaking, ``A > 0`` versus ``A != 0`` edge tests) follow the
CLRS reference ``clrs/_src/algorithms/graphs.py``; differences are listed in each docstring.

What each algorithm accepts (checked at the boundary, :class:`nar.InputError` otherwise): a square,
finite matrix with at least one node; and

==================  =====================================================================================
bfs                 any; edges are ``A[u, v] > 0``
mst_kruskal         symmetric, non-negative; edges are ``A[u, v] > 0`` (upper triangle)
mst_prim            symmetric; edges are ``A[u, v] != 0`` (negative weights are fine for an MST)
bellman_ford        any (directed); edges ``!= 0``; a negative cycle reachable from ``s`` is an error
dijkstra            non-negative (directed); edges ``!= 0``
floyd_warshall      any (directed); edges ``!= 0``; a negative cycle is an error
==================  =====================================================================================
"""
from __future__ import annotations

import heapq

import numpy as np

from ..trace import Tracer, Trajectory
from ..validation import InputError, as_adjacency, as_node
from .registry import register


def adjacency_mask(A: np.ndarray) -> np.ndarray:
    """CLRS ``graph`` probe: 1 where ``A + I`` is non-zero (``A [n, n]``, or ``[B, n, n]``)."""
    return ((A + np.eye(A.shape[-1])) != 0).astype(np.float32)


def _check_weights(name: str, A: np.ndarray, *, nonnegative: bool = False) -> None:
    """Reject negative weights if ``nonnegative``, and weights so large that a sum of n of them
    overflows float64."""
    low, high = float(A.min()), float(A.max())
    if nonnegative and low < 0:
        raise InputError(f"{name}: A must have non-negative weights (got min {low:g}); "
                         "use bellman_ford for negative weights")
    if max(-low, high) > np.finfo(np.float64).max / A.shape[0]:
        raise InputError(f"{name}: weights of A are too large (a path of n edges overflows float64)")


# ------------------------------------------------------------------------------------------------ BFS
@register("bfs", "graphs")
def bfs(A, s) -> Trajectory:
    """Breadth-first search (CLRS 22.2), run in parallel rounds: every node reached in the previous
    round reaches its neighbours (``A[i, j] > 0``); an unreached node takes the smallest such
    neighbour as parent.  One snapshot per round, the last one when nothing changes."""
    A = as_adjacency("bfs", A)
    n = A.shape[0]
    s = as_node("bfs", "s", s, n)
    tr = Tracer("bfs", n)
    tr.input(s=s, A=A, adj=adjacency_mask(A))
    edge = A > 0
    reach = np.zeros(n, dtype=bool)
    reach[s] = True
    pi = np.arange(n)
    frontier = np.array([s])  # the nodes reached in the previous round, ascending
    while True:
        tr.step(reach_h=reach, pi_h=pi)
        # An unreached node's reached neighbours were all reached in the previous round (an older
        # one would have reached it already), so only the frontier's rows are read: O(n^2) in all.
        rows = edge[frontier]
        new = np.flatnonzero(rows.any(axis=0) & ~reach)
        if not new.size:
            break
        pi[new] = frontier[np.argmax(rows[:, new], axis=0)]  # smallest reached neighbour
        reach[new] = True
        frontier = new
    tr.output(pi=pi)
    return tr.finish()


# ------------------------------------------------------------------------------------------------ MST
@register("mst_kruskal", "graphs")
def mst_kruskal(A) -> Trajectory:
    """Kruskal's minimum spanning forest (CLRS 23.2) over a disjoint-set forest ``pi``.

    ``A`` must be symmetric and non-negative; the edges are ``A[u, v] > 0`` with ``u < v``, taken in
    increasing weight.  Each ``union(u, v)`` pushes: its start (``mask_u``/``mask_v`` one-hot at u/v,
    ``phase`` 1); one snapshot per step of FIND from u (``phase`` 1), then from v (``phase`` 2), each
    step moving up to the next ancestor and pointing every node visited so far (``mask_*``) at it;
    and the link (``phase`` 0): if the roots differ, the edge joins ``in_mst`` and the smaller root
    points at the larger.  The initial snapshot has ``u = v = root_u = root_v = 0``, empty masks.
    T = 1 + sum over edges of (2 + find steps).

    Difference from the reference: equal weights are taken in row-major (u, v) order (a stable
    sort); the reference uses NumPy's default unstable ``argsort``, whose tie order is unspecified
    (platform-dependent).  Identical on inputs without ties (checked against dm-clrs 2.0.3).
    """
    A = as_adjacency("mst_kruskal", A, nonnegative=True, symmetric=True)
    n = A.shape[0]
    tr = Tracer("mst_kruskal", n)
    tr.input(A=A, adj=adjacency_mask(A))
    pi = np.arange(n)  # the disjoint-set forest (snapshots) ...
    parent = list(range(n))  # ... and its Python mirror
    in_mst = np.zeros((n, n))
    empty = np.zeros(n)
    tr.step(in_mst_h=in_mst, pi=pi, u=0, v=0, root_u=0, root_v=0, mask_u=empty, mask_v=empty,
            phase=0)

    def find(x: int, mask: np.ndarray, side: str, phase: int | None) -> int:
        """FIND with path compression, one snapshot per step up the tree; ``mask`` marks the
        nodes visited.  ``phase`` (if not None) is set at the first step."""
        root_key, mask_key = "root_" + side, "mask_" + side
        path, root = [x], x
        while parent[root] != root:
            root = parent[root]
            for y in path:
                parent[y] = pi[y] = root
            path.append(root)
            mask[root] = 1
            changed = {"pi": pi, root_key: root, mask_key: mask}
            if phase is not None:
                changed["phase"], phase = phase, None
            tr.step(**changed)
        return root

    rows, cols = np.nonzero(A > 0)
    upper = rows < cols
    rows, cols = rows[upper], cols[upper]  # the edges u < v, row-major
    weights = A[rows, cols]
    order = np.argsort(weights, kind="stable")
    for u, v in zip(rows[order].tolist(), cols[order].tolist()):
        mask_u, mask_v = np.zeros(n), np.zeros(n)
        mask_u[u] = mask_v[v] = 1
        tr.step(u=u, v=v, root_u=u, root_v=v, mask_u=mask_u, mask_v=mask_v, phase=1)
        root_u = find(u, mask_u, "u", None)  # phase stays 1
        root_v = find(v, mask_v, "v", 2)
        if root_u != root_v:
            in_mst[u, v] = in_mst[v, u] = 1
            low, high = min(root_u, root_v), max(root_u, root_v)
            parent[low] = pi[low] = high
            tr.step(in_mst_h=in_mst, pi=pi, phase=0)
        else:
            tr.step(phase=0)
    tr.output(in_mst=in_mst)
    return tr.finish()


@register("mst_prim", "graphs")
def mst_prim(A, s) -> Trajectory:
    """Prim's minimum spanning tree of the component of ``s`` (CLRS 23.2), edges ``A[u, v] != 0``.

    ``A`` must be symmetric.  Initial snapshot: ``s`` in the queue, ``key`` all 0, ``u = s``.  Then one
    snapshot per EXTRACT-MIN (the queued node of least ``key``, the smallest index among equal keys):
    ``u`` is marked and leaves the queue, and every unmarked neighbour ``v`` not yet queued, or with
    ``A[u, v] < key[v]``, gets ``pi[v] = u``, ``key[v] = A[u, v]`` and joins the queue.  It stops
    when the queue is empty: T = 1 + size of the component of ``s``.  Nodes never reached keep
    ``key`` 0 and point at themselves.

    Difference from the reference: its extract-min is ``argsort(key + 1e9 * (1 - in_queue))[0]``,
    whose choice among equal keys is unspecified (NumPy's default sort is unstable; with SIMD sorting
    it differs from the smallest index even at n = 4); here ties go to the smallest index, and
    weights above ~1e9 cannot be mistaken for the out-of-queue offset.  Identical on inputs
    without ties (checked against dm-clrs 2.0.3, and with a stable argsort on inputs with ties).
    """
    A = as_adjacency("mst_prim", A, symmetric=True)
    return _best_first("mst_prim", A, s, "key")


@register("dijkstra", "graphs")
def dijkstra(A, s) -> Trajectory:
    """Dijkstra's single-source shortest paths (CLRS 24.3), edges ``A[u, v] != 0``.

    ``A`` may be directed and must be non-negative.  Initial snapshot: ``s`` in the queue, ``d`` all
    0, ``u = s``.  Then one snapshot per EXTRACT-MIN (the queued node of least ``d``, the smallest index
    among ties): ``u`` is marked and leaves the queue, and every unmarked neighbour ``v`` not yet
    queued, or with ``d[u] + A[u, v] < d[v]``, gets ``pi[v] = u``, ``d[v] = d[u] + A[u, v]`` and joins
    the queue.  T = 1 + number of nodes reachable from ``s``; unreachable nodes keep ``d`` 0 and
    point at themselves.  Difference from the reference: as in :func:`mst_prim`.
    """
    A = as_adjacency("dijkstra", A)
    _check_weights("dijkstra", A, nonnegative=True)
    return _best_first("dijkstra", A, s, "d")


def _best_first(name: str, A: np.ndarray, s, value_probe: str) -> Trajectory:
    """The shared loop of Prim (``value_probe="key"``: v is offered ``A[u, v]``) and Dijkstra
    (``"d"``: v is offered ``d[u] + A[u, v]``), with a heap of (value, node) and lazy deletion."""
    n = A.shape[0]
    s = as_node(name, "s", s, n)
    tr = Tracer(name, n)
    tr.input(s=s, A=A, adj=adjacency_mask(A))
    value = np.zeros(n)
    pi = np.arange(n)
    mark = np.zeros(n)
    in_queue = np.zeros(n)
    in_queue[s] = 1
    tr.step(pi_h=pi, mark=mark, in_queue=in_queue, u=s, **{value_probe: value})
    # Python mirrors of the state for the scalar inner loop; the arrays above are the snapshots.
    prim = value_probe == "key"
    val, done, queued = [0.0] * n, [False] * n, [False] * n
    queued[s] = True
    heap = [(0.0, s)]
    rows, cols = np.nonzero(A)  # row-major: the neighbours of u are cols[start[u]:start[u + 1]]
    cols_l, w_l = cols.tolist(), A[rows, cols].tolist()
    start = np.searchsorted(rows, np.arange(n + 1)).tolist()
    while heap:
        vu, u = heapq.heappop(heap)
        if done[u] or vu != val[u]:
            continue  # a stale entry: u was extracted already or its value has dropped since
        done[u], queued[u] = True, False
        mark[u], in_queue[u] = 1, 0
        changed = False
        for i in range(start[u], start[u + 1]):
            v = cols_l[i]
            if done[v]:
                continue
            offered = w_l[i] if prim else vu + w_l[i]
            if not queued[v] or offered < val[v]:
                val[v] = value[v] = offered
                pi[v] = u
                queued[v] = True
                in_queue[v] = 1
                heapq.heappush(heap, (offered, v))
                changed = True
        if changed:
            tr.step(pi_h=pi, mark=mark, in_queue=in_queue, u=u, **{value_probe: value})
        else:
            tr.step(mark=mark, in_queue=in_queue, u=u)
    tr.output(pi=pi)
    return tr.finish()


# ------------------------------------------------------------------------------------ shortest paths
@register("bellman_ford", "graphs")
def bellman_ford(A, s) -> Trajectory:
    """Bellman-Ford single-source shortest paths (CLRS 24.1) in synchronous rounds, edges ``A != 0``.

    Each round relaxes every edge out of the nodes reached before the round (``msk``) using the
    distances from before the round: a node not reached yet takes its first offer, a reached one a
    strictly smaller offer; among equal best offers the smallest ``u`` wins.  One snapshot before
    every round; it stops after the first round that changes nothing (T <= n).  Unreached nodes
    keep ``d`` 0 and point at themselves.  ``A`` may be directed with negative weights; a negative
    cycle reachable from ``s`` (in an undirected graph: any reachable negative edge) raises
    :class:`nar.InputError`, where the reference loops forever.

    Difference from the reference (a fixed defect): the reference stops when ``d`` is unchanged,
    so a round that only reaches new nodes at distance exactly 0 (possible with negative weights:
    0 -> 1 -> 2 with weights 1, -1) ends the search early and leaves nodes beyond them unreached;
    here a round that extends ``msk`` also continues.  With positive weights (every CLRS sampler)
    a newly reached node always changes ``d``, so the trajectories are the reference's.
    """
    A = as_adjacency("bellman_ford", A)
    _check_weights("bellman_ford", A)
    n = A.shape[0]
    s = as_node("bellman_ford", "s", s, n)
    tr = Tracer("bellman_ford", n)
    tr.input(s=s, A=A, adj=adjacency_mask(A))
    W = np.where(A != 0, A, np.inf)  # absent edges never offer anything
    cols = np.arange(n)
    d = np.zeros(n)
    pi = np.arange(n)
    msk = np.zeros(n, dtype=bool)
    msk[s] = True
    # Only nodes whose d changed (or that were reached) in the previous round can offer anything
    # new: every other reached u already made its offers, and d[v] <= d[u] + A[u, v] since.  So a
    # round reads only their rows (ascending, so the first minimum is the smallest u), as the
    # full relaxation would decide: O(V E) at worst, O(n^2) on a path.
    active = np.array([s])
    for _ in range(n):
        tr.step(pi_h=pi, d=d, msk=msk)
        offers = d[active][:, None] + W[active]  # offers[a, v] = d[active[a]] + A[active[a], v]
        first = offers.argmin(axis=0)
        best = offers[first, cols]
        take = (best < np.inf) & (~msk | (best < d))
        if not take.any():
            break
        d[take], pi[take] = best[take], active[first[take]]
        msk |= take
        active = np.flatnonzero(take)
    else:
        raise InputError("bellman_ford: A has a negative-weight cycle reachable from s (in an "
                         "undirected graph every negative edge is one); shortest paths are undefined")
    tr.output(pi=pi)
    return tr.finish()


@register("floyd_warshall", "graphs")
def floyd_warshall(A) -> Trajectory:
    """Floyd-Warshall all-pairs shortest paths (CLRS 25.2), edges ``A != 0``, vectorised over (i, j).

    ``D`` starts as ``A`` (so the diagonal holds self-loop weights), ``msk`` as ``adj``, and
    ``Pi[i, j] = i``.  One snapshot before each intermediate node ``k`` (T = n); in step ``k`` every
    pair with ``msk[i, k]`` and ``msk[k, j]`` takes ``D[i, k] + D[k, j]`` and ``Pi[i, j] = Pi[k, j]``
    if it had no path yet or the new one is strictly shorter, and becomes ``msk``-ed.  Output ``Pi``:
    ``Pi[i, j]`` is the predecessor of ``j`` on a shortest path from ``i`` (``i`` when there is none).
    ``A`` may be directed with negative weights; a negative cycle raises :class:`nar.InputError`.
    """
    A = as_adjacency("floyd_warshall", A)
    _check_weights("floyd_warshall", A)
    n = A.shape[0]
    tr = Tracer("floyd_warshall", n)
    adj = adjacency_mask(A)
    tr.input(A=A, adj=adj)
    msk = adj.astype(bool)
    dist = np.where(msk, A, np.inf)  # D where msk, +inf elsewhere: no path means no offer
    Pi = np.repeat(np.arange(n)[:, None], n, axis=1)
    for k in range(n):
        tr.step(Pi_h=Pi, D=np.where(msk, dist, A), msk=msk, k=k)  # D keeps A where msk is 0
        through = dist[:, k, None] + dist[k]  # finite only where msk[i, k] and msk[k, j]
        Pi = np.where(through < dist, Pi[k], Pi)  # strictly shorter (or first) paths via k
        np.minimum(dist, through, out=dist)
        msk = dist < np.inf
    D = np.where(msk, dist, A)
    if not np.all(np.isfinite(D)) or np.any(np.diagonal(D) < 0):
        raise InputError("floyd_warshall: A has a negative-weight cycle (in an undirected graph every "
                         "negative edge is one); shortest paths are undefined")
    tr.output(Pi=Pi)
    return tr.finish()
