"""Parameters of the reference CLRS model (dm-clrs ``nets.Net``, Haiku) to and from a :class:`Reasoner`.

    params = clrs_params(model)             # {haiku module: {'w' | 'b' | 'scale' | 'offset': array}}
    load_clrs_params(model, params)         # the inverse; refuses missing / unexpected / mis-shaped

The reference's layout (``net/~_construct_encoders_decoders/algo_<i>_<probe>_{enc,dec}_linear[_k]`` and
``net/<kind>_clrs_processor/{linear[_k], mlp/~/linear_k, layer_norm}``; Haiku ``w`` is ``[in, out]``, the
transpose of torch's weight) maps onto nar's parameters one to one, except:

* an edge-pointer encoder is two Haiku linears (one per node axis); nar holds one linear with two input
  channels: the weights are its columns, the two biases are summed (exported as ``[bias, 0]``);
* biases that are constant over a softmax axis (the score layer of pointer decoders, node ``mask_one``
  decoders) and the graph-pointer decoder's node-max and graph terms have no effect on any prediction,
  loss or gradient; nar has no such parameters: they are checked for shape and ignored on loading and
  exported as zeros.

Processors: those both libraries have (:data:`PROCESSOR_LAYOUT`); the Haiku linears of a processor are
numbered in creation order, which the table lists.  ``tests/golden`` proves the layout (processors,
and a whole bfs forward pass).  nar never imports the reference: parameters travel as numpy arrays.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch

from ..validation import InputError
from .probe_types import (EdgeLinearDecoder, EdgePointerDecoder, GraphLinearDecoder, GraphPointerDecoder,
                          NodeLinearDecoder, NodePointerDecoder, Pointer)
from ..specs import Location

_PGN_BASE = ("m1", "m2", "me", "mg", "o1", "o2")
_TRIPLETS = ("t1", "t2", "t3", "te1", "te2", "te3", "tg", "o3")
_GATES = ("g1", "g2", "g3")
_GAT = ("values", "skip", "a1", "a2", "ae", "ag")
_GATV2 = ("values", "skip", "w1", "w2", "we", "wg")  # + one Linear(1) per head
# nar processor -> (the reference's module name, nar attribute of each top-level Haiku linear in creation order)
PROCESSOR_LAYOUT: dict[str, tuple[str, tuple[str, ...]]] = {
    "deepsets": ("mpnn_aggr_clrs_processor", _PGN_BASE),
    "mpnn": ("mpnn_aggr_clrs_processor", _PGN_BASE),
    "pgn": ("mpnn_aggr_clrs_processor", _PGN_BASE),
    "triplet_mpnn": ("mpnn_aggr_clrs_processor", _PGN_BASE + _TRIPLETS),
    "triplet_gmpnn": ("mpnn_aggr_clrs_processor", _PGN_BASE + _TRIPLETS + _GATES),
    "gmpnn": ("mpnn_aggr_clrs_processor", _PGN_BASE + _GATES),
    "gpgn": ("mpnn_aggr_clrs_processor", _PGN_BASE + _GATES),
    "triplet_pgn": ("mpnn_aggr_clrs_processor", _PGN_BASE + _TRIPLETS),
    "triplet_gpgn": ("mpnn_aggr_clrs_processor", _PGN_BASE + _TRIPLETS + _GATES),
    # CLRS PGNMask: the same step and parameters as its base (only the decoders' inf_bias differs)
    "pgn_mask": ("mpnn_aggr_clrs_processor", _PGN_BASE),
    "gpgn_mask": ("mpnn_aggr_clrs_processor", _PGN_BASE + _GATES),
    "triplet_pgn_mask": ("mpnn_aggr_clrs_processor", _PGN_BASE + _TRIPLETS),
    "triplet_gpgn_mask": ("mpnn_aggr_clrs_processor", _PGN_BASE + _TRIPLETS + _GATES),
    "gat": ("gat_aggr_clrs_processor", _GAT),
    "gat_full": ("gat_aggr_clrs_processor", _GAT),
    "gatv2": ("gatv2_aggr_clrs_processor", _GATV2),
    "gatv2_full": ("gatv2_aggr_clrs_processor", _GATV2),
}

# decoder class -> nar layer of each Haiku linear (``None``: a reference linear without effect, see above)
_DECODER_PARTS = [  # subclasses before their bases
    (EdgePointerDecoder, ("a", "b", "edge", "tgt", "score")),
    (EdgeLinearDecoder, ("a", "b", "edge")),
    (NodePointerDecoder, ("src", "dst", "edge", "score")),
    (NodeLinearDecoder, ("lin",)),
    (GraphLinearDecoder, ("a", "b")),
    (GraphPointerDecoder, (None, None, "lin")),
]


class ReferenceParamsError(InputError):
    """Parameters in the reference's layout do not fit the model (missing, unexpected or mis-shaped)."""


