"""Batched kernels of the DFS family (see :mod:`nar.algorithms.graphs_dfs`).

:class:`BatchDfsWalk` is the batched :class:`~nar.algorithms.graphs_dfs.DfsWalk`: every sample
walks its own graph, one event (one snapshot) per global step, and samples whose walk is over sit
out (``active``).  The stack needs no array of its own: as in the per-sample walk it is the linked
list ``s_prev`` topped by ``s_last``, so a vertex's stack parent is ``s_prev[u]``.  Each step the
walk decides every sample's next event with a few whole-batch operations:

* after a root finished: the first still-white vertex in root order starts a tree (START), or the
  sample is done;
* an undiscovered ``u`` (white, or never timed in a timed walk) is discovered (DISCOVER);
* otherwise the first neighbour of ``u`` at or after the scan position that is white (TREE) or, when
  SEEN events are reported, non-white and not ``u``'s parent (SEEN); none left: FINISH.  The scan
  position is 0 when ``u`` is (re-)entered and one past the last seen neighbour after a SEEN, which
  is the per-sample rescan.
"""
from __future__ import annotations

import numpy as np

from ..algorithms.graphs_dfs import BLACK, GREY, TICK, WHITE
from . import kernel
from .recorder import BatchRecorder

# event codes; painting events (DISCOVER, TREE, FINISH) come last
START, SEEN, DONE, DISCOVER, TREE, FINISH = range(6)
_PAINT = np.array([0, 0, 0, GREY, GREY, BLACK])  # the colour an event paints (where it paints)
_SCAN = np.array([FINISH, FINISH, SEEN, TREE])  # by 2 * (a candidate found) + (it is white)


def _adjacency(inputs: list[dict]) -> np.ndarray:
    return np.stack([np.asarray(x["A"], dtype=np.float64) for x in inputs])  # [B, n, n]


def _adjacency_mask(A: np.ndarray) -> np.ndarray:
    """Batched :func:`nar.algorithms.graphs.adjacency_mask`: 1 where ``A + I`` is non-zero."""
    return ((A + np.eye(A.shape[-1])) != 0).astype(np.float32)


class FlatState:
    """``[B, n]`` state arrays with a flat view and one spare slot at the end (index ``dump``),
    so one-element-per-sample updates are a single scatter: samples that write nothing aim at the
    spare slot."""

    def __init__(self, B: int, n: int):
        self.B, self.n = B, n
        self.base = np.arange(B) * n  # flat index of each sample's node 0
        self.dump = B * n

    def new(self, fill, dtype=np.float64):
        """A fresh ``([B, n] view, flat buffer)`` pair, filled with ``fill`` (broadcast to [B, n])."""
        flat = np.zeros(self.dump + 1, dtype=dtype)
        view = flat[:self.dump].reshape(self.B, self.n)
        view[...] = fill
        return view, flat

    def at(self, mask: np.ndarray, flat_index: np.ndarray) -> np.ndarray:
        """``flat_index`` where ``mask``, else the spare slot."""
        return np.where(mask, flat_index, self.dump)


