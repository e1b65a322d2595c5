"""CLRS-30 graph algorithms (CLRS ch. 22-25), traced with :class:`nar.trace.Tracer`.

Graphs are dense (weighted) adjacency matrices ``A``; ``adj`` is ``(A + I) != 0`` as in CLRS
(every node is adjacent to itself).  "No parent" is a self-pointer.
"""
from __future__ import annotations

import numpy as np

from ..trace import Tracer, Trajectory
from ..validation import as_adjacency, as_node
from .registry import register


def adjacency_mask(A: np.ndarray) -> np.ndarray:
    """CLRS ``graph`` probe: 1 where ``A + I`` is non-zero."""
    return ((A + np.eye(A.shape[0])) != 0).astype(np.float32)


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
    while True:
        tr.step(reach_h=reach, pi_h=pi)
        frontier = edge[reach]  # rows of reached nodes
        new = frontier.any(axis=0) & ~reach
        if not new.any():
            break
        first = np.argmax(edge & reach[:, None], axis=0)  # smallest reached neighbour
        pi[new] = first[new]
        reach |= new
    tr.output(pi=pi)
    return tr.finish()
