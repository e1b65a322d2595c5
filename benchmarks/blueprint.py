"""The NAR blueprint downstream: routing with unknown travel times (issue 9; :mod:`nar.tasks.routing`).

For each training-set size (graphs at n = 16), seed and model, a router is trained on the raw road
features and tested on fresh graphs at each test size (same test graphs for every model).  Models:

    scratch       (a) the pretrained processor's architecture, randomly initialised, trained end to end
    bf_frozen     (b) the pretrained Bellman-Ford processor, frozen (encoders / decoders trained)
    bf_finetune   (c) the same, fine-tuned (processor learning rate --finetune-lr)
    multi_frozen  (d) the pretrained multi-task processor (bellman_ford, bfs, dijkstra, mst_prim), frozen
    bottleneck    (e) one positive weight per edge -> exact Bellman-Ford, blackbox differentiation
    exact         (f) the exact algorithm on the true travel times (the ceiling)

Processors come from the shipped registry (``nar.pretrained.load(name)``) or, with
``--pretrained-from-runs DIR``, from the best checkpoint of the training runs ``DIR/<name>``.

Every finished cell is written to ``--out/results.json`` (trained weights to ``--out/models/``) at once,
and a rerun skips what is there, so the grid can run in the background over a long time and be resumed.
``--table`` prints the table (and draws ``--figure``) from the results alone; ``--append-results FILE``
appends it, with the command, date, machine and load, to FILE.

    python benchmarks/blueprint.py --sizes 8 32 128 512 --seeds 0 1 2 --test-sizes 16 64 128 \\
        --out runs/blueprint_routing --figure docs/figures/blueprint_routing.png
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from nar.locking import locked
from nar.tasks import routing as R

MODELS = ("scratch", "bf_frozen", "bf_finetune", "multi_frozen", "bottleneck", "exact")
LABELS = {"scratch": "(a) scratch", "bf_frozen": "(b) BF frozen", "bf_finetune": "(c) BF fine-tuned",
          "multi_frozen": "(d) multi-task frozen", "bottleneck": "(e) bottleneck", "exact": "(f) exact"}
TRAIN_N = 16
TEST_SEED, TRAIN_SEED = 1_000_000, 10_000


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[8, 32, 128, 512], help="training-set sizes (graphs)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--test-sizes", type=int, nargs="+", default=[16, 64, 128], help="test graph sizes n")
    p.add_argument("--test-count", type=int, default=16, help="test graphs per test size")
    p.add_argument("--steps", type=int, default=400, help="training steps per cell")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--finetune-lr", type=float, default=1e-4, help="processor learning rate of bf_finetune")
    p.add_argument("--hidden", type=int, default=128, help="encoder / decoder width")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--bf", default="triplet_gmpnn-bellman_ford", help="pretrained Bellman-Ford entry")
    p.add_argument("--multi", default="triplet_gmpnn-multitask", help="pretrained multi-task entry")
    p.add_argument("--pretrained-from-runs", metavar="DIR", default=None,
                   help="take the processors from the best checkpoints of training runs DIR/<name>")
    p.add_argument("--standin", action="store_true",
                   help="random processors of width --hidden instead of pretrained ones (smoke tests only)")
    p.add_argument("--out", default="runs/blueprint_routing", help="results.json and models/ go here")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval-batch-size", type=int, default=8)
    p.add_argument("--table", action="store_true", help="only print the table / draw the figure from --out")
    p.add_argument("--figure", default=None, help="draw the figure to this PNG")
    p.add_argument("--append-results", metavar="FILE", default=None, help="append the table to this markdown file")
    p.add_argument("--quick", action="store_true",
                   help="a tiny smoke run: 4 training graphs, 3 steps, width 16, stand-in processors, n = 8 / 12")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.seeds, args.test_sizes, args.test_count = [4], [0], [8, 12], 4
        args.steps, args.batch_size, args.hidden, args.standin = 3, 4, 16, True
    for name in ("sizes", "test_sizes"):
        if any(v < 2 for v in getattr(args, name)):
            p.error(f"--{name.replace('_', '-')} must be >= 2")
    if args.test_count < 1 or args.steps < 0 or args.batch_size < 1:
        p.error("--test-count and --batch-size must be >= 1, --steps >= 0")
    return args


# ------------------------------------------------------------------------------------------ processors
class Unavailable(Exception):
    """A pretrained processor is not available (yet)."""


def load_processor(name: str, args) -> tuple[torch.nn.Module, int, dict, str]:
    """``(processor, hidden, architecture options, where it came from)`` of pretrained ``name``."""
    if args.standin:
        from nar.models import build_processor

        return build_processor("triplet_gmpnn", args.hidden), args.hidden, {}, "stand-in (random)"
    if args.pretrained_from_runs:
        import nar

        run = Path(args.pretrained_from_runs) / name
        if not run.is_dir():
            raise Unavailable(f"no run folder {run}")
        last = None
        for _ in range(5):  # the run may be replacing its best checkpoint right now
            try:
                loaded = nar.load(run)
                break
            except Exception as exc:  # noqa: BLE001 - reported below
                last = exc
                time.sleep(2)
        else:
            raise Unavailable(f"{run}: {last}")
        cfg = loaded.config
        arch = {"processor": cfg.processor, "hidden": cfg.hidden, "use_ln": cfg.use_ln,
                "nb_triplet_fts": cfg.nb_triplet_fts, "nb_heads": cfg.nb_heads}
        return (loaded.model.processor, cfg.hidden, arch,
                f"run {run} best checkpoint, step {loaded.meta.get('step')} of {cfg.steps}")
    import nar.pretrained as pre
    try:
        entry = pre.load(name)
    except pre.PretrainedError as exc:
        raise Unavailable(str(exc)) from None
    c = entry.card["config"]
    arch = {k: c[k] for k in ("processor", "hidden", "use_ln", "nb_triplet_fts", "nb_heads") if k in c}
    return entry.processor, entry.hidden, arch, f"pretrained {name} (steps {entry.card.get('steps_done')})"


def build(model: str, args) -> tuple[torch.nn.Module, str]:
    """A fresh router of variant ``model`` and a note on its processor."""
    if model == "exact":
        return R.ExactRouter(), ""
    if model == "bottleneck":
        return R.BottleneckRouter(args.hidden), ""
    if model == "scratch":
        from nar.models import build_processor

        with torch.random.fork_rng(devices=[]):
            _, hidden, arch, _ = load_processor(args.bf, args)  # the same architecture, fresh weights
        arch = dict(arch) or {"processor": "triplet_gmpnn", "hidden": hidden}
        kind, h = arch.pop("processor", "triplet_gmpnn"), arch.pop("hidden", hidden)
        return R.ProcessorRouter(build_processor(kind, h, **arch), h, args.hidden, frozen=False), \
            f"fresh {kind} {h}"
    name = args.multi if model == "multi_frozen" else args.bf
    with torch.random.fork_rng(devices=[]):
        proc, hidden, _, source = load_processor(name, args)
    return R.ProcessorRouter(proc, hidden, args.hidden, frozen=model != "bf_finetune"), source


# ------------------------------------------------------------------------------------------ results
def results_path(args) -> Path:
    return Path(args.out) / "results.json"


def read_results(args) -> dict:
    path = results_path(args)
    if not path.is_file():
        return {}
    return json.loads(path.read_text()).get("cells", {})


def write_cell(args, key: str, cell: dict) -> None:
    """Merge one cell into results.json (under the lock; other writers' cells are kept)."""
    path = results_path(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path):
        cells = read_results(args)
        cells[key] = cell
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"format": "nar.blueprint_routing/1", "cells": cells}, indent=1, sort_keys=True))
        os.replace(tmp, path)


