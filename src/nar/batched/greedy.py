"""Batched kernels of the greedy algorithms (see :mod:`nar.algorithms.greedy`).

Both scan the items of every sample in its greedy order, one snapshot per item scanned after the
all-empty initial one, so every sample has T = n + 1 and steps in lockstep.
"""
from __future__ import annotations

import numpy as np

from ..algorithms.greedy import chain_pointers
from . import kernel, per_sample, stack
from .recorder import BatchRecorder


def uniform(inputs: list[dict], *args: str) -> bool:
    """Whether every input has the same length for each of ``args`` (what the kernels stack)."""
    return all(len({np.shape(x[a]) for x in inputs}) == 1 for a in args)


@kernel("activity_selector")
def activity_selector(inputs: list[dict]):
    """Mirrors ``activity_selector``: scan by (finish, start, index), keep an activity when it
    starts no earlier than the last kept one finishes; the first scanned is always kept."""
    if not uniform(inputs, "s", "f"):
        return per_sample("activity_selector", inputs)
    s, f = stack(inputs, "s"), stack(inputs, "f")
    B, n = s.shape
    rec = BatchRecorder("activity_selector", n, B)
    rec.input(s=s, f=f)
    selected = np.zeros((B, n), dtype=np.float32)
    rec.step(pred_h=chain_pointers(n), selected_h=selected, m=0, k=0)

    rows = np.arange(B)
    order = np.lexsort((s, f), axis=-1)  # per row: by f, then s, then index
    k = order[:, 0]
    selected[rows, k] = 1
    rec.step(selected_h=selected, m=k, k=k)
    for t in range(1, n):
        m = order[:, t]
        keep = s[rows, m] >= f[rows, k]
        k = np.where(keep, m, k)
        selected[rows[keep], m[keep]] = 1
        rec.step(selected_h=selected, m=m, k=k)
    rec.output(selected=selected)
    return rec.finish()


@kernel("task_scheduling")
def task_scheduling(inputs: list[dict]):
    """Mirrors ``task_scheduling``: scan by decreasing weight (ties by index), keep a task when
    fewer than its deadline have been kept so far; ``t`` counts the kept tasks."""
    if not uniform(inputs, "d", "w"):
        return per_sample("task_scheduling", inputs)
    d, w = stack(inputs, "d", np.int64), stack(inputs, "w")
    B, n = d.shape
    rec = BatchRecorder("task_scheduling", n, B)
    rec.input(d=d, w=w)
    selected = np.zeros((B, n), dtype=np.float32)
    rec.step(pred_h=chain_pointers(n), selected_h=selected, i=0, t=0)

    rows = np.arange(B)
    order = np.argsort(-w, axis=1, kind="stable")
    kept = np.zeros(B, dtype=np.int64)
    for step in range(n):
        i = order[:, step]
        keep = kept < d[rows, i]
        selected[rows[keep], i[keep]] = 1
        kept += keep
        rec.step(selected_h=selected, i=i, t=kept)
    rec.output(selected=selected)
    return rec.finish()
