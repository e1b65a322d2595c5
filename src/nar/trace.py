"""The recorder algorithms write to, and the :class:`Trajectory` it produces.

An algorithm creates a :class:`Tracer`, records its inputs once, calls :meth:`Tracer.step` at every
point where CLRS pushes a hint snapshot (the first call is the initial state and must set every
hint), and records its outputs.  A hint not named in a step carries over unchanged, so algorithms
only write what changed.  Values are copied when set, so an algorithm may keep mutating its arrays.

Cheap encodings are accepted and expanded once, vectorised, at :meth:`Tracer.finish`:
``mask_one`` as a node index, ``categorical`` as integer class ids.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from .specs import SPECS, Location, Spec, Stage, Type
from .types import dtype_of, one_hot

# Number of classes of every categorical probe of CLRS-30, keyed by (algorithm, probe).
_COLOR = 3  # white, grey, black
CATEGORIES: Mapping[tuple[str, str], int] = {
    **{(a, "color"): _COLOR for a in (
        "dfs", "topological_sort", "articulation_points", "bridges",
        "strongly_connected_components", "dag_shortest_paths")},
    ("heapsort", "phase"): 3,
    ("mst_kruskal", "phase"): 3,
    ("graham_scan", "phase"): 5,
    ("jarvis_march", "phase"): 2,
    ("lcs_length", "key"): 4,
    ("lcs_length", "b"): 4,  # up-left, up, left + the masked "blank" class
    ("lcs_length", "b_h"): 4,
    ("naive_string_matcher", "key"): 4,
    ("kmp_matcher", "key"): 4,
}


@dataclass
class Trajectory:
    """One execution of an algorithm: inputs, hints ``[T, ...]`` and outputs, keyed by probe name."""

    name: str
    inputs: dict[str, np.ndarray]
    hints: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    extras: dict = field(default_factory=dict)  # raw-call facts not in the spec (e.g. string lengths)

    @property
    def length(self) -> int:
        """Number of hint snapshots T (the initial state included), T >= 1."""
        return int(next(iter(self.hints.values())).shape[0])

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.inputs["pos"].shape[0])

    @property
    def spec(self) -> Spec:
        return SPECS[self.name]

    def __repr__(self) -> str:
        return f"Trajectory({self.name!r}, n={self.n}, T={self.length})"


class _Layout:
    """Per-algorithm facts the tracer needs, computed once per algorithm name."""

    __slots__ = ("spec", "hint_names", "kind", "dtype", "loc_ndim", "inputs", "outputs", "convert")

    def __init__(self, name: str):
        self.spec = SPECS[name]
        self.hint_names = tuple(k for k, p in self.spec.items() if p.stage == Stage.HINT)
        self.inputs = tuple(k for k, p in self.spec.items() if p.stage == Stage.INPUT)
        self.outputs = tuple(k for k, p in self.spec.items() if p.stage == Stage.OUTPUT)
        # how a value is stored while recording: 'idx' (mask_one as index), 'cat' (class ids), 'arr'
        self.kind = {k: "idx" if p.type == Type.MASK_ONE else "cat" if p.type == Type.CATEGORICAL
                     else "arr" for k, p in self.spec.items()}
        self.dtype = {k: dtype_of(p.type) for k, p in self.spec.items()}
        self.loc_ndim = {k: {Location.NODE: 1, Location.EDGE: 2, Location.GRAPH: 0}[p.location]
                         for k, p in self.spec.items()}
        self.convert = {k: self._converter(k) for k in self.spec}

    def _converter(self, key: str):
        """A function turning a value given to the tracer into its stored form (always a copy)."""
        kind, dtype, ndim = self.kind[key], self.dtype[key], self.loc_ndim[key]
        if kind == "idx":
            def to_index(value, _int=int, _integer=(int, np.integer)):
                return _int(value) if isinstance(value, _integer) else _int(np.argmax(value))
            return to_index
        if kind == "cat":
            def to_classes(value):
                if ndim == 0 and isinstance(value, (int, np.integer)):
                    return np.int64(value)
                ids = np.ndim(value) == ndim
                return np.array(value, dtype=np.int64 if ids else np.float32)
            return to_classes

        def to_array(value, _array=np.array, _dtype=dtype):
            return _array(value, dtype=_dtype)
        return to_array


_LAYOUTS: dict[str, _Layout] = {}


def _layout(name: str) -> _Layout:
    lay = _LAYOUTS.get(name)
    if lay is None:
        lay = _LAYOUTS[name] = _Layout(name)
    return lay


def expand(name: str, n: int, key: str, value):
    """A value in the recorders' stored form (or a stack of them) in the Trajectory convention:
    ``mask_one`` node indices and ``categorical`` class ids become one-hot rows."""
    kind = _layout(name).kind[key]
    if kind == "idx":
        return one_hot(value, n)
    if kind == "cat" and value.dtype == np.int64:
        return one_hot(value, CATEGORIES[(name, key)])
    return value


class Tracer:
    """Records one trajectory of algorithm ``name`` on ``n`` nodes."""

    __slots__ = ("name", "n", "_lay", "_inputs", "_outputs", "_cur", "_hist", "_started")

    def __init__(self, name: str, n: int):
        self.name = name
        self.n = n
        self._lay = _layout(name)
        self._inputs: dict[str, np.ndarray] = {}
        self._outputs: dict[str, np.ndarray] = {}
        self._cur: dict = {}
        self._hist: dict[str, list] = {k: [] for k in self._lay.hint_names}
        self._started = False

    # -- conversion ---------------------------------------------------------------------------
    def _convert(self, key: str, value):
        conv = self._lay.convert.get(key)
        if conv is None:
            raise KeyError(f"{self.name}: {key!r} is not a probe of its spec ({sorted(self._lay.spec)})")
        return conv(value)

    def _expand(self, key: str, value):
        return expand(self.name, self.n, key, value)

    # -- recording ----------------------------------------------------------------------------
    def input(self, **values) -> None:
        """Record inputs; ``pos`` defaults to ``i / n``."""
        for k, v in values.items():
            self._inputs[k] = self._expand(k, self._convert(k, v))

    def step(self, **changed) -> None:
        """Update the named hints and push a snapshot of all hints."""
        cur = self._cur
        convert = self._lay.convert
        try:
            for k, v in changed.items():
                cur[k] = convert[k](v)
        except KeyError:
            unknown = [k for k in changed if k not in convert]
            if unknown:
                raise KeyError(f"{self.name}: {unknown} not probes of its spec ({sorted(convert)})") from None
            raise
        hist = self._hist
        if not self._started:
            missing = [k for k in hist if k not in cur]
            if missing:
                raise ValueError(f"{self.name}: the first step must set every hint; missing {missing}")
            self._started = True
        for k, seq in hist.items():
            seq.append(cur[k])

    def output(self, **values) -> None:
        for k, v in values.items():
            self._outputs[k] = self._expand(k, self._convert(k, v))

    def finish(self, **extras) -> Trajectory:
        if not self._started:
            raise RuntimeError(f"{self.name}: no hint step was recorded")
        if "pos" not in self._inputs:
            self._inputs["pos"] = np.arange(self.n, dtype=np.float32) / np.float32(self.n)
        lay = self._lay
        hints = {}
        for k, seq in self._hist.items():
            if lay.kind[k] == "idx":
                hints[k] = one_hot(seq, self.n)
            else:
                hints[k] = self._expand(k, np.array(seq))
        missing = [k for k in lay.inputs if k not in self._inputs] + \
                  [k for k in lay.outputs if k not in self._outputs]
        if missing:
            raise RuntimeError(f"{self.name}: probes never recorded: {missing}")
        inputs = {k: self._inputs[k] for k in lay.inputs}
        outputs = {k: self._outputs[k] for k in lay.outputs}
        return Trajectory(self.name, inputs, hints, outputs, dict(extras))