@dataclass(frozen=True)
class _Slot:
    """One reference parameter and where it lives in nar.

    ``kind``: ``'T'`` (transpose of ``name``), ``'='`` (a copy), ``'row'`` / ``'col'`` (row / column
    ``index`` of ``name``), ``'sum'`` (one of the summands of ``name``; ``index`` 0 carries it on export) or
    ``'drop'`` (no nar counterpart: ignored, exported as zeros)."""

    module: str
    leaf: str
    kind: str
    name: str | None
    index: int | None
    shape: tuple[int, ...]


def _linear(module: str, layer: str, state: dict, drop_bias_shape: tuple[int, ...] | None = None) -> list[_Slot]:
    w = state[f"{layer}.weight"]
    slots = [_Slot(module, "w", "T", f"{layer}.weight", None, tuple(w.shape[::-1]))]
    if f"{layer}.bias" in state:
        slots.append(_Slot(module, "b", "=", f"{layer}.bias", None, tuple(state[f"{layer}.bias"].shape)))
    else:  # nar's layer has no bias: constant over a softmax axis in the reference
        slots.append(_Slot(module, "b", "drop", None, None, (w.shape[0],)))
    return slots


def _numbered(base: str, k: int) -> str:
    return base if k == 0 else f"{base}_{k}"


def _processor_slots(model, state: dict, prefix: str) -> list[_Slot]:
    kind = model.processor.name
    if kind not in PROCESSOR_LAYOUT:
        raise ReferenceParamsError(
            f"processor {kind!r} has no counterpart in the reference's layout; supported: {sorted(PROCESSOR_LAYOUT)}")
    mod, order = PROCESSOR_LAYOUT[kind]
    root = f"{prefix}/{mod}"
    slots: list[_Slot] = []
    for k, attr in enumerate(order):
        slots += _linear(f"{root}/{_numbered('linear', k)}", f"processor.{attr}", state)
    if "processor.att" in state:  # GATv2: one Linear(1) per head after the others, rows of `att`
        att = state["processor.att"]
        for h in range(att.shape[0]):
            m = f"{root}/linear_{len(order) + h}"
            slots += [_Slot(m, "w", "row", "processor.att", h, (att.shape[1], 1)),
                      _Slot(m, "b", "row", "processor.att_bias", h, (1,))]
    for k, attr in enumerate(("mlp1", "mlp2")):
        if f"processor.{attr}.weight" in state:
            slots += _linear(f"{root}/mlp/~/linear_{k}", f"processor.{attr}", state)
    if "processor.ln.weight" in state:
        slots += [_Slot(f"{root}/layer_norm", "scale", "=", "processor.ln.weight", None,
                        tuple(state["processor.ln.weight"].shape)),
                  _Slot(f"{root}/layer_norm", "offset", "=", "processor.ln.bias", None,
                        tuple(state["processor.ln.bias"].shape))]
    return slots


def _head_slots(model, state: dict, prefix: str) -> list[_Slot]:
    slots: list[_Slot] = []
    for i, alg in enumerate(model.algorithms):
        heads = model.heads[alg]
        root = f"{prefix}/~_construct_encoders_decoders/algo_{i}_"
        for probe, enc in heads.encoders.items():
            layer = f"heads.{alg}.encoders.{probe}.lin"
            base = f"{root}{probe}_enc_linear"
            if isinstance(enc.ptype, Pointer) and enc.location == Location.EDGE:  # two Haiku linears
                h = state[f"{layer}.weight"].shape[0]
                for k in range(2):
                    slots += [_Slot(_numbered(base, k), "w", "col", f"{layer}.weight", k, (1, h)),
                              _Slot(_numbered(base, k), "b", "sum", f"{layer}.bias", k, (h,))]
            else:
                slots += _linear(base, layer, state)
        for probe, dec in heads.decoders.items():
            parts = next((p for cls, p in _DECODER_PARTS if isinstance(dec, cls)), None)
            if parts is None:
                raise ReferenceParamsError(f"decoder {type(dec).__name__} of {alg}.{probe} has no counterpart "
                                           "in the reference's layout")
            base = f"{root}{probe}_dec_linear"
            for k, part in enumerate(parts):
                m = _numbered(base, k)
                if part is None:  # graph pointer: Linear(1) on max_i h_i (node width), then on the graph latent
                    width = state[f"heads.{alg}.decoders.{probe}.lin.weight"].shape[1] if k == 0 else model.hidden
                    slots += [_Slot(m, "w", "drop", None, None, (width, 1)), _Slot(m, "b", "drop", None, None, (1,))]
                else:
                    slots += _linear(m, f"heads.{alg}.decoders.{probe}.{part}", state)
    return slots


