"""GATv2 (Brody et al. 2022), CLRS ``GATv2`` over the encoders' graph.

Per head: ``a_ij = w . leaky_relu(W1 z_j + W2 z_i + We e_ij + Wg g)`` (the attention MLP sees the pair
before the nonlinearity), ``h'_i = LN(relu(sum_j softmax_j(a_ij) V z_j + S z_i))``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..layers import BIG, linear, trunc_normal_
from .base import Processor, pair_mask, register_processor


class GATv2(Processor):
    def __init__(self, hidden: int, *, nb_heads: int = 1, use_ln: bool = True, full: bool = False):
        super().__init__()
        if hidden % nb_heads:
            raise ValueError(f"nb_heads ({nb_heads}) must divide the width ({hidden})")
        self.name, self.heads, self.full = "gatv2_full" if full else "gatv2", nb_heads, full
        self.values, self.skip = linear(2 * hidden, hidden), linear(2 * hidden, hidden)
        self.w1, self.w2 = linear(2 * hidden, hidden), linear(2 * hidden, hidden)
        self.we, self.wg = linear(hidden, hidden), linear(hidden, hidden)
        mid = hidden // nb_heads
        # one Linear(mid, 1) per head, as CLRS
        self.att = nn.Parameter(trunc_normal_(torch.empty(nb_heads, mid), 1.0 / mid ** 0.5))
        self.att_bias = nn.Parameter(torch.zeros(nb_heads))
        self.ln = torch.nn.LayerNorm(hidden) if use_ln else None

    def activation_floats(self, batch, n, hidden):
        return 4 * batch * n * n * hidden

    def forward(self, node, edge, graph, adj, hidden, node_mask):
        b, n, h = node.shape
        z = torch.cat([node, hidden], dim=-1)
        v = self.values(z).view(b, n, self.heads, h // self.heads).transpose(1, 2)  # [B, heads, N, F]
        pre = (self.w1(z)[:, None, :, :] + self.w2(z)[:, :, None, :] + edge.project(self.we)
               + self.wg(graph)[:, None, None, :])  # [B, i, j, H]
        pre = F.leaky_relu(pre).view(b, n, n, self.heads, h // self.heads)
        logits = torch.einsum("bijhf,hf->bhij", pre, self.att) + self.att_bias[None, :, None, None]
        allowed = pair_mask(node_mask) if self.full else adj & pair_mask(node_mask)
        logits = logits + torch.where(allowed, 0.0, -BIG)[:, None]
        out = (torch.softmax(logits, -1) @ v).transpose(1, 2).reshape(b, n, h)
        out = torch.relu(out + self.skip(z))
        if self.ln is not None:
            out = self.ln(out)
        return out * node_mask[..., None], None


@register_processor("gatv2")
def build(hidden: int, *, nb_heads: int = 1, use_ln: bool = True, **_unused) -> GATv2:
    return GATv2(hidden, nb_heads=nb_heads, use_ln=use_ln)
