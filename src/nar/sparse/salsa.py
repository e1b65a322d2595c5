"""The two SALSA-CLRS algorithms that are not in CLRS-30, on adjacency lists (probes: :mod:`.specs`).

Both follow SALSA-CLRS (Minder et al. 2023, ``salsaclrs/algorithms/mis.py`` and ``eccentricity.py``);
the docstrings say where this differs and why.  Both need an undirected graph; weights are ignored
(SALSA's graphs are unweighted; ``A`` still records them).
"""
from __future__ import annotations

import numpy as np

from ..validation import to_float32_exact
from .algorithms import begin, require_undirected
from .graph import SparseGraph, edge_positions
from .samplers import _rng
from .trajectory import SparseTrajectory


def fast_mis(g: SparseGraph, hints: bool = True, seed=0) -> SparseTrajectory:
    """Randomised maximal independent set, Luby-style, in synchronous rounds.

    SALSA (``fast_mis_2``): every round each alive node draws a number; an alive node whose number
    is below those of all its alive neighbours (ties: the larger index wins) joins the set; nodes in
    the set and their neighbours die, and the edges of dead nodes are removed.  Two snapshots per
    round: before it (``phase_h`` 0) and after it (1), of ``Ain_h`` (the edges between alive nodes),
    ``alive_h`` and ``inmis_h``; output ``inmis``.  SALSA records the numbers of every round as the
    input ``randomness`` of shape ``[n, 2 * rounds]``.

    Chosen here: ``randomness`` is one float32 U[0, 1) number per node (``[n]``, a CLRS node scalar),
    drawn from ``seed`` once and used in every round (the random-priority parallel greedy MIS, whose
    round count is O(log n) with high probability).  A ``[n, 2R]`` input whose width depends on the
    run does not fit a fixed per-probe encoder, and with fixed numbers the output is a function of
    the inputs, so a model can learn it.  Everything else is SALSA's.
    """
    require_undirected("fast_mis", g)
    n = g.n
    rec = begin("fast_mis", g, hints)
    r = to_float32_exact(_rng(seed).random(n))
    rec.input(randomness=r)
    ei = rec.edge_index
    s, t = g.senders, g.receivers
    pos = edge_positions(ei, n, s, t)
    ain0 = np.zeros(ei.shape[1], np.float32)
    ain0[pos] = 1.0
    ain_log, alive_log = rec.hint("Ain_h", ain0), rec.hint("alive_h", np.ones(n))
    inmis_log, phase_log = rec.hint("inmis_h", np.zeros(n)), rec.hint("phase_h", 0.0)
    alive = np.ones(n, dtype=bool)
    in_mis = np.zeros(n, dtype=bool)
    while alive.any():
        phase_log.set(0, 0.0)
        rec.push()
        loses = (r[s] > r[t]) | ((r[s] == r[t]) & (s < t))  # s has an alive neighbour that beats it
        beaten = np.zeros(n, dtype=bool)
        beaten[s[loses]] = True
        joins = alive & ~beaten
        in_mis |= joins
        hit = np.zeros(n, dtype=bool)
        hit[s[in_mis[t]]] = True
        dies = alive & (in_mis | hit)
        alive &= ~dies
        keep = alive[s] & alive[t]
        ain_log.set_many(pos[~keep], 0.0)
        s, t, pos = s[keep], t[keep], pos[keep]
        inmis_log.set_many(np.flatnonzero(joins), 1.0)
        alive_log.set_many(np.flatnonzero(dies), 0.0)
        phase_log.set(0, 1.0)
        rec.push()
    rec.output(inmis=in_mis.astype(np.float32))
    return rec.finish()


