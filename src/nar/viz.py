"""Figures of trajectories: one panel per recorded step (matplotlib, imported lazily).

Each family gets a view a newcomer can read without the code, and every encoding used (fill,
rings, arrows, markers, colours) gets a legend entry:

* graphs (an ``adj`` input): nodes on a circle (node 0 at the top, clockwise); grey edges (arrow
  heads when directed) labelled with their weight ``A`` when the graph is weighted; node fill from
  the ``color`` hint or up to two node masks (e.g. ``mark`` / ``in_queue``); ``mask_one`` hints as
  coloured rings; the first pointer hint (e.g. ``pi_h``, parents) as red arrows; edge masks (e.g.
  ``in_mst_h``) as thick green edges; the source ``s`` as a square; the first node scalar hint
  (e.g. the distance ``d``) printed beside each node it is set for.  For n > 16 weights and values
  are left out (the title says so), and node ids beyond n = 32.
* geometry (``x``, ``y`` inputs): the same drawing at the points' coordinates, with axes.
* matrices (an edge-level scalar hint: the DP tables ``m``, ``c``, ``e`` and Floyd-Warshall's
  ``D``): a heat map with a colour bar, not-yet-computed cells blank, ``mask_one`` hints as
  highlighted rows and columns.
* strings (a ``string`` input): the text above, the pattern below at the current shift, one letter
  per cell, ``mask_one`` hints as markers.
* activity selection: one interval [s, f) per activity.
* other arrays (a node-level ``key``-like input and a ``pred_h`` hint): bars in the list order the
  ``pred_h`` pointers encode, as in the insertion-sort figure of the NAR blueprint (Velickovic,
  2023), ``mask_one`` hints as markers above the bars, node masks (e.g. ``selected_h``) as bar fill.
* anything else: a heat map of every node hint (scaled to [0, 1]) with a colour bar.

When the trajectory has more steps than panels, the title says which steps are shown out of how many.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .optional import require
from .specs import Location, Stage, Type
from .trace import CATEGORIES, Trajectory

_HIGHLIGHT = ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown"]
_POINTER_COLOUR = "tab:red"
_FILL = ("#1f3b73", "#9ecae1")  # first node mask, second node mask (when the first is 0)
_EMPTY = "white"
_CATEGORY_FILL = ("white", "#9e9e9e", "#262626", "#e6ab02", "#66a61e")
_LABEL_N = 16  # beyond this many nodes, weights and values are not printed
_ID_N = 32  # beyond this many nodes, node ids are not printed either

# What a probe means, for legends (keyed by name, or by (algorithm, name) where names differ).
_MEANING = {
    "pi_h": "parent", "pi": "parent", "s_prev": "previous on stack", "topo_h": "next in order",
    "scc_id_h": "component root", "stack_prev": "previous on stack",
    "reach_h": "reached", "mark": "settled", "in_queue": "in queue", "msk": "distance known",
    "is_cut_h": "cut vertex", "mask_u": "in u's tree", "mask_v": "in v's tree",
    "in_hull_h": "on hull", "on_seg": "on segment", "selected_h": "selected",
    "in_mst_h": "in MST", "is_bridge_h": "bridge", "A_t": "transposed edge",
    "d": "distance", "key": "key", ("task_scheduling", "w"): "penalty weight", ("dfs", "d"): "discovery time",
    ("articulation_points", "d"): "discovery time", ("bridges", "d"): "discovery time",
    ("strongly_connected_components", "d"): "discovery time",
    "A": "edge weight", "D": "shortest distance so far", "m": "cost m[i, j]",
    "c": "LCS length c[i, j]", "e": "expected cost e[i, j]",
    ("task_scheduling", "d"): "deadline",
}
_COLOR_NAMES = ("white (unvisited)", "grey (discovered)", "black (finished)")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _meaning(traj: Trajectory, name: str) -> str:
    what = _MEANING.get((traj.name, name), _MEANING.get(name))
    return f"{name} ({what})" if what else name


def list_order(pred: np.ndarray) -> list[int]:
    """Nodes in the order encoded by predecessor pointers (head points to itself)."""
    n = len(pred)
    succ = {int(p): i for i, p in enumerate(pred) if p != i}
    heads = [i for i in range(n) if pred[i] == i]
    order: list[int] = []
    seen: set[int] = set()
    for h in heads:
        cur = h
        while cur is not None and cur not in seen:
            order.append(cur)
            seen.add(cur)
            cur = succ.get(cur)
    return order + [i for i in range(n) if i not in seen]


def _steps_to_show(T: int, max_panels: int) -> list[int]:
    if T <= max_panels:
        return list(range(T))
    return sorted(set(np.linspace(0, T - 1, max_panels).round().astype(int).tolist()))


def steps_caption(steps: list[int], T: int) -> str:
    """``'all 7 steps shown'`` or ``'steps 0, 3, ..., 19 of 20 shown'`` (step 0 = the initial state)."""
    if len(steps) == T:
        return f"all {T} step{'s' if T != 1 else ''} shown"
    return f"steps {', '.join(map(str, steps))} of {T} shown ({len(steps)} of {T})"


def _hints(traj: Trajectory, loc: Location, type_: Type) -> list[str]:
    return [k for k, p in traj.spec.items() if p.stage == Stage.HINT and p.location == loc and p.type == type_]


def _node_hints(traj: Trajectory, type_: Type) -> list[str]:
    return _hints(traj, Location.NODE, type_)


def _array_key(traj: Trajectory) -> str | None:
    for k in ("key", "p", "s", "x", "d"):
        p = traj.spec.get(k)
        if p is not None and p.stage == Stage.INPUT and p.location == Location.NODE and p.type == Type.SCALAR:
            return k
    return None


def _view(traj: Trajectory) -> str:
    """Which drawing fits ``traj``: graph, points, matrix, string, intervals, array or heat."""
    if _hints(traj, Location.EDGE, Type.SCALAR):
        return "matrix"
    if "adj" in traj.inputs:
        return "graph"
    if "x" in traj.inputs and "y" in traj.inputs:
        return "points"
    if "string" in traj.inputs and "key" in traj.inputs:
        return "string"
    if "s" in traj.inputs and "f" in traj.inputs:
        return "intervals"
    if _array_key(traj) is not None and "pred_h" in traj.hints:
        return "array"
    return "heat"


def _text_colour(fill) -> str:
    """Black or white, whichever reads better on ``fill`` (relative luminance)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(fill)
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"


