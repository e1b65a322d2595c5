"""Encode-process-decode reasoner (Velickovic et al. 2022; Ibarz et al. 2022), dense and batched.

At step ``i`` (``i = 0 .. S-1``) the model encodes the inputs and the hints of time ``i`` (ground truth at
``i = 0``; afterwards its own previous predictions, or the ground truth with probability
``teacher_forcing`` per sample), runs the shared processor once, and decodes the hints of time ``i+1``
and the outputs.  With ``steps='truth'`` (default) ``S = max(1, T-1)`` and sample ``b`` takes its outputs
from step ``max(length_b - 2, 0)``; its hidden state is frozen afterwards (CLRS ``nets.Net``).
Finished samples are not computed at all: each step runs on the samples still running.

    model = Reasoner("bfs", processor="triplet_gmpnn")          # or Reasoner(["bfs", "dfs"], ...)
    out = model(batch, teacher_forcing=0.0)                      # ModelOutput (raw predictions)
    losses = model.loss(out, batch)                              # {'total', 'output', 'hint', ...}
    preds = model.predict(batch)                                 # hard outputs, Batch conventions

Multi-task: one processor shared by all algorithms; encoders/decoders per algorithm in
``model.heads`` (an ``nn.ModuleDict`` keyed by algorithm name); ``batch.algorithm`` selects them.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor, nn

from .heads import AlgorithmHeads, Encoded
from .layers import EdgeFeatures
from .processors import Processor, device_memory_bytes, build_processor, check_dense_memory
from .probe_types import EPS, Ctx, probe_loss, probe_type
from .spec import ModelSpec, adapt, fuse_permutation, model_spec

HINT_MODES = ("encoded_decoded", "decoded_only", "none")
FEEDBACK_MODES = ("soft", "hard", "hard_on_eval")


@dataclass
class ModelOutput:
    """Raw predictions of one forward pass (model-spec names; see :mod:`nar.models.probe_types`).

    ``outputs[name]``: raw output of each sample at its final step ``[B, ...]``;
    ``hints[name]``: ``[B, S, ...]``, index ``i`` predicts the hint at time ``i + 1``;
    ``final_step [B]``: the step each sample's outputs come from; ``halt_logits [B, S]`` or None.
    """

    algorithm: str
    outputs: dict[str, Tensor]
    hints: dict[str, Tensor]
    final_step: Tensor
    halt_logits: Tensor | None = None

    @property
    def steps(self) -> int:
        return int(self.halt_logits.shape[1]) if self.halt_logits is not None else (
            int(next(iter(self.hints.values())).shape[1]) if self.hints else int(self.final_step.max()) + 1)


@dataclass
class Prediction:
    """Hard predictions in :class:`nar.data.Batch` conventions under the *original* probe names.

    ``outputs[name] [B, ...]``; ``hints[name] [B, S+1, ...]`` with time 0 copied from the batch (it is
    given, not predicted); sorting ``pred`` is already fused back into predecessor pointers.
    """

    algorithm: str
    outputs: dict[str, Tensor]
    hints: dict[str, Tensor]
    final_step: Tensor


class Reasoner(nn.Module):
    """Encode-process-decode over one or several algorithms with a shared processor.

    Args:
        algorithms: a CLRS-30 name or a list of them (multi-task).
        processor: a registered processor name (:func:`nar.models.list_processors`) or a
            :class:`~nar.models.processors.Processor` instance of width ``hidden``.
        hidden: latent width (128 as in CLRS).
        hint_mode: ``'encoded_decoded'`` (hints are supervised and fed back), ``'decoded_only'``
            (supervised only) or ``'none'``.
        feedback: predicted hints fed back ``'soft'`` (softmax/sigmoid, gradients flow),
            ``'hard'`` (argmax/threshold) or ``'hard_on_eval'`` (soft in training, hard in eval).
        use_ln: layer norm in the processor.
        nb_triplet_fts: width of the triplet features (triplet processors).
        nb_heads: attention heads (GAT processors).
        encoder_init: ``'xavier_on_scalars'`` (CLRS default) or ``'default'``.
        dropout: on the processed node states during training (CLRS default 0).
        termination: add a learned halting head per algorithm (trained by :meth:`loss`, used with
            ``steps='learned'``).
        enforce_permutations: decode ``should_be_permutation`` outputs as permutation pointers (a
            CLRS probe rewrite, :mod:`nar.models.spec`).
        pred_as_input: turn the constant ``pred_h`` hint into an input (a CLRS probe rewrite,
            :mod:`nar.models.spec`).
        max_dense_bytes: refuse batches whose dense activations are estimated above this many bytes
            (default: 80% of the device's total memory).

    ``model.config`` holds these arguments (JSON-able): ``Reasoner(**model.config)`` rebuilds the same
    architecture, so a checkpoint is ``{"config": model.config, "state": model.state_dict()}``.
    """

    def __init__(self, algorithms: str | Sequence[str], processor: str | Processor = "triplet_gmpnn",
                 hidden: int = 128, *, hint_mode: str = "encoded_decoded", feedback: str = "soft",
                 use_ln: bool = True, nb_triplet_fts: int = 8, nb_heads: int = 1,
                 encoder_init: str = "xavier_on_scalars", dropout: float = 0.0, termination: bool = False,
                 enforce_permutations: bool = True, pred_as_input: bool = True,
                 max_dense_bytes: int | None = None):
        super().__init__()
        if hint_mode not in HINT_MODES:
            raise ValueError(f"hint_mode must be one of {HINT_MODES}, got {hint_mode!r}")
        if feedback not in FEEDBACK_MODES:
            raise ValueError(f"feedback must be one of {FEEDBACK_MODES}, got {feedback!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        names = [algorithms] if isinstance(algorithms, str) else list(algorithms)
        if not names or len(set(names)) != len(names):
            raise ValueError(f"algorithms must be a non-empty list of distinct names, got {algorithms!r}")
        self.config = dict(  # constructor arguments: Reasoner(**model.config) rebuilds the architecture
            algorithms=names, processor=processor if isinstance(processor, str) else processor.name,
            hidden=hidden, hint_mode=hint_mode, feedback=feedback, use_ln=use_ln, nb_triplet_fts=nb_triplet_fts,
            nb_heads=nb_heads, encoder_init=encoder_init, dropout=dropout, termination=termination,
            enforce_permutations=enforce_permutations, pred_as_input=pred_as_input, max_dense_bytes=max_dense_bytes)
        self.hidden, self.hint_mode, self.feedback = hidden, hint_mode, feedback
        self.dropout, self.max_dense_bytes = dropout, max_dense_bytes
        if isinstance(processor, str):
            processor = build_processor(processor, hidden, use_ln=use_ln, nb_triplet_fts=nb_triplet_fts,
                                        nb_heads=nb_heads)
        self.processor = processor
        self.heads = nn.ModuleDict()
        for name in names:
            ms = model_spec(name, enforce_permutations=enforce_permutations, pred_as_input=pred_as_input)
            self.heads[name] = AlgorithmHeads(
                ms, hidden, encode_hints=hint_mode == "encoded_decoded", decode_hints=hint_mode != "none",
                node_dim=3 * hidden, edge_dim=hidden + processor.edge_latent_dim, encoder_init=encoder_init)
            if termination:
                self.heads[name].add_termination_head()
        self.termination = termination

    # -- bookkeeping ---------------------------------------------------------------------------
    @property
    def algorithms(self) -> list[str]:
        return list(self.heads)

    def spec(self, algorithm: str) -> ModelSpec:
        return self.heads_for(algorithm).mspec

    def heads_for(self, algorithm: str) -> AlgorithmHeads:
        if algorithm not in self.heads:
            raise KeyError(f"this model has no heads for {algorithm!r}; it was built for {self.algorithms}")
        return self.heads[algorithm]

    def _check_memory(self, heads: AlgorithmHeads, b: int, n: int, steps: int, device) -> None:
        grad = torch.is_grad_enabled()
        per_step = self.processor.activation_floats(b, n, self.hidden) + heads.activation_floats(b, n, grad)
        kept = steps if grad else 2
        estimate = 4 * per_step * kept
        limit = self.max_dense_bytes
        if limit is None:
            limit = int(0.8 * device_memory_bytes(device))
        check_dense_memory(estimate, limit, f"processor {self.processor.name!r} on B={b}, N={n}, "
                                            f"hidden={self.hidden}, {kept} step(s)")

    # -- forward -------------------------------------------------------------------------------
    def forward(self, batch, teacher_forcing: float = 0.0, *, steps: str | int = "truth",
                max_steps: int | None = None, generator: torch.Generator | None = None) -> ModelOutput:
        """Run the model on ``batch`` (a :class:`nar.data.Batch`).

        ``teacher_forcing``: probability, per sample and step, of encoding the ground-truth hint instead
        of the model's own prediction (0 = none, Ibarz et al.; 0.5 in the CLRS paper).
        ``steps``: ``'truth'`` (ground-truth lengths), an int (that many steps for every sample) or
        ``'learned'`` (halting head; needs ``termination=True`` and ``max_steps``).
        ``generator``: for teacher forcing, Gumbel noise and dropout (reproducibility).
        """
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ValueError(f"teacher_forcing must be in [0, 1], got {teacher_forcing}")
        heads = self.heads_for(batch.algorithm)
        ms = heads.mspec
        node_mask = batch.node_mask
        device = node_mask.device
        b, n = node_mask.shape
        lengths = batch.lengths.to(device)
        learned = steps == "learned"
        if steps == "truth":
            total = max(1, batch.max_length - 1)
            final = (lengths - 2).clamp_min(0)
        elif learned:
            if heads.termination is None:
                raise ValueError("steps='learned' needs a model built with termination=True")
            if not max_steps or max_steps < 1:
                raise ValueError("steps='learned' needs max_steps >= 1")
            total = int(max_steps)
            final = torch.full((b,), total - 1, dtype=torch.long, device=device)
        elif isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1:
            total = steps
            final = torch.full((b,), total - 1, dtype=torch.long, device=device)
        else:
            raise ValueError(f"steps must be 'truth', 'learned' or a positive int, got {steps!r}")
        self._check_memory(heads, b, n, total, device)

        data = adapt(batch, ms)
        ctx = Ctx(node_mask, self.training, generator)
        enc_in = heads.encode(data.inputs, ctx)
        encode_hints = self.hint_mode == "encoded_decoded"
        hint_names = ms.hints if self.hint_mode != "none" else ()
        hard = self.feedback == "hard" or (self.feedback == "hard_on_eval" and not self.training)

        hidden = enc_in.node.new_zeros(b, n, self.hidden)
        hint_raw: dict[str, list[Tensor]] = {k: [] for k in hint_names}
        halts: list[Tensor] = []
        fin: list = []  # (rows, latents at their final step: h, edge channels, edge dense, graph)
        done = torch.zeros(b, dtype=torch.bool, device=device)
        prev: dict[str, Tensor] = {}  # raw hint predictions of the previous step, [B, ...]
        hint_weights = fixed = None  # edge-channel (weight, bias) of the hints / of all encoded probes
        memo: dict = {}  # folded products of those weights with consumer layers, for this forward pass
        for i in range(total):
            # only the samples still running are computed; the others keep their state and predictions
            active = ~done if learned else i <= final
            rows = None if bool(active.all()) else active.nonzero().squeeze(1)
            sub = _rows(rows)
            ctx_i = ctx if rows is None else Ctx(sub(node_mask), self.training, generator)
            enc = enc_in if rows is None else enc_in.select(rows)
            if encode_hints and hint_names:
                cur = self._hints_at(i, data.hints, prev, teacher_forcing, heads, ctx, hard)
                h_enc = heads.encode({k: sub(v) for k, v in cur.items()}, ctx_i, expanded=True,
                                     edge_weights=hint_weights)
                if fixed is None:
                    hint_weights = (h_enc.edge.weight, h_enc.edge.bias)
                    fixed = ((enc + h_enc).edge.weight, enc.edge.bias + h_enc.edge.bias)
                edge = EdgeFeatures(torch.cat([enc.edge.x, h_enc.edge.x], -1), *fixed, memo=memo)
                enc = Encoded(enc.node + h_enc.node, edge, enc.graph + h_enc.graph, enc.adj | h_enc.adj)
            else:
                # the same edge weights at every step, so that folded weight products are computed once
                fixed = fixed or (enc.edge.weight, enc.edge.bias)
                enc = Encoded(enc.node, EdgeFeatures(enc.edge.x, *fixed, memo=memo), enc.graph, enc.adj)
            h_prev = sub(hidden)
            new_hidden, edge_latents = self.processor(enc.node, enc.edge, enc.graph, enc.adj, h_prev,
                                                      ctx_i.node_mask)
            if self.training and self.dropout > 0:
                keep = torch.rand(new_hidden.shape, generator=generator, device=device) >= self.dropout
                new_hidden = new_hidden * keep / (1 - self.dropout)
            h_t = torch.cat([enc.node, h_prev, new_hidden], dim=-1)
            e_t = enc.edge.with_dense(edge_latents)
            raw = heads.decode(hint_names, h_t, e_t, enc.graph, ctx_i)
            prev = raw if rows is None else {k: prev[k].index_copy(0, rows, v) for k, v in raw.items()}
            for k, v in prev.items():
                hint_raw[k].append(v)
            if heads.termination is not None:
                halt = heads.halt_logit(new_hidden, ctx_i.node_mask)
                halts.append(halt if rows is None else halt.new_zeros(b).index_copy(0, rows, halt))
            ending = (active & ((halts[-1] > 0) | (i == total - 1))) if learned else final == i
            if bool(ending.any()):  # keep each sample's final latents; outputs are decoded once, below
                rows_e = ending.nonzero().squeeze(1)
                pos_e = rows_e if rows is None else (torch.cumsum(active.long(), 0) - 1)[rows_e]
                fin.append((rows_e, [None if v is None else v.index_select(0, pos_e)
                                     for v in (h_t, e_t.x, e_t.dense, enc.graph)]))
            hidden = new_hidden if rows is None else hidden.index_copy(0, rows, new_hidden)
            if learned:
                final = torch.where(ending, torch.full_like(final, i), final)
                done = done | ending
                if bool(done.all()):
                    break
        order = torch.argsort(torch.cat([r for r, _ in fin]))  # every sample ends exactly once
        h_f, x_f, d_f, g_f = (None if vs[0] is None else torch.cat(vs).index_select(0, order)
                              for vs in zip(*(v for _, v in fin)))
        outputs = heads.decode(ms.outputs, h_f, EdgeFeatures(x_f, *fixed, d_f, memo), g_f, ctx)
        return ModelOutput(
            algorithm=batch.algorithm, outputs=outputs,
            hints={k: torch.stack(v, 1) for k, v in hint_raw.items()},
            final_step=final, halt_logits=torch.stack(halts, 1) if halts else None)

    def _hints_at(self, i: int, gt: dict[str, Tensor], prev: dict[str, Tensor], tf: float,
                  heads: AlgorithmHeads, ctx: Ctx, hard: bool) -> dict[str, Tensor]:
        """Encoder inputs (expanded, whole batch) of the hints at time ``i``: the ground truth at ``i = 0``;
        then the previous step's predictions, each sample taking the ground truth with probability ``tf``."""
        t = min(i, next(iter(gt.values())).shape[1] - 1)
        use_truth = i == 0 or tf >= 1.0
        force = None
        if not use_truth and tf > 0.0:
            force = torch.rand(ctx.node_mask.shape[0], generator=ctx.generator, device=ctx.node_mask.device) < tf
        cur = {}
        for k, enc in heads.encoders.items():
            if k not in gt:
                continue
            if use_truth:
                cur[k] = enc.ptype.expand(gt[k][:, t], enc.location, ctx)
                continue
            fb = enc.ptype.feedback(prev[k], hard)
            cur[k] = fb if force is None else torch.where(
                _lead(force, fb), enc.ptype.expand(gt[k][:, t], enc.location, ctx), fb)
        return cur

    # -- loss ----------------------------------------------------------------------------------
    def loss(self, out: ModelOutput, batch) -> dict[str, Tensor]:
        """CLRS losses: ``'output/<name>'``, ``'hint/<name>'`` per probe; ``'output'``, ``'hint'`` (sums
        over probes), ``'termination'`` (if the model has a halting head) and ``'total'`` (their sum).

        Each probe's loss is :func:`~nar.models.probe_types.probe_loss` (CLRS's, except 0 instead of NaN
        when no position counts).
        """
        heads = self.heads_for(batch.algorithm)
        ms = heads.mspec
        data = adapt(batch, ms)
        ctx = Ctx(batch.node_mask, self.training)
        res: dict[str, Tensor] = {}
        zero = batch.node_mask.new_zeros((), dtype=torch.float32)
        out_total, hint_total = zero, zero
        for k in ms.outputs:
            p = ms.probes[k]
            res[f"output/{k}"] = v = probe_loss(probe_type(p.type), out.outputs[k], data.outputs[k],
                                                ctx.loc_mask(p.location))
            out_total = out_total + v
        lengths = batch.lengths.to(batch.node_mask.device)
        for k, raw in out.hints.items():
            p = ms.probes[k]
            steps = torch.arange(raw.shape[1], device=raw.device)
            truth = data.hints[k].index_select(1, (steps + 1).clamp_max(data.hints[k].shape[1] - 1))
            res[f"hint/{k}"] = v = probe_loss(probe_type(p.type), raw, truth, ctx.loc_mask(p.location, timed=True),
                                              lengths)
            hint_total = hint_total + v
        res["output"], res["hint"] = out_total, hint_total
        total = out_total + hint_total
        if out.halt_logits is not None:
            s = out.halt_logits.shape[1]
            steps = torch.arange(s, device=lengths.device)[None, :]
            last = (lengths - 2).clamp_min(0)[:, None]
            target = (steps >= last).to(torch.float32)
            x = out.halt_logits
            bce = x.clamp_min(0) - x * target + torch.log1p(torch.exp(-x.abs()))
            w = (steps <= last).to(torch.float32)
            res["termination"] = v = (bce * w).sum() / w.sum().clamp_min(EPS)
            total = total + v
        res["total"] = total
        return res

    # -- hard predictions ----------------------------------------------------------------------
    def decode(self, out: ModelOutput, batch) -> Prediction:
        """Hard predictions of ``out`` in Batch conventions (see :class:`Prediction`)."""
        ms = self.heads_for(batch.algorithm).mspec
        ctx = Ctx(batch.node_mask)
        outputs = _hard(ms, out.outputs, ctx, timed=False)
        hints = {}
        for k, v in _hard(ms, out.hints, ctx, timed=True).items():
            hints[k] = torch.cat([batch.hints[k][:, :1].to(v.dtype), v], dim=1)
        return Prediction(batch.algorithm, outputs, hints, out.final_step)

    @contextlib.contextmanager
    def _evaluating(self):
        was = self.training
        self.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            self.train(was)

    def predict(self, batch, *, steps: str | int = "truth", max_steps: int | None = None,
                with_hints: bool = False) -> dict[str, Tensor] | Prediction:
        """Hard outputs ``{name: [B, ...]}`` in Batch conventions (eval mode, no teacher forcing, no grad);
        the full :class:`Prediction` (hints too) with ``with_hints=True``."""
        with self._evaluating():
            pred = self.decode(self(batch, 0.0, steps=steps, max_steps=max_steps), batch)
        return pred if with_hints else pred.outputs


def _rows(rows: Tensor | None):
    """``t -> t[rows]`` along the batch axis (identity when ``rows`` is None)."""
    return (lambda t: t) if rows is None else (lambda t: t.index_select(0, rows))


def _lead(mask: Tensor, like: Tensor) -> Tensor:
    """``[B]`` mask viewed to broadcast against ``like [B, ...]``."""
    return mask.view(mask.shape + (1,) * (like.dim() - 1))


def _hard(ms: ModelSpec, raw: dict[str, Tensor], ctx: Ctx, *, timed: bool) -> dict[str, Tensor]:
    """Hard predictions of model-spec probes, with permutations fused back to pointers."""
    out = {}
    for k, v in raw.items():
        p = ms.probes[k]
        out[k] = probe_type(p.type).hard(v, ctx.loc_mask(p.location, timed=timed))
    for name in ms.permutations:
        if name in out:
            own = torch.arange(out[name].shape[-1], device=out[name].device)
            fused = fuse_permutation(out[name], out.pop(name + "_mask"))
            out[name] = torch.where(ctx.loc_mask(ms.probes[name].location, timed=timed), fused, own)
    return out


__all__ = ["FEEDBACK_MODES", "HINT_MODES", "ModelOutput", "Prediction", "Reasoner"]