def eccentricity(g: SparseGraph, s: int, hints: bool = True) -> SparseTrajectory:
    """Eccentricity of ``s`` (hops) by flooding and echo, SALSA's synchronous message passing.

    SALSA: ``s`` floods 1 to its unvisited neighbours, a node first receiving floods records the
    largest as ``floodstate`` (its distance) and floods that + 1 in the next round; ``tree_h[u, v]``
    marks "u flooded v".  A node with nothing left to flood turns leaf (``leaf_h``, ``msgphase_h``)
    and echoes its distance to every node that flooded it (clearing those tree edges); a node in
    echo phase turns leaf when every tree edge it flooded has been echoed back (or was flooded back
    in the same round) and echoes its ``echostate``, the largest echo received.  It stops in the round
    where ``s`` would turn leaf; ``eccentricity`` = ``echostate[s]``.  One snapshot before the first
    round and one after each round (the last round included); within a round nodes act in index
    order on the state from before it, then the floods are received (in index order, acting at once).

    Difference: SALSA loops forever when ``s`` has no neighbour (it turns leaf at once and never
    finishes); here such a run stops after its first round with eccentricity 0.  Cost:
    O(n + E) per run plus O(1) per node and round in echo phase.
    """
    require_undirected("eccentricity", g)
    n = g.n
    rec = begin("eccentricity", g, hints, source=s)
    indptr, idx, _ = g.csr()
    start, cols = indptr.tolist(), idx.tolist()
    # position of CSR edge k (row a) in the model edge set: rows before a each add a self-loop
    epos = (np.arange(idx.size) + np.repeat(np.arange(n), np.diff(indptr)) + (idx > np.repeat(
        np.arange(n), np.diff(indptr)))).tolist()
    logs = {k: rec.hint(k, np.zeros(n)) for k in ("visited_h", "msgphase_h", "floodstate_h", "echostate_h",
                                                   "leaf_h")}
    tree_log = rec.hint("tree_h", np.zeros(rec.edge_index.shape[1]))
    ecc_log = rec.hint("eccentricity_h", 0.0)
    rec.push()
    visited, phase, leaf = [False] * n, [False] * n, [False] * n
    flood, echo = [0] * n, [0] * n
    tree: set[int] = set()  # k: CSR edge k = (a, cols[k]) is marked
    rev = _reverse_edges(g)  # CSR id of the reverse edge
    pending = [0] * n  # marked edges (a, b) without the mark (b, a): a waits for b's echo
    waiting: set[int] = set()  # msgphase, not leaf
    ready: set[int] = set()  # waiting with pending == 0

    def mark(k: int, a: int, on: bool) -> None:
        """Set the mark of edge k = (a, b), keeping ``pending`` and ``ready`` in step."""
        b, rk = cols[k], rev[k]
        if on:
            tree.add(k)
            if rk in tree:
                _pend(b, -1)
            else:
                _pend(a, +1)
        else:
            tree.discard(k)
            if rk in tree:
                _pend(b, +1)
            else:
                _pend(a, -1)
        tree_log.set(epos[k], 1.0 if on else 0.0)

    def _pend(a: int, delta: int) -> None:
        pending[a] += delta
        if a in waiting:
            if pending[a] == 0:
                ready.add(a)
            else:
                ready.discard(a)

    def to_phase(a: int) -> None:
        if not phase[a]:
            phase[a] = True
            logs["msgphase_h"].set(a, 1.0)
            if not leaf[a]:
                waiting.add(a)
                if pending[a] == 0:
                    ready.add(a)

    def make_leaf(a: int) -> None:
        leaf[a] = True
        logs["leaf_h"].set(a, 1.0)
        waiting.discard(a)
        ready.discard(a)

    def echo_from(a: int, msg: int, new_echo: dict, unmarks: list, phases: list, seen: list) -> None:
        """a echoes ``msg`` to each visited node that flooded it."""
        for k in range(start[a], start[a + 1]):
            p = cols[k]
            kp = rev[k]  # edge (p, a)
            if kp in tree and seen[p]:
                new_echo[p] = max(msg, new_echo.get(p, echo[p]))
                unmarks.append((kp, p))
                phases.append(p)

    flooders = [s]
    done = False
    while not done:
        messages: dict[int, int] = {}
        new_echo: dict[int, int] = {}
        new_visited, marks, unmarks, phases = [], [], [], []
        old_visited = visited
        acting = sorted(set(flooders) | ready)
        if not acting:
            break  # nothing can change any more (an isolated source)
        for a in acting:
            if not phase[a]:
                is_leaf = False
                if (a == s and not visited[a]) or (flood[a] > 0 and not visited[a]):
                    msg = flood[a] + 1 if flood[a] > 0 else 1
                    new_visited.append(a)
                    is_leaf = True
                    for k in range(start[a], start[a + 1]):
                        b = cols[k]
                        if not old_visited[b]:
                            messages[b] = max(msg, messages.get(b, 0))
                            marks.append((k, a))
                            is_leaf = False
                if is_leaf:
                    make_leaf(a)
                    new_echo[a] = flood[a]
                    phases.append(a)
                    echo_from(a, flood[a], new_echo, unmarks, phases, old_visited)
            elif not leaf[a]:
                if a == s:
                    done = True
                    break
                make_leaf(a)
                echo_from(a, echo[a], new_echo, unmarks, phases, old_visited)
        # the round's effects on visited, msgphase and tree
        for a in new_visited:
            visited[a] = True
            logs["visited_h"].set(a, 1.0)
        for k, a in marks:
            if k not in tree:
                mark(k, a, True)
        for k, a in unmarks:
            if k in tree:
                mark(k, a, False)
        for a in phases:
            to_phase(a)
        # floods received, in index order, acting at once
        flooders = []
        for b in sorted(messages):
            if not visited[b]:
                flood[b] = messages[b]
                logs["floodstate_h"].set(b, float(messages[b]))
                flooders.append(b)
            elif pending[b] == 0:
                make_leaf(b)
                new_echo[b] = flood[b]
                ph: list = []
                un: list = []
                echo_from(b, flood[b], new_echo, un, ph, visited)
                for k, p in un:
                    if k in tree:
                        mark(k, p, False)
                to_phase(b)
                for p in ph:
                    to_phase(p)
        for a, v in new_echo.items():
            if v != echo[a]:
                echo[a] = v
                logs["echostate_h"].set(a, float(v))
        ecc_log.set(0, float(echo[s]))
        rec.push()
    rec.output(eccentricity=float(echo[s]))
    return rec.finish()


def _reverse_edges(g: SparseGraph) -> list[int]:
    """For each CSR edge k = (a, b) of an undirected graph, the id of (b, a)."""
    n = g.n
    key = g.senders * n + g.receivers
    return np.searchsorted(key, g.receivers * n + g.senders).tolist()
