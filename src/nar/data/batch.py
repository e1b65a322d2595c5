"""Collate trajectories of different sizes and lengths into one padded batch of torch tensors.

Shapes (B samples, N = max nodes, T = max trajectory length):
  node probes ``[B, N, ...]``, edge probes ``[B, N, N, ...]``, graph probes ``[B, ...]``;
  hints get a time axis after the batch axis: ``[B, T, ...]``.
Padding: float probes are 0 on padded nodes/edges; pointer probes point padded nodes at themselves
(so every pointer stays a valid index); hints of a finished sample repeat its last snapshot.
Masks say what is real: ``node_mask [B, N]``, ``edge_mask [B, N, N]``, ``time_mask [B, T]``.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np
import torch

from ..specs import SPECS, Location, Stage
from ..trace import Trajectory
from ..types import POINTER_TYPES


@dataclass
class Batch:
    algorithm: str
    inputs: dict[str, torch.Tensor]
    hints: dict[str, torch.Tensor]
    outputs: dict[str, torch.Tensor]
    lengths: torch.Tensor  # [B] int64, T of each sample
    n_nodes: torch.Tensor  # [B] int64
    node_mask: torch.Tensor  # [B, N] bool
    edge_mask: torch.Tensor  # [B, N, N] bool
    time_mask: torch.Tensor  # [B, T] bool

    @property
    def size(self) -> int:
        return int(self.lengths.shape[0])

    @property
    def max_nodes(self) -> int:
        return int(self.node_mask.shape[1])

    @property
    def max_length(self) -> int:
        return int(self.time_mask.shape[1])

    def _map(self, fn) -> "Batch":
        moved = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, dict):
                v = {k: fn(t) for k, t in v.items()}
            elif isinstance(v, torch.Tensor):
                v = fn(v)
            moved[f.name] = v
        return Batch(**moved)

    def to(self, device) -> "Batch":
        return self._map(lambda t: t.to(device, non_blocking=True))

    def pin_memory(self) -> "Batch":
        """Page-locked copy (called by ``DataLoader(pin_memory=True)``)."""
        return self._map(torch.Tensor.pin_memory)


def _pad(values: Sequence[np.ndarray], location: Location, is_pointer: bool, timed: bool,
         N: int, T: int) -> np.ndarray:
    """Stack per-sample arrays into one padded array (see module docstring for the rules)."""
    first = values[0]
    lead = 1 if timed else 0
    nloc = {Location.NODE: 1, Location.EDGE: 2, Location.GRAPH: 0}[location]
    tail = first.shape[lead + nloc:]
    shape = (len(values),) + ((T,) if timed else ()) + (N,) * nloc + tail
    if is_pointer:
        # padded positions point at themselves
        idx = np.arange(N)
        base = idx if location == Location.NODE else np.broadcast_to(idx[None, :], (N, N)) \
            if location == Location.EDGE else np.zeros((), np.int64)
        out = np.broadcast_to(base, shape).copy()
    else:
        out = np.zeros(shape, dtype=first.dtype)
    for b, v in enumerate(values):
        t = v.shape[0] if timed else None
        n = v.shape[lead] if nloc else 0
        sl = (b,) + ((slice(0, t),) if timed else ()) + (slice(0, n),) * nloc
        out[sl] = v
        if timed and t < T:  # repeat the last snapshot
            out[(b, slice(t, T)) + (slice(0, n),) * nloc] = v[-1]
    return out


def collate(trajectories: Sequence[Trajectory]) -> Batch:
    """Pad and stack trajectories of one algorithm into a :class:`Batch`."""
    if not trajectories:
        raise ValueError("collate needs at least one trajectory")
    name = trajectories[0].name
    if any(t.name != name for t in trajectories):
        raise ValueError(f"collate needs trajectories of one algorithm, got "
                         f"{sorted({t.name for t in trajectories})}")
    spec = SPECS[name]
    n_nodes = np.array([t.n for t in trajectories], dtype=np.int64)
    lengths = np.array([t.length for t in trajectories], dtype=np.int64)
    N, T = int(n_nodes.max()), int(lengths.max())
    groups: dict[Stage, dict[str, torch.Tensor]] = {Stage.INPUT: {}, Stage.HINT: {}, Stage.OUTPUT: {}}
    for k, p in spec.items():
        src = [getattr(t, p.stage.value + "s")[k] for t in trajectories]
        arr = _pad(src, p.location, p.type in POINTER_TYPES, p.stage == Stage.HINT, N, T)
        groups[p.stage][k] = torch.from_numpy(arr)
    node_mask = torch.from_numpy(np.arange(N)[None, :] < n_nodes[:, None])
    time_mask = torch.from_numpy(np.arange(T)[None, :] < lengths[:, None])
    return Batch(
        algorithm=name,
        inputs=groups[Stage.INPUT], hints=groups[Stage.HINT], outputs=groups[Stage.OUTPUT],
        lengths=torch.from_numpy(lengths), n_nodes=torch.from_numpy(n_nodes),
        node_mask=node_mask, edge_mask=node_mask[:, :, None] & node_mask[:, None, :],
        time_mask=time_mask,
    )
