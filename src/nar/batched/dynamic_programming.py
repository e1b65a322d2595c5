"""Batched kernels of the dynamic-programming algorithms (see
:mod:`nar.algorithms.dynamic_programming`).

Each step fills one diagonal of the tables (or runs one relaxation round) for every sample at
once.  Float tables are float64 and updated with the same elementwise operations, in the same
order, as the per-sample code, so every value is bit-identical (LCS counts are small integers,
exact in int16); diagonals are read and written through strided views.

The hint tables are large (``T`` snapshots of ``n x n`` tables per sample) and writing them is
most of the cost, so these kernels build the hint histories ``[B, T, ...]`` themselves, writing
each snapshot once in its final dtype, and cut them into trajectories with :func:`assemble`,
instead of pushing every table through :class:`~nar.batched.recorder.BatchRecorder` step by step
(a converted copy per step plus the copy into its history).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..algorithms.greedy import chain_pointers
from . import kernel, per_sample, stack
from .greedy import uniform
from .recorder import assemble


def tile(value: np.ndarray, B: int) -> np.ndarray:
    """``value`` repeated for every sample, as a writable ``[B, ...]`` array."""
    return np.array(np.broadcast_to(value, (B,) + value.shape))


# ----------------------------------------------------------------------------- matrix chain
class ChainTables:
    """The ``matrix_chain_order`` state of the samples still running (rows ``ids`` of the chunk):
    ``best`` (float64, +inf while unknown), ``s``, and the hints ``m`` / ``msk`` kept in their
    float32 form, all ``[A, n, n]``; ``cost[size]`` ``[A, n-1-size, size]`` the products
    ``p[i-1] p[k] p[j]`` of the pairs ``(i, i + size)`` and their splits."""

    def __init__(self, p: np.ndarray):
        B, n = p.shape
        self.ids = np.arange(B)
        self.best = np.full((B, n, n), np.inf)
        self.best[:, np.arange(1, n), np.arange(1, n)] = 0.0
        self.s = np.zeros((B, n, n), dtype=np.int64)
        self.m = np.zeros((B, n, n), dtype=np.float32)
        self.known = np.isfinite(self.best).astype(np.float32)
        self.cost = {}
        for size in range(1, n - 1):
            m = n - 1 - size
            splits = np.lib.stride_tricks.sliding_window_view(p, size, axis=1)[:, 1:m + 1]  # p[k]
            self.cost[size] = p[:, :m, None] * splits * p[:, size + 1:, None]  # in that order
        self._buffer = np.empty(B * max(((n - 1 - size) * size for size in range(n - 1)), default=0))

    def keep(self, rows: np.ndarray, sizes_left: int) -> None:
        """Drop every row but ``rows`` (bool), and the costs of the sizes below ``sizes_left``."""
        self.ids, self.best, self.s, self.m, self.known = \
            (a[rows] for a in (self.ids, self.best, self.s, self.m, self.known))
        self.cost = {size: c[rows] for size, c in self.cost.items() if size >= sizes_left}

    def relax(self, sizes: range) -> np.ndarray:
        """One relaxation round on the pairs of lengths ``j - i`` in ``sizes``, every length read
        from the round's starting table; returns which rows changed."""
        A, n, _ = self.best.shape
        inner = self.best[:, 1:, 1:]  # pairs 1 <= i < j: intervals of the table without row 0
        updates, changed = [], np.zeros(A, dtype=bool)
        for size in sizes:
            m = n - 1 - size
            left, right = split_halves(inner, size)
            candidates = np.add(left, right, out=self._buffer[:A * m * size].reshape(A, m, size))
            candidates += self.cost[size]  # (m[i,k] + m[k+1,j]) + p[i-1] p[k] p[j]
            split = candidates.argmin(axis=2)  # the first minimum: the smallest k
            new = np.take_along_axis(candidates, split[:, :, None], axis=2)[:, :, 0]
            better = new < diagonal(inner, size)  # an unknown entry takes any finite candidate
            updates.append((size, better, new, split))
            changed |= better.any(axis=1)
        for size, better, new, split in updates:
            split += np.arange(1, n - size)  # k = i + offset
            for table, value in ((self.best, new), (self.s, split), (self.m, new), (self.known, 1)):
                np.copyto(diagonal(table[:, 1:, 1:], size), value, where=better)
        return changed


