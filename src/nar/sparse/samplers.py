"""Samplers that draw sparse graphs directly, in O(n + E) memory and time (never an ``[n, n]`` array).

Families (every one takes ``seed``, an int or a ``numpy.random.Generator``; a seed gives the same graph):

* :func:`er` -- G(n, p) with ``p = degree / (n - 1)``: the number of edges is drawn from its binomial
  law, then that many distinct node pairs uniformly (so an undirected node has ``degree`` neighbours
  on average, a directed one ``degree`` out- and in-neighbours);
* :func:`geometric` -- random geometric graph: n uniform points in the unit square joined when closer
  than the radius ``sqrt(degree / (pi (n - 1)))`` (mean degree ~ ``degree`` away from the border), the
  neighbour search bucketed on a grid of that cell size;
* :func:`grid` -- a ``rows x cols`` 4-neighbour grid (``rows = floor(sqrt(n))``) on n nodes; ``drop`` removes
  that fraction of its edges at random ("road-like");
* :func:`tree` -- a random recursive tree (node ``perm[i]`` hangs under a uniform earlier node; not
  uniform over labelled trees, depth O(log n)); :func:`path` -- the path 0 - 1 - ... - n-1.

Weights follow the dense CLRS samplers (:func:`nar.samplers.er_graphs`): undirected ``sqrt(u u' + 1e-3)``
with ``u, u' ~ U[low, high]``, directed ``U[low, high]``, rounded to float32.  ``orient`` makes a directed
graph (``"random"``: each edge one random direction; ``"acyclic"``: from lower to higher rank in a
random node order).  ``connected=True`` adds one edge between consecutive components (a random node of
each, components ordered by their smallest node), so the graph has one component.
"""
from __future__ import annotations

import math

import numpy as np

from ..samplers import uniform
from ..validation import InputError, to_float32_exact
from .graph import SparseGraph, first_occurrences, unique

FAMILIES = ("er", "geometric", "grid", "tree", "path")


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"sparse sampler: seed must be an integer >= 0 or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _check_n(n) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"sparse sampler: n must be an integer >= 1, got {n!r}")
    return int(n)


DEFAULT_DEGREE = 4.0


def _check_degree(degree, n: int) -> float:
    """``degree`` checked against n; ``None``: :data:`DEFAULT_DEGREE`, at most n - 1."""
    if degree is None:
        return min(DEFAULT_DEGREE, float(n - 1))
    try:
        d = float(degree)
    except (TypeError, ValueError):
        raise InputError(f"sparse sampler: degree must be a number, got {degree!r}") from None
    if not (0 <= d <= max(n - 1, 0)) or math.isnan(d):
        raise InputError(f"sparse sampler: degree must be in [0, n - 1] = [0, {max(n - 1, 0)}], got {degree!r}")
    return d


def _distinct_pairs(rng: np.random.Generator, n: int, k: int, *, ordered: bool) -> tuple[np.ndarray, np.ndarray]:
    """``k`` distinct node pairs (u != v) drawn uniformly: ordered ones, or unordered as (min, max)."""
    keys = np.zeros(0, np.int64)
    while keys.size < k:
        draw = rng.integers(0, n * (n - 1), size=int((k - keys.size) * 1.05) + 8)
        u, v = draw // (n - 1), draw % (n - 1)
        v = v + (v >= u)
        if not ordered:
            u, v = np.minimum(u, v), np.maximum(u, v)
        keys = np.concatenate([keys, u * n + v])
        keys = keys[np.sort(first_occurrences(keys)[1])]  # first occurrences, in draw order
    keys = keys[:k]
    return keys // n, keys % n


def _weights(rng: np.random.Generator, E: int, directed: bool, low: float, high: float) -> np.ndarray:
    """float32 weights as the dense CLRS samplers draw them (see the module docstring)."""
    if not directed:
        if low < 0:
            raise InputError(f"sparse sampler: low must be >= 0 for undirected weighted graphs "
                             f"(weights are sqrt(u u' + 1e-3)), got {low}")
        w = np.sqrt(uniform(rng, low, high, E) * uniform(rng, low, high, E) + 1e-3)
    else:
        w = uniform(rng, low, high, E)
    w = to_float32_exact(w)
    if np.any(w == 0):
        raise InputError("sparse sampler: a weight of exactly 0 was drawn (it would mean 'no edge'); "
                         "use a weight range without 0")
    return w


def components(n: int, senders: np.ndarray, receivers: np.ndarray) -> np.ndarray:
    """int64 ``[n]``: each node's component label (the smallest node of its component, edges read as
    undirected), by hooking and pointer jumping: O((n + E) log n) whole-array steps."""
    label = np.arange(n, dtype=np.int64)
    while True:
        ls, lr = label[senders], label[receivers]
        low = np.minimum(ls, lr)
        new = label.copy()
        np.minimum.at(new, ls, low)
        np.minimum.at(new, lr, low)
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, label):
            return label
        label = new


