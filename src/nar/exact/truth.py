"""Textbook ground truth for the exact programs (pure Python/numpy, independent of the templates).

* :func:`bfs_truth`: BFS distances; parent = the smallest-ID neighbour one level closer
  (the parent of a level-synchronous BFS, and of ``nar.execute("bfs")``).
* :func:`dfs_truth`: recursive DFS visiting the smallest-ID unvisited neighbour first:
  parents and discovery (preorder) index.
* :func:`shortest_path_truth`: Dijkstra distances for non-negative weights (``-1`` unreachable),
  and the parents of synchronous Bellman-Ford (a node keeps its distance on ties; among equal best
  offers the smallest neighbour ID wins).
"""
from __future__ import annotations

import heapq
from collections import deque

import numpy as np

from .graph import Graph


def bfs_truth(g: Graph, source: int) -> dict[str, np.ndarray]:
    dist = np.full(g.n, -1, dtype=np.int64)
    parent = np.arange(g.n)
    dist[source] = 0
    queue = deque([source])
    while queue:
        u = queue.popleft()
        for v in g.adj[u]:
            if dist[v] < 0:
                dist[v] = dist[u] + 1
                queue.append(v)
    for v in range(g.n):
        if dist[v] > 0:
            parent[v] = min(u for u in g.adj[v] if dist[u] == dist[v] - 1)
    return {"reached": dist >= 0, "dist": dist, "parent": parent}


def dfs_truth(g: Graph, source: int) -> dict[str, np.ndarray]:
    parent = np.arange(g.n)
    order = np.full(g.n, -1, dtype=np.int64)
    count = 0
    order[source] = count
    count += 1
    stack = [(source, iter(g.adj[source]))]  # iterative, so deep graphs do not hit recursion limits
    while stack:
        u, it = stack[-1]
        for v in it:
            if order[v] < 0:
                order[v] = count
                count += 1
                parent[v] = u
                stack.append((v, iter(g.adj[v])))
                break
        else:
            stack.pop()
    return {"visited": order >= 0, "parent": parent, "order": order}


def shortest_path_truth(g: Graph, source: int) -> dict[str, np.ndarray]:
    w = g.weight_of()
    dist = np.full(g.n, -1, dtype=np.int64)
    best = {source: 0}
    heap = [(0, source)]
    while heap:
        d, u = heapq.heappop(heap)
        if dist[u] >= 0:
            continue
        dist[u] = d
        for v in g.adj[u]:
            nd = d + int(w[(u, v)])
            if dist[v] < 0 and nd < best.get(v, nd + 1):
                best[v] = nd
                heapq.heappush(heap, (nd, v))
    return {"reached": dist >= 0, "dist": dist, "parent": synchronous_bf_parents(g, source)}


def synchronous_bf_parents(g: Graph, source: int) -> np.ndarray:
    """Parents of synchronous Bellman-Ford rounds: every node takes the best offer ``d[u] + w``
    from the previous round's finite ``d``; it changes only on a strict improvement, and the
    smallest ``u`` wins among equal offers."""
    w = g.weight_of()
    INF = np.iinfo(np.int64).max
    d = np.full(g.n, INF, dtype=np.int64)
    d[source] = 0
    parent = np.arange(g.n)
    for _ in range(max(g.n - 1, 0)):
        new_d, new_p = d.copy(), parent.copy()
        for v in range(g.n):
            offers = [(d[u] + int(w[(u, v)]), u) for u in g.adj[v] if d[u] < INF]
            if offers:
                val, u = min(offers)
                if val < d[v]:
                    new_d[v], new_p[v] = val, u
        if np.array_equal(new_d, d):
            break
        d, parent = new_d, new_p
    return parent