@kernel("matrix_chain_order")
def matrix_chain_order(inputs: list[dict]):
    """Mirrors ``matrix_chain_order``'s parallel relaxation rounds for every sample at once.

    Only the pairs that can change are relaxed: in round ``r`` a pair changes only if one of its
    halves changed in round ``r - 1`` and is shorter, so (by induction from the diagonal, length
    0, set before round 1) the changed pairs have length ``j - i >= r``; a pair is known only once
    both halves are, so its length is at most ``2^r - 1``.  Pairs outside that range would keep
    their values, as they do in the per-sample rounds.  A sample stops at its first round without a
    change (the fixed point), so it pushes at most ``n - 1`` snapshots; samples still running are
    compacted as others stop.
    """
    if not uniform(inputs, "p"):
        return per_sample("matrix_chain_order", inputs)
    p = stack(inputs, "p")
    B, n = p.shape
    T_cap = max(n - 1, 1)
    hist = {"m": np.empty((B, T_cap, n, n), dtype=np.float32),
            "s_h": np.empty((B, T_cap, n, n), dtype=np.int64),
            "msk": np.empty((B, T_cap, n, n), dtype=np.float32)}
    tables = ChainTables(p)

    def record(t, rows, changed):
        for key, table in zip(hist, (tables.m, tables.s, tables.known)):
            hist[key][rows, t] = table if changed is None else table[changed]

    record(0, slice(None), None)
    lengths = np.ones(B, dtype=np.int64)
    for r in range(1, n - 1):
        changed = tables.relax(range(r, min(n - 2, 2 ** r - 1) + 1))
        if changed.all():
            record(r, tables.ids, None)
            lengths[tables.ids] += 1
            continue
        if not changed.any():
            break
        rows = tables.ids[changed]
        if changed.sum() <= 0.75 * changed.size:  # compact the rows still running
            tables.keep(changed, r + 1)
            record(r, rows, None)
        else:
            record(r, rows, changed)
        lengths[rows] += 1

    T = int(lengths.max())
    hints = {"pred_h": tile(np.broadcast_to(chain_pointers(n), (T, n)), B),
             **{key: h[:, :T] for key, h in hist.items()}}
    final = hist["s_h"][np.arange(B), lengths - 1]
    return assemble("matrix_chain_order", {"p": p}, hints, {"s": final}, lengths)


