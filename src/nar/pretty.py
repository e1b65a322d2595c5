"""A readable text rendering of a trajectory (used by ``nar show``)."""
from __future__ import annotations

import numpy as np

from .specs import Location, Type
from .trace import Trajectory


def format_value(value: np.ndarray, type_: Type, location: Location) -> str:
    """Compact text for one probe value (no time axis)."""
    v = np.asarray(value)
    if type_ == Type.MASK_ONE:
        return f"@{int(np.argmax(v))}"
    if type_ == Type.CATEGORICAL:
        ids = np.argmax(v, -1)
        return str(ids.tolist())
    if type_ == Type.MASK:
        if location == Location.EDGE:
            return f"{int(v.sum())} of {v.size} set"
        return "".join("1" if x else "." for x in v.reshape(-1)) if v.ndim else str(int(v))
    if v.dtype.kind in "iu":
        if location == Location.EDGE:
            return f"[{v.shape[0]}x{v.shape[1]} pointers] row 0: {v[0].tolist()}"
        return str(v.tolist())
    if location == Location.EDGE:
        return f"[{v.shape[0]}x{v.shape[1]}] nonzero={int(np.count_nonzero(v))} max={v.max():.3g}"
    if v.ndim == 0:
        return f"{float(v):.3f}"
    return "[" + " ".join(f"{x:.2f}" for x in v.tolist()) + "]"


def format_trajectory(traj: Trajectory, max_steps: int = 40) -> str:
    """Inputs, then every hint step (only the hints that changed after step 0), then outputs."""
    spec = traj.spec
    lines = [f"{traj.name}: n={traj.n}, T={traj.length} hint steps"]
    lines.append("inputs:")
    for k, v in traj.inputs.items():
        lines.append(f"  {k:<12} {format_value(v, spec[k].type, spec[k].location)}")
    lines.append("hints:")
    shown = range(traj.length) if traj.length <= max_steps else \
        list(range(max_steps // 2)) + list(range(traj.length - max_steps // 2, traj.length))
    prev = None
    for t in shown:
        if prev is not None and t != prev + 1:
            lines.append(f"  ... {t - prev - 1} steps not shown ...")
        parts = []
        for k, v in traj.hints.items():
            if t == 0 or not np.array_equal(v[t], v[t - 1]):
                parts.append(f"{k}={format_value(v[t], spec[k].type, spec[k].location)}")
        lines.append(f"  t={t:<3} " + ("  ".join(parts) if parts else "(no change)"))
        prev = t
    lines.append("outputs:")
    for k, v in traj.outputs.items():
        lines.append(f"  {k:<12} {format_value(v, spec[k].type, spec[k].location)}")
    return "\n".join(lines)
