"""CLRS's remaining processor variants (``get_processor_factory``), each an option set of an existing class.

=====================  ==================================================================
``gmpnn``              :class:`MessagePassing` over all real nodes, gated
``gpgn``               :class:`MessagePassing` over the encoders' graph, gated
``triplet_pgn``        :class:`MessagePassing` over the encoders' graph, triplet edge latents
``triplet_gpgn``       :class:`MessagePassing` over the encoders' graph, triplets and gate
``gat_full``           :class:`GAT` attending over all real nodes instead of the graph
``gatv2_full``         :class:`GATv2` attending over all real nodes instead of the graph
``memnet_masked``      :class:`MemNet` over the encoders' graph (the same network as ``memnet``)
``memnet_full``        :class:`MemNet` over all real nodes
``pgn_mask``           ``pgn`` whose decoders mask non-edges (CLRS ``PGNMask``, see below)
``gpgn_mask``          ``gpgn``, decoders masked
``triplet_pgn_mask``   ``triplet_pgn``, decoders masked
``triplet_gpgn_mask``  ``triplet_gpgn``, decoders masked
=====================  ==================================================================

The ``*_mask`` variants run the same step as their base and set the processor's ``inf_bias`` /
``inf_bias_edge`` flags: the decoders then push the logits of non-edges of the encoded graph below every
other logit (node and permutation pointers; edge masks and mask_ones), exactly as CLRS's decoders
(:func:`nar.models.probe_types.inf_bias`).
"""
from __future__ import annotations

from .base import register_processor
from .gat import GAT
from .gatv2 import GATv2
from .memnet import MemNet
from .message_passing import MessagePassing

# name -> (adjacency, triplets, gated, masked)
MESSAGE_PASSING_VARIANTS = {
    "gmpnn": ("full", False, True, False),
    "gpgn": ("graph", False, True, False),
    "triplet_pgn": ("graph", True, False, False),
    "triplet_gpgn": ("graph", True, True, False),
    "pgn_mask": ("graph", False, False, True),
    "gpgn_mask": ("graph", False, True, True),
    "triplet_pgn_mask": ("graph", True, False, True),
    "triplet_gpgn_mask": ("graph", True, True, True),
}


def _message_passing(name: str, adjacency: str, triplets: bool, gated: bool, masked: bool) -> None:
    @register_processor(name)
    def build(hidden: int, *, use_ln: bool = True, nb_triplet_fts: int = 8, **_unused) -> MessagePassing:
        return MessagePassing(hidden, adjacency=adjacency, use_ln=use_ln, masked=masked,
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
