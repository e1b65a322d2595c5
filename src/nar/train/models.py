"""Model factory keyed by the config's ``model`` name: the one place a new model family plugs in.

A factory ``build(cfg: TrainConfig, options: dict) -> nn.Module`` returns a model with the
:class:`~nar.models.Reasoner` interface the trainer and the evaluators use::

    out = model(batch, teacher_forcing, generator=gen)       # raw predictions
    losses = model.loss(out, batch)                          # dict with a differentiable 'total'
    pred = model.predict(batch, steps=..., max_steps=..., with_hints=True)   # for nar.models.evaluate
    model.algorithms                                         # names it has heads for

``options`` are the config's ``model_options`` merged over the defaults given at registration; an
option not declared there is a configuration error.  The DEQ reasoner is registered (below) as::

    @register_model("deq", options=TRAIN_OPTIONS)       # nar.models.deq.TRAIN_OPTIONS: solver, tol, ...
    def build_deq(cfg, options): return build_for_training(cfg, options)

Each option of a registered model is also a ``nar train`` flag (``--solver``, ``--tol``, ...), valid
only with that ``--model``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from ..validation import InputError


@dataclass(frozen=True)
class ModelFactory:
    build: Callable[..., nn.Module]
    options: dict  # option name -> default


MODELS: dict[str, ModelFactory] = {}


def register_model(name: str, options: dict | None = None):
    """Decorator registering ``build(cfg, options) -> nn.Module`` as model ``name``."""
    def deco(build):
        if name in MODELS:
            raise ValueError(f"model {name!r} registered twice")
        MODELS[name] = ModelFactory(build, dict(options or {}))
        return build
    return deco


def check_model_options(name: str, options: dict) -> dict:
    """The model's options with defaults filled in; unknown ones raise an InputError."""
    factory = MODELS[name]
    unknown = sorted(set(options) - set(factory.options))
    if unknown:
        allowed = ", ".join(factory.options) or "none"
        raise InputError(f"unknown model_options {unknown} for model {name!r}; allowed: {allowed}")
    return {**factory.options, **options}


def build_model(cfg) -> nn.Module:
    """The model ``cfg.model`` for ``cfg`` (parameters drawn from torch's global RNG: seed it first)."""
    if cfg.model not in MODELS:
        raise InputError(f"unknown model {cfg.model!r}; valid: {', '.join(MODELS)}")
    return MODELS[cfg.model].build(cfg, check_model_options(cfg.model, cfg.model_options))


@register_model("reasoner")
def build_reasoner(cfg, options: dict) -> nn.Module:
    from ..models import Reasoner

    return Reasoner(cfg.algorithms, processor=cfg.processor, hidden=cfg.hidden, hint_mode=cfg.hint_mode,
                    feedback=cfg.feedback, use_ln=cfg.use_ln, nb_triplet_fts=cfg.nb_triplet_fts,
                    nb_heads=cfg.nb_heads, encoder_init=cfg.encoder_init, dropout=cfg.dropout,
                    termination=cfg.step_count == "learned")


def _deq_options() -> dict:
    from ..models.deq import TRAIN_OPTIONS

    return dict(TRAIN_OPTIONS)


@register_model("deq", options=_deq_options())
def build_deq(cfg, options: dict) -> nn.Module:
    """DEAR (:mod:`nar.models.deq`): the processor's fixed point found by a root solver; no hints, no
    step count.  ``model_options``: the :class:`~nar.models.deq.DEQConfig` fields and ``teacher``."""
    from ..models.deq import build_for_training
    from .inference import load

    return build_for_training(cfg, options, load_teacher=lambda run: load(run).model)


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DistributedDataParallel wrapper (or the model itself)."""
    return getattr(model, "module", model)