class _Legend:
    """Legend handles, one per label, added when drawn (so the legend shows what is drawn), and listed
    grouped by encoding (edges, fill, outline, source, rings, arrows, numbers), else in first-use order."""

    _GROUP = {"grey": 0, "thick": 0.5, "fill:": 1, "orange": 2, "square:": 3, "ring:": 4, "red": 5, "blue": 6}

    def __init__(self):
        self._handles: dict[str, object] = {}

    def add(self, label: str, handle) -> None:
        if label not in self._handles:
            handle.set_label(label)
            self._handles[label] = handle

    def _rank(self, label: str) -> float:
        rank = self._GROUP.get(label.split(" ", 1)[0], 0)
        if label.startswith("fill:"):  # first mask, then second mask, then neither
            rank += 0.2 * ("(and " in label) + 0.5 * label.endswith(" = 0")
        return rank

    @property
    def handles(self) -> dict[str, object]:
        return dict(sorted(self._handles.items(), key=lambda kv: self._rank(kv[0])))


def _line(**kw):
    from matplotlib.lines import Line2D

    return Line2D([], [], **kw)


def _patch(**kw):
    from matplotlib.patches import Patch

    return Patch(**kw)


def trajectory_figure(traj: Trajectory, max_panels: int = 8):
    """The matplotlib Figure of ``traj``'s hints over time (at most ``max_panels`` steps)."""
    require("matplotlib", "drawing a trajectory (nar show --png)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    view = _view(traj)
    steps = _steps_to_show(traj.length, max_panels)
    cols = min(4, len(steps))
    rows = (len(steps) + cols - 1) // cols
    w, h = {"graph": (4.0, 4.0), "points": (4.0, 3.8), "matrix": (4.2, 3.6)}.get(view, (3.8, 3.2))
    fig, axes = plt.subplots(rows, cols, figsize=(max(w * cols, 8.0), h * rows + 1.0), squeeze=False, layout="constrained")
    legend = _Legend()
    notes: list[str] = []
    draw = {"graph": _graph_panel, "points": _graph_panel, "matrix": _matrix_panel, "string": _string_panel,
            "intervals": _interval_panel, "array": _array_panel, "heat": _heat_panel}[view]
    for ax, t in zip(axes.flat, steps):
        draw(ax, traj, t, legend, notes)
        ax.set_title(f"step {t}" + _graph_scalars(traj, t), fontsize=9)
    for ax in list(axes.flat)[len(steps):]:
        ax.axis("off")
    title = f"{traj.name}, n = {traj.n}: {steps_caption(steps, traj.length)}; step 0 = initial state"
    notes = list(dict.fromkeys(notes))
    fig.suptitle(title + ("\n" + "; ".join(notes) if notes else ""), fontsize=10)
    if legend.handles:
        longest = max(len(label) for label in legend.handles)  # columns that fit the figure's width
        ncol = max(1, min(4, len(legend.handles), int(fig.get_figwidth() / (0.062 * longest + 0.7))))
        fig.legend(handles=list(legend.handles.values()), loc="outside lower center", ncol=ncol, fontsize=8,
                   frameon=False)
    return fig


def plot_trajectory(traj: Trajectory, path: str | Path, max_panels: int = 8) -> Path:
    """Write a PNG of ``traj``'s hints over time to ``path``; returns the path."""
    require("matplotlib", "drawing a trajectory (nar show --png)")
    import matplotlib.pyplot as plt

    from .data.store import atomic_write

    fig = trajectory_figure(traj, max_panels)
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda put: put(buf.getbuffer()))  # a PNG whatever the name; no torn file
    return path


