"""Batched kernels of the geometry algorithms (see :mod:`nar.algorithms.geometry`).

Coordinates are float64 ``[B, n]``; every cross product is evaluated with the same operations in
the same order as the per-sample code (numpy's float64 ufuncs round as Python floats do), so
orientation tests and recorded values are bit-identical.
"""
from __future__ import annotations

import math

import numpy as np

from . import kernel, per_sample
from .recorder import BatchRecorder


def _points(inputs: list[dict]):
    """``(x, y)`` as float64 ``[B, n]``, or ``None`` when the samples differ in size."""
    try:
        x = np.array([p["xs"] for p in inputs], dtype=np.float32)
    except ValueError:  # ragged
        return None
    # float32 values held as float64: what is stored (nar.validation)
    return x.astype(np.float64), np.array([p["ys"] for p in inputs], dtype=np.float32).astype(np.float64)


# ----------------------------------------------------------------------------- segments
@kernel("segments_intersect")
def segments_intersect(inputs: list[dict]):
    """Mirrors :func:`nar.algorithms.geometry.segments_intersect`: the four DIRECTION and
    ON-SEGMENT tests, one snapshot each, for every sample at once (T = 5 for all)."""
    loaded = _points(inputs)
    if loaded is None or loaded[0].shape[1] != 4:
        return per_sample("segments_intersect", inputs)
    x, y = loaded
    B = x.shape[0]
    rec = BatchRecorder("segments_intersect", 4, B)
    rec.input(x=x, y=y)
    dirs = np.zeros((B, 4))
    on_seg = np.zeros((B, 4), dtype=bool)
    rec.step(i=0, j=0, k=0, dir=dirs, on_seg=on_seg)
    for i, j, k in ((2, 3, 0), (2, 3, 1), (0, 1, 2), (0, 1, 3)):
        xi, xj, xk, yi, yj, yk = x[:, i], x[:, j], x[:, k], y[:, i], y[:, j], y[:, k]
        dirs[:, k] = (xk - xi) * (yj - yi) - (xj - xi) * (yk - yi)
        on_seg[:, k] = ((np.minimum(xi, xj) <= xk) & (xk <= np.maximum(xi, xj))
                        & (np.minimum(yi, yj) <= yk) & (yk <= np.maximum(yi, yj)))
        rec.step(i=i, j=j, k=k, dir=dirs, on_seg=on_seg)
    d0, d1, d2, d3 = dirs.T
    straddle = (((d0 > 0) & (d1 < 0)) | ((d0 < 0) & (d1 > 0))) & \
               (((d2 > 0) & (d3 < 0)) | ((d2 < 0) & (d3 > 0)))
    touch = ((dirs == 0) & on_seg).any(axis=1)
    rec.output(intersect=straddle | touch)
    return rec.finish()


