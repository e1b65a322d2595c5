"""Batched kernels of the string matchers (see :mod:`nar.algorithms.strings`).

Every sample of a chunk has the same node count ``n = |T| + |P|`` (the text/pattern split may
differ per sample).  Per sample, ``key`` holds text and pattern one after the other, so text
position ``i`` is node ``i`` and pattern position ``j`` is node ``|T| + j``.  Each kernel keeps
every sample's state between two snapshots; one pass of its loop moves every live sample to its
next snapshot (samples that finished are inactive).
"""
from __future__ import annotations

import numpy as np

from ..algorithms.registry import get_algorithm
from . import kernel
from .recorder import BatchRecorder


def _per_sample(name: str, inputs: list[dict]):
    fn = get_algorithm(name).fn
    return [fn(**x) for x in inputs]


def _load(inputs: list[dict]):
    """``(key [B, n], |T| [B], |P| [B])``, or ``None`` when the samples differ in ``n``."""
    Ts = [np.asarray(x["T"], dtype=np.int64) for x in inputs]
    Ps = [np.asarray(x["P"], dtype=np.int64) for x in inputs]
    nT = np.array([t.shape[0] for t in Ts], dtype=np.int64)
    nP = np.array([p.shape[0] for p in Ps], dtype=np.int64)
    sizes = nT + nP
    if (sizes != sizes[0]).any():
        return None
    if (nT == nT[0]).all():
        key = np.concatenate((np.stack(Ts), np.stack(Ps)), axis=1)
    else:
        key = np.stack([np.concatenate((t, p)) for t, p in zip(Ts, Ps)])
    return key, nT, nP


def _start(name: str, key: np.ndarray, nT: np.ndarray, nP: np.ndarray):
    """A recorder with the inputs ``string``, ``pos``, ``key`` recorded, and the constant ``pred_h``
    (as :func:`nar.algorithms.strings._layout`: text and pattern each a list of its own)."""
    B, n = key.shape
    rec = BatchRecorder(name, n, B)
    node = np.arange(n)
    tT, tP = nT[:, None], nP[:, None]
    text = node < tT
    pos = np.where(text, node / tT, (node - tT) / tP)  # float64 as the per-sample layout, then stored
    pred = np.where(node == tT, node, node - 1)
    pred[:, 0] = 0
    rec.input(string=~text, pos=pos, key=key)
    return rec, pred


def _active(live: np.ndarray):
    """``active`` for :meth:`BatchRecorder.step`: ``None`` (the fast path) when every sample is live."""
    return None if live.all() else live


def _finish(rec: BatchRecorder, nT: np.ndarray, match: np.ndarray):
    rec.output(match=match)
    return rec.finish(extras=[{"text_length": t} for t in nT.tolist()])


@kernel("naive_string_matcher")
def naive_string_matcher(inputs: list[dict]):
    """Mirrors :func:`nar.algorithms.strings.naive_string_matcher`: a sample's state is the shift
    ``s`` and pattern position ``j`` (snapshot ``i = s + j``, ``j``); a character match moves to
    ``j + 1`` or ends with the match, a mismatch moves to the next shift (or ends: no match)."""
    loaded = _load(inputs)
    if loaded is None:
        return _per_sample("naive_string_matcher", inputs)
    key, nT, nP = loaded
    B = key.shape[0]
    rec, pred = _start("naive_string_matcher", key, nT, nP)
    rows = np.arange(B)
    s = np.zeros(B, dtype=np.int64)
    j = np.zeros(B, dtype=np.int64)
    last_shift, last_j = nT - nP, nP - 1
    match = nT.copy()  # head of the pattern: "no occurrence"
    live = np.ones(B, dtype=bool)
    rec.step(pred_h=pred, s=s, i=s, j=nT)
    while True:
        same = key[rows, s + j] == key[rows, nT + j]
        found = live & same & (j == last_j)
        match[found] = s[found]
        shift = live & ~same
        j = np.where(shift, 0, j + (live & same & ~found))
        s = s + shift
        live &= ~found & ~(shift & (s > last_shift))
        if not live.any():
            break
        rec.step(active=_active(live), s=s, i=s + j, j=nT + j)
    return _finish(rec, nT, match)
