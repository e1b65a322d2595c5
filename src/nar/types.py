"""What each probe type means at the data level, in one place.

Value conventions of a :class:`~nar.trace.Trajectory` (numpy, no batch axis; hints get a leading
time axis ``[T, ...]``).  ``loc`` is ``[n]`` for node, ``[n, n]`` for edge and ``[]`` for graph probes.

=========================  =========  ===================================================================
type                       dtype      value
=========================  =========  ===================================================================
scalar                     float32    ``loc``, any finite real
mask                       float32    ``loc``, entries in {0, 1}, or -1 for a *masked* entry that is
                                      never scored nor trained on (CLRS: non-edges of ``is_bridge``)
mask_one                   float32    ``loc``, one-hot over nodes (exactly one 1)
categorical                float32    ``loc + [C]``, one-hot over C classes; a row may instead be
                                      all zeros except a -1 in the last class: a *masked* cell that
                                      is never scored (CLRS ``strings_pair_cat`` convention)
pointer                    int64      ``loc``, node indices in [0, n); "no parent" is a self-pointer
should_be_permutation      int64      ``[n]`` predecessor pointers of the sorted order; the first
                                      element points to itself
=========================  =========  ===================================================================

The model-side meaning of each type (encoding, decoding, hint feedback, loss, metric) extends this
module's table in :mod:`nar.models.probe_types`.
"""
from __future__ import annotations

import numpy as np

from .specs import Location, Probe, Type

FLOAT_TYPES = frozenset({Type.SCALAR, Type.MASK, Type.MASK_ONE, Type.CATEGORICAL})
POINTER_TYPES = frozenset({Type.POINTER, Type.SHOULD_BE_PERMUTATION, Type.PERMUTATION_POINTER})


def location_shape(location: Location, n: int) -> tuple[int, ...]:
    """Shape of one probe value at ``location`` for a graph of ``n`` nodes (no time, no class axis)."""
    if location == Location.NODE:
        return (n,)
    if location == Location.EDGE:
        return (n, n)
    return ()


def dtype_of(type_: Type) -> np.dtype:
    return np.dtype(np.int64) if type_ in POINTER_TYPES else np.dtype(np.float32)


_EYES: dict[int, np.ndarray] = {}


def one_hot(indices, size: int) -> np.ndarray:
    """``float32`` one-hot of integer ``indices`` (any shape) over ``size`` classes, vectorised."""
    eye = _EYES.get(size)
    if eye is None:
        eye = _EYES[size] = np.eye(size, dtype=np.float32)
        eye.flags.writeable = False
    return np.take(eye, indices, axis=0)  # always a fresh array, never a view of the cache


def check_value(name: str, probe: Probe, value: np.ndarray, n: int, *, timed: bool) -> None:
    """Raise ``ValueError`` if ``value`` breaks the convention of ``probe`` (see module table).

    ``timed``: the value carries a leading time axis (hints).
    """
    value = np.asarray(value)
    shape = location_shape(probe.location, n)
    lead = value.shape[:1] if timed else ()
    if timed and (value.ndim == 0 or value.shape[0] < 1):
        raise ValueError(f"hint {name!r}: expected a time axis of length >= 1, got shape {value.shape}")
    body = value.shape[len(lead):]
    if probe.type == Type.CATEGORICAL:
        if body[:-1] != shape or len(body) != len(shape) + 1:
            raise ValueError(f"probe {name!r}: expected shape {lead + shape + ('C',)}, got {value.shape}")
    elif body != shape:
        raise ValueError(f"probe {name!r}: expected shape {lead + shape}, got {value.shape}")
    if value.dtype != dtype_of(probe.type):
        raise ValueError(f"probe {name!r}: expected dtype {dtype_of(probe.type)}, got {value.dtype}")
    t = probe.type
    if t == Type.SCALAR:
        if not np.all(np.isfinite(value)):
            raise ValueError(f"scalar probe {name!r} holds non-finite values")
    elif t == Type.MASK:
        if not np.all((value == 0) | (value == 1) | (value == -1)):
            raise ValueError(f"mask probe {name!r} holds values outside {{0, 1}} (and -1 = masked)")
    elif t == Type.MASK_ONE:
        if not (np.all((value == 0) | (value == 1)) and np.all(value.sum(-1) == 1)):
            raise ValueError(f"mask_one probe {name!r} is not one-hot over nodes")
    elif t == Type.CATEGORICAL:
        ok = np.all((value == 0) | (value == 1) | (value == -1)) and np.all(np.abs(value).sum(-1) == 1)
        if not ok:
            raise ValueError(f"categorical probe {name!r} is not one-hot over its classes")
    elif t in POINTER_TYPES:
        if value.size and (value.min() < 0 or value.max() >= n):
            raise ValueError(f"pointer probe {name!r} points outside [0, {n})")
