"""`make demo`: the main job on built-in defaults.

1. the benchmark generator: print and draw two trajectories, write a small fixed split;
2. a learned reasoner: train a Triplet-GMPNN on bfs for about two minutes on CPU, test it at n = 64,
   write its learning curve;
3. an exact reasoner: verify the exact BFS program with the NTK predictor on 100 random graphs.
Everything goes to ``demo_out/``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="demo_out")
    ap.add_argument("--seconds", type=float, default=120.0, help="training time of the bfs reasoner")
    args = ap.parse_args(argv)

    import nar
    from nar.cli import main as cli

    out = Path(args.out)
    out.mkdir(exist_ok=True)
    print(f"nar {nar.__version__}: {len(nar.list_algorithms())} CLRS-30 algorithms\n")
    print("== 1. trajectories " + "=" * 60)
    cli(["show", "insertion_sort", "--n", "8", "--seed", "0", "--png", str(out / "insertion_sort.png")])
    print()
    cli(["show", "bfs", "--n", "8", "--seed", "0", "--png", str(out / "bfs.png")])
    print()
    cli(["splits", "bfs", "insertion_sort", "--out", str(out / "splits"), "--splits", "val", "test", "--quiet"])

    print("\n== 2. a learned reasoner " + "=" * 54)
    nar.train.demo_run(out / "bfs_reasoner", seconds=args.seconds)

    print("\n== 3. an exact reasoner " + "=" * 55)
    code = cli(["exact", "verify", "bfs", "--graphs", "100", "--nodes", "2-7", "--max-degree", "3",
                "--predictor", "ntk"])
    print(f"\ndemo outputs are in {out}/")
    return code


if __name__ == "__main__":
    sys.exit(main())
