"""CLRS-30 dynamic programming algorithms (CLRS ch. 15), traced with :class:`nar.trace.Tracer`.

Tables live on edges: entry ``(i, j)`` of an ``n x n`` table is the edge from node ``i`` to node
``j``; table pointers (split points, roots) point at nodes.  ``pred_h`` is the constant array-order
chain of the nodes (for ``lcs_length``: one chain per string).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..trace import Tracer, Trajectory
from ..validation import InputError, as_vector
from .greedy import chain_pointers
from .registry import register


_FLOAT32_MAX = float(np.finfo(np.float32).max)  # scalar hints are stored as float32


# ----------------------------------------------------------------------------- matrix chain
@lru_cache(maxsize=None)
def _chain_splits(n: int):
    """The pairs ``1 <= i < j < n`` of an ``n x n`` table and their splits ``k = i .. j-1``.

    Returns per pair ``i``, ``j`` and its flat index ``i n + j``; per pair and split (``[pairs,
    n-2]``, padded) ``k`` and the flat indices of the halves ``(i, k)`` and ``(k+1, j)``; padding
    points at the extra cell ``n * n`` (held at +inf by the caller).
    """
    i, j = np.triu_indices(n, k=1)
    i, j = i[i >= 1], j[i >= 1]
    k = i[:, None] + np.arange(max(n - 2, 1))
    real = k < j[:, None]
    pad = n * n
    left = np.where(real, i[:, None] * n + k, pad)
    right = np.where(real, (k + 1) * n + j[:, None], pad)
    return i, j, i * n + j, np.where(real, k, 0), left, right


@register("matrix_chain_order", "dynamic_programming")
def matrix_chain_order(p) -> Trajectory:
    """Matrix-chain order (CLRS 15.2) for the chain ``A_1 ... A_{n-1}``, ``A_i`` of size
    ``p[i-1] x p[i]``; node ``i`` is dimension ``p[i]``.

    As in CLRS-30 the DP runs as parallel relaxation rounds rather than by chain length: in every
    round, each pair ``1 <= i < j`` with at least one split ``k`` whose halves ``(i, k)`` and
    ``(k+1, j)`` were already known (``msk``) becomes known, and its cost ``m[i, j]`` becomes the
    cheapest known split, ``m[i,k] + m[k+1,j] + p[i-1] p[k] p[j]`` from the previous round's table
    (the smallest ``k`` on ties; a known entry changes only on a strict improvement).  ``s_h`` holds
    the split of each pair (0 while unknown); row and column 0 stay empty.  One snapshot before each
    round; the rounds stop at a fixed point.  Output ``s``: the optimal splits, ``[n, n]`` pointers.

    Deviation from the CLRS-30 reference: the reference stops when ``m`` is unchanged, which happens
    too early when some dimension is 0 (new entries of cost 0 leave ``m`` unchanged while ``msk``
    grows); here it stops when ``m`` and ``msk`` are both unchanged.  For positive dimensions the
    two agree.
    """
    name = "matrix_chain_order"
    p = as_vector(name, "p", p, low=0)
    n = p.shape[0]
    if p.max() > (_FLOAT32_MAX / n) ** (1 / 3):
        raise InputError(f"{name}: p is too large: the multiplication costs would overflow the "
                         f"float32 hints (need n * max(p)^3 <= {_FLOAT32_MAX:.3g})")
    tr = Tracer(name, n)
    tr.input(p=p)
    # best[i, j]: the current cost, +inf while unknown; one extra +inf cell for split padding
    flat_best = np.full(n * n + 1, np.inf)
    best = flat_best[:-1].reshape(n, n)
    best[np.arange(1, n), np.arange(1, n)] = 0.0
    s = np.zeros((n, n), dtype=np.int64)
    known = np.isfinite(best)
    tr.step(pred_h=chain_pointers(n), m=np.where(known, best, 0.0), s_h=s, msk=known)

    i, j, pair, k, left, right = _chain_splits(n)
    rows = np.arange(pair.size)
    cost = p[i - 1][:, None] * p[k] * p[j][:, None]  # [pairs, splits]
    while pair.size:
        candidates = flat_best[left] + flat_best[right] + cost  # +inf where a half is unknown
        split = candidates.argmin(axis=1)  # the first minimum: the smallest k
        new = candidates[rows, split]
        better = new < flat_best[pair]  # an unknown entry takes any finite candidate
        if not better.any():
            break
        flat_best[pair[better]] = new[better]
        s.ravel()[pair[better]] = k[rows[better], split[better]]
        known = np.isfinite(best)
        tr.step(m=np.where(known, best, 0.0), s_h=s, msk=known)
    tr.output(s=s)
    return tr.finish()


# ----------------------------------------------------------------------------- LCS
_ALPHABET = 4  # CLRS-30 strings are over 4 symbols (the ``key`` categorical)
_UP_LEFT, _UP, _LEFT = 0, 1, 2  # the arrows of ``b``; class 3 is CLRS's masked 'blank' cell


_ARROWS = np.eye(_ALPHABET, dtype=np.float32)[:3]  # one-hot rows of the 3 arrow classes


def _blank_table(n: int) -> np.ndarray:
    """CLRS ``strings_pair_cat`` background: every edge masked (-1 in the last, 'blank' class)."""
    out = np.zeros((n, n, _ALPHABET), dtype=np.float32)
    out[..., -1] = -1
    return out


@register("lcs_length", "dynamic_programming")
def lcs_length(x, y) -> Trajectory:
    """Longest common subsequence (CLRS 15.4, LCS-LENGTH) of strings ``x`` and ``y`` over the
    symbols 0..3.  Nodes: the positions of ``x``, then those of ``y`` (``string`` 0 / 1, ``pos``
    ``i / len`` per string, ``key`` the symbol); ``c[i, j]`` and ``b[i, j]`` live on edge
    ``(i, len(x) + j)`` for the prefixes ending at ``x[i]`` and ``y[j]`` (0-based, no empty row).

    As in CLRS-30: row 0 and column 0 are filled directly, then the inner table is updated in
    parallel rounds from the previous round's ``c`` (up-left on a match, else up when
    ``c[i-1, j] >= c[i, j-1]``, else left) until ``c`` stops changing; one snapshot before each
    round.  Output ``b``: the arrows, edge categorical (up-left, up, left, blank).
    """
    name = "lcs_length"
    x = as_vector(name, "x", x, integer=True, low=0, high=_ALPHABET - 1)
    y = as_vector(name, "y", y, integer=True, low=0, high=_ALPHABET - 1)
    nx, ny = x.shape[0], y.shape[0]
    n = nx + ny
    tr = Tracer(name, n)
    tr.input(string=np.arange(n) >= nx,
             pos=np.concatenate((np.arange(nx) / nx, np.arange(ny) / ny)),
             key=np.concatenate((x, y)))

    # c and b live in the x-rows / y-columns block of edge tables (CLRS strings_pair[_cat]).
    c_table = np.zeros((n, n))
    b_table = _blank_table(n)
    c, b_cells = c_table[:nx, nx:], b_table[:nx, nx:]  # views
    match = x[:, None] == y[None, :]
    b = np.zeros((nx, ny), dtype=np.int64)  # inner cells: class 0 until the first round
    # column 0: some x[:i+1] matches y[0]; row 0: x[0] matches some y[:j+1] (then 'left')
    c[:, 0] = np.logical_or.accumulate(match[:, 0])
    c[0, :] = np.logical_or.accumulate(match[0, :])
    b[1:, 0] = np.where(match[1:, 0], _UP_LEFT, _UP)
    b[0, :] = np.where(match[0, :], _UP_LEFT, np.where(c[0, :] == 1, _LEFT, _UP))
    b_cells[:] = _ARROWS[b]

    pred = chain_pointers(n)
    pred[nx] = nx  # the first position of y starts its own chain
    tr.step(pred_h=pred, b_h=b_table, c=c_table)
    inner = match[1:, 1:]
    while True:
        up, left = c[:-1, 1:], c[1:, :-1]
        new_c = np.where(inner, c[:-1, :-1] + 1, np.maximum(up, left))
        b_cells[1:, 1:] = _ARROWS[np.where(inner, _UP_LEFT, _LEFT - (up >= left))]
        if not (new_c != c[1:, 1:]).any():
            break
        c[1:, 1:] = new_c
        tr.step(b_h=b_table, c=c_table)
    tr.output(b=b_table)
    return tr.finish()


# ----------------------------------------------------------------------------- optimal BST
@lru_cache(maxsize=None)
def _bst_diagonals(N: int):
    """Per subtree size 1..N-1, flat indices into an ``N x N`` table: the first gaps ``i``, the
    entries ``(i, i + size)``, and per candidate root ``r = i .. i+size-1`` (row-major
    ``[len(i), size]``) the left and right subtrees ``(i, r)`` and ``(r + 1, i + size)``."""
    out = []
    for size in range(1, N):
        i = np.arange(N - size)
        j = i + size
        r = i[:, None] + np.arange(size)
        out.append((i, i * N + j, (i[:, None] * N + r).ravel(), ((r + 1) * N + j[:, None]).ravel()))
    return tuple(out)


def _subtree_mass(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``w[i, j] = q[i] + p[i] + q[i+1] + ... + p[j-1] + q[j]`` for ``j >= i`` (0 below), summed
    left to right as CLRS's ``w[i, j] = w[i, j-1] + p[j-1] + q[j]`` does (same rounding)."""
    N = q.shape[0]
    terms = np.zeros(4 * N - 3)
    terms[0:2 * N - 1:2], terms[1:2 * N - 2:2] = q, p  # q0 p0 q1 p1 ... qn, then zero padding
    rows = np.lib.stride_tricks.sliding_window_view(terms, 2 * N - 1)[::2]  # row i starts at q[i]
    sums = np.cumsum(rows, axis=1)[:, ::2]  # sums[i, k] = w[i, i + k]
    w = np.zeros((N, N))
    i, j = np.triu_indices(N)
    w[i, j] = sums[i, j - i]
    return w


