"""Deep equilibrium algorithmic reasoner (DEAR; Georgiev et al., NeurIPS 2024, arXiv 2410.15059).

The inputs are encoded once (``x``); the state is the node latents ``h [B, N, H]``, started at zero; one
step is one application of any registered processor, ``h' = P(x, h)``.  A root solver
(:mod:`nar.models.solvers`) finds ``h* = P(x, h*)`` for every graph on its own, without a step count
and without hints, and the outputs are decoded from ``[x, h*, P(x, h*)]`` (and the processor's edge
latents there) by the same decoders as the step-wise :class:`~nar.models.reasoner.Reasoner`.
Gradients: implicit differentiation or the k-step phantom gradient (:mod:`nar.models.equilibrium`).

Optional parts: Jacobian regularisation (Hutchinson), alignment to a trained step-wise reasoner's
latents (:mod:`nar.models.alignment`) and Cayley graph propagation (:mod:`nar.models.cgp`).

    model = DEQReasoner("bellman_ford", processor="mpnn", config=DEQConfig(solver="anderson"))
    out = model(batch)                     # DEQOutput: outputs + per-graph iterations / residual / converged
    losses = model.loss(out, batch)        # {'total', 'output', 'output/<name>', 'jacobian', 'align'}
    pred = model.predict(batch, with_hints=True)   # DEQPrediction (nar.models.evaluate accepts the model)

Processor applications per graph at inference: ``iterations + 1`` (the solver's evaluations of ``P``,
then one application at ``h*`` for the decoders).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import Tensor

from .alignment import alignment_loss, sample_iterates, teacher_latents
from .cgp import CayleyAugment
from .equilibrium import GRADIENTS, fixed_point, jacobian_penalty
from .probe_types import Ctx
from .processors import Processor
from .reasoner import ModelOutput, Prediction, Reasoner
from .solvers import SolverConfig, SolverResult
from .spec import adapt


@dataclass(frozen=True)
class DEQConfig:
    """DEAR settings; strict: a bad name or value is an error, never ignored.

    Solver (see :class:`~nar.models.solvers.SolverConfig`): ``solver`` (fixed_point | anderson |
    broyden), ``tol`` with ``stop`` (rel | abs), ``max_iter`` (training), ``eval_max_iter``,
    ``memory``, ``beta``, ``lam``.  Defaults follow the DEAR paper (Anderson, m = 6, 40 / 160
    iterations) except ``tol`` (paper: 0.1 relative in ``deq.yaml``, 0.01 elsewhere; here 0.01).
    Gradient: ``grad`` (implicit | phantom), ``phantom_steps``, ``phantom_lambda``; the implicit
    backward solve uses ``backward_tol`` / ``backward_max_iter``.
    Regularisers: ``jacobian_weight`` (paper: 1e-4 when used), ``noise_std`` (Gaussian noise added to
    the state at every training step; paper: 1e-3), ``align_weight`` (paper: 0.01, 0.1 with CGP) with
    ``align_samples`` sampled solver iterates, ``cgp`` (Cayley graph propagation).
    """

    solver: str = "anderson"
    tol: float = 1e-2
    stop: str = "rel"
    max_iter: int = 40
    eval_max_iter: int = 160
    memory: int = 6
    beta: float = 1.0
    lam: float = 1e-4
    grad: str = "phantom"
    phantom_steps: int = 1
    phantom_lambda: float = 1.0
    backward_tol: float = 1e-4
    backward_max_iter: int = 40
    jacobian_weight: float = 0.0
    noise_std: float = 0.0
    align_weight: float = 0.0
    align_samples: int = 4
    cgp: bool = False

    def __post_init__(self):
        self.solver_config()  # validates the solver fields
        if self.grad not in GRADIENTS:
            raise ValueError(f"unknown gradient {self.grad!r}; valid: {list(GRADIENTS)}")
        if self.phantom_steps < 1 or not 0 < self.phantom_lambda <= 1:
            raise ValueError("phantom_steps must be >= 1 and phantom_lambda in (0, 1]")
        if not self.backward_tol > 0 or self.backward_max_iter < 1:
            raise ValueError("backward_tol must be > 0 and backward_max_iter >= 1")
        for key in ("jacobian_weight", "noise_std", "align_weight"):
            if not getattr(self, key) >= 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")
        if self.align_samples < 0:
            raise ValueError(f"align_samples must be >= 0, got {self.align_samples}")
        if not isinstance(self.cgp, bool):
            raise ValueError(f"cgp must be a bool, got {self.cgp!r}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> "DEQConfig":
        """Build from a mapping; an unknown key is an error (listing the valid ones)."""
        values = dict(values or {})
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(values) - set(valid))
        if unknown:
            raise ValueError(f"unknown DEQ config key(s) {unknown}; valid keys: {valid}")
        return cls(**values)

    def solver_config(self, *, keep_iterates: bool = False) -> SolverConfig:
        return SolverConfig(name=self.solver, tol=self.tol, stop=self.stop, max_iter=self.max_iter,
                            eval_max_iter=self.eval_max_iter, memory=self.memory, beta=self.beta, lam=self.lam,
                            keep_iterates=keep_iterates)

    def backward_config(self) -> SolverConfig:
        name = "fixed_point" if self.solver == "broyden" else self.solver
        return SolverConfig(name=name, tol=self.backward_tol, stop="abs", max_iter=self.backward_max_iter,
                            eval_max_iter=self.backward_max_iter, memory=self.memory, beta=self.beta, lam=self.lam)


@dataclass
class DEQOutput(ModelOutput):
    """:class:`~nar.models.reasoner.ModelOutput` (no hints) plus the solver's per-graph diagnostics.

    ``iterations [B]`` processor applications of the solver, ``residual [B]``, ``converged [B]``;
    ``final_step = iterations - 1``; ``aux``: regulariser terms (``'jacobian'``, ``'align'``) when on.
    """

    iterations: Tensor | None = None
    residual: Tensor | None = None
    converged: Tensor | None = None
    aux: dict[str, Tensor] = field(default_factory=dict)


@dataclass
class DEQPrediction(Prediction):
    """Hard predictions plus the solver's per-graph ``iterations``, ``residual``, ``converged``."""

    iterations: Tensor | None = None
    residual: Tensor | None = None
    converged: Tensor | None = None


