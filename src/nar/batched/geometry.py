"""Batched kernels of the geometry algorithms (see :mod:`nar.algorithms.geometry`).

Coordinates are float64 ``[B, n]``; every cross product is evaluated with the same operations in
the same order as the per-sample code (numpy's float64 ufuncs round as Python floats do), so
orientation tests and recorded values are bit-identical.
"""
from __future__ import annotations

import numpy as np

from ..algorithms.registry import get_algorithm
from . import kernel
from .recorder import BatchRecorder


def _points(inputs: list[dict]):
    """``(x, y)`` as float64 ``[B, n]``, or ``None`` when the samples differ in size."""
    xs = [np.asarray(p["xs"], dtype=np.float64) for p in inputs]
    if any(x.shape != xs[0].shape for x in xs):
        return None
    return np.stack(xs), np.stack([np.asarray(p["ys"], dtype=np.float64) for p in inputs])


def _per_sample(name: str, inputs: list[dict]):
    fn = get_algorithm(name).fn
    return [fn(**x) for x in inputs]


# ----------------------------------------------------------------------------- segments
@kernel("segments_intersect")
def segments_intersect(inputs: list[dict]):
    """Mirrors :func:`nar.algorithms.geometry.segments_intersect`: the four DIRECTION and
    ON-SEGMENT tests, one snapshot each, for every sample at once (T = 5 for all)."""
    loaded = _points(inputs)
    if loaded is None or loaded[0].shape[1] != 4:
        return _per_sample("segments_intersect", inputs)
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
