"""Batched kernels of the sorting algorithms (see :mod:`nar.algorithms.sorting`), and the
machinery the searching and divide-and-conquer kernels share with them.

Every kernel keeps, per sample, the slot order ``pos`` (the original index of the element in each
slot, ``[B, n]``) and its ``pred_h`` pointers, updated in place as
:class:`nar.algorithms.sorting.ArrayOrder` updates them (:class:`SlotOrders`).  Samples advance
one snapshot per loop iteration, every hint is written at every snapshot (the values the
per-sample code carries over are exactly those it would write), and the trajectories are cut from
the whole histories at the end (:func:`bulk_trajectories`).
"""
from __future__ import annotations

import numpy as np

from ..trace import Trajectory
from . import kernel, stack
from .recorder import assemble_stored


class PointerHistory:
    """Snapshots of a pointer array ``[B, n]``, kept time first in a small dtype (widened once at
    the end: copying int64 snapshots costs more than the algorithm), in a buffer grown by
    doubling."""

    def __init__(self, first: np.ndarray, capacity: int = 64):
        """A history whose first snapshot is ``first``."""
        dtype = np.int16 if first.shape[-1] <= 2 ** 15 else np.int64
        self._buf = np.empty((capacity,) + first.shape, dtype)
        self.length = 0
        self.append(first)

    def append(self, ptr: np.ndarray) -> None:
        if self.length == self._buf.shape[0]:
            grown = np.empty((2 * self.length,) + self._buf.shape[1:], self._buf.dtype)
            grown[:self.length] = self._buf
            self._buf = grown
        self._buf[self.length] = ptr
        self.length += 1

    def array(self) -> np.ndarray:
        """Every snapshot, ``[T, B, n]``."""
        return self._buf[:self.length]


def pointers_of(pos: np.ndarray) -> np.ndarray:
    """Predecessor pointers of every sample's slot order ``pos`` ``[B, n]``: the element in slot
    ``k`` points to the one in slot ``k-1``, the first to itself (``order_pointers`` per row)."""
    B, n = pos.shape
    pred = np.empty_like(pos)
    rows = np.arange(B)[:, None]
    pred[rows, pos[:, 1:]] = pos[:, :-1]
    pred[rows[:, 0], pos[:, 0]] = pos[:, 0]
    return pred


class SlotOrders:
    """:class:`nar.algorithms.sorting.ArrayOrder` for ``B`` samples: ``pos`` the slot order (the
    original index of the element in each slot) and ``pred`` its predecessor pointers, ``[B, n]``
    each, updated in place through flat views (sample ``b``'s slot ``s`` is ``base[b] + s``)."""

    def __init__(self, A: np.ndarray):
        B, n = A.shape
        self.n = n
        self.base = np.arange(B) * n
        self.last = self.base + (n - 1)  # flat index of each sample's last slot
        self.pos = np.tile(np.arange(n), (B, 1))
        self.pred = pointers_of(self.pos)
        self._pos, self._pred, self._keys = self.pos.ravel(), self.pred.ravel(), A.ravel()

    def elements(self, slots: np.ndarray) -> np.ndarray:
        """The elements now in ``slots[..., b]`` of every sample ``b`` (any leading shape)."""
        return self._pos.take(slots + self.base)

    def key_in(self, slot: np.ndarray) -> np.ndarray:
        """The key now in ``slot[..., b]`` of every sample ``b`` (any leading shape)."""
        return self._keys.take(self.elements(slot) + self.base)

    def swap(self, a: np.ndarray, b: np.ndarray) -> None:
        """Exchange slots ``a[s]`` and ``b[s]`` of every sample ``s`` (``a == b``: no change) and
        re-derive the links into and out of both slots (an unchanged link is re-derived as is)."""
        pos, base = self._pos, self.base
        fa, fb = base + a, base + b
        pos[fa], pos[fb] = pos[fb], pos[fa]
        self.relink(*self.flat_links(np.array((fa, fa + 1, fb, fb + 1))))

    def flat_links(self, flat: np.ndarray):
        """For flat slot indices ``[K, B]`` (``base + n``: no slot), the flat indices of those
        slots and of their left neighbours (slot 0 its own), as :meth:`relink` takes them."""
        flat = np.minimum(flat, self.last)  # slot n - 1 re-derived once more: harmless
        return flat, np.maximum(flat - 1, self.base)

    def relink(self, flat: np.ndarray, left: np.ndarray) -> None:
        """Re-derive the pointer of the element in each slot ``flat`` from the one in ``left``."""
        self._pred[self._pos.take(flat) + self.base] = self._pos.take(left)


