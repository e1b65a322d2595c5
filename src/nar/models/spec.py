"""The probe table a model sees, and the conversions between it and a :class:`~nar.data.Batch`.

CLRS's training pipeline rewrites two things before the network sees a sample; so do we:

* ``pred_as_input`` -- for the algorithms in :data:`nar.specs.PRED_AS_INPUT_ALGOS` the constant
  ``pred_h`` hint becomes a ``pred`` input (node pointer), taken from the first snapshot
  (CLRS ``process_pred_as_input``; Ibarz et al. 2022, "static hint elimination").
* ``enforce_permutations`` -- a ``should_be_permutation`` probe ``x`` (the sorts' ``pred``) becomes a
  ``permutation_pointer`` ``x`` (the first element points to the last, making a permutation matrix)
  plus a ``mask_one`` ``x_mask`` marking the first element (CLRS
  ``predecessor_to_cyclic_predecessor_and_first``).  Without it, it becomes a plain ``pointer``.

Model-side value conventions (``lead`` = ``[B]`` or ``[B, T]``): everything as in the Batch, except
``permutation_pointer`` -- a float one-hot ``lead + [N, N]`` -- and its ``_mask``.  Padded nodes of a
permutation point to themselves.  :func:`fuse_permutation` turns a decoded pair back into pointers.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import torch
from torch import Tensor

from ..specs import PRED_AS_INPUT_ALGOS, SPECS, Location, Probe, Stage, Type
from ..trace import CATEGORIES


@dataclass(frozen=True)
class ModelSpec:
    """Probe table of one algorithm as the model sees it (after the CLRS rewrites above)."""

    algorithm: str
    probes: Mapping[str, Probe]
    nb_classes: Mapping[str, int]  # categorical probes only
    permutations: tuple[str, ...]  # original should_be_permutation probes rewritten to perm + mask
    pred_as_input: bool  # whether pred_h was turned into a pred input

    def names(self, stage: Stage) -> tuple[str, ...]:
        return tuple(k for k, p in self.probes.items() if p.stage == stage)

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.names(Stage.INPUT)

    @property
    def hints(self) -> tuple[str, ...]:
        return self.names(Stage.HINT)

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.names(Stage.OUTPUT)


def model_spec(algorithm: str, *, enforce_permutations: bool = True, pred_as_input: bool = True) -> ModelSpec:
    """The :class:`ModelSpec` of ``algorithm`` (a CLRS-30 name)."""
    if algorithm not in SPECS:
        raise KeyError(f"unknown algorithm {algorithm!r}; valid names: {sorted(SPECS)}")
    spec = SPECS[algorithm]
    as_input = pred_as_input and algorithm in PRED_AS_INPUT_ALGOS and "pred_h" in spec
    probes: dict[str, Probe] = {}
    perms = []
    for name, p in spec.items():
        if as_input and name == "pred_h":
            continue
        if p.type == Type.SHOULD_BE_PERMUTATION:
            if p.location != Location.NODE:
                raise ValueError(f"{algorithm}.{name}: should_be_permutation must live on nodes")
            if enforce_permutations:
                probes[name] = Probe(p.stage, p.location, Type.PERMUTATION_POINTER)
                probes[name + "_mask"] = Probe(p.stage, p.location, Type.MASK_ONE)
                perms.append(name)
            else:
                probes[name] = Probe(p.stage, p.location, Type.POINTER)
        else:
            probes[name] = p
    if as_input:
        probes["pred"] = Probe(Stage.INPUT, Location.NODE, Type.POINTER)
    classes = {}
    for name, p in probes.items():
        if p.type == Type.CATEGORICAL:
            if (algorithm, name) not in CATEGORIES:
                raise KeyError(f"{algorithm}.{name}: number of classes unknown (nar.trace.CATEGORIES)")
            classes[name] = CATEGORIES[(algorithm, name)]
    return ModelSpec(algorithm, MappingProxyType(probes), MappingProxyType(classes), tuple(perms), as_input)


def cyclic_permutation(pointers: Tensor, node_mask: Tensor) -> tuple[Tensor, Tensor]:
    """Predecessor pointers of a linear order -> (permutation matrix, one-hot of the first element).

    ``pointers [..., N]`` int64 (the first element points to itself), ``node_mask [B, N]`` bool with
    ``B`` the leading dim of ``pointers``.  The first element is rewired to the last one (the real node
    nobody points to).  Returns float ``[..., N, N]`` and ``[..., N]``; padded nodes point to themselves.
    """
    n = pointers.shape[-1]
    mask = node_mask.view(node_mask.shape[:1] + (1,) * (pointers.dim() - 2) + (n,))
    onehot = torch.nn.functional.one_hot(pointers, n).to(torch.float32)
    # columns counted over real source rows only
    incoming = (onehot * mask.unsqueeze(-1).to(onehot.dtype)).sum(-2)
    last = torch.where(mask, incoming, torch.full_like(incoming, float("inf"))).argmin(-1)
    selfp = torch.diagonal(onehot, dim1=-2, dim2=-1) * mask
    first = selfp.argmax(-1)
    first_1h = torch.nn.functional.one_hot(first, n).to(torch.float32)
    last_1h = torch.nn.functional.one_hot(last, n).to(torch.float32)
    perm = onehot + first_1h.unsqueeze(-1) * (last_1h - first_1h).unsqueeze(-2)
    return perm, first_1h


def fuse_permutation(perm_pointers: Tensor, first: Tensor) -> Tensor:
    """CLRS ``fuse_perm_and_mask``: pointers where the first element (``first > 0.5``) points to itself.

    ``perm_pointers [..., N]`` int64 (row argmax of the permutation), ``first [..., N]`` one-hot.
    """
    idx = torch.arange(perm_pointers.shape[-1], device=perm_pointers.device)
    return torch.where(first > 0.5, idx.expand_as(perm_pointers), perm_pointers)


@dataclass
class ModelData:
    """A batch in model conventions (see module docstring), keyed by :class:`ModelSpec` names."""

    inputs: dict[str, Tensor]
    hints: dict[str, Tensor]  # [B, T, ...]
    outputs: dict[str, Tensor]


def adapt(batch, mspec: ModelSpec) -> ModelData:
    """Rewrite ``batch`` (a :class:`nar.data.Batch` of ``mspec.algorithm``) to model conventions."""
    if batch.algorithm != mspec.algorithm:
        raise ValueError(f"batch of {batch.algorithm!r} given to a model spec of {mspec.algorithm!r}")
    groups = {Stage.INPUT: dict(batch.inputs), Stage.HINT: dict(batch.hints), Stage.OUTPUT: dict(batch.outputs)}
    if mspec.pred_as_input:
        groups[Stage.INPUT]["pred"] = groups[Stage.HINT].pop("pred_h")[:, 0]
    for name in mspec.permutations:
        stage = mspec.probes[name].stage
        perm, first = cyclic_permutation(groups[stage][name], batch.node_mask)
        groups[stage][name] = perm
        groups[stage][name + "_mask"] = first
    out = {}
    for stage in (Stage.INPUT, Stage.HINT, Stage.OUTPUT):
        names = mspec.names(stage)
        missing = [k for k in names if k not in groups[stage]]
        if missing:
            raise KeyError(f"batch of {batch.algorithm!r} lacks {stage} probes {missing}")
        out[stage] = {k: groups[stage][k] for k in names}
    return ModelData(out[Stage.INPUT], out[Stage.HINT], out[Stage.OUTPUT])


def unbatch(values: Mapping[str, Tensor], batch, *, timed: bool = False) -> list[dict]:
    """Split Batch-convention tensors (e.g. :meth:`Reasoner.predict` outputs) into per-sample numpy
    arrays in :class:`~nar.trace.Trajectory` conventions: node axes cut to each sample's ``n``, and with
    ``timed=True`` (hints ``[B, T, ...]``) the time axis cut to its length."""
    spec = SPECS[batch.algorithm]
    out = []
    for b in range(batch.size):
        n, length = int(batch.n_nodes[b]), int(batch.lengths[b])
        sample = {}
        for k, v in values.items():
            loc = spec[k].location
            nloc = {Location.NODE: 1, Location.EDGE: 2, Location.GRAPH: 0}[loc]
            idx = (b,) + ((slice(0, length),) if timed else ()) + (slice(0, n),) * nloc
            sample[k] = v[idx].detach().cpu().numpy()
        out.append(sample)
    return out