def cell_key(model: str, size: int, seed: int, args) -> str:
    return (f"{model}|train={size}|seed={seed}|steps={args.steps}|bs={args.batch_size}|lr={args.lr}"
            f"|ftlr={args.finetune_lr}|h={args.hidden}|standin={int(args.standin)}")


def run_grid(args) -> None:
    tests = {}
    models_dir = Path(args.out) / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:  # seed by seed: a partial run has every size and model of its first seeds
        for size in args.sizes:
            train_data = None
            for model in args.models:
                key = cell_key(model, size, seed, args)
                cell = read_results(args).get(key, {})  # re-read: another process may have done it
                missing = [n for n in args.test_sizes
                           if cell.get("test", {}).get(str(n), {}).get("count") != args.test_count]
                if not missing:
                    continue
                torch.manual_seed(seed)
                try:
                    router, source = build(model, args)
                except Unavailable as exc:
                    print(f"skip {model} (train={size}, seed={seed}): {exc}", flush=True)
                    continue
                weights = models_dir / (key.replace("|", "_").replace("=", "") + ".pt")
                if "train_seconds" in cell and weights.is_file():
                    router.load_state_dict(torch.load(weights))
                else:
                    if train_data is None:
                        train_data = R.make_dataset(size, TRAIN_N, "mixed", TRAIN_SEED + 1000 * seed + size)
                    t0 = time.process_time()
                    losses = R.train(router, train_data, steps=args.steps, batch_size=args.batch_size,
                                     lr=args.lr, processor_lr=args.finetune_lr, seed=seed)
                    cell = {"model": model, "size": size, "seed": seed, "steps": args.steps,
                            "processor": source, "train_seconds": round(time.process_time() - t0, 1),
                            "final_loss": round(statistics.fmean(losses[-10:]), 4) if losses else None,
                            "test": {}}
                    torch.save(router.state_dict(), weights)
                    write_cell(args, key, cell)
                for n in missing:
                    if n not in tests:
                        tests[n] = R.make_dataset(args.test_count, n, "mixed", TEST_SEED + n)
                    t0 = time.process_time()
                    parent = R.predict(router, tests[n], batch_size=args.eval_batch_size)
                    scores = R.metrics(parent, tests[n])
                    scores = {k: round(v, 5) for k, v in scores.items()}
                    scores.update(count=args.test_count, seconds=round(time.process_time() - t0, 1))
                    cell["test"][str(n)] = scores
                    write_cell(args, key, cell)
                    print(f"{model:13s} train={size:4d} seed={seed} n={n:4d}: acc {scores['parent_accuracy']:.3f} "
                          f"ratio {scores['cost_ratio']:.3f} reach {scores['reach_rate']:.3f} "
                          f"(train {cell['train_seconds']}s, test {scores['seconds']}s)", flush=True)


