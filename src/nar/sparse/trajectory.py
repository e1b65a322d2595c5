"""Sparse trajectories: probes restricted to a model edge set, hints as change logs.

A :class:`SparseTrajectory` holds what a dense :class:`nar.trace.Trajectory` holds, with edge probes
``[M]`` on ``edge_index [2, M]`` (the symmetric closure of the graph's edges plus every self-loop) and
hints as :class:`HintLog` change logs, so T steps cost O(n + M + changes), not O(T n).
:func:`from_dense` and :func:`to_dense` convert exactly (small n); :class:`Recorder` is what the sparse
algorithms write to.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..specs import SPECS, Location, Spec, Stage, Type
from ..trace import CATEGORIES, Trajectory
from ..types import dtype_of, one_hot
from ..validation import InputError
from .graph import MAX_DENSE_NODES, first_occurrences, model_edges
from .specs import SALSA_SPECS, spec_of

# The algorithms with a sparse form (nar.sparse.execute, from_dense); the others are dense-only.
SPARSE_ALGORITHMS = (
    "bfs", "dfs", "bellman_ford", "dijkstra", "mst_prim", "mst_kruskal", "dag_shortest_paths",
    "topological_sort", "strongly_connected_components", "articulation_points", "bridges",
    "fast_mis", "eccentricity",
)

# Value of an edge probe off the model edge set (CLRS masks the non-edges of is_bridge with -1).
EDGE_FILL = {("bridges", "is_bridge"): -1.0, ("bridges", "is_bridge_h"): -1.0}


def check_sparse(name, sparse_names=None) -> None:
    """Raise :class:`~nar.InputError` unless ``name`` has a sparse form."""
    names = SPARSE_ALGORITHMS if sparse_names is None else tuple(sparse_names)
    if name in names:
        return
    if isinstance(name, str) and (name in SPECS or name in SALSA_SPECS):
        why = ("it is dense-only (its probes are per pair of nodes)" if "A" in spec_of(name)
               else "it is not a graph algorithm")
    else:
        why = "it is not a known algorithm"
    raise InputError(f"{name!r} has no sparse form: {why}; the algorithms with a sparse form are: "
                     f"{', '.join(names)}")


# ------------------------------------------------------------------------------------ HintLog
@dataclass(frozen=True, eq=False)
class HintLog:
    """One hint as a change log: ``initial`` (its value at step 0) and events ``(steps[k], index[k],
    values[k])``: from step ``steps[k]`` on, entry ``index[k]`` holds ``values[k]``.  Events are
    sorted by (step, index), at most one per (step, index), each a real change, steps in [1, length).

    ``initial`` has the probe's location shape (``[L]`` or ``[L, C]``; graph probes ``[]`` / ``[C]``,
    whose events use index 0)."""

    initial: np.ndarray
    steps: np.ndarray
    index: np.ndarray
    values: np.ndarray
    length: int
    graph: bool = False

    @property
    def _base(self) -> np.ndarray:
        return self.initial[None] if self.graph else self.initial

    def dense(self) -> np.ndarray:
        """The hint as ``[T, ...]`` snapshots (O(T L) memory: small graphs or short logs only)."""
        base = self._base
        T, L = self.length, base.shape[0]
        last = np.full((T, L), -1, dtype=np.int64)  # id of the latest event at or before t, per entry
        last[self.steps, self.index] = np.arange(self.steps.shape[0])
        np.maximum.accumulate(last, axis=0, out=last)  # ids grow with the step (events are sorted)
        out = np.broadcast_to(base, (T,) + base.shape).copy()
        hit = last >= 0
        out[hit] = self.values[last[hit]]
        return out[:, 0] if self.graph else out

    def at(self, t: int) -> np.ndarray:
        """The value at step ``t`` (O(L + events))."""
        if not 0 <= t < self.length:
            raise IndexError(f"HintLog.at: step {t} outside [0, {self.length})")
        cur = self._base.copy()
        k = int(np.searchsorted(self.steps, t, side="right"))
        cur[self.index[:k]] = self.values[:k]  # sorted by step: a later event overwrites an earlier one
        return cur[0] if self.graph else cur

    @property
    def num_events(self) -> int:
        return int(self.steps.shape[0])

    @classmethod
    def from_dense(cls, arr: np.ndarray, graph: bool = False) -> "HintLog":
        """The change log of ``[T, ...]`` snapshots."""
        arr = np.asarray(arr)
        body = arr[:, None] if graph else arr
        diff = body[1:] != body[:-1]
        if diff.ndim > 2:
            diff = diff.any(axis=tuple(range(2, diff.ndim)))
        t, i = np.nonzero(diff)
        return cls(arr[0].copy(), (t + 1).astype(np.int64), i.astype(np.int64), body[t + 1, i],
                   int(arr.shape[0]), graph)

    @classmethod
    def build(cls, initial: np.ndarray, steps, index, values, length: int, graph: bool = False) -> "HintLog":
        """A log from raw events in recording order (any number per entry and step, no-ops
        included): the last event of a (step, entry) wins, events that change nothing are dropped and
        step-0 events amend ``initial``."""
        base = initial[None] if graph else initial
        steps, index = np.asarray(steps, np.int64), np.asarray(index, np.int64)
        values = np.asarray(values, dtype=base.dtype).reshape((-1,) + base.shape[1:])
        if steps.size and (steps.min() < 0 or steps.max() >= length):
            raise ValueError(f"HintLog.build: event steps must be in [0, {length})")
        base = base.copy()
        at0 = steps == 0  # step-0 events amend the initial value (in order: the last one wins)
        if at0.any():
            i0, v0 = index[at0], values[at0]
            last = i0.size - 1 - first_occurrences(i0[::-1])[1]
            base[i0[last]] = v0[last]
            initial = base[0] if graph else base
            steps, index, values = steps[~at0], index[~at0], values[~at0]
        L = base.shape[0]
        key = steps * L + index
        _, first_rev = first_occurrences(key[::-1])
        keep = key.size - 1 - first_rev  # the last event of each (step, entry), sorted by (step, entry)
        steps, index, values = steps[keep], index[keep], values[keep]
        del key, first_rev, keep
        # drop events equal to the entry's previous value (the previous event's, or the initial one)
        order = np.lexsort((steps, index))
        prev = base[index[order]]
        same_entry = np.zeros(order.size, dtype=bool)
        same_entry[1:] = index[order[1:]] == index[order[:-1]]
        prev[same_entry] = values[order[:-1]][same_entry[1:]]
        change = prev != values[order]
        del prev, same_entry
        if change.ndim > 1:
            change = change.any(axis=tuple(range(1, change.ndim)))
        kept = np.sort(order[change])
        return cls(initial.copy(), steps[kept], index[kept], values[kept], int(length), graph)


# ------------------------------------------------------------------------------ SparseTrajectory
@dataclass
class SparseTrajectory:
    """One execution on a sparse graph (see the module docstring): ``inputs`` / ``outputs`` name ->
    array (node ``[n]``, edge ``[M]`` on ``edge_index``, graph ``[]``; categorical with a class axis),
    ``hints`` name -> :class:`HintLog`."""

    name: str
    n: int
    edge_index: np.ndarray
    inputs: dict[str, np.ndarray]
    hints: dict[str, HintLog]
    outputs: dict[str, np.ndarray]
    extras: dict = field(default_factory=dict)

    @property
    def length(self) -> int:
        """Number of hint snapshots T."""
        if not self.hints:
            return int(self.extras["length"])
        return next(iter(self.hints.values())).length

    @property
    def num_edges(self) -> int:
        """M, the size of the model edge set."""
        return int(self.edge_index.shape[1])

    @property
    def spec(self) -> Spec:
        return spec_of(self.name)

    def __repr__(self) -> str:
        return f"SparseTrajectory({self.name!r}, n={self.n}, M={self.num_edges}, T={self.length})"


def _edge_inputs(traj: Trajectory) -> list[str]:
    return [k for k, p in spec_of(traj.name).items() if p.stage == Stage.INPUT and p.location == Location.EDGE]


def from_dense(traj: Trajectory) -> SparseTrajectory:
    """The sparse form of a dense trajectory of an algorithm in :data:`SPARSE_ALGORITHMS`: edge set =
    the non-zero pairs of its edge inputs, symmetrised, plus every self-loop.  Raises ``ValueError``
    if an edge probe holds anything but its fill value (0; -1 for ``is_bridge``) off that set."""
    check_sparse(traj.name)
    n, spec = traj.n, spec_of(traj.name)
    nz = np.zeros((n, n), dtype=bool)
    for k in _edge_inputs(traj):
        nz |= traj.inputs[k] != 0
    s, r = np.nonzero(nz)
    ei = model_edges(n, s, r)
    off = np.ones((n, n), dtype=bool)
    off[ei[0], ei[1]] = False

    def restrict(key: str, value: np.ndarray, timed: bool) -> np.ndarray:
        if spec[key].location != Location.EDGE:
            return value
        fill = EDGE_FILL.get((traj.name, key), 0.0)
        outside = value[:, off] if timed else value[off]
        if not np.all(outside == fill):
            raise ValueError(f"from_dense: {traj.name} edge probe {key!r} holds values other than "
                             f"{fill} off the model edge set")
        return value[:, ei[0], ei[1]] if timed else value[ei[0], ei[1]]

    inputs = {k: restrict(k, v, False) for k, v in traj.inputs.items()}
    outputs = {k: restrict(k, v, False) for k, v in traj.outputs.items()}
    hints = {k: HintLog.from_dense(restrict(k, v, True), spec[k].location == Location.GRAPH)
             for k, v in traj.hints.items()}
    return SparseTrajectory(traj.name, n, ei, inputs, hints, outputs, dict(traj.extras))


def to_dense(st: SparseTrajectory) -> Trajectory:
    """The dense :class:`~nar.trace.Trajectory` of ``st`` (n at most ``MAX_DENSE_NODES``)."""
    if st.n > MAX_DENSE_NODES:
        raise InputError(f"to_dense: n = {st.n} is too large for dense [n, n] probes (at most {MAX_DENSE_NODES})")
    n, spec, (snd, rcv) = st.n, st.spec, st.edge_index

    def widen(key: str, value: np.ndarray, timed: bool) -> np.ndarray:
        if spec[key].location != Location.EDGE:
            return value
        lead = value.shape[:1] if timed else ()
        out = np.full(lead + (n, n) + value.shape[len(lead) + 1:], EDGE_FILL.get((st.name, key), 0.0),
                      dtype=value.dtype)
        if timed:
            out[:, snd, rcv] = value
        else:
            out[snd, rcv] = value
        return out

    inputs = {k: widen(k, v, False) for k, v in st.inputs.items()}
    outputs = {k: widen(k, v, False) for k, v in st.outputs.items()}
    hints = {k: widen(k, log.dense(), True) for k, log in st.hints.items()}
    return Trajectory(st.name, inputs, hints, outputs, dict(st.extras))


# ------------------------------------------------------------------------------------ recording
class _Log:
    """The raw events of one hint; ``set(i, v)`` records that entry ``i`` holds ``v`` from the
    recorder's current step on (categorical hints take class ids, expanded at the end).  Events are
    kept as a flat list ``[step, entry, value, ...]`` (one list operation per event)."""

    __slots__ = ("rec", "initial", "ev", "chunks", "graph")

    def __init__(self, rec: "Recorder", initial: np.ndarray, graph: bool):
        self.rec, self.initial, self.graph = rec, initial, graph
        self.ev: list = []
        self.chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def set(self, i: int, v) -> None:
        self.ev += (self.rec.t, i, v)

    def set_many(self, idx: np.ndarray, vals) -> None:
        """Vectorised :meth:`set` of ``vals`` (an array or one value) at the entries ``idx``."""
        self._flush()
        idx = np.asarray(idx, np.int64)
        vals = np.broadcast_to(np.asarray(vals, np.float64), idx.shape)
        self.chunks.append((np.full(idx.shape, self.rec.t, np.int64), idx, np.array(vals)))

    def _flush(self) -> None:
        if self.ev:
            flat = np.array(self.ev, dtype=np.float64).reshape(-1, 3)  # steps, entries < 2^53: exact
            self.chunks.append((flat[:, 0].astype(np.int64), flat[:, 1].astype(np.int64), flat[:, 2]))
            self.ev = []

    def events(self):
        """All events as ``(steps, entries, values)`` arrays; the log forgets them (memory)."""
        self._flush()
        chunks, self.chunks = self.chunks, []
        if not chunks:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        if len(chunks) == 1:
            return chunks[0]
        return tuple(np.concatenate([c[j] for c in chunks]) for j in range(3))


class _OneLog(_Log):
    """A ``mask_one`` node hint: ``move(j)`` puts its single 1 on node ``j``."""

    __slots__ = ("cur",)

    def __init__(self, rec: "Recorder", node: int, n: int):
        initial = np.zeros(n, np.float32)
        initial[node] = 1
        super().__init__(rec, initial, False)
        self.cur = node

    def move(self, j: int) -> None:
        if j != self.cur:
            t = self.rec.t
            self.ev += (t, self.cur, 0.0, t, j, 1.0)
            self.cur = j


class _NullLog:
    """A hint that is not recorded (``execute(..., hints=False)``)."""

    __slots__ = ()

    def set(self, i, v) -> None:
        pass

    def set_many(self, idx, vals) -> None:
        pass

    def move(self, j) -> None:
        pass


class Recorder:
    """What a sparse algorithm writes to: step 0 is the initial state given to :meth:`hint` (events
    recorded before the first :meth:`push` amend it); events recorded after the k-th push belong to
    step k; T = number of pushes.  ``record=False``: hints are not kept (``hints`` is empty and
    ``extras["length"]`` holds T)."""

    def __init__(self, name: str, n: int, edge_index: np.ndarray, *, record: bool = True):
        self.name, self.n, self.edge_index, self.record = name, n, edge_index, record
        self.spec = spec_of(name)
        self.t = 0
        self.inputs: dict[str, np.ndarray] = {}
        self.outputs: dict[str, np.ndarray] = {}
        self.logs: dict[str, _Log] = {}

    FLUSH_EVERY = 4096  # steps between moving the logs' Python lists into numpy (bounds their memory)

    def push(self) -> None:
        """Close the current snapshot."""
        self.t += 1
        if not self.t % self.FLUSH_EVERY and self.record:
            for log in self.logs.values():
                log._flush()

    def _value(self, key: str, value) -> np.ndarray:
        p = self.spec[key]
        if p.type == Type.MASK_ONE and np.ndim(value) == 0:
            out = np.zeros(self.n, np.float32)  # not types.one_hot: it caches an [n, n] identity
            out[int(value)] = 1.0
            return out
        if p.type == Type.CATEGORICAL:
            return one_hot(np.asarray(value, np.int64), CATEGORIES[(self.name, key)])
        return np.array(value, dtype=dtype_of(p.type))

    def input(self, **values) -> None:
        for k, v in values.items():
            self.inputs[k] = self._value(k, v)

    def output(self, **values) -> None:
        for k, v in values.items():
            self.outputs[k] = self._value(k, v)

    def hint(self, key: str, initial) -> _Log:
        """Start hint ``key`` at ``initial`` (a node index for mask_one, class ids for categorical)."""
        p = self.spec[key]
        if not self.record:
            self.logs[key] = _NullLog()
            return self.logs[key]
        if p.type == Type.MASK_ONE:
            log = _OneLog(self, int(initial), self.n)
        else:
            dtype = np.int64 if p.type == Type.CATEGORICAL else dtype_of(p.type)
            log = _Log(self, np.array(initial, dtype=dtype), p.location == Location.GRAPH)
        self.logs[key] = log
        return log

    def finish(self, **extras) -> SparseTrajectory:
        if self.t < 1:
            raise RuntimeError(f"{self.name}: no snapshot was pushed")
        if "pos" not in self.inputs:
            self.inputs["pos"] = np.arange(self.n, dtype=np.float32) / np.float32(self.n)
        have = {Stage.INPUT: self.inputs, Stage.OUTPUT: self.outputs, Stage.HINT: self.logs}
        missing = [k for k, p in self.spec.items() if k not in have[p.stage]]
        if missing:
            raise RuntimeError(f"{self.name}: probes never recorded: {missing}")
        hints = {}
        if not self.record:
            extras["length"] = self.t
        for k, log in (self.logs.items() if self.record else ()):
            hl = HintLog.build(log.initial, *log.events(), self.t, log.graph)
            if self.spec[k].type == Type.CATEGORICAL:
                C = CATEGORIES[(self.name, k)]
                hl = HintLog(one_hot(hl.initial, C), hl.steps, hl.index, one_hot(hl.values, C), hl.length,
                             hl.graph)
            hints[k] = hl
        order = [k for k, p in self.spec.items() if p.stage == Stage.INPUT]
        inputs = {k: self.inputs[k] for k in order}
        outputs = {k: self.outputs[k] for k, p in self.spec.items() if p.stage == Stage.OUTPUT}
        hints = {k: hints[k] for k, p in self.spec.items() if p.stage == Stage.HINT and k in hints}
        return SparseTrajectory(self.name, self.n, self.edge_index, inputs, hints, outputs, dict(extras))