def _connect(rng: np.random.Generator, n: int, u: np.ndarray, v: np.ndarray):
    """Add one edge between each pair of consecutive components (see the module docstring)."""
    label = components(n, u, v)
    roots = unique(label)
    if roots.size < 2:
        return u, v
    order = np.argsort(label, kind="stable")
    start = np.searchsorted(label[order], roots)
    size = np.diff(np.append(start, n))
    pick = order[start + (rng.random(roots.size) * size).astype(np.int64)]  # a random node per component
    return np.concatenate([u, pick[:-1]]), np.concatenate([v, pick[1:]])


def _finish(rng, n, u, v, *, orient, weighted, low, high, connected) -> SparseGraph:
    """Undirected pairs ``(u, v)`` (each once) -> a SparseGraph, connected / oriented / weighted."""
    if connected:
        u, v = _connect(rng, n, u, v)
    directed = orient is not None
    if orient == "acyclic":
        rank = rng.permutation(n)
        flip = rank[u] > rank[v]
        u, v = np.where(flip, v, u), np.where(flip, u, v)
    elif orient == "random":
        flip = rng.random(u.size) < 0.5
        u, v = np.where(flip, v, u), np.where(flip, u, v)
    elif orient is not None:
        raise InputError(f"sparse sampler: orient must be None, 'random' or 'acyclic', got {orient!r}")
    w = _weights(rng, u.size, directed, low, high) if weighted else None
    return SparseGraph.from_edges(n, u, v, w, directed=directed)


def er(n: int, degree: float | None = None, seed=0, *, directed: bool = False, acyclic: bool = False,
       weighted: bool = False, low: float = 0.0, high: float = 1.0, connected: bool = False) -> SparseGraph:
    """Erdos-Renyi G(n, p = degree / (n - 1)) (``degree`` default: min(4, n - 1)); ``directed``: over ordered pairs; ``acyclic``: an
    undirected draw oriented along a random node order (a DAG whose nodes have ``degree`` in- plus
    out-neighbours on average)."""
    n, rng = _check_n(n), _rng(seed)
    d = _check_degree(degree, n)
    if n == 1:
        return _finish(rng, n, np.zeros(0, np.int64), np.zeros(0, np.int64),
                       orient="random" if directed or acyclic else None, weighted=weighted, low=low,
                       high=high, connected=False)
    p = d / (n - 1)
    ordered = directed and not acyclic
    slots = n * (n - 1) if ordered else n * (n - 1) // 2
    k = int(rng.binomial(slots, p))
    u, v = _distinct_pairs(rng, n, k, ordered=ordered)
    if ordered:
        if connected:
            u, v = _connect(rng, n, u, v)
        w = _weights(rng, u.size, True, low, high) if weighted else None
        return SparseGraph.from_edges(n, u, v, w, directed=True)
    return _finish(rng, n, u, v, orient="acyclic" if acyclic else None, weighted=weighted, low=low,
                   high=high, connected=connected)


def geometric(n: int, degree: float | None = None, seed=0, *, orient: str | None = None, weighted: bool = False,
              low: float = 0.0, high: float = 1.0, connected: bool = False) -> SparseGraph:
    """Random geometric graph in the unit square (see the module docstring)."""
    n, rng = _check_n(n), _rng(seed)
    d = _check_degree(degree, n)
    pts = rng.random((n, 2))
    radius = math.sqrt(d / (math.pi * max(n - 1, 1)))
    u, v = _close_pairs(pts, radius)
    return _finish(rng, n, u, v, orient=orient, weighted=weighted, low=low, high=high, connected=connected)


