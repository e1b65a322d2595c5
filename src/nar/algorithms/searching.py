"""CLRS-30 searching algorithms (CLRS3 ch. 9, 27.3), traced with :class:`nar.trace.Tracer`.

``pred_h`` is the constant list order of the input (CLRS turns it into a ``pred`` input for minimum
and binary_search).  Reference: ``clrs/_src/algorithms/searching.py``.
"""
from __future__ import annotations

import numpy as np

from ..trace import Tracer, Trajectory
from ..validation import InputError, as_scalar, as_vector
from .registry import register
from .sorting import ArrayOrder, identity_pointers, lomuto_partition


@register("minimum", "searching")
def minimum(A) -> Trajectory:
    """Linear scan for the minimum (CLRS 9.1).  Hints: ``min_h`` the minimum so far, ``i`` the
    element just compared; one snapshot per element (T = n).  Ties: the first minimum wins."""
    A = as_vector("minimum", "A", A)
    n = A.shape[0]
    tr = Tracer("minimum", n)
    tr.input(key=A)
    key = A.tolist()
    tr.step(pred_h=identity_pointers(n), min_h=0, i=0)
    best = 0
    for i in range(1, n):
        if key[best] > key[i]:
            best = i
        tr.step(min_h=best, i=i)
    tr.output(min=best)
    return tr.finish()


@register("binary_search", "searching")
def binary_search(x, A) -> Trajectory:
    """Binary search for ``x`` in the sorted array ``A``: BINARY-SEARCH(x, T, p, r) of CLRS3 27.3
    (multithreaded merge sort), the smallest ``q`` with ``x <= A[q]`` (the first of equal keys, as
    ``bisect.bisect_left``).  Hints ``low``, ``high`` and ``mid = (low + high) // 2`` (the next slot
    to compare) after each halving; the first snapshot is the initial state.

    The reference's defect, and what we do about it: the textbook starts with ``high = n`` and
    returns ``n`` for a target larger than every key; CLRS starts with ``high = n - 1`` "so that the
    return is always in the array", so such a target returns ``n - 1`` although ``A[n-1] < x``,
    the same answer as for ``A[n-2] < x <= A[n-1]`` (with the default sampler this happens with
    probability ``1/(n+1)``).  ``return`` is a node pointer and no node stands for "after the last
    key", so the probes keep the reference's values (``return = min(q, n-1)``, comparable with
    published numbers), and the textbook's answer is reported beside them:
    ``extras["index"]`` = ``q`` in ``[0, n]`` and ``extras["beyond"]`` = ``x > A[n-1]``.
    """
    A = as_vector("binary_search", "A", A)
    x = as_scalar("binary_search", "x", x)
    n = A.shape[0]
    if (A[1:] < A[:-1]).any():
        raise InputError("binary_search: A must be sorted in non-decreasing order")
    tr = Tracer("binary_search", n)
    tr.input(key=A, target=x)
    key = A.tolist()
    low, high = 0, n - 1
    tr.step(pred_h=identity_pointers(n), low=low, high=high, mid=(low + high) // 2)
    while low < high:
        mid = (low + high) // 2
        if x <= key[mid]:
            high = mid
        else:
            low = mid + 1
        tr.step(low=low, high=high, mid=(low + high) // 2)
    tr.output(**{"return": high})
    beyond = x > key[-1]
    return tr.finish(index=n if beyond else high, beyond=bool(beyond))


@register("quickselect", "searching")
def quickselect(A) -> Trajectory:
    """Quickselect (RANDOMIZED-SELECT of CLRS 9.2 with the last key as pivot) for the element of
    rank ``n // 2`` (0-based: ``sorted(A)[n // 2]``, the upper median when ``n`` is even); output
    ``median`` points at that element's original index.

    One snapshot per comparison of PARTITION and one after the pivot is placed.  Hints: ``p``,
    ``r``, ``i`` (slot ``i+1``), ``j`` the elements in those slots; ``pivot`` the pivot element;
    ``target`` the rank sought inside the current subarray, divided by ``n``; ``i_rank`` the
    pivot's prospective slot divided by ``n`` -- absolute (``(i+1)/n``) during the scan but relative
    to ``p`` (``(q-p)/n``) in the final snapshot of a partition, exactly as the reference records it.
    """
    A = as_vector("quickselect", "A", A)
    n = A.shape[0]
    tr = Tracer("quickselect", n)
    tr.input(key=A)
    order = ArrayOrder(A)
    pos, pred = order.pos, order.pred
    p, r, rank = 0, n - 1, n // 2
    while True:
        new, last_i1 = True, -1  # a new partition: other slots p and r, a new target
        for i1, j, changed in lomuto_partition(order, p, r):
            final = j == r
            hints = {"i": pos[i1], "j": pos[j]}
            if new or changed or final:  # elements change slots only together with pred_h
                hints.update(pred_h=pred, p=pos[p], r=pos[r], pivot=pos[i1] if final else pos[r])
            if new or final or i1 != last_i1:
                hints["i_rank"] = (i1 - p if final else i1) / n
                last_i1 = i1
            if new:
                hints["target"] = rank / n
                new = False
            tr.step(**hints)
        q = i1
        k = q - p
        if rank == k:
            break
        if rank < k:
            r = q - 1
        else:
            p, rank = q + 1, rank - k - 1
    tr.output(median=pos[q])
    return tr.finish()