class _Step:
    """``h -> P(x, h)`` for fixed encoded inputs; remembers the edge latents of its last call."""

    def __init__(self, processor: Processor, enc, mask: Tensor, noise: float, generator):
        self.processor, self.enc, self.mask = processor, enc, mask
        self.noise, self.generator = noise, generator
        self.edges: Tensor | None = None

    def select(self, rows: Tensor) -> "_Step":
        """The same step for the graphs ``rows`` only (the solver skips graphs that are done)."""
        return _Step(self.processor, self.enc.select(rows), self.mask.index_select(0, rows), self.noise,
                     self.generator)

    def __call__(self, h: Tensor) -> Tensor:
        e = self.enc
        new, self.edges = self.processor(e.node, e.edge, e.graph, e.adj, h, self.mask)
        if self.noise > 0:
            noise = torch.randn(new.shape, generator=self.generator, device=new.device, dtype=new.dtype)
            new = new + self.noise * noise * self.mask[..., None]
        return new


class DEQReasoner(Reasoner):
    """Equilibrium reasoner over one or several algorithms (shared processor, per-algorithm heads).

    ``algorithms``, ``processor``, ``hidden``, ``use_ln``, ``nb_triplet_fts``, ``nb_heads``,
    ``encoder_init``, ``enforce_permutations``, ``pred_as_input`` and ``max_dense_bytes`` are as for
    :class:`Reasoner` (the encoders and decoders are the same; hints are neither encoded nor decoded).

    Args:
        config: a :class:`DEQConfig` or a mapping of its fields (unknown keys are errors).
        teacher: a trained step-wise :class:`Reasoner` whose per-step latents the alignment loss
            targets (needed when ``config.align_weight > 0``; not a sub-module: not trained, not saved).
    """

    def __init__(self, algorithms: str | Sequence[str], processor: str | Processor = "mpnn", hidden: int = 128, *,
                 config: DEQConfig | Mapping[str, Any] | None = None, teacher: Reasoner | None = None,
                 use_ln: bool = True, nb_triplet_fts: int = 8, nb_heads: int = 1,
                 encoder_init: str = "xavier_on_scalars", enforce_permutations: bool = True,
                 pred_as_input: bool = True, max_dense_bytes: int | None = None):
        super().__init__(algorithms, processor, hidden, hint_mode="none", feedback="soft", use_ln=use_ln,
                         nb_triplet_fts=nb_triplet_fts, nb_heads=nb_heads, encoder_init=encoder_init,
                         dropout=0.0, termination=False, enforce_permutations=enforce_permutations,
                         pred_as_input=pred_as_input, max_dense_bytes=max_dense_bytes)
        self.config = config if isinstance(config, DEQConfig) else DEQConfig.from_dict(config)
        self.cgp = CayleyAugment(hidden) if self.config.cgp else None
        self._teacher: list[Reasoner] = []
        self._teacher_loader: Callable[[], Reasoner] | None = None
        if teacher is not None:
            self.set_teacher(teacher)

    def set_teacher(self, teacher: Reasoner | Callable[[], Reasoner] | None) -> None:
        """Set (or clear) the step-wise reasoner the alignment loss targets: a :class:`Reasoner`, or a
        function returning one, called when the teacher is first needed (the trainer passes one that
        loads a ``nar train`` run, so that this module never imports the training layer)."""
        self._teacher, self._teacher_loader = [], None
        if teacher is not None and not isinstance(teacher, Reasoner):
            if not callable(teacher):
                raise TypeError(f"teacher must be a Reasoner or a function returning one, got {type(teacher).__name__}")
            self._teacher_loader = teacher
            return
        if teacher is not None:
            if teacher.hidden != self.hidden:
                raise ValueError(f"teacher hidden width {teacher.hidden} != DEQ hidden width {self.hidden}")
            missing = [a for a in self.algorithms if a not in teacher.algorithms]
            if missing:
                raise ValueError(f"the teacher has no heads for {missing}; it was built for {teacher.algorithms}")
            for p in teacher.parameters():
                p.requires_grad_(False)
            self._teacher = [teacher]

    @property
    def teacher(self) -> Reasoner | None:
        if not self._teacher and self._teacher_loader is not None:
            self.set_teacher(self._teacher_loader())
        return self._teacher[0] if self._teacher else None

    # -- forward -------------------------------------------------------------------------------
    def forward(self, batch, teacher_forcing: float = 0.0, *, steps: str | int | None = None,
                max_steps: int | None = None, generator: torch.Generator | None = None) -> DEQOutput:
        """Solve for the fixed point of every graph of ``batch`` and decode its outputs.

        The model has no step count: ``steps`` must be None or ``'truth'`` (what :func:`evaluate`
        passes; it is not used) and ``max_steps`` is ignored; ``teacher_forcing`` is unused (no hints).
        ``generator``: for the state noise and the alignment's iterate sampling.
        """
        if steps not in (None, "truth"):
            raise ValueError(f"a DEQ reasoner takes no step count (steps={steps!r}); its solver decides")
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ValueError(f"teacher_forcing must be in [0, 1], got {teacher_forcing}")
        cfg = self.config
        heads = self.heads_for(batch.algorithm)
        ms = heads.mspec
        node_mask = batch.node_mask
        b, n = node_mask.shape
        data = adapt(batch, ms)
        ctx = Ctx(node_mask, self.training, generator)
        enc = heads.encode(data.inputs, ctx)
        penc, pmask = self.cgp.extend(enc, node_mask) if self.cgp is not None else (enc, node_mask)
        grad = torch.is_grad_enabled()
        self._check_memory(heads, b, pmask.shape[1], cfg.phantom_steps + 2 if grad else 1, node_mask.device)

        align = self.training and grad and cfg.align_weight > 0
        if align and self.teacher is None:
            raise ValueError("align_weight > 0 needs a teacher (DEQReasoner(..., teacher=...) or set_teacher)")
        step = _Step(self.processor, penc, pmask, cfg.noise_std if self.training else 0.0, generator)
        z0 = enc.node.new_zeros(b, pmask.shape[1], self.hidden)
        z, result = fixed_point(step, z0, cfg.solver_config(keep_iterates=align), pmask, grad=cfg.grad,
                                phantom_steps=cfg.phantom_steps, phantom_lambda=cfg.phantom_lambda,
                                backward_config=cfg.backward_config(), training=self.training)
        new = step(z)  # one more application at the fixed point: decoder inputs and edge latents
        edges = step.edges[:, :n, :n] if step.edges is not None else None
        aux: dict[str, Tensor] = {}
        if self.training and grad and cfg.jacobian_weight > 0:
            plain = _Step(self.processor, penc, pmask, 0.0, None)
            aux["jacobian"] = jacobian_penalty(plain, z, pmask, generator)
        if align:
            aux["align"] = self._alignment(batch, step, result, new, generator)

        h_t = torch.cat([enc.node, z[:, :n], new[:, :n]], dim=-1)
        e_t = enc.edge.with_dense(edges)
        outputs = heads.decode(ms.outputs, h_t, e_t, enc.graph, ctx)
        return DEQOutput(algorithm=batch.algorithm, outputs=outputs, hints={},
                         final_step=(result.iterations - 1).clamp_min(0), iterations=result.iterations,
                         residual=result.residual, converged=result.converged, aux=aux)

    def _alignment(self, batch, step: _Step, result: SolverResult, final: Tensor, generator) -> Tensor:
        """Mean over graphs of :func:`nar.models.alignment.alignment_loss`; each sampled iterate ``z_j``
        contributes ``P(x, z_j)`` (one differentiable application from the stored copy)."""
        n = batch.node_mask.shape[1]
        teacher = self.teacher
        if next(teacher.parameters()).device != batch.node_mask.device:  # not a sub-module: move it here
            teacher.to(batch.node_mask.device)
        latents, steps = teacher_latents(teacher, batch)
        count = min(self.config.align_samples, int((steps - 1).min()))
        idx = sample_iterates(result.iterations, count, generator)  # [B, K]
        ar = torch.arange(idx.shape[0], device=idx.device)
        if idx.shape[1]:
            stacked = torch.stack(result.iterates, 1)  # [B, I, C, H] (copies)
            sampled = torch.stack([step(stacked[ar, idx[:, j]]) for j in range(idx.shape[1])], 1)
        else:
            sampled = final.new_zeros(final.shape[0], 0, *final.shape[1:])
        loss, _ = alignment_loss(sampled[:, :, :n], final[:, :n], latents, steps, batch.node_mask)
        return loss.mean()

    # -- loss and predictions ------------------------------------------------------------------
    def loss(self, out: DEQOutput, batch) -> dict[str, Tensor]:
        """Output losses as :meth:`Reasoner.loss` plus ``'jacobian'`` and ``'align'`` (weighted, when on)."""
        res = super().loss(out, batch)
        weights = {"jacobian": self.config.jacobian_weight, "align": self.config.align_weight}
        for key, value in out.aux.items():
            res[key] = value
            res["total"] = res["total"] + weights[key] * value
        return res

    def decode(self, out: DEQOutput, batch) -> DEQPrediction:
        pred = super().decode(out, batch)
        return DEQPrediction(pred.algorithm, pred.outputs, pred.hints, pred.final_step,
                             iterations=out.iterations, residual=out.residual, converged=out.converged)

    def predict(self, batch, *, steps: str | int | None = None, max_steps: int | None = None,
                with_hints: bool = False):
        """Hard outputs ``{name: [B, ...]}``, or the :class:`DEQPrediction` with ``with_hints=True``
        (no hints: its ``hints`` are empty; it carries the solver diagnostics)."""
        with self._evaluating():
            pred = self.decode(self(batch, 0.0, steps=steps, max_steps=max_steps), batch)
        return pred if with_hints else pred.outputs


