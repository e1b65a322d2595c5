"""Batched kernels of the divide-and-conquer algorithms (see :mod:`nar.algorithms.divide_and_conquer`)."""
from __future__ import annotations

import numpy as np

from ..algorithms.sorting import identity_pointers
from . import kernel
from .recorder import BatchRecorder


@kernel("find_maximum_subarray_kadane")
def find_maximum_subarray_kadane(inputs: list[dict]):
    """Mirrors ``find_maximum_subarray_kadane``: the running sum extends while ``sum + A[j] >=
    A[j]`` (else restarts at ``i = j``) and the best is replaced only by a strictly larger sum;
    one snapshot per element (T = n) for every sample, float64 arithmetic as the scalar scan."""
    A = np.stack([np.asarray(x["A"], dtype=np.float64) for x in inputs])  # [B, n]
    B, n = A.shape
    rec = BatchRecorder("find_maximum_subarray_kadane", n, B)
    rec.input(key=A)
    zero = np.zeros(B, dtype=np.int64)
    i, best_low, best_high = zero, zero, zero
    s = best_sum = A[:, 0]
    rec.step(pred_h=identity_pointers(n), best_low=0, best_high=0, best_sum=best_sum, i=0, j=0, sum=s)
    for j in range(1, n):
        x = A[:, j]
        extend = s + x >= x
        s = np.where(extend, s + x, x)
        i = np.where(extend, i, j)
        better = s > best_sum
        best_low = np.where(better, i, best_low)
        best_high = np.where(better, j, best_high)
        best_sum = np.where(better, s, best_sum)
        rec.step(best_low=best_low, best_high=best_high, best_sum=best_sum, i=i, j=j, sum=s)
    rec.output(start=best_low, end=best_high)
    return rec.finish()