@register("optimal_bst", "dynamic_programming")
def optimal_bst(p, q) -> Trajectory:
    """Optimal binary search tree (CLRS 15.5, OPTIMAL-BST) for keys with probabilities ``p`` (n)
    and gaps ("dummy keys") with probabilities ``q`` (n + 1), all >= 0.

    Nodes: the n + 1 gaps; node ``r < n`` also carries key ``r`` (input ``p`` is padded with a
    final 0).  Entry ``(i, j)``, ``i <= j``, is the subtree over keys ``i .. j-1`` and gaps
    ``i .. j`` (0-based, ``j - i`` keys): ``e`` its expected search cost, ``w`` its probability
    mass, ``root_h`` its root key (the smallest on ties; 0 while unset), ``msk`` set once computed.
    The diagonal ``i = j`` is the empty subtree (``e = w = q[i]``).  One snapshot per subtree size
    0, 1, ..., n (T = n + 1).  Output ``root``: ``[n+1, n+1]`` pointers.

    Deviation from the CLRS-30 reference: the reference starts each minimum at 1e9, so a subtree
    whose every cost is >= 1e9 keeps cost 1e9 and root 0; here the minimum is exact.  They agree
    whenever costs stay below 1e9 (always for probabilities).
    """
    name = "optimal_bst"
    p = as_vector(name, "p", p, low=0)
    q = as_vector(name, "q", q, min_len=2, low=0)
    if q.shape[0] != p.shape[0] + 1:
        raise InputError(f"{name}: q must have one more element than p (one gap on each side of "
                         f"every key), got len(p)={p.shape[0]}, len(q)={q.shape[0]}")
    n = p.shape[0]
    N = n + 1
    if N * (p.sum() + q.sum()) > _FLOAT32_MAX:  # e is at most the tree height times the mass
        raise InputError(f"{name}: p and q are too large: the expected costs would overflow the "
                         f"float32 hints (need (n + 1) * (sum(p) + sum(q)) <= {_FLOAT32_MAX:.3g})")
    tr = Tracer(name, N)
    tr.input(p=np.append(p, 0.0), q=q)
    e, w = np.zeros((N, N)), np.zeros((N, N))
    root = np.zeros((N, N), dtype=np.int64)
    known = np.zeros((N, N), dtype=bool)
    ef, wf, rootf, knownf = e.ravel(), w.ravel(), root.ravel(), known.ravel()  # flat views
    mass = _subtree_mass(p, q).ravel()
    diag = np.arange(N) * (N + 1)
    ef[diag] = wf[diag] = q
    knownf[diag] = True
    tr.step(pred_h=chain_pointers(N), root_h=root, e=e, w=w, msk=known)
    for size, (i, ij, left, right) in enumerate(_bst_diagonals(N), start=1):
        wf[ij] = wij = mass[ij]
        # cost[a, o]: subtree (i, j) = (i[a], i[a] + size) with root r = i + o
        cost = (ef[left] + ef[right]).reshape(-1, size) + wij[:, None]
        ef[ij] = cost.min(axis=1)
        rootf[ij] = i + cost.argmin(axis=1)  # the first minimum: the smallest root
        knownf[ij] = True
        tr.step(root_h=root, e=e, w=w, msk=known)
    tr.output(root=root)
    return tr.finish()
