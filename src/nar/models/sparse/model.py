"""The sparse forward of a dense :class:`~nar.models.Reasoner`: its encoders, processor and decoders (the same
parameters) applied to a :class:`~nar.sparse.batch.SparseBatch`, so a model trained dense runs sparse and the
other way round.

    out = forward(model, batch)              # SparseOutput: raw predictions (sparse conventions, probes.py)
    losses = loss(model, out, batch)         # {'total', 'output', 'hint', 'output/<name>', ...}
    pred = predict(model, batch)             # SparsePrediction: hard outputs and hints (truth conventions)

The step loop is the dense one (``Reasoner.forward``): encode inputs + hints of time i (ground truth at i = 0,
then the model's own soft / hard predictions, or the truth with probability ``teacher_forcing`` per graph),
one processor step, decode the hints of time i + 1; outputs are decoded from each graph's last step
(``length - 2``), and a finished graph's state and predictions stay frozen.  Every graph is computed at every
step (no per-step re-indexing), which gives the same values.  Edge latents are materialised per edge
(``[M, H]``); nothing is ``[n, n]``.  Node pointers are encoded on the edge (i, p[i]) and decoded by a softmax
over each node's out-edges, so a pointer can only name a neighbour (or the node itself).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ...specs import Location, Type
from ...validation import InputError
from ..processors import DenseMemoryError, device_memory_bytes
from ..layers import EdgeFeatures
from ..probe_types import EPS
from ..processors.message_passing import MessagePassing
from . import probes
from .ops import Structure
from .processors import CHUNK_BYTES, check_sparse, sparse_activation_floats, sparse_step


class SparseMemoryError(DenseMemoryError):
    """A sparse run would not fit in memory; raised before anything large is allocated."""


@dataclass
class SparseOutput:
    """Raw predictions: ``outputs[name]`` at each graph's final step, ``hints[name] [S, ...]`` (index i
    predicts time i + 1), ``final_step [G]``."""

    algorithm: str
    outputs: dict[str, Tensor]
    hints: dict[str, Tensor]
    final_step: Tensor


@dataclass
class SparsePrediction:
    """Hard predictions in the batch's conventions: ``outputs[name]``, ``hints[name] [S + 1, ...]`` (time 0
    copied from the batch); pointers are global node ids."""

    algorithm: str
    outputs: dict[str, Tensor]
    hints: dict[str, Tensor]
    final_step: Tensor


def structure(batch) -> Structure:
    """The (validated) :class:`Structure` of a SparseBatch, computed once and kept on the batch."""
    st = getattr(batch, "_structure", None)
    if st is None or st.edge_index is not batch.edge_index:
        st = Structure(batch.edge_index, batch.node_graph, batch.num_graphs)
        object.__setattr__(batch, "_structure", st)
    return st


def _spec(model, batch):
    heads = model.heads_for(batch.algorithm)
    ms = heads.mspec
    if ms.permutations or ms.pred_as_input:
        raise InputError(f"{batch.algorithm}: its model probes (permutation pointers / pred as input) have no "
                         f"sparse form")
    for name, p in ms.probes.items():
        probes.check_probe(batch.algorithm, name, Type(p.type), p.location)
    check_sparse(model.processor)
    return heads, ms


def estimate_bytes(model, batch, steps: int, grad: bool | None = None) -> int:
    """Rough bytes of live activations of a sparse run (``grad``: kept for backward; default: grad mode).

    Without gradients the per-edge ``[M, H]`` work runs in chunks (:func:`~.processors.edge_chunks`), so only
    the edge channels, triplet latents and a chunk are counted per edge."""
    grad = torch.is_grad_enabled() if grad is None else grad
    st = structure(batch)
    n, m, h = st.num_nodes, st.num_edges, model.hidden
    chunked = not grad and isinstance(model.processor, MessagePassing)
    live = min(m, max(256, CHUNK_BYTES // (4 * h))) if chunked else m  # edges whose [H] rows exist at once
    tri = st.triplet_count_bound() if getattr(model.processor, "nb_triplet_fts", 0) else 0
    per_step = sparse_activation_floats(model.processor, n, live, tri, h) + 12 * n * h + 16 * m
    if tri:
        per_step += 3 * m * h  # the triplet edge latents are materialised for the decoders
    ms = model.spec(batch.algorithm)
    for name in model.heads_for(batch.algorithm).decoders:
        p = ms.probes[name]
        if p.type == Type.POINTER and p.location == Location.NODE:
            per_step += 4 * live * h + 2 * m
        elif p.location == Location.EDGE:
            per_step += 2 * m * (ms.nb_classes.get(name) or 1)
    kept = steps if grad else 2
    return 4 * per_step * kept + 5 * 8 * tri  # + the triplet enumeration's int64 index arrays


def check_memory(model, batch, steps: int, limit: int | None = None) -> None:
    """:class:`SparseMemoryError` (before allocating) when the run's estimate exceeds ``limit`` bytes
    (default: the model's ``max_dense_bytes``, else 80% of the device's memory)."""
    est = estimate_bytes(model, batch, steps)
    if limit is None:
        limit = model.max_dense_bytes or int(0.8 * device_memory_bytes(batch.edge_index.device))
    if est > limit:
        gib = 1 << 30
        st = structure(batch)
        raise SparseMemoryError(
            f"processor {model.processor.name!r} on a sparse batch of N={st.num_nodes} nodes, M={st.num_edges} "
            f"edges, hidden={model.hidden}, {steps if torch.is_grad_enabled() else 2} step(s) needs about "
            f"{est / gib:.2f} GiB of activations, more than the {limit / gib:.2f} GiB allowed; use fewer or "
            f"smaller graphs, a processor without triplets, evaluate under torch.no_grad(), or raise "
            f"max_dense_bytes")


def _step_count(batch, steps) -> tuple[int, Tensor]:
    lengths = batch.lengths.to(batch.edge_index.device)
    if steps == "truth":
        return max(1, batch.max_length - 1), (lengths - 2).clamp_min(0)
    if isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1:
        return steps, torch.full_like(lengths, steps - 1)
    raise InputError(f"steps must be 'truth' or a positive int for a sparse run, got {steps!r}")


def _encode(heads, values: dict[str, Tensor], st: Structure, hidden: int, *, expanded: bool,
            ref: Tensor) -> tuple[Tensor, list[Tensor], list[Tensor], Tensor, Tensor]:
    """Summed latents of ``values`` (encoder inputs if ``expanded``): ``(node [N, H], edge channels [[M, F]],
    their weights [[F, H]], summed edge bias [H], graph [G, H])`` (edges stay factored, as the dense encoders)."""
    node = ref.new_zeros(st.num_nodes, hidden)
    graph = ref.new_zeros(st.num_graphs, hidden)
    xs, ws, bias = [], [], ref.new_zeros(hidden)
    for name, value in values.items():
        enc = heads.encoders[name]
        t = Type(enc.ptype.type)
        x = value if expanded else probes.expand(t, enc.location, value, st, f"{heads.mspec.algorithm} input {name!r}")
        target, ch = probes.channels(t, enc.location, x)
        if target == "edge":
            xs.append(ch)
            ws.append(enc.lin.weight.t())
            bias = bias + enc.lin.bias
        elif target == "node":
            node = node + enc.lin(ch)
        else:
            graph = graph + enc.lin(ch)
    return node, xs, ws, bias, graph


def _select(mask_graph: Tensor, location: Location, ptype: Type, st: Structure, like: Tensor) -> Tensor:
    """A per-graph bool ``[G]`` broadcast to the rows of a raw prediction of (ptype, location)."""
    if ptype == Type.POINTER and location == Location.NODE:
        rows = mask_graph[st.edge_graph]  # raw pointer logits live on edges
    elif ptype == Type.POINTER and location == Location.GRAPH:
        rows = mask_graph[st.node_graph]
    else:
        rows = mask_graph[probes.graph_of(location, st)]
    return rows.view(rows.shape + (1,) * (like.dim() - 1))


def forward(model, batch, teacher_forcing: float = 0.0, *, steps: str | int = "truth",
            generator: torch.Generator | None = None) -> SparseOutput:
    """Run ``model`` (a Reasoner) on a SparseBatch; see the module docstring."""
    if not 0.0 <= teacher_forcing <= 1.0:
        raise InputError(f"teacher_forcing must be in [0, 1], got {teacher_forcing}")
    heads, ms = _spec(model, batch)
    st = structure(batch)
    total, final = _step_count(batch, steps)
    check_memory(model, batch, total)
    ref = next(model.parameters())
    dev = ref.device
    hint_names = ms.hints if model.hint_mode != "none" else ()
    encode_hints = model.hint_mode == "encoded_decoded"
    hard = model.feedback == "hard" or (model.feedback == "hard_on_eval" and not model.training)
    types = {k: Type(ms.probes[k].type) for k in ms.probes}
    locs = {k: ms.probes[k].location for k in ms.probes}

    inputs = {k: batch.inputs[k] for k in ms.inputs}
    node_in, x_in, w_in, b_in, graph_in = _encode(heads, inputs, st, model.hidden, expanded=False, ref=ref)
    hidden = ref.new_zeros(st.num_nodes, model.hidden)
    hint_raw: dict[str, list[Tensor]] = {k: [] for k in hint_names}
    prev: dict[str, Tensor] = {}
    fixed = None  # the edge channels' (weight, bias): the same at every step
    memo: dict = {}  # their folded products with consumer layers, for this forward pass
    fin = None  # each graph's latents at its final step: h, edge channels, edge dense, graph
    tmax = batch.max_length
    for i in range(total):
        active = i <= final  # [G]
        node, xs, graph = node_in, list(x_in), graph_in
        if encode_hints and hint_names:
            cur = _hints_at(i, batch, ms, heads, prev, teacher_forcing, hard, st, generator, types, locs, tmax)
            hn, hx, hw, hb, hg = _encode(heads, cur, st, model.hidden, expanded=True, ref=ref)
            node, graph = node + hn, graph + hg
            xs += hx
            fixed = fixed or (torch.cat(w_in + hw, 0) if w_in + hw else ref.new_zeros(0, model.hidden), b_in + hb)
        else:
            fixed = fixed or (torch.cat(w_in, 0) if w_in else ref.new_zeros(0, model.hidden), b_in)
        x = torch.cat(xs, -1) if xs else ref.new_zeros(st.num_edges, 0)
        edge = EdgeFeatures(x, *fixed, memo=memo)
        new_hidden, tri = sparse_step(model.processor, node, edge, graph, hidden, st)
        if model.training and model.dropout > 0:
            keep = torch.rand(new_hidden.shape, generator=generator, device=dev) >= model.dropout
            new_hidden = new_hidden * keep / (1 - model.dropout)
        h_t = torch.cat([node, hidden, new_hidden], dim=-1)
        e_t = edge.with_dense(tri)
        raw = {k: probes.decode(heads.decoders[k], h_t, e_t, graph, st) for k in hint_names}
        if prev:
            raw = {k: torch.where(_select(active, locs[k], types[k], st, v), v, prev[k]) for k, v in raw.items()}
        prev = raw
        for k, v in raw.items():
            hint_raw[k].append(v)
        ending = final == i
        now = (h_t, x, tri, graph)
        if fin is None:
            fin = now
        elif bool(ending.any()):
            masks = (ending[st.node_graph, None], ending[st.edge_graph, None], ending[st.edge_graph, None],
                     ending[:, None])
            fin = tuple(None if a is None else torch.where(m, a, b) for m, a, b in zip(masks, now, fin))
        hidden = torch.where(active[st.node_graph, None], new_hidden, hidden)
    h_f, x_f, d_f, g_f = fin
    e_f = EdgeFeatures(x_f, *fixed, d_f, memo)
    outputs = {k: probes.decode(heads.decoders[k], h_f, e_f, g_f, st) for k in ms.outputs}
    return SparseOutput(batch.algorithm, outputs, {k: torch.stack(v) for k, v in hint_raw.items()}, final)


def _hints_at(i, batch, ms, heads, prev, tf, hard, st, generator, types, locs, tmax) -> dict[str, Tensor]:
    """Encoder inputs of the hints at time ``i`` (truth at i = 0, else feedback, truth with probability ``tf``)."""
    t = min(i, tmax - 1)
    use_truth = i == 0 or tf >= 1.0
    force = None
    if not use_truth and tf > 0.0:
        force = torch.rand(st.num_graphs, generator=generator, device=st.node_graph.device) < tf
    cur = {}
    for k in heads.encoders:
        if k not in ms.hints:
            continue
        what = f"{ms.algorithm} hint {k!r} at time {t}"
        if use_truth:
            cur[k] = probes.expand(types[k], locs[k], batch.hints[k][t], st, what)
            continue
        fb = probes.feedback(types[k], locs[k], prev[k], hard, st)
        if force is not None:
            truth = probes.expand(types[k], locs[k], batch.hints[k][t], st, what)
            fb = torch.where(_select(force, locs[k], types[k], st, fb), truth, fb)
        cur[k] = fb
    return cur


def loss(model, out: SparseOutput, batch) -> dict[str, Tensor]:
    """The CLRS losses of :meth:`Reasoner.loss` on a sparse batch (same keys, same weighting)."""
    heads, ms = _spec(model, batch)
    st = structure(batch)
    lengths = batch.lengths.to(st.node_graph.device)
    res: dict[str, Tensor] = {}
    zero = torch.zeros((), device=st.node_graph.device)
    out_total, hint_total = zero, zero
    for k in ms.outputs:
        p = ms.probes[k]
        l, w, _ = probes.loss_terms(Type(p.type), p.location, out.outputs[k], batch.outputs[k], st, hint=False,
                                     what=f"{ms.algorithm} output {k!r}")
        res[f"output/{k}"] = v = _mean(l, w)
        out_total = out_total + v
    for k, raw in out.hints.items():
        p = ms.probes[k]
        num, den = zero, zero
        for s in range(raw.shape[0]):
            truth = batch.hints[k][min(s + 1, batch.hints[k].shape[0] - 1)]
            l, w, gid = probes.loss_terms(Type(p.type), p.location, raw[s], truth, st, hint=True,
                                          what=f"{ms.algorithm} hint {k!r} at time {s + 1}")
            w = w & ((s + 1) < lengths[gid]).view((-1,) + (1,) * (w.dim() - 1))
            num, den = num + (l * w).sum(), den + w.sum()
        res[f"hint/{k}"] = v = num / den.clamp_min(EPS)
        hint_total = hint_total + v
    res["output"], res["hint"], res["total"] = out_total, hint_total, out_total + hint_total
    return res


def _mean(l: Tensor, w: Tensor) -> Tensor:
    return (l * w).sum() / w.sum().clamp_min(EPS)


def decode(model, out: SparseOutput, batch) -> SparsePrediction:
    """Hard predictions of ``out`` in the batch's conventions."""
    ms = model.spec(batch.algorithm)
    st = structure(batch)
    outputs = {k: probes.hard(Type(ms.probes[k].type), ms.probes[k].location, v, st) for k, v in out.outputs.items()}
    hints = {}
    for k, v in out.hints.items():
        p = ms.probes[k]
        steps = [probes.hard(Type(p.type), p.location, v[s], st) for s in range(v.shape[0])]
        hints[k] = torch.stack([batch.hints[k][0].to(steps[0].dtype)] + steps)
    return SparsePrediction(batch.algorithm, outputs, hints, out.final_step)


def predict(model, batch, *, steps: str | int = "truth", with_hints: bool = False):
    """Hard outputs ``{name: tensor}`` (eval mode, no teacher forcing, no grad); the full
    :class:`SparsePrediction` with ``with_hints=True``."""
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            pred = decode(model, forward(model, batch, 0.0, steps=steps), batch)
    finally:
        model.train(was)
    return pred if with_hints else pred.outputs

