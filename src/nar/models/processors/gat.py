"""Graph Attention Network (Velickovic et al. 2018), CLRS ``GAT`` over the encoders' graph.

With ``z_i = [x_i, h_i]``, per head: ``a_ij = leaky_relu(A1 z_i + A2 z_j + Ae e_ij + Ag g)``,
``h'_i = LN(relu(sum_j softmax_j(a_ij) V z_j + S z_i))`` where j ranges over i's neighbours in ``adj``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..layers import BIG, linear
from .base import Processor, pair_mask, register_processor


class GAT(Processor):
    def __init__(self, hidden: int, *, nb_heads: int = 1, use_ln: bool = True, full: bool = False):
        super().__init__()
        if hidden % nb_heads:
            raise ValueError(f"nb_heads ({nb_heads}) must divide the width ({hidden})")
        self.name, self.heads, self.full = "gat_full" if full else "gat", nb_heads, full
        self.values, self.skip = linear(2 * hidden, hidden), linear(2 * hidden, hidden)
        self.a1, self.a2 = linear(2 * hidden, nb_heads), linear(2 * hidden, nb_heads)
        self.ae, self.ag = linear(hidden, nb_heads), linear(hidden, nb_heads)
        self.ln = torch.nn.LayerNorm(hidden) if use_ln else None

    def activation_floats(self, batch, n, hidden):
        return 4 * batch * n * n * self.heads + 2 * batch * n * hidden

    def forward(self, node, edge, graph, adj, hidden, node_mask):
        b, n, h = node.shape
        z = torch.cat([node, hidden], dim=-1)
        v = self.values(z).view(b, n, self.heads, h // self.heads).transpose(1, 2)  # [B, heads, N, F]
        logits = (self.a1(z)[:, :, None, :] + self.a2(z)[:, None, :, :] + edge.project(self.ae)
                  + self.ag(graph)[:, None, None, :]).permute(0, 3, 1, 2)  # [B, heads, i, j]
        allowed = pair_mask(node_mask) if self.full else adj & pair_mask(node_mask)
        logits = F.leaky_relu(logits) + torch.where(allowed, 0.0, -BIG)[:, None]
        out = (torch.softmax(logits, -1) @ v).transpose(1, 2).reshape(b, n, h)
        out = torch.relu(out + self.skip(z))
        if self.ln is not None:
            out = self.ln(out)
        return out * node_mask[..., None], None


@register_processor("gat")
def build(hidden: int, *, nb_heads: int = 1, use_ln: bool = True, **_unused) -> GAT:
    return GAT(hidden, nb_heads=nb_heads, use_ln=use_ln)
