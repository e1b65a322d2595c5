"""Depth-first search (smallest ID first) in the graph template-matching framework.

A single token walks the graph.  Its holder passes it to the first neighbour of its table (sorted
by ID) not known to be visited, or back to its parent when there is none; the root then stops.
Every message a node sends tells its neighbours that it is visited, so they mark it ``done``.
The token carries a counter of discovered nodes, which gives the discovery (preorder) index.
Messages go through the sender's own slot and name the receiver by its local ID.

==============  ==========  =====  ===============================================
variable        shape       part   meaning
==============  ==========  =====  ===============================================
``clk``         [6]         local  phase of a move
``me`` ``nb``   [S] [D, S]  local  local ID and neighbour table (inputs); ``root``
``done``        [D]         local  entry j is visited or absent (absent ones start at 1)
``vis`` ``tok`` 1 1         local  visited; holds the token
``par``         [D]         local  parent entry (output); ``disc`` [l] discovery index (output)
``tc``          [l]         local  token counter: nodes discovered so far (valid while holding)
``go`` ``back`` [D] 1       local  transient choice; ``sending``; ``to`` [S] receiver's local ID
``mine``        [S]         local  transient: slot s addresses me; ``got``, ``from`` [D]
``rtc``         [l]         local  received counter
``slot``        [S, 1+S+l]  comm   (present, receiver ID one-hot, counter), row = sender's ID
==============  ==========  =====  ===============================================

Phases of a move: 0 choose (``go[j]`` / ``back``; the chosen entry becomes ``done``); 1 address
(``to``); 2 send; 3 receive (``mine``; every neighbour of the sender marks it done; latch the
counter); 4 ``got``/``from``; 5 adopt (on discovery ``vis``, ``par``, ``disc = rtc``,
``tc = rtc + 1``; on a return ``tc = rtc``).  The token makes ``2 (n - 1)`` moves, so
``bound = 12 (n - 1)``.  Needs a connected graph and ``n <= 2^l``.
"""
from __future__ import annotations

import numpy as np

from ...validation import InputError
from .. import gadgets as G
from ..graph import Graph
from ..layout import from_bits, to_bits
from ..templates import Program
from ..truth import dfs_truth
from .base import ExactProgram, decode_parent, neighbour_table

PERIOD = 6


class DFS(ExactProgram):
    name = "dfs"
    needs_connected = True

    def build(self) -> Program:
        D, S, l = self.D, self.S, self.l
        p = Program("dfs", D=D, l=l, slots=S)
        clk = G.clock(p, "clk", PERIOD)
        me, nb, root = p.var("me", S), p.var("nb", (D, S)), p.var("root")
        done, vis, tok = p.var("done", D), p.var("vis"), p.var("tok")
        par, disc, tc = p.var("par", D), p.var("disc", l), p.var("tc", l)
        go, back, sending, to = p.var("go", D), p.var("back"), p.var("sending"), p.var("to", S)
        mine, got, frm, rtc = p.var("mine", S), p.var("got"), p.var("from", D), p.var("rtc", l)
        slot = p.var("slot", (S, 1 + S + l), comm=True)

        p.tag("inputs")
        G.persist(p, [me.bits(), nb.bits(), root])
        p.tag("state")
        G.persist(p, [done.bits(), vis, par.bits(), disc.bits()])
        G.persist(p, tc.bits(), unless=got)
        G.persist(p, tok, unless=clk[0])
        G.persist(p, sending, unless=clk[2])
        p.tag("choose")
        for j in range(D):  # first entry not done: go there (and it is done from now on)
            p.rule([tok, clk[0], ~done[j], *[done[i] for i in range(j)]], [go[j], sending, done[j]])
        p.rule([tok, clk[0], ~root, *done.bits()], [back, sending])
        p.tag("address")
        for j in range(D):
            for s in range(S):
                p.rule([go[j], nb[j, s]], [to[s]])
                p.rule([back, par[j], nb[j, s]], [to[s]])
        p.tag("send")
        for s in range(S):
            p.rule([me[s], sending, clk[2]], [slot[s, 0]])
            for t in range(S):
                p.rule([me[s], to[t]], [slot[s, 1 + t]])
            for b in range(l):
                p.rule([me[s], sending, tc[b], clk[2]], [slot[s, 1 + S + b]])
        p.tag("receive")
        for s in range(S):
            for t in range(S):
                p.rule([slot[s, 1 + t], me[t]], [mine[s]])
        G.read_by_table(p, nb, slot, done, fields=[0])  # any message: the sender is visited
        for s in range(S):
            for b in range(l):
                p.rule([slot[s, 1 + S + b]], [rtc[b]])
        G.persist(p, rtc.bits(), unless=clk[0])
        p.tag("from")
        for s in range(S):
            p.rule([mine[s]], [got])
            for j in range(D):
                p.rule([mine[s], nb[j, s]], [frm[j]])
        p.tag("adopt")
        p.rule([got], [tok])
        p.rule([got, ~vis], [vis])
        for j in range(D):
            p.rule([got, ~vis, frm[j]], [par[j]])
        G.copy(p, rtc.bits(), disc.bits(), when=[got, ~vis])
        G.increment(p, rtc.bits(), tc.bits(), when=[got, ~vis])
        G.copy(p, rtc.bits(), tc.bits(), when=[got, vis])
        return p

    # ---- graphs ------------------------------------------------------------------------------
    def check(self, g: Graph, source: int, **_) -> None:
        if g.n > 2 ** self.l:
            raise InputError(f"dfs: {g.n} nodes need discovery indices up to {g.n - 1}, more than "
                             f"l={self.l} bits can number; use l >= {(g.n - 1).bit_length()}")

    def init_rows(self, g, source, ids, **_):
        L, X = self.program.layout, self.new_rows(g.n)
        L.set(X, "clk", np.eye(PERIOD, dtype=np.uint8)[0])
        L.set(X, "me", np.eye(self.S, dtype=np.uint8)[ids])
        table, nbrs = neighbour_table(g, ids, self.D, self.S)
        L.set(X, "nb", table)
        L.set(X, "done", (nbrs < 0).astype(np.uint8))
        for name in ("root", "vis", "tok"):
            L.set(X, name, 1, rows=[source])
        L.set(X, "tc", to_bits(1, self.l), rows=[source])
        return X

    def bound(self, g, source, **_):
        return 2 * PERIOD * max(g.n - 1, 1)

    def decode(self, g, source, rows):
        L = self.program.layout
        _, nbrs = neighbour_table(g, np.zeros(g.n, dtype=np.int64), self.D, self.S)
        vis = L.get(rows, "vis").astype(bool)
        order = np.where(vis, from_bits(L.get(rows, "disc")), -1)
        parent = decode_parent(L.get(rows, "par"), nbrs, np.arange(g.n))
        return {"visited": vis, "parent": parent, "order": order}

    def truth(self, g, source, **_):
        return dfs_truth(g, source)

    @classmethod
    def bits_for(cls, graphs, **inputs) -> int:
        return max(max(g.n - 1, 1).bit_length() for g in graphs)
