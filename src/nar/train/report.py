"""``nar report RUN_DIR...``: a markdown table of runs and a PNG of their learning curves.

Reads each run's ``config.json``, ``results.json`` (absent while a run is unfinished: its best
validation score is then taken from ``eval.csv`` and its test column is empty), ``eval.csv`` and
``train.csv`` (:mod:`nar.train.logs`).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..validation import InputError
from .logs import read_log
from .loop import CONFIG, RESULTS


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc}); the file is damaged") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


class RunRecord:
    """What the report needs of one run directory."""

    def __init__(self, path):
        self.path = Path(path)
        if not (self.path / CONFIG).is_file():
            raise InputError(f"{self.path} is not a training run (no {CONFIG}); give directories written by "
                             f"`nar train --out`")
        self.config = _read_json(self.path / CONFIG)
        missing = [k for k in ("algorithms", "processor", "model", "steps", "step_count") if k not in self.config]
        if missing:
            raise InputError(f"{self.path / CONFIG}: not a training config (no {', '.join(missing)})")
        self.results = _read_json(self.path / RESULTS) if (self.path / RESULTS).is_file() else None
        self.evals, cut_eval = read_log(self.path / "eval.csv")
        self.train, cut_train = read_log(self.path / "train.csv")
        self.notes = [f"{self.name}: the last row of {f} was cut mid-write (a killed run?) and is left out"
                      for f, cut in (("train.csv", cut_train), ("eval.csv", cut_eval)) if cut]

    @property
    def name(self) -> str:
        return self.path.name

    def val_curve(self, algorithm: str) -> tuple[list[int], list[float]]:
        rows = [r for r in self.evals if r["split"] == "val" and r["algorithm"] == algorithm and r["metric"] == "score"]
        return [r["step"] for r in rows], [r["value"] for r in rows]

    def loss_curve(self) -> tuple[list[int], list[float]]:
        return [r["step"] for r in self.train], [r["loss"] for r in self.train]

    def rows(self) -> list[dict]:
        out = []
        res = self.results
        steps_done = res["steps_done"] if res else (self.train[-1]["step"] if self.train else 0)
        for name in self.config["algorithms"]:
            steps, vals = self.val_curve(name)
            if res:
                best_val = res["val"].get(name)
                best_step = res["best_step"]
                test = res["test"].get(name)
            else:
                best_val = max(vals) if vals else None
                best_step = steps[vals.index(best_val)] if vals else None
                test = None
            out.append({
                "run": self.name, "algorithm": name, "processor": self.config["processor"],
                "model": self.config["model"], "steps": f"{steps_done}/{self.config['steps']}",
                "step_count": self.config["step_count"], "best_step": best_step, "val": best_val,
                "test": None if test is None else test["score"], "test_n": None if test is None else test["n"],
                "finished": res is not None,
            })
        return out


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.2f}"


def markdown(records: list[RunRecord]) -> str:
    lines = ["| run | algorithm | model | processor | steps | step count | best step | val (best) | test | test n |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for rec in records:
        for r in rec.rows():
            state = "" if r["finished"] else " (unfinished)"
            lines.append(f"| {r['run']}{state} | {r['algorithm']} | {r['model']} | {r['processor']} | {r['steps']} | "
                         f"{r['step_count']} | {r['best_step'] if r['best_step'] is not None else '—'} | "
                         f"{_pct(r['val'])} | {_pct(r['test'])} | {r['test_n'] or '—'} |")
    lines.append("\nScores in % (CLRS metrics, mean over output probes); val = best validation score (the "
                 "checkpoint tested); step count: 'truth' = ground-truth trajectory length, 'learned' = "
                 "termination head.")
    lines += [f"\nNote: {n}" for rec in records for n in rec.notes]
    return "\n".join(lines)


_LINESTYLES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _style(k: int, markers: bool = True) -> dict:
    """Line style of the ``k``-th curve: colour, dash pattern and (hollow, shrinking) marker all vary."""
    style = dict(color=f"C{k % 10}", linestyle=_LINESTYLES[k % len(_LINESTYLES)],
                 linewidth=max(1.0, 2.6 - 0.5 * k), alpha=0.9)  # later curves thinner: earlier ones show around them
    if markers:
        style.update(marker=_MARKERS[k % len(_MARKERS)], markersize=max(3.0, 7.0 - 1.0 * k), markerfacecolor="none")
    return style


def plot(records: list[RunRecord], path) -> Path | None:
    """Validation score and training loss against steps, one line per run (and algorithm)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (ax_v, ax_l) = plt.subplots(1, 2, figsize=(11, 4))
    curve = 0  # every curve gets its own colour, line style and marker, so equal curves stay visible
    for k, rec in enumerate(records):
        multi = len(rec.config["algorithms"]) > 1
        for name in rec.config["algorithms"]:
            steps, vals = rec.val_curve(name)
            if steps:
                ax_v.plot(steps, vals, label=f"{rec.name}: {name}" if multi else rec.name, **_style(curve))
                curve += 1
        steps, loss = rec.loss_curve()
        if steps:
            ax_l.plot(steps, loss, label=rec.name, **_style(k, markers=False))
    ax_v.set(xlabel="training step", ylabel="validation score", title="validation (n = 16)", ylim=(0, 1.02))
    ax_l.set(xlabel="training step", ylabel="training loss", title="training loss (output + hints)")
    if any(rec.train for rec in records):
        ax_l.set_yscale("log")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_v, ax_l):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # training steps are whole numbers
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_report(run_dirs, out_dir) -> tuple[str, Path | None]:
    """Write ``report.md`` and ``learning_curves.png`` under ``out_dir``; returns (markdown, png or None)."""
    from ..data.store import atomic_write

    records = [RunRecord(d) for d in run_dirs]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md = markdown(records)
    data = (md + "\n").encode()
    atomic_write(out / "report.md", lambda put: put(data))
    return md, plot(records, out / "learning_curves.png")
