"""CLRS-30 string matchers (CLRS ch. 32), traced with :class:`nar.trace.Tracer`.

Nodes are the text positions ``0 .. |T|-1`` followed by the pattern positions ``|T| .. |T|+|P|-1``
(CLRS ``strings_*`` probes): ``string`` is 0 on the text and 1 on the pattern, ``pos`` is ``i/|T|``
on the text and ``j/|P|`` on the pattern, ``key`` one-hot over the alphabet, and the constant
``pred_h`` links each position to the previous one of the same string (the first points to itself).

Inputs ``T`` (text) and ``P`` (pattern) are non-empty integer sequences over the CLRS alphabet
``0..3`` (``key`` has 4 classes), with ``|P| <= |T|``: the reference records no hint at all for a
longer pattern, so it is rejected here.  ``match`` (mask_one) marks the text position where the
*first* occurrence of ``P`` starts; when ``P`` does not occur it marks the head of the pattern,
node ``|T|`` (the reference's convention).  ``Trajectory.extras["text_length"]`` holds ``|T|``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..trace import Tracer, Trajectory
from ..validation import InputError, as_vector
from .registry import register

ALPHABET_SIZE = 4


def _symbols(algorithm: str, arg: str, value) -> tuple[np.ndarray, list]:
    """A non-empty string over ``0 .. ALPHABET_SIZE-1``, as an int array and as a list."""
    arr = as_vector(algorithm, arg, value, integer=True)
    seq = arr.tolist()  # for the scalar loops; min/max on it beat two numpy reductions
    lo, hi = min(seq), max(seq)
    if lo < 0 or hi >= ALPHABET_SIZE:
        raise InputError(f"{algorithm}: {arg} must hold symbols in 0..{ALPHABET_SIZE - 1} "
                         f"(the CLRS alphabet of {ALPHABET_SIZE}), got values {lo}..{hi}")
    return arr, seq


def _strings(algorithm: str, T, P) -> tuple[np.ndarray, np.ndarray, list, list]:
    """Validated text and pattern with ``|P| <= |T|``: ``(T, P, text list, pattern list)``."""
    T, text = _symbols(algorithm, "T", T)
    P, pat = _symbols(algorithm, "P", P)
    if len(pat) > len(text):
        raise InputError(f"{algorithm}: the pattern P (length {len(pat)}) must not be longer "
                         f"than the text T (length {len(text)})")
    return T, P, text, pat


@lru_cache(maxsize=512)
def _layout(nT: int, nP: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Constant probes of a text/pattern pair: ``string``, ``pos`` and ``pred_h`` (strings_pred).

    Cached per length pair and read-only (the tracer copies what it records).
    """
    string = np.concatenate([np.zeros(nT), np.ones(nP)])
    pos = np.concatenate([np.arange(nT) / nT, np.arange(nP) / nP])
    pred = np.arange(nT + nP) - 1
    pred[[0, nT]] = [0, nT]
    for arr in (string, pos, pred):
        arr.flags.writeable = False
    return string, pos, pred