# ----------------------------------------------------------------------------- convex hulls
def _lowest(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per sample, the lowest point, ties to the leftmost, then to the smallest index."""
    low = y == y.min(axis=1, keepdims=True)
    left = np.where(low, x, np.inf).min(axis=1, keepdims=True)
    return np.argmax(low & (x == left), axis=1)


def _active(live: np.ndarray):
    """``active`` for :meth:`BatchRecorder.step`: ``None`` (the fast path) when every sample is live."""
    return None if live.all() else live


@kernel("jarvis_march")
def jarvis_march(inputs: list[dict]):
    """Mirrors :func:`nar.algorithms.geometry.jarvis_march`: the rounds of every sample run in
    lockstep (n snapshots each, then the one adding ``endpoint``); a sample stops at the round
    whose ``endpoint`` is already in its hull."""
    loaded = _points(inputs)
    if loaded is None:
        return per_sample("jarvis_march", inputs)
    x, y = loaded
    B, n = x.shape
    rows = np.arange(B)
    rec = BatchRecorder("jarvis_march", n, B)
    rec.input(x=x, y=y)
    in_hull = np.zeros((B, n), dtype=bool)
    zero = np.zeros(B, dtype=np.int64)
    rec.step(pred_h=np.maximum(np.arange(n) - 1, 0), in_hull_h=in_hull, best=zero, last_point=zero,
             endpoint=zero, i=zero, phase=zero)
    best = _lowest(x, y)
    in_hull[rows, best] = True
    last, end = best, zero
    rec.step(in_hull_h=in_hull, best=best, last_point=last, endpoint=end, phase=zero + 1)
    live = np.ones(B, dtype=bool)
    while True:
        active = _active(live)
        # [i, b] = x[i] - x[last] of sample b, the per-sample ix (and ex at i = end); flat for take
        dx = (x - x[rows, last][:, None]).T.copy()
        dy = (y - y[rows, last][:, None]).T.copy()
        dist = dx * dx + dy * dy
        flat_dx, flat_dy, flat_dist = dx.ravel(), dy.ravel(), dist.ravel()
        for i in range(n):
            at_end = end * B + rows
            ex, ey = flat_dx.take(at_end), flat_dy.take(at_end)
            cross = ex * dy[i] - ey * dx[i]
            # i == last or i == end (skipped by the per-sample code) never turn: cross is then
            # 0 (or NaN) and dist[i] is 0 or dist[end]
            turn = (cross < 0) | ((cross == 0) & (dist[i] > flat_dist.take(at_end)))
            end = np.where(turn | (end == last), i, end)
            rec.step(active=active, endpoint=end, i=i)
        live &= ~in_hull[rows, end]
        if not live.any():
            break
        in_hull[rows[live], end[live]] = True
        last = np.where(live, end, last)
        end = np.zeros(B, dtype=np.int64)
        rec.step(active=_active(live), in_hull_h=in_hull, last_point=last, endpoint=end, i=end)
    rec.output(in_hull=in_hull)
    return rec.finish()


def _polar_angles(x: np.ndarray, y: np.ndarray, best: np.ndarray) -> np.ndarray:
    """``atan2(y - y_best, x - x_best)`` per point, 0 at ``best``.  ``math.atan2``, as the
    per-sample code: numpy's vectorised arctan2 may differ in the last bit."""
    B, n = x.shape
    rows = np.arange(B)
    dy = (y - y[rows, best][:, None]).ravel().tolist()
    dx = (x - x[rows, best][:, None]).ravel().tolist()
    atans = np.array(list(map(math.atan2, dy, dx))).reshape(B, n)
    atans[rows, best] = 0.0
    return atans


@kernel("graham_scan")
def graham_scan(inputs: list[dict]):
    """Mirrors :func:`nar.algorithms.geometry.graham_scan`: the three set-up snapshots for all,
    then the scans in lockstep, each snapshot one pop (``phase`` 3) or one push (``phase`` 4) of
    a sample's current point; a sample ends after pushing its last point."""
    loaded = _points(inputs)
    if loaded is None:
        return per_sample("graham_scan", inputs)
    x, y = loaded
    B, n = x.shape
    rows = np.arange(B)
    rec = BatchRecorder("graham_scan", n, B)
    rec.input(x=x, y=y)
    in_hull = np.zeros((B, n), dtype=bool)
    prev = np.tile(np.arange(n), (B, 1))  # stack_prev: below on the stack, self when off it
    zero = np.zeros(B, dtype=np.int64)
    rec.step(best=zero, atans=np.zeros((B, n)), in_hull_h=in_hull, stack_prev=prev,
             last_stack=zero, i=zero, phase=zero)
    best = _lowest(x, y)
    in_hull[rows, best] = True
    rec.step(best=best, in_hull_h=in_hull, last_stack=best, i=best, phase=zero + 1)

    atans = _polar_angles(x, y, best)
    dist = (x - x[rows, best][:, None]) ** 2 + (y - y[rows, best][:, None]) ** 2
    order = np.lexsort((np.broadcast_to(np.arange(n), (B, n)), dist, atans), axis=-1)
    order = order[order != best[:, None]].reshape(B, n - 1)  # the scan order, best left out
    rec.step(atans=atans, phase=zero + 2)

    top = best.copy()
    at = np.zeros(B, dtype=np.int64)  # position in the scan order
    live = at < n - 1
    while live.any():
        p = order[rows, np.minimum(at, n - 2)]
        below = prev[rows, top]
        xi, yi, xj, yj = x[rows, below], y[rows, below], x[rows, top], y[rows, top]
        cross = (xj - xi) * (y[rows, p] - yi) - (yj - yi) * (x[rows, p] - xi)
        pop = live & (top != best) & (cross <= 0)
        sel = np.flatnonzero(pop)
        gone = top[sel]
        prev[sel, gone] = gone
        in_hull[sel, gone] = False
        top = np.where(pop, below, top)
        push = live & ~pop
        sel = np.flatnonzero(push)
        put = p[sel]
        in_hull[sel, put] = True
        prev[sel, put] = top[sel]
        top = np.where(push, p, top)
        rec.step(active=_active(live), in_hull_h=in_hull, stack_prev=prev, last_stack=top, i=p,
                 phase=np.where(pop, 3, 4))
        at += push
        live = at < n - 1
    rec.output(in_hull=in_hull)
    return rec.finish()
