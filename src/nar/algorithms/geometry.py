"""CLRS-30 computational geometry (CLRS ch. 33), traced with :class:`nar.trace.Tracer`.

Points are given as coordinate vectors ``xs``, ``ys`` (finite, same length); node ``i`` is point
``(xs[i], ys[i])``.  Orientation tests are the reference's float64 cross products, so hints equal
the reference's bit for bit on its inputs; exact answers on degenerate input (collinear points,
touching segments) are guaranteed where float64 arithmetic is exact (e.g. integer coordinates).

Degenerate convex-hull input: the reference loops forever (graham_scan) or returns an incomplete
hull (jarvis_march) on some collinear inputs.  Here both return ``in_hull`` = the *vertices* of the
convex hull (points on a hull edge but not at a corner are left out), with trajectories equal to
the reference's whenever no three points are collinear (the CLRS sampler ensures it); the
changes are documented on each function.  Coincident points are rejected (their hull membership
is ambiguous).
"""
from __future__ import annotations

import math

import numpy as np

from ..trace import Tracer, Trajectory
from ..validation import InputError, as_vector
from .registry import register


def _points(algorithm: str, xs, ys, *, distinct: bool = False) -> tuple[np.ndarray, np.ndarray]:
    xs = as_vector(algorithm, "xs", xs)
    ys = as_vector(algorithm, "ys", ys)
    if xs.shape != ys.shape:
        raise InputError(f"{algorithm}: xs and ys must have the same length, got {xs.shape[0]} "
                         f"and {ys.shape[0]}")
    if distinct and xs.shape[0] > 1:
        order = np.lexsort((ys, xs))
        same = (np.diff(xs[order]) == 0) & (np.diff(ys[order]) == 0)
        if same.any():
            k = int(np.argmax(same))
            a, b = sorted((int(order[k]), int(order[k + 1])))
            raise InputError(f"{algorithm}: points must be distinct; points {a} and {b} are both "
                             f"({xs[a]}, {ys[a]})")
    return xs, ys


def _cross(x, y, i: int, j: int, k: int) -> float:
    """``(p_j - p_i) x (p_k - p_i)``: > 0 when ``i -> j -> k`` turns left (counter-clockwise)."""
    return (x[j] - x[i]) * (y[k] - y[i]) - (y[j] - y[i]) * (x[k] - x[i])


def _lowest(x: list, y: list) -> int:
    """Index of the lowest point, ties to the leftmost, then to the smallest index (as CLRS)."""
    best = 0
    for i in range(1, len(x)):
        if y[i] < y[best] or (y[i] == y[best] and x[i] < x[best]):
            best = i
    return best


# ----------------------------------------------------------------------------- segments
def _direction(x, y, i: int, j: int, k: int) -> float:
    """CLRS DIRECTION ``(p_k - p_i) x (p_j - p_i)``: > 0 when ``p_k`` is right of ``i -> j``."""
    return (x[k] - x[i]) * (y[j] - y[i]) - (x[j] - x[i]) * (y[k] - y[i])


def _on_segment(x, y, i: int, j: int, k: int) -> int:
    """1 if ``p_k`` lies in the bounding box of segment ``p_i p_j`` (CLRS ON-SEGMENT)."""
    return int(min(x[i], x[j]) <= x[k] <= max(x[i], x[j])
               and min(y[i], y[j]) <= y[k] <= max(y[i], y[j]))


@register("segments_intersect", "geometry")
def segments_intersect(xs, ys) -> Trajectory:
    """Whether closed segment ``p0 p1`` meets closed segment ``p2 p3`` (CLRS 33.1 SEGMENTS-INTERSECT).

    Exactly 4 points.  ``dir[k]`` is the direction of ``p_k`` relative to the other segment
    ``(i, j)``: ``(p_k - p_i) x (p_j - p_i)`` (CLRS DIRECTION; > 0: ``p_k`` right of ``i -> j``),
    ``on_seg[k]`` the ON-SEGMENT test.  Snapshots: the zero initial state (``i = j = k = 0``),
    then one per endpoint ``k = 0, 1`` (segment ``(2, 3)``) and ``k = 2, 3`` (segment ``(0, 1)``):
    T = 5.  Output ``intersect``: the segments straddle each other strictly, or an endpoint with
    ``dir = 0`` lies on the other segment (touching and collinear overlaps count).
    """
    xs, ys = _points("segments_intersect", xs, ys)
    if xs.shape[0] != 4:
        raise InputError(f"segments_intersect: needs exactly 4 points (segments (0, 1) and (2, 3)), "
                         f"got {xs.shape[0]}")
    tr = Tracer("segments_intersect", 4)
    tr.input(x=xs, y=ys)
    x, y = xs.tolist(), ys.tolist()
    dirs = [0.0] * 4
    on_seg = [0] * 4
    tr.step(i=0, j=0, k=0, dir=dirs, on_seg=on_seg)
    for i, j, k in ((2, 3, 0), (2, 3, 1), (0, 1, 2), (0, 1, 3)):
        dirs[k] = _direction(x, y, i, j, k)
        on_seg[k] = _on_segment(x, y, i, j, k)
        tr.step(i=i, j=j, k=k, dir=dirs, on_seg=on_seg)
    d0, d1, d2, d3 = dirs
    straddle = ((d0 > 0 > d1) or (d0 < 0 < d1)) and ((d2 > 0 > d3) or (d2 < 0 < d3))
    touch = any(d == 0 and on for d, on in zip(dirs, on_seg))
    tr.output(intersect=float(straddle or touch))
    return tr.finish()


