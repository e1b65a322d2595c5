"""Two-level minimisation of a multi-output function known on its care set only.

The LOCAL compiler (:mod:`nar.exact.local`) gives one care cube per rule call; every input outside
them is unreachable, a don't-care.  :func:`minimise` merges the care cubes into a small cover (the
rule's templates): greedy literal dropping against the OFF cubes, a greedy set cover, cubes shared
between outputs -- the expand / irredundant steps of ESPRESSO, without its reduce loop.  Cubes are
packed into uint64 words, so each containment or intersection test is one vectorised pass.
"""
from __future__ import annotations

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

    Per output: each ON cube not yet covered grows by dropping literals (in input order) while it
    meets no OFF cube; then a greedy set cover picks cubes among the new ones and those of earlier
    outputs that are also valid here (so cubes are shared and carry several output bits).  Never
    more cubes than care cubes with a 1 (else those are returned).
    Returns ``[(((bit, value), ...), (output, ...))]``."""
    R, n = X.shape
    M = np.ones_like(X, dtype=bool) if M is None else M
    Pm, Pv = _pack(M), _pack(X & M)
    bitmask = [(b // 64, np.uint64(1) << np.uint64(b % 64)) for b in range(n)]
    pool: list[tuple[np.ndarray, np.ndarray]] = []
    labels: list[set] = []
    for o in range(Y.shape[1]):
        on_m, on_v, off_m, off_v = Pm[Y[:, o]], Pv[Y[:, o]], Pm[~Y[:, o]], Pv[~Y[:, o]]
        if not len(on_m):
            continue
        cands, cover = [], []
        for c, (mask, value) in enumerate(pool):
            if not _meets(off_m, off_v, mask, value).any():
                cands.append(c)
                cover.append(_inside(on_m, on_v, mask, value))
        covered = np.any(cover, axis=0) if cover else np.zeros(len(on_m), dtype=bool)
        for i in range(len(on_m)):
            if covered[i]:
                continue
            mask, value = on_m[i].copy(), on_v[i].copy()
            for w, bit in bitmask:
                if not mask[w] & bit:
                    continue
                m2 = mask.copy()
                m2[w] &= ~bit
                v2 = value & m2
                if not _meets(off_m, off_v, m2, v2).any():
                    mask, value = m2, v2
            pool.append((mask, value))
            labels.append(set())
            cands.append(len(pool) - 1)
            hit = _inside(on_m, on_v, mask, value)
            cover.append(hit)
            covered |= hit
        # greedy set cover: the cube covering most uncovered ON cubes first
        left = np.ones(len(on_m), dtype=bool)
        C = np.array(cover)
        while left.any():
            best = int(np.argmax((C & left).sum(1)))
            labels[cands[best]].add(o)
            left &= ~C[best]
    cubes = []
    for (mask, value), outs in zip(pool, labels):
        if not outs:
            continue
        lits = tuple((b, bool(value[w] & bit)) for b, (w, bit) in enumerate(bitmask) if mask[w] & bit)
        cubes.append((lits, tuple(sorted(outs))))
    rows = np.flatnonzero(Y.any(1))
    if len(cubes) > len(rows):  # never worse than one template per care cube (possible for tiny functions)
        cubes = [(tuple((b, bool(X[r, b])) for b in range(n) if M[r, b]), tuple(np.flatnonzero(Y[r]).tolist()))
                 for r in rows]
    return cubes
