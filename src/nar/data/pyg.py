"""Export a trajectory to a PyTorch Geometric ``Data`` object (optional extra: ``pip install 'nar[pyg]'``).

:func:`to_pyg_dict` builds the plain dict of tensors; :func:`to_pyg` wraps it in
``torch_geometric.data.Data``.  Layout (``E`` edges, ``T`` hint steps):

- ``edge_index [2, E]`` int64: ``np.nonzero(adj)`` (edge ``(i, j)`` where ``adj[i, j] = 1``) for
  graph algorithms, every ordered pair ``(i, j)`` (self-loops included) otherwise;
- one entry ``"<stage>_<probe>"`` per probe (``input_pos``, ``hint_pi_h``, ``output_pi``), first
  axis the location so PyG batching concatenates them: node ``[N, ...]``, edge ``[E, ...]``
  (the value at ``(i, j)`` of each edge), graph ``[1, ...]``; hints put time second: ``[N, T, ...]``;
- ``num_nodes`` and ``length`` (T).

Pointer probes hold node indices local to the graph: PyG batching does not offset them (add
``batch.ptr[batch.batch]`` for node pointers).  Batching hints needs equal T: pass ``length=`` to
pad the time axis by repeating the last snapshot (the rule of :func:`nar.data.collate`).
"""
from __future__ import annotations

import numpy as np
import torch

from ..specs import Location, Stage
from ..trace import Trajectory

EDGE_MODES = ("auto", "adj", "complete")


def edge_index(traj: Trajectory, edges: str = "auto") -> np.ndarray:
    """``[2, E]`` int64 edge list of ``traj`` (see module docstring for ``edges``)."""
    if edges not in EDGE_MODES:
        raise ValueError(f"edges must be one of {EDGE_MODES}, got {edges!r}")
    if edges == "auto":
        edges = "adj" if "adj" in traj.inputs else "complete"
    if edges == "adj":
        if "adj" not in traj.inputs:
            raise ValueError(f"{traj.name} has no adj input; use edges='complete'")
        return np.stack(np.nonzero(traj.inputs["adj"])).astype(np.int64)
    n = traj.n
    return np.stack(np.divmod(np.arange(n * n, dtype=np.int64), n))


def to_pyg_dict(traj: Trajectory, edges: str = "auto", length: int | None = None) -> dict:
    """The tensors of ``traj`` in PyG's layout (module docstring); ``length`` pads hints to T."""
    T = traj.length
    if length is not None and length < T:
        raise ValueError(f"length={length} is shorter than the trajectory (T={T})")
    ei = edge_index(traj, edges)
    src, dst = ei
    out = {"edge_index": torch.from_numpy(ei), "num_nodes": traj.n, "length": T}
    for k, p in traj.spec.items():
        v = getattr(traj, p.stage.value + "s")[k]
        timed = p.stage == Stage.HINT
        if timed and length is not None and length > T:
            v = np.concatenate([v, np.repeat(v[-1:], length - T, axis=0)])
        if p.location == Location.EDGE:
            v = v[:, src, dst] if timed else v[src, dst]
        elif p.location == Location.GRAPH:
            v = v[None]  # a batch axis of 1: [1, ...] or [1, T, ...]
        if timed and p.location != Location.GRAPH:
            v = np.moveaxis(v, 0, 1)
        out[f"{p.stage.value}_{k}"] = torch.from_numpy(np.ascontiguousarray(v))
    return out


def to_pyg(traj: Trajectory, edges: str = "auto", length: int | None = None):
    """``torch_geometric.data.Data`` of ``traj`` (needs PyTorch Geometric)."""
    try:
        from torch_geometric.data import Data
    except ImportError as e:
        raise ImportError("nar.data.to_pyg needs PyTorch Geometric, which is not installed: "
                          "pip install 'nar[pyg]' (or pip install torch_geometric)") from e
    return Data(**to_pyg_dict(traj, edges, length))
