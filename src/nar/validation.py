"""Boundary checks for raw algorithm inputs: each failure names the argument and what is allowed.

Float policy (probes are stored as float32): every float input is **rounded to float32 here**, at
the boundary, and then held as float64, so an algorithm computes on exactly the values its
trajectory stores (``execute("bfs", A=[[0, 1e-50], [0, 0]], s=0)`` sees no edge, as stored; keys
``[1 + 1e-9, 1]`` are equal keys, as stored).  What float32 cannot hold is rejected, not rounded:
magnitudes above ``FLOAT32_MAX`` (they would become inf) and integer inputs beyond
``FLOAT32_INT`` = 2^24 (they would be stored as another integer).  The samplers draw
float32-exact values, so sampled data passes through unchanged.

Accepted containers: anything ``np.asarray`` takes, torch tensors included (detached and copied
to the CPU first, so ``requires_grad`` and GPU tensors are fine), 0-d arrays/tensors for scalars
and node indices, and networkx graphs for adjacency matrices (the ``weight`` edge attribute,
default 1).  A networkx graph's nodes become rows ``0..n-1`` in sorted label order
(:func:`networkx_nodes`); :func:`nar.execute` then takes node arguments (``s``) as labels of the
graph and records the labels in row order as ``traj.extras["nodes"]`` (see :func:`nar.api.to_labels`).
"""
from __future__ import annotations

import numpy as np


class InputError(ValueError):
    """A raw input to an algorithm or sampler was not acceptable."""


FLOAT32_MAX = float(np.finfo(np.float32).max)  # probes are stored as float32
FLOAT32_INT = 1 << 24  # integers up to this magnitude are exact in float32


def to_float32_exact(arr: np.ndarray) -> np.ndarray:
    """``arr`` (finite, within float32 range) rounded to the nearest float32 values, as float64."""
    return arr.astype(np.float32).astype(np.float64)


def as_array(value) -> np.ndarray:
    """``np.asarray(value)``; a torch tensor is detached and moved to the CPU first."""
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _check_range(algorithm: str, arg: str, arr: np.ndarray) -> None:
    if arr.size and np.abs(arr).max() > FLOAT32_MAX:
        raise InputError(f"{algorithm}: {arg} must fit in float32 (|value| <= {FLOAT32_MAX:.3g})")


def _check_integers(algorithm: str, arg: str, arr: np.ndarray) -> None:
    """Integers of any dtype (uint64 included) within +-FLOAT32_INT, checked before any cast."""
    if arr.size and (arr.max() > FLOAT32_INT or (arr.dtype.kind != "u" and arr.min() < -FLOAT32_INT)):
        raise InputError(f"{algorithm}: {arg} must hold integers of magnitude <= 2^24 = {FLOAT32_INT} "
                         f"(exact in float32), got values {arr.min()}..{arr.max()}")


def as_vector(algorithm: str, arg: str, value, *, min_len: int = 1, integer: bool = False,
              low: float | None = None, high: float | None = None) -> np.ndarray:
    """A finite 1-D array of length >= ``min_len``, optionally bounded: int64 if ``integer``
    (|v| <= 2^24), else float64 holding float32 values (see the module's float policy)."""
    arr = as_array(value)
    if arr.ndim != 1:
        raise InputError(f"{algorithm}: {arg} must be a 1-D array, got shape {arr.shape}")
    if arr.shape[0] < min_len:
        raise InputError(f"{algorithm}: {arg} must have at least {min_len} element(s), got {arr.shape[0]}")
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{algorithm}: {arg} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InputError(f"{algorithm}: {arg} must be finite (no NaN or inf)")
    if integer:
        if arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
            raise InputError(f"{algorithm}: {arg} must hold integers")
        _check_integers(algorithm, arg, arr)
        arr = arr.astype(np.int64)
    else:
        _check_range(algorithm, arg, arr)
        arr = to_float32_exact(arr)
    if low is not None and arr.size and arr.min() < low:
        raise InputError(f"{algorithm}: {arg} must be >= {low}, got min {arr.min()}")
    if high is not None and arr.size and arr.max() > high:
        raise InputError(f"{algorithm}: {arg} must be <= {high}, got max {arr.max()}")
    return arr


