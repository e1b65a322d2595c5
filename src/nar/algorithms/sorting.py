"""CLRS-30 sorting algorithms (CLRS ch. 2, 6, 7), traced with :class:`nar.trace.Tracer`.

Every sort records ``pred_h``: the predecessor of each original element in the current array order
(the first element points to itself), and outputs ``pred`` for the final sorted order.
"""
from __future__ import annotations

import numpy as np

from ..trace import Tracer, Trajectory
from ..validation import as_vector
from .registry import register


def order_pointers(order: np.ndarray) -> np.ndarray:
    """Predecessor pointers of a list order: ``ptr[order[k]] = order[k-1]``, ``ptr[order[0]] = order[0]``."""
    ptr = np.empty_like(order)
    ptr[order[1:]] = order[:-1]
    ptr[order[0]] = order[0]
    return ptr


@register("insertion_sort", "sorting")
def insertion_sort(A) -> Trajectory:
    """Insertion sort (CLRS 2.1).  Hints: ``i`` the element just inserted's slot holder, ``j`` the
    outer index, one snapshot per outer iteration (T = n)."""
    A = as_vector("insertion_sort", "A", A).copy()
    n = A.shape[0]
    tr = Tracer("insertion_sort", n)
    tr.input(key=A)
    pos = np.arange(n)  # pos[k] = original index of the element at array slot k
    tr.step(pred_h=order_pointers(pos), i=0, j=0)
    for j in range(1, n):
        key, kpos = A[j], pos[j]
        i = j - 1
        while i >= 0 and A[i] > key:
            i -= 1
        A[i + 2:j + 1] = A[i + 1:j]
        pos[i + 2:j + 1] = pos[i + 1:j]
        A[i + 1], pos[i + 1] = key, j
        # CLRS reports the element that used to hold slot i+1 (its own index when nothing moved).
        displaced = pos[i + 2] if i + 1 < j else kpos
        tr.step(pred_h=order_pointers(pos), i=displaced, j=j)
    tr.output(pred=order_pointers(pos))
    return tr.finish()
