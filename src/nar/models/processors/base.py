"""The processor interface, the name registry and the dense-memory guard.

A processor is one step of a GNN over dense, padded batches (CLRS ``processors.py``):

    forward(node [B, N, H], edge: EdgeFeatures, graph [B, H], adj [B, N, N] bool, hidden [B, N, H],
            node_mask [B, N] bool) -> (new hidden [B, N, H], edge latents [B, N, N, H] or None)

``adj[b, i, j]`` is the graph the encoders built (self-loops, input edges, pointer edges; real nodes
only); each processor chooses what it aggregates over (all real nodes, ``adj``, or only itself).
Padded nodes never send anything, and the new hidden state is zero on them.
"""
from __future__ import annotations

import os
from typing import Callable

import torch
from torch import Tensor, nn

from ..layers import EdgeFeatures

PROCESSORS: dict[str, Callable[..., "Processor"]] = {}
# name suffix -> wrapper(base processor, hidden) -> Processor  ("pgn+g_forget")
MODIFIERS: dict[str, Callable[..., "Processor"]] = {}


def register_processor(name: str):
    """Decorator: register ``factory(hidden, **options) -> Processor`` under ``name``."""
    def deco(factory):
        if name in PROCESSORS:
            raise ValueError(f"processor {name!r} registered twice")
        PROCESSORS[name] = factory
        return factory
    return deco


def register_modifier(suffix: str):
    """Decorator: register ``wrapper(base: Processor, hidden) -> Processor`` as the name suffix ``+suffix``."""
    def deco(wrapper):
        if suffix in MODIFIERS:
            raise ValueError(f"processor modifier {suffix!r} registered twice")
        MODIFIERS[suffix] = wrapper
        return wrapper
    return deco


def list_processors() -> list[str]:
    return sorted(PROCESSORS)


def build_processor(name: str, hidden: int = 128, **options) -> "Processor":
    """The processor registered as ``name`` with width ``hidden``.

    ``name`` may end in modifiers, ``"base+suffix"`` (e.g. ``"pgn+g_forget"``): the wrapper registered
    under the suffix around the processor ``base``.
    Common options: ``use_ln`` (layer norm, default True), ``nb_triplet_fts`` (8), ``nb_heads`` (1);
    a processor ignores the options it has no use for.
    """
    if not isinstance(name, str):
        raise ValueError(f"processor name must be a string, got {type(name).__name__}")
    if "+" in name:
        base, suffix = name.rsplit("+", 1)
        if suffix not in MODIFIERS:
            raise ValueError(f"unknown processor modifier {suffix!r} in {name!r}; valid modifiers: "
                             f"{', '.join('+' + m for m in sorted(MODIFIERS))}")
        return MODIFIERS[suffix](build_processor(base, hidden, **options), hidden)
    if name not in PROCESSORS:
        raise ValueError(f"unknown processor {name!r}; valid processors: {', '.join(list_processors())}"
                         + (f" (each also with a modifier: {', '.join('+' + m for m in sorted(MODIFIERS))})"
                            if MODIFIERS else ""))
    return PROCESSORS[name](hidden, **options)


class Processor(nn.Module):
    """Base class; see the module docstring for ``forward``."""

    name: str = "processor"
    edge_latent_dim: int = 0  # width of the edge latents it returns (0: none)
    # CLRS's ``*_mask`` processors: the decoders push the logits of non-edges below all others
    # (node and permutation pointers; edge masks and mask_ones).  See :func:`nar.models.probe_types.inf_bias`.
    inf_bias: bool = False
    inf_bias_edge: bool = False

    def forward(self, node: Tensor, edge: EdgeFeatures, graph: Tensor, adj: Tensor, hidden: Tensor,
                node_mask: Tensor) -> tuple[Tensor, Tensor | None]:
        raise NotImplementedError

    def activation_floats(self, batch: int, n: int, hidden: int) -> int:
        """Rough count of float32 activations one step keeps alive for backward."""
        return 6 * batch * n * n * hidden


def pair_mask(node_mask: Tensor) -> Tensor:
    return node_mask[:, :, None] & node_mask[:, None, :]


class DenseMemoryError(MemoryError):
    """A dense batch would not fit in memory; raised before anything large is allocated."""


def device_memory_bytes(device: torch.device) -> int:
    """Total memory of ``device`` (CUDA: device memory; CPU: physical RAM).

    The dense guard compares against the *total*, not the momentary free memory, so that it only
    refuses batches that cannot fit at all (other processes come and go).
    """
    if device.type == "cuda":
        _, total = torch.cuda.mem_get_info(device)
        return int(total)
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def check_dense_memory(estimate: int, limit: int, what: str) -> None:
    """Raise :class:`DenseMemoryError` with a readable message when ``estimate > limit`` bytes."""
    if estimate > limit:
        gib = 1 << 30
        raise DenseMemoryError(
            f"{what} needs about {estimate / gib:.2f} GiB of dense activations, more than the "
            f"{limit / gib:.2f} GiB allowed; use a smaller batch, fewer nodes or shorter trajectories, "
            f"evaluate under torch.no_grad(), or raise max_dense_bytes")