def _plan(model, prefix: str) -> list[_Slot]:
    """Every reference parameter of ``model``'s architecture; every nar parameter is covered exactly."""
    state = model.state_dict()
    slots = _processor_slots(model, state, prefix) + _head_slots(model, state, prefix)
    covered = {s.name for s in slots if s.name is not None}
    extra = sorted(set(state) - covered)
    if extra:
        raise ReferenceParamsError(f"the reference has no counterpart of these parameters of the model: {extra[:8]}"
                                   + (" ..." if len(extra) > 8 else "") + " (e.g. a termination head)")
    return slots


def clrs_params(model, *, prefix: str = "net") -> dict[str, dict[str, np.ndarray]]:
    """``model``'s parameters in the reference's Haiku layout (float32 numpy copies; see the module doc)."""
    state = {k: v.detach().cpu().to(torch.float32).numpy() for k, v in model.state_dict().items()}
    out: dict[str, dict[str, np.ndarray]] = {}
    for s in _plan(model, prefix):
        if s.kind == "T":
            v = state[s.name].T
        elif s.kind == "=":
            v = state[s.name]
        elif s.kind == "row":
            v = state[s.name][s.index].reshape(s.shape)
        elif s.kind == "col":
            v = state[s.name][:, s.index].reshape(s.shape)
        elif s.kind == "sum":
            v = state[s.name] if s.index == 0 else np.zeros(s.shape, np.float32)
        else:  # drop
            v = np.zeros(s.shape, np.float32)
        out.setdefault(s.module, {})[s.leaf] = np.array(v, dtype=np.float32, copy=True)
    return out


def no_effect_params(model, *, prefix: str = "net") -> list[str]:
    """The reference parameters (``'module/leaf'``) of ``model``'s architecture that have no effect on any
    prediction, loss or gradient (nar has no counterpart; see the module doc)."""
    return [f"{s.module}/{s.leaf}" for s in _plan(model, prefix) if s.kind == "drop"]


def _flatten(params) -> dict[tuple[str, str], np.ndarray]:
    if not isinstance(params, Mapping):
        raise ReferenceParamsError(f"params must be a mapping {{haiku module: {{name: array}}}}, "
                                   f"got {type(params).__name__}")
    flat = {}
    for mod, leaves in params.items():
        if not isinstance(leaves, Mapping):
            raise ReferenceParamsError(f"params[{mod!r}] must be a mapping {{name: array}}, got {type(leaves).__name__}")
        for leaf, v in leaves.items():
            flat[(str(mod), str(leaf))] = np.asarray(v)
    return flat


def _listing(keys) -> str:
    keys = [f"{m}/{l}" for m, l in sorted(keys)]
    return ", ".join(keys[:6]) + (f" ... ({len(keys)} in all)" if len(keys) > 6 else "")


def load_clrs_params(model, params: Mapping[str, Mapping[str, np.ndarray]], *, prefix: str = "net") -> None:
    """Set ``model``'s parameters from the reference's Haiku ``params`` (``{module: {leaf: array}}``).

    Every reference parameter of the architecture must be present with its exact shape, and nothing else;
    otherwise a :class:`ReferenceParamsError` names what is missing, unexpected or mis-shaped.
    """
    slots = _plan(model, prefix)
    flat = _flatten(params)
    by_key = {(s.module, s.leaf): s for s in slots}
    missing, unexpected = set(by_key) - set(flat), set(flat) - set(by_key)
    if missing or unexpected:
        msg = [f"params do not fit {model.processor.name} on {model.algorithms} (hidden {model.hidden})"]
        if missing:
            msg.append(f"missing: {_listing(missing)}")
        if unexpected:
            msg.append(f"unexpected: {_listing(unexpected)}")
        raise ReferenceParamsError("; ".join(msg))
    bad = [f"{m}/{l} {tuple(flat[(m, l)].shape)} (expected {s.shape})" for (m, l), s in sorted(by_key.items())
           if tuple(flat[(m, l)].shape) != s.shape]
    if bad:
        raise ReferenceParamsError("mis-shaped params: " + ", ".join(bad[:6]) + (" ..." if len(bad) > 6 else ""))
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for s in slots:
        if s.kind == "sum":
            state[s.name].zero_()
    for (m, l), s in by_key.items():
        if s.kind == "drop":
            continue
        t = state[s.name]
        v = torch.as_tensor(np.asarray(flat[(m, l)]), dtype=t.dtype, device=t.device)
        if s.kind == "T":
            t.copy_(v.T)
        elif s.kind == "=":
            t.copy_(v)
        elif s.kind == "row":
            t[s.index] = v.reshape(t[s.index].shape)
        elif s.kind == "col":
            t[:, s.index] = v.reshape(-1)
        else:  # sum
            t.add_(v)
    model.load_state_dict(state)


__all__ = ["PROCESSOR_LAYOUT", "ReferenceParamsError", "clrs_params", "load_clrs_params", "no_effect_params"]
