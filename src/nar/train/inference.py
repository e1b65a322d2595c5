"""Inference on a user's own input: ``model = nar.train.load(CHECKPOINT)``; ``model.predict(name, **inputs)``.

``inputs`` are exactly :func:`nar.execute`'s (e.g. ``A=`` a numpy adjacency matrix or a networkx graph
and ``s=`` a source node for ``bfs``).  The input probes (and, with ``step_count='truth'``, the number of
steps) are built by running the algorithm through :func:`nar.execute`; the model's hard predictions are
returned in :class:`nar.Trajectory` conventions (numpy, no batch axis: pointers ``int64`` node indices,
masks ``float32`` 0/1, mask_one / categorical one-hot ``float32``, scalars ``float32``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..specs import SPECS, Stage
from ..types import dtype_of
from ..validation import InputError
from . import checkpoint as ck
from .config import ConfigError, TrainConfig
from .ddp import pick_device
from .models import MODELS, build_model


class LoadedModel:
    """A trained model restored from a checkpoint, ready for :meth:`predict`."""

    def __init__(self, model: torch.nn.Module, config: TrainConfig, meta: dict, path: Path, device: torch.device):
        self.model, self.config, self.meta, self.path, self.device = model, config, meta, path, device

    @property
    def algorithms(self) -> list[str]:
        return list(self.config.algorithms)

    @property
    def step_count(self) -> str:
        """'truth' (ground-truth number of steps) or 'learned' (termination head)."""
        return self.config.step_count

    def __repr__(self) -> str:
        return (f"LoadedModel({self.config.model!r}, processor={self.config.processor!r}, "
                f"algorithms={self.algorithms}, step {self.meta.get('step')}, step_count={self.step_count!r})")

    def processor_module(self, **options):
        """This model's processor wrapped for reuse in one's own PyTorch model: a
        :class:`nar.blueprint.ProcessorModule` (``options`` as there: node_dim, edge_dim, frozen, steps, ...)."""
        from ..blueprint import ProcessorModule

        return ProcessorModule(self.model.processor, hidden=self.config.hidden, **options)

    def predict(self, name: str, **inputs) -> dict[str, np.ndarray]:
        """The model's outputs for algorithm ``name`` on ``inputs`` (the arguments of ``nar.execute``).

        With a networkx graph ``A``, ``s`` is a node label and the output rows follow
        ``nar.graph_nodes(A)`` (sorted labels); ``nar.to_labels(out["pi"], nar.graph_nodes(A))`` maps
        pointers back to labels."""
        from ..api import execute
        from ..data import collate

        if name not in self.config.algorithms:
            raise InputError(f"this model was trained on {self.algorithms}, not {name!r}")
        traj = execute(name, **inputs)
        batch = collate([traj]).to(self.device)
        if self.step_count == "learned":
            cap = self.config.learned_max_steps or 2 * batch.max_length
            out = self.model.predict(batch, steps="learned", max_steps=cap)
        else:
            out = self.model.predict(batch)
        return decode_outputs(name, out)


def decode_outputs(name: str, outputs: dict[str, torch.Tensor], index: int = 0) -> dict[str, np.ndarray]:
    """Sample ``index`` of batched hard outputs as Trajectory-convention numpy arrays."""
    res = {}
    for k, p in SPECS[name].items():
        if p.stage == Stage.OUTPUT:
            res[k] = outputs[k][index].detach().cpu().numpy().astype(dtype_of(p.type))
    return res


def load(path, device: str = "cpu", which: str = "best") -> LoadedModel:
    """The model of checkpoint ``path``: a checkpoint directory, or a run directory's ``which`` checkpoint
    ('best': best validation, the default; 'last').  A run without that checkpoint is a
    :class:`~nar.train.CheckpointError` saying which it has (no silent fallback).

    Everything read is verified (:mod:`nar.train.checkpoint`): the manifest's own hash, the weights'
    hash, and that the architecture config recorded in both agrees.

    The returned :class:`LoadedModel` has ``.predict(algorithm, **inputs)`` (the model's outputs on
    your own input, with :func:`nar.execute`'s arguments, e.g. ``A=`` a networkx graph and ``s=``),
    ``.model`` (the ``nn.Module``), ``.config`` and ``.processor_module(**options)`` (the processor
    wrapped for reuse, :class:`nar.blueprint.ProcessorModule`)::

        model = nar.load("runs/bfs")
        model.predict("bfs", A=graph, s=0)["pi"]
    """
    dev = pick_device(device)
    ckpt = ck.resolve(path, which)
    meta = ck.read_meta(ckpt)
    if meta.get("model") not in MODELS:
        raise ck.CheckpointError(f"{ckpt}: model {meta.get('model')!r} is not available here "
                                 f"(known models: {', '.join(MODELS)})")
    try:
        cfg = TrainConfig.from_dict(meta["config"], source=str(ckpt / ck.META))
    except (KeyError, ConfigError) as exc:
        raise ck.CheckpointError(f"{ckpt}: its configuration cannot be used here ({exc})") from None
    if cfg.model != meta.get("model") or list(cfg.algorithms) != list(meta.get("algorithms", [])):
        raise ck.CheckpointError(f"{ckpt / ck.META}: model/algorithms ({meta.get('model')!r}, "
                                 f"{meta.get('algorithms')}) disagree with its config ({cfg.model!r}, {cfg.algorithms})")
    with torch.random.fork_rng(devices=[]):  # initial weights are overwritten; leave the caller's RNG alone
        model = build_model(cfg)
    ck.load_weights(ckpt, model, meta)
    model.to(dev).eval()
    return LoadedModel(model, cfg, meta, ckpt, dev)
