"""Programs written as LOCAL algorithms and compiled by :mod:`nar.exact.local`.

==================  =========================================================================
name                algorithm (keys are node IDs; ``id=`` input, default the node index)
==================  =========================================================================
``leader``          leader election: every node learns the minimum ID (connected graphs)
``components``      connected-component labelling: the minimum ID of the node's component
``mis``             maximal independent set by IDs: a node joins when no undecided neighbour
                    has a smaller ID, leaves when a neighbour joined (the lexicographically
                    first MIS)
``local_bfs``       BFS levels and BFS tree from the source (parent = smallest-index neighbour
                    one level closer, as the hand-built ``bfs``)
``greedy_colour``   greedy (D + 1)-colouring in ID order: a node takes the smallest colour no
                    neighbour has once every smaller-ID neighbour is coloured
==================  =========================================================================

Each has an independent textbook oracle (``truth``), used by ``verify`` and ``nar exact verify``.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from ..graph import Graph
from ..local import KEY, LocalAlgorithm, program_class
from ..truth import bfs_truth


# ---- bounds on the number of rounds (cheap graph quantities) ---------------------------------
def component_roots_ecc(g: Graph) -> tuple[np.ndarray, int]:
    """Component index per node and the largest eccentricity of a component's first node."""
    comp = np.full(g.n, -1, dtype=np.int64)
    worst = 0
    for root in range(g.n):
        if comp[root] >= 0:
            continue
        c = int(comp.max()) + 1
        comp[root] = c
        dist = {root: 0}
        queue = deque([root])
        while queue:
            u = queue.popleft()
            for v in g.adj[u]:
                if comp[v] < 0:
                    comp[v] = c
                    dist[v] = dist[u] + 1
                    worst = max(worst, dist[v])
                    queue.append(v)
    return comp, worst


def diameter_bound(g: Graph, source: int = 0) -> int:
    """``2 * ecc`` of each component's first node: at least every component's diameter."""
    return 2 * component_roots_ecc(g)[1] + 1


def id_chain_bound(g: Graph, source: int = 0, id=None) -> int:
    """One more than the longest path along which IDs decrease (a node decides one round after
    its last smaller-ID neighbour)."""
    ids = np.arange(g.n) if id is None else np.asarray(id)
    depth = np.zeros(g.n, dtype=np.int64)
    for v in np.argsort(ids, kind="stable").tolist():
        smaller = [depth[u] + 1 for u in g.adj[v] if ids[u] < ids[v]]
        depth[v] = max(smaller, default=0)
    return int(depth.max(initial=0)) + 1


# ---- oracles (textbook, independent of the rules) --------------------------------------------
def _ids(g, id):
    return np.arange(g.n, dtype=np.int64) if id is None else np.asarray(id, dtype=np.int64)


