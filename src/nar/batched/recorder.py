"""The batched counterpart of :class:`nar.trace.Tracer`: one recorder for ``B`` samples at once.

A batched kernel advances every sample of a chunk with numpy operations over the batch axis and
calls :meth:`BatchRecorder.step` wherever the per-sample algorithm calls ``Tracer.step``; ``active``
says which samples push a snapshot now (samples finish and branch at different times).  Hints not
named carry over, exactly as in the Tracer.  :meth:`BatchRecorder.finish` expands the cheap
encodings (``mask_one`` as node indices, ``categorical`` as class ids) once for the whole batch and
cuts it into per-sample :class:`~nar.trace.Trajectory` objects that equal, array for array, what
``nar.execute`` returns for each sample.

Shapes: node values ``[B, n]``, edge values ``[B, n, n]``, graph values ``[B]``; ``mask_one`` values
``[B]`` (node indices); ``categorical`` values as class ids (``loc`` shape, int) or one-hot rows.
"""
from __future__ import annotations

import numpy as np

from ..trace import CATEGORIES, Trajectory, _layout
from ..types import one_hot


class BatchRecorder:
    """Records ``batch`` trajectories of algorithm ``name`` on ``n`` nodes each."""

    def __init__(self, name: str, n: int, batch: int):
        self.name, self.n, self.batch = name, n, batch
        self._lay = _layout(name)
        self._inputs: dict[str, np.ndarray] = {}
        self._outputs: dict[str, np.ndarray] = {}
        self._cur: dict[str, np.ndarray] = {}
        self._hist: dict[str, np.ndarray] = {}
        self.lengths = np.zeros(batch, dtype=np.int64)  # snapshots pushed so far, per sample
        self._steps = 0  # global step calls, the capacity needed for the lockstep fast path
        self._all = np.arange(batch)

    # -- conversion -----------------------------------------------------------------------------
    def _stored(self, key: str, value) -> np.ndarray:
        """``value`` in its stored form for the whole batch (always a fresh array)."""
        lay = self._lay
        if key not in lay.spec:
            raise KeyError(f"{self.name}: {key!r} is not a probe of its spec ({sorted(lay.spec)})")
        kind, ndim = lay.kind[key], lay.loc_ndim[key]
        if kind == "idx":
            return np.array(np.broadcast_to(value, (self.batch,)), dtype=np.int64)
        if kind == "cat":
            value = np.asarray(value)
            ids = value.ndim == ndim + 1  # [B] + loc: class ids
            return np.array(value, dtype=np.int64 if ids else np.float32)
        return np.array(np.broadcast_to(value, (self.batch,) + (self.n,) * ndim), dtype=lay.dtype[key])

    def _expand(self, key: str, value: np.ndarray) -> np.ndarray:
        kind = self._lay.kind[key]
        if kind == "idx":
            return one_hot(value, self.n)
        if kind == "cat" and value.dtype == np.int64:
            return one_hot(value, CATEGORIES[(self.name, key)])
        return value

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
        cur = self._cur
        if not self._hist:
            missing = [k for k in self._lay.hint_names if k not in changed]
            if missing or active is not None:
                raise ValueError(f"{self.name}: the first step must set every hint of every sample; "
                                 f"missing {missing}" if missing else "active must be None")
            for k, v in changed.items():
                cur[k] = self._stored(k, v)
            # [B, capacity, ...]: each sample's history is one contiguous block, cut without copying
            self._hist = {k: np.empty((v.shape[0], 8) + v.shape[1:], v.dtype) for k, v in cur.items()}
        elif active is None:
            for k, v in changed.items():
                cur[k] = self._stored(k, v)
        else:
            active = np.asarray(active, dtype=bool)
            for k, v in changed.items():
                new = self._stored(k, v)
                where = active.reshape((-1,) + (1,) * (new.ndim - 1))
                np.copyto(cur[k], new, where=where)
        self._push(active)

    def _push(self, active) -> None:
        if active is None:
            rows, at = self._all, self.lengths
        else:
            rows = np.flatnonzero(active)
            if rows.size == 0:
                return
            at = self.lengths[rows]
        need = int(at.max()) + 1
        hist = self._hist
        cap = next(iter(hist.values())).shape[1]
        if need > cap:
            cap = max(need, 2 * cap)
            for k, h in hist.items():
                grown = np.empty((h.shape[0], cap) + h.shape[2:], h.dtype)
                grown[:, :h.shape[1]] = h
                hist[k] = grown
        if active is None and self._uniform():
            t = int(self.lengths[0])
            for k, h in hist.items():
                h[:, t] = self._cur[k]
            self.lengths += 1
        else:
            for k, h in hist.items():
                h[rows, at] = self._cur[k][rows]
            self.lengths[rows] += 1

    def _uniform(self) -> bool:
        lengths = self.lengths
        return bool(lengths[0] == lengths[-1]) and bool((lengths == lengths[0]).all())

    def finish(self, extras: list[dict] | None = None) -> list[Trajectory]:
        """Per-sample trajectories; ``extras[b]`` becomes sample ``b``'s ``Trajectory.extras``."""
        if not self._hist:
            raise RuntimeError(f"{self.name}: no hint step was recorded")
        lay, n, B = self._lay, self.n, self.batch
        if "pos" not in self._inputs:
            self._inputs["pos"] = np.tile(np.arange(n, dtype=np.float32) / np.float32(n), (B, 1))
        missing = [k for k in lay.inputs if k not in self._inputs] + \
                  [k for k in lay.outputs if k not in self._outputs]
        if missing:
            raise RuntimeError(f"{self.name}: probes never recorded: {missing}")
        T = int(self.lengths.max())
        hints = {k: self._expand(k, h[:, :T]) for k, h in self._hist.items()}  # [B, T, ...]
        inputs = [(k, self._inputs[k]) for k in lay.inputs]
        outputs = [(k, self._outputs[k]) for k in lay.outputs]
        hint_items = list(hints.items())
        lengths = self.lengths.tolist()
        extras = extras if extras is not None else [{}] * B
        name = self.name
        return [Trajectory(name, {k: v[b, ...] for k, v in inputs},
                           {k: v[b, :t] for k, v in hint_items},
                           {k: v[b, ...] for k, v in outputs}, dict(extras[b]))
                for b, t in enumerate(lengths)]

