"""Pointer Graph Network (Velickovic et al. 2020): max aggregation over the encoders' graph.

The graph: self-loops, input/hint edge masks and node pointers (both directions), real nodes only.
"""
from __future__ import annotations

from .base import register_processor
from .message_passing import MessagePassing


@register_processor("pgn")
def build(hidden: int, *, use_ln: bool = True, **_unused) -> MessagePassing:
    return MessagePassing(hidden, adjacency="graph", use_ln=use_ln, nb_triplet_fts=0, gated=False,
                          name="pgn")
