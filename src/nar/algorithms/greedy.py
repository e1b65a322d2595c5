"""CLRS-30 greedy algorithms (CLRS ch. 16), traced with :class:`nar.trace.Tracer`.

Both algorithms scan the items in a greedy order and take one snapshot per item scanned, after an
initial all-empty snapshot (T = n + 1).  ``pred_h`` is the constant array-order chain
(``pred_h[i] = i - 1``, the first item points to itself).  Ties in the greedy order are broken
deterministically (see each function); the reference uses numpy's default, unstable argsort, whose
order among ties is unspecified, so the two agree whenever the sort keys are distinct (always, on
the default continuous samplers).
"""
from __future__ import annotations

import numpy as np

from ..trace import Tracer, Trajectory
from ..validation import InputError, as_vector
from .registry import register


def chain_pointers(n: int) -> np.ndarray:
    """CLRS ``array`` probe of the identity order: ``[0, 0, 1, ..., n - 2]``."""
    return np.maximum(np.arange(n) - 1, 0)


def _same_length(algorithm: str, a_name: str, a: np.ndarray, b_name: str, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise InputError(f"{algorithm}: {a_name} and {b_name} must have the same length, "
                         f"got {a.shape[0]} and {b.shape[0]}")


@register("activity_selector", "greedy")
def activity_selector(s, f) -> Trajectory:
    """Activity selection (CLRS 16.1, GREEDY-ACTIVITY-SELECTOR) on activities ``[s[i], f[i])``.

    Scans activities by increasing finish time, keeping one when it starts no earlier than the last
    kept one finishes (``s >= f[k]``).  Equal finish times are scanned by increasing start time,
    then index, so an empty activity ``s = f`` comes after the others ending there and the kept set
    stays a largest compatible one.  Hints: ``selected_h`` the kept set, ``m`` the activity
    scanned, ``k`` the last kept one (both 0 in the initial snapshot).  Shapes: ``s``, ``f`` ``[n]``.
    """
    name = "activity_selector"
    s = as_vector(name, "s", s)
    f = as_vector(name, "f", f)
    _same_length(name, "s", s, "f", f)
    if np.any(s > f):
        i = int(np.argmax(s > f))
        raise InputError(f"{name}: every activity needs s <= f, got s[{i}]={s[i]} > f[{i}]={f[i]}")
    n = s.shape[0]
    tr = Tracer(name, n)
    tr.input(s=s, f=f)
    selected = np.zeros(n, dtype=np.float32)
    tr.step(pred_h=chain_pointers(n), selected_h=selected, m=0, k=0)

    order = np.lexsort((s, f)).tolist()  # by f, then s, then index
    start, finish = s.tolist(), f.tolist()
    k = order[0]
    selected[k] = 1
    tr.step(selected_h=selected, m=k, k=k)
    for m in order[1:]:
        if start[m] >= finish[k]:
            k = m
            selected[k] = 1
            tr.step(selected_h=selected, m=m, k=k)
        else:
            tr.step(m=m)
    tr.output(selected=selected)
    return tr.finish()


@register("task_scheduling", "greedy")
def task_scheduling(d, w) -> Trajectory:
    """Unit-time task scheduling with deadlines ``d`` (integers >= 1) and weights ``w``, the
    CLRS-30 greedy (after CLRS 16.5): scan the tasks by decreasing weight and keep a task when
    fewer than its deadline have been kept so far (``t < d[i]``).  Equal weights are scanned by
    index.

    Hints: ``selected_h`` the kept set, ``i`` the task scanned (0 initially), ``t`` the number of
    tasks kept.  Shapes: ``d``, ``w`` ``[n]``.

    Kept as the CLRS-30 benchmark defines it, not the textbook's matroid GREEDY: the test
    ``t < d[i]`` is sufficient for the kept set to stay independent (schedulable with every kept
    task on time) but not necessary, so a feasible task can be rejected and the kept weight can be
    below the optimum (weights 3, 2, 1 with deadlines 2, 1, 2: it keeps tasks 0 and 2, weight 4;
    {0, 1} weighs 5).  On CLRS's default inputs this happens in most samples; the hint ``t`` is
    exactly the quantity the rule compares, which the exact independence test would not be.
    """
    name = "task_scheduling"
    d = as_vector(name, "d", d, integer=True, low=1)
    w = as_vector(name, "w", w)
    _same_length(name, "d", d, "w", w)
    n = d.shape[0]
    tr = Tracer(name, n)
    tr.input(d=d, w=w)
    selected = np.zeros(n, dtype=np.float32)
    tr.step(pred_h=chain_pointers(n), selected_h=selected, i=0, t=0)
    deadline = d.tolist()
    t = 0
    for i in np.argsort(-w, kind="stable").tolist():
        if t < deadline[i]:
            selected[i] = 1
            t += 1
            tr.step(selected_h=selected, i=i, t=t)
        else:
            tr.step(i=i)
    tr.output(selected=selected)
    return tr.finish()
