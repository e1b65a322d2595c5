"""Sparse forms of the processor steps: the *same* ``nn.Module`` (same parameters) applied to an edge list.

    new_hidden [N, H], edge_latents [M, H] or None = sparse_step(processor, node [N, H], edge [M, H],
                                                               graph [G, H], hidden [N, H], structure)

``structure`` (:class:`~nar.models.sparse.ops.Structure`) holds ``edge_index [2, M]`` (sender, receiver):
the model edge set, i.e. the graph's edges symmetrised plus every self-loop, sorted, and ``node_graph``.

Semantics (as SALSA-CLRS): in sparse mode every processor aggregates over the edge set, so the
"full" processors (``mpnn``, ``gmpnn``, ``triplet_*mpnn``, ``gat_full``, ``gatv2_full``) and the
graph-restricted ones (``pgn``, ``gpgn``, ``gat``, ``gatv2``, ``triplet_*pgn``) compute the same thing;
``deepsets`` only uses the self-loops.  Messages follow the dense steps exactly: max aggregation at the
receiver (message passing), attention of a sender over its out-edges (GAT/GATv2).  A triplet (i, j, k)
exists when (i, j), (i, k) and (j, k) are all edges; the triplet edge latent of (j, k) is the max over
those i (i = j always qualifies, thanks to the self-loops), found per node i over pairs of its
out-edges, so the cost grows with sum_i deg_i^2, not n^3.  On a complete graph every step equals the
dense step; on a sparse graph ``pgn``-style steps equal the dense step over the encoders' graph.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ...validation import InputError
from ..processors.gat import GAT
from ..processors.gatv2 import GATv2
from ..processors.message_passing import MessagePassing
from .ops import Structure, segment_max, segment_softmax, segment_sum

SPARSE_PROCESSORS = ("deepsets", "gat", "gat_full", "gatv2", "gatv2_full", "gmpnn", "gpgn", "mpnn", "pgn",
                     "triplet_gmpnn", "triplet_gpgn", "triplet_mpnn", "triplet_pgn")


def supports_sparse(processor) -> bool:
    return isinstance(processor, (MessagePassing, GAT, GATv2))


def check_sparse(processor) -> None:
    """:class:`InputError` unless ``processor`` has a sparse form."""
    if not supports_sparse(processor):
        raise InputError(f"processor {getattr(processor, 'name', type(processor).__name__)!r} has no sparse form; "
                         f"sparse processors: {', '.join(SPARSE_PROCESSORS)}")


def sparse_step(processor, node: Tensor, edge: Tensor, graph: Tensor, hidden: Tensor,
                st: Structure) -> tuple[Tensor, Tensor | None]:
    """One step of ``processor`` on an edge list (see the module docstring)."""
    check_sparse(processor)
    if isinstance(processor, MessagePassing):
        return _message_passing(processor, node, edge, graph, hidden, st)
    if isinstance(processor, GAT):
        return _gat(processor, node, edge, graph, hidden, st), None
    return _gatv2(processor, node, edge, graph, hidden, st), None


def sparse_activation_floats(processor, nodes: int, edges: int, triplets: int, hidden: int) -> int:
    """Rough float32 count of one sparse step's live activations (for the memory check before a run)."""
    if isinstance(processor, MessagePassing):
        floats = 4 * edges * hidden + 8 * nodes * hidden
        if processor.nb_triplet_fts:
            floats += 3 * triplets * processor.nb_triplet_fts + 3 * edges * hidden
        return floats
    if isinstance(processor, GATv2):
        return 3 * edges * hidden + 6 * nodes * hidden
    return 4 * edges * processor.heads + 2 * edges * hidden + 6 * nodes * hidden


def _message_passing(p: MessagePassing, node, edge, graph, hidden, st: Structure):
    z = torch.cat([node, hidden], dim=-1)
    s, r = st.senders, st.receivers
    if p.adjacency == "self":
        msgs = p.m1(z) + p.m2(z) + p.me(edge[st.self_edge]) + p.mg(graph)[st.node_graph]
        agg = p.mlp2(torch.relu(p.mlp1(torch.relu(msgs))))
    else:
        pre = p.me(edge) + p.m2(z)[s] + p.m1(z)[r] + p.mg(graph)[st.edge_graph]
        msgs = p.mlp2(torch.relu(p.mlp1(torch.relu(pre))))
        agg = segment_max(msgs, r, st.num_nodes)
    out = torch.relu(p.o1(z) + p.o2(agg))
    if p.ln is not None:
        out = p.ln(out)
    if p.gated:
        gate = torch.sigmoid(p.g3(torch.relu(p.g1(z) + p.g2(agg))))
        out = out * gate + hidden * (1 - gate)
    tri = _triplets(p, z, edge, graph, st) if p.nb_triplet_fts else None
    return out, tri


def _triplets(p: MessagePassing, z, edge, graph, st: Structure) -> Tensor:
    ij, ik, jk = st.triplets()
    i = st.senders[ij]
    part = p.t1(z)[i] + p.te1(edge)[ij] + p.te2(edge)[ik]  # the i-dependent terms, [P, F]
    best = segment_max(part, jk, st.num_edges)
    tri = best + p.t2(z)[st.senders] + p.t3(z)[st.receivers] + p.te3(edge) + p.tg(graph)[st.edge_graph]
    return torch.relu(p.o3(tri))


def _attend(p, logits: Tensor, z: Tensor, st: Structure) -> Tensor:
    """``relu(sum_j softmax_j(logits_ij) V z_j + S z_i)`` (then LN), softmax over each sender's out-edges."""
    n, h = z.shape[0], p.skip.out_features
    alpha = segment_softmax(logits, st.senders, n)  # [M, heads]
    v = p.values(z).view(n, p.heads, h // p.heads)[st.receivers]  # [M, heads, F]
    out = segment_sum(alpha[..., None] * v, st.senders, n).reshape(n, h)
    out = torch.relu(out + p.skip(z))
    return p.ln(out) if p.ln is not None else out


def _gat(p: GAT, node, edge, graph, hidden, st: Structure) -> Tensor:
    z = torch.cat([node, hidden], dim=-1)
    logits = p.a1(z)[st.senders] + p.a2(z)[st.receivers] + p.ae(edge) + p.ag(graph)[st.edge_graph]
    return _attend(p, F.leaky_relu(logits), z, st)


def _gatv2(p: GATv2, node, edge, graph, hidden, st: Structure) -> Tensor:
    z = torch.cat([node, hidden], dim=-1)
    h = p.skip.out_features
    pre = p.w1(z)[st.receivers] + p.w2(z)[st.senders] + p.we(edge) + p.wg(graph)[st.edge_graph]
    pre = F.leaky_relu(pre).view(-1, p.heads, h // p.heads)
    logits = torch.einsum("mhf,hf->mh", pre, p.att) + p.att_bias
    return _attend(p, logits, z, st)
