"""Batched kernels of the dynamic-programming algorithms (see
:mod:`nar.algorithms.dynamic_programming`).

Tables are ``[B, ...]`` float64 arrays updated with the same elementwise operations, in the same
order, as the per-sample code, so every value is bit-identical; each step fills one diagonal (or
runs one relaxation round) for every sample at once.

The hint tables are large (``T`` snapshots of ``n x n`` tables per sample) and copying them is
most of the cost, so these kernels write the hint histories ``[B, T, ...]`` themselves, each
snapshot once, and cut them into trajectories with :func:`assemble` instead of going through
:class:`~nar.batched.recorder.BatchRecorder` (whose per-step copies and history growth double the
memory traffic on tables this size).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..algorithms.dynamic_programming import _bst_diagonals
from ..algorithms.greedy import chain_pointers
from ..trace import Trajectory, _layout
from . import kernel
from .greedy import stack


def assemble(name: str, inputs: dict, hints: dict, outputs: dict, lengths=None) -> list[Trajectory]:
    """Per-sample trajectories from whole-batch arrays in their final form (one-hot expanded):
    ``inputs`` / ``outputs`` ``[B, ...]``, ``hints`` ``[B, T, ...]``; sample ``b`` keeps the first
    ``lengths[b]`` snapshots (all ``T`` by default).  ``pos`` defaults to ``i / n``."""
    lay = _layout(name)
    B = next(iter(hints.values())).shape[0]
    if "pos" not in inputs:
        n = next(iter(inputs.values())).shape[1]
        inputs = dict(inputs, pos=np.tile(np.arange(n, dtype=np.float32) / np.float32(n), (B, 1)))
    parts = []
    for names, values in ((lay.inputs, inputs), (lay.hint_names, hints), (lay.outputs, outputs)):
        if set(names) != set(values):
            raise RuntimeError(f"{name}: probes {sorted(values)} given, the spec has {sorted(names)}")
        parts.append([(k, np.asarray(values[k], dtype=lay.dtype[k])) for k in names])
    ins, hs, outs = parts
    if lengths is None:
        return [Trajectory(name, {k: v[b] for k, v in ins}, {k: v[b] for k, v in hs},
                           {k: v[b] for k, v in outs}, {}) for b in range(B)]
    return [Trajectory(name, {k: v[b] for k, v in ins}, {k: v[b, :t] for k, v in hs},
                       {k: v[b] for k, v in outs}, {}) for b, t in enumerate(lengths.tolist())]


def tile(value: np.ndarray, B: int) -> np.ndarray:
    """``value`` repeated for every sample, as a writable ``[B, ...]`` array."""
    return np.array(np.broadcast_to(value, (B,) + value.shape))


# ----------------------------------------------------------------------------- optimal BST
def subtree_masses(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``sums[b, i, k] = w[i, i + k]`` of every sample (``[B, N, N]``, junk where ``i + k > n``),
    summed left to right ``q[i] + p[i] + q[i+1] + ...`` exactly as ``_subtree_mass`` sums them."""
    B, N = q.shape
    terms = np.zeros((B, 4 * N - 3))
    terms[:, 0:2 * N - 1:2], terms[:, 1:2 * N - 2:2] = q, p
    rows = np.lib.stride_tricks.sliding_window_view(terms, 2 * N - 1, axis=1)[:, ::2]
    return np.cumsum(rows, axis=2)[:, :, ::2]


def subtree_halves(e: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Views ``[B, N - size, size]`` of the table ``e`` ``[B, N, N]`` (C-contiguous): for every
    subtree ``(i, i + size)`` and root ``r = i + o``, its left subtree ``e[i, r]`` and its right
    subtree ``e[r + 1, i + size]`` (both diagonals of the table, read with strides, no copy)."""
    B, N, _ = e.shape
    sb, sj = e.strides[0], e.strides[2]
    shape = (B, N - size, size)
    left = as_strided(e, shape, (sb, (N + 1) * sj, sj), writeable=False)
    # right[b, i, o] = e[b, i + o + 1, i + size]; the last one is e[b, N-1, N-1]
    right = as_strided(e.reshape(B, N * N)[:, N + size:], shape, (sb, (N + 1) * sj, N * sj),
                       writeable=False)
    return left, right


@kernel("optimal_bst")
def optimal_bst(inputs: list[dict]):
    """Mirrors ``optimal_bst``: the subtrees of one size (a diagonal of the tables) are computed
    for every sample at once, size 1, ..., n.  Snapshot ``t`` holds the diagonals of sizes
    ``0..t`` and zeros elsewhere (T = n + 1 for all), so the histories are cut from the final
    tables with that mask."""
    p, q = stack(inputs, "p"), stack(inputs, "q")
    B, N = q.shape
    e, w = np.zeros((B, N, N)), np.zeros((B, N, N))
    root = np.zeros((B, N, N), dtype=np.int64)
    ef, wf, rootf = (a.reshape(B, N * N) for a in (e, w, root))  # flat views
    mass = subtree_masses(p, q)
    diag = np.arange(N) * (N + 1)
    ef[:, diag] = wf[:, diag] = q
    for size, (i, ij, _, _) in enumerate(_bst_diagonals(N), start=1):
        wf[:, ij] = wij = mass[:, :N - size, size]
        left, right = subtree_halves(e, size)
        cost = left + right
        cost += wij[:, :, None]  # (e[i, r] + e[r+1, j]) + w[i, j], as the per-sample sum
        best = cost.argmin(axis=2)  # the first minimum: the smallest root
        ef[:, ij] = np.take_along_axis(cost, best[:, :, None], axis=2)[:, :, 0]
        rootf[:, ij] = i + best

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

    # Every round but the last changes some cell that no later round changes (cell (i, j) is
    # final after round i + j - 1), so a sample pushes at most nx + ny - 2 <= n snapshots.
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
