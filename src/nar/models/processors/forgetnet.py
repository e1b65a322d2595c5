"""ForgetNet and G-ForgetNet (Bohde, Liu, Saxton & Ji, "On the Markov property of neural algorithmic
reasoning: analyses and methods", ICLR 2024) as a wrapper of any processor.

The encode-process-decode baseline feeds the previous hidden state ``h^(t-1)`` (the *history*) into each
processor step, although the algorithms' execution is Markov.  ForgetNet drops it; G-ForgetNet gates it::

    ForgetNet:    h^(t) = P(x^(t), e^(t), g^(t), h = 0)
    G-ForgetNet:  gate_i = sigmoid(W2 relu(W1 [x_i, h_i^(t-1)] + b1) + b2)      (per node and feature)
                  h^(t) = P(x^(t), e^(t), g^(t), h = gate * h^(t-1))

``P`` is any registered processor; it sees the gated history wherever it would see ``h^(t-1)``
(its input ``z = [x, h]`` and, for gated processors such as triplet_gmpnn, its update-gate residual).
With the gate forced open (``gate = 1``) this is ``P`` itself; forced shut (``gate = 0``) it is ForgetNet.

Names: ``forgetnet`` and ``g_forgetnet`` wrap ``triplet_gmpnn`` (the paper's base model); any processor
takes the suffixes ``+forget`` / ``+g_forget`` in :func:`~nar.models.processors.build_processor`
(``"pgn+g_forget"``).

What the paper specifies and what was chosen here:

* specified: ForgetNet removes the history from the processor's input; G-ForgetNet multiplies the history
  by a learned sigmoid gate computed from the current node encoding and the history, on Triplet-GMPNN,
  with CLRS's training set-up otherwise unchanged; summaries of the camera-ready version mention a loss
  penalty on the gated path and a Markov (history-free) model at test time.
* chosen: the gate is a two-layer MLP of ``[x_i, h_i]`` with a per-feature output (width H), its last
  bias initialised to 0 (gate about 0.5 at the start; the paper's reviewers quote mean gate values of
  about 0.38 at the end of training).  The decoders still receive the reasoner's ``[x, h^(t-1), h^(t)]`` as in
  CLRS.  The camera-ready's loss penalty is **not** implemented: its exact form could not be retrieved
  (the authors' repository, github.com/divelab/ForgetNet, holds only a README) and the training loss
  belongs to the reasoner; the model is evaluated with its learned gate.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..layers import linear
from .base import Processor, build_processor, register_modifier, register_processor

HISTORY_MODES = ("none", "gated")


class HistoryGate(Processor):
    """``base`` with its history removed (``mode='none'``, ForgetNet) or gated (``'gated'``, G-ForgetNet)."""

    def __init__(self, base: Processor, hidden: int, *, mode: str = "gated", name: str | None = None):
        super().__init__()
        if mode not in HISTORY_MODES:
            raise ValueError(f"mode must be one of {HISTORY_MODES}, got {mode!r}")
        self.base, self.mode = base, mode
        self.name = name or f"{base.name}+{'forget' if mode == 'none' else 'g_forget'}"
        self.edge_latent_dim = base.edge_latent_dim
        self.inf_bias, self.inf_bias_edge = base.inf_bias, base.inf_bias_edge
        if mode == "gated":
            self.gate1, self.gate2 = linear(2 * hidden, hidden), linear(hidden, hidden, bias_init=0.0)

    def gate(self, node: Tensor, hidden: Tensor) -> Tensor:
        """The gate ``[B, N, H]`` in (0, 1) on the history ``hidden``."""
        return torch.sigmoid(self.gate2(torch.relu(self.gate1(torch.cat([node, hidden], dim=-1)))))

    def activation_floats(self, batch, n, hidden):
        return self.base.activation_floats(batch, n, hidden) + (3 * batch * n * hidden if self.mode == "gated" else 0)

    def forward(self, node, edge, graph, adj, hidden, node_mask):
        history = hidden.new_zeros(()).expand_as(hidden) if self.mode == "none" else self.gate(node, hidden) * hidden
        return self.base(node, edge, graph, adj, history, node_mask)


@register_modifier("forget")
def forget(base: Processor, hidden: int) -> HistoryGate:
    return HistoryGate(base, hidden, mode="none")


@register_modifier("g_forget")
def g_forget(base: Processor, hidden: int) -> HistoryGate:
    return HistoryGate(base, hidden, mode="gated")


@register_processor("forgetnet")
def build_forgetnet(hidden: int, **options) -> HistoryGate:
    return HistoryGate(build_processor("triplet_gmpnn", hidden, **options), hidden, mode="none", name="forgetnet")


@register_processor("g_forgetnet")
def build_g_forgetnet(hidden: int, **options) -> HistoryGate:
    return HistoryGate(build_processor("triplet_gmpnn", hidden, **options), hidden, mode="gated",
                       name="g_forgetnet")
