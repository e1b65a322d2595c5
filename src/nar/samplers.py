"""Random input distributions, and the CLRS-30 default sampler of every algorithm.

Every sampler is *bulk*: ``fn(rng, n, count, **options) -> list[dict]`` draws ``count`` samples
with vectorised numpy calls, each a dict of keyword arguments for :func:`nar.execute`
(:data:`BULK_SAMPLERS`).  The per-sample form ``SAMPLERS[name](rng, n, **options) -> dict`` is
the bulk sampler with ``count = 1``.  Defaults reproduce CLRS (``clrs/_src/samplers.py``, see
``shared/reference/clrs_specs.md``); the generalist paper's training distribution is available
through options (``p`` as a list of values drawn per graph, e.g. :data:`GENERALIST_P`;
``random_pos`` in :func:`nar.sample`).

Options are declared in :data:`OPTIONS` (kind and allowed range of each option of each sampler)
and validated once per request by :func:`check_options` / :func:`check_request`, which every
public entry point calls (``nar.sample``, ``nar.iter_samples``, the datasets, the split
generator); an unknown option or a value outside its range is an :class:`InputError` naming the
option, the value and what is allowed.  The sampler functions themselves trust their options.
Every float a sampler returns is float32-exact (see :mod:`nar.validation`): what is stored is
what the algorithm computed on.
"""
from __future__ import annotations

import difflib
import functools
import inspect
import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from .validation import FLOAT32_INT, InputError, to_float32_exact

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


