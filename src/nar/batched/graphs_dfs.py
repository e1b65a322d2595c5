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
