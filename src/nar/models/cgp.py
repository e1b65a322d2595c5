"""Cayley graph propagation (CGP; Wilson et al. 2024, used by DEAR, Georgiev et al. 2024, Sec. 4.3).

The Cayley graph of ``SL(2, Z_p)`` (2x2 matrices over ``Z_p`` with determinant 1) under the generators
``A = [[1, 1], [0, 1]]`` and ``B = [[1, 0], [1, 1]]`` (edges undirected, so their inverses too) is a
sparse, well-connected expander with ``p (p^2 - 1)`` nodes: 6, 24, 120, 336 for p = 2, 3, 5, 7.

:class:`CayleyAugment` puts it *beside* an input graph of ``n`` nodes: the input nodes are the first
``n`` Cayley nodes (in breadth-first order from the identity, so they form a connected ball), the other
``C - n`` Cayley nodes are added as virtual nodes, and the processor runs over the ``C`` nodes with two
extra edge channels (``input pair`` and ``Cayley edge``) and the Cayley edges added to the adjacency.
Decoders read only the input nodes.  Shapes: ``[B, N, H]`` in, ``[B, C, H]`` (``C >= N``) out.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor, nn

from .heads import Encoded
from .layers import EdgeFeatures

_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31)


def sl2_order(p: int) -> int:
    """``|SL(2, Z_p)| = p (p^2 - 1)``."""
    return p * (p * p - 1)


def prime_for(n: int) -> int:
    """The smallest prime ``p`` whose ``SL(2, Z_p)`` has at least ``n`` elements."""
    for p in _PRIMES:
        if sl2_order(p) >= n:
            return p
    raise ValueError(f"CGP supports graphs of at most {sl2_order(_PRIMES[-1])} nodes, got {n}")


@lru_cache(maxsize=None)
def cayley_graph(p: int) -> np.ndarray:
    """Adjacency ``[C, C]`` bool (symmetric, no self-loops) of the Cayley graph of ``SL(2, Z_p)``.

    Nodes are numbered in breadth-first order from the identity.
    """
    if p not in _PRIMES:
        raise ValueError(f"p must be a prime in {_PRIMES}, got {p}")
    gens = [np.array([[1, 1], [0, 1]]), np.array([[1, 0], [1, 1]])]
    ident = (1, 0, 0, 1)
    index = {ident: 0}
    order = [ident]
    edges = []
    head = 0
    while head < len(order):
        m = np.array(order[head]).reshape(2, 2)
        for g in gens:
            nxt = tuple(int(v) for v in ((m @ g) % p).ravel())
            if nxt not in index:
                index[nxt] = len(order)
                order.append(nxt)
            edges.append((head, index[nxt]))
        head += 1
    c = len(order)
    if c != sl2_order(p):  # A and B generate SL(2, Z_p); anything else is a bug
        raise AssertionError(f"Cayley graph of SL(2, Z_{p}) has {c} nodes, expected {sl2_order(p)}")
    adj = np.zeros((c, c), dtype=bool)
    for i, j in edges:
        adj[i, j] = adj[j, i] = True
    np.fill_diagonal(adj, False)
    adj.setflags(write=False)
    return adj


class CayleyAugment(nn.Module):
    """Extends encoded latents of a padded batch with Cayley graphs (see the module docstring).

    Graph ``b`` with ``n_b`` nodes gets the Cayley graph of the smallest ``SL(2, Z_p)`` with at least
    ``n_b`` elements (``C_b`` nodes), so that its result does not depend on the rest of the batch:
    positions ``0..n_b-1`` are its input nodes, ``n_b..C_b-1`` virtual nodes, the rest padding.
    Learned parameters: the embedding of a virtual node ``[H]`` and the weights ``[2, H]`` of the two
    extra edge channels.  ``extend`` returns the extended :class:`~nar.models.heads.Encoded` and the
    node mask ``[B, C]`` of the extended batch.
    """

    def __init__(self, hidden: int):
        super().__init__()
        self.virtual = nn.Parameter(torch.randn(hidden) / math.sqrt(hidden))
        self.edge_weight = nn.Parameter(torch.randn(2, hidden))
        self._cache: dict[tuple[int, str], Tensor] = {}

    def _adjacency(self, p: int, device) -> Tensor:
        key = (p, str(device))
        if key not in self._cache:
            self._cache[key] = torch.from_numpy(np.array(cayley_graph(p))).to(device)
        return self._cache[key]

    def layout(self, node_mask: Tensor) -> tuple[Tensor, Tensor]:
        """Extended node mask ``[B, C]`` and Cayley adjacency ``[B, C, C]`` of a batch."""
        b, n = node_mask.shape
        counts = node_mask.sum(1).tolist()
        primes = [prime_for(max(int(k), 1)) for k in counts]
        c = max(n, max(sl2_order(p) for p in primes))
        cay = torch.zeros(b, c, c, dtype=torch.bool, device=node_mask.device)
        for p in sorted(set(primes)):
            rows = torch.tensor([i for i, q in enumerate(primes) if q == p], device=node_mask.device)
            k = sl2_order(p)
            cay[rows, :k, :k] = self._adjacency(p, node_mask.device)
        sizes = torch.tensor([sl2_order(p) for p in primes], device=node_mask.device)
        mask = torch.arange(c, device=node_mask.device)[None, :] < sizes[:, None]
        return mask, cay

    def extend(self, enc: Encoded, node_mask: Tensor) -> tuple[Encoded, Tensor]:
        b, n = node_mask.shape
        mask, cay = self.layout(node_mask)
        c = mask.shape[1]
        pad = c - n
        real = node_mask.to(enc.node.dtype)
        node = nn.functional.pad(enc.node * real[..., None], (0, 0, 0, pad))
        virtual = mask & ~nn.functional.pad(node_mask, (0, pad), value=False)  # [B, C]
        node = node + virtual[..., None].to(node.dtype) * self.virtual
        pair = node_mask[:, :, None] & node_mask[:, None, :]
        x = nn.functional.pad(enc.edge.x * pair[..., None].to(enc.edge.x.dtype), (0, 0, 0, pad, 0, pad))
        in_pair = nn.functional.pad(pair, (0, pad, 0, pad), value=False)
        extra = torch.stack([in_pair, cay], -1).to(x.dtype)
        edge = EdgeFeatures(torch.cat([x, extra], -1), torch.cat([enc.edge.weight, self.edge_weight], 0),
                            enc.edge.bias)
        eye = torch.diag_embed(mask)
        adj = nn.functional.pad(enc.adj, (0, pad, 0, pad), value=False) | cay | eye
        return Encoded(node, edge, enc.graph, adj), mask


__all__ = ["CayleyAugment", "cayley_graph", "prime_for", "sl2_order"]
