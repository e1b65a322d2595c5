"""The max-aggregation message-passing family of CLRS (``PGN`` in ``processors.py``).

One step (Velickovic et al. 2022; Ibarz et al. 2022, Eq. 1, 3-5), with ``z_i = [x_i, h_i]``::

    m_ij  = MLP(relu(M1 z_j + M2 z_i + Me e_ij + Mg g))          message from sender i to receiver j
    m_j   = max_{i in senders(j)} m_ij
    h'_j  = LN(relu(O1 z_j + O2 m_j))
    gated:    gate_j = sigmoid(G3 relu(G1 z_j + G2 m_j)),  G3's bias initialised to -3
              h'_j  <- gate_j * h'_j + (1 - gate_j) * h_j
    triplets: t_ijk = T1 z_i + T2 z_j + T3 z_k + Te1 e_ij + Te2 e_ik + Te3 e_jk + Tg g   (8 features)
              edge latent e'_jk = relu(O3 max_i t_ijk)       (returned for the decoders, as in CLRS)

``senders`` is every real node (MPNN), the encoders' graph (PGN) or the node itself (DeepSets).
As in CLRS, the triplet edge latents feed the decoders, not the node update.
``masked`` (CLRS ``PGNMask``) changes nothing here; it sets the ``inf_bias`` flags the decoders read.
The max over i in the triplets is taken over the i-dependent terms only (the others are constant in i).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..layers import EdgeFeatures, linear, linear_relu, masked_max
from .base import Processor, pair_mask

ADJACENCIES = ("full", "graph", "self")


class MessagePassing(Processor):
    def __init__(self, hidden: int, *, adjacency: str, use_ln: bool = True, nb_triplet_fts: int = 0,
                 gated: bool = False, masked: bool = False, name: str = "mpnn"):
        super().__init__()
        if adjacency not in ADJACENCIES:
            raise ValueError(f"adjacency must be one of {ADJACENCIES}, got {adjacency!r}")
        h = hidden
        self.name, self.adjacency, self.gated = name, adjacency, gated
        self.inf_bias = self.inf_bias_edge = masked  # CLRS PGNMask: the same step, masked decoders
        self.m1, self.m2, self.me, self.mg = linear(2 * h, h), linear(2 * h, h), linear(h, h), linear(h, h)
        self.mlp1, self.mlp2 = linear(h, h), linear(h, h)
        self.o1, self.o2 = linear(2 * h, h), linear(h, h)
        self.ln = torch.nn.LayerNorm(h) if use_ln else None
        if gated:
            self.g1, self.g2 = linear(2 * h, h), linear(h, h)
            self.g3 = linear(h, h, bias_init=-3.0)
        self.nb_triplet_fts = nb_triplet_fts
        if nb_triplet_fts:
            f = nb_triplet_fts
            self.t1, self.t2, self.t3 = linear(2 * h, f), linear(2 * h, f), linear(2 * h, f)
            self.te1, self.te2, self.te3 = linear(h, f), linear(h, f), linear(h, f)
            self.tg = linear(h, f)
            self.o3 = linear(f, h)
            self.edge_latent_dim = h

    def activation_floats(self, batch, n, hidden):
        floats = (2 if self.adjacency == "self" else 7 * n) * batch * n * hidden
        if self.nb_triplet_fts:
            floats += batch * n ** 3 * self.nb_triplet_fts + 3 * batch * n * n * hidden
        return floats

    def senders(self, adj: Tensor, node_mask: Tensor) -> Tensor:
        if self.adjacency == "full":
            return pair_mask(node_mask)
        return adj & pair_mask(node_mask)

    def forward(self, node, edge: EdgeFeatures, graph, adj, hidden, node_mask):
        z = torch.cat([node, hidden], dim=-1)
        if self.adjacency == "self":  # DeepSets: each node only messages itself
            msgs = self.m1(z) + self.m2(z) + edge.diagonal().project(self.me)[:, :, 0] + self.mg(graph)[:, None]
            agg = self.mlp2(torch.relu(self.mlp1(torch.relu(msgs))))
        else:
            # relu(pre-messages) [B, i (sender), j (receiver), H], written once
            pre = edge.affine(self.me, row=self.m2(z) + self.mg(graph)[:, None, :], col=self.m1(z), relu=True)
            msgs = F.linear(linear_relu(pre, self.mlp1), self.mlp2.weight)
            # max_i(W m_i + b) = max_i(W m_i) + b: the bias is added after the aggregation
            agg = masked_max(msgs, self.senders(adj, node_mask)[..., None], dim=1) + self.mlp2.bias
        out = torch.relu(self.o1(z) + self.o2(agg))
        if self.ln is not None:
            out = self.ln(out)
        if self.gated:
            gate = torch.sigmoid(self.g3(torch.relu(self.g1(z) + self.g2(agg))))
            out = out * gate + hidden * (1 - gate)
        out = out * node_mask[..., None]
        tri = self.triplets(z, edge, graph, node_mask) if self.nb_triplet_fts else None
        return out, tri

    def triplets(self, z: Tensor, edge: EdgeFeatures, graph: Tensor, node_mask: Tensor) -> Tensor:
        """Edge latents ``[B, N, N, H]`` from triplet messages (zero on padded edges)."""
        e1, e2, e3 = edge.project(self.te1), edge.project(self.te2), edge.project(self.te3)  # [B, N, N, F]
        # i-dependent part, indexed [b, i, j, k, f]
        part = self.t1(z)[:, :, None, None, :] + e1[:, :, :, None, :] + e2[:, :, None, :, :]
        best = masked_max(part, node_mask[:, :, None, None, None], dim=1)  # [B, j, k, F]
        tri = best + self.t2(z)[:, :, None, :] + self.t3(z)[:, None, :, :] + e3 + self.tg(graph)[:, None, None, :]
        tri = linear_relu(tri, self.o3)
        return tri if bool(node_mask.all()) else tri * pair_mask(node_mask)[..., None]
