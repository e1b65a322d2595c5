"""Batched kernels of the divide-and-conquer algorithms
(see :mod:`nar.algorithms.divide_and_conquer`)."""
from __future__ import annotations

import numpy as np

from ..algorithms.sorting import identity_pointers
from . import kernel, stack
from .sorting import bulk_trajectories


@kernel("find_maximum_subarray_kadane")
def find_maximum_subarray_kadane(inputs: list[dict]):
    """Mirrors ``find_maximum_subarray_kadane``: the running sum extends while ``sum + A[j] >=
    A[j]`` (else restarts at ``i = j``) and the best is replaced only by a strictly larger sum;
    one snapshot per element (T = n) for every sample, float64 arithmetic as the scalar scan."""
    A = stack(inputs, "A")  # [B, n]
    B, n = A.shape
    zero = np.zeros(B, dtype=np.int64)
    i, best_low, best_high = zero, zero, zero
    s = best_sum = A[:, 0]
    snaps = [(best_low, best_high, best_sum, i, s)]
    for j in range(1, n):
        x = A[:, j]
        extend = s + x >= x
        s = np.where(extend, s + x, x)
        i = np.where(extend, i, j)
        better = s > best_sum
        best_low = np.where(better, i, best_low)
        best_high = np.where(better, j, best_high)
        best_sum = np.where(better, s, best_sum)
        snaps.append((best_low, best_high, best_sum, i, s))
    best_low_h, best_high_h, best_sum_h, i_h, s_h = (np.stack(v) for v in zip(*snaps))  # [T, B]
    hints = dict(pred_h=np.broadcast_to(identity_pointers(n), (n, B, n)), best_low=best_low_h,
                 best_high=best_high_h, best_sum=best_sum_h, i=i_h,
                 j=np.broadcast_to(np.arange(n)[:, None], (n, B)), sum=s_h)
    return bulk_trajectories("find_maximum_subarray_kadane", n, {"key": A}, hints,
                             {"start": best_low, "end": best_high}, np.full(B, n))
