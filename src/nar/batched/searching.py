"""Batched kernels of the searching algorithms (see :mod:`nar.algorithms.searching`)."""
from __future__ import annotations

import numpy as np

from ..algorithms.sorting import identity_pointers
from . import kernel, stack
from .recorder import BatchRecorder
from .sorting import Partitions, PointerHistory, bulk_trajectories


@kernel("minimum")
def minimum(inputs: list[dict]):
    """Linear scan for the minimum, every sample at once; T = n for all."""
    A = stack(inputs, "A")  # [B, n]
    B, n = A.shape
    rec = BatchRecorder("minimum", n, B)
    rec.input(key=A)
    rec.step(pred_h=identity_pointers(n), min_h=0, i=0)
    rows = np.arange(B)
    best = np.zeros(B, dtype=np.int64)
    for i in range(1, n):
        best = np.where(A[rows, best] > A[:, i], i, best)  # strict: the first minimum wins
        rec.step(min_h=best, i=i)
    rec.output(min=best)
    return rec.finish()


@kernel("binary_search")
def binary_search(inputs: list[dict]):
    """Mirrors ``binary_search``: every sample halves ``[low, high]`` (``x <= A[mid]`` keeps the
    left half) and pushes a snapshot while ``low < high``; samples stop at different times."""
    A = stack(inputs, "A")  # [B, n], sorted rows
    x = np.array([float(s["x"]) for s in inputs], dtype=np.float32).astype(np.float64)  # [B], stored values
    B, n = A.shape
    rows = np.arange(B)
    low, high = np.zeros(B, dtype=np.int64), np.full(B, n - 1)
    snaps, lengths = [(low, high)], np.ones(B, dtype=np.int64)
    active = low < high
    while active.any():
        mid = (low + high) // 2
        left = x <= A[rows, mid]
        high = np.where(active & left, mid, high)
        low = np.where(active & ~left, mid + 1, low)
        snaps.append((low, high))
        lengths += active
        active = low < high
    low_h, high_h = (np.stack(v) for v in zip(*snaps))  # [T, B]
    T = low_h.shape[0]
    hints = dict(pred_h=np.broadcast_to(identity_pointers(n), (T, B, n)), low=low_h, high=high_h,
                 mid=(low_h + high_h) // 2)
    beyond = x > A[:, -1]
    index = np.where(beyond, n, high)
    extras = [{"index": i, "beyond": b} for i, b in zip(index.tolist(), beyond.tolist())]
    return bulk_trajectories("binary_search", n, {"key": A, "target": x}, hints, {"return": high},
                             lengths, extras)


@kernel("quickselect")
def quickselect(inputs: list[dict]):
    """Mirrors ``quickselect``: Lomuto partitions of ``[p, r]`` narrowing onto rank ``n // 2``,
    one snapshot per comparison and one per pivot move; every sample advances one snapshot per
    iteration until its pivot lands on the rank.  The hints the per-sample code leaves out of a
    snapshot still hold exactly the values they would be given, so every hint is recorded at
    every snapshot (the elements in the named slots; ``i_rank`` relative to ``p`` only at a pivot
    move)."""
    A = stack(inputs, "A")
    B, n = A.shape
    part = Partitions(A)
    everyone = np.ones(B, dtype=bool)
    part.start(everyone, np.zeros(B, dtype=np.int64), np.full(B, n - 1))
    rank = np.full(B, n // 2)  # sought within [p, r]
    found_at, lengths = np.zeros(B, dtype=np.int64), np.zeros(B, dtype=np.int64)
    busy, t = everyone, 0
    preds, named, ranks = None, [], []
    while busy.any():
        i1, j, final = part.step()
        p, r = part.p, part.r
        t += 1
        if preds is None:  # no initial state: the first yield is the first snapshot
            preds = PointerHistory(part.pred, 4 * n)
        else:
            preds.append(part.pred)
        named.append(part.elements(np.array((p, r, i1, j))))
        ranks.append((np.where(final, i1 - p, i1), rank, final))
        if not final.any():
            continue
        k = i1 - p  # the pivot's rank within [p, r]
        found = final & (rank == k)
        found_at = np.where(found, i1, found_at)
        lengths = np.where(found, t, lengths)
        busy = busy & ~found
        go_left, go_right = final & (rank < k), final & (rank > k)
        rank = np.where(go_right, rank - k - 1, rank)
        part.start(final, np.where(go_right, i1 + 1, p),
                   np.where(go_left, i1 - 1, np.where(go_right, r, -1)))  # found: idle
    p, r, i, j = np.stack(named, axis=0).transpose(1, 0, 2)  # each [T, B]
    i_rank, target, final = (np.stack(v) for v in zip(*ranks))
    hints = dict(pred_h=preds.array(), p=p, r=r, i=i, j=j, i_rank=i_rank / n, target=target / n,
                 pivot=np.where(final, i, r))
    outputs = {"median": part.pos[np.arange(B), found_at]}
    return bulk_trajectories("quickselect", n, {"key": A}, hints, outputs, lengths)
