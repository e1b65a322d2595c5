"""The batched counterpart of :class:`nar.trace.Tracer`: one recorder for ``B`` samples at once.

A batched kernel advances every sample of a chunk with numpy operations over the batch axis and
calls :meth:`BatchRecorder.step` wherever the per-sample algorithm calls ``Tracer.step``; ``active``
says which samples push a snapshot now (samples finish and branch at different times).  Hints not
named carry over, exactly as in the Tracer.  :meth:`BatchRecorder.finish` expands the cheap
encodings (``mask_one`` as node indices, ``categorical`` as class ids) once for the whole batch and
cuts it into per-sample :class:`~nar.trace.Trajectory` objects that equal, array for array, what
``nar.execute`` returns for each sample.

Shapes: node values ``[B, n]``, edge values ``[B, n, n]``, graph values ``[B]``; ``mask_one`` values
``[B]`` (node indices); ``categorical`` values as class ids (``[B] + loc``, or ``loc`` shared by every
sample) or one-hot rows ``[B] + loc + [C]``.
"""
from __future__ import annotations

import numpy as np

from ..trace import CATEGORIES, Trajectory, _layout, expand
from ..types import one_hot


class BatchRecorder:
    """Records ``batch`` trajectories of algorithm ``name`` on ``n`` nodes each."""

    def __init__(self, name: str, n: int, batch: int):
        self.name, self.n, self.batch = name, n, batch
        self._lay = _layout(name)
        self._inputs: dict[str, np.ndarray] = {}
        self._outputs: dict[str, np.ndarray] = {}
        self._cur: dict[str, np.ndarray] = {}  # current value of every hint, [B, ...]
        # History, kept as versions: a hint's array is stored once per change (never per snapshot),
        # with, per batch snapshot, the index of the version it held.  While every push includes
        # every sample ("lockstep"), sample b's t-th snapshot is batch snapshot t; afterwards
        # _slot[b, t] names it.
        self._versions: dict[str, list[np.ndarray]] = {}
        self._version_at: dict[str, list[int]] = {}
        self._pushes = 0
        self._lockstep = True
        self._slot: np.ndarray | None = None
        self.lengths = np.zeros(batch, dtype=np.int64)  # snapshots pushed so far, per sample
        self._all = np.arange(batch)

    # -- conversion -----------------------------------------------------------------------------
    def _stored(self, key: str, value) -> np.ndarray:
        """``value`` in its stored form for the whole batch (always a fresh array)."""
        lay = self._lay
        if key not in lay.spec:
            raise KeyError(f"{self.name}: {key!r} is not a probe of its spec ({sorted(lay.spec)})")
        kind, ndim = lay.kind[key], lay.loc_ndim[key]
        shape = (self.batch,) + (self.n,) * ndim
        if type(value) is np.ndarray and value.shape == shape and kind != "cat":  # the common case
            return value.astype(np.int64 if kind == "idx" else lay.dtype[key])  # a copy, converted
        if kind == "idx":
            return np.array(np.broadcast_to(value, (self.batch,)), dtype=np.int64)
        if kind == "cat":
            value = np.asarray(value)
            if value.ndim <= ndim + 1:  # class ids, per sample ([B] + loc) or shared (loc)
                return np.array(np.broadcast_to(value, shape), dtype=np.int64)
            return np.array(value, dtype=np.float32)  # one-hot rows [B] + loc + [C]
        return np.array(np.broadcast_to(value, shape), dtype=lay.dtype[key])

    def _expand(self, key: str, value: np.ndarray) -> np.ndarray:
        return expand(self.name, self.n, key, value)

    # -- recording ------------------------------------------------------------------------------
    def input(self, **values) -> None:
        """Record inputs ``[B, ...]`` (``pos`` defaults to ``i / n``)."""
        for k, v in values.items():
            self._inputs[k] = self._expand(k, self._stored(k, v))

    def output(self, **values) -> None:
        """Record outputs ``[B, ...]``."""
        for k, v in values.items():
            self._outputs[k] = self._expand(k, self._stored(k, v))

    def step(self, active=None, **changed) -> None:
        """Update the named hints (of the ``active`` samples only) and push a snapshot for them.

        ``active``: bool ``[B]`` or ``None`` for every sample.  The first call must set every hint
        for every sample and have ``active=None``.
        """
        cur, versions = self._cur, self._versions
        if not versions:
            missing = [k for k in self._lay.hint_names if k not in changed]
            if missing or active is not None:
                why = f"missing {missing}" if missing else "it must have active=None"
                raise ValueError(f"{self.name}: the first step must set every hint of every sample; {why}")
            for k in self._lay.hint_names:
                versions[k] = []
                self._version_at[k] = []
        if active is None:
            rows = None
            for k, v in changed.items():
                cur[k] = new = self._stored(k, v)
                versions[k].append(new)
        else:
            active = np.asarray(active, dtype=bool)
            rows = np.flatnonzero(active)
            if rows.size == 0:
                return
            for k, v in changed.items():
                new = self._stored(k, v)
                cur[k] = new = np.where(active.reshape((-1,) + (1,) * (new.ndim - 1)), new, cur[k])
                versions[k].append(new)
        # snapshot g of the batch = the latest version of every hint
        for k, at in self._version_at.items():
            at.append(len(versions[k]) - 1)
        g = self._pushes
        self._pushes += 1
        if rows is None and self._lockstep:
            self.lengths += 1
            return
        if self._lockstep:  # the first push that leaves samples out: from now on, per-sample slots
            self._lockstep = False
            self._slot = np.zeros((self.batch, max(16, 2 * g + 2)), dtype=np.int64)
            self._slot[:, :g] = np.arange(g)
        if rows is None:
            rows = self._all
        at = self.lengths[rows]
        need = int(at.max()) + 1
        if need > self._slot.shape[1]:
            grown = np.zeros((self.batch, max(need, 2 * self._slot.shape[1])), dtype=np.int64)
            grown[:, :self._slot.shape[1]] = self._slot
            self._slot = grown
        self._slot[rows, at] = g  # sample b's t-th snapshot is batch snapshot _slot[b, t]
        self.lengths[rows] += 1

    def _history(self, key: str, T: int) -> np.ndarray:
        """Hint ``key`` as ``[B, T, ...]`` (stored form): every sample's snapshots, padded at the end."""
        versions = self._versions[key]
        at = np.asarray(self._version_at[key], dtype=np.int64)  # batch snapshot -> version
        if self._lockstep:
            if len(versions) == len(at):  # changed at every snapshot
                return np.stack(versions, axis=1)
            return np.stack(versions, axis=0)[at[:T]].swapaxes(0, 1).copy() if len(versions) > 1 \
                else np.repeat(versions[0][:, None], T, axis=1)
        idx = at[self._slot[:, :T]]  # [B, T] version of each sample's snapshots
        return np.stack(versions, axis=0)[idx, self._all[:, None]]

    def finish(self, extras: list[dict] | None = None, built: dict | None = None) -> list[Trajectory]:
        """Per-sample trajectories; ``extras[b]`` becomes sample ``b``'s ``Trajectory.extras``.

        ``built``: hint name -> function of ``T`` returning that hint's whole ``[B, T, ...]``
        history (stored form), for hints a kernel can write in one pass more cheaply than step by
        step (their recorded values are then ignored)."""
        if not self._pushes:
            raise RuntimeError(f"{self.name}: no hint step was recorded")
        T = int(self.lengths.max())
        built = built or {}
        hints = {k: self._expand(k, built[k](T) if k in built else self._history(k, T))
                 for k in self._lay.hint_names}  # [B, T, ...]
        return assemble(self.name, self._inputs, hints, self._outputs,
                        None if self._lockstep else self.lengths, extras)


