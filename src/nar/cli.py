"""The ``nar`` command: ``nar algorithms | sample | show`` (+ the training and exact sub-commands)."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from .argtypes import int_at_least
from .validation import InputError

SAMPLE_FORMATS = (".safetensors",)  # extensions `nar sample --out` writes (nar's trajectory file)


class Terminated(BaseException):
    """Raised by the ``nar`` command's SIGTERM handler, so that ``finally`` blocks (temp-file
    cleanup) run before the process exits with 143."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit code 2), like nar's other errors."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _version() -> str:
    from . import __version__

    return __version__


def _parse_option(text: str) -> tuple[str, object]:
    """``key=value`` with a JSON value when it parses (numbers, lists), else the string."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"sampler option must look like key=value, got {text!r}")
    key, raw = text.split("=", 1)
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def cmd_algorithms(args) -> int:
    from .algorithms.registry import registered
    from .specs import EVAL_MULTIPLIER, FAMILIES, SPECS, Stage

    done = registered()
    print(f"{'algorithm':<32} {'family':<20} {'mult':>4}  outputs")
    for family, names in FAMILIES.items():
        for name in names:
            outs = ", ".join(f"{k} ({p.location} {p.type})" for k, p in SPECS[name].items()
                             if p.stage == Stage.OUTPUT)
            flag = "" if name in done else "  [not implemented]"
            print(f"{name:<32} {family:<20} {EVAL_MULTIPLIER.get(name, 1):>4}  {outs}{flag}")
    return 0


def cmd_sample(args) -> int:
    from tqdm import tqdm

    from .api import iter_samples
    from .data import save_trajectories

    out = Path(args.out)
    if out.suffix.lower() not in SAMPLE_FORMATS:
        raise InputError(f"--out {out}: unsupported extension {out.suffix or '(none)'!r}; nar sample "
                         f"writes {' or '.join(SAMPLE_FORMATS)} (nar's trajectory file, any "
                         f"safetensors reader opens it; load it with nar.data.load_trajectories)")
    options = dict(args.option or [])
    stream = iter_samples(args.algorithm, n=args.n, count=args.count, seed=args.seed,
                          random_pos=args.random_pos, **options)
    with tqdm(total=args.count, desc=f"{args.algorithm} n={args.n}", unit="sample",
              disable=args.quiet) as bar:
        def progress(done, _total, _what) -> None:  # generation and encoding, sample by sample
            bar.update(done - bar.n)
            if done == args.count:
                bar.set_postfix_str(f"writing {out.name}")

        # streamed: each trajectory is encoded as it is drawn, so the bar covers the whole job
        sha = save_trajectories(out, stream, progress=progress)
    print(f"wrote {args.count} trajectories of {args.algorithm} (n={args.n}, seed={args.seed}) "
          f"to {out} (sha256 {sha})")
    return 0


def cmd_splits(args) -> int:
    from tqdm import tqdm

    from .data import write_splits

    names = args.algorithms
    if names == ["all"]:
        from .specs import CLRS_30_ALGS

        names = list(CLRS_30_ALGS)
    with tqdm(desc="splits", unit="sample", disable=args.quiet) as bar:
        def progress(done, total, what):
            bar.total = total
            bar.set_description(str(what))
            bar.n = done
            bar.refresh()

        before = _manifest_shas(args.out)
        manifest = write_splits(args.out, names, splits=tuple(args.splits), overwrite=args.overwrite,
                                progress=progress)
    keys = [f"{a}/{s}" for a in names for s in args.splits]
    after = {k: e.get("sha256") for k, e in manifest["splits"].items()}
    written = sum(before.get(k) != after.get(k) for k in keys)
    kept = len(keys) - written
    print(f"{args.out}: wrote {written} split(s)" + (f", {kept} already there and verified" if kept else "")
          + f" ({', '.join(args.splits)} of {len(names)} algorithm(s); manifest.json; each file re-read "
          f"and checked against its sha256)")
    return 0


def _manifest_shas(out) -> dict:
    """``{"alg/split": sha256}`` of a folder's manifest before writing (empty if none or unreadable)."""
    from .data.splits import manifest_entries

    try:
        return {k: e.get("sha256") for k, e in manifest_entries(out).items()}
    except (InputError, OSError):
        return {}


