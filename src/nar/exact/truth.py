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


def shortest_path_hops(g: Graph, source) -> tuple[np.ndarray, np.ndarray]:
    """Dijkstra on the key (distance, hops): ``dist[v]`` (``-1`` unreachable) and ``hops[v]``, the
    fewest edges of a shortest path to ``v`` (``-1`` unreachable).  Synchronous Bellman-Ford has
    every distance final after ``max(hops)`` rounds (round ``r`` knows the best walk of ``<= r``
    edges), which is the depth its iteration bound grows with.  ``source`` may be a list of nodes
    (distances to the nearest one)."""
    w = g.weight_of()
    dist = np.full(g.n, -1, dtype=np.int64)
    hops = np.full(g.n, -1, dtype=np.int64)
    roots = [int(source)] if np.ndim(source) == 0 else [int(s) for s in source]
    best = {s: (0, 0) for s in roots}
    heap = [(0, 0, s) for s in roots]
    while heap:
        d, h, u = heapq.heappop(heap)
        if dist[u] >= 0:
            continue
        dist[u], hops[u] = d, h
        for v in g.adj[u]:
            key = (d + int(w[(u, v)]), h + 1)
            if dist[v] < 0 and key < best.get(v, (key[0] + 1, 0)):
                best[v] = key
                heapq.heappush(heap, (*key, v))
    return dist, hops


def shortest_path_truth(g: Graph, source: int) -> dict[str, np.ndarray]:
    dist, _ = shortest_path_hops(g, source)
    return {"reached": dist >= 0, "dist": dist, "parent": synchronous_bf_parents(g, source)}


def synchronous_bf_parents(g: Graph, source: int) -> np.ndarray:
    """Parents of synchronous Bellman-Ford rounds: every node takes the best offer ``d[u] + w``
    from the previous round's finite ``d``; it changes only on a strict improvement, and the
    smallest ``u`` wins among equal offers.  One vectorised pass over the directed edges per round
    (the best offer of ``v`` is the minimum of the key ``offer * n + u``), until nothing changes."""
    n = g.n
    e = g.edges
    wt = np.ones(len(e), dtype=np.int64) if g.weights is None else np.asarray(g.weights).astype(np.int64)
    src = np.concatenate([e[:, 0], e[:, 1]])
    dst = np.concatenate([e[:, 1], e[:, 0]])
    w = np.concatenate([wt, wt])
    INF = np.iinfo(np.int64).max
    d = np.full(n, INF, dtype=np.int64)
    d[source] = 0
    parent = np.arange(n)
    for _ in range(max(n - 1, 0)):
        live = d[src] < INF
        key = np.full(n, INF, dtype=np.int64)
        np.minimum.at(key, dst[live], (d[src[live]] + w[live]) * n + src[live])
        has = key < INF
        offer = np.where(has, key // n, INF)
        better = offer < d
        if not better.any():
            break
        d = np.where(better, offer, d)
        parent = np.where(better, key % n, parent)
    return parent
