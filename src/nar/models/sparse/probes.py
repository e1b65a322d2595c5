"""What each probe type means on an edge list: the sparse counterpart of :mod:`nar.models.probe_types`,
reusing its encoder / decoder modules (same parameters) and its per-element losses and metrics.

Sparse value conventions (``L`` = N nodes, M edges or G graphs of the batch; hints add a leading time axis):

===================  ===========================  ==================================================
type @ location      truth / encoder input        raw prediction (grouped softmax where noted)
===================  ===========================  ==================================================
scalar, mask         ``[L]``                      ``[L]``
categorical          ``[L, C]`` one-hot           ``[L, C]`` logits
mask_one @ node      ``[N]`` one-hot per graph    ``[N]`` logits, softmax over each graph's nodes
mask_one @ edge      ``[M]`` one-hot per sender   ``[M]`` logits, softmax over each node's out-edges
pointer @ node       ``[N]`` global node ids;     ``[M]`` logits of edge (i, j) = "i points to j",
                     encoded as ``[M]`` one-hot   softmax over each node's out-edges
pointer @ graph      ``[G]`` global node ids;     ``[N]`` logits, softmax over each graph's nodes
                     encoded as ``[N]`` one-hot
===================  ===========================  ==================================================

Edge pointers and permutation pointers (sorting) have no sparse form.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ...specs import Location, Type
from ...validation import InputError
from ..probe_types import (EdgeLinearDecoder, EdgePointerDecoder, GraphLinearDecoder, GraphPointerDecoder,
                           NodeLinearDecoder, NodePointerDecoder, TYPES)
from ..layers import EdgeFeatures
from .ops import Structure, segment_argmax, segment_log_softmax, segment_max
from .processors import edge_affine, edge_chunks, edge_rows

SPARSE_TYPES = {Type.SCALAR, Type.MASK, Type.CATEGORICAL, Type.MASK_ONE, Type.POINTER}


def check_probe(algorithm: str, name: str, ptype: Type, location: Location) -> None:
    if ptype not in SPARSE_TYPES or (ptype == Type.POINTER and location == Location.EDGE) or (
            ptype == Type.MASK_ONE and location == Location.GRAPH):
        raise InputError(f"{algorithm}: probe {name!r} ({ptype.value} at {location.value}) has no sparse form; "
                         f"sparse models support scalar, mask, categorical, mask_one (node, edge) and pointer "
                         f"(node, graph) probes")


def size_of(location: Location, st: Structure) -> int:
    return {Location.NODE: st.num_nodes, Location.EDGE: st.num_edges, Location.GRAPH: st.num_graphs}[location]


def graph_of(location: Location, st: Structure) -> Tensor:
    """Graph id of every position of ``location``."""
    if location == Location.NODE:
        return st.node_graph
    if location == Location.EDGE:
        return st.edge_graph
    return torch.arange(st.num_graphs, device=st.node_graph.device)


def groups(ptype: Type, location: Location, st: Structure) -> tuple[Tensor, int] | None:
    """``(group [R], size)`` of the rows a raw prediction's softmax runs over, or None (elementwise)."""
    if ptype == Type.MASK_ONE:
        return (st.node_graph, st.num_graphs) if location == Location.NODE else (st.senders, st.num_nodes)
    if ptype == Type.POINTER:
        return (st.senders, st.num_nodes) if location == Location.NODE else (st.node_graph, st.num_graphs)
    return None


def group_graph(ptype: Type, location: Location, st: Structure) -> Tensor:
    """Graph id of every group (pointer / mask_one) or position (others) a loss or metric counts."""
    if ptype == Type.MASK_ONE:
        return graph_of(Location.GRAPH, st) if location == Location.NODE else st.node_graph
    if ptype == Type.POINTER:
        return st.node_graph if location == Location.NODE else graph_of(Location.GRAPH, st)
    return graph_of(location, st)


# -- encoding ------------------------------------------------------------------------------------
def expand(ptype: Type, location: Location, value: Tensor, st: Structure, what: str) -> Tensor:
    """Model data -> the float encoder input (pointers become one-hot rows over edges / nodes)."""
    if ptype == Type.POINTER:
        if location == Location.NODE:
            ids = st.pointer_edges(value, what)
            return torch.zeros(st.num_edges, device=value.device).index_fill_(0, ids, 1.0)
        return torch.zeros(st.num_nodes, device=value.device).index_fill_(0, value, 1.0)
    return value.to(torch.float32)


def channels(ptype: Type, location: Location, x: Tensor) -> tuple[str, Tensor]:
    """(latent it feeds: 'node' | 'edge' | 'graph', raw channels ``[L, F]``)."""
    if ptype == Type.POINTER:
        return ("edge" if location == Location.NODE else "node"), x.unsqueeze(-1)
    return location.value, (x if ptype == Type.CATEGORICAL else x.unsqueeze(-1))


