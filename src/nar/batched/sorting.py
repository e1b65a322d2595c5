"""Batched kernels of the sorting algorithms (see :mod:`nar.algorithms.sorting`).

Every kernel keeps, per sample, the array being permuted as ``key`` (float64 ``[B, n]``) and
``pos`` (the original index of the element in each slot, ``[B, n]``), and derives ``pred_h`` from
``pos`` exactly as :class:`nar.algorithms.sorting.ArrayOrder` keeps it.
"""
from __future__ import annotations

import numpy as np

from . import kernel
from .recorder import BatchRecorder


def stack_keys(inputs: list[dict], arg: str = "A") -> np.ndarray:
    """The chunk's key vectors as one float64 ``[B, n]`` array (as ``as_vector`` converts them)."""
    return np.stack([np.asarray(x[arg], dtype=np.float64) for x in inputs])


def pointers_of(pos: np.ndarray) -> np.ndarray:
    """Predecessor pointers of every sample's slot order ``pos`` ``[B, n]``: the element in slot
    ``k`` points to the one in slot ``k-1``, the first to itself (``order_pointers`` per row)."""
    B, n = pos.shape
    pred = np.empty_like(pos)
    rows = np.arange(B)[:, None]
    pred[rows, pos[:, 1:]] = pos[:, :-1]
    pred[rows[:, 0], pos[:, 0]] = pos[:, 0]
    return pred


def swap_slots(key: np.ndarray, pos: np.ndarray, a: np.ndarray, b: np.ndarray, rows: np.ndarray) -> None:
    """Exchange slots ``a[s]`` and ``b[s]`` of sample ``rows[s]`` (in place; ``a == b`` is a no-op)."""
    ka, kb = key[rows, a], key[rows, b]
    key[rows, a], key[rows, b] = kb, ka
    pa, pb = pos[rows, a], pos[rows, b]
    pos[rows, a], pos[rows, b] = pb, pa


def repoint(pred: np.ndarray, pos: np.ndarray, slot: np.ndarray, rows: np.ndarray) -> None:
    """Re-derive the pointer of the element in ``slot[s]`` of sample ``rows[s]`` from its left
    neighbour (itself in slot 0); slots ``>= n`` are ignored.  In place, as ``ArrayOrder`` does."""
    n = pos.shape[1]
    keep = slot < n
    if not keep.all():
        slot, rows = slot[keep], rows[keep]
    pred[rows, pos[rows, slot]] = pos[rows, np.maximum(slot - 1, 0)]


@kernel("insertion_sort")
def insertion_sort(inputs: list[dict]):
    """Mirrors ``insertion_sort``: at outer step ``j`` the sorted prefix takes ``A[j]`` after its
    last key ``<= A[j]`` (stable), so its slot is the number of such keys among ``A[0..j-1]``;
    one snapshot per step (T = n) for every sample."""
    A = stack_keys(inputs)
    B, n = A.shape
    rec = BatchRecorder("insertion_sort", n, B)
    rec.input(key=A)
    pos = np.tile(np.arange(n), (B, 1))
    pred = pointers_of(pos)
    rec.step(pred_h=pred, i=0, j=0)
    rows = np.arange(B)
    for j in range(1, n):
        into = (A[:, :j] <= A[:, j:j + 1]).sum(axis=1)  # the textbook's i + 1
        displaced = pos[rows, into]  # == j where nothing moves
        # slots into..j-1 shift right by one and A[j] lands in slot `into`
        shift = np.arange(1, j + 1) > into[:, None]
        pos[:, 1:j + 1] = np.where(shift, pos[:, :j], pos[:, 1:j + 1])
        pos[rows, into] = j
        for k in (into, into + 1, np.full(B, j + 1)):  # the slots with a new left neighbour
            repoint(pred, pos, k, rows)
        rec.step(pred_h=pred, i=displaced, j=j)
    rec.output(pred=pred)
    return rec.finish()