def assemble(name: str, inputs: dict[str, np.ndarray], hints: dict[str, np.ndarray],
             outputs: dict[str, np.ndarray], lengths=None, extras: list[dict] | None = None
             ) -> list[Trajectory]:
    """Per-sample trajectories from whole-batch arrays in Trajectory form (one-hot expanded):
    ``inputs`` / ``outputs`` ``[B, ...]``, ``hints`` ``[B, T, ...]``; sample ``b`` keeps its first
    ``lengths[b]`` snapshots (all ``T`` when None).  ``pos`` defaults to ``i / n``.  Arrays are
    cut into views, not copied."""
    lay = _layout(name)
    B = len(next(iter(hints.values())))
    if "pos" not in inputs:
        n = next(v for k, v in inputs.items() if lay.loc_ndim[k]).shape[1]
        inputs = dict(inputs, pos=np.tile(np.arange(n, dtype=np.float32) / np.float32(n), (B, 1)))
    parts = []
    for names, values, timed in ((lay.inputs, inputs, False), (lay.hint_names, hints, True),
                                 (lay.outputs, outputs, False)):
        if set(names) != set(values):
            raise RuntimeError(f"{name}: probes {sorted(values)} given, the spec has {sorted(names)}")
        cut = lengths.tolist() if timed and lengths is not None else None
        parts.append({k: values[k] if isinstance(values[k], list)  # already one array per sample
                      else split_samples(np.asarray(values[k], dtype=lay.dtype[k]), cut) for k in names})
    return trajectories(name, *parts, extras, B)


