"""`make demo`: the main job on built-in defaults (grows as the library grows)."""
from __future__ import annotations

import sys
from pathlib import Path


def main(out: str = "demo_out") -> int:
    import nar
    from nar.cli import main as cli

    out_dir = Path(out)
    out_dir.mkdir(exist_ok=True)
    print(f"nar {nar.__version__}: {len(nar.list_algorithms())} CLRS-30 algorithms\n")
    cli(["show", "insertion_sort", "--n", "8", "--seed", "0", "--png", str(out_dir / "insertion_sort.png")])
    cli(["show", "bfs", "--n", "8", "--seed", "0", "--png", str(out_dir / "bfs.png")])
    cli(["sample", "dijkstra", "--n", "16", "--count", "100", "--seed", "0",
         "--out", str(out_dir / "dijkstra_n16.npz")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
