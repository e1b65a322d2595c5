"""Relational Transformer (Diao & Loynd, "Relational attention: generalizing transformers for
graph-structured tasks", ICLR 2023) as a processor: ``relational_transformer``.

A transformer whose attention reads and whose layers update edge vectors.  One processor step (the
authors' CLRS code, ``RT`` with ``graph_vec='cat'``, their default), with ``d`` = the width::

    n_i  = Wn [x_i, h_i, g]            e_ij = We [e_ij, g]                 (input projections)
    per layer, per head (head size d / heads):
      q_ij = Wnq n_i + Weq e_ij     k_ij = Wnk n_j + Wek e_ij     v_ij = Wnv n_j + Wev e_ij
      a_ij = softmax_j(q_ij . k_ij / sqrt(d / heads))      n'_i = concat_heads(sum_j a_ij v_ij)
      n_i  = LN(n_i + W1 n'_i);   n_i = LN(n_i + W3 relu(W2 n_i))          (W2: d -> 32)
      e_ij = LN(e_ij + E2 relu(E1 [e_ij, e_ji, n_j, n_i]));                 (E1: 4d -> 16)
      e_ij = LN(e_ij + E4 relu(E3 e_ij))                                    (E3: d -> 8)
    new hidden = n (after the last layer); edge latents for the decoders = e

Attention is over every real node (no adjacency mask), as the authors'.  Padded nodes are never attended
to; the outputs are zero on padded nodes and pairs.

What the paper and its code specify and what was chosen here:

* as specified: relational attention, the node and edge transformer updates, the layer norms, the inner
  sizes 32 / 16 / 8, 3 layers, no dropout, the graph vector concatenated to node and edge inputs.
* options: ``nb_layers`` (3), ``nb_heads`` (nar's common option, default 1; the paper uses 12 heads of
  size 16, width 192; ``hidden`` must be a multiple of it).
* not reproduced (they need the reasoner, not the processor): the authors carry the edge vectors to the
  next step (``e_hidden`` concatenated to the edge input; here each step starts from the encoded edges,
  so the processor's only recurrent state is the node state), and decode pointers from edge vectors
  (``ptr_from_edges``; here the edge vectors feed nar's standard decoders as the triplet edge latents do).
  Their training set-up (learning rate 2.5e-4, batch 4, hint teacher forcing 0.5) is a training-config
  matter and is not applied by the processor.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..layers import BIG, EdgeFeatures, linear
from .base import Processor, pair_mask, register_processor

NODE_HID, EDGE_HID_1, EDGE_HID_2 = 32, 16, 8  # the paper's d_nh, d_eh1, d_eh2


class RTLayer(nn.Module):
    """One relational transformer layer (attention + node FFN, then the edge update)."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads, self.scale = heads, 1.0 / math.sqrt(d // heads)
        self.nq, self.nk, self.nv = linear(d, d), linear(d, d), linear(d, d)
        self.eq, self.ek, self.ev = linear(d, d), linear(d, d), linear(d, d)
        self.n1, self.n2, self.n3 = linear(d, d), linear(d, NODE_HID), linear(NODE_HID, d)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        # E1 on [e_ij, e_ji, n_j, n_i], stored as four blocks of its weight (one bias)
        self.e1_ij, self.e1_ji = linear(d, EDGE_HID_1), linear(d, EDGE_HID_1, bias=False)
        self.e1_j, self.e1_i = linear(d, EDGE_HID_1, bias=False), linear(d, EDGE_HID_1, bias=False)
        self.e2, self.e3, self.e4 = linear(EDGE_HID_1, d), linear(d, EDGE_HID_2), linear(EDGE_HID_2, d)
        self.eln1, self.eln2 = nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, n: Tensor, e: Tensor, node_mask: Tensor) -> tuple[Tensor, Tensor]:
        b, m, d = n.shape
        h = self.heads
        q = (self.eq(e) + self.nq(n)[:, :, None]).view(b, m, m, h, d // h)
        k = (self.ek(e) + self.nk(n)[:, None, :]).view(b, m, m, h, d // h)
        v = (self.ev(e) + self.nv(n)[:, None, :]).view(b, m, m, h, d // h)
        scores = (q * k).sum(-1) * self.scale  # [B, i, j, heads]
        scores = scores.masked_fill(~node_mask[:, None, :, None], -BIG)
        att = torch.softmax(scores, dim=2)
        upd = torch.einsum("bijh,bijhf->bihf", att, v).reshape(b, m, d)
        n = self.ln1(n + self.n1(upd))
        n = self.ln2(n + self.n3(torch.relu(self.n2(n))))
        pre = (self.e1_ij(e) + self.e1_ji(e).transpose(1, 2) + self.e1_j(n)[:, None, :] + self.e1_i(n)[:, :, None])
        e = self.eln1(e + self.e2(torch.relu(pre)))
        e = self.eln2(e + self.e4(torch.relu(self.e3(e))))
        return n, e


class RelationalTransformer(Processor):
    """See the module docstring."""

    name = "relational_transformer"

    def __init__(self, hidden: int, *, nb_heads: int = 1, nb_layers: int = 3):
        super().__init__()
        if nb_heads < 1 or hidden % nb_heads:
            raise ValueError(f"nb_heads ({nb_heads}) must be a positive divisor of the width ({hidden})")
        if nb_layers < 1:
            raise ValueError(f"nb_layers must be >= 1, got {nb_layers}")
        self.node_in = linear(3 * hidden, hidden)  # [x, h, g]
        self.edge_in, self.edge_in_g = linear(hidden, hidden), linear(hidden, hidden, bias=False)  # [e, g]
        self.layers = nn.ModuleList(RTLayer(hidden, nb_heads) for _ in range(nb_layers))
        self.edge_latent_dim = hidden

    def activation_floats(self, batch, n, hidden):
        return len(self.layers) * 16 * batch * n * n * hidden

    def forward(self, node, edge: EdgeFeatures, graph, adj, hidden, node_mask):
        b, m, _ = node.shape
        n = self.node_in(torch.cat([node, hidden, graph[:, None].expand(b, m, -1)], dim=-1))
        e = edge.project(self.edge_in) + self.edge_in_g(graph)[:, None, None]
        for layer in self.layers:
            n, e = layer(n, e, node_mask)
        return n * node_mask[..., None], e * pair_mask(node_mask)[..., None]


@register_processor("relational_transformer")
def build(hidden: int, *, nb_heads: int = 1, nb_layers: int = 3, **_unused) -> RelationalTransformer:
    return RelationalTransformer(hidden, nb_heads=nb_heads, nb_layers=nb_layers)