# ----------------------------------------------------------------------------- optimal BST
def subtree_masses(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``sums[b, i, k] = w[i, i + k]`` of every sample (``[B, N, N]``, junk where ``i + k > n``),
    summed left to right ``q[i] + p[i] + q[i+1] + ...`` exactly as ``_subtree_mass`` sums them."""
    B, N = q.shape
    terms = np.zeros((B, 4 * N - 3))
    terms[:, 0:2 * N - 1:2], terms[:, 1:2 * N - 2:2] = q, p
    rows = np.lib.stride_tricks.sliding_window_view(terms, 2 * N - 1, axis=1)[:, ::2]
    return np.cumsum(rows, axis=2)[:, :, ::2]


def diagonal(table: np.ndarray, size: int) -> np.ndarray:
    """The writable view ``[B, M - size]`` of the entries ``table[:, i, i + size]``."""
    B, M, _ = table.shape
    sb, sr, sc = table.strides
    return as_strided(table[:, :, size:], (B, M - size), (sb, sr + sc))


def split_halves(table: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Views ``[B, M - size, size]`` of ``table`` ``[B, M, M]`` (any strides, no copy): for every
    interval ``(i, i + size)`` and split ``k = i + o``, its left part ``table[i, k]`` and its right
    part ``table[k + 1, i + size]`` (both read along diagonals with strides)."""
    B, M, _ = table.shape
    sb, sr, sc = table.strides
    shape = (B, M - size, size)
    left = as_strided(table, shape, (sb, sr + sc, sc), writeable=False)
    right = as_strided(table[:, 1:, size:], shape, (sb, sr + sc, sr), writeable=False)
    return left, right


@kernel("optimal_bst")
def optimal_bst(inputs: list[dict]):
    """Mirrors ``optimal_bst``: the subtrees of one size (a diagonal of the tables) are computed
    for every sample at once, size 1, ..., n.  Snapshot ``t`` holds the diagonals of sizes
    ``0..t`` and zeros elsewhere (T = n + 1 for all), so the histories are cut from the final
    tables with that mask."""
    if not uniform(inputs, "p", "q"):
        return per_sample("optimal_bst", inputs)
    p, q = stack(inputs, "p"), stack(inputs, "q")
    B, N = q.shape
    e, w = np.zeros((B, N, N)), np.zeros((B, N, N))
    root = np.zeros((B, N, N), dtype=np.int64)
    mass = subtree_masses(p, q)
    diagonal(e, 0)[...] = diagonal(w, 0)[...] = q
    for size in range(1, N):
        diagonal(w, size)[...] = wij = mass[:, :N - size, size]
        left, right = split_halves(e, size)
        cost = left + right
        cost += wij[:, :, None]  # (e[i, r] + e[r+1, j]) + w[i, j], as the per-sample sum
        best = cost.argmin(axis=2)  # the first minimum: the smallest root
        diagonal(e, size)[...] = np.take_along_axis(cost, best[:, :, None], axis=2)[:, :, 0]
        np.add(best, np.arange(N - size), out=diagonal(root, size))  # r = i + offset

    size = np.arange(N)[None, :] - np.arange(N)[:, None]  # j - i
    known = ((size >= 0) & (size <= np.arange(N)[:, None, None])).reshape(N, N * N)  # [T, N*N]
    known32 = known.astype(np.float32)
    masks = {np.dtype(np.int64): known.astype(np.int64), np.dtype(np.float32): known32}

    def history(table):  # [B, N, N] -> [B, T, N, N], zero where not yet known
        return (table.reshape(B, 1, N * N) * masks[table.dtype]).reshape(B, N, N, N)

    hints = {"pred_h": tile(np.broadcast_to(chain_pointers(N), (N, N)), B),
             "root_h": history(root),
             "e": history(e.astype(np.float32)),
             "w": history(w.astype(np.float32)),
             "msk": tile(known32.reshape(N, N, N), B)}
    return assemble("optimal_bst", {"p": np.concatenate((p, np.zeros((B, 1))), axis=1), "q": q},
                    hints, {"root": root})


# ----------------------------------------------------------------------------- LCS
_UP_LEFT, _UP, _LEFT, _BLANK = 0, 1, 2, 3
_SYMBOLS = np.eye(4, dtype=np.float32)  # one-hot rows of the 4 symbols
_CELLS = _SYMBOLS * np.array([1, 1, 1, -1], dtype=np.float32)[:, None]  # arrows; row 3: CLRS blank


def lcs_values(block: np.ndarray, nx: int, n: int) -> np.ndarray:
    """``c`` cells ``[..., nx, ny]`` placed in the x-rows / y-columns block of float32 ``[..., n, n]``
    edge tables, zero elsewhere."""
    out = np.zeros(block.shape[:-2] + (n, n), dtype=np.float32)
    out[..., :nx, nx:] = block
    return out


def lcs_arrows(block: np.ndarray, nx: int, n: int) -> np.ndarray:
    """Arrow class ids ``[..., nx, ny]`` as one-hot rows in the x-rows / y-columns block of
    ``[..., n, n, 4]`` edge tables whose other cells are blank (as ``_blank_table``)."""
    lead = block.shape[:-2]
    out = np.empty(lead + (n, n, 4), dtype=np.float32)
    rows = out.reshape(lead + (n, n * 4))  # written row by row with a tiled blank pattern
    rows[..., nx:, :] = np.tile(_CELLS[_BLANK], n)
    rows[..., :nx, :nx * 4] = np.tile(_CELLS[_BLANK], nx)
    out[..., :nx, nx:, :] = np.take(_CELLS, block, axis=0)
    return out


@kernel("lcs_length")
def lcs_length(inputs: list[dict]):
    """Mirrors ``lcs_length``: row 0 and column 0 filled directly, then parallel rounds over the
    inner cells of every sample at once; a sample pushes a snapshot for each round that changes
    its ``c`` and stops at its fixed point (later rounds leave it unchanged)."""
    if not uniform(inputs, "x", "y"):
        return per_sample("lcs_length", inputs)
    x, y = stack(inputs, "x", np.int64), stack(inputs, "y", np.int64)
    (B, nx), ny = x.shape, y.shape[1]
    n = nx + ny
    match = x[:, :, None] == y[:, None, :]
    # c holds small integer counts: exact in int16, as in the per-sample float64 table
    c = np.zeros((B, nx, ny), dtype=np.int16 if n < 2 ** 15 else np.int64)
    b = np.zeros((B, nx, ny), dtype=np.int8)  # inner cells: class 0 until the first round
    c[:, :, 0] = np.logical_or.accumulate(match[:, :, 0], axis=1)
    c[:, 0, :] = np.logical_or.accumulate(match[:, 0, :], axis=1)
    b[:, 1:, 0] = np.where(match[:, 1:, 0], _UP_LEFT, _UP)
    b[:, 0, :] = np.where(match[:, 0, :], _UP_LEFT, np.where(c[:, 0, :] == 1, _LEFT, _UP))

    # Cell (i, j) is final after round i + j - 1 (its inputs have smaller i + j), so no round
    # after nx + ny - 3 changes c: a sample pushes at most nx + ny - 2 <= n snapshots.
    c_hist = np.empty((B, n, nx, ny), dtype=c.dtype)
    b_hist = np.zeros((B, n, nx, ny), dtype=np.int8)  # valid class ids past a sample's T too
    c_hist[:, 0], b_hist[:, 0] = c, b
    lengths = np.ones(B, dtype=np.int64)
    inner = match[:, 1:, 1:]
    one, up_left = c.dtype.type(1), np.int8(_UP_LEFT)
    while True:
        up, left = c[:, :-1, 1:], c[:, 1:, :-1]
        new_c = np.where(inner, c[:, :-1, :-1] + one, np.maximum(up, left))
        # up when c[i-1, j] >= c[i, j-1], else left
        b[:, 1:, 1:] = np.where(inner, up_left, (up < left).view(np.int8) + np.int8(_UP))
        rows = np.flatnonzero((new_c != c[:, 1:, 1:]).reshape(B, -1).any(axis=1))
        if not rows.size:
            break
        c[:, 1:, 1:] = new_c  # unchanged samples are at their fixed point: new_c == c there
        at = lengths[rows]
        c_hist[rows, at], b_hist[rows, at] = c[rows], b[rows]
        lengths[rows] += 1

    T = int(lengths.max())
    pred = chain_pointers(n)
    pred[nx] = nx  # the first position of y starts its own chain
    pos = np.concatenate((np.arange(nx) / nx, np.arange(ny) / ny))
    hints = {"pred_h": tile(np.broadcast_to(pred, (T, n)), B),
             "b_h": lcs_arrows(b_hist[:, :T], nx, n),
             "c": lcs_values(c_hist[:, :T], nx, n)}
    ins = {"string": tile(np.arange(n) >= nx, B), "pos": tile(pos, B),
           "key": _SYMBOLS[np.concatenate((x, y), axis=1)]}
    return assemble("lcs_length", ins, hints, {"b": lcs_arrows(b, nx, n)},
                    lengths)
