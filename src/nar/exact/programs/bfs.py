"""Breadth-first search, level-synchronous, in the graph template-matching framework.

Each round (4 steps, a global one-hot clock ``clk``) the frontier announces itself in its own slot;
an unreached node that hears a frontier neighbour takes, as its parent, the first such neighbour
in its neighbour table (sorted by node ID, so the smallest ID: the parent rule of
``nar.execute("bfs")``), and as its distance the round counter.  No global IDs are needed: the
parent is stored as an entry of the neighbour table.

==========  =======  =====  ==========================================================
variable    shape    part   meaning
==========  =======  =====  ==========================================================
``clk``     [4]      local  phase of the round (all nodes in step)
``me``      [S]      local  one-hot local ID (input)
``nb``      [D, S]   local  neighbour table: row j = local ID of the j-th smallest neighbour
``reached`` ``front`` local reached; reached last round (announces next round)
``dist``    [l]      local  distance (output), ``par`` [D] parent entry (output)
``rnd``     [l]      local  round counter (same on every node)
``got``     [D]      local  transient: entry j announced this round; ``new`` transient
``slot``    [S]      comm   "I am on the frontier", row = sender's local ID
==========  =======  =====  ==========================================================

Phases: 0 send (``front & me[s] -> slot[s]``) and ``rnd += 1``; 1 receive through the table;
2 priority-select the first announcing entry; 3 adopt (``reached``, ``front``, ``dist = rnd``).
The frontier at distance ``r`` reaches distance ``r + 1`` in round ``r``, so
``bound = 4 * ecc(source)`` steps.  Needs ``ecc(source) < 2^l``.
"""
from __future__ import annotations

import numpy as np

from ...validation import InputError
from .. import gadgets as G
from ..graph import Graph
from ..layout import from_bits
from ..templates import Program
from ..truth import bfs_truth
from .base import ExactProgram, decode_parent, neighbour_table


class BFS(ExactProgram):
    name = "bfs"

    def build(self) -> Program:
        D, S, l = self.D, self.S, self.l
        p = Program("bfs", D=D, l=l, slots=S)
        clk = G.clock(p, "clk", 4)
        me, nb = p.var("me", S), p.var("nb", (D, S))
        reached, front = p.var("reached"), p.var("front")
        dist, par, rnd = p.var("dist", l), p.var("par", D), p.var("rnd", l)
        got, new = p.var("got", D), p.var("new")
        slot = p.var("slot", S, comm=True)

        p.tag("inputs")
        G.persist(p, [me.bits(), nb.bits()])
        p.tag("state")
        G.persist(p, [reached, dist.bits(), par.bits()])
        G.persist(p, front, unless=clk[0])
        p.tag("round counter")
        G.persist(p, rnd.bits(), unless=clk[0])
        G.increment(p, rnd.bits(), rnd.bits(), when=clk[0])
        p.tag("send")
        G.write_own_slot(p, me, [front], slot, when=clk[0])
        p.tag("receive")
        for j in range(D):
            for s in range(S):
                p.rule([~reached, nb[j, s], slot[s]], [got[j]])
        p.tag("select")
        G.first_one(p, got.bits(), par.bits(), also=[new])
        p.tag("adopt")
        p.rule([new], [reached, front])
        G.copy(p, rnd.bits(), dist.bits(), when=new)
        return p

    # ---- graphs ------------------------------------------------------------------------------
    def check(self, g: Graph, source: int, **_) -> None:
        ecc = g.eccentricity(source)
        if ecc >= 2 ** self.l:
            raise InputError(f"bfs: l={self.l} bits hold distances up to {2 ** self.l - 1}, but the graph "
                             f"has nodes {ecc} hops from the source; use l >= {ecc.bit_length()}")

    def init_rows(self, g, source, ids, **_):
        L, X = self.program.layout, self.new_rows(g.n)
        L.set(X, "clk", np.eye(4, dtype=np.uint8)[0])
        L.set(X, "me", np.eye(self.S, dtype=np.uint8)[ids])
        table, _ = neighbour_table(g, ids, self.D, self.S)
        L.set(X, "nb", table)
        L.set(X, "reached", 1, rows=[source])
        L.set(X, "front", 1, rows=[source])
        return X

    def bound(self, g, source, **_):
        return 4 * max(g.eccentricity(source), 1)

    def decode(self, g, source, rows):
        L = self.program.layout
        _, nbrs = neighbour_table(g, np.zeros(g.n, dtype=np.int64), self.D, self.S)
        reached = L.get(rows, "reached").astype(bool)
        dist = np.where(reached, from_bits(L.get(rows, "dist")), -1)
        parent = decode_parent(L.get(rows, "par"), nbrs, np.arange(g.n))
        return {"reached": reached, "dist": dist, "parent": parent}

    def truth(self, g, source, **_):
        return bfs_truth(g, source)

    @classmethod
    def bits_for(cls, graphs, **inputs) -> int:
        return max(max(g.n - 1, 1).bit_length() for g in graphs)
