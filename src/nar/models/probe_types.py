"""Everything a probe *type* means to a model, one class per type, following CLRS.

Each :class:`ProbeType` says how a value is

* **expanded** for encoding (``expand``: pointers become one-hot rows over nodes),
* **encoded** (``channels`` + one linear layer per probe; Velickovic et al. 2022, CLRS ``encoders.py``):
  node/graph values go to node/graph latents, node pointers go to *edge* latents (row i of the one-hot
  is the feature of edges (i, j)), edge pointers to edge latents via means over the two node axes,
  graph pointers to node latents; node pointers and edge masks also add (symmetrised) edges to the
  adjacency used by graph-restricted processors;
* **decoded** (``decoder`` + ``finish``; CLRS ``decoders.py``) from node latents ``h [B, N, 3H]``
  (``[x, h_prev, h_new]``), edge latents (:class:`~nar.models.layers.EdgeFeatures`) and graph
  latents ``g [B, H]`` into a *raw* prediction: values, logits, or a log-Sinkhorn matrix;
* **fed back** as the next step's hint (``feedback``, soft: softmax / sigmoid / Sinkhorn, hard:
  argmax / threshold / stop-gradient; Ibarz et al. 2022 "soft hint propagation");
* **lost** (``loss``: elementwise loss and weight, CLRS ``losses.py``) and
* **scored** (``hard`` prediction + ``metric_stats``/``metric_value``, CLRS ``evaluation.py``).

Raw conventions (``lead`` = ``[B]`` or ``[B, T]``, ``loc`` = ``[]``, ``[N]`` or ``[N, N]``):
scalar values ``lead+loc``; mask logits ``lead+loc``; mask_one logits ``lead+loc`` (softmax over the
last location axis, padded nodes at ``-BIG``); categorical logits ``lead+loc+[C]``; pointer logits
``lead+loc+[N]`` (padded targets at ``-BIG``); permutation_pointer log-doubly-stochastic ``lead+[N, N]``.

Padding never counts: every loss weight and metric count is restricted to real nodes/edges.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..specs import Location, Type
from .layers import BIG, EdgeFeatures, linear, masked_max, maximum

EPS = 1e-12  # CLRS losses.EPS
# Permutation pointers, exactly as CLRS (decoders.py, nets.py, baselines.py): the decoder applies
# SINKHORN_STEPS_DECODER steps (with Gumbel noise in training); the fed-back hint SINKHORN_STEPS_FEEDBACK
# more steps of the decoder's output; scoring SINKHORN_STEPS_EVAL more steps, then the argmax.  Each
# pass divides by the temperature again.
SINKHORN_TEMPERATURE = 0.1  # Ibarz et al. 2022
SINKHORN_STEPS_DECODER = 10
SINKHORN_STEPS_FEEDBACK = 25
SINKHORN_STEPS_EVAL = 50


@dataclass
class Ctx:
    """Batch geometry and mode, as the probe types need them.

    ``adj`` (the step's encoded graph, ``Encoded.adj``) with ``inf_bias`` / ``inf_bias_edge`` (the
    processor's flags, CLRS's ``*_mask`` processors) makes :meth:`ProbeType.finish` push the logits of
    non-edges below every other logit (:func:`inf_bias`): node pointers and permutation pointers with
    ``inf_bias``, edge masks and edge mask_ones with ``inf_bias_edge`` (CLRS ``decoders.py``).
    """

    node_mask: Tensor  # [B, N] bool
    training: bool = False
    generator: torch.Generator | None = None
    adj: Tensor | None = None  # [B, N, N] bool
    inf_bias: bool = False
    inf_bias_edge: bool = False

    @property
    def n(self) -> int:
        return self.node_mask.shape[1]

    def loc_mask(self, location: Location, timed: bool = False) -> Tensor:
        """Bool mask of real positions, broadcastable to ``lead + loc`` (``lead`` = [B] or [B, 1])."""
        m = self.node_mask
        if location == Location.NODE:
            out = m
        elif location == Location.EDGE:
            out = m[:, :, None] & m[:, None, :]
        else:
            out = m.any(-1)
        return out.unsqueeze(1) if timed else out

    def target_mask(self, ndim: int) -> Tensor:
        """Node mask over the last axis of a ``ndim``-dim tensor whose first axis is the batch."""
        return self.node_mask.view(self.node_mask.shape[:1] + (1,) * (ndim - 2) + self.node_mask.shape[1:])

    def biased(self, raw: Tensor, flag: bool) -> Tensor:
        """``raw [B, N, N]`` with :func:`inf_bias` applied when ``flag`` (one of the inf_bias flags) is set."""
        if not flag:
            return raw
        if self.adj is None:
            raise ValueError("inf_bias needs the encoded graph: build the Ctx with adj=Encoded.adj")
        return inf_bias(raw, self.adj, self.node_mask)


def inf_bias(logits: Tensor, adj: Tensor, node_mask: Tensor) -> Tensor:
    """CLRS's ``inf_bias`` for ``[B, N, N]`` logits: entries off the graph ``adj`` become
    ``min(-1, m - 1)``, ``m`` the sample's smallest logit over its real node pairs (CLRS has no padding:
    there ``m`` is the minimum over all pairs).  Entries of padded nodes are set the same way; the
    decoders' padding masks override them."""
    pairs = node_mask[:, :, None] & node_mask[:, None, :]
    low = logits.masked_fill(~pairs, float("inf")).amin(dim=(1, 2), keepdim=True)
    return torch.where(adj & pairs, logits, torch.clamp(low - 1.0, max=-1.0))


