"""Bellman-Ford (synchronous distributed rounds) in the graph template-matching framework.

Non-negative integer weights, ``l``-bit distances; an unreachable node is "infinite" (``fin = 0``).
Every round (``P = 3 l + 5`` steps of a global one-hot clock) every node with a finite distance
sends it in its own slot; every node adds the edge weight to each neighbour's offer (a bit-serial
ripple-carry adder; an overflow drops the offer, which is safe because the true distances fit in
``l`` bits, so a path through an overflowing offer is never shortest), keeps the minimum of its
own distance and the offers (bit-serial elimination, most significant bit first) and, on a strict
improvement, takes the first offering neighbour of minimal offer in its table (the smallest ID)
as its parent.  These are the rounds and tie rules of ``nar.execute("bellman_ford")``.

=============  ==========  =====  ===================================================
variable       shape       part   meaning
=============  ==========  =====  ===================================================
``clk``        [P]         local  phase in the round
``me`` ``nb``  [S] [D, S]  local  local ID and neighbour table (inputs)
``w``          [D, l]      local  weight of the edge to table entry j (input)
``fin``        1           local  distance is finite; ``dist`` [l]; ``par`` [D] parent entry
``rf`` ``a``   [D] [D, l]  local  received offer of entry j (finite flag, value)
``sum``        [D, l]      local  ``a + w``; ``carry`` [D, l + 1] (``carry[:, l]`` = overflow)
``cand``       [D + 1]     local  transient: offers (and own value, last) entering the minimum
``sel`` ``upd`` [D] 1      local  transient: chosen entry, "improve now"
``slot``       [S, l + 1]  comm   (finite, distance) of the sender, row = its local ID
=============  ==========  =====  ===================================================

Phases: 0 send; 1 receive; 2..l+1 add bit j; l+2 candidates; 2 l steps of elimination; select;
update.  After round ``r`` every node holds the best walk of at most ``r`` edges, so a node whose
fewest-edge shortest path has ``h`` edges is final after ``h`` rounds and never changes again
(updates need a strict improvement): ``bound = P * max_v h(v)`` (at most ``P (n - 1)``, and the
depth of the shortest-path tree rather than ``n``; ``tests/test_exact_programs.py`` checks it is
tight on paths, grids and random graphs).
"""
from __future__ import annotations

import numpy as np

from ...validation import InputError
from .. import gadgets as G
from ..graph import Graph, component_roots
from ..layout import from_bits, to_bits
from ..templates import Program
from ..truth import shortest_path_hops, shortest_path_truth
from .base import ExactProgram, decode_parent, neighbour_table


