"""``nar text``: stream CLRS-Text question/answer records of one algorithm to a JSONL file."""
from __future__ import annotations

import json
from pathlib import Path

from .argtypes import int_at_least
from .validation import InputError

_FLUSH = 1024  # records per write


def write_jsonl(out, records, total: int, desc: str = "", quiet: bool = False) -> str:
    """Write ``records`` (dicts) one JSON object a line to ``out`` atomically, with a progress bar;
    returns the file's sha256."""
    from tqdm import tqdm

    from .data.store import atomic_write

    out = Path(out)
    if out.suffix.lower() != ".jsonl":
        raise InputError(f"--out {out}: nar text writes JSON lines; the file name must end in .jsonl")

    def write(put) -> None:
        lines = []
        with tqdm(total=total, desc=desc, unit="example", disable=quiet) as bar:
            for rec in records:
                lines.append(json.dumps(rec, ensure_ascii=False))
                if len(lines) == _FLUSH:
                    put(("\n".join(lines) + "\n").encode())
                    bar.update(len(lines))
                    lines = []
            if lines:
                put(("\n".join(lines) + "\n").encode())
                bar.update(len(lines))

    return atomic_write(out, write)


def cmd_text(args) -> int:
    from .text import iter_examples

    records = iter_examples(args.algorithm, n=args.n, count=args.count, seed=args.seed,
                            trace=args.trace, **dict(args.option or []))
    sha = write_jsonl(args.out, records, args.count, f"{args.algorithm} n={args.n}", args.quiet)
    kind = "with trace" if args.trace else "without trace"
    print(f"wrote {args.count} CLRS-Text examples of {args.algorithm} (n={args.n}, seed={args.seed}, "
          f"{kind}) to {args.out} (sha256 {sha})")
    return 0


def add_subparser(sub) -> None:
    """Add ``nar text`` to the ``nar`` command's sub-parsers."""
    from .cli import _parse_option

    p = sub.add_parser("text", help="write CLRS-Text question/answer pairs (JSON lines)",
                       description="Draw inputs with nar's sampler (floats truncated to 3 decimals, "
                       "as CLRS-Text does) and write each as the reference CLRS-Text question and "
                       "answer, one JSON object a line: text, question, answer, algo_name, length, "
                       "use_hints.")
    p.add_argument("algorithm")
    p.add_argument("--n", type=int_at_least(1), default=16, help="input size (default 16)")
    p.add_argument("--count", type=int_at_least(1), default=1000, help="examples (default 1000)")
    p.add_argument("--seed", type=int_at_least(0), default=0)
    p.add_argument("--trace", action="store_true",
                   help="initial hint in the question, the hint trace before the answer")
    p.add_argument("--out", required=True, help="output file (.jsonl)")
    p.add_argument("--option", type=_parse_option, action="append", metavar="KEY=VALUE",
                   help="sampler option, e.g. p=0.3")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_text)
