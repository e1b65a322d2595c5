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
