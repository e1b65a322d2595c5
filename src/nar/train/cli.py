"""``nar train | eval | report`` (added to the ``nar`` command by :func:`add_subparser`).

    nar train --algorithm bfs --processor triplet_gmpnn --steps 10000 [--config FILE] [--out DIR]
    nar train --algorithms all --out runs/generalist          # multi-task, one shared processor
    nar train --out runs/bfs --resume                         # continue a killed run
    torchrun --nproc_per_node 2 -m nar.cli train ...          # DDP (gloo on CPU, nccl on GPU)
    nar eval runs/bfs --n 64 [--count K] [--which last]
    nar report runs/bfs runs/dfs [--out report/]

A bad argument is one line on stderr (``nar train: error: argument --steps: must be an integer >= 1,
got '0'``; the ``nar`` parser's one-line usage errors) and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

# explicit flags -> config keys (anything else: --set key=value)
_FLAGS = {"processor": "processor", "steps": "steps", "batch_size": "batch_size", "lr": "lr", "seed": "seed",
          "hidden": "hidden", "device": "device", "time_limit": "time_limit", "step_count": "step_count",
          "threads": "threads"}


def _number(kind: type, low: float, *, strict: bool = False, below: float | None = None):
    """An argparse type: a finite ``kind`` (int or float) >= ``low`` (> ``low`` if ``strict``; < ``below``)."""
    what = "an integer" if kind is int else "a number"
    bound = f"{'>' if strict else '>='} {low}" + (f" and < {below}" if below is not None else "")

    def parse(text: str):
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"must be {what} {bound}, got {text!r}") from None
        if not math.isfinite(value) or value < low or (strict and value == low) or \
                (below is not None and value >= below):
            raise argparse.ArgumentTypeError(f"must be {what} {bound}, got {text!r}")
        return value
    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


POSITIVE_INT, POSITIVE_FLOAT = _number(int, 1), _number(float, 0, strict=True)
SEED = _number(int, 0, below=2 ** 64)


def _errors():
    from ..models import DenseMemoryError
    from ..validation import InputError
    from .loop import TrainingDiverged

    return InputError, DenseMemoryError, TrainingDiverged


def _out_of_memory(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, (MemoryError, torch.OutOfMemoryError)) or \
        (isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc))


def _fail(msg: str, code: int = 2) -> int:
    print(f"nar: error: {msg}", file=sys.stderr)
    return code


def _guarded(fn):
    """Run a command; known errors become one clear line on stderr and a non-zero exit code."""
    def run(args) -> int:
        InputError, DenseMemoryError, TrainingDiverged = _errors()
        try:
            return fn(args)
        except TrainingDiverged as exc:
            return _fail(str(exc), 3)
        except (InputError, DenseMemoryError, FileNotFoundError) as exc:
            return _fail(str(exc))
        except (MemoryError, RuntimeError) as exc:
            if not _out_of_memory(exc):
                raise
            return _fail(f"out of memory ({str(exc).splitlines()[0][:200]}); use a smaller --hidden, "
                         f"--batch-size, --n or --count", 1)
    return run


def build_config(args):
    """Defaults < ``--config`` file < the run's saved config (``--resume``) < explicit flags < ``--set``."""
    from .config import ConfigError, TrainConfig
    from .loop import CONFIG

    saved = Path(args.out) / CONFIG if args.out else None
    if args.resume and saved is not None and saved.is_file() and not args.config:
        cfg = TrainConfig.load(saved)
    else:
        cfg = TrainConfig.load(args.config)
    sets = []
    if args.algorithm and args.algorithms:
        raise ConfigError("give --algorithm or --algorithms, not both")
    if args.algorithm or args.algorithms:
        sets.append(f"algorithms={args.algorithm or args.algorithms}")
    for flag, key in _FLAGS.items():
        v = getattr(args, flag)
        if v is not None:
            sets.append(f"{key}={v}")
    return cfg.with_overrides(sets, source="command line").with_overrides(args.set)


def default_out(cfg) -> str:
    names = cfg.algorithms[0] if len(cfg.algorithms) == 1 else f"{len(cfg.algorithms)}algs"
    return str(Path("runs") / f"{names}-{cfg.processor}-s{cfg.seed}")