class BatchDfsWalk:
    """The batched DFS walk and its hints (``[B, n]`` state arrays, ``[B]`` pointers).

    :meth:`run` yields ``(ev, active)`` once per global step (``ev``: every sample's event, DONE
    for finished walks; ``active``: None while no walk is over); the kernel updates its own state
    and calls :meth:`step` exactly once with its changed hints.
    """

    def __init__(self, rec: BatchRecorder, edge: np.ndarray, *, timed: bool,
                 parent_hint: str | None = None, with_root: bool = True, report_seen: bool = False):
        B, n = edge.shape[:2]
        self.rec, self.B, self.n = rec, B, n
        self.edge = edge.reshape(B * n, n)  # row base[b] + u: u's out-neighbours in sample b
        self.timed, self._parent, self._with_root, self._seen = timed, parent_hint, with_root, report_seen
        self.fs = fs = FlatState(B, n)
        self.idx = np.arange(n)
        self.color, self._color = fs.new(WHITE, np.int64)
        self.pi, self._pi = fs.new(self.idx, np.int64)
        self.s_prev, self._s_prev = fs.new(self.idx, np.int64)
        self.d, self._d = fs.new(0.0)
        self.f, self._f = fs.new(0.0)
        self.time = np.zeros(B)
        self.s = np.zeros(B, dtype=np.int64)
        self.u, self.v, self.s_last = self.s.copy(), self.s.copy(), self.s.copy()
        self.flat_u = fs.base.copy()  # base + u
        self._changed = {"color", "s_prev", "d", "f", "pi", "s"}  # walk hints for the next step
        if report_seen:
            self._after = np.arange(n + 1)[:, None] <= self.idx  # [pos, v]: v >= pos
            self._other = ~np.eye(n, dtype=bool)  # [parent, v]: v != parent

    # -- recording ------------------------------------------------------------------------------
    def step(self, active, **extra) -> None:
        """One snapshot for the ``active`` samples: the walk's hints and the kernel's ``extra``."""
        ch = self._changed
        hints = {"u": self.u, "v": self.v, "s_last": self.s_last, "color": self.color}
        if "s_prev" in ch:
            hints["s_prev"] = self.s_prev
        if self.timed:
            hints["time"] = self.time
            if "d" in ch:
                hints["d"] = self.d
            if "f" in ch:
                hints["f"] = self.f
        if self._parent and "pi" in ch:
            hints[self._parent] = self.pi
        if self._with_root and "s" in ch:
            hints["s"] = self.s
        self.rec.step(active, **hints, **extra)
        self._changed = set()

    # -- the walk -------------------------------------------------------------------------------
    def restart(self) -> None:
        """Whiten every vertex and empty the stacks (Kosaraju's second pass); ``d``, ``f``, ``time`` stay."""
        self.color[...] = WHITE
        self.s_prev[...] = self.idx
        self._changed |= {"color", "s_prev"}

    def run(self, order: np.ndarray | None = None):
        """Walk from every still-white root, in index order or in ``order`` (``[B, m]`` roots)."""
        ev = np.full(self.B, START)
        tgt = np.zeros(self.B, dtype=np.int64) if order is None else order[:, 0].copy()
        while True:
            done = ev == DONE
            ndone = np.count_nonzero(done)
            if ndone == self.B:
                return
            self._apply(ev, tgt)
            yield ev, (~done if ndone else None)
            ev, tgt = self._next(ev, tgt, order)

    def _apply(self, ev: np.ndarray, tgt: np.ndarray) -> None:
        """The state changes of event ``ev`` (``tgt``: the root, the child or the seen neighbour)."""
        fs, u = self.fs, self.u
        start = ev == START
        if np.count_nonzero(start):
            for x in (self.s, u, self.v, self.s_last):
                np.copyto(x, tgt, where=start)
            self.flat_u = fs.base + u
            self._changed.add("s")
        flat_u = self.flat_u
        tree, fin = ev == TREE, ev == FINISH
        at = np.where(tree, fs.base + tgt, flat_u)  # the vertex the event paints
        at[ev < DISCOVER] = fs.dump
        self._color[at] = _PAINT[ev]
        if np.count_nonzero(tree):
            at[~tree] = fs.dump
            self._pi[at] = u
            self._s_prev[at] = u
            np.copyto(self.s_last, tgt, where=tree)
            self._changed |= {"pi", "s_prev"}
        np.copyto(self.v, tgt, where=tree | (ev == SEEN) if self._seen else tree)
        np.copyto(self.v, self.n - 1, where=fin)
        if self.timed:
            disc = ev == DISCOVER
            np.add(self.time, TICK, out=self.time, where=disc | fin)
            if np.count_nonzero(disc):
                self._d[fs.at(disc, flat_u)] = self.time
                self._changed.add("d")
            if np.count_nonzero(fin):
                self._f[fs.at(fin, flat_u)] = self.time
                self._changed.add("f")

    def _next(self, ev: np.ndarray, tgt: np.ndarray, order):
        """Every sample's next event and its target, after the snapshot of ``ev``."""
        fs, u = self.fs, self.u
        fin = ev == FINISH
        new_root = None
        if np.count_nonzero(fin):  # pop the finished vertex; a finished root ends its tree
            parent = self._s_prev[self.flat_u]
            pop = fin & (parent != u)
            if np.count_nonzero(pop):
                self._s_prev[fs.at(pop, self.flat_u)] = u
                np.copyto(self.s_last, parent, where=pop)
                self._changed.add("s_prev")
            new_root = fin & ~pop
            if not np.count_nonzero(new_root):
                new_root = None
        np.copyto(u, self.s_last)
        flat_u = self.flat_u = fs.base + u
        white = self.color == WHITE
        fresh = self._color[flat_u] == WHITE
        if self.timed:
            fresh |= self._d[flat_u] == 0
        ok = self.edge.take(flat_u, axis=0)
        if self._seen:
            parent = self._s_prev[flat_u]
            ok &= white | self._other.take(parent, axis=0)
            ok &= self._after.take(np.where(ev == SEEN, tgt + 1, 0), axis=0)
        else:
            ok &= white
        k = ok.argmax(1)
        found = ok.reshape(-1)[fs.base + k]
        if self._seen:
            nxt = _SCAN[2 * found + white.reshape(-1)[fs.base + k]]
        else:
            nxt = FINISH - found
        nxt[fresh] = DISCOVER
        if new_root is not None:
            if order is None:
                w, first = white, white.argmax(1)
            else:
                w = np.take_along_axis(white, order, 1)
                first = order[np.arange(self.B), w.argmax(1)]
            found = w.reshape(-1)[w.shape[1] * np.arange(self.B) + w.argmax(1)]
            nxt[new_root] = np.where(found, START, DONE)[new_root]
            k = np.where(new_root, first, k)
        nxt[ev == DONE] = DONE
        return nxt, k