def components_truth(g: Graph, source: int = 0, id=None) -> dict:
    ids = _ids(g, id)
    comp, _ = component_roots_ecc(g)
    low = np.full(comp.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(low, comp, ids)
    return {"leader": low[comp]}


def mis_truth(g: Graph, source: int = 0, id=None) -> dict:
    """The lexicographically first MIS: nodes in increasing ID, taken when no neighbour is in."""
    ids = _ids(g, id)
    inside = np.zeros(g.n, dtype=bool)
    for v in np.argsort(ids, kind="stable").tolist():
        if not any(inside[u] for u in g.adj[v]):
            inside[v] = True
    return {"in_mis": inside}


def colour_truth(g: Graph, source: int = 0, id=None) -> dict:
    """Sequential greedy colouring in increasing ID (colours 1, 2, ...)."""
    ids = _ids(g, id)
    colour = np.zeros(g.n, dtype=np.int64)
    for v in np.argsort(ids, kind="stable").tolist():
        used = {colour[u] for u in g.adj[v]}
        colour[v] = next(c for c in range(1, g.n + 2) if c not in used)
    return {"colour": colour}


def local_bfs_truth(g: Graph, source: int = 0, **_) -> dict:
    return bfs_truth(g, source)


# ---- the rules --------------------------------------------------------------------------------
def min_id_init(inp):
    return {"leader": inp.id}, {"leader": inp.id}


def min_id_rule(state, inbox):
    best = min([state.leader] + [m.leader for m in inbox])
    return {"leader": best}, {"leader": best}


LEADER = LocalAlgorithm(
    name="leader", state={"leader": KEY}, message={"leader": KEY},
    init=min_id_init, rule=min_id_rule, rounds=diameter_bound,
    truth=lambda g, s, id=None: {"leader": np.full(g.n, _ids(g, id).min())},
    needs_connected=True, doc="Leader election: every node learns the minimum ID.")

COMPONENTS = LocalAlgorithm(
    name="components", state={"leader": KEY}, message={"leader": KEY},
    init=min_id_init, rule=min_id_rule, rounds=diameter_bound, truth=components_truth,
    doc="Connected-component labelling: the minimum ID of each node's component.")

UNDECIDED, IN, OUT = 0, 1, 2


def mis_rule(state, inbox):
    status = state.status
    if status == UNDECIDED:
        if any(m.status == IN for m in inbox):
            status = OUT
        elif all(m.status != UNDECIDED or state.id < m.id for m in inbox):
            status = IN
    return {"status": status}, {"status": status, "id": state.id}


MIS = LocalAlgorithm(
    name="mis", state={"status": 3, "id": KEY}, message={"status": 3, "id": KEY},
    init=lambda inp: ({"status": UNDECIDED, "id": inp.id}, {"status": UNDECIDED, "id": inp.id}),
    rule=mis_rule, rounds=lambda g, s, id=None: id_chain_bound(g, s, id),
    halt=lambda s: s.status != UNDECIDED,
    output=lambda f: {"in_mis": f["status"] == IN},
    truth=mis_truth, doc="Maximal independent set by IDs (lexicographically first).")


def bfs_rule(state, inbox):
    if not state.reached:
        for m in inbox:  # entries in increasing node order: the first is the smallest index
            if m.reached:
                return {"reached": 1, "dist": state.round, "parent": m.id}, {"reached": 1, "id": state.id}
    return {}, {"reached": state.reached, "id": state.id}


LOCAL_BFS = LocalAlgorithm(
    name="local_bfs", state={"reached": 2, "id": KEY, "dist": KEY, "parent": KEY},
    message={"reached": 2, "id": KEY},
    init=lambda inp: ({"reached": inp.is_source, "id": inp.id, "parent": inp.id},
                      {"reached": inp.is_source, "id": inp.id}),
    rule=bfs_rule, rounds=lambda g, s, **_: max(int(g.hops(s).max()), 1),
    output=lambda f: {"reached": f["reached"] == 1, "dist": np.where(f["reached"] == 1, f["dist"], -1),
                      "parent": f["parent"]},
    truth=local_bfs_truth, doc="BFS levels and tree, compiled from a LOCAL rule.")


def colour_rule(state, inbox):
    colour = state.colour
    if colour == 0 and all(m.colour != 0 or m.id > state.id for m in inbox):
        used = {m.colour for m in inbox}
        colour = min(c for c in range(1, len(inbox) + 2) if c not in used)
    return {"colour": colour}, {"colour": colour, "id": state.id}


GREEDY_COLOUR = LocalAlgorithm(
    name="greedy_colour", state={"colour": lambda D: D + 2, "id": KEY},
    message={"colour": lambda D: D + 2, "id": KEY},
    init=lambda inp: ({"colour": 0, "id": inp.id}, {"colour": 0, "id": inp.id}),
    rule=colour_rule, rounds=lambda g, s, id=None: id_chain_bound(g, s, id),
    halt=lambda s: s.colour != 0, output=lambda f: {"colour": f["colour"]},
    truth=colour_truth, doc="Greedy (D + 1)-colouring in ID order.")

ALGORITHMS = {a.name: a for a in (LEADER, COMPONENTS, MIS, LOCAL_BFS, GREEDY_COLOUR)}
Leader, Components, MIS_Program, LocalBFS, GreedyColour = (program_class(a) for a in ALGORITHMS.values())
COMPILED = {a.name: cls for a, cls in zip(ALGORITHMS.values(), (Leader, Components, MIS_Program, LocalBFS, GreedyColour))}