def _close_pairs(pts: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) of points closer than ``radius``, by a grid of cells of side >= radius."""
    n = pts.shape[0]
    if radius <= 0 or n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    side = max(1, min(int(1.0 / radius), int(math.isqrt(n)) * 2))  # cells per axis (cell >= radius)
    cx = np.minimum((pts[:, 0] * side).astype(np.int64), side - 1)
    cy = np.minimum((pts[:, 1] * side).astype(np.int64), side - 1)
    cell = cx * side + cy
    order = np.argsort(cell, kind="stable")
    start = np.searchsorted(cell[order], np.arange(side * side + 1))
    us, vs = [], []
    for dx, dy in ((0, 0), (0, 1), (1, -1), (1, 0), (1, 1)):  # each neighbouring cell pair once
        ox, oy = cx + dx, cy + dy
        ok = (ox < side) & (oy >= 0) & (oy < side)
        i = np.flatnonzero(ok)
        other = ox[i] * side + oy[i]
        lo, cnt = start[other], start[other + 1] - start[other]
        i = np.repeat(i, cnt)
        j = order[np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(cnt.sum())]
        keep = np.sum((pts[i] - pts[j]) ** 2, axis=1) < radius * radius
        if dx == 0 and dy == 0:
            keep &= i < j
        us.append(i[keep])
        vs.append(j[keep])
    return np.concatenate(us), np.concatenate(vs)


def grid(n: int, seed=0, *, drop: float = 0.0, orient: str | None = None, weighted: bool = False,
         low: float = 0.0, high: float = 1.0, connected: bool = False) -> SparseGraph:
    """A 4-neighbour grid of ``floor(sqrt(n))`` rows filled row by row with n nodes; ``drop``: the
    fraction of its edges removed at random (road-like; ``connected=True`` re-links the pieces)."""
    n, rng = _check_n(n), _rng(seed)
    if not 0.0 <= float(drop) < 1.0:
        raise InputError(f"sparse sampler: drop must be in [0, 1), got {drop!r}")
    rows = max(1, math.isqrt(n))
    cols = -(-n // rows)
    node = np.arange(n)
    right = node[(node % cols < cols - 1) & (node + 1 < n)]
    down = node[node + cols < n]
    u = np.concatenate([right, down])
    v = np.concatenate([right + 1, down + cols])
    if drop > 0:
        keep = rng.random(u.size) >= drop
        u, v = u[keep], v[keep]
    return _finish(rng, n, u, v, orient=orient, weighted=weighted, low=low, high=high, connected=connected)


def tree(n: int, seed=0, *, orient: str | None = None, weighted: bool = False, low: float = 0.0,
         high: float = 1.0) -> SparseGraph:
    """A random recursive tree on n nodes (see the module docstring)."""
    n, rng = _check_n(n), _rng(seed)
    perm = rng.permutation(n)
    parent = perm[(rng.random(n - 1) * np.arange(1, n)).astype(np.int64)]
    return _finish(rng, n, parent, perm[1:], orient=orient, weighted=weighted, low=low, high=high,
                   connected=False)


def path(n: int, seed=0, *, orient: str | None = None, weighted: bool = False, low: float = 0.0,
         high: float = 1.0) -> SparseGraph:
    """The path 0 - 1 - ... - n-1 (``seed`` only draws weights / orientations)."""
    n, rng = _check_n(n), _rng(seed)
    u = np.arange(n - 1)
    return _finish(rng, n, u, u + 1, orient=orient, weighted=weighted, low=low, high=high, connected=False)


GENERATORS = {"er": er, "geometric": geometric, "grid": grid, "tree": tree, "path": path}

# How each algorithm's default inputs are drawn (as its dense CLRS sampler: direction, weights, source).
DEFAULTS = {
    "bfs": dict(source=True),
    "dfs": dict(orient="random"),
    "topological_sort": dict(orient="acyclic"),
    "articulation_points": dict(),
    "bridges": dict(),
    "strongly_connected_components": dict(orient="random"),
    "mst_kruskal": dict(weighted=True),
    "mst_prim": dict(weighted=True, source=True),
    "bellman_ford": dict(weighted=True, source=True),
    "dijkstra": dict(weighted=True, source=True),
    "dag_shortest_paths": dict(orient="acyclic", weighted=True, source=True),
    "fast_mis": dict(),
    "eccentricity": dict(source=True),
}


def sample_graph(family: str, n: int, seed=0, *, degree: float | None = None, orient: str | None = None,
                 weighted: bool = False, low: float = 0.0, high: float = 1.0, connected: bool = False,
                 drop: float = 0.0) -> SparseGraph:
    """A graph of ``family`` (one of :data:`FAMILIES`) with the options they share."""
    if family not in GENERATORS:
        raise InputError(f"sparse sampler: graph family must be one of {', '.join(FAMILIES)}, got {family!r}")
    common = dict(weighted=weighted, low=low, high=high)
    if family == "er":
        if orient not in (None, "random", "acyclic"):
            raise InputError(f"sparse sampler: orient must be None, 'random' or 'acyclic', got {orient!r}")
        return er(n, degree, seed, directed=orient is not None, acyclic=orient == "acyclic",
                  connected=connected, **common)
    if family == "geometric":
        return geometric(n, degree, seed, orient=orient, connected=connected, **common)
    if family == "grid":
        return grid(n, seed, drop=drop, orient=orient, connected=connected, **common)
    return GENERATORS[family](n, seed, orient=orient, **common)


def sample_inputs(name: str, n: int, seed=0, *, graph: str = "er", **options) -> dict:
    """The inputs of sparse algorithm ``name``: ``{"graph": SparseGraph}`` plus ``"source"`` (a uniform
    node) where the algorithm takes one; direction and weights as its dense CLRS sampler draws them.
    ``options`` go to :func:`sample_graph` (``degree``, ``connected``, ``low``, ``high``, ``drop``)."""
    from .trajectory import check_sparse

    check_sparse(name, DEFAULTS)
    rng = _rng(seed)
    kind = dict(DEFAULTS[name])
    source = kind.pop("source", False)
    g = sample_graph(graph, n, rng, **kind, **options)
    return {"graph": g, "source": int(rng.integers(g.n))} if source else {"graph": g}
