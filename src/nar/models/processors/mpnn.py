"""MPNN (Gilmer et al. 2017) with max aggregation over all real nodes (CLRS ``MPNN``)."""
from __future__ import annotations

from .base import register_processor
from .message_passing import MessagePassing


@register_processor("mpnn")
def build(hidden: int, *, use_ln: bool = True, **_unused) -> MessagePassing:
    return MessagePassing(hidden, adjacency="full", use_ln=use_ln, nb_triplet_fts=0, gated=False,
                          name="mpnn")
