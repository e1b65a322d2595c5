"""Two-level minimisation of a multi-output function known on its care set only.

The LOCAL compiler (:mod:`nar.exact.local`) gives one care cube per rule call; every input outside
them is unreachable, a don't-care.  :func:`minimise` merges the care cubes into a small cover (the
rule's templates): cubes grown against the OFF cubes (for all outputs of a care cube, and for each
alone), then a greedy set cover over (care cube, output) pairs -- the expand / irredundant steps
of ESPRESSO, without its reduce loop.  Cubes are
packed into uint64 words, so each containment or intersection test is one vectorised pass.
"""
from __future__ import annotations

import heapq

import numpy as np


def _pack(X: np.ndarray) -> np.ndarray:
    """Rows of a bool matrix as ``[R, W]`` uint64 words."""
    R, n = X.shape
    W = max(1, -(-n // 64))
    out = np.zeros((R, W), dtype=np.uint64)
    for w in range(W):
        chunk = X[:, w * 64:(w + 1) * 64].astype(np.uint64)
        out[:, w] = (chunk << np.arange(chunk.shape[1], dtype=np.uint64)).sum(1, dtype=np.uint64)
    return out


def _meets(Pm: np.ndarray, Pv: np.ndarray, mask: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Which cubes ``(Pm, Pv)`` (packed ``[R, W]``) intersect the cube ``(mask, value)``."""
    return (((Pv ^ value) & Pm & mask) == 0).all(1)


def _inside(Pm: np.ndarray, Pv: np.ndarray, mask: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Which cubes ``(Pm, Pv)`` lie inside the cube ``(mask, value)``."""
    return (((mask & ~Pm) == 0) & ((Pv & mask) == value)).all(1)


def minimise(X: np.ndarray, Y: np.ndarray, M: np.ndarray | None = None) -> list:
    """A cover of a multi-output function given on its care set only: care cube ``r`` fixes the
    bits ``M[r]`` to ``X[r]`` (``M`` all true: minterms) and has outputs ``Y[r]``; inputs outside
    every care cube are don't-cares.

    Candidates: for each care cube with an output not yet covered by a candidate, the cube grown
    (dropping literals in input order) while it meets no OFF cube of *all* its outputs, and grown
    for each such output alone; a candidate serves every output none of whose OFF cubes it meets.
    A greedy set cover (lazy gains) over the (care cube, output) pairs then picks candidates, each
    labelled with the outputs it was picked for.  Never more cubes than care cubes with a 1 (else
    those are returned).  Returns ``[(((bit, value), ...), (output, ...))]``."""
    R, n = X.shape
    O = Y.shape[1]
    M = np.ones_like(X, dtype=bool) if M is None else M
    Pm, Pv = _pack(M), _pack(X & M)
    bitmask = [(b // 64, np.uint64(1) << np.uint64(b % 64)) for b in range(n)]
    off = [(Pm[~Y[:, o]], Pv[~Y[:, o]]) for o in range(O)]

    def grow(r, outs):
        bad = ~Y[:, outs].all(1)
        om, ov = Pm[bad], Pv[bad]
        mask, value = Pm[r].copy(), Pv[r].copy()
        for w, bit in bitmask:
            if mask[w] & bit:
                m2 = mask.copy()
                m2[w] &= ~bit
                v2 = value & m2
                if not _meets(om, ov, m2, v2).any():
                    mask, value = m2, v2
        return mask, value

    cands, seen = [], set()          # (mask, value, element ids covered: r * O + o)
    covered = np.zeros((R, O), dtype=bool)
    for r in np.flatnonzero(Y.any(1)):
        outs = np.flatnonzero(Y[r])
        for group in [outs] + [[o] for o in outs]:
            if covered[r, group].all():
                continue
            mask, value = grow(r, list(group))
            key = (mask.tobytes(), value.tobytes())
            if key in seen:
                continue
            seen.add(key)
            valid = np.array([not _meets(*off[o], mask, value).any() for o in range(O)])
            hit = _inside(Pm, Pv, mask, value)[:, None] & Y & valid[None, :]
            covered |= hit
            cands.append((mask, value, np.flatnonzero(hit)))
    # lazy greedy set cover: a candidate's gain only shrinks as others are picked
    left = Y.reshape(-1).copy()
    heap = [(-len(e), c) for c, (_, _, e) in enumerate(cands)]
    heapq.heapify(heap)
    cubes = []
    while left.any() and heap:
        _, c = heapq.heappop(heap)
        elems = cands[c][2]
        gain = int(left[elems].sum())
        if gain == 0:
            continue
        if heap and gain < -heap[0][0]:
            heapq.heappush(heap, (-gain, c))
            continue
        new = elems[left[elems]]
        left[new] = False
        mask, value = cands[c][0], cands[c][1]
        lits = tuple((b, bool(value[w] & bit)) for b, (w, bit) in enumerate(bitmask) if mask[w] & bit)
        cubes.append((lits, tuple(sorted(set((new % O).tolist())))))
    rows = np.flatnonzero(Y.any(1))
    if len(cubes) > len(rows):  # never worse than one template per care cube (possible for tiny functions)
        cubes = [(tuple((b, bool(X[r, b])) for b in range(n) if M[r, b]), tuple(np.flatnonzero(Y[r]).tolist()))
                 for r in rows]
    return cubes