# ---------------------------------------------------------------------------------------------
# decoder modules (CLRS decoders.py, one per family and location)
# ---------------------------------------------------------------------------------------------

class NodeLinearDecoder(nn.Module):
    def __init__(self, node_dim: int, out: int, bias: bool = True):
        super().__init__()
        self.out = out
        self.lin = linear(node_dim, out, bias=bias)

    def forward(self, h: Tensor, e: EdgeFeatures, g: Tensor, ctx: Ctx) -> Tensor:
        y = self.lin(h)
        return y.squeeze(-1) if self.out == 1 else y


class NodePointerDecoder(nn.Module):
    """Logits ``[B, N, N]``: node x points to y with score ``L4(max(L1 h_x, L2 h_y + L3 e_yx))``."""

    def __init__(self, node_dim: int, edge_dim: int, hidden: int):
        super().__init__()
        self.src, self.dst = linear(node_dim, hidden), linear(node_dim, hidden)
        self.edge = linear(edge_dim, hidden)
        self.score = linear(hidden, 1, bias=False)  # a bias would be constant over targets

    def forward(self, h: Tensor, e: EdgeFeatures, g: Tensor, ctx: Ctx) -> Tensor:
        # in the [B, y, x] layout of the edges (q_yx = L2 h_y + L3 e_yx), transposed at the end.  The max
        # itself is scored (not score(q) + score(relu(p - q))): where it never picks q, q's gradient, hence
        # L3's, is exactly 0, as in CLRS
        q = e.affine(self.edge, row=self.dst(h))  # [B, y, x, H]
        m = maximum(self.src(h)[:, None, :, :], q)
        return self.score(m).squeeze(-1).transpose(1, 2)


class EdgeLinearDecoder(nn.Module):
    """``L1 h_i + L2 h_j + L3 e_ij``: ``[B, N, N, out]`` (squeezed when ``out == 1``)."""

    def __init__(self, node_dim: int, edge_dim: int, out: int):
        super().__init__()
        self.out = out
        self.a, self.b = linear(node_dim, out), linear(node_dim, out)
        self.edge = linear(edge_dim, out)

    def forward(self, h: Tensor, e: EdgeFeatures, g: Tensor, ctx: Ctx) -> Tensor:
        y = e.affine(self.edge, row=self.a(h), col=self.b(h))
        return y.squeeze(-1) if self.out == 1 else y