def _graph_scalars(traj: Trajectory, t: int) -> str:
    """Graph-level values at step ``t`` for the panel title, e.g. ``'  (target = 0.42, sum = 1.3)'``."""
    parts = []
    for k, p in traj.spec.items():
        if p.location != Location.GRAPH or p.stage == Stage.OUTPUT:
            continue
        v = np.asarray(traj.hints[k][t] if p.stage == Stage.HINT else traj.inputs[k])
        if p.type == Type.CATEGORICAL:
            parts.append(f"{k} = {int(np.argmax(v))}")
        elif p.type == Type.MASK:
            parts.append(f"{k} = {int(v)}")
        else:
            parts.append(f"{k} = {float(v):.2f}")
    return f"\n({', '.join(parts)})" if parts else ""


def _mask_one_markers(ax, traj: Trajectory, t: int, legend: _Legend, at, marker="v") -> None:
    """A coloured marker per ``mask_one`` hint at ``at(node, k)`` (k = the hint's index)."""
    for k, (h, c) in enumerate(zip(_node_hints(traj, Type.MASK_ONE), _HIGHLIGHT)):
        node = int(np.argmax(traj.hints[h][t]))
        ax.plot(*at(node, k), marker, color=c, ms=8, ls="", zorder=5)
        legend.add(f"{h} (marker)", _line(marker=marker, color=c, ms=8, ls=""))


# -- graphs and point sets ---------------------------------------------------------------------


def _layout(traj: Trajectory) -> np.ndarray:
    if "adj" not in traj.inputs:
        return np.stack([traj.inputs["x"], traj.inputs["y"]], 1).astype(float)
    ang = np.pi / 2 - 2 * np.pi * np.arange(traj.n) / max(traj.n, 1)
    return np.stack([np.cos(ang), np.sin(ang)], 1)