def as_scalar(algorithm: str, arg: str, value) -> float:
    """One finite number within float32 range, rounded to float32 (returned as a Python float)."""
    arr = as_array(value)
    if arr.ndim != 0 or arr.dtype.kind not in "biuf" or not np.isfinite(arr):
        raise InputError(f"{algorithm}: {arg} must be one finite number, got {value!r}")
    _check_range(algorithm, arg, arr)
    return float(np.float32(arr))


def is_networkx(A) -> bool:
    """Whether ``A`` is a networkx graph (duck-typed: networkx is an optional dependency)."""
    return hasattr(A, "nodes") and hasattr(A, "edges") and hasattr(A, "adj")


def networkx_nodes(algorithm: str, G) -> list:
    """The node labels of networkx graph ``G`` in row order (sorted): row ``i`` of the adjacency
    matrix is node ``networkx_nodes(G)[i]``; labels that cannot be sorted are an InputError."""
    try:
        return sorted(G.nodes)
    except TypeError:
        raise InputError(f"{algorithm}: A is a networkx graph whose node labels cannot be sorted "
                         f"(mixed types?); relabel it, e.g. nx.convert_node_labels_to_integers(A)") from None


def node_of_label(algorithm: str, arg: str, value, nodes: list) -> int:
    """The row index of node label ``value`` of a networkx graph with labels ``nodes`` (row order)."""
    if isinstance(value, np.ndarray) or hasattr(value, "detach"):
        arr = as_array(value)
        if arr.ndim == 0:
            value = arr[()].item()
    index = {label: i for i, label in enumerate(nodes)}
    try:
        if not isinstance(value, (bool, np.bool_)) and value in index:
            return index[value]
    except TypeError:  # unhashable
        pass
    shown = ", ".join(map(repr, nodes[:8])) + (", ..." if len(nodes) > 8 else "")
    raise InputError(f"{algorithm}: {arg}={value!r} is not a node of the networkx graph A; give one of its node "
                     f"labels ({shown})")


def _networkx_matrix(algorithm: str, G) -> np.ndarray:
    """The weighted adjacency of a networkx graph, nodes in sorted order (``weight``, default 1)."""
    import networkx as nx

    nodes = networkx_nodes(algorithm, G)
    try:
        return nx.to_numpy_array(G, nodelist=nodes, weight="weight", dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InputError(f"{algorithm}: A is a networkx graph with a non-numeric 'weight' edge "
                         f"attribute ({err})") from None


def as_adjacency(algorithm: str, A, *, nonnegative: bool = False, symmetric: bool = False) -> np.ndarray:
    """A square finite (weighted) adjacency matrix as float64 holding float32 values; a networkx
    graph is converted (see :func:`_networkx_matrix`)."""
    if is_networkx(A):
        A = _networkx_matrix(algorithm, A)
    arr = as_array(A)
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
    arr = to_float32_exact(arr)
    if nonnegative and arr.min() < 0:
        raise InputError(f"{algorithm}: A must have non-negative weights, got min {arr.min()}")
    if symmetric and not np.array_equal(arr, arr.T):
        raise InputError(f"{algorithm}: A must be symmetric (an undirected graph)")
    return arr


def as_node(algorithm: str, arg: str, value, n: int) -> int:
    """A node index in [0, n): an integer, an integral float, or a 0-d array / tensor of one."""
    if isinstance(value, np.ndarray) or hasattr(value, "detach"):
        arr = as_array(value)
        if arr.ndim != 0:
            raise InputError(f"{algorithm}: {arg} must be one integer node index, got shape {arr.shape}")
        value = arr[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        if not (isinstance(value, (float, np.floating)) and float(value).is_integer()):
            raise InputError(f"{algorithm}: {arg} must be an integer node index, got {value!r}")
    v = int(value)
    if not 0 <= v < n:
        raise InputError(f"{algorithm}: {arg} must be a node index in [0, {n}), got {v}")
    return v


class UnknownNameError(InputError, KeyError):
    """An unknown algorithm (or other registry) name; also a ``KeyError`` for code that catches
    lookups."""

    __str__ = InputError.__str__  # not KeyError's repr-quoted message
