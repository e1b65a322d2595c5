"""MPNN with triplet edge latents (Dudzik & Velickovic 2022; CLRS ``triplet_mpnn``)."""
from __future__ import annotations

from .base import register_processor
from .message_passing import MessagePassing


@register_processor("triplet_mpnn")
def build(hidden: int, *, use_ln: bool = True, nb_triplet_fts: int = 8, **_unused) -> MessagePassing:
    return MessagePassing(hidden, adjacency="full", use_ln=use_ln, nb_triplet_fts=nb_triplet_fts, gated=False,
                          name="triplet_mpnn")
