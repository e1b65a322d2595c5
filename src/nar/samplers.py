"""Random input distributions, and the CLRS-30 default sampler of every algorithm.

A sampler is ``fn(rng, n, **options) -> dict`` of keyword arguments for :func:`nar.execute`.
Defaults reproduce CLRS (``clrs/_src/samplers.py``, see ``shared/reference/clrs_specs.md``); the
generalist paper's training distribution is available through options (``p`` as a list of values
drawn per graph, e.g. :data:`GENERALIST_P`; ``random_pos`` in :func:`nar.sample`).  Options are
never silent: an unknown option is an error.
"""
from __future__ import annotations

import inspect
from typing import Callable, Sequence

import numpy as np

from .validation import InputError

Rng = np.random.Generator
GENERALIST_P = tuple(np.round(np.linspace(0.1, 0.9, 9), 2))  # ER p per graph (Ibarz et al. 2022)
GENERALIST_SIZES = (4, 7, 11, 13, 16)


# ----------------------------------------------------------------------------- primitives
def uniform(rng: Rng, low: float, high: float, size=None):
    """``rng.uniform(low, high, size)``, bit for bit (numpy computes ``low + (high - low) * u`` from
    the same doubles), at half its cost: ``Generator.uniform`` spends more on argument handling
    than on drawing for the small sizes used here."""
    return low + (high - low) * rng.random(size)


_UPPER: dict[int, np.ndarray] = {}


def upper_triangle(n: int) -> np.ndarray:
    """Float ``[n, n]`` mask of the entries above the diagonal (cached; ``np.triu`` is slow)."""
    mask = _UPPER.get(n)
    if mask is None:
        mask = _UPPER[n] = np.triu(np.ones((n, n)), k=1)
        mask.flags.writeable = False
    return mask


def draw_p(rng: Rng, p) -> float:
    """``p`` itself, or one value drawn uniformly from a sequence of them."""
    if isinstance(p, (int, float, np.floating)):
        if not 0.0 <= p <= 1.0:
            raise InputError(f"sampler option p must be in [0, 1], got {p}")
        return float(p)
    values = list(p)
    if not values or not all(0.0 <= v <= 1.0 for v in values):
        raise InputError(f"sampler option p must be a probability or a list of them, got {p!r}")
    return float(values[rng.integers(len(values))])


