"""BatchRecorder against the per-sample Tracer on random recording programs (masks, carry-over)."""
from __future__ import annotations

import numpy as np
import pytest

from nar.batched.recorder import BatchRecorder
from nar.trace import Tracer

from test_batched import assert_same

N, B = 5, 7


def random_value(rng, key):
    if key in ("pi_h", "s_prev"):
        return rng.integers(0, N, size=N)
    if key == "color":
        return rng.integers(0, 3, size=N)
    if key in ("d", "f"):
        return rng.random(N).astype(np.float32)
    if key == "time":
        return np.float32(rng.random())
    return int(rng.integers(N))  # mask_one hints: node indices


HINTS = ("pi_h", "color", "d", "f", "s_prev", "s", "u", "v", "s_last", "time")


@pytest.mark.parametrize("seed", range(6))
def test_recorder_equals_tracers(seed):
    """Random programs: at every batch step some samples push, each changing random hints."""
    rng = np.random.default_rng(seed)
    tracers = [Tracer("dfs", N) for _ in range(B)]
    rec = BatchRecorder("dfs", N, B)
    A = (rng.random((B, N, N)) < 0.5).astype(np.float32)
    rec.input(A=A, adj=A)
    for b, tr in enumerate(tracers):
        tr.input(A=A[b], adj=A[b])
    first = {k: np.stack([np.asarray(random_value(rng, k)) for _ in range(B)]) for k in HINTS}
    rec.step(**first)
    for b, tr in enumerate(tracers):
        tr.step(**{k: v[b] for k, v in first.items()})
    lockstep_steps = int(rng.integers(0, 4)) if seed % 2 else 0
    for step in range(12):
        active = None if step < lockstep_steps else rng.random(B) < 0.6
        if seed == 5 and step == 3:
            active = np.zeros(B, dtype=bool)  # nobody pushes: a no-op
        keys = [k for k in HINTS if rng.random() < 0.3]
        new = {k: np.stack([np.asarray(random_value(rng, k)) for _ in range(B)]) for k in keys}
        rec.step(active, **new)
        for b, tr in enumerate(tracers):
            if active is None or active[b]:
                tr.step(**{k: v[b] for k, v in new.items()})
    out = rng.integers(0, N, size=(B, N))
    rec.output(pi=out)
    for b, tr in enumerate(tracers):
        tr.output(pi=out[b])
    got = rec.finish(extras=[{"b": b} for b in range(B)])
    for b, tr in enumerate(tracers):
        assert_same(got[b], tr.finish(b=b), f"seed {seed} sample {b}")
        assert got[b].length == 1 + int(rec.lengths[b]) - 1


def test_first_step_must_set_every_hint():
    rec = BatchRecorder("dfs", N, B)
    with pytest.raises(ValueError, match="first step"):
        rec.step(pi_h=np.zeros((B, N), dtype=np.int64))
    rec = BatchRecorder("minimum", 3, 2)
    rec.step(pred_h=np.zeros((2, 3), dtype=np.int64), min_h=0, i=0)
    with pytest.raises(KeyError, match="not a probe"):
        rec.step(nope=1)


def test_values_are_copied():
    """Mutating an array after handing it to the recorder does not change the history."""
    rec = BatchRecorder("minimum", 3, 2)
    rec.input(key=np.zeros((2, 3)))
    pred = np.zeros((2, 3), dtype=np.int64)
    rec.step(pred_h=pred, min_h=0, i=0)
    pred[:] = 2
    rec.step(pred_h=pred, i=1)
    rec.output(min=np.zeros(2, dtype=np.int64))
    t = rec.finish()[0]
    assert t.hints["pred_h"][0].tolist() == [0, 0, 0] and t.hints["pred_h"][1].tolist() == [2, 2, 2]


def test_built_hint_replaces_the_recorded_history():
    """``finish(built=...)`` takes a hint's whole history from a function of T."""
    rec = BatchRecorder("minimum", 3, 2)
    rec.input(key=np.zeros((2, 3)))
    rec.step(pred_h=np.zeros((2, 3), dtype=np.int64), min_h=0, i=0)
    rec.step(np.array([True, False]), i=1)
    rec.output(min=np.zeros(2, dtype=np.int64))
    seen = []

    def pred_history(T):
        seen.append(T)
        return np.arange(2 * T * 3).reshape(2, T, 3) % 3

    a, b = rec.finish(built={"pred_h": pred_history})
    assert seen == [2] and a.length == 2 and b.length == 1
    assert a.hints["pred_h"].tolist() == [[0, 1, 2], [0, 1, 2]]
    assert b.hints["pred_h"].tolist() == [[0, 1, 2]]
    assert a.hints["i"].argmax(1).tolist() == [0, 1]