def _node_fill(traj: Trajectory, t: int, legend: _Legend) -> np.ndarray:
    """Fill colour per node: the ``color`` categorical hint, else up to two node masks."""
    n = traj.n
    fill = np.full(n, _EMPTY, dtype=object)
    cats = _node_hints(traj, Type.CATEGORICAL)
    if cats:
        h = cats[0]
        cls = np.argmax(traj.hints[h][t], -1)
        names = _COLOR_NAMES if h == "color" else [f"{h} = {c}" for c in range(len(_CATEGORY_FILL))]
        cls = cls % len(_CATEGORY_FILL)
        for c in range(min(CATEGORIES.get((traj.name, h), 3), len(_CATEGORY_FILL))):
            legend.add(f"fill: {names[c]}", _patch(facecolor=_CATEGORY_FILL[c], edgecolor="k"))
        fill[:] = [_CATEGORY_FILL[c] for c in cls]
        return fill
    masks = _node_hints(traj, Type.MASK)[:2]
    state = np.full(n, len(masks))  # index of the first mask that is on; len(masks) = none
    for k in reversed(range(len(masks))):
        state[traj.hints[masks[k]][t] > 0.5] = k
    fill[state < len(masks)] = np.array(_FILL, dtype=object)[state[state < len(masks)]]
    names = [f"fill: {_meaning(traj, masks[0])} = 1"] if masks else []
    if len(masks) > 1:
        names.append(f"fill: {_meaning(traj, masks[1])} = 1 (and {masks[0]} = 0)")
    for k in np.unique(state):  # only the states drawn somewhere get an entry
        if k < len(masks):
            legend.add(names[k], _patch(facecolor=_FILL[k], edgecolor="k"))
        elif masks:
            legend.add("fill: " + " = ".join(masks) + " = 0", _patch(facecolor=_EMPTY, edgecolor="k"))
    return fill


