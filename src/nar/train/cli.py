"""``nar train | eval | report`` (added to the ``nar`` command by :func:`add_subparser`).

    nar train --algorithm bfs --processor triplet_gmpnn --steps 10000 [--config FILE] [--out DIR]
    nar train --algorithms all --out runs/generalist          # multi-task, one shared processor
    nar train --model deq --algorithm bellman_ford --solver anderson --tol 0.01   # DEAR
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

from ..argtypes import number

# explicit flags -> config keys (anything else: --set key=value)
_FLAGS = {"model": "model", "processor": "processor", "steps": "steps", "batch_size": "batch_size", "lr": "lr",
          "seed": "seed", "hidden": "hidden", "device": "device", "time_limit": "time_limit",
          "step_count": "step_count", "threads": "threads"}
_OPTION = "model_option:"  # argparse dest prefix of a model option's flag (--solver -> model_options.solver)

# what a model option's flag does (its name, type and default come from the model's registration)
_OPTION_HELP = {
    "solver": "root solver", "tol": "stopping tolerance of the solver's residual",
    "stop": "residual relative to the state (rel) or absolute (abs)",
    "max_iter": "solver iteration cap in training", "eval_max_iter": "solver iteration cap in evaluation",
    "memory": "Anderson's history size", "beta": "Anderson's mixing", "lam": "Anderson's regularisation",
    "grad": "gradient: phantom (backprop through a few steps at the fixed point) or implicit",
    "phantom_steps": "steps of the phantom gradient", "phantom_lambda": "damping of the phantom gradient",
    "backward_tol": "tolerance of the implicit gradient's backward solve",
    "backward_max_iter": "iteration cap of the implicit gradient's backward solve",
    "jacobian_weight": "weight of the Jacobian penalty (DEAR paper: 1e-4 when used)",
    "noise_std": "Gaussian noise added to the state in training (paper: 1e-3)",
    "align_weight": "weight of the alignment to a step-wise reasoner (paper: 0.01); needs --teacher",
    "align_samples": "solver iterates sampled for the alignment",
    "cgp": "Cayley graph propagation",
    "teacher": "run directory of a trained step-wise reasoner to align to (same --hidden)",
}


POSITIVE_INT, POSITIVE_FLOAT = number(int, 1), number(float, 0, strict=True)
SEED = number(int, 0, below=2 ** 64)


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
    options = _option_flags(args)
    if options:  # the model (from any source) first: a flag of another model is an error
        _check_flags_apply(cfg.with_overrides(sets, source="command line").with_overrides(args.set).model, options)
    sets += [f"model_options.{key}={json.dumps(v)}" for key, v in options.items()]
    cfg = cfg.with_overrides(sets, source="command line").with_overrides(args.set)
    _check_model(cfg, options)
    return cfg


def _option_flags(args) -> dict:
    """The model options given as flags (``--solver anderson`` -> ``{'solver': 'anderson'}``)."""
    return {dest[len(_OPTION):]: v for dest, v in vars(args).items() if dest.startswith(_OPTION) and v is not None}


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _check_flags_apply(model: str, options: dict) -> None:
    """InputError unless every model-option flag given is an option of ``model``."""
    from ..validation import InputError
    from .models import MODELS

    foreign = [k for k in options if k not in MODELS[model].options]
    if foreign:
        owners = sorted({m for m, f in MODELS.items() for k in foreign if k in f.options})
        raise InputError(f"{', '.join(map(_flag, foreign))} appl{'y' if len(foreign) > 1 else 'ies'} to "
                         f"--model {' or '.join(owners)} only, but this run's model is {model!r}; "
                         f"add --model {owners[0]}")


def _check_model(cfg, options: dict) -> None:
    """InputError unless the model accepts its options: it is built on the meta device (the model
    factory's own validation; no memory, no RNG drawn)."""
    import torch

    from ..validation import InputError
    from .models import build_model

    try:
        with torch.device("meta"):
            build_model(cfg)
    except InputError as exc:
        given = " ".join(f"{_flag(k)} {v}" for k, v in options.items())
        raise InputError(f"{exc}" + (f" (flags given: {given})" if given else "")) from None


def _algorithm_named(args) -> bool:
    """Whether the command line, ``--set`` or the config file names the algorithm(s)."""
    from .config import ALIASES, parse_override, read_file

    keys = {"algorithms", *ALIASES}
    if args.algorithm or args.algorithms or any(parse_override(t)[0] in keys for t in args.set):
        return True
    return bool(args.config) and bool(keys & set(read_file(args.config)))


def default_out(cfg) -> str:
    names = cfg.algorithms[0] if len(cfg.algorithms) == 1 else f"{len(cfg.algorithms)}algs"
    return str(Path("runs") / f"{names}-{cfg.processor}-s{cfg.seed}")


@_guarded
def cmd_train(args) -> int:
    from .loop import train

    if args.resume and not args.out:
        return _fail("--resume needs --out RUN_DIR (the run to continue)")
    cfg = build_config(args)
    main = int(os.environ.get("RANK", "0")) == 0  # under torchrun, rank 0 reports
    if main and not args.resume and not _algorithm_named(args):
        print(f"no --algorithm given: training {','.join(cfg.algorithms)} (the default)", flush=True)
    out = args.out or default_out(cfg)
    res = train(cfg, out, resume=args.resume, progress=not args.quiet)
    if not main:
        return 0
    for line in summary_lines(res, cfg, out):
        print(line)
    return 0


def _solver_text(d: dict) -> str:
    return (f"solver iterations mean {d['iterations/mean']:.1f}, max {d['iterations/max']:.0f}; residual mean "
            f"{d['residual/mean']:.3g}, max {d['residual/max']:.3g}; {d['converged']:.0%} converged")


def summary_lines(res: dict, cfg, out) -> list[str]:
    """The lines ``nar train`` prints at the end of a run (``res``: its results.json)."""
    solver = res.get("solver")
    if solver:  # DEQ: no step count; say what the solver was asked and what it used
        o = solver["options"]
        how = (f"model {cfg.model}: solver {o['solver']}, tol {o['tol']} ({o['stop']}), at most {o['max_iter']} "
               f"iterations in training, {o['eval_max_iter']} in evaluation")
    else:
        how = f"step count: {res['step_count']}"
    lines = [f"run: {out} ({res['steps_done']} steps, {res['seconds']:.0f} s, {how})",
             f"best validation (n={cfg.val_n}): {res['best_val']:.4f} at step {res['best_step']}"]
    for name, d in (solver or {}).get("val", {}).items():
        lines.append(f"  validation {name}: {_solver_text(d)}")
    for name, r in res["test"].items():
        if "solver" in r:
            lines.append(f"test {name} (n={r['n']}, {r['count']} samples): {r['score']:.4f}; "
                         f"{_solver_text(r['solver'])}")
        else:
            lines.append(f"test {name} (n={r['n']}, {r['count']} samples, step count {r['step_count']}): "
                         f"{r['score']:.4f}")
    return lines


@_guarded
def cmd_eval(args) -> int:
    from .evaluation import evaluate_checkpoint

    algs = args.algorithm.split(",") if args.algorithm else None
    results = evaluate_checkpoint(args.checkpoint, n=args.n, count=args.count, seed=args.seed, algorithms=algs,
                                  batch_size=args.batch_size, device=args.device, step_count=args.step_count,
                                  which=args.which)
    labels = {name: set_label(name, args.n, r.count, args.seed) for name, r in results.items()}
    if _model_of(args.checkpoint, args.which) == "deq":  # its solver, not a step count, decides
        from .loop import SOLVER

        for r in results.values():
            r.step_count = SOLVER
    if args.json:
        print(json.dumps({k: {**r.as_dict(), "split": labels[k]} for k, r in results.items()}, indent=1))
        return 0
    for label in dict.fromkeys(labels.values()):
        print(f"set: {label}")
    print("| algorithm | n | samples | step count | score | outputs | hints |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        outs = ", ".join(f"{k} {v:.4f}" for k, v in r.scores.outputs.items())
        hints = ", ".join(f"{k} {v:.4f}" for k, v in r.scores.hints.items())
        print(f"| {name} | {r.n} | {r.count} | {r.step_count} | {r.scores.score:.4f} | {outs} | {hints} |")
    return 0


def _model_of(path, which: str) -> str | None:
    from . import checkpoint as ck

    return ck.read_meta(ck.resolve(path, which)).get("model")


def set_label(algorithm: str, n: int, count: int, seed: int | None) -> str:
    """``'test'`` when ``n``/``count``/``seed`` give exactly the CLRS30 test split of ``algorithm`` (the
    same graphs), else ``'custom (n=.., count=.., seed=..)'``."""
    from ..data.splits import CLRS30_SPLITS, split_params

    base = split_params(algorithm, "test")
    seed = CLRS30_SPLITS["test"].seed if seed is None else seed
    if (n, count, seed) == (base["n"], base["count"], base["seed"]):
        return "test"
    return f"custom (n={n}, count={count}, seed={seed})"


@_guarded
def cmd_report(args) -> int:
    from .report import write_report

    out = Path(args.out).resolve()
    md, png = write_report(args.runs, out)
    print(md)
    print(f"\nwrote {out / 'report.md'}" + (f" and {png}" if png else " (no PNG: matplotlib missing)"))
    return 0


def _option_type(key: str, default):
    """argparse type of a model option's flag, from its default (the factory validates the value)."""
    if isinstance(default, bool):
        def parse(text: str) -> bool:
            if text.lower() not in ("true", "false"):
                raise argparse.ArgumentTypeError(f"must be true or false, got {text!r}")
            return text.lower() == "true"
        return parse
    if isinstance(default, (int, float)):
        kind = type(default)

        def number(text: str):
            try:
                value = kind(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"must be {'an integer' if kind is int else 'a number'}, "
                                                 f"got {text!r}") from None
            if not math.isfinite(value):
                raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
            return value
        number.__name__ = kind.__name__
        return number
    return str


def _option_choices(key: str):
    from ..models.equilibrium import GRADIENTS
    from ..models.solvers import SOLVERS, STOP_MODES

    return {"solver": SOLVERS, "stop": tuple(STOP_MODES), "grad": GRADIENTS}.get(key)


def _show(value) -> str:
    return "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _add_option_flags(p, model: str, options: dict) -> None:
    """One flag per option of ``model`` (``--max-iter`` sets ``model_options.max_iter``)."""
    group = p.add_argument_group(f"options of --model {model} (its model_options; an error with another model)")
    for key, default in options.items():
        flag = _flag(key)
        if any(flag in a.option_strings for a in p._actions):
            continue  # an option of two models: one flag
        text = _OPTION_HELP.get(key, f"model option {key}")
        group.add_argument(flag, dest=_OPTION + key, type=_option_type(key, default), choices=_option_choices(key),
                           default=None, metavar=None if _option_choices(key) else "{true,false}" if isinstance(default, bool)
                           else key.upper(),
                           help=f"{text} (default {_show(default)})")


def add_subparser(sub) -> None:
    """Add ``train``, ``eval`` and ``report`` to the ``nar`` command's subparsers."""
    from ..models import list_processors
    from .config import STEP_COUNTS, TrainConfig
    from .models import MODELS

    d = TrainConfig()
    processors = list_processors()
    p = sub.add_parser("train", help="train a learned reasoner (single- or multi-task, step-wise or DEAR)",
                       description="Train a learned reasoner. Config: defaults < --config < flags < --set. "
                                   f"Processors: {', '.join(processors)}. Models: {', '.join(MODELS)} "
                                   "(deq = DEAR, with the model options below).")
    p.add_argument("--algorithm", help=f"one algorithm (default {','.join(d.algorithms)}; `nar algorithms` lists them)")
    p.add_argument("--algorithms", help="'all' or a comma-separated list (multi-task)")
    p.add_argument("--model", choices=tuple(MODELS), help=f"reasoner: step-wise; deq: DEAR, a deep equilibrium "
                   f"reasoner (default {d.model})")
    p.add_argument("--processor", choices=processors, metavar="PROCESSOR",
                   help=f"one of {', '.join(processors)} (default {d.processor})")
    p.add_argument("--steps", type=POSITIVE_INT, help=f"training steps (default {d.steps})")
    p.add_argument("--batch-size", dest="batch_size", type=POSITIVE_INT, help=f"samples per step (default {d.batch_size})")
    p.add_argument("--lr", type=POSITIVE_FLOAT, help=f"Adam's learning rate (default {d.lr:g})")
    p.add_argument("--hidden", type=POSITIVE_INT, help=f"latent width (default {d.hidden})")
    p.add_argument("--seed", type=SEED, help=f"random seed (default {d.seed})")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help=f"(default {d.device})")
    p.add_argument("--threads", type=POSITIVE_INT, help="torch CPU threads (default: torch's)")
    p.add_argument("--time-limit", dest="time_limit", type=POSITIVE_FLOAT,
                   help="stop after this many seconds (default: none)")
    p.add_argument("--step-count", dest="step_count", choices=STEP_COUNTS,
                   help=f"ground-truth trajectory length or a learned termination head (default {d.step_count}; "
                        "step-wise reasoner only)")
    p.add_argument("--config", help="YAML or JSON config file (keys: the TrainConfig fields; `algorithm` too)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config key (repeatable; model_options.KEY=VALUE sets one model option)")
    p.add_argument("--out", help="run directory (default runs/<algorithm>-<processor>-s<seed>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    for model, factory in MODELS.items():
        if factory.options:
            _add_option_flags(p, model, factory.options)
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
    p.add_argument("--out", default="report", help="folder for report.md and learning_curves.png (default "
                   "./report; the paths written are printed)")
    p.set_defaults(func=cmd_report)