def er_graph(rng: Rng, n: int, p: float, *, directed: bool, acyclic: bool = False,
             weighted: bool = False, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Erdos-Renyi adjacency as CLRS draws it.

    Undirected: an edge needs both directed coin flips (so its probability is p^2); directed acyclic:
    upper triangle, then a random node permutation.  Self-loops may appear on the diagonal.
    Weights: U[low, high] for directed graphs, ``sqrt(u_ij * u_ji + 1e-3)`` for undirected ones.
    """
    mat = (rng.random((n, n)) < p).astype(np.float64)
    if not directed:
        mat *= mat.T
    elif acyclic:
        mat *= upper_triangle(n)
        perm = rng.permutation(n)
        mat = mat[perm][:, perm]
    if weighted:
        if not directed and low < 0:
            raise InputError(f"sampler option low must be >= 0 for undirected weighted graphs "
                             f"(weights are sqrt(u_ij * u_ji + 1e-3)), got {low}")
        w = uniform(rng, low, high, size=(n, n))
        if not directed:
            w = np.sqrt(w * w.T + 1e-3)
        mat = mat * w
    return mat


def community_graph(rng: Rng, n: int, *, k: int = 4, p: float = 0.5, eps: float = 0.01) -> np.ndarray:
    """CLRS's perturbed k-community digraph: blocks of n//k nodes (the last takes the rest), each a
    directed ER(p) graph; then every entry is toggled with probability eps, except from a community
    to an earlier one (so no cycle crosses communities); then a random node permutation."""
    if k > n:
        raise InputError(f"community graph: k={k} communities need n >= k nodes, got n={n}")
    bounds = [i * (n // k) for i in range(k)] + [n]
    block = np.zeros(n, dtype=np.int64)
    for i in range(k):
        block[bounds[i]:bounds[i + 1]] = i
    mat = np.zeros((n, n))
    for i in range(k):
        lo, hi = bounds[i], bounds[i + 1]
        mat[lo:hi, lo:hi] = rng.random((hi - lo, hi - lo)) < p
    toggle = (rng.random((n, n)) < eps) & (block[:, None] <= block[None, :])
    mat = np.where(toggle, 1.0 - mat, mat)
    perm = rng.permutation(n)
    return mat[perm][:, perm]


def random_string(rng: Rng, length: int, chars: int = 4) -> np.ndarray:
    return rng.integers(0, chars, size=length)


def _orient(ax, ay, bx, by, cx, cy):
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


def _segments_cross(xs, ys) -> bool:
    """Whether segment (0,1) meets segment (2,3) (closed segments, general position)."""
    d1 = _orient(xs[2], ys[2], xs[3], ys[3], xs[0], ys[0])
    d2 = _orient(xs[2], ys[2], xs[3], ys[3], xs[1], ys[1])
    d3 = _orient(xs[0], ys[0], xs[1], ys[1], xs[2], ys[2])
    d4 = _orient(xs[0], ys[0], xs[1], ys[1], xs[3], ys[3])
    return (d1 * d2 <= 0) and (d3 * d4 <= 0)


_ORDERED_TRIPLES: dict[int, np.ndarray] = {}


def _ordered_triples(n: int) -> np.ndarray:
    """Boolean ``[n, n, n]`` mask of index triples i < j < k (cached per n)."""
    mask = _ORDERED_TRIPLES.get(n)
    if mask is None:
        i = np.arange(n)
        mask = _ORDERED_TRIPLES[n] = (i[:, None, None] < i[None, :, None]) & (i[None, :, None] < i[None, None, :])
    return mask


def points_in_disk(rng: Rng, n: int, radius: float = 2.0, tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform in a disk, redrawn while any three are collinear (|cross| < tol), as CLRS."""
    for _ in range(1000):
        t = uniform(rng, 0.0, 2 * np.pi, size=n)
        r = radius * np.sqrt(uniform(rng, 0.0, 1.0, size=n))
        xs, ys = r * np.cos(t), r * np.sin(t)
        if n < 3:
            return xs, ys
        dx = xs[None, :] - xs[:, None]  # [i, j] = x_j - x_i
        dy = ys[None, :] - ys[:, None]
        cross = dx[:, :, None] * dy[:, None, :] - dy[:, :, None] * dx[:, None, :]  # [i, j, k]
        if not np.any((np.abs(cross) < tol) & _ordered_triples(n)):
            return xs, ys
    raise InputError(f"could not draw {n} points without collinear triples in 1000 attempts")


# ----------------------------------------------------------------------------- CLRS defaults
def sorting(rng: Rng, n: int, *, low: float = 0.0, high: float = 1.0) -> dict:
    return {"A": uniform(rng, low, high, size=n)}


def searching(rng: Rng, n: int, *, low: float = 0.0, high: float = 1.0) -> dict:
    return {"x": float(uniform(rng, low, high)), "A": np.sort(uniform(rng, low, high, size=n))}


def max_subarray(rng: Rng, n: int, *, low: float = -1.0, high: float = 1.0) -> dict:
    return {"A": uniform(rng, low, high, size=n)}


def matrix_chain(rng: Rng, n: int, *, low: float = 0.0, high: float = 1.0) -> dict:
    return {"p": uniform(rng, low, high, size=n)}


def lcs(rng: Rng, n: int, *, chars: int = 4) -> dict:
    _need(n, 2, "lcs_length")
    m = n // 2
    return {"x": random_string(rng, n - m, chars), "y": random_string(rng, m, chars)}


def optimal_bst(rng: Rng, n: int) -> dict:
    arr = uniform(rng, 0.0, 1.0, size=2 * n + 1)
    arr /= arr.sum()
    return {"p": arr[:n], "q": arr[n:]}


def activity(rng: Rng, n: int, *, low: float = 0.0, high: float = 1.0) -> dict:
    a, b = uniform(rng, low, high, size=n), uniform(rng, low, high, size=n)
    return {"s": np.minimum(a, b), "f": np.maximum(a, b)}


def task(rng: Rng, n: int, *, max_deadline: int | None = None, low: float = 0.0, high: float = 1.0) -> dict:
    md = n if max_deadline is None else max_deadline
    return {"d": random_string(rng, n, md) + 1, "w": uniform(rng, low, high, size=n)}


def _graph(directed, acyclic=False, weighted=False, p_default=0.5, source=False):
    def sampler(rng: Rng, n: int, *, p=p_default, low: float = 0.0, high: float = 1.0) -> dict:
        A = er_graph(rng, n, draw_p(rng, p), directed=directed, acyclic=acyclic,
                     weighted=weighted, low=low, high=high)
        out = {"A": A}
        if source:
            out["s"] = int(rng.integers(n))
        return out
    return sampler


def scc(rng: Rng, n: int, *, k: int = 4, p=0.5, eps: float = 0.01) -> dict:
    """CLRS SccSampler; below n = k nodes (where CLRS fails) it uses n communities of one node."""
    if k < 1:
        raise InputError(f"sampler option k must be >= 1, got {k}")
    return {"A": community_graph(rng, n, k=min(k, n), p=draw_p(rng, p), eps=eps)}


def matcher(rng: Rng, n: int, *, length_needle: int | None = None, chars: int = 4) -> dict:
    """Needle of length n//5 (or ``length_needle``; negative -k: uniform in 1..k) embedded once in
    a haystack of length n - needle, so the nodes number n in all."""
    _need(n, 2, "string matchers")
    if length_needle is None:
        m = 1 if n < 5 else n // 5
    elif length_needle < 0:
        m = int(rng.integers(1, -length_needle + 1))
    else:
        m = length_needle
    m = max(1, min(m, n // 2))  # the needle must fit in the haystack
    needle = random_string(rng, m, chars)
    hay = random_string(rng, n - m, chars)
    # CLRS draws the start from [0, len(hay) - m), so the needle never ends the haystack; we allow
    # the last start only when there is no other (n = 2, 3), where CLRS fails.
    at = int(rng.integers(max(1, (n - m) - m)))
    hay[at:at + m] = needle
    return {"T": hay, "P": needle}


def segments(rng: Rng, n: int, *, low: float = 0.0, high: float = 1.0) -> dict:
    """Four endpoints U[low, high]^2, rejection-sampled so the segments meet with probability 1/2.
    ``n`` is ignored (always 4 nodes)."""
    want = bool(rng.random() < 0.5)
    while True:
        xy = uniform(rng, low, high, size=8)  # the same stream as xs = 4 draws, then ys = 4 draws
        if _segments_cross(*xy.reshape(2, 4).tolist()) == want:
            return {"xs": xy[:4], "ys": xy[4:]}


def convex_hull(rng: Rng, n: int, *, radius: float = 2.0) -> dict:
    xs, ys = points_in_disk(rng, n, radius)
    return {"xs": xs, "ys": ys}


def _need(n: int, least: int, what: str) -> None:
    if n < least:
        raise InputError(f"{what} needs n >= {least} nodes, got n={n}")


SAMPLERS: dict[str, Callable[..., dict]] = {
    "insertion_sort": sorting, "bubble_sort": sorting, "heapsort": sorting, "quicksort": sorting,
    "minimum": sorting, "quickselect": sorting, "binary_search": searching,
    "find_maximum_subarray_kadane": max_subarray,
    "activity_selector": activity, "task_scheduling": task,
    "matrix_chain_order": matrix_chain, "lcs_length": lcs, "optimal_bst": optimal_bst,
    "dfs": _graph(directed=True),
    "bfs": _graph(directed=False, source=True),
    "topological_sort": _graph(directed=True, acyclic=True),
    "articulation_points": _graph(directed=False, p_default=0.2),
    "bridges": _graph(directed=False, p_default=0.2),
    "strongly_connected_components": scc,
    "mst_kruskal": _graph(directed=False, weighted=True, p_default=0.2),
    "mst_prim": _graph(directed=False, weighted=True, source=True),
    "bellman_ford": _graph(directed=False, weighted=True, source=True),
    "dijkstra": _graph(directed=False, weighted=True, source=True),
    "dag_shortest_paths": _graph(directed=True, acyclic=True, weighted=True, source=True),
    "floyd_warshall": _graph(directed=False, weighted=True),
    "naive_string_matcher": matcher, "kmp_matcher": matcher,
    "segments_intersect": segments, "graham_scan": convex_hull, "jarvis_march": convex_hull,
}

# Smallest n each default sampler accepts (two strings need a character each).
MIN_NODES = {"lcs_length": 2, "naive_string_matcher": 2, "kmp_matcher": 2}

# Algorithms whose ER p is halved in the generalist training distribution (CLRS run.py).
HALVED_P_ALGOS = frozenset({"articulation_points", "bridges", "mst_kruskal"})


def sampler_options(name: str) -> tuple[str, ...]:
    """The option names the sampler of ``name`` accepts."""
    return tuple(k for k, p in inspect.signature(SAMPLERS[name]).parameters.items()
                 if p.kind == inspect.Parameter.KEYWORD_ONLY)


def check_options(name: str, options: dict) -> None:
    allowed = sampler_options(name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InputError(f"unknown sampler option(s) {unknown} for {name}; allowed: {list(allowed)} "
                         f"(and random_pos)")


def generalist_p(name: str) -> Sequence[float]:
    """The generalist paper's per-graph ER p values for ``name`` (halved where CLRS halves them)."""
    return tuple(v / 2 for v in GENERALIST_P) if name in HALVED_P_ALGOS else GENERALIST_P
