"""CLRS-30 depth-first-search based graph algorithms (CLRS ch. 22, 24.2), traced with :class:`nar.trace.Tracer`.

All six algorithms run the same iterative DFS as the CLRS reference (``clrs/_src/algorithms/graphs.py``),
shared here as :class:`DfsWalk`:

* roots are tried in index order (Kosaraju's second pass: by decreasing finishing time); a vertex's
  neighbours ``v`` with ``A[u, v] != 0`` are scanned in index order and the first white one becomes
  its child; when none is left the vertex finishes;
* the stack is the linked list ``s_prev`` (each stacked vertex points to the one below it, the root
  to itself) topped by ``s_last``; ``u`` is the vertex being expanded, ``v`` the neighbour last looked
  at (``n - 1`` after a scan that found no white neighbour, as the reference's ``for`` loop leaves it);
* colours are white 0 / grey 1 / black 2; a child turns grey when it is pushed;
* timed walks advance ``time`` by 0.01 at each discovery (``d``) and finish (``f``).  A vertex is
  discovered at the first expansion where it is white or has ``d == 0`` -- so the second pass of
  Kosaraju, which keeps the first pass's ``d``, only re-discovers its roots, as in the reference;
  untimed walks (topological sort, DAG shortest paths) only discover the roots (``color == 0``).

One hint snapshot is taken at each event of the walk, exactly where the reference pushes one:
START (new root), DISCOVER, TREE (a child pushed), SEEN (articulation points / bridges only: a
non-white neighbour other than the parent was looked at) and FINISH.  "No parent" is a self-pointer.
"""
from __future__ import annotations

import numpy as np

from ..specs import SPECS, Stage
from ..trace import Tracer, Trajectory
from ..validation import InputError, as_adjacency, as_node
from .graphs import adjacency_mask
from .registry import register

WHITE, GREY, BLACK = 0, 1, 2
START, DISCOVER, TREE, SEEN, FINISH = "start", "discover", "tree", "seen", "finish"
TICK = 0.01  # CLRS advances time (and child_cnt) in steps of 0.01