@dataclass
class SolverSummary:
    """Per-graph solver diagnostics over a sample set (CPU tensors, one entry per graph)."""

    iterations: Tensor
    residual: Tensor
    converged: Tensor

    @property
    def applications(self) -> Tensor:
        """Processor applications per graph at inference (solver evaluations + 1 for decoding)."""
        return self.iterations + 1

    def as_dict(self) -> dict[str, float]:
        it, res = self.iterations.to(torch.float64), self.residual.to(torch.float64)
        return {"iterations/mean": float(it.mean()), "iterations/median": float(it.median()),
                "iterations/max": float(it.max()), "residual/mean": float(res.mean()),
                "residual/median": float(res.median()), "residual/max": float(res.max()),
                "converged": float(self.converged.to(torch.float64).mean())}


def evaluate_deq(model: DEQReasoner, batches):
    """:func:`nar.models.evaluate` plus the solver's per-graph diagnostics: ``(Scores, SolverSummary)``."""
    from .evaluation import ScoreAccumulator

    if hasattr(batches, "algorithm"):
        batches = [batches]
    acc, its, res, conv = None, [], [], []
    for batch in batches:
        acc = acc or ScoreAccumulator(batch.algorithm)
        pred = model.predict(batch, with_hints=True)
        acc.add(pred, batch)
        its.append(pred.iterations.cpu())
        res.append(pred.residual.cpu())
        conv.append(pred.converged.cpu())
    if acc is None:
        raise ValueError("evaluate_deq needs at least one batch")
    return acc.result(), SolverSummary(torch.cat(its), torch.cat(res), torch.cat(conv))


