"""The :class:`ExactProgram` of a compiled LOCAL algorithm (:mod:`nar.exact.local`).

It builds the templates of :func:`nar.exact.local.build_program`, checks a graph's inputs, writes
the initial states (vectorised: one lookup of the enumerated ``init`` per distinct small input),
gives the iteration bound ``P * rounds(graph, source)`` and decodes the state fields.
"""
from __future__ import annotations

import numpy as np

from ...validation import InputError
from ..graph import Graph
from ..layout import from_bits, to_bits
from ..local import LocalAlgorithm, LocalCompileError, build_program, outputs
from .base import ExactProgram, neighbour_table


class LocalProgram(ExactProgram):
    """An exact program compiled from ``algorithm`` (a :class:`LocalAlgorithm`)."""

    algorithm: LocalAlgorithm = None

    def build(self):
        self.plan = self.algorithm.compile(self.D)
        program, (self.P, self.R, self.C) = build_program(self.plan, self.D, self.l, self.S)
        return program

    # ---- inputs -------------------------------------------------------------------------------
    def _ids(self, g: Graph, id=None) -> np.ndarray:
        if id is None:
            return np.arange(g.n, dtype=np.int64)
        ids = np.asarray(id)
        if ids.shape != (g.n,) or ids.dtype.kind not in "iu":
            raise InputError(f"{self.name}: id must be {g.n} integers (one per node), got shape {ids.shape}, "
                             f"dtype {ids.dtype}")
        return ids.astype(np.int64)

    def _inputs(self, g: Graph, source: int, extra: dict) -> np.ndarray:
        """Small inputs ``[n, len(plan.small_inputs)]`` (``is_source`` first)."""
        unknown = sorted(set(extra) - {"id"} - {n for n, _ in self.plan.small_inputs})
        if unknown:
            known = ", ".join(["id"] + [n for n, _ in self.plan.small_inputs[1:]])
            raise InputError(f"{self.name}: unknown input {unknown[0]!r}; the inputs are: {known}")
        cols = [(np.arange(g.n) == source).astype(np.int64)]
        for name, spec in self.plan.small_inputs[1:]:
            if name not in extra:
                raise InputError(f"{self.name}: missing input {name!r} (integers 0..{spec.values - 1} per node)")
            v = np.asarray(extra[name])
            if v.shape != (g.n,) or v.dtype.kind not in "biu" or v.min(initial=0) < 0 or v.max(initial=0) >= spec.values:
                raise InputError(f"{self.name}: input {name!r} must be {g.n} integers in 0..{spec.values - 1}")
            cols.append(v.astype(np.int64))
        return np.stack(cols, 1)

    def check(self, g: Graph, source: int, **extra) -> None:
        ids = self._ids(g, extra.get("id"))
        keys = self.plan.key_state or self.plan.key_msg
        if keys and (ids.min(initial=0) < 0 or ids.max(initial=0) >= 2 ** self.l):
            raise InputError(f"{self.name}: node IDs must lie in [0, 2^l) = [0, {2 ** self.l}) for key width "
                             f"l={self.l}; the largest is {int(ids.max())}: use l >= {int(ids.max()).bit_length()}")
        self._inputs(g, source, extra)
        if self.plan.uses_round:
            r = self.algorithm.round_bound(g, source, extra)
            if r >= 2 ** self.l:
                raise InputError(f"{self.name}: the round number reaches {r}, above what l={self.l} bits hold; "
                                 f"use l >= {r.bit_length()}")

    def init_rows(self, g, source, ids, **extra):
        L, X, plan = self.program.layout, self.new_rows(g.n), self.plan
        L.set(X, "clk", np.eye(self.P, dtype=np.uint8)[0])
        L.set(X, "me", np.eye(self.S, dtype=np.uint8)[ids])
        table, nbrs = neighbour_table(g, ids, self.D, self.S)
        L.set(X, "nb", table)
        L.set(X, "pres", (nbrs >= 0).astype(np.uint8))
        key = to_bits(self._ids(g, extra.get("id")), self.l)
        combos, inverse = np.unique(self._inputs(g, source, extra), axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        for c, combo in enumerate(combos.tolist()):
            rows = np.flatnonzero(inverse == c)
            st, msg, kst, kms = plan.init_table[tuple(combo)]
            for (name, spec), v in zip(plan.small_state, st):
                L.set(X, f"state.{name}", to_bits(v, spec.bits), rows=rows)
            for (name, spec), v in zip(plan.small_msg, msg):
                L.set(X, f"out.{name}", to_bits(v, spec.bits), rows=rows)
            for name, src in zip(plan.key_state, kst):
                if src is not None:
                    L.set(X, f"key.{name}", key[rows], rows=rows)
            for name, src in zip(plan.key_msg, kms):
                if src is not None and name not in plan.alias:
                    L.set(X, f"outkey.{name}", key[rows], rows=rows)
        return X

    def bound(self, g, source, **extra):
        return self.P * max(self.algorithm.round_bound(g, source, extra), 1)

    # ---- outputs ------------------------------------------------------------------------------
    def decode(self, g, source, rows):
        L, plan = self.program.layout, self.plan
        fields = {n: from_bits(L.get(rows, f"state.{n}")) for n, _ in plan.small_state}
        fields.update({n: from_bits(L.get(rows, f"key.{n}")) for n in plan.key_state})
        return outputs(self.algorithm, plan, fields)

    def truth(self, g, source, **extra):
        if self.algorithm.truth is None:
            raise InputError(f"{self.name}: the algorithm has no oracle (truth=) to verify against")
        return self.algorithm.truth(g, source, **extra)

    @classmethod
    def bits_for(cls, graphs, **inputs) -> int:
        bits = max(max(g.n - 1, 1).bit_length() for g in graphs)
        alg = cls.algorithm
        try:
            uses_round = alg.compile(max(max(g.max_degree for g in graphs), 1)).uses_round
        except LocalCompileError:
            uses_round = True
        if uses_round:
            bits = max(bits, max(alg.round_bound(g, 0).bit_length() for g in graphs))
        return bits

    def report(self) -> dict:
        rep = super().report()
        rep.update(self.plan.report())
        rep["period"] = self.P
        return rep