def neighbours(edge: np.ndarray) -> list[list[int]]:
    """Row ``u`` of a boolean ``[n, n]`` matrix as the sorted list of its ``v`` with ``edge[u, v]``."""
    rows, cols = np.nonzero(edge)
    cols = cols.tolist()
    bounds = np.searchsorted(rows, np.arange(edge.shape[0] + 1)).tolist()
    return [cols[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


class DfsWalk:
    """The DFS bookkeeping the CLRS DFS family shares, and its hints.

    State (numpy arrays, ``[n]``): ``color``, ``pi`` (DFS-tree parent), ``d``, ``f``, ``s_prev``;
    ``children[u]`` (list of u's tree children, in push order); scalars ``s`` (root), ``u``, ``v``,
    ``s_last``, ``time``.  :meth:`run` yields one event per reference snapshot; the algorithm updates
    its own state and calls :meth:`step` exactly once per event with its own changed hints, and
    :meth:`step` adds the walk's changed hints that the algorithm's spec names (``d``, ``f`` and
    ``time`` for timed walks, the tree parent under the name ``parent_hint``).
    """

    def __init__(self, tr: Tracer, *, timed: bool, parent_hint: str | None = None):
        n = tr.n
        self.tr, self.n, self.timed, self._parent = tr, n, timed, parent_hint
        self._with_root = SPECS[tr.name].get("s", (None,))[0] == Stage.HINT
        self.color = np.zeros(n, dtype=np.int64)
        self.pi = np.arange(n)
        self.d = np.zeros(n)
        self.f = np.zeros(n)
        self.s_prev = np.arange(n)
        self.children: list[list[int]] = [[] for _ in range(n)]
        self.time = 0.0
        self.s = self.u = self.v = self.s_last = 0
        # Python mirrors of what the scans read (numpy scalar access is slow).
        self._color = [WHITE] * n
        self._discovered = [False] * n  # d[u] != 0
        self._changed: dict = {"color": self.color, "s_prev": self.s_prev}  # hints for the next step
        if timed:
            self._changed.update(d=self.d, f=self.f, time=self.time)
        if parent_hint:
            self._changed[parent_hint] = self.pi

    # -- recording ----------------------------------------------------------------------------
    def step(self, **extra) -> None:
        """One hint snapshot: the walk's pointers and changed hints, and the algorithm's ``extra``."""
        self.tr.step(u=self.u, v=self.v, s_last=self.s_last, **self._changed, **extra)
        self._changed = {}

    # -- the walk -----------------------------------------------------------------------------
    def restart(self) -> None:
        """Whiten every vertex and empty the stack (Kosaraju's second pass); ``d``, ``f``, ``time`` stay."""
        self.color[:] = WHITE
        self._color = [WHITE] * self.n
        self.s_prev[:] = np.arange(self.n)
        self._changed.update(color=self.color, s_prev=self.s_prev)

    def _paint(self, u: int, colour: int) -> None:
        self.color[u] = self._color[u] = colour
        self._changed["color"] = self.color

    def _tick(self, name: str, u: int) -> None:
        """Advance the clock and stamp ``u``'s discovery (``d``) or finishing (``f``) time."""
        self.time += TICK
        times = self.d if name == "d" else self.f
        times[u] = self.time
        self._changed[name] = times
        self._changed["time"] = self.time

    def run(self, roots, nbrs: list[list[int]], *, report_seen: bool = False):
        """DFS from each still-white root in ``roots`` over the neighbour lists ``nbrs``; yields events.

        ``report_seen``: rescan a vertex's neighbours from the start at every expansion (as the
        reference does) and yield SEEN for each non-white neighbour other than its parent.
        Otherwise the scan resumes where it stopped, which finds the same first white neighbour.
        """
        colour, n = self._color, self.n
        resume = [0] * n
        for s in roots:
            if colour[s] != WHITE:
                continue
            self.s = self.u = self.v = self.s_last = s
            if self._with_root:
                self._changed["s"] = s
            stack = [s]
            yield START
            while True:
                u = self.u
                if colour[u] == WHITE or (self.timed and not self._discovered[u]):
                    self._paint(u, GREY)
                    if self.timed:
                        self._tick("d", u)
                        self._discovered[u] = True
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
                            yield SEEN
                else:
                    k, end = resume[u], len(row)
                    while k < end and colour[row[k]] != WHITE:
                        k += 1
                    resume[u] = k
                    if k < end:
                        child = row[k]
                changed = self._changed
                if child >= 0:  # push the child
                    self._paint(child, GREY)
                    self.pi[child] = u
                    self.children[u].append(child)
                    self.s_prev[child] = u  # the old top of the stack
                    changed["s_prev"] = self.s_prev
                    if self._parent:
                        changed[self._parent] = self.pi
                    stack.append(child)
                    self.v = self.s_last = child
                    yield TREE
                else:  # finish u and pop it
                    self.v = n - 1
                    self._paint(u, BLACK)
                    if self.timed:
                        self._tick("f", u)
                    yield FINISH
                    if len(stack) == 1:
                        break
                    stack.pop()
                    self.s_prev[u] = u
                    self._changed["s_prev"] = self.s_prev
                    self.s_last = stack[-1]
                self.u = self.s_last


# ----------------------------------------------------------------------------- validation
def _undirected(algorithm: str, A) -> np.ndarray:
    """An adjacency matrix whose edge pattern is symmetric (weights may differ; only ``!= 0`` is read)."""
    A = as_adjacency(algorithm, A)
    edge = A != 0
    if not np.array_equal(edge, edge.T):
        i, j = np.argwhere(edge != edge.T)[0]
        raise InputError(f"{algorithm}: A must be an undirected graph (A[i, j] != 0 exactly when "
                         f"A[j, i] != 0); A[{i}, {j}] = {A[i, j]} but A[{j}, {i}] = {A[j, i]}")
    return A


def _acyclic(algorithm: str, A: np.ndarray) -> None:
    """Raise unless the directed graph ``A != 0`` has no cycle (self-loops count).

    Kahn's algorithm, a layer at a time: remove every vertex without a remaining in-edge; the graph
    is acyclic when all go.  Each vertex's row is read once: O(n^2) on the dense matrix.
    """
    edge = A != 0
    indegree = edge.sum(axis=0)
    ready = np.flatnonzero(indegree == 0)
    removed = 0
    while ready.size:
        removed += ready.size
        indegree[ready] = -1  # removed: never ready again
        indegree -= edge[ready].sum(axis=0)
        ready = np.flatnonzero(indegree == 0)
    if removed < A.shape[0]:
        raise InputError(f"{algorithm}: A must be a directed acyclic graph, but it has a directed "
                         "cycle (a self-loop A[i, i] != 0 counts as one)")


# ----------------------------------------------------------------------------- algorithms
@register("dfs", "graphs")
def dfs(A) -> Trajectory:
    """Depth-first search (CLRS 22.3) over all roots in index order; edges are ``A[u, v] != 0``.

    Output ``pi``: the DFS-forest parents (roots point to themselves).  T = 3n snapshots.
    """
    A = as_adjacency("dfs", A)
    n = A.shape[0]
    tr = Tracer("dfs", n)
    tr.input(A=A, adj=adjacency_mask(A))
    walk = DfsWalk(tr, timed=True, parent_hint="pi_h")
    for _ in walk.run(range(n), neighbours(A != 0)):
        walk.step()
    tr.output(pi=walk.pi)
    return tr.finish()


@register("topological_sort", "graphs")
def topological_sort(A) -> Trajectory:
    """Topological sort (CLRS 22.4): a DFS over all roots; each finished vertex goes to the front.

    ``topo`` links the order as a list: ``topo_head`` is the first vertex, ``topo[x]`` the one after
    ``x`` and the last vertex (the first to finish) points to itself.  As in the reference the head
    starts at vertex 0 and a finishing vertex is linked to the head only if the head is black, which
    leaves the first vertex to finish unlinked.  Unlike the reference, a graph with a directed cycle
    (or a self-loop) is rejected with an InputError.
    """
    A = as_adjacency("topological_sort", A)
    n = A.shape[0]
    _acyclic("topological_sort", A)
    tr = Tracer("topological_sort", n)
    tr.input(A=A, adj=adjacency_mask(A))
    walk = DfsWalk(tr, timed=False)
    topo, head = np.arange(n), 0
    for event in walk.run(range(n), neighbours(A != 0)):
        if event == FINISH:
            u = walk.u
            if walk.color[head] == BLACK:
                topo[u] = head
            head = u
            walk.step(topo_h=topo, topo_head_h=head)
        elif event == START:
            walk.step(topo_h=topo, topo_head_h=head)
        else:
            walk.step()
    tr.output(topo=topo, topo_head=head)
    return tr.finish()


@register("articulation_points", "graphs")
def articulation_points(A) -> Trajectory:
    """Articulation points of an undirected graph (CLRS problem 22-2) by DFS low-points.

    ``low[u]`` starts at ``d[u]``, takes ``d[v]`` of every non-white neighbour ``v`` other than the
    parent each time ``u``'s neighbours are scanned (one snapshot each), and at ``u``'s finish the
    ``low`` of its children; a non-root ``u`` is a cut vertex if a child has ``low >= d[u]``, a root
    if it has two or more children (``child_cnt`` counts them in steps of 0.01, as CLRS does).
    """
    A = _undirected("articulation_points", A)
    n = A.shape[0]
    tr = Tracer("articulation_points", n)
    tr.input(A=A, adj=adjacency_mask(A))
    walk = DfsWalk(tr, timed=True, parent_hint="pi_h")
    d = walk.d
    low, child_cnt, is_cut = np.zeros(n), np.zeros(n), np.zeros(n)
    for event in walk.run(range(n), neighbours(A != 0), report_seen=True):
        u = walk.u
        if event == START:
            walk.step(is_cut_h=is_cut, low=low, child_cnt=child_cnt)
        elif event == DISCOVER:
            low[u] = d[u]
            walk.step(low=low)
        elif event == TREE:
            child_cnt[u] += TICK
            walk.step(child_cnt=child_cnt)
        elif event == SEEN:
            low[u] = min(low[u], d[walk.v])
            walk.step(low=low)
        else:  # FINISH
            children = walk.children[u]
            if children:
                low[u] = min(low[u], low[children].min())
            root = walk.s == u
            if (not root and np.any(low[children] >= d[u])) or (root and child_cnt[u] > TICK):
                is_cut[u] = 1
            walk.step(low=low, is_cut_h=is_cut)
    tr.output(is_cut=is_cut)
    return tr.finish()


@register("bridges", "graphs")
def bridges(A) -> Trajectory:
    """Bridges of an undirected graph (CLRS problem 22-2) by DFS low-points: the tree edge
    ``(u, c)`` is a bridge when ``low[c] > d[u]``; ``low`` evolves as in :func:`articulation_points`.

    As in CLRS, non-edges of ``is_bridge`` / ``is_bridge_h`` are masked (-1: never scored nor
    trained on); edges and the diagonal hold {0, 1}.
    """
    A = _undirected("bridges", A)
    n = A.shape[0]
    tr = Tracer("bridges", n)
    tr.input(A=A, adj=adjacency_mask(A))
    walk = DfsWalk(tr, timed=True, parent_hint="pi_h")
    d = walk.d
    low = np.zeros(n)
    is_bridge = np.where((A == 0) & ~np.eye(n, dtype=bool), -1.0, 0.0)
    for event in walk.run(range(n), neighbours(A != 0), report_seen=True):
        u = walk.u
        if event == START:
            walk.step(is_bridge_h=is_bridge, low=low)
        elif event == DISCOVER:
            low[u] = d[u]
            walk.step(low=low)
        elif event == SEEN:
            low[u] = min(low[u], d[walk.v])
            walk.step(low=low)
        elif event == TREE:
            walk.step()
        else:  # FINISH
            children = np.array(walk.children[u], dtype=np.int64)
            if children.size:
                low[u] = min(low[u], low[children].min())
                cut = children[low[children] > d[u]]
                is_bridge[u, cut] = is_bridge[cut, u] = 1
            walk.step(low=low, is_bridge_h=is_bridge)
    tr.output(is_bridge=is_bridge)
    return tr.finish()


@register("strongly_connected_components", "graphs")
def strongly_connected_components(A) -> Trajectory:
    """Kosaraju's strongly connected components (CLRS 22.5): a DFS of ``A`` (phase 0), then a DFS of
    the transpose with roots by decreasing finishing time (phase 1); every vertex reached in the
    second pass points (``scc_id``) to that pass's root: the vertex of its component that finished
    last in the first pass.  ``A_t`` is the constant hint ``adj`` of the transpose.
    """
    A = as_adjacency("strongly_connected_components", A)
    n = A.shape[0]
    tr = Tracer("strongly_connected_components", n)
    tr.input(A=A, adj=adjacency_mask(A))
    walk = DfsWalk(tr, timed=True)
    scc_id = np.arange(n)
    first = True
    for _ in walk.run(range(n), neighbours(A != 0)):
        if first:
            walk.step(scc_id_h=scc_id, A_t=adjacency_mask(A.T), phase=0)
            first = False
        else:
            walk.step()
    walk.restart()
    for event in walk.run(np.argsort(-walk.f).tolist(), neighbours(A.T != 0)):
        if event == START:
            walk.step(phase=1)
        elif scc_id[walk.u] != walk.s:  # the reference labels u as it expands it, before the snapshot
            scc_id[walk.u] = walk.s
            walk.step(scc_id_h=scc_id)
        else:
            walk.step()
    tr.output(scc_id=scc_id)
    return tr.finish()


@register("dag_shortest_paths", "graphs")
def dag_shortest_paths(A, s) -> Trajectory:
    """Single-source shortest paths in a DAG (CLRS 24.2): topologically sort the vertices reachable
    from ``s`` by one DFS from ``s`` (phase 0, as :func:`topological_sort`), then relax the out-edges
    (``A[i, j] != 0``, any sign) of each vertex in that order (phase 1, one snapshot per vertex
    before its relaxation, and a final one).  ``pi``: shortest-path parents, unreachable vertices
    point to themselves.  A graph with a directed cycle is rejected (InputError).
    """
    A = as_adjacency("dag_shortest_paths", A)
    n = A.shape[0]
    s = as_node("dag_shortest_paths", "s", s, n)
    _acyclic("dag_shortest_paths", A)
    tr = Tracer("dag_shortest_paths", n)
    tr.input(s=s, A=A, adj=adjacency_mask(A))
    edge = A != 0
    walk = DfsWalk(tr, timed=False)
    pi, d, mark = np.arange(n), np.zeros(n), np.zeros(n)
    topo, head = np.arange(n), 0
    for event in walk.run([s], neighbours(edge)):
        if event == FINISH:
            u = walk.u
            if walk.color[head] == BLACK:
                topo[u] = head
            head = u
            walk.step(topo_h=topo, topo_head_h=head)
        elif event == START:
            walk.step(pi_h=pi, d=d, mark=mark, topo_h=topo, topo_head_h=head, phase=0)
        else:
            walk.step()
    # head == s: the root finishes last
    d[head], mark[head] = 0.0, 1
    while topo[head] != head:
        i = head
        mark[i] = 1
        tr.step(pi_h=pi, d=d, mark=mark, topo_head_h=head, phase=1)
        cand = d[i] + A[i]
        better = edge[i] & ((mark == 0) | (cand < d))
        d[better], pi[better], mark[better] = cand[better], i, 1
        head = topo[head]
    tr.step(pi_h=pi, d=d, mark=mark, topo_head_h=head, phase=1)
    tr.output(pi=pi)
    return tr.finish()