# ----------------------------------------------------------------------------- convex hulls
@register("graham_scan", "geometry")
def graham_scan(xs, ys) -> Trajectory:
    """Graham's scan (CLRS 33.3): ``in_hull`` marks the convex hull's vertices.

    Phases (``phase`` has 5 classes): 0 the initial state; 1 ``best`` = the lowest point (ties:
    leftmost, then smallest index), pushed on the stack; 2 ``atans`` = polar angle
    ``atan2(y - y_best, x - x_best)`` of every point (0 at ``best``), the scan order sorting by it;
    3 a pop (the top turns right or goes straight: cross <= 0); 4 a push of ``i``.  The stack is a
    linked list: ``stack_prev`` points below (self when off the stack), ``last_stack`` is the top.

    Differences from the reference, none of which changes a trajectory when no three points are
    (numerically) collinear: equal angles are ordered by distance to ``best``, then index (the
    reference's argsort order is unspecified); the pop test already runs before the 2nd point
    after ``best`` is pushed (the reference pushes the first two unchecked) and never pops
    ``best`` (the reference then loops forever, e.g. on four points on a line).
    """
    xs, ys = _points("graham_scan", xs, ys, distinct=True)
    n = xs.shape[0]
    tr = Tracer("graham_scan", n)
    tr.input(x=xs, y=ys)
    x, y = xs.tolist(), ys.tolist()
    in_hull = np.zeros(n)
    stack_prev = np.arange(n)
    tr.step(best=0, atans=np.zeros(n), in_hull_h=in_hull, stack_prev=stack_prev, last_stack=0,
            i=0, phase=0)

    best = _lowest(x, y)
    in_hull[best] = 1
    tr.step(best=best, in_hull_h=in_hull, last_stack=best, i=best, phase=1)

    xb, yb = x[best], y[best]
    atans = [math.atan2(yi - yb, xi - xb) for xi, yi in zip(x, y)]  # math, as CLRS: bit-exact
    atans[best] = 0.0
    dist = (xs - xb) ** 2 + (ys - yb) ** 2
    order = np.lexsort((np.arange(n), dist, np.array(atans))).tolist()
    order.remove(best)
    tr.step(atans=atans, phase=2)

    prev = stack_prev.tolist()  # mirrors stack_prev for fast scalar reads
    top = best
    for p in order:
        while top != best and _cross(x, y, prev[top], top, p) <= 0:
            popped, top = top, prev[top]
            prev[popped] = popped
            stack_prev[popped] = popped
            in_hull[popped] = 0
            tr.step(in_hull_h=in_hull, stack_prev=stack_prev, last_stack=top, i=p, phase=3)
        in_hull[p] = 1
        prev[p] = top
        stack_prev[p] = top
        top = p
        tr.step(in_hull_h=in_hull, stack_prev=stack_prev, last_stack=top, i=p, phase=4)
    tr.output(in_hull=in_hull)
    return tr.finish()


@register("jarvis_march", "geometry")
def jarvis_march(xs, ys) -> Trajectory:
    """Jarvis's march (CLRS 33.3): ``in_hull`` marks the convex hull's vertices.

    From ``last_point`` (first: ``best``, the lowest point, ties leftmost), every point ``i`` in
    index order is tried as the next hull point: ``endpoint`` becomes ``i`` when ``i`` lies right of
    (clockwise from) ``last_point -> endpoint``; one snapshot per ``i`` (``phase`` 1).  A round
    ends by adding ``endpoint`` to the hull (a snapshot, ``endpoint`` reset to node 0), or stops
    when ``endpoint`` is already in the hull.  ``phase`` (2 classes): 0 only for the initial state;
    ``pred_h`` is the constant list order of the points (``i -> i - 1``, node 0 to itself).

    Difference from the reference, which never changes a trajectory when no three points are
    collinear: the reference also moves to ``i`` when it is collinear with ``last_point`` and
    ``endpoint`` (cross = 0); here only when ``i`` is farther from ``last_point``, so collinear
    points on a hull edge are skipped (the reference can stop early with an incomplete hull).
    """
    xs, ys = _points("jarvis_march", xs, ys, distinct=True)
    n = xs.shape[0]
    tr = Tracer("jarvis_march", n)
    tr.input(x=xs, y=ys)
    x, y = xs.tolist(), ys.tolist()
    in_hull = np.zeros(n)
    pred = np.maximum(np.arange(n) - 1, 0)  # the points as a list in index order (CLRS probing.array)
    tr.step(pred_h=pred, in_hull_h=in_hull, best=0, last_point=0, endpoint=0, i=0, phase=0)

    best = _lowest(x, y)
    in_hull[best] = 1
    hull = {best}
    last, end = best, 0
    tr.step(in_hull_h=in_hull, best=best, last_point=last, endpoint=end, phase=1)
    while True:
        xl, yl = x[last], y[last]
        for i in range(n):
            if end == last:
                end = i
            elif i != last and i != end:
                ex, ey = x[end] - xl, y[end] - yl
                ix, iy = x[i] - xl, y[i] - yl
                cross = ex * iy - ey * ix
                if cross < 0 or (cross == 0 and ix * ix + iy * iy > ex * ex + ey * ey):
                    end = i
            tr.step(endpoint=end, i=i)
        if end in hull:
            break
        hull.add(end)
        in_hull[end] = 1
        last, end = end, 0
        tr.step(in_hull_h=in_hull, last_point=last, endpoint=end, i=0)
    tr.output(in_hull=in_hull)
    return tr.finish()
