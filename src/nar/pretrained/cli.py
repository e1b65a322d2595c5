"""``nar pretrained list | show NAME | verify [NAME] [--scores] | export RUN --name NAME``."""
from __future__ import annotations

import json
import sys

from ..argtypes import int_at_least


def cmd_list(args) -> int:
    from . import table

    print(table())
    return 0


def cmd_show(args) -> int:
    from . import card

    print(json.dumps(card(args.name), indent=1, sort_keys=True))
    return 0


def cmd_verify(args) -> int:
    from . import CHECK_COUNT, list_entries, verify

    names = [args.name] if args.name else list_entries()
    if not names:
        print("no pretrained entries are installed")
        return 0
    for name in names:
        res = verify(name, scores=args.scores)
        line = f"{name}: sha256 ok"
        if args.scores:
            line += f"; scores on the first {CHECK_COUNT} graphs at n = " + ", ".join(
                f"{n}: " + "/".join(f"{v:.3f}" for v in s.values()) for n, s in res["scores"].items()) + \
                " reproduce the card"
        print(line, flush=True)
    return 0


def cmd_export(args) -> int:
    from . import export

    counts = None if args.count is None else {n: args.count for n in (16, 64, 128)}
    data = export(args.run, args.name, config_file=args.config, counts=counts, code_commit=args.commit)
    print(f"exported {args.name}: {data['bytes'] / 1e6:.2f} MB, steps {data['steps_done']}/{data['steps_budget']}, "
          f"scores {data['scores']}")
    return 0


def add_subparser(sub) -> None:
    p = sub.add_parser("pretrained", help="the library of pretrained processors shipped with nar",
                       description="List, inspect and verify the pretrained processors shipped with nar.")
    ps = p.add_subparsers(dest="pretrained_command", required=True)
    q = ps.add_parser("list", help="a table of the entries and their scores")
    q.set_defaults(func=cmd_list)
    q = ps.add_parser("show", help="print one entry's model card (JSON)")
    q.add_argument("name")
    q.set_defaults(func=cmd_show)
    q = ps.add_parser("verify", help="check the weights' sha256 (and optionally re-measure the scores)")
    q.add_argument("name", nargs="?", help="one entry (default: all)")
    q.add_argument("--scores", action="store_true",
                   help="also re-measure the card's check scores (first 4 graphs at n = 16, 64, 128)")
    q.set_defaults(func=cmd_verify)
    q = ps.add_parser("export", help="add a training run's best checkpoint as an entry (maintainers)")
    q.add_argument("run", help="run directory")
    q.add_argument("--name", required=True)
    q.add_argument("--config", help="the committed config file the run was trained from")
    q.add_argument("--count", type=int_at_least(1), default=None,
                   help="graphs per score size (default: CLRS30 counts at n = 16 and 64, 8 at n = 128)")
    q.add_argument("--commit", help="git commit the run was trained with (recorded in the card)")
    q.set_defaults(func=cmd_export)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: nar pretrained ...")