def cmd_show(args) -> int:
    from .api import sample
    from .pretty import format_trajectory

    traj = sample(args.algorithm, n=args.n, count=1, seed=args.seed)[0]
    print(format_trajectory(traj))
    if args.png:
        from .viz import plot_trajectory

        print(f"figure: {plot_trajectory(traj, args.png)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nar", description="Neural algorithmic reasoning: CLRS-30 data, "
                                     "learned, equilibrium and exact reasoners.")
    parser.add_argument("--version", action="version", version=f"nar {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("algorithms", help="list the 30 CLRS algorithms with their outputs")
    p.set_defaults(func=cmd_algorithms)

    p = sub.add_parser("sample", help="generate trajectories and write them to a file")
    p.add_argument("algorithm")
    p.add_argument("--n", type=int_at_least(1), default=16, help="number of nodes (default 16)")
    p.add_argument("--count", type=int_at_least(1), default=1000,
                   help="number of trajectories (default 1000)")
    p.add_argument("--seed", type=int_at_least(0), default=0)
    p.add_argument("--out", required=True, help="output file, .safetensors (read it with "
                   "nar.data.load_trajectories or any safetensors reader)")
    p.add_argument("--random-pos", action="store_true", help="sorted U[0,1] pos, as in CLRS training")
    p.add_argument("--option", type=_parse_option, action="append", metavar="KEY=VALUE",
                   help="sampler option, e.g. p=0.3 or p=[0.1,0.5]")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("splits", help="write (or verify and resume) the fixed CLRS30-like splits")
    p.add_argument("algorithms", nargs="+", help="algorithm names, or 'all'")
    p.add_argument("--out", required=True, help="directory for <algorithm>/<split>.safetensors + manifest.json")
    p.add_argument("--splits", nargs="+", default=["train", "val", "test"], choices=["train", "val", "test"])
    p.add_argument("--overwrite", action="store_true", help="regenerate even splits written with other parameters")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_splits)

    p = sub.add_parser("show", help="print one trajectory and optionally draw its hints over time")
    p.add_argument("algorithm")
    p.add_argument("--n", type=int_at_least(1), default=8)
    p.add_argument("--seed", type=int_at_least(0), default=0)
    p.add_argument("--png", help="write a figure of the hints over time to this PNG")
    p.set_defaults(func=cmd_show)

    for module in ("nar.train.cli", "nar.exact.cli", "nar.pretrained.cli", "nar.text_cli"):
        _add_optional(sub, module)
    return parser


def _innermost(parser: argparse.ArgumentParser, args) -> argparse.ArgumentParser:
    """The (sub-)sub-command's parser that ``args`` were parsed by, so that its usage is shown."""
    while True:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or getattr(args, subs[0].dest, None) not in subs[0].choices:
            return parser
        parser = subs[0].choices[getattr(args, subs[0].dest)]


def _add_optional(sub, module: str) -> None:
    """Sub-commands contributed by other packages (``add_subparser(subparsers)``), when present."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("nar"):
            return
        raise
    mod.add_subparser(sub)


def _on_sigterm(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Run the ``nar`` command.  Bad input, bad files and OS errors (a path that cannot be written)
    are one line ``nar: error: ...`` and exit code 2; Ctrl-C is ``nar: interrupted`` (130), SIGTERM
    ``nar: terminated`` (143), both after cleanup (no temp file is left); anything else is a bug
    and keeps its traceback."""
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        parser = build_parser()
        try:
            args, extra = parser.parse_known_args(argv)
            if extra:  # reported by the sub-command's own parser, with its usage
                _innermost(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
        except SystemExit as exc:  # a usage error (one line, already printed) or --help
            return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
        return int(args.func(args) or 0)
    except BrokenPipeError:  # e.g. `nar algorithms | head`: the reader left; nothing to report
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except (InputError, KeyError, NotImplementedError, OSError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and not isinstance(exc, InputError) and exc.args else exc
        print(f"nar: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nar: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("nar: terminated (SIGTERM)", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)

if __name__ == "__main__":
    sys.exit(main())