@_guarded
def cmd_train(args) -> int:
    from .loop import train

    if args.resume and not args.out:
        return _fail("--resume needs --out RUN_DIR (the run to continue)")
    cfg = build_config(args)
    out = args.out or default_out(cfg)
    res = train(cfg, out, resume=args.resume, progress=not args.quiet)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, rank 0 reports
        return 0
    print(f"run: {out} ({res['steps_done']} steps, {res['seconds']:.0f} s, step count: {res['step_count']})")
    print(f"best validation (n={cfg.val_n}): {res['best_val']:.4f} at step {res['best_step']}")
    for name, r in res["test"].items():
        print(f"test {name} (n={r['n']}, {r['count']} samples, step count {r['step_count']}): {r['score']:.4f}")
    return 0


@_guarded
def cmd_eval(args) -> int:
    from .evaluation import evaluate_checkpoint

    algs = args.algorithm.split(",") if args.algorithm else None
    results = evaluate_checkpoint(args.checkpoint, n=args.n, count=args.count, seed=args.seed, algorithms=algs,
                                  batch_size=args.batch_size, device=args.device, step_count=args.step_count,
                                  which=args.which)
    if args.json:
        print(json.dumps({k: r.as_dict() for k, r in results.items()}, indent=1))
        return 0
    print("| algorithm | n | samples | step count | score | outputs | hints |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        outs = ", ".join(f"{k} {v:.4f}" for k, v in r.scores.outputs.items())
        hints = ", ".join(f"{k} {v:.4f}" for k, v in r.scores.hints.items())
        print(f"| {name} | {r.n} | {r.count} | {r.step_count} | {r.scores.score:.4f} | {outs} | {hints} |")
    return 0


@_guarded
def cmd_report(args) -> int:
    from .report import write_report

    md, png = write_report(args.runs, args.out)
    print(md)
    print(f"\nwrote {Path(args.out) / 'report.md'}" + (f" and {png}" if png else " (no PNG: matplotlib missing)"))
    return 0


def add_subparser(sub) -> None:
    """Add ``train``, ``eval`` and ``report`` to the ``nar`` command's subparsers."""
    p = sub.add_parser("train", help="train a learned reasoner (single- or multi-task)",
                       description="Train a learned reasoner. Config: defaults < --config < flags < --set.")
    p.add_argument("--algorithm", help="one algorithm (e.g. bfs)")
    p.add_argument("--algorithms", help="'all' or a comma-separated list (multi-task)")
    p.add_argument("--processor", help="processor name (default triplet_gmpnn)")
    p.add_argument("--steps", type=POSITIVE_INT)
    p.add_argument("--batch-size", dest="batch_size", type=POSITIVE_INT)
    p.add_argument("--lr", type=POSITIVE_FLOAT)
    p.add_argument("--hidden", type=POSITIVE_INT)
    p.add_argument("--seed", type=SEED)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"))
    p.add_argument("--threads", type=POSITIVE_INT, help="torch CPU threads")
    p.add_argument("--time-limit", dest="time_limit", type=POSITIVE_FLOAT, help="stop after this many seconds")
    p.add_argument("--step-count", dest="step_count", choices=("truth", "learned"),
                   help="ground-truth trajectory length or a learned termination head")
    p.add_argument("--config", help="YAML or JSON config file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override any config key")
    p.add_argument("--out", help="run directory (default runs/<algorithm>-<processor>-s<seed>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="score a checkpoint on a fresh CLRS30-style set")
    p.add_argument("checkpoint", help="run directory (its best-validation checkpoint, or see --which) or "
                                      "checkpoint directory")
    p.add_argument("--which", choices=("best", "last"), default="best",
                   help="which checkpoint of a run directory (default best: best validation score)")
    p.add_argument("--n", type=POSITIVE_INT, default=64, help="nodes per sample (default 64)")
    p.add_argument("--count", type=POSITIVE_INT, default=None, help="samples (default CLRS30: 32 x multiplier)")
    p.add_argument("--seed", type=SEED, default=None, help="default 3 (the CLRS30 test split's)")
    p.add_argument("--algorithm", help="comma-separated subset of the model's algorithms")
    p.add_argument("--batch-size", dest="batch_size", type=POSITIVE_INT, default=None)
    p.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    p.add_argument("--step-count", dest="step_count", choices=("truth", "learned"), default=None)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("report", help="markdown table and PNG learning curves of training runs")
    p.add_argument("runs", nargs="+", help="run directories")
    p.add_argument("--out", default="report", help="folder for report.md and learning_curves.png")
    p.set_defaults(func=cmd_report)
