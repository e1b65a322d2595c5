"""The CLRS DFS family on adjacency lists: the sparse twins of :mod:`nar.algorithms.graphs_dfs`.

:class:`Walk` is :class:`nar.algorithms.graphs_dfs.DfsWalk` (read its docstring for the snapshot
semantics) over CSR rows, iterative (no recursion limit), writing every state change to the
recorder's change logs as it happens; the algorithm calls ``rec.push()`` where the dense one calls
``walk.step()``.  Articulation points and bridges rescan a vertex's neighbours at every expansion and
push a snapshot per non-white neighbour, as the reference does, so their T (and cost) grows with
sum over vertices of degree x (children + 1): fine on sparse graphs, quadratic around a hub.
"""
from __future__ import annotations

import bisect

import numpy as np

from ..algorithms.graphs_dfs import BLACK, DISCOVER, FINISH, GREY, SEEN, START, TICK, TREE, WHITE
from ..specs import SPECS, Stage
from ..validation import InputError
from .algorithms import begin, require_undirected
from .graph import SparseGraph
from .trajectory import Recorder, SparseTrajectory


def rows(g: SparseGraph) -> list[list[int]]:
    """The out-neighbour lists of ``g`` (ascending)."""
    indptr, idx, _ = g.csr()
    cols = idx.tolist()
    bounds = indptr.tolist()
    return [cols[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


class Walk:
    """DFS bookkeeping (Python lists) and its hint logs; see the module docstring."""

    def __init__(self, rec: Recorder, *, timed: bool, parent_hint: str | None = None):
        n = rec.n
        self.rec, self.n, self.timed = rec, n, timed
        self.color = [WHITE] * n
        self.pi = list(range(n))
        self.d = [0.0] * n
        self.f = [0.0] * n
        self.children: list[list[int]] = [[] for _ in range(n)]
        self.discovered = [False] * n
        self.time = 0.0
        self.s = 0
        self.color_log = rec.hint("color", np.zeros(n, np.int64))
        self.prev_log = rec.hint("s_prev", np.arange(n))
        self.u_log, self.v_log, self.last_log = rec.hint("u", 0), rec.hint("v", 0), rec.hint("s_last", 0)
        self.root_log = rec.hint("s", 0) if SPECS[rec.name].get("s", (None,))[0] == Stage.HINT else None
        if timed:
            self.d_log, self.f_log = rec.hint("d", np.zeros(n)), rec.hint("f", np.zeros(n))
            self.time_log = rec.hint("time", 0.0)
        self.pi_log = rec.hint(parent_hint, np.arange(n)) if parent_hint else None
        self.u = self.v = self.s_last = 0

    def _paint(self, u: int, colour: int) -> None:
        self.color[u] = colour
        self.color_log.set(u, colour)

    def _tick(self, times: list, log, u: int) -> None:
        self.time += TICK
        times[u] = self.time
        log.set(u, self.time)
        self.time_log.set(0, self.time)

    def _at(self, u: int, v: int, s_last: int) -> None:
        self.u, self.v, self.s_last = u, v, s_last
        self.u_log.move(u)
        self.v_log.move(v)
        self.last_log.move(s_last)

    def restart(self) -> None:
        """Whiten every vertex and empty the stack (Kosaraju's second pass)."""
        for u in range(self.n):
            if self.color[u] != WHITE:
                self._paint(u, WHITE)
        self.prev_log.set_many(np.arange(self.n), np.arange(self.n))

    def run(self, roots, nbrs: list[list[int]], *, report_seen: bool = False):
        """DFS from each still-white root; yields the events of :meth:`DfsWalk.run`."""
        colour, n, timed = self.color, self.n, self.timed
        resume = [0] * n
        prev_set = self.prev_log.set
        for s in roots:
            if colour[s] != WHITE:
                continue
            self.s = s
            self._at(s, s, s)
            if self.root_log is not None:
                self.root_log.move(s)
            stack = [s]
            yield START
            while True:
                u = self.u
                if colour[u] == WHITE or (timed and not self.discovered[u]):
                    self._paint(u, GREY)
                    if timed:
                        self._tick(self.d, self.d_log, u)
                        self.discovered[u] = True
                    yield DISCOVER
                row, child = nbrs[u], -1
                if report_seen:
                    parent = stack[-2] if len(stack) > 1 else u
                    for v in row:
                        if colour[v] == WHITE:
                            child = v
                            break
                        if v != parent:
                            self.v = v
                            self.v_log.move(v)
                            yield SEEN
                else:
                    k, end = resume[u], len(row)
                    while k < end and colour[row[k]] != WHITE:
                        k += 1
                    resume[u] = k
                    if k < end:
                        child = row[k]
                if child >= 0:
                    self._paint(child, GREY)
                    self.pi[child] = u
                    if self.pi_log is not None:
                        self.pi_log.set(child, u)
                    self.children[u].append(child)
                    prev_set(child, u)
                    stack.append(child)
                    self._at(u, child, child)
                    yield TREE
                else:
                    self.v = n - 1
                    self.v_log.move(n - 1)
                    self._paint(u, BLACK)
                    if timed:
                        self._tick(self.f, self.f_log, u)
                    yield FINISH
                    if len(stack) == 1:
                        break
                    stack.pop()
                    prev_set(u, u)
                    self.s_last = stack[-1]
                    self.last_log.move(self.s_last)
                self.u = self.s_last
                self.u_log.move(self.u)


def check_acyclic(name: str, g: SparseGraph) -> None:
    """Raise unless ``g`` has no directed cycle (Kahn's algorithm over the CSR rows, O(n + E))."""
    nbrs = rows(g)
    indegree = np.bincount(g.receivers, minlength=g.n).tolist()
    ready = [u for u in range(g.n) if indegree[u] == 0]
    removed = 0
    while ready:
        u = ready.pop()
        removed += 1
        for v in nbrs[u]:
            indegree[v] -= 1
            if indegree[v] == 0:
                ready.append(v)
    if removed < g.n:
        raise InputError(f"{name}: graph must be a directed acyclic graph, but it has a directed cycle")


def _require_directed_or_dag(name: str, g: SparseGraph) -> None:
    if not g.directed and g.num_edges:
        raise InputError(f"{name}: graph must be a directed acyclic graph; an undirected edge is a cycle")


# ------------------------------------------------------------------------------------ algorithms
def dfs(g: SparseGraph, hints: bool = True) -> SparseTrajectory:
    """:func:`nar.algorithms.graphs_dfs.dfs`."""
    rec = begin("dfs", g, hints)
    walk = Walk(rec, timed=True, parent_hint="pi_h")
    for _ in walk.run(range(g.n), rows(g)):
        rec.push()
    rec.output(pi=walk.pi)
    return rec.finish()


def topological_sort(g: SparseGraph, hints: bool = True) -> SparseTrajectory:
    """:func:`nar.algorithms.graphs_dfs.topological_sort`."""
    _require_directed_or_dag("topological_sort", g)
    check_acyclic("topological_sort", g)
    rec = begin("topological_sort", g, hints)
    walk = Walk(rec, timed=False)
    topo_log, head_log = rec.hint("topo_h", np.arange(g.n)), rec.hint("topo_head_h", 0)
    topo, head = list(range(g.n)), 0
    for event in walk.run(range(g.n), rows(g)):
        if event == FINISH:
            u = walk.u
            if walk.color[head] == BLACK:
                topo[u] = head
                topo_log.set(u, head)
            head = u
            head_log.move(head)
        rec.push()
    rec.output(topo=topo, topo_head=head)
    return rec.finish()


def articulation_points(g: SparseGraph, hints: bool = True) -> SparseTrajectory:
    """:func:`nar.algorithms.graphs_dfs.articulation_points`."""
    require_undirected("articulation_points", g)
    n = g.n
    rec = begin("articulation_points", g, hints)
    walk = Walk(rec, timed=True, parent_hint="pi_h")
    d = walk.d
    low, child_cnt, is_cut = [0.0] * n, [0.0] * n, [0.0] * n
    cut_log, low_log, cnt_log = (rec.hint(k, np.zeros(n)) for k in ("is_cut_h", "low", "child_cnt"))
    for event in walk.run(range(n), rows(g), report_seen=True):
        u = walk.u
        if event == DISCOVER:
            low[u] = d[u]
            low_log.set(u, low[u])
        elif event == TREE:
            child_cnt[u] += TICK
            cnt_log.set(u, child_cnt[u])
        elif event == SEEN:
            low[u] = min(low[u], d[walk.v])
            low_log.set(u, low[u])
        elif event == FINISH:
            children = walk.children[u]
            if children:
                low[u] = min(low[u], min(low[c] for c in children))
                low_log.set(u, low[u])
            root = walk.s == u
            if (not root and any(low[c] >= d[u] for c in children)) or (root and child_cnt[u] > TICK):
                is_cut[u] = 1.0
                cut_log.set(u, 1.0)
        rec.push()
    rec.output(is_cut=is_cut)
    return rec.finish()


def bridges(g: SparseGraph, hints: bool = True) -> SparseTrajectory:
    """:func:`nar.algorithms.graphs_dfs.bridges` (every model edge of an undirected graph is an edge
    or a self-loop, so ``is_bridge`` holds {0, 1} on it; the -1 of non-edges is off the edge set)."""
    require_undirected("bridges", g)
    n = g.n
    rec = begin("bridges", g, hints)
    ei = rec.edge_index
    keys = (ei[0] * n + ei[1]).tolist()
    walk = Walk(rec, timed=True, parent_hint="pi_h")
    d = walk.d
    low = [0.0] * n
    is_bridge = np.zeros(ei.shape[1], np.float32)
    bridge_log, low_log = rec.hint("is_bridge_h", is_bridge), rec.hint("low", np.zeros(n))
    for event in walk.run(range(n), rows(g), report_seen=True):
        u = walk.u
        if event == DISCOVER:
            low[u] = d[u]
            low_log.set(u, low[u])
        elif event == SEEN:
            low[u] = min(low[u], d[walk.v])
            low_log.set(u, low[u])
        elif event == FINISH:
            children = walk.children[u]
            if children:
                low[u] = min(low[u], min(low[c] for c in children))
                low_log.set(u, low[u])
                for c in children:
                    if low[c] > d[u]:
                        for k in (bisect.bisect_left(keys, u * n + c), bisect.bisect_left(keys, c * n + u)):
                            is_bridge[k] = 1.0
                            bridge_log.set(k, 1.0)
        rec.push()
    rec.output(is_bridge=is_bridge)
    return rec.finish()


def strongly_connected_components(g: SparseGraph, hints: bool = True) -> SparseTrajectory:
    """:func:`nar.algorithms.graphs_dfs.strongly_connected_components` (Kosaraju)."""
    n = g.n
    rec = begin("strongly_connected_components", g, hints)
    ei = rec.edge_index
    A = rec.inputs["A"]
    # A_t on the model edges: (i, j) holds adj of the transpose, i.e. A[j, i] != 0 or i == j
    rev = np.searchsorted(ei[0] * n + ei[1], ei[1] * n + ei[0])
    rec.hint("A_t", ((A[rev] != 0) | (ei[0] == ei[1])).astype(np.float32))
    walk = Walk(rec, timed=True)
    scc_log, phase_log = rec.hint("scc_id_h", np.arange(n)), rec.hint("phase", 0.0)
    scc_id = list(range(n))
    for _ in walk.run(range(n), rows(g)):
        rec.push()
    walk.restart()
    roots = np.argsort(-np.array(walk.f)).tolist()
    for event in walk.run(roots, rows(g.transpose())):
        if event == START:
            phase_log.set(0, 1.0)
        elif scc_id[walk.u] != walk.s:
            scc_id[walk.u] = walk.s
            scc_log.set(walk.u, walk.s)
        rec.push()
    rec.output(scc_id=scc_id)
    return rec.finish()


def dag_shortest_paths(g: SparseGraph, s: int, hints: bool = True) -> SparseTrajectory:
    """:func:`nar.algorithms.graphs_dfs.dag_shortest_paths`."""
    _require_directed_or_dag("dag_shortest_paths", g)
    check_acyclic("dag_shortest_paths", g)
    n = g.n
    rec = begin("dag_shortest_paths", g, hints, source=s)
    walk = Walk(rec, timed=False)
    pi_log, d_log, mark_log = rec.hint("pi_h", np.arange(n)), rec.hint("d", np.zeros(n)), rec.hint("mark", np.zeros(n))
    topo_log, head_log = rec.hint("topo_h", np.arange(n)), rec.hint("topo_head_h", 0)
    phase_log = rec.hint("phase", 0.0)
    pi, d, mark = list(range(n)), [0.0] * n, [0] * n
    topo, head = list(range(n)), 0
    for event in walk.run([s], rows(g)):
        if event == FINISH:
            u = walk.u
            if walk.color[head] == BLACK:
                topo[u] = head
                topo_log.set(u, head)
            head = u
            head_log.move(head)
        rec.push()
    indptr, idx, w = g.csr()
    start, cols, ws = indptr.tolist(), idx.tolist(), w.astype(np.float64).tolist()
    d[head], mark[head] = 0.0, 1
    d_log.set(head, 0.0)
    mark_log.set(head, 1.0)
    phase_log.set(0, 1.0)
    while topo[head] != head:
        i = head
        mark[i] = 1
        mark_log.set(i, 1.0)
        head_log.move(head)
        rec.push()
        di = d[i]
        for k in range(start[i], start[i + 1]):
            j = cols[k]
            cand = di + ws[k]
            if mark[j] == 0 or cand < d[j]:
                d[j], pi[j], mark[j] = cand, i, 1
                d_log.set(j, cand)
                pi_log.set(j, i)
                mark_log.set(j, 1.0)
        head = topo[head]
    head_log.move(head)
    rec.push()
    rec.output(pi=pi)
    return rec.finish()
