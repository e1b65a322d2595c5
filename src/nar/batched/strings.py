"""Batched kernels of the string matchers (see :mod:`nar.algorithms.strings`).

Every sample of a chunk has the same node count ``n = |T| + |P|`` (the text/pattern split may
differ per sample).  Per sample, ``key`` holds text and pattern one after the other, so text
position ``i`` is node ``i`` and pattern position ``j`` is node ``|T| + j``.  Each kernel keeps
every sample's state between two snapshots; one pass of its loop moves every live sample to its
next snapshot (samples that finished are inactive).
"""
from __future__ import annotations

import numpy as np

from . import kernel, per_sample
from .recorder import BatchRecorder


def _load(inputs: list[dict]):
    """``(key [B, n], |T| [B], |P| [B])``, or ``None`` when the samples differ in ``n``."""
    nT = np.array([len(x["T"]) for x in inputs], dtype=np.int64)
    nP = np.array([len(x["P"]) for x in inputs], dtype=np.int64)
    sizes = nT + nP
    if (sizes != sizes[0]).any():
        return None
    if (nT == nT[0]).all():
        return np.concatenate((np.array([x["T"] for x in inputs], dtype=np.int64),
                               np.array([x["P"] for x in inputs], dtype=np.int64)), axis=1), nT, nP
    key = np.array([np.concatenate((x["T"], x["P"])) for x in inputs], dtype=np.int64)
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
        return per_sample("naive_string_matcher", inputs)
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


def _fall_back(mask, k, k_reset, pi, is_reset, node):
    """``k <- pi[k]`` (or to *reset* when ``is_reset[k]``) for the samples in ``mask``; ``node`` is
    ``|T| + k``, the node of pattern position ``k``."""
    rows = np.arange(mask.shape[0])
    to_reset = mask & is_reset[rows, node]
    k = np.where(mask, np.where(to_reset, 0, pi[rows, node] - (node - k)), k)
    return k, k_reset | to_reset


@kernel("kmp_matcher")
def kmp_matcher(inputs: list[dict]):
    """Mirrors :func:`nar.algorithms.strings.kmp_matcher`.  Between two snapshots a sample does one
    of: phase 0, a fallback of ``k`` (snapshot) or setting ``pi[q]`` (snapshot, next ``q``);
    phase 1, the first text snapshot (``i = 0``), a fallback of ``q`` (snapshot) or resolving text
    position ``i`` (the match ends the sample; else the snapshot of ``i + 1``, or the end)."""
    loaded = _load(inputs)
    if loaded is None:
        return per_sample("kmp_matcher", inputs)
    key, nT, nP = loaded
    B, n = key.shape
    rec, pred = _start("kmp_matcher", key, nT, nP)
    rows = np.arange(B)
    keys = np.concatenate((key, np.zeros((B, 1), np.int64)), axis=1)  # finished samples may read node n
    pi = np.tile(np.arange(n), (B, 1))  # pointers as nodes; pi of text nodes: self
    is_reset = np.zeros((B, n), dtype=bool)
    is_reset[rows, nT] = True
    k = np.zeros(B, dtype=np.int64)
    k_reset = np.ones(B, dtype=bool)
    qq = np.ones(B, dtype=np.int64)  # phase 0's loop variable q
    q = np.zeros(B, dtype=np.int64)  # phase 1's prefix state q
    q_reset = np.ones(B, dtype=bool)
    s = np.zeros(B, dtype=np.int64)
    i = np.zeros(B, dtype=np.int64)
    mode = np.where(nP > 1, 0, 1)  # 0: prefix function, 1: text scan, 2: finished
    scanning = np.zeros(B, dtype=bool)  # phase 1 and its first text snapshot recorded
    match = nT.copy()  # head of the pattern: "no occurrence"
    rec.step(pred_h=pred, pi=pi, is_reset=is_reset, k=nT + k, k_reset=k_reset,
             q=nT + np.where(mode == 0, qq, q), q_reset=q_reset, s=s, i=i, phase=0)
    while True:
        in0, in1 = mode == 0, mode == 1
        hints = {}  # the hints some sample changes at this snapshot
        setting = None
        if in0.any():  # phase 0: fall back, or set pi[qq]
            fall = in0 & ~k_reset & (keys[rows, nT + k + 1] != keys[rows, nT + qq])
            if fall.any():
                k, k_reset = _fall_back(fall, k, k_reset, pi, is_reset, nT + k)
            setting = in0 & ~fall
            if setting.any():
                kk = np.where(k_reset, -1, k)
                kk = kk + (keys[rows, nT + kk + 1] == keys[rows, nT + qq])
                k = np.where(setting, np.maximum(kk, 0), k)
                k_reset = np.where(setting, kk == -1, k_reset)
                sel = np.flatnonzero(setting)
                col = (nT + qq)[sel]
                is_reset[sel, col] = k_reset[sel]
                pi[sel, col] = (nT + k)[sel]
                hints.update(pi=pi, is_reset=is_reset)
            hints.update(k=nT + k, k_reset=k_reset)
        if in1.any():  # phase 1: first snapshot, fall back, or resolve text position i
            if not scanning.all():
                if (in1 & ~scanning).any():
                    hints["phase"] = in1
                scan = in1 & scanning
                scanning |= in1
            else:
                scan = in1
            fall = scan & ~q_reset & (keys[rows, nT + q + 1] != keys[rows, i])
            if fall.any():
                q, q_reset = _fall_back(fall, q, q_reset, pi, is_reset, nT + q)
            resolve = scan & ~fall
            if resolve.any():
                qr = np.where(q_reset, -1, q)
                same = keys[rows, nT + qr + 1] == keys[rows, i]
                found = resolve & same & (qr == nP - 2)
                match[found] = s[found]
                qr = qr + same
                q = np.where(resolve, np.maximum(qr, 0), q)
                q_reset = np.where(resolve, qr == -1, q_reset)
                i = i + resolve
                s = s + (resolve & (i >= nP))
                mode[found | (resolve & (i == nT))] = 2
                hints.update(s=s, i=i)
            hints["q_reset"] = q_reset
        live = mode != 2
        if not live.any():
            break
        hints["q"] = nT + np.where(in0, qq, q)
        rec.step(active=_active(live), **hints)
        if setting is not None:
            qq = qq + setting
            mode[setting & (qq == nP)] = 1
    return _finish(rec, nT, match)
