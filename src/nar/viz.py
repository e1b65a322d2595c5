"""Figures of trajectories: one panel per recorded step (matplotlib, imported lazily).

Array algorithms (a node-level ``key``-like input and a ``pred_h`` list hint) are drawn as bars in
the current list order, as in the insertion-sort figure of the NAR blueprint (Velickovic, 2023):
the bar height is the key, coloured markers show the ``mask_one`` hints (e.g. current element and
insertion position) and the order is the one the ``pred_h`` pointers encode.  Graph algorithms are
drawn on a circular layout: edges of ``adj``, node colour from the first mask/categorical hint,
``mask_one`` hints as rings and pointer hints as arrows.  Anything else gets a heat map per hint.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .specs import Location, Stage, Type
from .trace import Trajectory

_HIGHLIGHT = ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown"]


def list_order(pred: np.ndarray) -> list[int]:
    """Nodes in the order encoded by predecessor pointers (head points to itself)."""
    n = len(pred)
    succ = {int(p): i for i, p in enumerate(pred) if p != i}
    heads = [i for i in range(n) if pred[i] == i]
    order: list[int] = []
    for h in heads:
        cur = h
        while cur is not None and cur not in order:
            order.append(cur)
            cur = succ.get(cur)
    return order + [i for i in range(n) if i not in order]


def _steps_to_show(T: int, max_panels: int) -> list[int]:
    if T <= max_panels:
        return list(range(T))
    return sorted(set(np.linspace(0, T - 1, max_panels).round().astype(int).tolist()))


def _node_hints(traj: Trajectory, type_: Type) -> list[str]:
    return [k for k, p in traj.spec.items()
            if p.stage == Stage.HINT and p.location == Location.NODE and p.type == type_]


def _array_key(traj: Trajectory) -> str | None:
    for k in ("key", "p", "s", "x", "d"):
        p = traj.spec.get(k)
        if p is not None and p.stage == Stage.INPUT and p.location == Location.NODE and p.type == Type.SCALAR:
            return k
    return None


def plot_trajectory(traj: Trajectory, path: str | Path, max_panels: int = 8) -> Path:
    """Write a PNG of ``traj``'s hints over time to ``path``; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = _steps_to_show(traj.length, max_panels)
    cols = min(4, len(steps))
    rows = (len(steps) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False)
    is_graph = "adj" in traj.inputs
    key = _array_key(traj)
    for ax, t in zip(axes.flat, steps):
        if is_graph:
            _graph_panel(ax, traj, t)
        elif key is not None and "pred_h" in traj.hints:
            _array_panel(ax, traj, t, key)
        else:
            _heat_panel(ax, traj, t)
        ax.set_title(f"{traj.name}  step {t}/{traj.length - 1}", fontsize=9)
    for ax in list(axes.flat)[len(steps):]:
        ax.axis("off")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=h)
               for h, c in zip(_node_hints(traj, Type.MASK_ONE), _HIGHLIGHT)]
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.05 if handles else 0, 1, 1))
    from .data.store import atomic_write

    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda put: put(buf.getbuffer()))  # a PNG whatever the name; no torn file
    return path


def _array_panel(ax, traj: Trajectory, t: int, key: str) -> None:
    order = list_order(traj.hints["pred_h"][t])
    keys = traj.inputs[key][order]
    ax.bar(range(len(order)), keys, color="lightgray", edgecolor="gray")
    ax.set_xticks(range(len(order)), [str(i) for i in order], fontsize=7)
    top = float(keys.max()) if len(keys) else 1.0
    for h, colour in zip(_node_hints(traj, Type.MASK_ONE), _HIGHLIGHT):
        node = int(np.argmax(traj.hints[h][t]))
        slot = order.index(node)
        ax.plot([slot], [top * 1.08 + 0.04 * _HIGHLIGHT.index(colour) * top], "v", color=colour, ms=7)
    ax.set_ylim(0, top * 1.35 + 1e-9)
    ax.set_xlabel("list order (node ids)", fontsize=7)


def _graph_panel(ax, traj: Trajectory, t: int) -> None:
    n = traj.n
    ang = 2 * np.pi * np.arange(n) / max(n, 1)
    xy = np.stack([np.cos(ang), np.sin(ang)], 1)
    adj = traj.inputs["adj"]
    for i, j in zip(*np.nonzero(adj)):
        if i < j or (adj[j, i] == 0 and i != j):
            ax.plot(*xy[[i, j]].T, color="0.85", lw=0.8, zorder=1)
    colour = np.full(n, 0.0)
    masks = _node_hints(traj, Type.MASK)
    cats = _node_hints(traj, Type.CATEGORICAL)
    if masks:
        colour = traj.hints[masks[0]][t]
    elif cats:
        colour = np.argmax(traj.hints[cats[0]][t], -1) / max(1, traj.hints[cats[0]].shape[-1] - 1)
    ax.scatter(*xy.T, c=colour, cmap="Blues", vmin=-0.2, vmax=1, s=160, edgecolors="k", zorder=2)
    for i in range(n):
        ax.text(*xy[i], str(i), ha="center", va="center", fontsize=7, zorder=4)
    for h, c in zip(_node_hints(traj, Type.MASK_ONE), _HIGHLIGHT):
        node = int(np.argmax(traj.hints[h][t]))
        ax.scatter(*xy[node], s=420, facecolors="none", edgecolors=c, lw=2, zorder=3)
    for h in _node_hints(traj, Type.POINTER)[:1]:
        ptr = traj.hints[h][t]
        for i, p in enumerate(ptr):
            if p != i:
                ax.annotate("", xy=xy[p], xytext=xy[i], zorder=3,
                            arrowprops=dict(arrowstyle="->", color="tab:red", lw=1.2, shrinkA=8, shrinkB=8))
    ax.set_aspect("equal")
    ax.axis("off")


def _heat_panel(ax, traj: Trajectory, t: int) -> None:
    rows, labels = [], []
    for k, p in traj.spec.items():
        if p.stage != Stage.HINT or p.location != Location.NODE:
            continue
        v = traj.hints[k][t]
        if p.type == Type.CATEGORICAL:
            v = np.argmax(v, -1) / max(1, v.shape[-1] - 1)
        elif p.type == Type.POINTER:
            v = v / max(1, traj.n - 1)
        rows.append(np.asarray(v, float))
        labels.append(k)
    if rows:
        ax.imshow(np.stack(rows), aspect="auto", cmap="viridis", vmin=0, vmax=1)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("node", fontsize=7)
    else:
        ax.axis("off")