def _graph_panel(ax, traj: Trajectory, t: int, legend: _Legend, notes: list[str]) -> None:
    n = traj.n
    xy = _layout(traj)
    labels = n <= _LABEL_N
    if not labels:
        notes.append(f"n > {_LABEL_N}: edge weights and node values not printed"
                     + (f", node ids not printed (n > {_ID_N})" if n > _ID_N else ""))
    if "adj" in traj.inputs:
        _edges(ax, traj, t, xy, legend, labels)
    elif traj.name == "segments_intersect":
        for k, (a, b) in enumerate(((0, 1), (2, 3))):
            if b < n:
                ax.plot(*xy[[a, b]].T, color=("0.45", "0.7")[k], lw=2, zorder=1, ls=("-", "--")[k])
                legend.add(f"segment {a}-{b}", _line(color=("0.45", "0.7")[k], lw=2, ls=("-", "--")[k]))
    fill = _node_fill(traj, t, legend)
    size = min(200.0, (320.0 / max(n, 1)) ** 2)
    source = np.zeros(n, bool)
    if "s" in traj.inputs and traj.spec["s"].type == Type.MASK_ONE:
        source = traj.inputs["s"] > 0.5
        legend.add("square: source s", _line(marker="s", ls="", mfc="white", mec="k", ms=9))
    for shape, sel in (("o", ~source), ("s", source)):
        if sel.any():
            ax.scatter(*xy[sel].T, c=list(fill[sel]), marker=shape, s=size * (1.3 if shape == "s" else 1),
                       edgecolors="k", linewidths=1, zorder=3)
    outlined = _node_hints(traj, Type.MASK)[:1] if _node_hints(traj, Type.CATEGORICAL) else []
    for h in outlined:  # the fill shows the categorical hint, so a node mask (e.g. is_cut_h) gets an outline
        on = traj.hints[h][t] > 0.5
        if on.any():
            ax.scatter(*xy[on].T, s=size * 1.7, facecolors="none", edgecolors="tab:orange", lw=3, zorder=3.5)
            legend.add(f"orange outline: {_meaning(traj, h)} = 1",
                       _line(marker="o", ls="", mfc="none", mec="tab:orange", mew=3, ms=9))
    if n <= _ID_N:
        for i in range(n):
            ax.text(*xy[i], str(i), ha="center", va="center", fontsize=7 if n <= _LABEL_N else 5, zorder=6,
                    color=_text_colour(fill[i]))
    for k, (h, c) in enumerate(zip(_node_hints(traj, Type.MASK_ONE), _HIGHLIGHT)):
        node = int(np.argmax(traj.hints[h][t]))
        ax.scatter(*xy[node], s=size * (2.2 + 0.8 * k), facecolors="none", edgecolors=c, lw=2, zorder=4)
        legend.add(f"ring: {h}", _line(marker="o", ls="", mfc="none", mec=c, mew=2, ms=11))
    pointers = [h for h in _node_hints(traj, Type.POINTER) if h != "pred_h"][:1]
    for h in pointers:
        ptr = traj.hints[h][t]
        for i, p in enumerate(ptr):
            if p != i:
                ax.annotate("", xy=xy[p], xytext=xy[i], zorder=2,
                            arrowprops=dict(arrowstyle="-|>", color=_POINTER_COLOUR, lw=1.3, shrinkA=7, shrinkB=7))
        if (ptr != np.arange(n)).any():
            legend.add(f"red arrow: node \u2192 {_meaning(traj, h)}[node]",
                       _line(color=_POINTER_COLOUR, lw=1.3, marker=">", ms=6))
    scalars = _node_hints(traj, Type.SCALAR)
    if scalars and labels and traj.name != "graham_scan":  # graham's atans would only clutter
        h = scalars[0]
        v = traj.hints[h][t]
        shown = (v != 0) | source
        centre = xy.mean(0)
        span = np.ptp(xy, 0).max() if n > 1 else 1.0
        for i in np.nonzero(shown)[0]:
            off = xy[i] - centre
            off = off / (np.linalg.norm(off) or 1.0) * 0.16 * span
            ax.text(*(xy[i] + off), f"{v[i]:.2f}", ha="center", va="center", fontsize=6.5, color="tab:blue",
                    zorder=6, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
        if shown.any():
            legend.add(f"blue number beside node: {_meaning(traj, h)} (where set)", _line(ls="", color="tab:blue"))
    if "adj" in traj.inputs:
        ax.set_xlim(-1.4, 1.4)
        ax.set_ylim(-1.4, 1.4)
        ax.set_aspect("equal")
        ax.axis("off")
    else:
        pad = 0.12 * (np.ptp(xy, 0).max() if n > 1 else 1.0) + 1e-6
        ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
        ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)
        ax.set_xlabel("x", fontsize=8)
        ax.set_ylabel("y", fontsize=8)
        ax.tick_params(labelsize=7)