# ----------------------------------------------------------------------------- kernels
@kernel("dfs")
def dfs(inputs: list[dict]):
    """Batched :func:`nar.algorithms.graphs_dfs.dfs`: one timed walk over all roots (T = 3n)."""
    A = _adjacency(inputs)
    B, n = A.shape[:2]
    rec = BatchRecorder("dfs", n, B)
    rec.input(A=A, adj=_adjacency_mask(A))
    walk = BatchDfsWalk(rec, A != 0, timed=True, parent_hint="pi_h")
    for _, active in walk.run():
        walk.step(active)
    rec.output(pi=walk.pi)
    return rec.finish()


def _linked_topo(walk: BatchDfsWalk, ev: np.ndarray, topo_flat: np.ndarray, head: np.ndarray) -> bool:
    """Topological-sort bookkeeping at FINISH events (see ``topological_sort``): link the finished
    vertex to the head when the head is black, and make it the head.  True if any sample finished."""
    fin = ev == FINISH
    if not np.count_nonzero(fin):
        return False
    fs = walk.fs
    link = fin & (walk._color[fs.base + head] == BLACK)
    topo_flat[fs.at(link, walk.flat_u)] = head
    np.copyto(head, walk.u, where=fin)
    return True


@kernel("topological_sort")
def topological_sort(inputs: list[dict]):
    """Batched :func:`nar.algorithms.graphs_dfs.topological_sort`: an untimed walk over all roots
    that puts each finished vertex at the front of the ``topo`` list."""
    A = _adjacency(inputs)
    B, n = A.shape[:2]
    rec = BatchRecorder("topological_sort", n, B)
    rec.input(A=A, adj=_adjacency_mask(A))
    walk = BatchDfsWalk(rec, A != 0, timed=False)
    topo, topo_flat = walk.fs.new(walk.idx, np.int64)
    head = np.zeros(B, dtype=np.int64)
    first = True
    for ev, active in walk.run():
        if _linked_topo(walk, ev, topo_flat, head) or first:
            walk.step(active, topo_h=topo, topo_head_h=head)
            first = False
        else:
            walk.step(active)
    rec.output(topo=topo, topo_head=head)
    return rec.finish()