class Partitions(SlotOrders):
    """CLRS PARTITION (``lomuto_partition``) for ``B`` samples, each on its own subarray, advanced
    one yield per :meth:`step`: ``p``, ``r`` the subarray (``r = -1``: idle, no yield), ``i`` the
    textbook's ``i``, ``j`` the next slot to compare, ``x`` the pivot key."""

    def __init__(self, A: np.ndarray):
        super().__init__(A)
        B = A.shape[0]
        self.p, self.r = np.zeros(B, dtype=np.int64), np.full(B, -1)
        self.i, self.j = self.p - 1, self.p.copy()
        self.x = np.zeros(B)

    def start(self, new: np.ndarray, p: np.ndarray, r: np.ndarray) -> None:
        """Begin partitions of slots ``p..r`` for the samples in mask ``new`` (``r = -1``: idle)."""
        self.p, self.r = np.where(new, p, self.p), np.where(new, r, self.r)
        self.i, self.j = np.where(new, self.p - 1, self.i), np.where(new, self.p, self.j)
        self.x = np.where(new, self.key_in(self.r), self.x)  # garbage where idle

    def step(self):
        """One yield of every busy sample: a comparison of slot ``j < r`` (``<= x``: ``i`` grows
        and slots ``i``, ``j`` swap) or, at ``j == r``, the pivot's move to slot ``i + 1``.
        Returns ``(i1, j, final)``: the textbook's ``i + 1``, the slot just handled, and the mask
        of samples whose partition ended (``i1`` is then the pivot's slot ``q``)."""
        j, r = self.j, self.r
        scan, final = j < r, j == r
        left = scan & (self.key_in(j) <= self.x)
        self.i = i = self.i + left
        i1 = i + 1
        self.swap(np.where(left, i, np.where(final, i1, j)), j)  # j with itself: no swap
        self.j = j + scan
        return i1, j, final