def assemble_stored(name: str, n: int, inputs: dict[str, np.ndarray], hints: dict[str, np.ndarray],
                    outputs: dict[str, np.ndarray], lengths: np.ndarray,
                    extras: list[dict] | None = None) -> list[Trajectory]:
    """:func:`assemble` for kernels that compute whole hint histories in bulk, in the recorder's
    stored form (``mask_one`` as node indices, ``categorical`` as class ids), hints time first
    ``[T, B, ...]``; sample ``b`` keeps its first ``lengths[b]`` snapshots."""
    lay = _layout(name)

    def expand(k, v):
        if lay.kind[k] == "idx":
            return one_hot(v, n)
        if lay.kind[k] == "cat" and np.asarray(v).dtype.kind in "iu":
            return one_hot(v, CATEGORIES[(name, k)])
        return np.asarray(v, dtype=lay.dtype[k])

    ins = {k: expand(k, v) for k, v in inputs.items()}
    outs = {k: expand(k, v) for k, v in outputs.items()}
    B = lengths.shape[0]
    if lengths.max() * B > 1.5 * lengths.sum():  # mostly padding: expand each sample's own part
        cut = list(enumerate(lengths.tolist()))
        return assemble(name, ins, {k: [expand(k, v[:t, b]) for b, t in cut] for k, v in hints.items()},
                        outs, None, extras)
    full = {k: np.ascontiguousarray(np.swapaxes(expand(k, v), 0, 1)) for k, v in hints.items()}
    return assemble(name, ins, full, outs, lengths, extras)


def split_samples(values: np.ndarray, lengths: list[int] | None = None) -> list[np.ndarray]:
    """Views ``values[b]`` (``values[b, :lengths[b]]`` with ``lengths``) for every sample ``b``."""
    if values.ndim == 1:  # graph-level: 0-d views, as the Tracer stores them
        return [values[b, ...] for b in range(values.shape[0])]
    rows = list(values)
    return rows if lengths is None else [r[:t] for r, t in zip(rows, lengths)]


def trajectories(name: str, inputs: dict[str, list], hints: dict[str, list], outputs: dict[str, list],
                 extras: list[dict] | None, batch: int) -> list[Trajectory]:
    """``batch`` Trajectory objects from per-sample lists of arrays, keyed by probe (spec order)."""
    parts = []
    for probes in (inputs, hints, outputs):
        keys = tuple(probes)
        parts.append([dict(zip(keys, vals)) for vals in zip(*probes.values())] if keys else
                     [{} for _ in range(batch)])
    extras = [dict(e) for e in extras] if extras is not None else [{} for _ in range(batch)]
    return [Trajectory(name, i, h, o, e) for i, h, o, e in zip(*parts, extras)]
