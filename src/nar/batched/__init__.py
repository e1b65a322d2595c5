"""Batched trajectory generation: many samples of one algorithm advanced together with numpy.

``nar.sample`` draws inputs sample by sample (the same random stream as ever) and hands each chunk
to the algorithm's batched kernel when it has one; the kernel returns the trajectories that
``nar.execute`` would return, array for array (``tests/test_batched.py`` checks this for every
kernel on thousands of inputs).  A kernel module in this package registers itself with
:func:`kernel`; modules are discovered automatically.

A kernel receives a list of raw input dicts (the sampler's output, all of the same size ``n``) and
trusts them: inputs from users go through ``nar.execute``, which validates.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

import numpy as np

from ..trace import Trajectory

Kernel = Callable[[list[dict]], list[Trajectory]]
_KERNELS: dict[str, Kernel] = {}
_loaded = False


def kernel(name: str):
    """Register the decorated function as the batched kernel of algorithm ``name``."""
    def deco(fn: Kernel) -> Kernel:
        _KERNELS[name] = fn
        return fn
    return deco


def kernels() -> dict[str, Kernel]:
    """Every registered kernel, by algorithm name."""
    global _loaded
    if not _loaded:
        for info in pkgutil.iter_modules(__path__):
            if info.name != "recorder":
                importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
    return _KERNELS


def execute_many(name: str, inputs: list[dict]) -> list[Trajectory]:
    """Trajectories of ``name`` on every input dict (as ``nar.execute(name, **x)`` for each x)."""
    fn = kernels().get(name)
    if fn is None or not inputs:
        return per_sample(name, inputs)
    return fn(inputs)


def per_sample(name: str, inputs: list[dict]) -> list[Trajectory]:
    """The per-sample path: ``nar.execute`` on each input (kernels fall back to it for chunks they
    do not stack, e.g. mixed sizes, and for inputs the per-sample code must reject)."""
    from ..algorithms.registry import get_algorithm
    algo = get_algorithm(name).fn
    return [algo(**x) for x in inputs]


def stack(inputs: list[dict], arg: str, dtype=np.float64) -> np.ndarray:
    """Argument ``arg`` of every input as one ``[B, ...]`` array of ``dtype`` (the per-sample code
    converts with ``as_vector`` / ``as_adjacency`` alike: float64 holding float32 values -- what is
    stored, see :mod:`nar.validation` -- or int64 for integer inputs)."""
    arr = np.stack([np.asarray(x[arg]) for x in inputs])
    if np.dtype(dtype).kind == "f" and arr.dtype != np.float32:
        arr = arr.astype(np.float32)
    return arr.astype(dtype, copy=False)
