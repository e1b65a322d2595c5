"""Figures (nar.viz trajectories, nar.train.report learning curves): they render for every algorithm and
carry what a reader needs without the code (legends, axis labels, colour bars, how many steps are shown)."""
from __future__ import annotations

import json

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nar.api import sample  # noqa: E402
from nar.specs import CLRS_30_ALGS, FAMILIES  # noqa: E402
from nar.viz import _steps_to_show, plot_trajectory, steps_caption, trajectory_figure  # noqa: E402


def _figure(name, n, max_panels=8):
    return trajectory_figure(sample(name, n=n, count=1, seed=0)[0], max_panels)


def _legend_texts(fig) -> list[str]:
    return [t.get_text() for leg in fig.legends for t in leg.get_texts()]


@pytest.mark.parametrize("n", [4, 16])
@pytest.mark.parametrize("name", CLRS_30_ALGS)
def test_every_algorithm_renders(name, n):
    """Every figure builds and draws (one panel, low resolution: drawing is what fails on bad artists)."""
    fig = _figure(name, n, max_panels=1)
    fig.set_dpi(20)
    fig.canvas.draw()
    assert name in fig._suptitle.get_text()
    plt.close(fig)


def test_png_written(tmp_path):
    path = plot_trajectory(sample("bfs", n=5, count=1, seed=0)[0], tmp_path / "sub" / "bfs.png", max_panels=2)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["bfs", "dijkstra"])
def test_graph_legend_names_every_encoding(name):
    fig = _figure(name, 8)
    texts = _legend_texts(fig)
    fill = "reach_h" if name == "bfs" else "mark"
    assert any(t.startswith("fill:") and fill in t for t in texts), texts
    assert any("red arrow" in t and "pi_h" in t for t in texts), texts
    assert any("source" in t for t in texts), texts
    if name == "dijkstra":  # weighted: edge weights and distances are printed, and the legend says so
        assert any("weight" in t for t in texts) and any("d (distance)" in t for t in texts), texts
        assert any("ring: u" == t for t in texts), texts
        ax = fig.axes[0]
        numbers = [t.get_text() for t in ax.texts if t.get_text().replace(".", "").isdigit() and "." in t.get_text()]
        assert numbers, "no weight / distance labels drawn"
    plt.close(fig)


def test_graph_node_ids_readable_on_dark_fill():
    """The id of a node filled dark (reached) is written in white, of an empty node in black."""
    fig = _figure("bfs", 8)
    last = fig.axes[sum(1 for ax in fig.axes if ax.has_data()) - 1]
    colours = {t.get_text(): matplotlib.colors.to_hex(t.get_color()) for t in last.texts if t.get_text().isdigit()}
    traj = sample("bfs", n=8, count=1, seed=0)[0]
    reached = traj.hints["reach_h"][-1] > 0.5
    assert reached.any() and (~reached).any()
    for i in range(8):
        assert colours[str(i)] == ("#ffffff" if reached[i] else "#000000"), (i, colours)
    plt.close(fig)


def test_large_graph_omits_labels_and_says_so():
    fig = _figure("dijkstra", 20, max_panels=2)
    assert "not printed" in fig._suptitle.get_text()
    assert not any("weight" in t for t in _legend_texts(fig))
    plt.close(fig)


def test_subsampled_title_counts_the_steps():
    traj = sample("quicksort", n=8, count=1, seed=0)[0]
    assert traj.length > 8
    fig = trajectory_figure(traj, 8)
    title = fig._suptitle.get_text()
    steps = _steps_to_show(traj.length, 8)
    assert f"of {traj.length} shown" in title and ", ".join(map(str, steps)) in title
    plt.close(fig)
    assert steps_caption([0, 1, 2], 3) == "all 3 steps shown"


def test_array_figure_axis_labels_and_matching_legend_markers():
    fig = _figure("insertion_sort", 6)
    ax = fig.axes[0]
    assert ax.get_ylabel() and ax.get_xlabel()
    drawn = {line.get_marker() for ax in fig.axes for line in ax.get_lines()}
    in_legend = {h.get_marker() for leg in fig.legends for h in leg.legend_handles if hasattr(h, "get_marker")}
    assert in_legend and in_legend <= drawn
    plt.close(fig)


@pytest.mark.parametrize("name", ["naive_string_matcher", "kmp_matcher"])
def test_string_figure_shows_letters_and_no_stray_legend(name):
    fig = _figure(name, 8)
    ax = fig.axes[0]
    letters = [t.get_text() for t in ax.texts if t.get_text().isalpha() and len(t.get_text()) == 1]
    assert len(letters) == 8
    texts = _legend_texts(fig)
    assert any("text cell" in t for t in texts) and any("pattern cell" in t for t in texts)
    assert all(h.get_marker() == "v" for leg in fig.legends for h in leg.legend_handles if hasattr(h, "get_marker")
               and h.get_marker() not in (None, "None", ""))
    plt.close(fig)


@pytest.mark.parametrize("name", FAMILIES["dynamic_programming"] + ("floyd_warshall",))
def test_tables_have_colour_bars(name):
    fig = _figure(name, 6, max_panels=2)
    images = [ax for ax in fig.axes if ax.images]
    assert images and all(ax.images[0].colorbar is not None for ax in images)
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in images)
    plt.close(fig)


def _run_dir(path, name, vals):
    path.mkdir()
    (path / "config.json").write_text(json.dumps(
        {"algorithms": ["bfs"], "processor": "mpnn", "model": "baseline", "steps": 30, "step_count": "truth"}))
    rows = ["step,split,algorithm,step_count,metric,value"]
    rows += [f"{10 * (k + 1)},val,bfs,truth,score,{v}" for k, v in enumerate(vals)]
    (path / "eval.csv").write_text("\n".join(rows) + "\n")
    rows = ["step,algorithm,loss,output_loss,hint_loss,grad_norm,lr,seconds"]
    rows += [f"{10 * (k + 1)},bfs,{1.0 / (k + 1)},0.5,0.5,1.0,0.001,0.1" for k in range(len(vals))]
    (path / "train.csv").write_text("\n".join(rows) + "\n")
    return path


def test_report_two_runs_have_distinguishable_validation_lines(tmp_path, monkeypatch):
    from nar.train.report import write_report

    a = _run_dir(tmp_path / "run_a", "a", [0.5, 0.8, 0.9])
    b = _run_dir(tmp_path / "run_b", "b", [0.5, 0.8, 0.9])  # identical curves: one must not hide the other
    kept = []
    monkeypatch.setattr(plt, "close", lambda fig=None: kept.append(fig))
    _, png = write_report([a, b], tmp_path / "rep")
    assert png is not None and png.is_file()
    ax_v = kept[-1].axes[0]
    lines = ax_v.get_lines()
    assert [l.get_label() for l in lines] == ["run_a", "run_b"]
    (s1, m1), (s2, m2) = [(l.get_linestyle(), l.get_marker()) for l in lines]
    assert s1 != s2 and m1 != m2
    assert np.allclose(lines[0].get_ydata(), lines[1].get_ydata())
    assert ax_v.get_legend() is not None
    monkeypatch.undo()
    plt.close("all")


def test_missing_matplotlib_is_one_line_naming_the_extra(monkeypatch, tmp_path, capsys):
    import sys

    from nar.cli import main

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert main(["show", "bfs", "--n", "4", "--png", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "torch-nar[viz]" in err
