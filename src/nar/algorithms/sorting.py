"""CLRS-30 sorting algorithms (CLRS ch. 2, 6, 7), traced with :class:`nar.trace.Tracer`.

Every sort records ``pred_h``: the predecessor of each original element in the current array order
(the first element points to itself), and outputs ``pred`` for the final sorted order.  Node hints
(``i``, ``j``, ...) name the *original* index of the element standing in the slot the textbook
variable points at, as in the CLRS reference (``clrs/_src/algorithms/sorting.py``).
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


def identity_pointers(n: int) -> np.ndarray:
    """Predecessor pointers of the input order ``0, 1, ..., n-1``: ``[0, 0, 1, ..., n-2]``."""
    ptr = np.arange(-1, n - 1)
    ptr[0] = 0
    return ptr


class ArrayOrder:
    """An array being permuted in place: its keys (Python floats), ``pos[k]`` the original index of
    the element in slot ``k``, and ``pred`` the predecessor pointers of that order, kept up to date
    by :meth:`swap` (only the links around the two slots change)."""

    __slots__ = ("key", "pos", "pred", "n")

    def __init__(self, keys: np.ndarray):
        self.n = keys.shape[0]
        self.key = keys.tolist()
        self.pos = list(range(self.n))
        self.pred = identity_pointers(self.n)

    def swap(self, a: int, b: int) -> bool:
        """Exchange slots ``a`` and ``b``; returns whether the order changed (``a != b``)."""
        if a == b:
            return False
        key, pos, pred, n = self.key, self.pos, self.pred, self.n
        key[a], key[b] = key[b], key[a]
        pos[a], pos[b] = pos[b], pos[a]
        for k in (a, a + 1, b, b + 1):  # the links into the two slots and out of them
            if k < n:
                pred[pos[k]] = pos[k - 1] if k else pos[0]
        return True

    def move(self, a: int, b: int) -> None:
        """Move the element in slot ``a`` to slot ``b < a``, shifting slots ``b..a-1`` right."""
        key, pos, pred, n = self.key, self.pos, self.pred, self.n
        key.insert(b, key.pop(a))
        pos.insert(b, pos.pop(a))
        for k in (b, b + 1, a + 1):  # only these slots got a new left neighbour
            if k < n:
                pred[pos[k]] = pos[k - 1] if k else pos[0]


def lomuto_partition(order: ArrayOrder, p: int, r: int):
    """CLRS PARTITION of slots ``p..r`` around the pivot ``key[r]`` (``<=`` goes left).

    A generator: yields ``(i1, j, changed)`` after every comparison (``i1`` = the textbook's
    ``i + 1``) and once more after the pivot is moved to slot ``i1`` (then ``j == r``; ``i1`` is the
    pivot's final slot ``q``).  ``changed``: whether ``pred`` moved since the previous yield.
    """
    key = order.key
    x = key[r]
    i = p - 1
    for j in range(p, r):
        changed = False
        if key[j] <= x:
            i += 1
            changed = order.swap(i, j)
        yield i + 1, j, changed
    yield i + 1, r, order.swap(i + 1, r)


@register("insertion_sort", "sorting")
def insertion_sort(A) -> Trajectory:
    """Insertion sort (CLRS 2.1).  Hints: ``j`` the outer index, ``i`` the element that held slot
    ``i+1`` before ``A[j]`` was inserted there (``A[j]`` itself when nothing moved); one snapshot
    per outer iteration (T = n).  Stable: equal keys keep their input order."""
    A = as_vector("insertion_sort", "A", A)
    n = A.shape[0]
    tr = Tracer("insertion_sort", n)
    tr.input(key=A)
    order = ArrayOrder(A)
    key, pos, pred = order.key, order.pos, order.pred
    tr.step(pred_h=pred, i=0, j=0)
    for j in range(1, n):
        kj = key[j]
        i = j - 1
        while i >= 0 and key[i] > kj:
            i -= 1
        displaced = pos[i + 1]  # == j when nothing moves
        if i + 1 < j:
            order.move(j, i + 1)
            tr.step(pred_h=pred, i=displaced, j=j)
        else:
            tr.step(i=displaced, j=j)
    tr.output(pred=pred)
    return tr.finish()


@register("bubble_sort", "sorting")
def bubble_sort(A) -> Trajectory:
    """Bubble sort (CLRS problem 2-2): for ``i`` in ``0..n-2``, ``j`` runs down from ``n-1`` to
    ``i+1`` swapping ``A[j] < A[j-1]``.  One snapshot per comparison, after the swap (T = 1 +
    n(n-1)/2); hints ``i``, ``j`` are the elements now in slots ``i`` and ``j``.  Stable."""
    A = as_vector("bubble_sort", "A", A)
    n = A.shape[0]
    tr = Tracer("bubble_sort", n)
    tr.input(key=A)
    order = ArrayOrder(A)
    key, pos, pred = order.key, order.pos, order.pred
    tr.step(pred_h=pred, i=0, j=0)
    for i in range(n - 1):
        for j in range(n - 1, i, -1):
            if key[j] < key[j - 1]:
                order.swap(j - 1, j)
                tr.step(pred_h=pred, i=pos[i], j=pos[j])
            elif j == n - 1:  # a new pass: a new slot i
                tr.step(i=pos[i], j=pos[j])
            else:  # slot i holds the same element while nothing moves
                tr.step(j=pos[j])
    tr.output(pred=pred)
    return tr.finish()


class _Heap(ArrayOrder):
    """An :class:`ArrayOrder` holding a 0-based max-heap in slots ``0..size-1``, with the CLRS
    ``heap`` probe kept up to date: the element in slot ``0 < k < size`` points to the one in slot
    ``(k-1)//2``; the root and the elements outside the heap point to themselves."""

    __slots__ = ("size", "parent")

    def __init__(self, keys: np.ndarray):
        super().__init__(keys)
        self.size = self.n
        self.parent = np.arange(self.n)
        self.parent[1:] = (self.parent[1:] - 1) // 2

    def _repoint(self, slots) -> None:
        pos, parent, n, size = self.pos, self.parent, self.n, self.size
        for k in slots:
            if k < n:
                parent[pos[k]] = pos[(k - 1) // 2] if 0 < k < size else pos[k]

    def exchange(self, a: int, b: int) -> None:
        """Swap two heap slots; re-point them and their children."""
        self.swap(a, b)
        self._repoint((a, b, 2 * a + 1, 2 * a + 2, 2 * b + 1, 2 * b + 2))

    def extract(self, i: int) -> None:
        """Swap the root into slot ``i = size - 1`` and shrink the heap by one."""
        self.swap(0, i)
        self.size -= 1
        self._repoint((0, 1, 2, i))


@register("heapsort", "sorting")
def heapsort(A) -> Trajectory:
    """Heapsort (CLRS 6.4) with a 0-based max-heap.

    Snapshots: the initial state (every node hint on the last node, phase 0); one per
    MAX-HEAPIFY call (recursive calls included), phase 0 while building the heap and 2 while
    sorting; and one per extraction (swap of the root with slot ``i``, phase 1).  Hints:
    ``parent`` the heap's parent pointers over the current heap, ``i`` the element in the slot the
    caller was working on (BUILD's ``i`` / the extraction slot), ``j`` the element now in the
    heapified slot, ``largest`` the element now in the slot of the largest child (node 0 itself in
    extraction steps, as the reference), ``heap_size`` the last element of the heap.  Not stable.
    """
    A = as_vector("heapsort", "A", A)
    n = A.shape[0]
    tr = Tracer("heapsort", n)
    tr.input(key=A)
    heap = _Heap(A)
    key, pos, pred, parent = heap.key, heap.pos, heap.pred, heap.parent
    last = n - 1
    tr.step(pred_h=pred, parent=parent, i=last, j=last, largest=last, heap_size=last, phase=0)

    def max_heapify(i: int, caller: int, phase: int) -> None:
        size = heap.size
        hints = {"phase": phase} if phase else {}  # phase 0 holds from the first snapshot on
        first = True
        while True:
            left, right = 2 * i + 1, 2 * i + 2
            largest = left if left < size and key[left] > key[i] else i
            if right < size and key[right] > key[largest]:
                largest = right
            if largest != i:
                heap.exchange(i, largest)
                hints.update(pred_h=pred, parent=parent)
            if first or largest != i:  # elements change slots only together with pred_h
                hints.update(i=pos[caller], heap_size=pos[size - 1])
            tr.step(j=pos[i], largest=pos[largest], **hints)
            if largest == i:
                return
            hints, first, i = {}, False, largest

    for i in range(n - 1, -1, -1):
        max_heapify(i, i, 0)
    for i in range(n - 1, 0, -1):
        heap.extract(i)
        tr.step(pred_h=pred, parent=parent, i=pos[0], j=pos[i], largest=0,
                heap_size=pos[heap.size - 1], phase=1)
        max_heapify(0, i, 2)
    tr.output(pred=pred)
    return tr.finish()


@register("quicksort", "sorting")
def quicksort(A) -> Trajectory:
    """Quicksort (CLRS 7.1) with the Lomuto PARTITION (pivot ``A[r]``, ``<=`` goes left), left part
    first.  One snapshot per comparison of PARTITION and one after the pivot is placed; hints
    ``p``, ``r``, ``i`` (slot ``i+1``), ``j`` name the elements in those slots.  Not stable.

    Deviation: CLRS records no initial state, so for ``n = 1`` (no partition at all) its
    trajectory is empty (the reference fails); we record one snapshot with every hint on node 0.
    """
    A = as_vector("quicksort", "A", A)
    n = A.shape[0]
    tr = Tracer("quicksort", n)
    tr.input(key=A)
    order = ArrayOrder(A)
    pos, pred = order.pos, order.pred
    if n == 1:
        tr.step(pred_h=pred, p=0, r=0, i=0, j=0)
    stack = [(0, n - 1)]  # explicit stack: same order as the recursion, no depth limit
    while stack:
        p, r = stack.pop()
        if p >= r:
            continue
        new = True  # a new partition: other slots p and r
        for i1, j, changed in lomuto_partition(order, p, r):
            if new or changed:  # elements change slots only together with pred_h
                tr.step(pred_h=pred, p=pos[p], r=pos[r], i=pos[i1], j=pos[j])
                new = False
            else:
                tr.step(i=pos[i1], j=pos[j])
        q = i1
        stack.append((q + 1, r))
        stack.append((p, q - 1))
    tr.output(pred=pred)
    return tr.finish()