# ------------------------------------------------------------------------------------------ reporting
def collect(args) -> dict:
    """``{(model, size, n): {metric: [values over seeds]}}`` of the cells matching the run options."""
    out: dict = {}
    for key, cell in read_results(args).items():
        model, size, seed = cell["model"], cell["size"], cell["seed"]
        if key != cell_key(model, size, seed, args) or model not in args.models or size not in args.sizes \
                or seed not in args.seeds:
            continue
        for n, s in cell["test"].items():
            if int(n) in args.test_sizes and s.get("count") == args.test_count:
                d = out.setdefault((model, size, int(n)), {})
                for m in ("parent_accuracy", "cost_ratio", "reach_rate"):
                    d.setdefault(m, []).append(s[m])
    return out


def _fmt(vals, scale=1.0, digits=1) -> str:
    if not vals:
        return "-"
    m = statistics.fmean(vals) * scale
    sd = statistics.stdev(vals) * scale if len(vals) > 1 else 0.0
    return f"{m:.{digits}f} ± {sd:.{digits}f}"


def table(args) -> str:
    data = collect(args)
    head = ["model", "train graphs"] + [f"{h} n={n}" for n in args.test_sizes
                                        for h in ("acc %", "cost ratio", "reach %")] + ["seeds per n"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model in args.models:
        for size in args.sizes:
            row, seeds = [LABELS[model], str(size)], []
            for n in args.test_sizes:
                d = data.get((model, size, n), {})
                seeds.append(len(d.get("parent_accuracy", [])))
                row += [_fmt(d.get("parent_accuracy", []), 100), _fmt(d.get("cost_ratio", []), 1, 3),
                        _fmt(d.get("reach_rate", []), 100)]
            if any(seeds):
                lines.append("| " + " | ".join(row + ["/".join(map(str, seeds))]) + " |")
    return "\n".join(lines)


def target(args) -> str:
    """The issue's target: a pretrained processor beats scratch by >= 10 accuracy points or 10% route-cost
    ratio at every training size <= 32, at n = 64."""
    data = collect(args)
    mean = statistics.fmean
    lines, ok_all, any_cell = [], True, False
    for size in [s for s in args.sizes if s <= 32]:
        a = data.get(("scratch", size, 64))
        if not a:
            continue
        best = None
        for m in ("bf_frozen", "bf_finetune", "multi_frozen"):
            d = data.get((m, size, 64))
            if not d:
                continue
            dacc = 100 * (mean(d["parent_accuracy"]) - mean(a["parent_accuracy"]))
            drat = (mean(a["cost_ratio"]) - mean(d["cost_ratio"])) / mean(a["cost_ratio"])
            ok = dacc >= 10 or drat >= 0.10
            if best is None or (ok, dacc) > (best[0], best[2]):
                best = (ok, m, dacc, drat)
        if best is None:
            continue
        any_cell = True
        ok_all &= best[0]
        lines.append(f"train={size}: best pretrained {LABELS[best[1]]}: {best[2]:+.1f} accuracy points, "
                     f"{100 * best[3]:+.1f}% route-cost ratio vs scratch -> {'met' if best[0] else 'not met'}")
    if not any_cell:
        return "Target: not measurable from these results (needs scratch and a pretrained model at n = 64, <= 32 graphs)."
    return (f"**Target {'met' if ok_all else 'not met'}** (a pretrained processor beats scratch by >= 10 accuracy "
            f"points or >= 10% route-cost ratio at n = 64, every training size <= 32): " + "; ".join(lines) + ".")


def figure(args, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = collect(args)
    ns = args.test_sizes
    fig, axes = plt.subplots(2, len(ns), figsize=(4.2 * len(ns), 7), squeeze=False, sharex=True)
    for col, n in enumerate(ns):
        for row, (metric, scale, label) in enumerate((("parent_accuracy", 100, "parent accuracy (%)"),
                                                      ("cost_ratio", 1, "route-cost ratio (1 = optimal)"))):
            ax = axes[row][col]
            for model in args.models:
                xs, ms, sds = [], [], []
                for size in args.sizes:
                    vals = data.get((model, size, n), {}).get(metric)
                    if vals:
                        xs.append(size)
                        ms.append(statistics.fmean(vals) * scale)
                        sds.append((statistics.stdev(vals) if len(vals) > 1 else 0.0) * scale)
                if xs:
                    ax.errorbar(xs, ms, yerr=sds, marker="o", capsize=3, label=LABELS[model],
                                linestyle="--" if model in ("exact", "bottleneck") else "-")
            ax.set_xscale("log", base=2)
            ax.set_xlim(min(args.sizes) / 1.5, max(args.sizes) * 1.5)
            ax.set_xticks(args.sizes, [str(s) for s in args.sizes])
            ax.minorticks_off()
            if row == 0:
                ax.set_title(f"test n = {n}")
            if row == 1:
                ax.set_xlabel(f"training graphs (n = {TRAIN_N})")
                ax.axhline(R.FAIL_RATIO, color="grey", linewidth=0.8, linestyle=":")
            if col == 0:
                ax.set_ylabel(label)
            ax.grid(alpha=0.3, which="both")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.suptitle("Routing with unknown travel times (mean ± std over seeds; dotted: ratio charged to a failed route)",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def append_markdown(args, path: str, text: str) -> None:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cmd = "python benchmarks/blueprint.py " + " ".join(sys.argv[1:])
    block = (f"\n\nCommand: `{cmd}` ({now}; {platform.node() or 'this machine'}, {os.cpu_count()} CPU cores, "
             f"torch {torch.__version__}, load average {load[0]:.1f} when the table was written).\n\n{text}\n")
    with locked(path):
        with open(path, "a") as f:
            f.write(block)


def main(argv=None) -> int:
    args = parse(argv)
    torch.set_num_threads(args.threads)
    if not args.table:
        run_grid(args)
    text = table(args) + "\n\n" + target(args)
    print(text)
    if args.figure:
        figure(args, args.figure)
        print(f"figure: {args.figure}")
    if args.append_results:
        append_markdown(args, args.append_results, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
