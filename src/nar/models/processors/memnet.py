"""End-to-end memory network (Sukhbaatar et al. 2015) as a processor, after CLRS ``MemNetMasked``.

Every node asks one query of a memory made of its incident edges (masked by the encoders' graph)::

    u_i  = Q x_i + Qg g                       query embedding (size d = 16)
    p_ij = softmax_j(u_i . (A e_ij) + bias)   over neighbours j
    o_i  = sum_j p_ij C e_ij
    hops: u_i <- R (u_i + o_i)  (intermediate, no bias); the last hop maps to H with ``Out``
    h'_i = W relu(u_i)                        (no bias), then layer norm if ``use_ln``

Like CLRS's memnet it is not recurrent: the previous hidden state is ignored.  CLRS feeds the float
features through an embedding table as if they were word ids; here the memories are linear maps of
the (real-valued) edge latents, which is what that table lookup approximates for binary features.
"""
from __future__ import annotations

import torch

from ..layers import BIG, linear
from .base import Processor, pair_mask, register_processor


class MemNet(Processor):
    def __init__(self, hidden: int, *, embedding: int = 16, hops: int = 1, use_ln: bool = False,
                 full: bool = False, name: str | None = None):
        super().__init__()
        self.name, self.hops, self.full = name or ("memnet_full" if full else "memnet"), hops, full
        self.q, self.qg = linear(hidden, embedding, bias=False), linear(hidden, embedding, bias=False)
        self.mem, self.outm = linear(hidden, embedding, bias=False), linear(hidden, embedding, bias=False)
        self.mid = linear(embedding, embedding, bias=False)
        self.out = linear(embedding, hidden, bias=False)
        self.final = linear(hidden, hidden, bias=False)
        self.ln = torch.nn.LayerNorm(hidden) if use_ln else None

    def activation_floats(self, batch, n, hidden):
        return 6 * batch * n * n * self.mem.out_features

    def forward(self, node, edge, graph, adj, hidden, node_mask):
        u = self.q(node) + self.qg(graph)[:, None, :]
        mem, outm = edge.project(self.mem), edge.project(self.outm)  # [B, i, j, d]
        allowed = pair_mask(node_mask) if self.full else adj & pair_mask(node_mask)
        bias = torch.where(allowed, 0.0, -BIG)
        for hop in range(self.hops):
            p = torch.softmax(torch.einsum("bid,bijd->bij", u, mem) + bias, -1)
            o = torch.einsum("bij,bijd->bid", p, outm)
            u = (self.out if hop == self.hops - 1 else self.mid)(u + o)
        out = self.final(torch.relu(u))
        if self.ln is not None:
            out = self.ln(out)
        return out * node_mask[..., None], None


@register_processor("memnet")
def build(hidden: int, *, use_ln: bool = False, **_unused) -> MemNet:
    return MemNet(hidden, use_ln=use_ln)
