"""Triplet-GMPNN (Ibarz et al. 2022): MPNN with update gate and triplet edge latents."""
from __future__ import annotations

from .base import register_processor
from .message_passing import MessagePassing


@register_processor("triplet_gmpnn")
def build(hidden: int, *, use_ln: bool = True, nb_triplet_fts: int = 8, **_unused) -> MessagePassing:
    return MessagePassing(hidden, adjacency="full", use_ln=use_ln, nb_triplet_fts=nb_triplet_fts, gated=True,
                          name="triplet_gmpnn")
