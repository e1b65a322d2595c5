"""Small building blocks shared by encoders, decoders and processors.

* :func:`linear` -- an ``nn.Linear`` initialised as Haiku's ``hk.Linear`` (CLRS is written in Haiku):
  weights ``TruncatedNormal(stddev=1/sqrt(fan_in))``, biases zero.  Haiku truncates a normal of that
  std at +-2 std *without* rescaling, so the weights' actual std is ``0.8796/sqrt(fan_in)`` and
  ``|w| <= 2/sqrt(fan_in)`` (checked against the reference in ``tests/test_golden_init.py``).
  Ibarz et al. (2022) keep this default everywhere except the encoders of scalar hints (see
  :mod:`nar.models.heads`).
* :class:`EdgeFeatures` -- edge latents kept *factored*.  Every CLRS edge encoder is a linear map of a
  few raw channels, so the summed edge embedding is ``e = X @ W + b`` with ``X [B, N, N, F]`` and small
  ``F``.  Any linear layer applied to ``e`` is then ``X @ (W @ L^T) + (b @ L^T + l)``: mathematically the
  same model, without ever materialising (or multiplying) the ``[B, N, N, H]`` tensor.
* :func:`masked_max` / :func:`masked_mean` -- reductions that ignore padded entries.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

BIG = 1e9  # finite "minus infinity" for masked logits: no NaN even when a whole row is masked
_TRUNC = 0.87962566103423978  # std of a standard normal truncated to [-2, 2]


def trunc_normal_(tensor: Tensor, std: float, *, rescaled: bool = False) -> Tensor:
    """Fill ``tensor`` from a normal of std ``std`` truncated at +-2 ``std`` (Haiku's ``TruncatedNormal``).

    As in Haiku, ``std`` is the std of the normal *before* truncation: the samples' std is
    ``0.8796 * std``.  ``rescaled=True`` widens the normal by ``1/0.8796`` so that the samples' std is
    exactly ``std`` (nar's initialisation before it was aligned with CLRS, weights ~1.14x wider); it is
    kept for reproducing older runs, not because it is known to train better.
    """
    s = std / _TRUNC if rescaled else std
    return nn.init.trunc_normal_(tensor, mean=0.0, std=s, a=-2 * s, b=2 * s)


def linear(fan_in: int, fan_out: int, *, bias: bool = True, std: float | None = None,
           bias_init: float = 0.0) -> nn.Linear:
    """``nn.Linear`` initialised as ``hk.Linear``: weights :func:`trunc_normal_` with ``std`` (default
    ``1/sqrt(fan_in)``, the std before truncation, as Haiku), bias filled with ``bias_init`` (Haiku: 0)."""
    layer = nn.Linear(fan_in, fan_out, bias=bias)
    with torch.no_grad():
        trunc_normal_(layer.weight, std if std is not None else 1.0 / math.sqrt(max(fan_in, 1)))
        if bias:
            layer.bias.fill_(bias_init)
    return layer


class _MaxOver(torch.autograd.Function):
    """``amax`` over one dim with a cheap backward (gradient to the maxima; ties share it fully).

    ``Tensor.max(dim)`` computes indices and is ~15x slower than ``amax`` on CPU; ``amax``'s own
    backward divides by the tie count with several extra passes.
    """

    @staticmethod
    def forward(ctx, x: Tensor, dim: int) -> Tensor:
        out = x.amax(dim)
        ctx.save_for_backward(x, out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, out = ctx.saved_tensors
        return torch.where(x == out.unsqueeze(ctx.dim), grad.unsqueeze(ctx.dim), 0.0), None


def max_over(x: Tensor, dim: int) -> Tensor:
    """Max of ``x`` over ``dim`` (differentiable, fast on CPU)."""
    return _MaxOver.apply(x, dim) if x.requires_grad else x.amax(dim)


class _Maximum(torch.autograd.Function):
    """Elementwise ``max(a, b)`` (broadcasting) whose gradient goes whole to the larger side, ties to ``b``.

    The side that is never picked gets an exact 0 (as CLRS's ``jnp.maximum``, which splits ties instead).
    ``torch.maximum``'s own backward takes ~8 full passes (``eq``, ``where``, ``div``, ``masked_fill`` per
    input); this one saves a bool mask and takes two (plus the broadcast reductions).
    """

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor) -> Tensor:
        pick_a = a > b
        ctx.save_for_backward(pick_a)
        ctx.shapes = a.shape, b.shape
        return torch.where(pick_a, a, b)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (pick_a,) = ctx.saved_tensors
        ga = torch.where(pick_a, grad, 0.0)
        gb = grad - ga if ctx.needs_input_grad[1] else None  # exactly grad or exactly 0
        sa, sb = ctx.shapes
        return (ga.sum_to_size(sa) if ctx.needs_input_grad[0] else None,
                None if gb is None else gb.sum_to_size(sb))


def maximum(a: Tensor, b: Tensor) -> Tensor:
    """``torch.maximum(a, b)`` with a cheap backward that is exactly 0 on the side not picked (ties: ``b``)."""
    return _Maximum.apply(a, b) if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad) \
        else torch.maximum(a, b)


def masked_max(x: Tensor, mask: Tensor, dim: int) -> Tensor:
    """Max of ``x`` over ``dim`` where ``mask`` (broadcastable to ``x``) is true; 0 if nothing is."""
    if bool(mask.all()):  # nothing padded: plain max
        return max_over(x, dim)
    out = max_over(x.masked_fill(~mask, -BIG), dim)
    return out.masked_fill(~mask.any(dim=dim), 0.0)


def masked_mean(x: Tensor, mask: Tensor, dim: int) -> Tensor:
    """Mean of ``x`` over ``dim`` counting only entries where ``mask`` is true (0 if none)."""
    m = mask.to(x.dtype)
    return (x * m).sum(dim) / m.sum(dim).clamp_min(1.0)


class EdgeFeatures:
    """Edge latents ``e = X @ W + b`` (factored), optionally followed by a dense block ``D``.

    ``x [B, N, N, F]`` raw channels, ``weight [F, H]``, ``bias [H]``; ``dense [B, N, N, D]`` or None.
    The full latent of edge (i, j) is ``concat(x_ij @ W + b, dense_ij)`` of size ``H + D``.
    ``memo``: an optional dict shared by EdgeFeatures with the *same* ``weight``/``bias`` (the steps of one
    forward pass): the products of those with a consumer layer's weights are then computed once.
    """

    __slots__ = ("x", "weight", "bias", "dense", "memo")

    def __init__(self, x: Tensor, weight: Tensor, bias: Tensor, dense: Tensor | None = None,
                 memo: dict | None = None):
        self.x, self.weight, self.bias, self.dense, self.memo = x, weight, bias, dense, memo

    @property
    def dim(self) -> int:
        return self.weight.shape[1] + (0 if self.dense is None else self.dense.shape[-1])

    def with_dense(self, dense: Tensor | None) -> "EdgeFeatures":
        return EdgeFeatures(self.x, self.weight, self.bias, dense, self.memo)

    def _fold(self, w: Tensor, b: Tensor | None, key) -> tuple[Tensor, Tensor, Tensor | None]:
        """``(W @ wf.T, bias @ wf.T + b, wd.T)`` for consumer weights ``w = [wf | wd]`` (memoised by ``key``)."""
        if key is not None and self.memo is not None:
            key = (key, self.dense is not None)
            if key in self.memo:
                return self.memo[key]
        h = self.weight.shape[1]
        if w.shape[1] != self.dim:
            raise ValueError(f"layer expects {w.shape[1]} edge features, the latents have {self.dim}")
        wf = w[:, :h]
        const = self.bias @ wf.t()
        if b is not None:
            const = const + b
        folded = (self.weight @ wf.t(), const, None if self.dense is None else w[:, h:].t())
        if key is not None and self.memo is not None:
            self.memo[key] = folded
        return folded

    def project(self, layer: nn.Linear) -> Tensor:
        """``layer`` applied to every edge latent: ``[B, N, N, layer.out_features]``."""
        return self.project_weights(layer.weight, layer.bias, key=id(layer))

    def project_weights(self, w: Tensor, b: Tensor | None = None, key=None) -> Tensor:
        """``e @ w.T + b`` for ``w [out, H + D]`` without materialising ``e``.

        ``key`` (hashable) memoises the folded weights in ``memo``: pass one only for weights that stay the
        same for the life of the memo (a forward pass)."""
        m, const, wd = self._fold(w, b, key)
        y = F.linear(self.x, m.t(), const)
        if self.dense is not None:
            y = y + self.dense @ wd
        return y

    def affine(self, layer: nn.Linear, row: Tensor | None = None, col: Tensor | None = None,
               relu: bool = False) -> Tensor:
        """``layer(e_ij) + row_i + col_j`` (then ReLU if ``relu``): ``[B, N, N, out]``, written once.

        ``row``/``col`` ``[B, N, out]`` are indexed by the first/second node of the edge.  Same value as
        ``project(layer) + row[:, :, None] + col[:, None]``, with one ``[B, N, N, out]`` write instead of five.
        """
        m, const, wd = self._fold(layer.weight, layer.bias, id(layer))
        b, n = self.x.shape[:2]
        row = const.expand(b, n, -1) if row is None else row + const
        col = const.new_zeros(()).expand(b, n, const.shape[0]) if col is None else col
        return _EdgeAffine.apply(self.x, m, row, col, self.dense, wd, relu)

    def transpose(self) -> "EdgeFeatures":
        """Latents of the reversed edges: ``e'_ij = e_ji``."""
        d = None if self.dense is None else self.dense.transpose(1, 2)
        return EdgeFeatures(self.x.transpose(1, 2), self.weight, self.bias, d, self.memo)

    def diagonal(self) -> "EdgeFeatures":
        """The self-edges (i, i) as a ``[B, N, 1, ...]`` EdgeFeatures (for self-loop-only processors)."""
        x = torch.diagonal(self.x, dim1=1, dim2=2).movedim(-1, 1).unsqueeze(2)
        d = None if self.dense is None else torch.diagonal(self.dense, dim1=1, dim2=2).movedim(-1, 1).unsqueeze(2)
        return EdgeFeatures(x, self.weight, self.bias, d, self.memo)

    def materialise(self) -> Tensor:
        """The dense ``[B, N, N, H + D]`` latents (tests, debugging)."""
        e = self.x @ self.weight + self.bias
        return e if self.dense is None else torch.cat([e, self.dense], dim=-1)


class _EdgeAffine(torch.autograd.Function):
    """``x @ m + row_i + col_j (+ dense @ wd)``, optionally ReLU'd, into one fresh ``[B, N, N, out]``."""

    @staticmethod
    def forward(ctx, x, m, row, col, dense, wd, relu):
        out = m.shape[1]
        y = row[:, :, None, :] + col[:, None, :, :]  # the only [B, N, N, out] allocation
        y2 = y.view(-1, out)
        if x.shape[-1]:
            y2.addmm_(_rows2d(x), m)
        if dense is not None:
            y2.addmm_(_rows2d(dense), wd)
        if relu:
            y.relu_()
        ctx.relu = relu
        ctx.save_for_backward(x, m, dense, wd, y if relu else None)
        return y

    @staticmethod
    def backward(ctx, g):
        x, m, dense, wd, y = ctx.saved_tensors
        if ctx.relu:  # one fused pass (ReLU's own backward kernel)
            g = torch.ops.aten.threshold_backward(g, y, 0.0)
        g2 = g.reshape(-1, g.shape[-1])
        need = ctx.needs_input_grad
        gx = (g2 @ m.t()).view(x.shape) if need[0] else None
        gm = _rows2d(x).t() @ g2 if need[1] else None
        grow = g.sum(2) if need[2] else None
        gcol = g.sum(1) if need[3] else None
        gd = (g2 @ wd.t()).view(dense.shape) if dense is not None and need[4] else None
        gwd = _rows2d(dense).t() @ g2 if dense is not None and need[5] else None
        return gx, gm, grow, gcol, gd, gwd, None


def _rows2d(t: Tensor) -> Tensor:
    """``[..., F] -> [prod(...), F]`` (also for F = 0)."""
    return t.reshape(math.prod(t.shape[:-1]), t.shape[-1])


def linear_relu(x: Tensor, layer: nn.Linear) -> Tensor:
    """``relu(layer(x))`` for a many-row ``x``, with the ReLU applied in place (one fewer big tensor)."""
    y = torch.addmm(layer.bias, _rows2d(x), layer.weight.t())
    return y.relu_().view(x.shape[:-1] + (y.shape[-1],))