@kernel("dag_shortest_paths")
def dag_shortest_paths(inputs: list[dict]):
    """Batched :func:`nar.algorithms.graphs_dfs.dag_shortest_paths`: the topological-sort walk from
    ``s`` (phase 0), then every sample relaxes the out-edges of its sorted vertices in order (phase 1);
    samples whose list is exhausted sit out until the final snapshot of all."""
    A = _adjacency(inputs)
    B, n = A.shape[:2]
    s = np.array([int(x["s"]) for x in inputs], dtype=np.int64)
    edge = A != 0
    rec = BatchRecorder("dag_shortest_paths", n, B)
    rec.input(s=s, A=A, adj=_adjacency_mask(A))
    walk = BatchDfsWalk(rec, edge, timed=False, with_root=False)
    fs = walk.fs
    pi, d = walk.pi.copy(), np.zeros((B, n))
    mark, mark_flat = fs.new(0.0)
    topo, topo_flat = fs.new(walk.idx, np.int64)
    head = np.zeros(B, dtype=np.int64)
    first = True
    for ev, active in walk.run(s[:, None]):
        if first:
            walk.step(None, pi_h=pi, d=d, mark=mark, topo_h=topo, topo_head_h=head, phase=0)
            first = False
        elif _linked_topo(walk, ev, topo_flat, head):
            walk.step(active, topo_h=topo, topo_head_h=head)
        else:
            walk.step(active)
    # head == s: the root finishes last; d[s] is already 0
    rows = np.arange(B)
    mark[rows, head] = 1
    while True:
        i = head
        active = topo_flat[fs.base + i] != i
        count = np.count_nonzero(active)
        if not count:
            break
        mark_flat[fs.at(active, fs.base + i)] = 1
        rec.step(None if count == B else active, pi_h=pi, d=d, mark=mark, topo_head_h=i, phase=1)
        cand = d[rows, i][:, None] + A[rows, i]
        better = edge[rows, i] & ((mark == 0) | (cand < d)) & active[:, None]
        np.copyto(d, cand, where=better)
        np.copyto(pi, i[:, None], where=better)
        mark[better] = 1
        head = np.where(active, topo_flat[fs.base + i], i)
    rec.step(None, pi_h=pi, d=d, mark=mark, topo_head_h=head, phase=1)
    rec.output(pi=pi)
    return rec.finish()


@kernel("strongly_connected_components")
def strongly_connected_components(inputs: list[dict]):
    """Batched :func:`nar.algorithms.graphs_dfs.strongly_connected_components` (Kosaraju): a timed
    walk of ``A`` (phase 0, 3n steps for every sample), then of its transpose with roots by
    decreasing finishing time (phase 1), labelling each vertex it expands with that pass's root."""
    A = _adjacency(inputs)
    B, n = A.shape[:2]
    edge = A != 0
    rec = BatchRecorder("strongly_connected_components", n, B)
    rec.input(A=A, adj=_adjacency_mask(A))
    walk = BatchDfsWalk(rec, edge, timed=True)
    fs = walk.fs
    scc_id, scc_flat = fs.new(walk.idx, np.int64)
    first = True
    for _, active in walk.run():
        if first:
            A_t = _adjacency_mask(A.transpose(0, 2, 1))
            walk.step(None, scc_id_h=scc_id, A_t=A_t, phase=0)
            first = False
        else:
            walk.step(active)
    walk.restart()
    walk.edge = np.ascontiguousarray(edge.transpose(0, 2, 1)).reshape(B * n, n)
    first = True
    for ev, active in walk.run(np.argsort(-walk.f, axis=1)):
        if first:  # every sample starts its second pass now
            walk.step(None, phase=1)
            first = False
            continue
        expand = (ev != START) & (ev != DONE)
        scc_flat[fs.at(expand, walk.flat_u)] = walk.s
        walk.step(active, scc_id_h=scc_id)
    rec.output(scc_id=scc_id)
    return rec.finish()


