"""Exact flooding on one large random graph with the NTK predictor: time and memory.

Kept for the command in benchmarks/RESULTS.md; the work is done by ``exact_large.py`` (any
program), which this runs with ``--program flooding`` (``--bits`` is the message width).

    python benchmarks/exact_flooding_large.py [--nodes 100000] [--max-degree 4] [--bits 1] [--threads N]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exact_large import main  # noqa: E402

if __name__ == "__main__":
    main(["--program", "flooding", *sys.argv[1:]])