class EdgePointerDecoder(EdgeLinearDecoder):
    """Logits ``[B, N, N, N]``: edge (i, j) points to k with score ``L5(max(pair_ij, L4 h_k))``.

    The ``[B, N, N, k, H]`` block is computed in chunks over ``k`` to bound memory.
    """

    def __init__(self, node_dim: int, edge_dim: int, hidden: int, chunk_bytes: int = 256 << 20):
        super().__init__(node_dim, edge_dim, hidden)
        self.tgt = linear(node_dim, hidden)
        self.score = linear(hidden, 1, bias=False)
        self.chunk_bytes = chunk_bytes

    def forward(self, h: Tensor, e: EdgeFeatures, g: Tensor, ctx: Ctx) -> Tensor:
        pair = super().forward(h, e, g, ctx)  # [B, N, N, H]
        tgt = self.tgt(h)  # [B, N, H]
        b, n, _, hid = pair.shape
        step = max(1, self.chunk_bytes // max(1, b * n * n * hid * pair.element_size()))
        outs = []  # the max itself is scored: exact zero gradients where it never picks a side (CLRS)
        for k0 in range(0, n, step):
            m = maximum(tgt[:, None, None, k0:k0 + step, :], pair[:, :, :, None, :])
            outs.append(self.score(m).squeeze(-1))
        return torch.cat(outs, dim=-1)


class GraphLinearDecoder(nn.Module):
    """``L1 max_i h_i + L2 g``: ``[B, out]`` (squeezed when ``out == 1``)."""

    def __init__(self, node_dim: int, graph_dim: int, out: int):
        super().__init__()
        self.out = out
        self.a, self.b = linear(node_dim, out), linear(graph_dim, out)

    def forward(self, h: Tensor, e: EdgeFeatures, g: Tensor, ctx: Ctx) -> Tensor:
        y = self.a(masked_max(h, ctx.node_mask[..., None], dim=1)) + self.b(g)
        return y.squeeze(-1) if self.out == 1 else y


class GraphPointerDecoder(nn.Module):
    """Logits ``[B, N]`` of a graph-level pointer: ``L3 h_k``.  (CLRS adds a graph term that is constant
    over k and therefore cancels in the softmax; it is left out.)"""

    def __init__(self, node_dim: int):
        super().__init__()
        self.lin = linear(node_dim, 1)

    def forward(self, h: Tensor, e: EdgeFeatures, g: Tensor, ctx: Ctx) -> Tensor:
        return self.lin(h).squeeze(-1)


# ---------------------------------------------------------------------------------------------
# the types
# ---------------------------------------------------------------------------------------------

class ProbeType:
    """Behaviour shared by the value-like types; subclasses override what differs."""

    type: Type

    # -- encoding ---------------------------------------------------------------------------
    def expand(self, value: Tensor, location: Location, ctx: Ctx) -> Tensor:
        """Model data -> the float tensor the encoder reads (and feedback produces)."""
        return value.to(torch.float32)

    def nb_channels(self, location: Location, nb_classes: int | None) -> int:
        return 1

    def channels(self, x: Tensor, location: Location, ctx: Ctx) -> tuple[str, Tensor]:
        """(latent it feeds: 'node' | 'edge' | 'graph', raw channels ``[B, loc, F]``)."""
        return location.value, x.unsqueeze(-1)

    def adjacency(self, x: Tensor, location: Location) -> Tensor | None:
        """Edges this value adds to the processor's graph (``[B, N, N]`` bool) or None."""
        return None

    # -- decoding ---------------------------------------------------------------------------
    def decoder(self, location: Location, node_dim: int, edge_dim: int, graph_dim: int, hidden: int,
                nb_classes: int | None) -> nn.Module:
        out = nb_classes or 1
        if location == Location.NODE:
            return NodeLinearDecoder(node_dim, out)
        if location == Location.EDGE:
            return EdgeLinearDecoder(node_dim, edge_dim, out)
        return GraphLinearDecoder(node_dim, graph_dim, out)

    def finish(self, raw: Tensor, location: Location, ctx: Ctx) -> Tensor:
        """Decoder output -> raw prediction (masking, Sinkhorn)."""
        return raw

    # -- feedback, loss, metric -------------------------------------------------------------
    def feedback(self, raw: Tensor, hard: bool) -> Tensor:
        raise NotImplementedError

    def loss(self, raw: Tensor, truth: Tensor, loc_mask: Tensor, hint: bool = False) -> tuple[Tensor, Tensor]:
        """Elementwise (loss, weight) of an output (``hint=False``) or hint; see :func:`probe_loss`."""
        raise NotImplementedError

    def hard(self, raw: Tensor, loc_mask: Tensor) -> Tensor:
        """Hard prediction in Batch conventions (padding as in the Batch)."""
        raise NotImplementedError

    def metric_stats(self, pred: Tensor, truth: Tensor, loc_mask: Tensor) -> Tensor:
        """Elementwise sufficient statistics ``[..., K]`` (sum them, then :meth:`metric_value`)."""
        raise NotImplementedError

    def metric_value(self, stats) -> float:
        raise NotImplementedError


class Scalar(ProbeType):
    """MSE loss, MSE score; fed back as is (hard: without gradient)."""

    type = Type.SCALAR

    def feedback(self, raw, hard):
        return raw.detach() if hard else raw

    def loss(self, raw, truth, loc_mask, hint=False):
        return (raw - truth) ** 2, loc_mask.expand_as(raw)

    def hard(self, raw, loc_mask):
        return torch.where(loc_mask, raw, raw.new_zeros(()))

    def metric_stats(self, pred, truth, loc_mask):
        w = loc_mask.expand_as(truth).to(torch.float64)
        return torch.stack([((pred - truth).to(torch.float64) ** 2) * w, w], -1)

    def metric_value(self, stats):
        return float(stats[0] / stats[1]) if stats[1] > 0 else math.nan


class Mask(ProbeType):
    """Binary cross-entropy with logits; F1 at threshold 0.5 pooled over the set; cells == -1 never count."""

    type = Type.MASK

    def adjacency(self, x, location):
        return (x + x.transpose(-1, -2)) > 0.0 if location == Location.EDGE else None

    def finish(self, raw, location, ctx):
        return ctx.biased(raw, ctx.inf_bias_edge) if location == Location.EDGE else raw

    def feedback(self, raw, hard):
        return (raw > 0).to(raw.dtype) if hard else torch.sigmoid(raw)

    def loss(self, raw, truth, loc_mask, hint=False):
        bce = raw.clamp_min(0) - raw * truth + torch.log1p(torch.exp(-raw.abs()))
        return bce, loc_mask & (truth != -1)

    def hard(self, raw, loc_mask):
        return ((raw > 0) & loc_mask).to(torch.float32)

    def metric_stats(self, pred, truth, loc_mask):
        w = (loc_mask & (truth != -1)).to(torch.float64)
        p, t = pred > 0.5, truth > 0.5
        tp, fp, fn = (p & t) * w, (p & (truth < 0.5)) * w, ((pred < 0.5) & t) * w
        return torch.stack([tp, fp, fn], -1)

    def metric_value(self, stats):
        tp, fp, fn = (float(s) for s in stats)
        precision = tp / (tp + fp) if tp + fp > 0 else 1.0
        recall = tp / (tp + fn) if tp + fn > 0 else 1.0
        return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


class _OneHot(ProbeType):
    """Softmax cross-entropy over the class axis; argmax accuracy (cells holding -1 never count).

    As CLRS: the loss counts the cells with a positive class (all-zero target rows are left out),
    except for mask_one *hints*, where every real cell counts (an all-zero row adds 0 to the sum and 1
    to the count, ``losses._hint_loss``).  The accuracy counts every real cell without a -1, so an
    all-zero target row counts as class 0 (the argmax of zeros, ``evaluation._eval_one``).
    """

    hint_counts_all_rows = False

    def feedback(self, raw, hard):
        if hard:
            return F.one_hot(raw.argmax(-1), raw.shape[-1]).to(raw.dtype)
        return torch.softmax(raw, -1)

    def _cells(self, loc_mask):  # mask over the elements (class axis removed)
        return loc_mask

    def loss(self, raw, truth, loc_mask, hint=False):
        ce = -(truth.clamp_min(0) * torch.log_softmax(raw, -1)).sum(-1)
        cells = self._cells(loc_mask).expand_as(ce)
        return ce, cells if hint and self.hint_counts_all_rows else cells & (truth == 1).any(-1)

    def hard(self, raw, loc_mask):
        out = F.one_hot(raw.argmax(-1), raw.shape[-1]).to(torch.float32)
        return out * self._cells(loc_mask).unsqueeze(-1)

    def metric_stats(self, pred, truth, loc_mask):
        w = (self._cells(loc_mask) & (truth != -1).all(-1)).to(torch.float64)
        ok = (pred.argmax(-1) == truth.argmax(-1)).to(torch.float64)
        return torch.stack([ok * w, w], -1)

    def metric_value(self, stats):
        return float(stats[0] / stats[1]) if stats[1] > 0 else math.nan


class MaskOne(_OneHot):
    """One node (one per row for edges) out of the real ones; the class axis is the last node axis."""

    type = Type.MASK_ONE
    hint_counts_all_rows = True

    def decoder(self, location, node_dim, edge_dim, graph_dim, hidden, nb_classes):
        if location == Location.GRAPH:
            raise ValueError("a graph-level mask_one has no node axis to choose over")
        if location == Location.NODE:  # the bias would be constant over the softmax axis
            return NodeLinearDecoder(node_dim, 1, bias=False)
        return super().decoder(location, node_dim, edge_dim, graph_dim, hidden, None)

    def finish(self, raw, location, ctx):
        if location == Location.EDGE:
            raw = ctx.biased(raw, ctx.inf_bias_edge)
        return raw.masked_fill(~ctx.target_mask(raw.dim()), -BIG)

    def _cells(self, loc_mask):
        return loc_mask.any(-1)


class Categorical(_OneHot):
    """``C`` classes in a trailing axis."""

    type = Type.CATEGORICAL

    def nb_channels(self, location, nb_classes):
        return nb_classes

    def channels(self, x, location, ctx):
        return location.value, x


class Pointer(ProbeType):
    """Index of a real node.  Encoded as a one-hot row over nodes; CE loss; exact-match accuracy."""

    type = Type.POINTER

    def expand(self, value, location, ctx):
        return F.one_hot(value, ctx.n).to(torch.float32)

    def nb_channels(self, location, nb_classes):
        return 2 if location == Location.EDGE else 1

    def channels(self, x, location, ctx):
        if location == Location.NODE:  # row i of the one-hot is the feature of edge (i, j)
            return "edge", x.unsqueeze(-1)
        if location == Location.GRAPH:
            return "node", x.unsqueeze(-1)
        # edge pointer x[b, i, j, k]: edge (j, k) <- mean_i, edge (i, k) <- mean_j (real nodes only)
        m = ctx.node_mask.to(x.dtype)
        n = m.sum(-1).clamp_min(1.0)[:, None, None]
        over_i = torch.einsum("bijk,bi->bjk", x, m) / n
        over_j = torch.einsum("bijk,bj->bik", x, m) / n
        return "edge", torch.stack([over_i, over_j], -1)

    def adjacency(self, x, location):
        return (x + x.transpose(-1, -2)) > 0.5 if location == Location.NODE else None

    def decoder(self, location, node_dim, edge_dim, graph_dim, hidden, nb_classes):
        if location == Location.NODE:
            return NodePointerDecoder(node_dim, edge_dim, hidden)
        if location == Location.EDGE:
            return EdgePointerDecoder(node_dim, edge_dim, hidden)
        return GraphPointerDecoder(node_dim)

    def finish(self, raw, location, ctx):
        if location == Location.NODE:
            raw = ctx.biased(raw, ctx.inf_bias)
        return raw.masked_fill(~ctx.target_mask(raw.dim()), -BIG)

    def feedback(self, raw, hard):
        if hard:
            return F.one_hot(raw.argmax(-1), raw.shape[-1]).to(raw.dtype)
        return torch.softmax(raw, -1)

    def loss(self, raw, truth, loc_mask, hint=False):
        ce = -torch.log_softmax(raw, -1).gather(-1, truth.unsqueeze(-1)).squeeze(-1)
        return ce, loc_mask.expand_as(ce)

    def hard(self, raw, loc_mask):
        pred = raw.argmax(-1)
        own = torch.arange(pred.shape[-1], device=pred.device).expand_as(pred) if pred.dim() > 1 else pred
        return torch.where(loc_mask, pred, own) if pred.dim() > 1 else pred

    def metric_stats(self, pred, truth, loc_mask):
        w = loc_mask.expand_as(truth).to(torch.float64)
        return torch.stack([(pred == truth).to(torch.float64) * w, w], -1)

    def metric_value(self, stats):
        return float(stats[0] / stats[1]) if stats[1] > 0 else math.nan


def gumbel_like(x: Tensor, generator: torch.Generator | None) -> Tensor:
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return -torch.log(-torch.log(u + 1e-12) + 1e-12)


def log_sinkhorn(logits: Tensor, node_mask: Tensor | None, steps: int,
                 temperature: float = SINKHORN_TEMPERATURE, noise: Tensor | None = None) -> Tensor:
    """Log of a doubly-stochastic matrix from ``logits [..., N, N]`` (CLRS ``decoders.log_sinkhorn``).

    ``(logits + noise) / temperature``, the diagonal lowered by 1e6 (a permutation pointer never points
    to itself, except a lone node), then ``steps`` row and column log-normalisations.
    ``node_mask [..., N]`` (broadcastable to the leading axes): padded nodes are pinned to themselves
    and never receive mass from real nodes; ``None`` for an input that is already so (an output of
    this function).
    """
    x = logits if noise is None else logits + noise
    x = x / temperature
    n = x.shape[-1]
    eye = torch.eye(n, dtype=torch.bool, device=x.device)
    x = x - 1e6 * eye  # CLRS zero_diagonal
    if node_mask is not None:
        real = node_mask[..., :, None] & node_mask[..., None, :]
        pad_self = eye & ~node_mask[..., :, None]
        x = torch.where(real, x, torch.where(pad_self, x.new_zeros(()), x.new_tensor(-BIG)))
    for _ in range(steps):
        x = torch.log_softmax(x, -1)
        x = torch.log_softmax(x, -2)
    return x


class PermutationPointer(Pointer):
    """A permutation matrix ``[B, N, N]`` (one-hot rows and columns), decoded with Sinkhorn.

    Exactly as CLRS (Ibarz et al. 2022): the raw prediction is ``log S((Y + G) / 0.1)`` with 10
    Sinkhorn iterations, ``G`` Gumbel noise in training and 0 in evaluation.  Loss
    ``-sum_j P_ij log S_ij`` per real node.  Hard decoding (scoring) runs 50 more iterations on the
    raw prediction (divided by the temperature again) and takes the row-wise argmax (it need not be a
    permutation); :func:`nar.models.spec.fuse_permutation` then restores the sorts' predecessor pointers.
    A fed-back hint runs 25 more iterations on the raw prediction: soft ``exp``, hard one-hot argmax.
    """

    type = Type.PERMUTATION_POINTER

    def expand(self, value, location, ctx):
        return value.to(torch.float32)  # already a one-hot matrix

    def decoder(self, location, node_dim, edge_dim, graph_dim, hidden, nb_classes):
        if location != Location.NODE:
            raise ValueError("permutation pointers live on nodes")
        return NodePointerDecoder(node_dim, edge_dim, hidden)

    def finish(self, raw, location, ctx):
        raw = ctx.biased(raw, ctx.inf_bias)  # before the Sinkhorn iterations, as CLRS
        noise = gumbel_like(raw, ctx.generator) if ctx.training else None
        return log_sinkhorn(raw, ctx.node_mask, SINKHORN_STEPS_DECODER, noise=noise)

    def feedback(self, raw, hard):
        x = log_sinkhorn(raw, None, SINKHORN_STEPS_FEEDBACK)
        if hard:
            return F.one_hot(x.argmax(-1), x.shape[-1]).to(raw.dtype)
        return x.exp()

    def hard(self, raw, loc_mask):
        x = log_sinkhorn(raw, loc_mask, SINKHORN_STEPS_EVAL)
        return super().hard(x, loc_mask)

    def loss(self, raw, truth, loc_mask, hint=False):
        ce = -(truth * raw).sum(-1)
        return ce, loc_mask.expand_as(ce)

    def metric_stats(self, pred, truth, loc_mask):
        raise TypeError("score permutations after fusing them into pointers (nar.models.spec.fuse_permutation)")


def probe_loss(ptype: ProbeType, raw: Tensor, truth: Tensor, loc_mask: Tensor,
               lengths: Tensor | None = None) -> Tensor:
    """One probe's loss: ``sum(loss * weight) / max(sum(weight), EPS)`` over real positions.

    Outputs: ``raw``/``truth`` ``[B, ...]``, ``loc_mask`` from :meth:`Ctx.loc_mask`.  Hints
    (``lengths [B]`` given; ``loc_mask`` timed): ``raw [B, S, ...]`` predicts the hints at times
    ``1 .. S``, ``truth`` holds them, and step ``i`` counts for sample ``b`` while ``i + 1 < lengths[b]``
    (CLRS ``losses.hint_loss``).

    Deviation from CLRS: when nothing counts (a mask output whose targets are all -1, a mask_one or
    categorical output without a positive class) the loss is 0, where CLRS's output losses divide 0
    by 0 and give NaN (which would poison the summed loss and every gradient).
    """
    l, w = ptype.loss(raw, truth, loc_mask, hint=lengths is not None)
    if lengths is not None:
        steps = torch.arange(raw.shape[1], device=raw.device)
        live = (steps[None, :] + 1) < lengths.to(raw.device)[:, None]
        w = w & live.view(live.shape + (1,) * (w.dim() - 2))
    return (l * w).sum() / w.sum().clamp_min(EPS)


TYPES: dict[Type, ProbeType] = {t.type: t for t in (
    Scalar(), Mask(), MaskOne(), Categorical(), Pointer(), PermutationPointer())}

# The metric of an *original* spec type (sorting outputs are scored as pointers after fusing).
METRIC_TYPES: dict[Type, ProbeType] = {**TYPES, Type.SHOULD_BE_PERMUTATION: TYPES[Type.POINTER],
                                       Type.PERMUTATION_POINTER: TYPES[Type.POINTER]}


def probe_type(t: Type) -> ProbeType:
    try:
        return TYPES[Type(t)]
    except (KeyError, ValueError):
        raise ValueError(f"probe type {t!r} has no model behaviour; known: {[str(k) for k in TYPES]}") from None


class ProbeEncoder(nn.Module):
    """One linear encoder of one probe (CLRS: ``Linear(hidden)`` on the expanded value).

    ``forward(x, ctx) -> (target, tensor)``: for node/graph targets the encoded ``[B, (N,) H]``;
    for the edge target the raw channels ``[B, N, N, F]`` (the Reasoner keeps edge latents factored and
    uses ``self.lin`` as their weight).
    """

    def __init__(self, ptype: ProbeType, location: Location, hidden: int, nb_classes: int | None = None,
                 std: float | None = None):
        super().__init__()
        self.ptype, self.location = ptype, location
        f = ptype.nb_channels(location, nb_classes)
        # CLRS uses one Linear per channel group; its default init has fan_in 1 per channel
        self.lin = linear(f, hidden, std=std if std is not None else
                          (1.0 if isinstance(ptype, Pointer) else 1.0 / math.sqrt(f)))

    def forward(self, x: Tensor, ctx: Ctx) -> tuple[str, Tensor]:
        target, ch = self.ptype.channels(x, self.location, ctx)
        return (target, ch) if target == "edge" else (target, self.lin(ch))
