"""Per-algorithm encoders and decoders (the task-specific parts of an encode-process-decode model).

:class:`AlgorithmHeads` holds one :class:`~nar.models.probe_types.ProbeEncoder` per encoded probe and
one decoder per decoded probe of a :class:`~nar.models.spec.ModelSpec`, in ``nn.ModuleDict``s keyed
by probe name.  A multi-task :class:`~nar.models.reasoner.Reasoner` keeps one of these per algorithm.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..specs import Location, Stage, Type
from .layers import EdgeFeatures, linear, masked_max, masked_mean
from .probe_types import Ctx, ProbeEncoder, probe_type
from .spec import ModelSpec

ENCODER_INITS = ("xavier_on_scalars", "default")


@dataclass
class Encoded:
    """Summed latents of a set of probes: node ``[B, N, H]``, edge (factored), graph ``[B, H]``, adj."""

    node: Tensor
    edge: EdgeFeatures
    graph: Tensor
    adj: Tensor  # [B, N, N] bool, self-loops included, real nodes only

    def select(self, rows: Tensor) -> "Encoded":
        """The samples ``rows`` (an index tensor along the batch axis)."""
        e = self.edge
        dense = None if e.dense is None else e.dense.index_select(0, rows)
        edge = EdgeFeatures(e.x.index_select(0, rows), e.weight, e.bias, dense)
        return Encoded(self.node.index_select(0, rows), edge, self.graph.index_select(0, rows),
                       self.adj.index_select(0, rows))

    def __add__(self, other: "Encoded") -> "Encoded":
        e, o = self.edge, other.edge
        edge = EdgeFeatures(torch.cat([e.x, o.x], -1), torch.cat([e.weight, o.weight], 0), e.bias + o.bias)
        return Encoded(self.node + other.node, edge, self.graph + other.graph, self.adj | other.adj)


class AlgorithmHeads(nn.Module):
    """Encoders and decoders of one algorithm.

    ``encode_hints`` / ``decode_hints`` follow the hint mode; ``node_dim`` / ``edge_dim`` are the widths
    of the decoders' inputs (``3 * hidden`` and ``hidden`` + the processor's edge-latent width).
    ``encoder_init='xavier_on_scalars'`` (CLRS default) gives scalar *hint* encoders weights of std
    ``1/sqrt(hidden)`` (before truncation, as Haiku); every other layer has the LeCun default of
    :func:`~nar.models.layers.linear`.
    """

    def __init__(self, mspec: ModelSpec, hidden: int, *, encode_hints: bool, decode_hints: bool,
                 node_dim: int, edge_dim: int, encoder_init: str = "xavier_on_scalars"):
        super().__init__()
        if encoder_init not in ENCODER_INITS:
            raise ValueError(f"encoder_init must be one of {ENCODER_INITS}, got {encoder_init!r}")
        self.mspec, self.hidden = mspec, hidden
        self.encoders = nn.ModuleDict()
        self.decoders = nn.ModuleDict()
        for name, p in mspec.probes.items():
            pt = probe_type(p.type)
            nb = mspec.nb_classes.get(name)
            if p.stage == Stage.INPUT or (p.stage == Stage.HINT and encode_hints):
                std = 1.0 / math.sqrt(hidden) if (encoder_init == "xavier_on_scalars" and p.stage == Stage.HINT
                                                  and p.type == Type.SCALAR) else None
                self.encoders[name] = ProbeEncoder(pt, p.location, hidden, nb, std)
            if p.stage == Stage.OUTPUT or (p.stage == Stage.HINT and decode_hints):
                self.decoders[name] = pt.decoder(p.location, node_dim, edge_dim, hidden, hidden, nb)
        self.termination = None

    def add_termination_head(self) -> None:
        """A NEGA-style halting head (Velickovic et al. 2020): logit from [max_i h_i, mean_i h_i]."""
        self.termination = linear(2 * self.hidden, 1)

    def halt_logit(self, hidden: Tensor, node_mask: Tensor) -> Tensor:
        m = node_mask[..., None]
        return self.termination(torch.cat([masked_max(hidden, m, 1), masked_mean(hidden, m, 1)], -1)).squeeze(-1)

    def encode(self, values: dict[str, Tensor], ctx: Ctx, *, expanded: bool = False,
               edge_weights: tuple[Tensor, Tensor] | None = None) -> Encoded:
        """Sum the encodings of ``values`` (model data, or already ``expanded`` encoder inputs).

        ``edge_weights``: the (weight, bias) of the edge channels if already known (they depend only on
        which probes are encoded), to skip rebuilding them."""
        b, n = ctx.node_mask.shape
        ref = next(iter(self.parameters()))
        node = ref.new_zeros(b, n, self.hidden)
        graph = ref.new_zeros(b, self.hidden)
        adj = torch.eye(n, dtype=torch.bool, device=ctx.node_mask.device).expand(b, n, n)
        xs, ws, bias = [], [], ref.new_zeros(self.hidden)
        for name, value in values.items():
            enc = self.encoders[name]
            x = value if expanded else enc.ptype.expand(value, enc.location, ctx)
            extra = enc.ptype.adjacency(x, enc.location)
            if extra is not None:
                adj = adj | extra
            target, t = enc(x, ctx)
            if target == "node":
                node = node + t
            elif target == "graph":
                graph = graph + t
            else:
                xs.append(t)
                if edge_weights is None:
                    ws.append(enc.lin.weight.t())
                    bias = bias + enc.lin.bias
        x = torch.cat(xs, -1) if xs else ref.new_zeros(b, n, n, 0)
        if edge_weights is not None:
            w, bias = edge_weights
        else:
            w = torch.cat(ws, 0) if ws else ref.new_zeros(0, self.hidden)
        adj = adj & (ctx.node_mask[:, :, None] & ctx.node_mask[:, None, :])
        return Encoded(node, EdgeFeatures(x, w, bias), graph, adj)

    def decode(self, names, h: Tensor, e: EdgeFeatures, g: Tensor, ctx: Ctx) -> dict[str, Tensor]:
        """Raw predictions of the probes ``names`` (see :mod:`nar.models.probe_types`)."""
        out = {}
        for name in names:
            p = self.mspec.probes[name]
            out[name] = probe_type(p.type).finish(self.decoders[name](h, e, g, ctx), p.location, ctx)
        return out

    def activation_floats(self, batch: int, n: int, grad: bool = True) -> int:
        """Rough float count of what the encoders/decoders keep alive per step (``grad``: for backward)."""
        floats = 0
        for name in self.decoders:
            p = self.mspec.probes[name]
            if p.type in (Type.POINTER, Type.PERMUTATION_POINTER):
                floats += 3 * batch * n * n * self.hidden
                if p.location == Location.EDGE:  # [B, N, N, N, H], in chunks of <= 256 MiB without grad
                    floats += 2 * batch * n ** 3 * self.hidden if grad else (256 << 20) // 4
            elif p.location == Location.EDGE:
                floats += 3 * batch * n * n * self.mspec.nb_classes.get(name, 1)
        return floats + 2 * batch * n * n * self.hidden
