"""CLRS's remaining processor variants (``get_processor_factory``), each an option set of an existing class.

==================  =====================================================================
``gmpnn``           :class:`MessagePassing` over all real nodes, gated
``gpgn``            :class:`MessagePassing` over the encoders' graph, gated
``triplet_pgn``     :class:`MessagePassing` over the encoders' graph, triplet edge latents
``triplet_gpgn``    :class:`MessagePassing` over the encoders' graph, triplets and gate
``gat_full``        :class:`GAT` attending over all real nodes instead of the graph
``gatv2_full``      :class:`GATv2` attending over all real nodes instead of the graph
``memnet_masked``   :class:`MemNet` over the encoders' graph (the same network as ``memnet``)
``memnet_full``     :class:`MemNet` over all real nodes
==================  =====================================================================

CLRS's ``*_mask`` variants (``pgn_mask``, ``gpgn_mask``, ``triplet_pgn_mask``, ``triplet_gpgn_mask``) run
the same processor step as their base and differ only in the *decoders*: node-pointer logits (and edge
``mask`` / ``mask_one`` logits) of non-edges are pushed below every other logit (:func:`inf_bias`).  They
are not registered until the reasoner's decoders apply :func:`inf_bias`.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .base import register_processor
from .gat import GAT
from .gatv2 import GATv2
from .memnet import MemNet
from .message_passing import MessagePassing

def inf_bias(logits: Tensor, adj: Tensor, node_mask: Tensor) -> Tensor:
    """CLRS's ``inf_bias`` for ``[B, N, N]`` logits: entries off the graph ``adj`` become
    ``min(-1, m - 1)``, ``m`` the sample's smallest logit over its real node pairs."""
    pairs = node_mask[:, :, None] & node_mask[:, None, :]
    low = logits.masked_fill(~pairs, float("inf")).amin(dim=(1, 2), keepdim=True)
    return torch.where(adj & pairs, logits, torch.clamp(low - 1.0, max=-1.0))


# name -> (adjacency, triplets, gated)
MESSAGE_PASSING_VARIANTS = {
    "gmpnn": ("full", False, True),
    "gpgn": ("graph", False, True),
    "triplet_pgn": ("graph", True, False),
    "triplet_gpgn": ("graph", True, True),
}


def _message_passing(name: str, adjacency: str, triplets: bool, gated: bool) -> None:
    @register_processor(name)
    def build(hidden: int, *, use_ln: bool = True, nb_triplet_fts: int = 8, **_unused) -> MessagePassing:
        return MessagePassing(hidden, adjacency=adjacency, use_ln=use_ln,
                              nb_triplet_fts=nb_triplet_fts if triplets else 0, gated=gated, name=name)


for _name, _opts in MESSAGE_PASSING_VARIANTS.items():
    _message_passing(_name, *_opts)


@register_processor("gat_full")
def build_gat_full(hidden: int, *, nb_heads: int = 1, use_ln: bool = True, **_unused) -> GAT:
    return GAT(hidden, nb_heads=nb_heads, use_ln=use_ln, full=True)


@register_processor("gatv2_full")
def build_gatv2_full(hidden: int, *, nb_heads: int = 1, use_ln: bool = True, **_unused) -> GATv2:
    return GATv2(hidden, nb_heads=nb_heads, use_ln=use_ln, full=True)


@register_processor("memnet_masked")
def build_memnet_masked(hidden: int, *, use_ln: bool = False, **_unused) -> MemNet:
    return MemNet(hidden, use_ln=use_ln, name="memnet_masked")


@register_processor("memnet_full")
def build_memnet_full(hidden: int, *, use_ln: bool = False, **_unused) -> MemNet:
    return MemNet(hidden, use_ln=use_ln, full=True)
