"""CLRS-30 divide-and-conquer algorithms (CLRS ch. 4), traced with :class:`nar.trace.Tracer`.

Reference: ``clrs/_src/algorithms/divide_and_conquer.py``.
"""
from __future__ import annotations

from ..trace import Tracer, Trajectory
from ..validation import as_vector
from .registry import register
from .sorting import identity_pointers


@register("find_maximum_subarray_kadane", "divide_and_conquer")
def find_maximum_subarray_kadane(A) -> Trajectory:
    """Maximum subarray by Kadane's scan (CLRS exercise 4.1-5; Bentley 1984).

    ``sum`` is the best sum of a subarray ``A[i..j]`` ending at ``j``: it extends while
    ``sum + A[j] >= A[j]`` (a zero-sum prefix is kept) and otherwise restarts at ``i = j``; the best
    ``A[best_low..best_high]`` (``best_sum``) is replaced only by a strictly larger sum.  So among
    maximum subarrays the one with the smallest end wins, then the smallest start.  One snapshot
    per element (T = n); output ``start``/``end`` = the best subarray's first/last index.
    """
    A = as_vector("find_maximum_subarray_kadane", "A", A)
    n = A.shape[0]
    tr = Tracer("find_maximum_subarray_kadane", n)
    tr.input(key=A)
    key = A.tolist()
    i = best_low = best_high = 0
    s = best_sum = key[0]
    tr.step(pred_h=identity_pointers(n), best_low=0, best_high=0, best_sum=best_sum, i=0, j=0, sum=s)
    for j in range(1, n):
        x = key[j]
        if s + x >= x:
            s += x
        else:
            i, s = j, x
        if s > best_sum:
            best_low, best_high, best_sum = i, j, s
            tr.step(best_low=i, best_high=j, best_sum=s, i=i, j=j, sum=s)
        else:
            tr.step(i=i, j=j, sum=s)
    tr.output(start=best_low, end=best_high)
    return tr.finish()
