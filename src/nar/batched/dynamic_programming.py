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
