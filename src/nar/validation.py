"""Boundary checks for raw algorithm inputs: each failure names the argument and what is allowed."""
from __future__ import annotations

import numpy as np


class InputError(ValueError):
    """A raw input to an algorithm or sampler was not acceptable."""


FLOAT32_MAX = float(np.finfo(np.float32).max)  # probes are stored as float32


def _check_range(algorithm: str, arg: str, arr: np.ndarray) -> None:
    if arr.size and np.abs(arr).max() > FLOAT32_MAX:
        raise InputError(f"{algorithm}: {arg} must fit in float32 (|value| <= {FLOAT32_MAX:.3g})")


def as_vector(algorithm: str, arg: str, value, *, min_len: int = 1, integer: bool = False,
              low: float | None = None, high: float | None = None) -> np.ndarray:
    """A finite 1-D array of length >= ``min_len`` (integers if ``integer``), optionally bounded."""
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise InputError(f"{algorithm}: {arg} must be a 1-D array, got shape {arr.shape}")
    if arr.shape[0] < min_len:
        raise InputError(f"{algorithm}: {arg} must have at least {min_len} element(s), got {arr.shape[0]}")
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{algorithm}: {arg} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InputError(f"{algorithm}: {arg} must be finite (no NaN or inf)")
    _check_range(algorithm, arg, arr)
    if integer:
        if arr.dtype.kind == "f":
            if not np.all(arr == np.round(arr)):
                raise InputError(f"{algorithm}: {arg} must hold integers")
        arr = arr.astype(np.int64)
    else:
        arr = arr.astype(np.float64)
    if low is not None and arr.size and arr.min() < low:
        raise InputError(f"{algorithm}: {arg} must be >= {low}, got min {arr.min()}")
    if high is not None and arr.size and arr.max() > high:
        raise InputError(f"{algorithm}: {arg} must be <= {high}, got max {arr.max()}")
    return arr


def as_scalar(algorithm: str, arg: str, value) -> float:
    arr = np.asarray(value)
    if arr.ndim != 0 or arr.dtype.kind not in "biuf" or not np.isfinite(arr):
        raise InputError(f"{algorithm}: {arg} must be one finite number, got {value!r}")
    return float(arr)


def as_adjacency(algorithm: str, A, *, nonnegative: bool = False, symmetric: bool = False) -> np.ndarray:
    """A square finite (weighted) adjacency matrix; a networkx graph is converted (weight attr)."""
    if hasattr(A, "nodes") and hasattr(A, "edges"):  # networkx graph
        import networkx as nx

        A = nx.to_numpy_array(A, nodelist=sorted(A.nodes), weight="weight")
    arr = np.asarray(A)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise InputError(f"{algorithm}: A must be a square n x n matrix, got shape {arr.shape}")
    if arr.shape[0] < 1:
        raise InputError(f"{algorithm}: A must have at least 1 node")
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{algorithm}: A must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise InputError(f"{algorithm}: A must be finite (no NaN or inf); absent edges are 0")
    _check_range(algorithm, "A", arr)
    if nonnegative and arr.min() < 0:
        raise InputError(f"{algorithm}: A must have non-negative weights, got min {arr.min()}")
    if symmetric and not np.array_equal(arr, arr.T):
        raise InputError(f"{algorithm}: A must be symmetric (an undirected graph)")
    return arr


def as_node(algorithm: str, arg: str, value, n: int) -> int:
    """A node index in [0, n)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        if not (isinstance(value, (float, np.floating)) and float(value).is_integer()):
            raise InputError(f"{algorithm}: {arg} must be an integer node index, got {value!r}")
    v = int(value)
    if not 0 <= v < n:
        raise InputError(f"{algorithm}: {arg} must be a node index in [0, {n}), got {v}")
    return v
