"""Deep Sets (Zaheer et al. 2017): every node only messages itself (CLRS ``DeepSets``)."""
from __future__ import annotations

from .base import register_processor
from .message_passing import MessagePassing


@register_processor("deepsets")
def build(hidden: int, *, use_ln: bool = True, **_unused) -> MessagePassing:
    return MessagePassing(hidden, adjacency="self", use_ln=use_ln, nb_triplet_fts=0, gated=False,
                          name="deepsets")
