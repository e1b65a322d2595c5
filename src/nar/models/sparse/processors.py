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
from ..layers import EdgeFeatures, linear_relu
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


def as_edge_features(edge) -> EdgeFeatures:
    """``edge``: an :class:`EdgeFeatures` over ``[M, F]`` channels, or plain latents ``[M, H]``."""
    if isinstance(edge, EdgeFeatures):
        return edge
    h = edge.shape[-1]
    return EdgeFeatures(edge, torch.eye(h, dtype=edge.dtype, device=edge.device), edge.new_zeros(h))


CHUNK_BYTES = 4 << 20  # without gradients, per-edge [M, H] work runs in chunks of about this size


def edge_chunks(m: int, width: int) -> list[slice]:
    """Row ranges for per-edge work of ``width`` floats per row: one range when gradients are recorded
    (autograd keeps every chunk anyway), else chunks of about :data:`CHUNK_BYTES` (no ``[M, H]`` tensor is
    ever allocated: faster, and the memory stays O(n H + M F))."""
    if torch.is_grad_enabled() or m == 0:
        return [slice(0, m)]
    rows = max(256, CHUNK_BYTES // (4 * max(width, 1)))
    return [slice(a, min(a + rows, m)) for a in range(0, m, rows)]


def edge_rows(e: EdgeFeatures, sl: slice) -> EdgeFeatures:
    """The edges ``sl`` of ``e`` (views)."""
    return EdgeFeatures(e.x[sl], e.weight, e.bias, None if e.dense is None else e.dense[sl], e.memo)


def edge_affine(e: EdgeFeatures, layer, row: Tensor, row_idx: Tensor, col: Tensor | None = None,
                col_idx: Tensor | None = None, relu: bool = False) -> Tensor:
    """``layer(e_m) + row[row_idx[m]] (+ col[col_idx[m]])`` for every edge m (then ReLU): one ``[M, out]``
    tensor, the edge term as ``[M, F] @ [F, out]`` on the factored channels (never an ``[M, H] @ [H, out]``)."""
    m, const, wd = e._fold(layer.weight, layer.bias, id(layer))
    out = (row + const).index_select(0, row_idx)
    if col is not None:
        out += col.index_select(0, col_idx)
    if e.x.shape[-1]:
        out.addmm_(e.x, m)
    if e.dense is not None:
        out.addmm_(e.dense, wd)
    return out.relu_() if relu else out


def sparse_step(processor, node: Tensor, edge, graph: Tensor, hidden: Tensor,
                st: Structure) -> tuple[Tensor, Tensor | None]:
    """One step of ``processor`` on an edge list (see the module docstring); ``edge`` an
    :class:`~nar.models.layers.EdgeFeatures` over ``[M, F]`` channels or plain latents ``[M, H]``."""
    check_sparse(processor)
    edge = as_edge_features(edge)
    if isinstance(processor, MessagePassing):
        return _message_passing(processor, node, edge, graph, hidden, st)
    if isinstance(processor, GAT):
        return _gat(processor, node, edge, graph, hidden, st), None
    return _gatv2(processor, node, edge, graph, hidden, st), None


def sparse_activation_floats(processor, nodes: int, edges: int, triplets: int, hidden: int) -> int:
    """Rough float32 count of one processor step's live activations (for the memory check before a run):
    ``edges`` = the edges whose ``[H]`` rows exist at once (all of them, or a chunk), ``triplets`` = the
    candidate triplets (:meth:`Structure.triplet_count_bound`)."""
    if isinstance(processor, MessagePassing):
        return 4 * edges * hidden + 8 * nodes * hidden + 3 * triplets * processor.nb_triplet_fts
    if isinstance(processor, GATv2):
        return 3 * edges * hidden + 6 * nodes * hidden
    return 4 * edges * processor.heads + 2 * edges * hidden + 6 * nodes * hidden


def _message_passing(p: MessagePassing, node, edge: EdgeFeatures, graph, hidden, st: Structure):
    z = torch.cat([node, hidden], dim=-1)
    if p.adjacency == "self":
        self_e = EdgeFeatures(edge.x[st.self_edge], edge.weight, edge.bias,
                              None if edge.dense is None else edge.dense[st.self_edge], edge.memo)
        msgs = p.m1(z) + p.m2(z) + self_e.project(p.me) + p.mg(graph)[st.node_graph]
        agg = p.mlp2(torch.relu(p.mlp1(torch.relu(msgs))))
    else:
        # relu(pre-messages) from sender i to receiver j, then max at j; max_i(W m_i + b) = max_i(W m_i) + b
        row, col = p.m2(z) + p.mg(graph)[st.node_graph], p.m1(z)
        s, r = st.senders, st.receivers
        chunks = edge_chunks(st.num_edges, row.shape[1])
        agg = None
        for sl in chunks:
            pre = edge_affine(edge_rows(edge, sl), p.me, row, s[sl], col, r[sl], relu=True)
            msgs = F.linear(linear_relu(pre, p.mlp1), p.mlp2.weight)
            if len(chunks) == 1:
                agg = segment_max(msgs, r, st.num_nodes)
            else:
                agg = agg if agg is not None else msgs.new_full((st.num_nodes, msgs.shape[1]), -float("inf"))
                agg.scatter_reduce_(0, r[sl, None].expand_as(msgs), msgs, reduce="amax", include_self=True)
        agg = agg + p.mlp2.bias
    out = torch.relu(p.o1(z) + p.o2(agg))
    if p.ln is not None:
        out = p.ln(out)
    if p.gated:
        gate = torch.sigmoid(p.g3(torch.relu(p.g1(z) + p.g2(agg))))
        out = out * gate + hidden * (1 - gate)
    tri = _triplets(p, z, edge, graph, st) if p.nb_triplet_fts else None
    return out, tri


def _triplets(p: MessagePassing, z, edge: EdgeFeatures, graph, st: Structure) -> Tensor:
    ij, ik, jk = st.triplets()
    i = st.senders[ij]
    part = p.t1(z)[i] + edge.project(p.te1)[ij] + edge.project(p.te2)[ik]  # the i-dependent terms, [P, F]
    best = segment_max(part, jk, st.num_edges)
    tri = (best + p.t2(z)[st.senders] + p.t3(z)[st.receivers] + edge.project(p.te3)
           + p.tg(graph)[st.edge_graph])
    return linear_relu(tri, p.o3)


def _attend(p, logits: Tensor, z: Tensor, st: Structure) -> Tensor:
    """``relu(sum_j softmax_j(logits_ij) V z_j + S z_i)`` (then LN), softmax over each sender's out-edges."""
    n, h = z.shape[0], p.skip.out_features
    alpha = segment_softmax(logits, st.senders, n)  # [M, heads]
    v = p.values(z).view(n, p.heads, h // p.heads)[st.receivers]  # [M, heads, F]
    out = segment_sum(alpha[..., None] * v, st.senders, n).reshape(n, h)
    out = torch.relu(out + p.skip(z))
    return p.ln(out) if p.ln is not None else out


def _gat(p: GAT, node, edge: EdgeFeatures, graph, hidden, st: Structure) -> Tensor:
    z = torch.cat([node, hidden], dim=-1)
    logits = p.a1(z)[st.senders] + p.a2(z)[st.receivers] + edge.project(p.ae) + p.ag(graph)[st.edge_graph]
    return _attend(p, F.leaky_relu(logits), z, st)


def _gatv2(p: GATv2, node, edge: EdgeFeatures, graph, hidden, st: Structure) -> Tensor:
    z = torch.cat([node, hidden], dim=-1)
    h = p.skip.out_features
    pre = edge_affine(edge, p.we, p.w2(z) + p.wg(graph)[st.node_graph], st.senders, p.w1(z), st.receivers)
    pre = F.leaky_relu(pre).view(-1, p.heads, h // p.heads)
    logits = torch.einsum("mhf,hf->mh", pre, p.att) + p.att_bias
    return _attend(p, logits, z, st)
