"""Batched kernels of the searching algorithms (see :mod:`nar.algorithms.searching`)."""
from __future__ import annotations

import numpy as np

from ..algorithms.sorting import identity_pointers
from . import kernel
from .recorder import BatchRecorder


@kernel("minimum")
def minimum(inputs: list[dict]):
    """Linear scan for the minimum, every sample at once; T = n for all."""
    A = np.stack([np.asarray(x["A"], dtype=np.float64) for x in inputs])  # [B, n]
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
    A = np.stack([np.asarray(x["A"], dtype=np.float64) for x in inputs])  # [B, n], sorted rows
    x = np.array([float(s["x"]) for s in inputs])  # [B]
    B, n = A.shape
    rec = BatchRecorder("binary_search", n, B)
    rec.input(key=A, target=x)
    rows = np.arange(B)
    low, high = np.zeros(B, dtype=np.int64), np.full(B, n - 1)
    rec.step(pred_h=identity_pointers(n), low=low, high=high, mid=(low + high) // 2)
    active = low < high
    while active.any():
        mid = (low + high) // 2
        left = x <= A[rows, mid]
        high = np.where(active & left, mid, high)
        low = np.where(active & ~left, mid + 1, low)
        rec.step(active, low=low, high=high, mid=(low + high) // 2)
        active = low < high
    rec.output(**{"return": high})
    beyond = x > A[:, -1]
    index = np.where(beyond, n, high)
    return rec.finish([{"index": i, "beyond": b} for i, b in zip(index.tolist(), beyond.tolist())])