def _edges(ax, traj: Trajectory, t: int, xy: np.ndarray, legend: _Legend, labels: bool) -> None:
    adj = traj.inputs["adj"] > 0.5
    np.fill_diagonal(adj, False)
    A = traj.inputs.get("A", adj.astype(float))
    directed = not (adj == adj.T).all()
    weighted = bool(adj.any()) and not np.allclose(A[adj], 1.0)
    edge_masks = [h for h in _hints(traj, Location.EDGE, Type.MASK)][:1]
    on = traj.hints[edge_masks[0]][t] > 0.5 if edge_masks else np.zeros_like(adj)
    ii, jj = np.nonzero(adj if directed else np.triu(adj))
    for i, j in zip(ii, jj):
        hot = bool(on[i, j] or (not directed and on[j, i]))
        style = dict(color="tab:green" if hot else "0.7", lw=3 if hot else 0.9)
        if directed:
            ax.annotate("", xy=xy[j], xytext=xy[i], zorder=1,
                        arrowprops=dict(arrowstyle="-|>", shrinkA=6, shrinkB=8, mutation_scale=8, **style))
        else:
            ax.plot(*xy[[i, j]].T, zorder=1, **style)
        if weighted and labels:
            at = xy[i] + 0.36 * (xy[j] - xy[i])  # not the midpoint: diameters all cross at the centre
            ax.text(*at, f"{A[i, j]:.2f}", fontsize=5.5, color="0.25", ha="center", va="center", zorder=2,
                    bbox=dict(boxstyle="round,pad=0.05", fc="white", ec="none", alpha=0.85))
    if len(ii):
        legend.add("grey arrow: directed edge" if directed else "grey line: edge",
                   _line(color="0.7", lw=0.9, marker=">" if directed else None, ms=5))
    if weighted and labels and len(ii):
        legend.add("grey number on edge: weight A (near the edge's first end)", _line(ls="", color="0.25"))
    if edge_masks:
        legend.add(f"thick green edge: {_meaning(traj, edge_masks[0])} = 1", _line(color="tab:green", lw=3))


# -- matrices (DP tables, Floyd-Warshall) ------------------------------------------------------


