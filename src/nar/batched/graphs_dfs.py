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

The trajectories are long (T = 48-420 snapshots of ~12 hints), so the kernels record through
:class:`Film`, a lean local stand-in for :class:`~nar.batched.recorder.BatchRecorder` (whose
per-hint conversion at every step and per-sample gathers at the end cost more than the walk
itself here): the hint state arrays are registered once and copied whole at every step into
pooled scratch buffers, and each history is transposed (one-hot expanded) once at the end.
Hints that only switch on (``is_cut_h``, ``is_bridge_h``) are built at the end from the step at
which each entry switched on, since the cut / bridge tests need final low-points only.
"""
from __future__ import annotations

import functools

import numpy as np

from ..algorithms.graphs import adjacency_mask
from ..algorithms.graphs_dfs import BLACK, GREY, TICK, WHITE
from ..trace import CATEGORIES, Trajectory, _layout
from ..types import one_hot
from . import kernel, per_sample, stack
from .recorder import assemble

# event codes; painting events (DISCOVER, TREE, FINISH) come last
START, SEEN, DONE, DISCOVER, TREE, FINISH = range(6)
_PAINT = np.array([0, 0, 0, GREY, GREY, BLACK])  # the colour an event paints (where it paints)
_SCAN = np.array([FINISH, FINISH, SEEN, TREE])  # by 2 * (a candidate found) + (it is white)


class _Pool:
    """Spare scratch arrays by (shape, dtype), kept up to ``budget`` bytes: the snapshot buffers of
    one chunk serve the next, which saves first-touching fresh memory every chunk."""

    def __init__(self, budget: int):
        self.budget, self.free = budget, {}

    def take(self, shape: tuple, dtype) -> np.ndarray:
        spare = self.free.get((shape, np.dtype(dtype)))
        if spare:
            a = spare.pop()
            self.budget += a.nbytes
            return a
        return np.empty(shape, dtype=dtype)

    def give(self, a: np.ndarray) -> None:
        if a.nbytes <= self.budget:
            self.free.setdefault((a.shape, a.dtype), []).append(a)
            self.budget -= a.nbytes


_POOL = _Pool(128 << 20)


class Film:
    """Hint snapshots of a batch of samples, every hint copied at every step.

    The kernel registers its hint state arrays (``[B, ...]``; mask_one hints as node indices,
    categorical ones as class ids) with :meth:`track` and keeps updating them in place;
    :meth:`shoot` copies all of them into ``[capacity, B, ...]`` scratch buffers.  Every sample
    records from the first step on, at consecutive steps, until it stops for good (``active``), so
    its snapshot ``t`` is step ``t``, and :meth:`finish` turns each buffer into the final
    ``[B, T, ...]`` hint (one-hot expanded where needed) in one pass.  Hints cheaper to build whole
    (a constant, an edge mask that only flips) are given to :meth:`finish` as functions of ``T``.
    """

    def __init__(self, name: str, n: int, B: int, capacity: int):
        self.name, self.n, self.B, self.cap = name, n, B, capacity
        self.lay = _layout(name)
        self.live: dict[str, np.ndarray] = {}
        self.buf: dict[str, np.ndarray] = {}
        self.t = 0
        self.lengths = np.zeros(B, dtype=np.int64)

    def track(self, **arrays) -> None:
        """Register hint state arrays (updated in place from now on)."""
        for k, a in arrays.items():
            kind = self.lay.kind[k]
            dtype = {"cat": np.int8, "idx": np.int64}.get(kind, self.lay.dtype[k])
            if dtype == np.int64 and kind == "arr":
                dtype = np.int32  # pointers (< n): half the scratch memory, widened at the end
            self.live[k] = a
            self.buf[k] = _POOL.take((self.cap,) + a.shape, dtype)

    def shoot(self, active: np.ndarray | None = None) -> None:
        """One snapshot of every tracked hint, for the ``active`` samples (None: all)."""
        t = self.t
        if t == self.cap:
            self.cap *= 2
            for k, h in self.buf.items():
                grown = np.empty((self.cap,) + h.shape[1:], dtype=h.dtype)
                grown[:t] = h
                self.buf[k] = grown
        buf = self.buf
        for k, a in self.live.items():
            buf[k][t] = a
        self.t = t + 1
        self.lengths += 1 if active is None else active

    GROUPS = 4  # samples of different lengths are cut into this many groups of similar length

    def _hint(self, key: str, T: int, rows) -> np.ndarray:
        """Hint ``key`` as ``[len(rows), T, ...]`` from its buffer (``rows``: None for all)."""
        h = np.swapaxes(self.buf[key][:T], 0, 1)  # a view of the (pooled) buffer
        fresh = rows is not None
        if fresh:
            h = h[rows]  # a fresh [rows, T, ...] array
        kind = self.lay.kind[key]
        if kind == "idx":
            return one_hot(h, self.n)
        if kind == "cat":
            return one_hot(h, CATEGORIES[(self.name, key)])
        dtype = self.lay.dtype[key]
        # never hand out a view of the buffer: the pool gives it to the next chunk
        return np.asarray(h, dtype=dtype, order="C") if fresh else np.array(h, dtype=dtype, order="C")

    def _final(self, key: str, value) -> np.ndarray:
        """A ``[B, ...]`` input or output in the Trajectory convention."""
        if self.lay.kind[key] == "idx":
            return one_hot(value, self.n)
        return np.asarray(value, dtype=self.lay.dtype[key])

    def finish(self, inputs: dict, outputs: dict, built: dict | None = None) -> list[Trajectory]:
        """Per-sample trajectories.  ``built``: hint name -> function of ``(T, rows)`` giving the
        ``[len(rows), T, ...]`` history of the samples ``rows`` (an index array, or None for all).

        When lengths differ much, the samples are cut into groups of similar length, each
        materialised only up to its own longest trajectory."""
        lay, n, B = self.lay, self.n, self.B
        built = built or {}
        lengths = self.lengths
        if lengths.mean() > 0.75 * lengths.max():  # little to save
            groups = [None]
        else:
            groups = np.array_split(np.argsort(lengths, kind="stable"), min(self.GROUPS, B))
        cut = lengths.tolist()
        hints: dict[str, list] = {k: [None] * B for k in lay.hint_names}  # one array per sample
        for rows in groups:
            T = int(lengths.max() if rows is None else lengths[rows].max())
            samples = list(enumerate(range(B) if rows is None else rows.tolist()))
            for k, column in hints.items():
                v = built[k](T, rows) if k in built else self._hint(k, T, rows)
                for j, b in samples:
                    column[b] = v[j, :cut[b]]
        trajs = assemble(self.name, {k: self._final(k, v) for k, v in inputs.items()}, hints,
                         {k: self._final(k, v) for k, v in outputs.items()})
        for h in self.buf.values():
            _POOL.give(h)
        self.buf, self.live = {}, {}
        return trajs


def _walk_kernel(name: str):
    """Register the decorated function as ``name``'s kernel; a chunk that is not made of square
    matrices of one size goes to the per-sample function instead."""
    def deco(fn):
        @functools.wraps(fn)
        def run(inputs: list[dict]):
            shapes = {np.shape(x["A"]) for x in inputs}
            shape = next(iter(shapes))
            if len(shapes) > 1 or len(shape) != 2 or shape[0] != shape[1]:
                return per_sample(name, inputs)
            return fn(inputs)
        return kernel(name)(run)
    return deco


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
    """The batched DFS walk; its hints (``[B, n]`` state arrays, ``[B]`` pointers) are tracked by
    ``film``: ``color``, ``s_prev``, ``u``, ``v``, ``s_last``; ``d``, ``f``, ``time`` if ``timed``;
    the tree parents ``pi`` as ``parent_hint``; the root ``s`` if ``with_root``.

    :meth:`run` yields every sample's event ``ev`` (DONE once its walk is over) once per step,
    after applying it; the kernel updates its own state and shoots the snapshot.
    """

    def __init__(self, film: Film, edge: np.ndarray, *, timed: bool, parent_hint: str | None = None,
                 with_root: bool = True, report_seen: bool = False):
        B, n = edge.shape[:2]
        self.B, self.n = B, n
        self.edge = edge.reshape(B * n, n)  # row base[b] + u: u's out-neighbours in sample b
        self.timed, self._seen = timed, report_seen
        self._second_pass = False
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
        film.track(color=self.color, s_prev=self.s_prev, u=self.u, v=self.v, s_last=self.s_last)
        if timed:
            film.track(d=self.d, f=self.f, time=self.time)
        if parent_hint:
            film.track(**{parent_hint: self.pi})
        if with_root:
            film.track(s=self.s)
        if report_seen:
            self._after = np.arange(n + 1)[:, None] <= self.idx  # [pos, v]: v >= pos
            self._other = ~np.eye(n, dtype=bool)  # [parent, v]: v != parent

    def restart(self) -> None:
        """Whiten every vertex and empty the stacks (Kosaraju's second pass); ``d``, ``f``, ``time`` stay."""
        self.color[...] = WHITE
        self.s_prev[...] = self.idx
        self._second_pass = True

    def run(self, order: np.ndarray | None = None):
        """Walk from every still-white root, in index order or in ``order`` (``[B, m]`` roots)."""
        ev = np.full(self.B, START)
        tgt = np.zeros(self.B, dtype=np.int64) if order is None else order[:, 0].copy()
        if order is not None:  # flat indices: of the roots' colours, of each sample's first root
            order = (order.reshape(-1), self.fs.base[:, None] + order, order.shape[1] * np.arange(self.B))
        while np.count_nonzero(ev != DONE):
            self._apply(ev, tgt)
            yield ev
            ev, tgt = self._next(ev, tgt, order)

    def _apply(self, ev: np.ndarray, tgt: np.ndarray) -> None:
        """The state changes of event ``ev`` (``tgt``: the root, the child or the seen neighbour)."""
        fs, u = self.fs, self.u
        start = ev == START
        if np.count_nonzero(start):
            for x in (self.s, u, self.v, self.s_last):
                np.copyto(x, tgt, where=start)
            self.flat_u = fs.base + u
        flat_u = self.flat_u
        tree, fin = ev == TREE, ev == FINISH
        at = np.where(tree, fs.base + tgt, flat_u)  # the vertex the event paints
        np.copyto(at, fs.dump, where=ev < DISCOVER)
        self._color[at] = _PAINT[ev]
        if np.count_nonzero(tree):
            np.copyto(at, fs.dump, where=~tree)
            self._pi[at] = u
            self._s_prev[at] = u
            np.copyto(self.s_last, tgt, where=tree)
        np.copyto(self.v, tgt, where=tree | (ev == SEEN) if self._seen else tree)
        np.copyto(self.v, self.n - 1, where=fin)
        if self.timed:
            disc = ev == DISCOVER
            np.add(self.time, TICK, out=self.time, where=disc | fin)
            self._d[fs.at(disc, flat_u)] = self.time
            self._f[fs.at(fin, flat_u)] = self.time

    def _next(self, ev: np.ndarray, tgt: np.ndarray, order: tuple | None):
        """Every sample's next event and its target, after the snapshot of ``ev`` (``order``: the
        root order as prepared by :meth:`run`)."""
        fs, u = self.fs, self.u
        fin = ev == FINISH
        new_root = None
        if np.count_nonzero(fin):  # pop the finished vertex; a finished root ends its tree
            parent = self._s_prev[self.flat_u]
            pop = fin & (parent != u)
            self._s_prev[fs.at(pop, self.flat_u)] = u
            np.copyto(self.s_last, parent, where=pop)
            new_root = fin & ~pop
            if not np.count_nonzero(new_root):
                new_root = None
        np.copyto(u, self.s_last)
        flat_u = self.flat_u = fs.base + u
        white = self.color == WHITE
        # to discover: white, or in a timed walk never stamped (in a first pass white implies that)
        if not self.timed:
            fresh = self._color[flat_u] == WHITE
        else:
            fresh = self._d[flat_u] == 0
            if self._second_pass:
                fresh |= self._color[flat_u] == WHITE
        ok = self.edge.take(flat_u, axis=0)
        if self._seen:
            ok &= white | self._other.take(self._s_prev[flat_u], axis=0)
            ok &= self._after.take(np.where(ev == SEEN, tgt + 1, 0), axis=0)
        else:
            ok &= white
        k = ok.argmax(1)
        flat_k = fs.base + k
        found = ok.reshape(-1)[flat_k]
        if self._seen:
            nxt = _SCAN[2 * found + white.reshape(-1)[flat_k]]
        else:
            nxt = FINISH - found
        np.copyto(nxt, DISCOVER, where=fresh)
        if new_root is not None:
            if order is None:
                j = first = white.argmax(1)
                found = white.reshape(-1)[fs.base + j]
            else:
                roots, at_roots, row = order
                w = self._color[at_roots] == WHITE
                j = row + w.argmax(1)
                first, found = roots[j], w.reshape(-1)[j]
            np.copyto(nxt, DONE * ~found, where=new_root)  # START = 0
            k = np.where(new_root, first, k)
        np.copyto(nxt, DONE, where=ev == DONE)
        return nxt, k


def _walk_capacity(n: int, seen: bool = False) -> int:
    """Snapshot buffer size for a walk of n nodes: T <= 6n for all but the walks that report SEEN
    events (T = 3n + their number, ~6.5n at most for the default samplers; more buffer is added when
    needed)."""
    return 8 * n + 16 if seen else 6 * n


# ----------------------------------------------------------------------------- kernels
@_walk_kernel("dfs")
def dfs(inputs: list[dict]):
    """Batched :func:`nar.algorithms.graphs_dfs.dfs`: one timed walk over all roots (T = 3n)."""
    A = stack(inputs, "A")
    B, n = A.shape[:2]
    film = Film("dfs", n, B, _walk_capacity(n))
    walk = BatchDfsWalk(film, A != 0, timed=True, parent_hint="pi_h")
    for ev in walk.run():
        film.shoot(ev != DONE)
    return film.finish({"A": A, "adj": adjacency_mask(A)}, {"pi": walk.pi})


class _TopoList:
    """Topological-sort bookkeeping (see ``topological_sort``): at a FINISH the finished vertex is
    linked to the head when the head is black, and becomes the head."""

    def __init__(self, walk: BatchDfsWalk):
        self.walk = walk
        self.topo, self._topo = walk.fs.new(walk.idx, np.int64)
        self.head = np.zeros(walk.B, dtype=np.int64)

    def update(self, ev: np.ndarray) -> None:
        fin = ev == FINISH
        if np.count_nonzero(fin):
            walk, fs = self.walk, self.walk.fs
            link = fin & (walk._color[fs.base + self.head] == BLACK)
            self._topo[fs.at(link, walk.flat_u)] = self.head
            np.copyto(self.head, walk.u, where=fin)


@_walk_kernel("topological_sort")
def topological_sort(inputs: list[dict]):
    """Batched :func:`nar.algorithms.graphs_dfs.topological_sort`: an untimed walk over all roots
    that puts each finished vertex at the front of the ``topo`` list."""
    A = stack(inputs, "A")
    B, n = A.shape[:2]
    film = Film("topological_sort", n, B, _walk_capacity(n))
    walk = BatchDfsWalk(film, A != 0, timed=False)
    tl = _TopoList(walk)
    film.track(topo_h=tl.topo, topo_head_h=tl.head)
    for ev in walk.run():
        tl.update(ev)
        film.shoot(ev != DONE)
    return film.finish({"A": A, "adj": adjacency_mask(A)}, {"topo": tl.topo, "topo_head": tl.head})


@_walk_kernel("dag_shortest_paths")
def dag_shortest_paths(inputs: list[dict]):
    """Batched :func:`nar.algorithms.graphs_dfs.dag_shortest_paths`: the topological-sort walk from
    ``s`` (phase 0), then each sample, as soon as its walk is over, relaxes the out-edges of its
    sorted vertices one per step (phase 1) and stops after the snapshot of its last vertex."""
    A = stack(inputs, "A")
    B, n = A.shape[:2]
    s = np.array([int(x["s"]) for x in inputs], dtype=np.int64)
    edge = A != 0
    film = Film("dag_shortest_paths", n, B, _walk_capacity(n))
    walk = BatchDfsWalk(film, edge, timed=False, with_root=False)
    fs, rows = walk.fs, np.arange(B)
    tl = _TopoList(walk)
    pi, d = walk.pi.copy(), np.zeros((B, n))
    mark, mark_flat = fs.new(0.0)
    phase = np.zeros(B, dtype=np.float32)
    film.track(pi_h=pi, d=d, mark=mark, topo_h=tl.topo, topo_head_h=tl.head, phase=phase)
    stage = np.zeros(B, dtype=np.int64)  # 0 walking, 1 relaxing, 2 done
    head = tl.head

    def relax(ev):
        """Phase 1 for the samples whose walk is over (``ev == DONE``): one vertex each."""
        relaxing = (ev == DONE) & (stage < 2)
        entering = relaxing & (stage == 0)  # head == s: the root finishes last; d[s] is already 0
        mark_flat[fs.at(entering, fs.base + head)] = 1
        phase[entering] = 1
        stage[entering] = 1
        i = head.copy()
        nxt = tl._topo[fs.base + i]
        more = relaxing & (nxt != i)
        mark_flat[fs.at(more, fs.base + i)] = 1
        film.shoot((ev != DONE) | relaxing)
        stage[relaxing & ~more] = 2
        if np.count_nonzero(more):
            cand = d[rows, i][:, None] + A[rows, i]
            better = edge[rows, i] & ((mark == 0) | (cand < d)) & more[:, None]
            np.copyto(d, cand, where=better)
            np.copyto(pi, i[:, None], where=better)
            mark[better] = 1
            np.copyto(head, nxt, where=more)

    for ev in walk.run(s[:, None]):
        tl.update(ev)
        relax(ev)
    done = np.full(B, DONE)
    while np.count_nonzero(stage < 2):
        relax(done)
    return film.finish({"s": s, "A": A, "adj": adjacency_mask(A)}, {"pi": pi})


@_walk_kernel("strongly_connected_components")
def strongly_connected_components(inputs: list[dict]):
    """Batched :func:`nar.algorithms.graphs_dfs.strongly_connected_components` (Kosaraju): a timed
    walk of ``A`` (phase 0, 3n steps for every sample), then of its transpose with roots by
    decreasing finishing time (phase 1), labelling each vertex it expands with that pass's root."""
    A = stack(inputs, "A")
    B, n = A.shape[:2]
    edge = A != 0
    film = Film("strongly_connected_components", n, B, _walk_capacity(n))
    walk = BatchDfsWalk(film, edge, timed=True)
    fs = walk.fs
    scc_id, scc_flat = fs.new(walk.idx, np.int64)
    phase = np.zeros(B, dtype=np.float32)
    film.track(scc_id_h=scc_id, phase=phase)
    for _ in walk.run():
        film.shoot()  # 3n steps for every sample
    walk.restart()
    walk.edge = np.ascontiguousarray(edge.transpose(0, 2, 1)).reshape(B * n, n)
    phase[:] = 1
    for ev in walk.run(np.argsort(-walk.f, axis=1)):
        expand = (ev != START) & (ev != DONE)
        scc_flat[fs.at(expand, walk.flat_u)] = walk.s
        film.shoot(ev != DONE)
    A_t = adjacency_mask(A.transpose(0, 2, 1))

    def constant_A_t(T, rows):
        return np.repeat((A_t if rows is None else A_t[rows])[:, None], T, axis=1)

    return film.finish({"A": A, "adj": adjacency_mask(A)}, {"scc_id": scc_id}, {"A_t": constant_A_t})


class _LowPoints:
    """The low-point bookkeeping shared by articulation points and bridges.

    ``low[u]`` is written at u's DISCOVER (``d[u]``), SEEN (``min(low[u], d[v])``) and FINISH
    (``min(low[u], low of its children)``); a finishing vertex hands its final ``low`` to its parent
    (``kid_low``, the minimum over the finished children), so no step scans the children.
    ``finished_at[u]`` is the step of u's FINISH snapshot: the cut / bridge tests depend only on
    final values and are done after the walk.
    """

    def __init__(self, walk: BatchDfsWalk, film: Film):
        self.walk, self.film = walk, film
        self.low, self._low = walk.fs.new(0.0)
        self._kid_low = walk.fs.new(np.inf)[1]
        self.finished_at = np.zeros((walk.B, walk.n), dtype=np.int64)
        film.track(low=self.low)

    def update(self, ev: np.ndarray) -> None:
        walk, fs = self.walk, self.walk.fs
        flat_u, d = walk.flat_u, walk._d
        low = self._low[flat_u]
        seen = ev == SEEN
        if np.count_nonzero(seen):
            low = np.minimum(low, np.where(seen, d[fs.base + walk.v], np.inf))
        fin = ev == FINISH
        if np.count_nonzero(fin):
            low = np.minimum(low, np.where(fin, self._kid_low[flat_u], np.inf))
            parent = walk._pi[flat_u]
            at = fs.at(fin & (parent != walk.u), fs.base + parent)
            self._kid_low[at] = np.minimum(self._kid_low[at], low)
            self.finished_at.reshape(-1)[walk.u[fin] + fs.base[fin]] = self.film.t
        disc = ev == DISCOVER
        if np.count_nonzero(disc):
            low = np.where(disc, d[flat_u], low)
        self._low[flat_u] = low  # unchanged for the other events

    def tree_edges(self):
        """``(parent, d[parent], non-root)`` of every vertex after the walk, ``[B, n]`` each (a
        non-root's edge to its parent is a tree edge)."""
        walk = self.walk
        parent = walk.pi
        return parent, np.take_along_axis(walk.d, parent, 1), parent != walk.idx


def _switch_on(before: np.ndarray, where: tuple, at_step: np.ndarray):
    """A hint history (float32, a ``built`` function of :meth:`Film.finish`): ``before`` at every
    step, except the entries ``where`` (index arrays ``(b, ...)``, 0 in ``before``), which are 1
    from step ``at_step`` on."""
    def history(T, rows):
        if rows is None:
            rows = np.arange(before.shape[0])
        out = np.empty((rows.size, T) + before.shape[1:], dtype=np.float32)
        np.copyto(out, before[rows][:, None])
        position = np.full(before.shape[0], -1)
        position[rows] = np.arange(rows.size)
        b, *rest = where
        mine = position[b] >= 0
        at = (position[b[mine]], slice(None), *(r[mine] for r in rest))
        out[at] = np.arange(T) >= at_step[mine][:, None]  # [entries, T]
        return out
    return history


@_walk_kernel("articulation_points")
def articulation_points(inputs: list[dict]):
    """Batched :func:`nar.algorithms.graphs_dfs.articulation_points`: a timed walk reporting SEEN
    neighbours; ``low`` and ``child_cnt`` per event.  The cut test of a vertex (a non-root with a
    child whose ``low >= d[u]``, a root with two children or more) uses final values only, so it is
    done after the walk; ``is_cut_h`` switches on at the vertex's FINISH step."""
    A = stack(inputs, "A")
    B, n = A.shape[:2]
    film = Film("articulation_points", n, B, _walk_capacity(n, seen=True))
    walk = BatchDfsWalk(film, A != 0, timed=True, parent_hint="pi_h", report_seen=True)
    fs = walk.fs
    lp = _LowPoints(walk, film)
    child_cnt, cnt_flat = fs.new(0.0)
    film.track(child_cnt=child_cnt)
    for ev in walk.run():
        tree = ev == TREE
        if np.count_nonzero(tree):
            at = fs.at(tree, walk.flat_u)
            cnt_flat[at] = cnt_flat[at] + TICK
        lp.update(ev)
        film.shoot(ev != DONE)
    parent, d_parent, nonroot = lp.tree_edges()
    high = np.zeros((B, n), dtype=bool)
    b, c = np.nonzero(nonroot & (lp.low >= d_parent))
    high[b, parent[b, c]] = True
    is_cut = np.where(nonroot, high, child_cnt > TICK)
    cuts = np.nonzero(is_cut)
    return film.finish({"A": A, "adj": adjacency_mask(A)}, {"is_cut": is_cut},
                       {"is_cut_h": _switch_on(np.zeros((B, n)), cuts, lp.finished_at[cuts])})


@_walk_kernel("bridges")
def bridges(inputs: list[dict]):
    """Batched :func:`nar.algorithms.graphs_dfs.bridges`: the low-point walk of
    ``articulation_points``; the tree edges ``(u, c)`` with ``low[c] > d[u]`` are the bridges, marked
    (both ways) from u's FINISH step on; non-edges stay masked at -1."""
    A = stack(inputs, "A")
    B, n = A.shape[:2]
    film = Film("bridges", n, B, _walk_capacity(n, seen=True))
    walk = BatchDfsWalk(film, A != 0, timed=True, parent_hint="pi_h", report_seen=True)
    lp = _LowPoints(walk, film)
    for ev in walk.run():
        lp.update(ev)
        film.shoot(ev != DONE)
    parent, d_parent, nonroot = lp.tree_edges()
    b, c = np.nonzero(nonroot & (lp.low > d_parent))
    u = parent[b, c]
    before = np.where((A == 0) & ~np.eye(n, dtype=bool), -1.0, 0.0)
    is_bridge = before.copy()
    is_bridge[b, u, c] = is_bridge[b, c, u] = 1
    both = (np.concatenate([b, b]), np.concatenate([u, c]), np.concatenate([c, u]))
    found_at = np.tile(lp.finished_at[b, u], 2)
    return film.finish({"A": A, "adj": adjacency_mask(A)}, {"is_bridge": is_bridge},
                       {"is_bridge_h": _switch_on(before, both, found_at)})
