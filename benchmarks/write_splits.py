"""Time and peak memory of writing the CLRS30-like splits (train/val/test) for all 30 algorithms.

    python benchmarks/write_splits.py [OUT_DIR] [--algorithms ...]

Peak resident memory is the process's ru_maxrss (Linux, KiB).  Target: below 2 GiB.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time

import nar
from nar.data import write_splits


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default=None)
    ap.add_argument("--algorithms", nargs="*", default=nar.list_algorithms())
    args = ap.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="nar_splits_")
    t0, c0 = time.perf_counter(), time.process_time()
    for name in args.algorithms:
        a0 = time.perf_counter()
        write_splits(out, [name])
        print(f"{name:32s} {time.perf_counter() - a0:7.1f} s   peak RSS so far "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.0f} MiB", flush=True)
    size = sum(p.stat().st_size for p in __import__("pathlib").Path(out).rglob("*.safetensors"))
    print(f"all: wall {time.perf_counter() - t0:.0f} s, CPU {time.process_time() - c0:.0f} s, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB, "
          f"on disk {size / 2**20:.0f} MiB")
    if args.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