def _matrix_panel(ax, traj: Trajectory, t: int, legend: _Legend, notes: list[str]) -> None:
    h = _hints(traj, Location.EDGE, Type.SCALAR)[0]
    n = traj.n
    rows = cols = np.arange(n)
    letters = None
    if "string" in traj.inputs:  # lcs_length: the table lives in the x-rows / y-columns block
        second = traj.inputs["string"] > 0.5
        rows, cols = np.nonzero(~second)[0], np.nonzero(second)[0]
        letters = np.array(list(_LETTERS))[np.argmax(traj.inputs["key"], -1) % len(_LETTERS)]
    block = np.ix_(rows, cols)
    vals = np.asarray(traj.hints[h], float)[(slice(None),) + block]
    known = np.ones_like(vals, bool)
    masks = _hints(traj, Location.EDGE, Type.MASK)
    if masks:
        known = traj.hints[masks[0]][(slice(None),) + block] > 0.5
    finite = vals[known]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    vmax = vmax if vmax > vmin else vmin + 1
    shown = np.where(known[t], vals[t], np.nan)
    import matplotlib

    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.92")
    im = ax.imshow(shown, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    cb = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cb.set_label(_meaning(traj, h), fontsize=7)
    cb.ax.tick_params(labelsize=6)
    if masks:
        legend.add(f"light grey cell: {masks[0]} = 0 (not computed / unknown)",
                   _patch(facecolor="0.92", edgecolor="0.6"))
    step = max(1, max(len(rows), len(cols)) // 8)
    for axis, nodes, what in ((ax.xaxis, cols, "j"), (ax.yaxis, rows, "i")):
        ticks = list(range(0, len(nodes), step))
        names = [f"{nodes[k]}" + (f" {letters[nodes[k]]}" if letters is not None else "") for k in ticks]
        axis.set_ticks(ticks, names)
    ax.tick_params(labelsize=7)
    if letters is not None:
        ax.set_xlabel("j: second string (node id, letter)", fontsize=8)
        ax.set_ylabel("i: first string (node id, letter)", fontsize=8)
    else:
        ax.set_xlabel("j (node)", fontsize=8)
        ax.set_ylabel("i (node)", fontsize=8)
    for k, (hname, c) in enumerate(zip(_node_hints(traj, Type.MASK_ONE), _HIGHLIGHT)):
        node = int(np.argmax(traj.hints[hname][t]))
        ax.axhline(node, color=c, lw=1.5, alpha=0.8)
        ax.axvline(node, color=c, lw=1.5, alpha=0.8)
        legend.add(f"{hname}: its row and column", _line(color=c, lw=1.5))
    cats = _hints(traj, Location.EDGE, Type.CATEGORICAL)
    if letters is not None and cats and max(len(rows), len(cols)) <= _LABEL_N:  # CLRS Figure 15.8's arrows
        glyph = np.array(["\u2196", "\u2191", "\u2190", ""])
        b = np.argmax(traj.hints[cats[0]][t][block], -1)
        for i, j in zip(*np.nonzero(known[t] & (b < 3))):
            colour = _text_colour(cmap((shown[i, j] - vmin) / (vmax - vmin)))
            ax.text(j, i, glyph[b[i, j]], ha="center", va="center", fontsize=8, color=colour)
        legend.add(f"arrow in cell: {cats[0]} (\u2196 match, \u2191 up, \u2190 left)", _line(ls="", color="k"))
    elif cats:
        notes.append(f"{cats[0]} arrows not drawn (longer than {_LABEL_N})")


# -- strings -----------------------------------------------------------------------------------


def _string_panel(ax, traj: Trajectory, t: int, legend: _Legend, notes: list[str]) -> None:
    pattern = traj.inputs["string"] > 0.5
    letters = np.array(list(_LETTERS))[np.argmax(traj.inputs["key"], -1) % len(_LETTERS)]
    text_nodes, pat_nodes = np.nonzero(~pattern)[0], np.nonzero(pattern)[0]
    shift = 0
    if "s" in traj.hints and len(text_nodes):
        shift = int(np.argmax(traj.hints["s"][t]))
    x = np.zeros(traj.n)
    y = np.zeros(traj.n)
    x[text_nodes] = np.arange(len(text_nodes))
    y[text_nodes] = 2.0
    x[pat_nodes] = shift + np.arange(len(pat_nodes))
    for nodes, colour, what in ((text_nodes, "#dbe9f6", "text"), (pat_nodes, "#fde0c5", "pattern")):
        for i in nodes:
            ax.add_patch(_rect(x[i] - 0.45, y[i] - 0.45, colour))
            ax.text(x[i], y[i], letters[i], ha="center", va="center", fontsize=10, family="monospace")
            if traj.n <= _LABEL_N:
                ax.text(x[i], y[i] - 0.62, str(i), ha="center", va="top", fontsize=6, color="0.4")
        legend.add(f"{what} cell (letter; node id below)", _patch(facecolor=colour, edgecolor="0.4"))
    _mask_one_markers(ax, traj, t, legend, lambda node, k: (x[node] - 0.3 + 0.2 * k, y[node] + 0.7))
    right = max(len(text_nodes), shift + len(pat_nodes), 1)
    ax.set_xlim(-0.7, right - 0.3)
    ax.set_ylim(-1.0, 3.6)
    ax.set_yticks([0, 2], [f"pattern\n(at shift {shift})" if "s" in traj.hints else "pattern", "text"], fontsize=7)
    ax.set_xticks([])
    ax.set_xlabel("position in the text", fontsize=8)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)


def _rect(x0, y0, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((x0, y0), 0.9, 0.9, facecolor=colour, edgecolor="0.4")


# -- arrays (sorting, searching, greedy) -------------------------------------------------------


def _interval_panel(ax, traj: Trajectory, t: int, legend: _Legend, notes: list[str]) -> None:
    s, f = traj.inputs["s"], traj.inputs["f"]
    sel = traj.hints["selected_h"][t] > 0.5 if "selected_h" in traj.hints else np.zeros(traj.n, bool)
    colours = np.where(sel, "tab:green", "lightgray")
    ax.barh(np.arange(traj.n), f - s, left=s, color=colours, edgecolor="gray", height=0.6)
    legend.add(f"green bar: {_meaning(traj, 'selected_h')} = 1", _patch(facecolor="tab:green", edgecolor="gray"))
    legend.add("grey bar: not selected", _patch(facecolor="lightgray", edgecolor="gray"))
    _mask_one_markers(ax, traj, t, legend, lambda node, k: (f[node] + 0.03 + 0.05 * k, node), marker="<")
    ax.set_yticks(range(traj.n), [str(i) for i in range(traj.n)], fontsize=6 if traj.n > _LABEL_N else 7)
    ax.set_ylabel("activity (node id)", fontsize=8)
    ax.set_xlabel("time: bar from start s to finish f", fontsize=8)
    ax.invert_yaxis()
    ax.tick_params(labelsize=7)


def _array_panel(ax, traj: Trajectory, t: int, legend: _Legend, notes: list[str]) -> None:
    key = _array_key(traj)
    order = list_order(traj.hints["pred_h"][t])
    keys = traj.inputs[key][order]
    colours = np.full(len(order), "lightgray", dtype=object)
    masks = _node_hints(traj, Type.MASK)[:1]
    for h in masks:
        colours[traj.hints[h][t][order] > 0.5] = "tab:green"
        legend.add(f"green bar: {_meaning(traj, h)} = 1", _patch(facecolor="tab:green", edgecolor="gray"))
    ax.bar(range(len(order)), keys, color=list(colours), edgecolor="gray")
    extra = [k for k, p in traj.spec.items() if p.stage == Stage.INPUT and p.location == Location.NODE
             and p.type == Type.SCALAR and k not in (key, "pos")][:1]
    if extra and len(order) <= _LABEL_N:  # e.g. task_scheduling's weights w
        for slot, v in enumerate(traj.inputs[extra[0]][order]):
            ax.text(slot, keys[slot] / 2, f"{v:.2f}", ha="center", va="center", fontsize=6, rotation=90)
        legend.add(f"number in bar: {_meaning(traj, extra[0])}", _line(ls="", color="k"))
    ids = [str(i) for i in order] if len(order) <= _ID_N else [""] * len(order)
    ax.set_xticks(range(len(order)), ids, fontsize=7 if len(order) <= _LABEL_N else 5)
    lo = min(0.0, float(keys.min())) if len(keys) else 0.0
    top = max(float(keys.max()), 0.0) if len(keys) else 1.0
    span = (top - lo) or 1.0
    _mask_one_markers(ax, traj, t, legend, lambda node, k: (order.index(node), top + span * (0.08 + 0.07 * k)))
    n_marks = len(_node_hints(traj, Type.MASK_ONE))
    ax.set_ylim(lo - 0.04 * span * (lo < 0), top + span * (0.12 + 0.07 * n_marks))
    if lo < 0:
        ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xlabel("list order (node ids)" if traj.name not in _STATIC_ORDER else "node id", fontsize=8)
    ax.set_ylabel(_meaning(traj, key) if key != "key" else "key (input value)", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)


# Algorithms whose pred_h is the fixed input order (CLRS turns it into an input).
_STATIC_ORDER = frozenset({"binary_search", "minimum", "find_maximum_subarray_kadane", "task_scheduling",
                           "activity_selector", "naive_string_matcher", "kmp_matcher", "jarvis_march"})


def _heat_panel(ax, traj: Trajectory, t: int, legend: _Legend, notes: list[str]) -> None:
    rows, labels = [], []
    for k, p in traj.spec.items():
        if p.stage != Stage.HINT or p.location != Location.NODE:
            continue
        v = np.asarray(traj.hints[k][t], float)
        if p.type == Type.CATEGORICAL:
            v = np.argmax(v, -1) / max(1, v.shape[-1] - 1)
        elif p.type == Type.POINTER:
            v = v / max(1, traj.n - 1)
        elif p.type == Type.SCALAR:
            span = float(np.ptp(traj.hints[k])) or 1.0
            v = (v - float(np.min(traj.hints[k]))) / span
        rows.append(v)
        labels.append(k)
    if not rows:
        ax.axis("off")
        return
    im = ax.imshow(np.stack(rows), aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("node", fontsize=8)
    cb = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cb.set_label("value scaled to [0, 1] per hint", fontsize=7)
    cb.ax.tick_params(labelsize=6)
