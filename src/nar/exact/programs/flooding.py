"""Message flooding (seed paper, Theorem 6.1 / Appendix E.2): an ``l``-bit message spreads from a
source to every node it can reach, on graphs of any size with maximum degree ``D``.

State of a node (``d`` = number of slots, ``D^2 + 1`` on graphs, ``D + 1`` suffices on trees):

==================  ========  ======  ==================================================
variable            shape     part    meaning
==================  ========  ======  ==================================================
``message``         [l]       local   the message bits known so far
``sent``            [d, l]    local   request to send: a copy of ``message`` per slot row
``my_slot``         [d, l]    local   the local ID: row ``id`` is all ones
``pipe``            [d, l]    local   cascade (delay chain) from the slots to ``message``
``slot``            [d, l]    comm    outgoing/incoming messages, row = sender's local ID
==================  ========  ======  ==================================================

Templates, per message bit ``i`` (``N = l (4d + 1)``, equal to the state size):
``message[i] -> message[i], sent[*, i]``; per slot ``s``: ``sent[s, i] & my_slot[s, i] ->
slot[s, i], my_slot[s, i]``; ``~sent[s, i] & my_slot[s, i] -> my_slot[s, i]``;
``slot[s, i] -> pipe[s, i]``; ``pipe[s, i] -> pipe[s + 1, i]`` (the last row -> ``message[i]``).
A message crosses one edge in at most ``d + 3`` steps; the bound is ``ecc(source) (d + 3)``.

``variant`` builds the template sets of the paper's Section 7.3 / Appendix C.3 experiments
(they add a ``final_message`` block that the cascade ends in): ``"ablation"`` adds the all-zero
template ``sent & ~my_slot -> 0``; ``"collision"`` adds ``~slot[s, i] -> 0`` per slot;
``"direct"`` is "collision" with ``slot[s, i] -> final_message[i]`` instead of the cascade entry.
"""
from __future__ import annotations

import numpy as np

from ...validation import InputError
from ..graph import Graph
from ..layout import from_bits, to_bits
from ..templates import Program
from .base import ExactProgram

VARIANTS = ("main", "ablation", "collision", "direct")


class Flooding(ExactProgram):
    name = "flooding"

    def __init__(self, D: int = 3, l: int = 1, slots: int | None = None, variant: str = "main"):
        if variant not in VARIANTS:
            raise InputError(f"flooding: variant must be one of {VARIANTS}, got {variant!r}")
        self.variant = variant
        super().__init__(D, l, slots)

    def build(self) -> Program:
        l, d, var = self.l, self.S, self.variant
        p = Program("flooding", D=self.D, l=l, slots=d, variant=var)
        message = p.var("message", l)
        final = p.var("final_message", l) if var != "main" else None
        sent = p.var("sent", (d, l))
        my_slot = p.var("my_slot", (d, l))
        pipe = p.var("pipe", (d, l))
        slot = p.var("slot", (d, l), comm=True)
        end = message if final is None else final
        for i in range(l):
            p.rule([message[i]], [message[i]] + [sent[t, i] for t in range(d)], tag="keep+send")
            for s in range(d):
                p.rule([sent[s, i], my_slot[s, i]], [slot[s, i], my_slot[s, i]], tag="write slot")
                if var == "ablation":
                    p.rule([sent[s, i], ~my_slot[s, i]], [], tag="idle")
                p.rule([~sent[s, i], my_slot[s, i]], [my_slot[s, i]], tag="keep id")
                if var in ("main", "ablation"):
                    p.rule([slot[s, i]], [pipe[s, i]], tag="cascade in")
                p.rule([pipe[s, i]], [pipe[s + 1, i] if s + 1 < d else end[i]], tag="cascade")
            if var in ("collision", "direct"):
                for s in range(d):
                    p.rule([slot[s, i]], [pipe[s, i] if var == "collision" else final[i]],
                           tag="cascade in" if var == "collision" else "direct")
                    p.rule([~slot[s, i]], [], tag="idle")
        return p

    # ---- graphs ------------------------------------------------------------------------------
    def _message(self, message) -> np.ndarray:
        if isinstance(message, (int, np.integer)):
            if not 0 <= message < 2 ** self.l:
                raise InputError(f"flooding: message must be in [0, {2 ** self.l}), got {message}")
            return to_bits(message, self.l)
        bits = np.asarray(message)
        if bits.shape != (self.l,) or not np.isin(bits, (0, 1)).all():
            raise InputError(f"flooding: message must be an int or {self.l} bits, got {message!r}")
        return bits.astype(np.uint8)

    def check(self, g: Graph, source: int, message=1, **_) -> None:
        self._message(message)

    def init_rows(self, g, source, ids, message=1, **_):
        X = self.new_rows(g.n)
        L = self.program.layout
        L.set(X, "message", self._message(message), rows=[source])
        cols = L["my_slot"].columns()  # [d, l]
        X[np.arange(g.n)[:, None], cols[ids]] = 1
        return X

    def bound(self, g, source, **_):
        return max(g.eccentricity(source), 1) * (self.S + 3)

    def decode(self, g, source, rows):
        bits = self.program.layout.get(rows, "message")
        return {"message": from_bits(bits)}

    def truth(self, g, source, message=1, **_):
        m = int(from_bits(self._message(message)))
        return {"message": np.where(g.hops(source) >= 0, m, 0)}

    @classmethod
    def bits_for(cls, graphs, **inputs) -> int:
        return 1