class BellmanFord(ExactProgram):
    name = "bellman_ford"
    weighted = True

    @property
    def period(self) -> int:
        return 3 * self.l + 5

    def build(self) -> Program:
        D, S, l, P = self.D, self.S, self.l, self.period
        p = Program("bellman_ford", D=D, l=l, slots=S)
        clk = G.clock(p, "clk", P)
        me, nb, w = p.var("me", S), p.var("nb", (D, S)), p.var("w", (D, l))
        fin, dist, par = p.var("fin"), p.var("dist", l), p.var("par", D)
        rf, a = p.var("rf", D), p.var("a", (D, l))
        total, carry = p.var("sum", (D, l)), p.var("carry", (D, l + 1))
        cand = p.var("cand", D + 1)
        sel, upd = p.var("sel", D), p.var("upd")
        slot = p.var("slot", (S, l + 1), comm=True)

        p.tag("inputs")
        G.persist(p, [me.bits(), nb.bits(), w.bits()])
        p.tag("state")
        G.persist(p, fin)
        G.persist(p, [dist.bits(), par.bits()], unless=upd)
        p.tag("send")
        G.write_own_slot(p, me, [fin, *dist.bits()], slot, when=clk[0])
        p.tag("receive")
        G.read_by_table(p, nb, slot, rf, fields=[0])
        G.read_by_table(p, nb, slot, a, fields=range(1, l + 1))
        G.persist(p, [rf.bits(), a.bits(), total.bits(), carry.bits()], unless=clk[0])
        p.tag("add")
        for j in range(D):
            G.ripple_add(p, [a[j, b] for b in range(l)], [w[j, b] for b in range(l)],
                         [total[j, b] for b in range(l)], [carry[j, b] for b in range(l + 1)],
                         phases=[clk[2 + b] for b in range(l)])
        p.tag("candidates")
        for j in range(D):
            p.rule([rf[j], ~carry[j, l], clk[l + 2]], [cand[j]])
        p.rule([fin, clk[l + 2]], [cand[D]])
        p.tag("minimum")
        values = [[total[j, b] for b in range(l)] for j in range(D)] + [dist.bits()]
        best = G.min_eliminate(p, "min", values, cand)
        p.tag("select")
        # keep the own distance on a tie; otherwise the first minimal entry (smallest neighbour ID)
        G.first_one(p, [best[j] for j in range(D)], sel.bits(), when=~best[D], also=[upd])
        p.tag("update")
        for j in range(D):
            p.rule([sel[j]], [par[j], fin])
            G.copy(p, [total[j, b] for b in range(l)], dist.bits(), when=sel[j])
        return p

    # ---- graphs ------------------------------------------------------------------------------
    def check(self, g: Graph, source: int, **_) -> None:
        w = np.asarray(g.weights)
        if w.dtype.kind not in "biuf":
            raise InputError("bellman_ford: weights must be numbers")
        if w.size and (not np.all(np.isfinite(w.astype(np.float64))) or np.any(w != np.round(w))):
            raise InputError("bellman_ford: weights must be integers")
        if w.size and w.min() < 0:
            raise InputError(f"bellman_ford: weights must be non-negative, got {w.min()}")
        if w.size and w.max() >= 2 ** self.l:
            raise InputError(f"bellman_ford: weight {w.max()} does not fit in l={self.l} bits")
        far = int(shortest_path_hops(g, source)[0].max())
        if far >= 2 ** self.l:
            raise InputError(f"bellman_ford: l={self.l} bits hold distances up to {2 ** self.l - 1}, but "
                             f"a shortest path has length {far}; use l >= {far.bit_length()}")

    def init_rows(self, g, source, ids, **_):
        L, X = self.program.layout, self.new_rows(g.n)
        L.set(X, "clk", np.eye(self.period, dtype=np.uint8)[0])
        L.set(X, "me", np.eye(self.S, dtype=np.uint8)[ids])
        table, nbrs = neighbour_table(g, ids, self.D, self.S)
        L.set(X, "nb", table)
        wt = g.weight_of()
        wmat = np.zeros((g.n, self.D), dtype=np.int64)
        v, j = np.nonzero(nbrs >= 0)
        wmat[v, j] = [int(wt[(a, b)]) for a, b in zip(v.tolist(), nbrs[v, j].tolist())]
        L.set(X, "w", to_bits(wmat, self.l))
        L.set(X, "fin", 1, rows=[source])
        return X

    def bound(self, g, source, **_):
        """``P`` steps per round times the rounds synchronous Bellman-Ford needs: the largest
        number of edges on a fewest-edge shortest path from the source (``<= n - 1``; the depth
        of the shortest-path tree, as ``ecc(s)`` is for BFS)."""
        return self.period * max(int(shortest_path_hops(g, source)[1].max()), 1)

    def decode(self, g, source, rows):
        L = self.program.layout
        _, nbrs = neighbour_table(g, np.zeros(g.n, dtype=np.int64), self.D, self.S)
        fin = L.get(rows, "fin").astype(bool)
        dist = np.where(fin, from_bits(L.get(rows, "dist")), -1)
        parent = decode_parent(L.get(rows, "par"), nbrs, np.arange(g.n))
        return {"reached": fin, "dist": dist, "parent": parent}

    def truth(self, g, source, **_):
        return shortest_path_truth(g, source)

    @classmethod
    def bits_for(cls, graphs, sources=None, **inputs) -> int:
        """The fewest bits holding every weight and every shortest distance: from ``sources``
        (one per graph, or one for all) if given, else from any source (twice the largest
        distance from the first node of each component bounds every distance in it)."""
        if sources is not None:
            sources = [sources] * len(graphs) if np.ndim(sources) == 0 else list(sources)
        need = 1
        for i, g in enumerate(graphs):
            wmax = int(np.max(g.weights)) if g.weights is not None and len(g.weights) else 1
            if sources is None:
                far = 2 * int(shortest_path_hops(g, component_roots(g))[0].max())
            else:
                far = int(shortest_path_hops(g, int(sources[i]))[0].max())
            need = max(need, max(far, wmax, 1).bit_length())
        return need