class Heaps(SlotOrders):
    """``_Heap`` for ``B`` samples: 0-based max-heaps in slots ``0..size-1`` with the ``heap``
    probe ``parent`` (``[B, n]``) kept up to date by :meth:`swap`."""

    def __init__(self, A: np.ndarray):
        super().__init__(A)
        B, n = A.shape
        self.size = np.full(B, n)
        self.parent = np.tile(np.maximum(np.arange(n) - 1, 0) // 2, (B, 1))  # the root: itself
        self._parent = self.parent.ravel()

    def swap(self, a: np.ndarray, b: np.ndarray) -> None:
        """Exchange slots ``a`` and ``b`` (after any change of ``size``); re-point both slots and
        their children: the element in slot ``0 < k < size`` points to the one in ``(k-1)//2``,
        every other to itself."""
        super().swap(a, b)
        ab = np.array((a, b))
        k = np.minimum(np.concatenate((ab, 2 * ab + 1, 2 * ab + 2)), self.n - 1)
        inside = (k > 0) & (k < self.size)
        up = self.elements(np.where(inside, (k - 1) >> 1, k))
        self._parent[self.elements(k) + self.base] = up


def bulk_trajectories(name: str, n: int, inputs: dict, hints: dict, outputs: dict,
                      lengths: np.ndarray, extras: list[dict] | None = None) -> list[Trajectory]:
    """Trajectories from whole hint histories computed in bulk (``hints[k]`` ``[T, B, ...]``, every
    hint at every snapshot, stored form): the recorder's per-step bookkeeping would cost more
    than these algorithms' own steps.  See :func:`nar.batched.recorder.assemble_stored`."""
    return assemble_stored(name, n, inputs, hints, outputs, lengths, extras)


@kernel("insertion_sort")
def insertion_sort(inputs: list[dict]):
    """Mirrors ``insertion_sort``: at outer step ``j`` the sorted prefix takes ``A[j]`` after its
    last key ``<= A[j]`` (stable), so its slot is the number of such keys among ``A[0..j-1]``;
    one snapshot per step (T = n) for every sample."""
    A = stack(inputs, "A")
    B, n = A.shape
    order = SlotOrders(A)
    pos = order.pos
    preds, displaced = PointerHistory(order.pred, n), [np.zeros(B, dtype=np.int64)]
    for j in range(1, n):
        into = (A[:, :j] <= A[:, j:j + 1]).sum(axis=1)  # the textbook's i + 1
        displaced.append(order.elements(into))  # == j where nothing moves
        # slots into..j-1 shift right by one and A[j] lands in slot `into`
        shift = np.arange(1, j + 1) > into[:, None]
        pos[:, 1:j + 1] = np.where(shift, pos[:, :j], pos[:, 1:j + 1])
        pos[np.arange(B), into] = j
        order.relink(*order.flat_links(np.array((into, into + 1, np.full(B, j + 1))) + order.base))
        preds.append(order.pred)
    hints = dict(pred_h=preds.array(), i=np.stack(displaced),
                 j=np.broadcast_to(np.arange(n)[:, None], (n, B)))
    return bulk_trajectories("insertion_sort", n, {"key": A}, hints, {"pred": order.pred},
                             np.full(B, n))


@kernel("quicksort")
def quicksort(inputs: list[dict]):
    """Mirrors ``quicksort``: every sample pops ranges off its own stack (right part pushed
    first, so the left part is partitioned first; ranges with ``p >= r`` are never pushed, as the
    per-sample code drops them without a snapshot) and runs Lomuto partitions, one snapshot per
    yield, one yield per iteration.  The hints the per-sample code leaves out of a snapshot hold
    exactly the values given here."""
    A = stack(inputs, "A")
    B, n = A.shape
    rows = np.arange(B)
    if n == 1:  # no partition at all: one snapshot with every hint on node 0
        zero = np.zeros((1, B), dtype=np.int64)
        hints = dict(pred_h=zero[..., None], p=zero, r=zero, i=zero, j=zero)
        return bulk_trajectories("quicksort", n, {"key": A}, hints, {"pred": zero.T},
                                 np.ones(B, dtype=np.int64))
    part = Partitions(A)
    everyone = np.ones(B, dtype=bool)
    part.start(everyone, np.zeros(B, dtype=np.int64), np.full(B, n - 1))
    # pending ranges of two slots or more: stack_p/stack_r[b, :depth[b]], the top last; they
    # are disjoint and leave out every pivot placed, so depth < n / 2
    stack_p, stack_r = np.zeros((B, n + 1), dtype=np.int64), np.zeros((B, n + 1), dtype=np.int64)
    depth, lengths = np.zeros(B, dtype=np.int64), np.zeros(B, dtype=np.int64)
    busy, t = everyone, 0
    preds, named = None, []
    while busy.any():
        i1, j, final = part.step()
        t += 1
        if preds is None:  # no initial state: the first yield is the first snapshot
            preds = PointerHistory(part.pred, 8 * n)
        else:
            preds.append(part.pred)
        named.append(part.elements(np.array((part.p, part.r, i1, j))))
        if not final.any():
            continue
        # push (q + 1, r), then (p, q - 1), each only if it has two slots or more: the per-sample
        # code drops the others without a snapshot (written above the top where not pushed)
        for lo, hi in ((i1 + 1, part.r), (part.p, i1 - 1)):
            stack_p[rows, depth], stack_r[rows, depth] = lo, hi
            depth = depth + (final & (lo < hi))
        go = final & (depth > 0)
        depth = depth - go
        done = final & ~go
        lengths = np.where(done, t, lengths)
        busy = busy & ~done
        part.start(final, np.where(go, stack_p[rows, depth], 0),
                   np.where(go, stack_r[rows, depth], -1))
    p, r, i, j = np.stack(named, axis=0).transpose(1, 0, 2)  # each [T, B]
    hints = dict(pred_h=preds.array(), p=p, r=r, i=i, j=j)
    return bulk_trajectories("quicksort", n, {"key": A}, hints, {"pred": part.pred}, lengths)


@kernel("heapsort")
def heapsort(inputs: list[dict]):
    """Mirrors ``heapsort``: after the initial snapshot, every sample runs MAX-HEAPIFY one
    snapshot per iteration (BUILD from slot ``n-1`` down to 0, then after each extraction of the
    root into slot ``c``, itself one snapshot); samples stop at different times.  The hints the
    per-sample code leaves out of a snapshot hold exactly the values given here: ``i`` the
    element in slot ``c`` (the root at an extraction), ``heap_size`` the one in slot
    ``size - 1``; phase 0 while building, 1 at an extraction, 2 in the heapify calls after it."""
    A = stack(inputs, "A")
    B, n = A.shape
    heap = Heaps(A)
    # c: BUILD's i, then the extraction slot; cur: the slot MAX-HEAPIFY works on
    c, cur = np.full(B, n - 1), np.full(B, n - 1)
    extract, sorting = np.zeros(B, dtype=bool), np.zeros(B, dtype=bool)
    busy = np.ones(B, dtype=bool)
    lengths, t = np.zeros(B, dtype=np.int64), 1
    last = np.full((4, B), n - 1)
    preds, parents = PointerHistory(heap.pred, 8 * n), PointerHistory(heap.parent, 8 * n)
    named, modes = [last], [(extract, extract)]  # (sorting, extract) at every snapshot
    while busy.any():
        heapify = busy & ~extract
        # the largest of cur and its children in the heap (strict: ties keep the parent)
        size = heap.size
        left = 2 * cur + 1
        right = left + 1
        k_cur, k_left, k_right = heap.key_in(np.minimum(np.array((cur, left, right)), n - 1))
        big = (left < size) & (k_left > k_cur)
        largest, k_big = np.where(big, left, cur), np.where(big, k_left, k_cur)
        largest = np.where(heapify & (right < size) & (k_right > k_big), right, largest)
        largest = np.where(heapify, largest, cur)
        # an extraction swaps the root into slot c and shrinks the heap first
        heap.size = size - extract
        heap.swap(np.where(extract, 0, cur), np.where(extract, c, largest))
        t += 1
        preds.append(heap.pred)
        parents.append(heap.parent)
        named.append(heap.elements(np.array((np.where(extract, 0, c), np.where(extract, c, cur),
                                             largest, heap.size - 1))))
        modes.append((sorting, extract))
        # what comes next
        ended = heapify & (largest == cur)  # this MAX-HEAPIFY call is over
        cur = np.where(heapify & ~ended, largest, np.where(extract, 0, cur))
        c = c - ended
        build_next = ended & ~sorting & (c >= 0)
        to_sort = ended & ~sorting & (c < 0)
        c = np.where(to_sort, n - 1, c)
        sorting = sorting | to_sort
        extract = ended & sorting & (c >= 1)
        finished = ended & sorting & (c < 1)
        cur = np.where(build_next, c, cur)
        lengths = np.where(finished, t, lengths)
        busy = busy & ~finished
    i, j, largest, heap_size = np.stack(named, axis=0).transpose(1, 0, 2)  # each [T, B]
    sorting, extract = np.array(modes).transpose(1, 0, 2)  # each [T, B]
    hints = dict(pred_h=preds.array(), parent=parents.array(), i=i, j=j,
                 largest=np.where(extract, 0, largest), heap_size=heap_size,
                 phase=np.where(sorting, np.where(extract, 1, 2), 0))
    return bulk_trajectories("heapsort", n, {"key": A}, hints, {"pred": heap.pred}, lengths)


@kernel("bubble_sort")
def bubble_sort(inputs: list[dict]):
    """Mirrors ``bubble_sort``: every sample compares the same slots ``j - 1``, ``j`` at the same
    step (swapping ``A[j] < A[j-1]``, stable), so the chunk runs in lockstep, one snapshot per
    comparison (T = 1 + n(n-1)/2).  Hint ``i`` (the element in slot ``i``) only changes when
    slot ``i`` takes part in a swap or a pass begins, so it is given at every snapshot."""
    A = stack(inputs, "A")
    B, n = A.shape
    order = SlotOrders(A)
    key, pos = A.copy(), order.pos
    links = [order.flat_links(order.base + np.array([[j - 1], [j], [j + 1]])) for j in range(n)]
    preds = PointerHistory(order.pred, 1 + n * (n - 1) // 2)
    named = [np.zeros((B, 2), dtype=np.int64)]
    for i in range(n - 1):
        for j in range(n - 1, i, -1):
            swap = (key[:, j] < key[:, j - 1])[:, None]
            for arr in (key, pos):
                pair = arr[:, j - 1:j + 1]
                pair[...] = np.where(swap, pair[:, ::-1], pair)
            order.relink(*links[j])  # slots j - 1, j, j + 1
            preds.append(order.pred)
            named.append(pos[:, (i, j)])
    i, j = np.stack(named).transpose(2, 0, 1)  # [T, B] each
    hints = dict(pred_h=preds.array(), i=i, j=j)
    return bulk_trajectories("bubble_sort", n, {"key": A}, hints, {"pred": order.pred},
                             np.full(B, preds.length))