class _LowPoints:
    """The low-point bookkeeping shared by articulation points and bridges (``low``, per event)."""

    def __init__(self, walk: BatchDfsWalk):
        self.walk = walk
        self.low, self._low = walk.fs.new(0.0)

    def update(self, ev: np.ndarray, changed: dict):
        """``low`` after a DISCOVER, SEEN or FINISH; at FINISH returns ``(fin, kids, d[u])`` with
        ``kids`` the finished vertices' tree children (``[B, n]``), else None."""
        walk, fs = self.walk, self.walk.fs
        flat_u, low = walk.flat_u, self._low
        disc, seen, fin = ev == DISCOVER, ev == SEEN, ev == FINISH
        if np.count_nonzero(disc):
            low[fs.at(disc, flat_u)] = walk._d[flat_u]
            changed["low"] = self.low
        if np.count_nonzero(seen):
            low[fs.at(seen, flat_u)] = np.minimum(low[flat_u], walk._d[fs.base + walk.v])
            changed["low"] = self.low
        if not np.count_nonzero(fin):
            return None
        u = walk.u[:, None]
        kids = (walk.pi == u) & (walk.idx != u)
        low[fs.at(fin, flat_u)] = np.minimum(low[flat_u], np.where(kids, self.low, np.inf).min(1))
        changed["low"] = self.low
        return fin, kids, walk._d[flat_u]


@kernel("articulation_points")
def articulation_points(inputs: list[dict]):
    """Batched :func:`nar.algorithms.graphs_dfs.articulation_points`: a timed walk reporting SEEN
    neighbours; ``low`` and ``child_cnt`` per event, the cut test at each FINISH."""
    A = _adjacency(inputs)
    B, n = A.shape[:2]
    rec = BatchRecorder("articulation_points", n, B)
    rec.input(A=A, adj=_adjacency_mask(A))
    walk = BatchDfsWalk(rec, A != 0, timed=True, parent_hint="pi_h", report_seen=True)
    fs = walk.fs
    lp = _LowPoints(walk)
    child_cnt, cnt_flat = fs.new(0.0)
    is_cut, cut_flat = fs.new(0.0)
    first = True
    for ev, active in walk.run():
        changed = {}
        if first:
            changed.update(is_cut_h=is_cut, low=lp.low, child_cnt=child_cnt)
            first = False
        tree = ev == TREE
        if np.count_nonzero(tree):
            at = fs.at(tree, walk.flat_u)
            cnt_flat[at] = cnt_flat[at] + TICK
            changed["child_cnt"] = child_cnt
        finished = lp.update(ev, changed)
        if finished is not None:
            fin, kids, du = finished
            flat_u = walk.flat_u
            root = walk.s == walk.u
            many = cnt_flat[flat_u] > TICK
            high = (kids & (lp.low >= du[:, None])).any(1)
            cut_flat[fs.at(fin & np.where(root, many, high), flat_u)] = 1
            changed["is_cut_h"] = is_cut
        walk.step(active, **changed)
    rec.output(is_cut=is_cut)
    return rec.finish()


@kernel("bridges")
def bridges(inputs: list[dict]):
    """Batched :func:`nar.algorithms.graphs_dfs.bridges`: the low-point walk of
    ``articulation_points``; at each FINISH the tree edges to children with ``low > d[u]`` become
    bridges (non-edges stay masked at -1)."""
    A = _adjacency(inputs)
    B, n = A.shape[:2]
    rec = BatchRecorder("bridges", n, B)
    rec.input(A=A, adj=_adjacency_mask(A))
    walk = BatchDfsWalk(rec, A != 0, timed=True, parent_hint="pi_h", report_seen=True)
    lp = _LowPoints(walk)
    is_bridge = np.where((A == 0) & ~np.eye(n, dtype=bool), -1.0, 0.0)
    first = True
    for ev, active in walk.run():
        changed = {}
        if first:
            changed.update(is_bridge_h=is_bridge, low=lp.low)
            first = False
        finished = lp.update(ev, changed)
        if finished is not None:
            fin, kids, du = finished
            b, c = np.nonzero(kids & (lp.low > du[:, None]) & fin[:, None])
            if b.size:
                u = walk.u[b]
                is_bridge[b, u, c] = is_bridge[b, c, u] = 1
                changed["is_bridge_h"] = is_bridge
        walk.step(active, **changed)
    rec.output(is_bridge=is_bridge)
    return rec.finish()