# -- decoding ------------------------------------------------------------------------------------
def decode(decoder, h: Tensor, e: EdgeFeatures, g: Tensor, st: Structure) -> Tensor:
    """A dense decoder module applied to node latents ``h [N, 3H]``, factored edge latents ``e`` (over
    ``[M, F]`` channels, with the processor's ``[M, D]`` edge latents as its dense block) and graph ``g [G, H]``."""
    s, r = st.senders, st.receivers
    if isinstance(decoder, NodeLinearDecoder):
        y = decoder.lin(h)
    elif isinstance(decoder, NodePointerDecoder):  # i -> j scores score(max(src_i, dst_j + L3 e_ji))
        rev = st.reverse
        e_rev = EdgeFeatures(e.x[rev], e.weight, e.bias, None if e.dense is None else e.dense[rev], e.memo)
        dst, src = decoder.dst(h), decoder.src(h)
        out = []
        for sl in edge_chunks(st.num_edges, dst.shape[1]):
            q = edge_affine(edge_rows(e_rev, sl), decoder.edge, dst, r[sl])
            q = torch.maximum(q, src.index_select(0, s[sl]))
            out.append(q @ decoder.score.weight[0])
        return out[0] if len(out) == 1 else torch.cat(out)
    elif isinstance(decoder, EdgePointerDecoder):
        raise InputError("edge pointer probes have no sparse form")
    elif isinstance(decoder, EdgeLinearDecoder):
        y = decoder.a(h)[s] + decoder.b(h)[r] + e.project(decoder.edge)
    elif isinstance(decoder, GraphLinearDecoder):
        y = decoder.a(segment_max(h, st.node_graph, st.num_graphs)) + decoder.b(g)
    elif isinstance(decoder, GraphPointerDecoder):
        return decoder.lin(h).squeeze(-1)
    else:
        raise InputError(f"decoder {type(decoder).__name__} has no sparse form")
    return y.squeeze(-1) if decoder.out == 1 else y


# -- feedback, loss, hard predictions -------------------------------------------------------------
def feedback(ptype: Type, location: Location, raw: Tensor, hard: bool, st: Structure) -> Tensor:
    """The next step's encoder input from a raw prediction (soft: probabilities; hard: one-hot / threshold)."""
    grp = groups(ptype, location, st)
    if grp is not None:
        if hard:
            return torch.zeros_like(raw).index_fill_(0, segment_argmax(raw.detach(), *grp), 1.0)
        return segment_log_softmax(raw, *grp).exp()
    return TYPES[ptype].feedback(raw, hard)


def loss_terms(ptype: Type, location: Location, raw: Tensor, truth: Tensor, st: Structure,
               hint: bool, what: str = "pointer target") -> tuple[Tensor, Tensor, Tensor]:
    """Elementwise ``(loss, weight, graph id)`` of one prediction, counted as the dense loss counts them."""
    grp = groups(ptype, location, st)
    gid = group_graph(ptype, location, st)
    if ptype == Type.MASK_ONE:
        t = truth.clamp_min(0)
        ce = -torch.zeros(grp[1], device=raw.device).index_add(0, grp[0], t * segment_log_softmax(raw, *grp))
        has = torch.zeros(grp[1], device=raw.device).index_add(0, grp[0], (truth == 1).float()) > 0
        return ce, torch.ones_like(has) if hint else has, gid
    if ptype == Type.POINTER:
        logp = segment_log_softmax(raw, *grp)
        target = st.pointer_edges(truth, what) if location == Location.NODE else truth
        return -logp[target], torch.ones_like(truth, dtype=torch.bool), gid
    l, w = TYPES[ptype].loss(raw, truth, torch.ones((), dtype=torch.bool, device=raw.device), hint)
    if ptype == Type.CATEGORICAL:
        return l, w, gid
    return l, w.expand_as(l), gid


def hard(ptype: Type, location: Location, raw: Tensor, st: Structure) -> Tensor:
    """Hard prediction in the truth's conventions (pointers: global node ids)."""
    grp = groups(ptype, location, st)
    if ptype == Type.POINTER:
        best = segment_argmax(raw, *grp)
        return st.receivers[best] if location == Location.NODE else best
    if ptype == Type.MASK_ONE:
        return torch.zeros_like(raw).index_fill_(0, segment_argmax(raw, *grp), 1.0)
    if ptype == Type.CATEGORICAL:
        return F.one_hot(raw.argmax(-1), raw.shape[-1]).to(torch.float32)
    return TYPES[ptype].hard(raw, torch.ones((), dtype=torch.bool, device=raw.device))


def metric_stats(ptype: Type, location: Location, pred: Tensor, truth: Tensor, st: Structure
                 ) -> tuple[Tensor, Tensor]:
    """``(stats [R, K], graph id [R])``: CLRS metric statistics per counted element (sum, then ``metric_value``)."""
    mt = TYPES[Type.POINTER if ptype == Type.POINTER else ptype]
    if ptype == Type.MASK_ONE:  # argmax accuracy per group (a graph's nodes, or a node's out-edges)
        grp = groups(ptype, location, st)
        ok = segment_argmax(pred, *grp) == segment_argmax(truth, *grp)
        valid = segment_max((truth != -1).float(), *grp) > 0
        w = valid.to(torch.float64)
        return torch.stack([ok.to(torch.float64) * w, w], -1), group_graph(ptype, location, st)
    stats = mt.metric_stats(pred, truth, torch.ones((), dtype=torch.bool, device=pred.device))
    return stats, graph_of(location, st)
