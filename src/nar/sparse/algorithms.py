"""CLRS graph algorithms on adjacency lists (CSR), recording the hints of the dense ones as change logs.

Each function here is the sparse twin of the dense one in :mod:`nar.algorithms.graphs` (same
snapshots, tie-breaking and edge tests: read its docstring for the semantics); on the same graph
``to_dense(execute(name, g, ...))`` equals ``nar.execute(name, A=g.to_dense(), ...)`` exactly.
Round-synchronous algorithms (bfs, bellman_ford) run a round as whole-array numpy operations over
the frontier's out-edges; the others walk Python mirrors of the CSR arrays with heapq / union-find.
Cost: O((n + E) log n), plus O(T) Python work for the T snapshots.
"""
from __future__ import annotations

import heapq

import numpy as np

from ..validation import InputError
from .graph import SparseGraph, edge_positions, first_occurrences, model_edges
from .trajectory import Recorder, SparseTrajectory


def out_edges(indptr: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(edge ids, their sender)`` of every out-edge of ``nodes``, in node order then CSR order."""
    lo, cnt = indptr[nodes], indptr[nodes + 1] - indptr[nodes]
    total = int(cnt.sum())
    senders = np.repeat(nodes, cnt)
    ids = np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(total)
    return ids, senders


def begin(name: str, g: SparseGraph, hints: bool, *, source: int | None = None) -> Recorder:
    """A recorder with the CLRS graph inputs ``A``, ``adj`` (and ``s``) on the model edge set."""
    ei = model_edges(g.n, g.senders, g.receivers)
    rec = Recorder(name, g.n, ei, record=hints)
    A = np.zeros(ei.shape[1], np.float32)
    A[edge_positions(ei, g.n, g.senders, g.receivers)] = g.edge_weights
    adj = ((A != 0) | (ei[0] == ei[1])).astype(np.float32)
    rec.input(adj=adj)
    if "A" in rec.spec:
        rec.input(A=A)
    if source is not None:
        rec.input(s=source)
    return rec


def require_undirected(name: str, g: SparseGraph) -> None:
    if g.directed:
        raise InputError(f"{name}: graph must be undirected (SparseGraph with directed=False), "
                         "as the dense algorithm needs a symmetric A")


def require_nonnegative(name: str, g: SparseGraph) -> None:
    if g.weights is not None and g.weights.size and g.weights.min() < 0:
        raise InputError(f"{name}: graph must have non-negative weights (got min {g.weights.min():g}); "
                         "use bellman_ford for negative weights")


# ------------------------------------------------------------------------------------------ BFS
def bfs(g: SparseGraph, s: int, hints: bool = True) -> SparseTrajectory:
    """Parallel-round BFS over the edges of positive weight (:func:`nar.algorithms.graphs.bfs`)."""
    n = g.n
    rec = begin("bfs", g, hints, source=s)
    indptr, idx, w = g.csr()
    reach_log = rec.hint("reach_h", np.zeros(n))
    pi_log = rec.hint("pi_h", np.arange(n))
    reach = np.zeros(n, dtype=bool)
    reach[s] = True
    reach_log.set(s, 1.0)
    pi = np.arange(n)
    frontier = np.array([s])
    while True:
        rec.push()
        eids, snd = out_edges(indptr, frontier)
        rcv = idx[eids]
        ok = (w[eids] > 0) & ~reach[rcv]
        rcv, snd = rcv[ok], snd[ok]
        if not rcv.size:
            break
        new, first = first_occurrences(rcv)  # first offer = smallest frontier node
        pi[new] = snd[first]
        reach[new] = True
        reach_log.set_many(new, 1.0)
        pi_log.set_many(new, pi[new])
        frontier = new
    rec.output(pi=pi)
    return rec.finish()


# -------------------------------------------------------------------------------- Bellman-Ford
def bellman_ford(g: SparseGraph, s: int, hints: bool = True) -> SparseTrajectory:
    """Synchronous Bellman-Ford rounds (:func:`nar.algorithms.graphs.bellman_ford`)."""
    n = g.n
    rec = begin("bellman_ford", g, hints, source=s)
    indptr, idx, w = g.csr()
    w64 = w.astype(np.float64)
    pi_log, d_log = rec.hint("pi_h", np.arange(n)), rec.hint("d", np.zeros(n))
    msk_log = rec.hint("msk", np.zeros(n))
    msk_log.set(s, 1.0)
    d, pi = np.zeros(n), np.arange(n)
    msk = np.zeros(n, dtype=bool)
    msk[s] = True
    active = np.array([s])
    for _ in range(n):
        rec.push()
        eids, snd = out_edges(indptr, active)
        rcv = idx[eids]
        offer = d[snd] + w64[eids]
        order = np.lexsort((snd, offer, rcv))  # per receiver: least offer, then smallest sender
        rcv, snd, offer = rcv[order], snd[order], offer[order]
        v, first = first_occurrences(rcv)
        best, by = offer[first], snd[first]
        take = ~msk[v] | (best < d[v])
        if not take.any():
            break
        v, best, by = v[take], best[take], by[take]
        d[v], pi[v] = best, by
        msk[v] = True
        d_log.set_many(v, best)
        pi_log.set_many(v, by)
        msk_log.set_many(v, 1.0)
        active = v
    else:
        raise InputError("bellman_ford: graph has a negative-weight cycle reachable from source (in an "
                         "undirected graph every negative edge is one); shortest paths are undefined")
    rec.output(pi=pi)
    return rec.finish()


# ------------------------------------------------------------------------------ Dijkstra, Prim
def dijkstra(g: SparseGraph, s: int, hints: bool = True) -> SparseTrajectory:
    """Dijkstra with a binary heap (:func:`nar.algorithms.graphs.dijkstra`)."""
    require_nonnegative("dijkstra", g)
    return _best_first("dijkstra", g, s, "d", hints)


def mst_prim(g: SparseGraph, s: int, hints: bool = True) -> SparseTrajectory:
    """Prim with a binary heap (:func:`nar.algorithms.graphs.mst_prim`)."""
    require_undirected("mst_prim", g)
    return _best_first("mst_prim", g, s, "key", hints)


def _best_first(name: str, g: SparseGraph, s: int, value_probe: str, hints: bool) -> SparseTrajectory:
    """The loop of :func:`nar.algorithms.graphs._best_first` over CSR rows."""
    n = g.n
    rec = begin(name, g, hints, source=s)
    indptr, idx, w = g.csr()
    pi_log, val_log = rec.hint("pi_h", np.arange(n)), rec.hint(value_probe, np.zeros(n))
    mark_log, queue_log = rec.hint("mark", np.zeros(n)), rec.hint("in_queue", np.zeros(n))
    u_log = rec.hint("u", s)
    queue_log.set(s, 1.0)
    rec.push()
    prim = value_probe == "key"
    val, done, queued = [0.0] * n, [False] * n, [False] * n
    pi = list(range(n))
    queued[s] = True
    heap = [(0.0, s)]
    start, cols, ws = indptr.tolist(), idx.tolist(), w.astype(np.float64).tolist()
    set_val, set_pi, set_queue = val_log.set, pi_log.set, queue_log.set
    while heap:
        vu, u = heapq.heappop(heap)
        if done[u] or vu != val[u]:
            continue  # stale: u was extracted already or its value has dropped since
        done[u], queued[u] = True, False
        mark_log.set(u, 1.0)
        set_queue(u, 0.0)
        u_log.move(u)
        for i in range(start[u], start[u + 1]):
            v = cols[i]
            if done[v]:
                continue
            offered = ws[i] if prim else vu + ws[i]
            if not queued[v] or offered < val[v]:
                val[v] = offered
                pi[v] = u
                queued[v] = True
                set_val(v, offered)
                set_pi(v, u)
                set_queue(v, 1.0)
                heapq.heappush(heap, (offered, v))
        rec.push()
    rec.output(pi=pi)
    return rec.finish()


# ------------------------------------------------------------------------------------ Kruskal
def mst_kruskal(g: SparseGraph, hints: bool = True) -> SparseTrajectory:
    """Kruskal over a disjoint-set forest with the reference's FIND snapshots
    (:func:`nar.algorithms.graphs.mst_kruskal`)."""
    require_undirected("mst_kruskal", g)
    require_nonnegative("mst_kruskal", g)
    n = g.n
    rec = begin("mst_kruskal", g, hints)
    ei = rec.edge_index
    M = ei.shape[1]
    in_mst = np.zeros(M, np.float32)
    mst_log, pi_log = rec.hint("in_mst_h", in_mst), rec.hint("pi", np.arange(n))
    logs = {k: rec.hint(k, 0) for k in ("u", "v", "root_u", "root_v")}
    masks = {k: rec.hint(k, np.zeros(n)) for k in ("mask_u", "mask_v")}
    phase_log = rec.hint("phase", 0)
    rec.push()
    parent = list(range(n))
    marked = {"mask_u": [], "mask_v": []}  # the nodes each mask holds a 1 at

    def find(x: int, side: str, phase: int | None) -> int:
        root_log, mask_log, held = logs["root_" + side], masks["mask_" + side], marked["mask_" + side]
        path, root = [x], x
        while parent[root] != root:
            root = parent[root]
            for y in path:
                parent[y] = root
                pi_log.set(y, root)
            path.append(root)
            mask_log.set(root, 1.0)
            held.append(root)
            root_log.move(root)
            if phase is not None:
                phase_log.set(0, phase)
                phase = None
            rec.push()
        return root

    keep = (g.senders < g.receivers) & (g.edge_weights > 0)  # row-major u < v, as the dense one
    us, vs = g.senders[keep], g.receivers[keep]
    order = np.argsort(g.edge_weights[keep], kind="stable")
    us, vs = us[order], vs[order]
    pos_uv = edge_positions(ei, n, us, vs).tolist()
    pos_vu = edge_positions(ei, n, vs, us).tolist()
    for k, (u, v) in enumerate(zip(us.tolist(), vs.tolist())):
        for side, x in (("u", u), ("v", v)):
            logs[side].move(x)
            logs["root_" + side].move(x)
            mask_log, held = masks["mask_" + side], marked["mask_" + side]
            for y in held:
                mask_log.set(y, 0.0)
            mask_log.set(x, 1.0)
            held[:] = [x]
        phase_log.set(0, 1)
        rec.push()
        root_u = find(u, "u", None)
        root_v = find(v, "v", 2)
        if root_u != root_v:
            in_mst[pos_uv[k]] = in_mst[pos_vu[k]] = 1
            mst_log.set(pos_uv[k], 1.0)
            mst_log.set(pos_vu[k], 1.0)
            low, high = min(root_u, root_v), max(root_u, root_v)
            parent[low] = high
            pi_log.set(low, high)
        phase_log.set(0, 0)
        rec.push()
    rec.output(in_mst=in_mst)
    return rec.finish()