def _check_p(p, key: str = "p") -> float | list[float]:
    """``p`` as a float, or as the list of values to draw from; anything else is an error."""
    arr = None
    if not isinstance(p, (str, bytes, bool, np.bool_, Mapping)) and p is not None:
        try:
            arr = np.asarray(p, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            arr = None
    if arr is None or arr.ndim > 1 or arr.size == 0 or not np.all((arr >= 0.0) & (arr <= 1.0)):
        raise InputError(f"sampler option {key} must be in [0, 1] (a probability, or a non-empty "
                         f"list of them), got {p!r}")
    return float(arr) if arr.ndim == 0 else arr.tolist()


def draw_ps(rng: Rng, p, count: int) -> float | np.ndarray:
    """The ER p of ``count`` graphs: ``p`` itself (a float, shared) or, for a sequence of values,
    a ``[count]`` array of values drawn uniformly from it, one per graph."""
    checked = _check_p(p)
    if isinstance(checked, float):
        return checked
    return np.asarray(checked)[rng.integers(len(checked), size=count)]


def draw_p(rng: Rng, p) -> float:
    """``p`` itself, or one value drawn uniformly from a sequence of them."""
    return float(np.asarray(draw_ps(rng, p, 1)).reshape(-1)[0])


def _per_graph(p, count: int):
    """``p`` (a probability, or ``[count]`` of them) broadcastable against ``[count, n, n]``."""
    return float(p) if np.ndim(p) == 0 else np.asarray(p, dtype=np.float64).reshape(count, 1, 1)


def _random_ranks(rng: Rng, count: int, n: int) -> np.ndarray:
    """``[count, n]``: per row, the position of each node in a uniformly random order.

    Permuting the nodes of a matrix of iid entries masked by ``mask[rank_i, rank_j]`` gives iid
    entries masked by ``mask`` of the permuted ranks, so the samplers mask by the ranks directly
    instead of gathering permuted matrices (the same law: CLRS's upper triangle, then a random
    node permutation)."""
    return np.argsort(rng.random((count, n)), axis=1)


_SLICE = 1 << 15  # matrix entries per vectorised step: big steps leave the CPU caches and run slower


def _slices(count: int, per_sample: int) -> list[slice]:
    """Consecutive slices of ``range(count)`` of about :data:`_SLICE` entries each."""
    step = max(1, _SLICE // max(per_sample, 1))
    return [slice(lo, min(lo + step, count)) for lo in range(0, count, step)]


def er_graphs(rng: Rng, n: int, p, count: int, *, directed: bool, acyclic: bool = False,
              weighted: bool = False, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """``[count, n, n]`` Erdos-Renyi adjacencies as CLRS draws them (see :func:`er_graph`); ``p`` is a
    float shared by all graphs or a ``[count]`` array of per-graph values."""
    if weighted and not directed and low < 0:
        raise InputError(f"sampler option low must be >= 0 for undirected weighted graphs "
                         f"(weights are sqrt(u_ij * u_ji + 1e-3)), got {low}")
    p = _per_graph(p, count)
    out = np.empty((count, n, n))
    for part in _slices(count, n * n):
        rows = part.stop - part.start
        edges = rng.random((rows, n, n)) < (p if isinstance(p, float) else p[part])
        if not directed:
            edges &= edges.transpose(0, 2, 1).copy()
        elif acyclic:  # the upper triangle in a random node order
            rank = _random_ranks(rng, rows, n)
            edges &= rank[:, :, None] < rank[:, None, :]
        mat = out[part]
        np.copyto(mat, edges)
        if weighted:
            w = uniform(rng, low, high, size=(rows, n, n))
            if not directed:
                w *= w.transpose(0, 2, 1).copy()
                w += 1e-3
                np.sqrt(w, out=w)
            mat *= w
            np.copyto(mat, mat.astype(np.float32))  # float32-exact, as stored
    return out


def er_graph(rng: Rng, n: int, p: float, *, directed: bool, acyclic: bool = False,
             weighted: bool = False, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Erdos-Renyi adjacency as CLRS draws it.

    Undirected: an edge needs both directed coin flips (so its probability is p^2); directed acyclic:
    upper triangle, then a random node permutation.  Self-loops may appear on the diagonal.
    Weights: U[low, high] for directed graphs, ``sqrt(u_ij * u_ji + 1e-3)`` for undirected ones.
    """
    return er_graphs(rng, n, float(p), 1, directed=directed, acyclic=acyclic, weighted=weighted,
                     low=low, high=high)[0]


def community_graphs(rng: Rng, n: int, count: int, *, k: int = 4, p=0.5, eps: float = 0.01) -> np.ndarray:
    """``[count, n, n]`` perturbed community digraphs (see :func:`community_graph`); ``p`` is a float
    or a ``[count]`` array of per-graph values."""
    if k > n:
        raise InputError(f"community graph: k={k} communities need n >= k nodes, got n={n}")
    bounds = [i * (n // k) for i in range(k)] + [n]
    block = np.zeros(n, dtype=np.int64)
    for i in range(k):
        block[bounds[i]:bounds[i + 1]] = i
    p = _per_graph(p, count)
    out = np.empty((count, n, n))
    for part in _slices(count, n * n):
        rows = part.stop - part.start
        mat = rng.random((rows, n, n)) < (p if isinstance(p, float) else p[part])
        toggle = rng.random((rows, n, n)) < eps
        blk = block[_random_ranks(rng, rows, n)]  # community of each node, nodes in a random order
        bi, bj = blk[:, :, None], blk[:, None, :]
        mat &= bi == bj
        mat ^= toggle & (bi <= bj)  # toggles, except from a community to an earlier one
        np.copyto(out[part], mat)
    return out


def community_graph(rng: Rng, n: int, *, k: int = 4, p: float = 0.5, eps: float = 0.01) -> np.ndarray:
    """CLRS's perturbed k-community digraph: blocks of n//k nodes (the last takes the rest), each a
    directed ER(p) graph; then every entry is toggled with probability eps, except from a community
    to an earlier one (so no cycle crosses communities); then a random node permutation."""
    return community_graphs(rng, n, 1, k=k, p=float(p), eps=eps)[0]


def _orient(ax, ay, bx, by, cx, cy):
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


def _segments_cross(xs, ys):
    """Whether segment (0,1) meets segment (2,3) (closed segments, general position); ``xs``, ``ys``
    index the four endpoints on their first axis (scalars, or arrays for many segment pairs)."""
    d1 = _orient(xs[2], ys[2], xs[3], ys[3], xs[0], ys[0])
    d2 = _orient(xs[2], ys[2], xs[3], ys[3], xs[1], ys[1])
    d3 = _orient(xs[0], ys[0], xs[1], ys[1], xs[2], ys[2])
    d4 = _orient(xs[0], ys[0], xs[1], ys[1], xs[3], ys[3])
    return (d1 * d2 <= 0) & (d3 * d4 <= 0)


_TRIPLES: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _triples(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays (i, j, k) of every triple i < j < k (cached per n)."""
    t = _TRIPLES.get(n)
    if t is None:
        i, j, k = np.nonzero(np.triu(np.ones((n, n), bool), 1)[:, :, None] & np.triu(np.ones((n, n), bool), 1)[None])
        t = _TRIPLES[n] = (i, j, k)
    return t


def _collinear_exact(xs: np.ndarray, ys: np.ndarray, tol: float) -> np.ndarray:
    """``[count]``: whether some triple i < j < k of a row's points has |cross| < tol, where
    cross = (x_j - x_i)(y_k - y_i) - (y_j - y_i)(x_k - x_i)."""
    i, j, k = _triples(xs.shape[1])
    bad = np.zeros(len(xs), dtype=bool)
    step = max(1, (1 << 20) // max(len(i), 1))  # rows per slice: ~1M cross products at a time
    for lo in range(0, len(xs), step):
        x, y = xs[lo:lo + step], ys[lo:lo + step]
        xi, yi = np.take(x, i, axis=1), np.take(y, i, axis=1)
        cross = ((np.take(x, j, axis=1) - xi) * (np.take(y, k, axis=1) - yi)
                 - (np.take(y, j, axis=1) - yi) * (np.take(x, k, axis=1) - xi))
        bad[lo:lo + step] = np.any(np.abs(cross) < tol, axis=1)
    return bad


def _has_collinear_triple(xs: np.ndarray, ys: np.ndarray, tol: float) -> np.ndarray:
    """``[count]``: :func:`_collinear_exact`, computed exactly only for the rows a cheap O(n^2 log n)
    filter cannot clear.  With r_i the distance from point i to its nearest neighbour,
    |cross(i, j, k)| = |p_j - p_i| |p_k - p_i| |sin(a_ij - a_ik)| < tol implies that the directions
    a_ij, a_ik differ modulo pi by less than asin(tol / r_i^2) <= (pi / 2) tol / r_i^2; then two
    neighbours in the circular order of the directions seen from i are as close.  Rows where no
    point sees two directions that close (with a margin for rounding) have no collinear triple."""
    count, n = xs.shape
    maybe = np.zeros(count, dtype=bool)
    diag = np.eye(n, dtype=bool)
    for part in _slices(count, 8 * n * n):
        x, y = xs[part], ys[part]
        dx = x[:, None, :] - x[:, :, None]  # [b, i, j] = x_j - x_i
        dy = y[:, None, :] - y[:, :, None]
        d2 = dx * dx + dy * dy
        d2[:, diag] = np.inf
        r2 = d2.min(axis=2)  # [b, i]: squared distance to the nearest other point
        with np.errstate(divide="ignore"):
            limit = 2 * tol / r2 + 1e-12 / np.sqrt(r2) + 1e-12  # inf where two points coincide
        ang = np.arctan2(dy, dx)  # in [-pi, pi]; then modulo pi, in [0, pi] (pi and 0 are neighbours)
        ang += np.where(ang < 0, np.pi, 0.0)
        ang[:, diag] = np.inf  # a point has no direction to itself: sorted last, then dropped
        ang = np.sort(ang, axis=2)[:, :, :n - 1]
        gaps = np.minimum(np.diff(ang, axis=2).min(axis=2, initial=np.pi),
                          ang[:, :, 0] + np.pi - ang[:, :, -1])  # [b, i], the circular gap too
        maybe[part] = (gaps < limit).any(axis=1)
    bad = np.zeros(count, dtype=bool)
    if maybe.any():
        bad[maybe] = _collinear_exact(xs[maybe], ys[maybe], tol)
    return bad


def points_in_disks(rng: Rng, n: int, count: int, radius: float = 2.0,
                    tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """``[count, n]`` xs and ys: per row, ``n`` points uniform in a disk, the row redrawn while any
    three of its points are collinear (|cross| < tol), as CLRS (only rejected rows are redrawn)."""
    def draw(rows: int):
        t = uniform(rng, 0.0, 2 * np.pi, size=(rows, n))
        r = radius * np.sqrt(uniform(rng, 0.0, 1.0, size=(rows, n)))
        # float32-exact before the collinearity test, so the stored points pass it
        return to_float32_exact(r * np.cos(t)), to_float32_exact(r * np.sin(t))

    xs, ys = draw(count)
    if n < 3:
        return xs, ys
    todo = np.arange(count)
    for _ in range(1000):
        bad = _has_collinear_triple(xs[todo], ys[todo], tol)
        todo = todo[bad]
        if not len(todo):
            return xs, ys
        xs[todo], ys[todo] = draw(len(todo))
    raise InputError(f"could not draw {n} points without collinear triples in 1000 attempts")


def points_in_disk(rng: Rng, n: int, radius: float = 2.0, tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform in a disk, redrawn while any three are collinear (|cross| < tol), as CLRS."""
    xs, ys = points_in_disks(rng, n, 1, radius, tol)
    return xs[0], ys[0]


# ----------------------------------------------------------------------------- CLRS defaults
# Each returns ``count`` dicts; the arrays of a dict are rows of the chunk's arrays.
def uniform32(rng: Rng, low: float, high: float, size=None):
    """:func:`uniform` rounded to float32 values (as float64): within [low, high] when both are
    float32 values (rounding is monotone), as :func:`check_options` makes them."""
    return to_float32_exact(uniform(rng, low, high, size))


def sorting(rng: Rng, n: int, count: int, *, low: float = 0.0, high: float = 1.0) -> list[dict]:
    return [{"A": a} for a in uniform32(rng, low, high, size=(count, n))]


def searching(rng: Rng, n: int, count: int, *, low: float = 0.0, high: float = 1.0) -> list[dict]:
    xs = uniform32(rng, low, high, size=count).tolist()
    arrays = np.sort(uniform32(rng, low, high, size=(count, n)), axis=1)
    return [{"x": x, "A": a} for x, a in zip(xs, arrays)]


def max_subarray(rng: Rng, n: int, count: int, *, low: float = -1.0, high: float = 1.0) -> list[dict]:
    return [{"A": a} for a in uniform32(rng, low, high, size=(count, n))]


def matrix_chain(rng: Rng, n: int, count: int, *, low: float = 0.0, high: float = 1.0) -> list[dict]:
    return [{"p": a} for a in uniform32(rng, low, high, size=(count, n))]


def lcs(rng: Rng, n: int, count: int, *, chars: int = 4) -> list[dict]:
    _need(n, 2, "lcs_length")
    m = n // 2
    xs, ys = rng.integers(0, chars, size=(count, n - m)), rng.integers(0, chars, size=(count, m))
    return [{"x": x, "y": y} for x, y in zip(xs, ys)]


def optimal_bst(rng: Rng, n: int, count: int) -> list[dict]:
    arr = uniform(rng, 0.0, 1.0, size=(count, 2 * n + 1))
    arr /= arr.sum(axis=1, keepdims=True)
    arr = to_float32_exact(arr)  # sums to 1 up to float32 rounding, as stored
    return [{"p": a[:n], "q": a[n:]} for a in arr]


def activity(rng: Rng, n: int, count: int, *, low: float = 0.0, high: float = 1.0) -> list[dict]:
    a, b = uniform32(rng, low, high, size=(count, n)), uniform32(rng, low, high, size=(count, n))
    return [{"s": s, "f": f} for s, f in zip(np.minimum(a, b), np.maximum(a, b))]


def task(rng: Rng, n: int, count: int, *, max_deadline: int | None = None, low: float = 0.0,
         high: float = 1.0) -> list[dict]:
    md = n if max_deadline is None else max_deadline
    ds = rng.integers(0, md, size=(count, n)) + 1
    ws = uniform32(rng, low, high, size=(count, n))
    return [{"d": d, "w": w} for d, w in zip(ds, ws)]


def _graph(directed, acyclic=False, weighted=False, p_default=0.5, source=False):
    """An ER graph sampler; only weighted graphs take the weight range ``low``, ``high``."""
    def draw(rng: Rng, n: int, count: int, p, low: float = 0.0, high: float = 1.0) -> list[dict]:
        mats = er_graphs(rng, n, draw_ps(rng, p, count), count, directed=directed, acyclic=acyclic,
                         weighted=weighted, low=low, high=high)
        if not source:
            return [{"A": A} for A in mats]
        return [{"A": A, "s": s} for A, s in zip(mats, rng.integers(n, size=count).tolist())]

    if weighted:
        def sampler(rng: Rng, n: int, count: int, *, p=p_default, low: float = 0.0,
                    high: float = 1.0) -> list[dict]:
            return draw(rng, n, count, p, low, high)
    else:
        def sampler(rng: Rng, n: int, count: int, *, p=p_default) -> list[dict]:
            return draw(rng, n, count, p)
    return sampler


def scc(rng: Rng, n: int, count: int, *, k: int = 4, p=0.5, eps: float = 0.01) -> list[dict]:
    """CLRS SccSampler; below n = k nodes (where CLRS fails) it uses n communities of one node."""
    if k < 1:
        raise InputError(f"sampler option k must be >= 1, got {k}")
    mats = community_graphs(rng, n, count, k=min(k, n), p=draw_ps(rng, p, count), eps=eps)
    return [{"A": A} for A in mats]


def matcher(rng: Rng, n: int, count: int, *, length_needle: int | None = None, chars: int = 4) -> list[dict]:
    """Needle of length n//5 (or ``length_needle``; negative -k: uniform in 1..k per sample) embedded
    once in a haystack of length n - needle, so the nodes number n in all.  :func:`check_options`
    keeps needles in 1..n//2, so the needle fits in the haystack."""
    _need(n, 2, "string matchers")
    if length_needle is None:
        ms = np.full(count, 1 if n < 5 else n // 5)
    elif length_needle < 0:
        ms = rng.integers(1, -length_needle + 1, size=count)
    else:
        ms = np.full(count, length_needle)
    # check_options rejects needles beyond n // 2; direct calls of this trusting function are clipped
    ms = np.clip(ms, 1, max(1, n // 2))
    letters = rng.integers(0, chars, size=(count, n))  # per row: the needle, then the haystack
    # CLRS draws the start from [0, len(hay) - m), so the needle never ends the haystack; we allow
    # the last start only when there is no other (n = 2, 3), where CLRS fails.
    starts = rng.integers(np.maximum(1, n - 2 * ms))
    out: list[dict | None] = [None] * count
    for m in np.unique(ms).tolist():
        rows = np.flatnonzero(ms == m)
        needles = letters[rows, :m]
        hays = letters[rows, m:]  # a copy (fancy indexing)
        cols = starts[rows, None] + np.arange(m)
        hays[np.arange(len(rows))[:, None], cols] = needles
        for r, hay, needle in zip(rows.tolist(), hays, needles):
            out[r] = {"T": hay, "P": needle}
    return out


def segments(rng: Rng, n: int, count: int, *, low: float = 0.0, high: float = 1.0) -> list[dict]:
    """Four endpoints U[low, high]^2, rejection-sampled so the segments meet with probability 1/2
    (a fair coin per sample, then only the rows that missed it are redrawn).
    ``n`` is ignored (always 4 nodes)."""
    want = rng.random(count) < 0.5
    xy = uniform32(rng, low, high, size=(count, 8))  # per row: xs = 4 values, then ys = 4 values
    todo = np.arange(count)
    for _ in range(100_000):
        rows = xy[todo]
        todo = todo[_segments_cross(rows[:, :4].T, rows[:, 4:].T) != want[todo]]
        if not len(todo):
            return [{"xs": r[:4], "ys": r[4:]} for r in xy]
        xy[todo] = uniform32(rng, low, high, size=(len(todo), 8))
    raise InputError(f"could not draw segments that {'meet' if want[todo[0]] else 'miss'} for "
                     f"low={low}, high={high}")


def convex_hull(rng: Rng, n: int, count: int, *, radius: float = 2.0) -> list[dict]:
    xs, ys = points_in_disks(rng, n, count, radius)
    return [{"xs": x, "ys": y} for x, y in zip(xs, ys)]


def _need(n: int, least: int, what: str) -> None:
    if n < least:
        raise InputError(f"{what} needs n >= {least} nodes, got n={n}")


BULK_SAMPLERS: dict[str, Callable[..., list[dict]]] = {
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


def _one_at_a_time(bulk: Callable[..., list[dict]]) -> Callable[..., dict]:
    """``fn(rng, n, **options) -> dict``: the bulk sampler ``bulk`` drawing one sample."""
    @functools.wraps(bulk)
    def one(rng: Rng, n: int, **options) -> dict:
        return bulk(rng, n, 1, **options)[0]
    sig = inspect.signature(bulk)
    one.__signature__ = sig.replace(parameters=[p for p in sig.parameters.values() if p.name != "count"],
                                    return_annotation=dict)
    one.bulk = bulk
    return one


# Per-sample samplers: ``SAMPLERS[name](rng, n, **options) -> dict`` (``bulk`` with count = 1).
SAMPLERS: dict[str, Callable[..., dict]] = {name: _one_at_a_time(fn) for name, fn in BULK_SAMPLERS.items()}

# Smallest n each default sampler accepts (two strings need a character each).
MIN_NODES = {"lcs_length": 2, "naive_string_matcher": 2, "kmp_matcher": 2}

# Algorithms whose ER p is halved in the generalist training distribution (CLRS run.py).
HALVED_P_ALGOS = frozenset({"articulation_points", "bridges", "mst_kruskal"})


# ----------------------------------------------------------------------------- options
VALUE_BOUND = 1e6  # |low|, |high|: sums over n and products of 3 drawn values stay finite in float32


@dataclass(frozen=True)
class Option:
    """One sampler option: ``kind`` ('real', 'int', 'prob': a probability or a non-empty list of
    them, 'needle': a needle length m or -k for uniform in 1..k, with m, k in 1..n//2), the closed
    range ``[low, high]`` of its values, and whether ``None`` (the default rule) is allowed."""

    kind: str
    low: float = -math.inf
    high: float = math.inf
    none_ok: bool = False

    def allowed(self) -> str:
        if self.kind == "prob":
            return "in [0, 1] (a probability, or a non-empty list of them)"
        if self.kind == "needle":
            return "a needle length m or -k (length uniform in 1..k), with 1 <= m, k <= n // 2, or None"
        what = "an integer" if self.kind == "int" else "a number"
        none = ", or None" if self.none_ok else ""
        return f">= {self.low:g} and <= {self.high:g} ({what}{none})"


@dataclass(frozen=True)
class SamplerOptions:
    """The options of one sampler; ``min_values``: how many float32 values ``[low, high]`` must
    hold at least (more than 1 where draws must differ, e.g. to make segments miss)."""

    options: Mapping[str, Option]
    min_values: int = 1


_REAL = Option("real", -VALUE_BOUND, VALUE_BOUND)
_NONNEG = Option("real", 0.0, VALUE_BOUND)
_PROB = Option("prob", 0.0, 1.0)
_CHARS = Option("int", 1, 4)  # the CLRS alphabet: the ``key`` categorical has 4 classes
_RANGE = SamplerOptions({"low": _REAL, "high": _REAL})
_GRAPH = SamplerOptions({"p": _PROB})
_WEIGHTED = SamplerOptions({"p": _PROB, "low": _REAL, "high": _REAL})
_UNDIRECTED_WEIGHTED = SamplerOptions({"p": _PROB, "low": _NONNEG, "high": _NONNEG})  # sqrt(u v + 1e-3)
_MATCHER = SamplerOptions({"length_needle": Option("needle", none_ok=True), "chars": _CHARS})

# Every sampler's options, their kinds and allowed ranges: the one table check_options reads.
OPTIONS: dict[str, SamplerOptions] = {
    **{name: _RANGE for name in ("insertion_sort", "bubble_sort", "heapsort", "quicksort", "minimum",
                                 "quickselect", "binary_search", "find_maximum_subarray_kadane",
                                 "activity_selector")},
    "task_scheduling": SamplerOptions({"max_deadline": Option("int", 1, FLOAT32_INT, none_ok=True),
                                       "low": _REAL, "high": _REAL}),
    "matrix_chain_order": SamplerOptions({"low": _NONNEG, "high": _NONNEG}),
    "lcs_length": SamplerOptions({"chars": _CHARS}),
    "optimal_bst": SamplerOptions({}),
    **{name: _GRAPH for name in ("dfs", "bfs", "topological_sort", "articulation_points", "bridges")},
    "strongly_connected_components": SamplerOptions({"k": Option("int", 1, FLOAT32_INT), "p": _PROB,
                                                     "eps": _PROB}),
    **{name: _UNDIRECTED_WEIGHTED for name in ("mst_kruskal", "mst_prim", "bellman_ford", "dijkstra",
                                               "floyd_warshall")},
    "dag_shortest_paths": _WEIGHTED,
    "naive_string_matcher": _MATCHER, "kmp_matcher": _MATCHER,
    "segments_intersect": SamplerOptions({"low": _REAL, "high": _REAL}, min_values=1 << 14),
    **{name: SamplerOptions({"radius": Option("real", 1e-3, VALUE_BOUND)})
       for name in ("graham_scan", "jarvis_march")},
}


def _table(name) -> SamplerOptions:
    table = OPTIONS.get(name) if isinstance(name, str) else None
    if table is None:
        from .algorithms.registry import unknown_name_error
        raise unknown_name_error(name)
    return table


def sampler_options(name: str) -> tuple[str, ...]:
    """The option names the sampler of ``name`` accepts (besides ``random_pos``)."""
    return tuple(_table(name).options)


@functools.lru_cache(maxsize=None)
def _defaults(name: str) -> dict:
    """The default value of each option of the sampler of ``name``."""
    return {k: p.default for k, p in inspect.signature(BULK_SAMPLERS[name]).parameters.items()
            if p.kind == inspect.Parameter.KEYWORD_ONLY}


def _float32_ordinal(x: float) -> int:
    """Position of float32 ``x`` in the ordered float32 values (consecutive values differ by 1)."""
    bits = int(np.float32(x).view(np.uint32))
    return -(bits & 0x7FFFFFFF) if bits & 0x80000000 else bits


def _check_value(name: str, key: str, opt: Option, value, n: int | None):
    """``value`` normalised (reals rounded to float32), or an InputError naming the option."""
    if value is None and (opt.none_ok or opt.kind == "needle"):
        return None
    if opt.kind == "prob":
        try:
            return _check_p(value, key)
        except InputError as err:
            raise InputError(f"{name}: {err}") from None
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    integral = isinstance(value, (int, np.integer)) and number
    ok = integral if opt.kind in ("int", "needle") else number
    if ok:
        v = int(value) if integral else float(value)
        if opt.kind == "needle":
            ok = v != 0 and (n is None or abs(v) <= n // 2)
        else:
            ok = math.isfinite(v) and opt.low <= v <= opt.high
    if not ok:
        at = f" at n={n}" if opt.kind == "needle" and n is not None else ""
        raise InputError(f"{name}: sampler option {key} must be {opt.allowed()}{at}, got {value!r}")
    return float(np.float32(v)) if opt.kind == "real" else v


def check_options(name: str, options: Mapping, n: int | None = None) -> dict:
    """Validate sampler ``options`` of ``name`` against :data:`OPTIONS` (and ``random_pos``, a
    bool); returns them normalised: reals rounded to float32 values, ``p`` a float or a list.
    ``n``: the node count, for the rules that depend on it (needle lengths); None skips them."""
    table = _table(name)
    allowed = tuple(table.options)
    unknown = sorted(set(options) - set(allowed) - {"random_pos"})
    if unknown:
        close = sorted({m for k in unknown for m in difflib.get_close_matches(str(k), allowed + ("random_pos",))})
        hint = f"; did you mean {close}?" if close else ""
        raise InputError(f"unknown sampler option(s) {unknown} for {name}; allowed: {list(allowed)} "
                         f"(and random_pos){hint}")
    out = {}
    for key, value in options.items():
        if key == "random_pos":
            out[key] = check_bool("random_pos", value)
        else:
            out[key] = _check_value(name, key, table.options[key], value, n)
    if "low" in table.options:
        low, high = out.get("low", _defaults(name)["low"]), out.get("high", _defaults(name)["high"])
        if low > high:
            raise InputError(f"{name}: sampler options need low <= high, got low={low!r}, high={high!r}")
        if _float32_ordinal(high) - _float32_ordinal(low) + 1 < table.min_values:
            raise InputError(f"{name}: sampler options low={low!r}, high={high!r} span too few float32 "
                             f"values (need {table.min_values}: a wider range)")
    return out


def check_int(arg: str, value, least: int) -> int:
    """An integer (not a bool) >= ``least``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < least:
        kind = "a positive integer" if least == 1 else f"an integer >= {least}"
        raise InputError(f"{arg} must be {kind}, got {value!r}")
    return int(value)


def check_bool(arg: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{arg} must be True or False, got {value!r}")
    return bool(value)


def check_request(name: str, n, count, seed, random_pos, options: Mapping) -> tuple[int, int, int, bool, dict]:
    """Everything a sampling call is given, validated once, up front: ``n`` (>= the sampler's
    minimum), ``count`` (>= 1), ``seed`` (an integer >= 0), ``random_pos`` (a bool) and the
    sampler options (:func:`check_options`).  Returns them normalised."""
    n = check_int("n", n, 1)
    count = check_int("count", count, 1)
    seed = check_int("seed", seed, 0)
    random_pos = check_bool("random_pos", random_pos)
    options = check_options(name, options, n)
    need = MIN_NODES.get(name, 1)
    if n < need:
        raise InputError(f"{name} needs n >= {need} nodes, got n={n}")
    return n, count, seed, random_pos, options


def generalist_p(name: str) -> Sequence[float]:
    """The generalist paper's per-graph ER p values for ``name`` (halved where CLRS halves them)."""
    return tuple(v / 2 for v in GENERALIST_P) if name in HALVED_P_ALGOS else GENERALIST_P