def _record_inputs(tr: Tracer, T: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Record ``string``, ``pos`` and ``key``; return the constant ``pred_h``."""
    string, pos, pred = _layout(T.shape[0], P.shape[0])
    tr.input(string=string, pos=pos, key=np.concatenate([T, P]))
    return pred


@register("naive_string_matcher", "strings")
def naive_string_matcher(T, P) -> Trajectory:
    """Naive string matching (CLRS 32.1), stopping at the first occurrence.

    Hints: ``s`` the shift tried, ``i`` the text position and ``j`` the pattern position compared
    next.  One snapshot when a shift starts (``i = s``, ``j`` = head of the pattern) and one after
    every matching character that does not complete the match.
    """
    T, P, text, pat = _strings("naive_string_matcher", T, P)
    nT, nP = len(text), len(pat)
    tr = Tracer("naive_string_matcher", nT + nP)
    pred = _record_inputs(tr, T, P)
    match = nT  # head of the pattern: "no occurrence"
    tr.step(pred_h=pred, s=0, i=0, j=nT)
    for s in range(nT - nP + 1):
        if s:
            tr.step(s=s, i=s, j=nT)
        j = 0
        while text[s + j] == pat[j]:
            if j == nP - 1:
                match = s
                break
            j += 1
            tr.step(i=s + j, j=nT + j)
        if match == s:
            break
    tr.output(match=match)
    return tr.finish(text_length=nT)


@register("kmp_matcher", "strings")
def kmp_matcher(T, P) -> Trajectory:
    """Knuth-Morris-Pratt matching (CLRS 32.4), stopping at the first occurrence.

    The reference's 0-based form of KMP: a prefix state is the index ``k`` of the last matched
    pattern character, or *reset* (the empty prefix, shown as ``k = 0`` with ``k_reset = 1``).
    ``pi[q]`` is the index of the last character of the longest proper border of ``P[:q+1]``;
    ``is_reset[q] = 1`` when that border is empty.  Phase 0 (``phase = 0``) computes ``pi`` with
    state ``k`` for each ``q = 1..|P|-1``; phase 1 scans the text with state ``q`` (``q_reset``),
    ``i`` the text position and ``s = max(0, i - |P| + 1)``.  One snapshot per fallback
    ``k <- pi[k]`` / ``q <- pi[q]``, one after each ``pi[q]`` is set, and one when each text
    character is reached (before its fallbacks).  Pointers are node indices (``pi`` of text nodes:
    self).
    """
    T, P, text, pat = _strings("kmp_matcher", T, P)
    nT, nP = len(text), len(pat)
    tr = Tracer("kmp_matcher", nT + nP)
    pred = _record_inputs(tr, T, P)

    pi = [0] * nP  # pi[0] is never read; is_reset[0] = 1
    is_reset = [1] + [0] * (nP - 1)
    pi_nodes = np.arange(nT + nP)
    reset_nodes = np.zeros(nT + nP)
    reset_nodes[nT] = 1

    # Phase 0: prefix function.
    k, k_reset = 0, 1
    tr.step(pred_h=pred, pi=pi_nodes, is_reset=reset_nodes, k=nT, k_reset=1,
            q=nT + min(1, nP - 1), q_reset=1, s=0, i=0, phase=0)
    for q in range(1, nP):
        while not k_reset and pat[k + 1] != pat[q]:
            if is_reset[k]:
                k, k_reset = 0, 1
            else:
                k = pi[k]
            tr.step(k=nT + k, k_reset=k_reset, q=nT + q)
        if k_reset:
            k, k_reset = -1, 0
        if pat[k + 1] == pat[q]:
            k += 1
        if k == -1:
            k, k_reset = 0, 1
            is_reset[q] = 1
            reset_nodes[nT + q] = 1
        pi[q] = k
        pi_nodes[nT + q] = nT + k
        tr.step(pi=pi_nodes, is_reset=reset_nodes, k=nT + k, k_reset=k_reset, q=nT + q)

    # Phase 1: scan the text.
    q, q_reset, s = 0, 1, 0
    match = nT  # head of the pattern: "no occurrence"
    for i in range(nT):
        if i >= nP:
            s += 1
        tr.step(q=nT + q, q_reset=q_reset, s=s, i=i, phase=1)
        while not q_reset and pat[q + 1] != text[i]:
            if is_reset[q]:
                q, q_reset = 0, 1
            else:
                q = pi[q]
            tr.step(q=nT + q, q_reset=q_reset)
        if q_reset:
            q, q_reset = -1, 0
        if pat[q + 1] == text[i]:
            if q == nP - 2:
                match = s
                break
            q += 1
        if q == -1:
            q, q_reset = 0, 1
    tr.output(match=match)
    return tr.finish(text_length=nT)