# -- the trainer's model factory (nar.train.models) ------------------------------------------------
TRAIN_OPTIONS: dict[str, Any] = {**asdict(DEQConfig()), "teacher": None}
"""``model_options`` of ``nar train --model deq``: the :class:`DEQConfig` fields, and ``teacher`` (the
run directory of a trained step-wise reasoner, for the alignment loss).  Each is also a flag of
``nar train`` (``--solver``, ``--tol``, ``--max-iter``, ...; underscores become dashes), e.g.
``nar train --model deq --algorithm bellman_ford --solver anderson --tol 0.01``."""


def build_for_training(cfg, options: Mapping[str, Any],
                       load_teacher: Callable[[str], Reasoner] | None = None) -> DEQReasoner:
    """The DEQ reasoner of a :class:`nar.train.TrainConfig` (processor, width, encoders as for the
    step-wise reasoner; the hint settings do not apply: DEAR uses no hints) with ``options``
    (:data:`TRAIN_OPTIONS`).  ``load_teacher(path)`` turns the ``teacher`` option (a run directory)
    into a :class:`Reasoner` when the alignment loss first needs it.  A bad value is a
    :class:`nar.validation.InputError`."""
    from ..validation import InputError

    options = dict(options)
    teacher = options.pop("teacher", None)
    if cfg.step_count != "truth":
        raise InputError("model 'deq' has no termination head (its solver decides when to stop); "
                         "use step_count=truth (the step count is then not used at all)")
    try:
        config = DEQConfig.from_dict(options)
    except (TypeError, ValueError) as exc:
        raise InputError(f"model_options: {exc}") from None
    if config.align_weight > 0 and not teacher:
        raise InputError("model_options.align_weight > 0 needs model_options.teacher (a step-wise run directory)")
    if teacher and load_teacher is None:
        raise InputError("model_options.teacher needs a loader for run directories (build_for_training(..., load_teacher=...))")
    model = DEQReasoner(cfg.algorithms, processor=cfg.processor, hidden=cfg.hidden, config=config,
                        use_ln=cfg.use_ln, nb_triplet_fts=cfg.nb_triplet_fts, nb_heads=cfg.nb_heads,
                        encoder_init=cfg.encoder_init)
    if teacher:
        model.set_teacher(lambda: load_teacher(str(teacher)))
    return model


__all__ = ["DEQConfig", "DEQOutput", "DEQPrediction", "DEQReasoner", "SolverSummary", "TRAIN_OPTIONS", "build_for_training",
           "evaluate_deq"]
