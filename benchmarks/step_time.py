"""Training-step time of the Reasoner on CPU beside the CLRS reference (dm-clrs 2.0.3, JAX on CPU).

One step = forward (hints encoded and decoded, soft feedback, no teacher forcing, as CLRS run.py)
+ loss + backward + gradient clipping (1.0) + Adam.  Batches are sampled before timing.

Phase "fixed": BFS, n = 16, batch 32 (the reference: triplet_gmpnn 1.8 s/step, mpnn 1.25 s/step).
Phase "alternating": sizes 4, 7, 11, 13, 16 cycled (the CLRS training lengths); the reference
recompiles for every new size or trajectory length (7-19 s each) and then runs warm at
0.04 / 0.18 / 0.38 / 0.70 / ~1.1 s per step.  Eager PyTorch has nothing to recompile: the table
shows the slowest step and the first step after each size change.

    python benchmarks/step_time.py [--processors triplet_gmpnn mpnn] [--steps 20] [--threads 2]

OpenMP threads sleep instead of spinning while waiting (``OMP_WAIT_POLICY=PASSIVE``, set here unless the
environment says otherwise): on a shared 2-core machine spinning threads make every op 5-10x slower.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # must precede the first import of torch

import torch  # noqa: E402

import nar  # noqa: E402
from nar.data import collate  # noqa: E402
from nar.models import Reasoner  # noqa: E402

REFERENCE_FIXED = {"triplet_gmpnn": 1.8, "mpnn": 1.25}  # s/step, n = 16, batch 32
REFERENCE_ALTERNATING = {4: 0.04, 7: 0.18, 11: 0.38, 13: 0.70, 16: 1.1}  # warm s/step, triplet_gmpnn


def batches(algorithm: str, sizes: list[int], batch: int, count: int, seed: int):
    out = []
    for i in range(count):
        n = sizes[i % len(sizes)]
        out.append(collate(nar.sample(algorithm, n=n, count=batch, seed=seed + i)))
    return out


CPU_TIMES: list[float] = []  # process CPU seconds of every timed step (all threads), for the footer


def time_steps(model: Reasoner, data, clip: float = 1.0) -> list[float]:
    """Wall seconds of one training step per batch in ``data``."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for b in data:
        t, c = time.perf_counter(), time.process_time()
        losses = model.loss(model(b, teacher_forcing=0.0), b)
        opt.zero_grad(set_to_none=True)
        losses["total"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        times.append(time.perf_counter() - t)
        CPU_TIMES.append(time.process_time() - c)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processors", nargs="+", default=["triplet_gmpnn", "mpnn"])
    ap.add_argument("--algorithm", default="bfs")
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20, help="timed steps per phase")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--sizes", type=int, nargs="+", default=[4, 7, 11, 13, 16])
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    load0 = os.getloadavg()[0]
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, "
          f"load average {load0:.1f} at start")
    print(f"# {args.algorithm}, batch {args.batch}, hidden {args.hidden}, hints encoded+decoded, soft feedback, "
          f"forward+backward+clip+Adam; median (p90, max) s/step over {args.steps} steps")
    fixed = batches(args.algorithm, [args.n], args.batch, args.warmup + args.steps, seed=1)
    alternating = batches(args.algorithm, args.sizes, args.batch, args.warmup + args.steps, seed=1000)
    print()
    print("| processor | phase | median s/step | p90 | max | reference s/step | speed-up (median) |")
    print("|---|---|---|---|---|---|---|")
    per_size_rows = []
    cpu_fixed: dict[str, float] = {}
    for proc in args.processors:
        model = Reasoner(args.algorithm, proc, hidden=args.hidden)
        CPU_TIMES.clear()
        t = time_steps(model, fixed)[args.warmup:]
        med = statistics.median(t)
        cpu_fixed[proc] = statistics.median(CPU_TIMES[args.warmup:])
        ref = REFERENCE_FIXED.get(proc)
        p90 = sorted(t)[int(0.9 * (len(t) - 1))]
        print(f"| {proc} | n = {args.n} | {med:.3f} | {p90:.3f} | {max(t):.3f} | "
              f"{ref if ref else '-'} | {f'{ref / med:.1f}x' if ref else '-'} |")
        model = Reasoner(args.algorithm, proc, hidden=args.hidden)  # fresh: the first steps are the changes
        t = time_steps(model, alternating)
        sizes = [b.max_nodes for b in alternating]
        firsts = t[:len(args.sizes)]  # first time each size is seen
        med = statistics.median(t)
        print(f"| {proc} | sizes {'/'.join(map(str, args.sizes))} | {med:.3f} | "
              f"{sorted(t)[int(0.9 * (len(t) - 1))]:.3f} | {max(t):.3f} | 7-19 s per new shape | - |")
        for n in args.sizes:
            ts = [x for x, s in zip(t, sizes) if s == n]
            per_size_rows.append((proc, n, statistics.median(ts), max(ts), firsts[args.sizes.index(n)],
                                  REFERENCE_ALTERNATING.get(n) if proc == "triplet_gmpnn" else None))
    print()
    print("| processor | n | median s/step | max | first step at this size | reference warm s/step |")
    print("|---|---|---|---|---|---|")
    for proc, n, med, mx, first, ref in per_size_rows:
        print(f"| {proc} | {n} | {med:.3f} | {mx:.3f} | {first:.3f} | {ref if ref is not None else '-'} |")
    print("\n# median CPU seconds per step at n = %d (all threads): %s" % (
        args.n, ", ".join(f"{k} {v:.3f}" for k, v in cpu_fixed.items())))
    print(f"# load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
