"""Speed at parity: one training step of the reference CLRS model (dm-clrs, JAX) and of nar, same run.

Triplet-GMPNN, hidden 128, batch 32, n = 16, hints encoded and decoded, soft feedback, Adam + clipping
(the reference's ``run.py`` defaults); both models start from the same weights and step on the **same
batches** (sampled by the reference's pipeline at n = 16, converted with ``parity.to_batch``).  Steps are
interleaved (reference, then nar, on the same batch), so both run under the same load.  For each of
``--batches`` batches the first step of each is discarded (the reference compiles every new batch shape;
nar's first step allocates), then ``--reps`` warm steps of each are timed: the table gives the median warm
step of both and the speed-up.

It also measures this machine's matmul throughput (the message MLP's ``[B*N*N, H] x [H, H]`` product, forward
and its two backward shapes) and counts the floating-point operations of one nar step
(``torch.utils.flop_counter``), so each step is also given as a fraction of that throughput.
The load average goes with every row.

    python benchmarks/speed_parity.py --threads 1 --fragment benchmarks/fragments/fidelity.md
    python benchmarks/speed_parity.py --algorithms bfs --reps 3 --batch 8 --hidden 32   # a quick check

``--fragment`` rewrites the table between the ``<!-- speed_parity:begin -->`` / ``end`` markers of that file
(appends them when missing).  ``--profile ALG`` prints a torch.profiler table of nar's step on that algorithm
instead.  The reference needs its throwaway environment (``scripts/golden/make_golden.sh``; ``NAR_GOLDEN_VENV``).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see benchmarks/step_time.py

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from parity import Reference, reference_twin, to_batch  # noqa: E402

CORE = ["bfs", "dfs", "bellman_ford", "dijkstra", "dag_shortest_paths", "mst_prim", "topological_sort",
        "insertion_sort", "minimum", "binary_search"]
BEGIN, END = "<!-- speed_parity:begin -->", "<!-- speed_parity:end -->"


def nar_step(model, opt, batch) -> float:
    """One training step as ``nar.train.loop`` takes it (no teacher forcing); wall seconds."""
    t = time.perf_counter()
    model.train()
    loss = model.loss(model(batch, 0.0), batch)["total"]
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return time.perf_counter() - t


def step_flops(model, batch) -> int:
    """Floating-point operations (matmuls and convolutions: what torch's counter sees) of forward + backward."""
    with FlopCounterMode(display=False) as fc:
        loss = model.loss(model(batch, 0.0), batch)["total"]
        loss.backward()
    model.zero_grad(set_to_none=True)
    return fc.get_total_flops()


def matmul_gflops(rows: int, hidden: int, reps: int = 30) -> float:
    """Median GFLOP/s of ``[rows, H] x [H, H]`` and the two backward products (``x^T g`` and ``g W^T``)."""
    x, w, g = torch.randn(rows, hidden), torch.randn(hidden, hidden), torch.randn(rows, hidden)
    out = []
    for f in (lambda: x @ w, lambda: x.t() @ g, lambda: g @ w.t()):
        f()
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t)
        out.append(2 * rows * hidden * hidden / statistics.median(ts) / 1e9)
    return statistics.median(out)


def run_algorithm(algorithm: str, args) -> dict:
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix=f"nar-speed-{algorithm}-") as tmp:
        wd = Path(tmp)
        ref_args = argparse.Namespace(steps=args.batches, batch=args.batch, hidden=args.hidden, seed=args.seed,
                                      val_samples=args.batch, lengths=str(args.n))
        ref = Reference(wd, ref_args, algorithm)
        try:
            spec = json.loads((wd / "spec.json").read_text())
            with np.load(wd / "data.npz") as z:
                batches = [to_batch(algorithm, spec, z, f"train/{k}") for k in range(args.batches)]
            model = reference_twin(algorithm, args.hidden, wd / "init.npz")
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            tr, tn, compiles = [], [], []
            for k, b in enumerate(batches):
                r = ref(cmd="step", k=k)  # compiles this shape
                compiles.append(r["time"])
                nar_step(model, opt, b)
                for _ in range(args.reps):
                    r = ref(cmd="step", k=k)
                    if r["compiled"]:
                        raise RuntimeError(f"{algorithm}: the reference recompiled a shape it had seen")
                    tr.append(r["time"])
                    tn.append(nar_step(model, opt, b))
            flops = statistics.median(step_flops(model, b) for b in batches)
        finally:
            ref.close()
    med_r, med_n = statistics.median(tr), statistics.median(tn)
    return {"algorithm": algorithm, "T": [int(b.max_length) for b in batches], "reference_s": med_r, "nar_s": med_n,
            "speedup": med_r / med_n, "reference_compile_s": compiles, "reference_all": tr, "nar_all": tn,
            "nar_gflop": flops / 1e9, "load": [load0, os.getloadavg()[0]]}


def table(rows: list[dict], gflops: float, meta: str) -> str:
    out = [meta, "",
           "| algorithm | T (per batch) | reference s/step (median warm) | nar s/step | speed-up | nar GFLOP/step "
           "| nar at matmul throughput | load avg start / end |", "|---" * 8 + "|"]
    for r in rows:
        ideal = r["nar_gflop"] / gflops
        out.append(f"| {r['algorithm']} | {'/'.join(map(str, r['T']))} | {r['reference_s']:.3f} | {r['nar_s']:.3f} "
                   f"| **{r['speedup']:.1f}x** | {r['nar_gflop']:.2f} | {ideal:.3f} s ({100 * ideal / r['nar_s']:.0f}%) "
                   f"| {r['load'][0]:.1f} / {r['load'][1]:.1f} |")
    sp = [r["speedup"] for r in rows]
    if sp:
        out += ["", f"Speed-up: min {min(sp):.1f}x, geometric mean {float(np.exp(np.mean(np.log(sp)))):.1f}x; "
                    f"{sum(s >= 5 for s in sp)} of {len(sp)} at >= 5x."]
    return "\n".join(out)


def write_fragment(path: Path, text: str) -> None:
    block = f"{BEGIN}\n{text}\n{END}"
    old = path.read_text() if path.exists() else ""
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + block + old[old.index(END) + len(END):]
    else:
        new = old + ("\n" if old and not old.endswith("\n") else "") + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new)


def profile(algorithm: str, args) -> None:
    """torch.profiler table (self CPU time) of nar's warm step, on nar's own batch at n = ``args.n``."""
    import nar
    from nar.data import collate
    from nar.models import Reasoner

    model = Reasoner(algorithm, "triplet_gmpnn", hidden=args.hidden, nb_triplet_fts=8, use_ln=True,
                     hint_mode="encoded_decoded", feedback="soft", encoder_init="xavier_on_scalars", dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    b = collate(nar.sample(algorithm, n=args.n, count=args.batch, seed=args.seed))
    nar_step(model, opt, b)
    ts = [nar_step(model, opt, b) for _ in range(args.reps)]
    print(f"# {algorithm}: T = {b.max_length}, median step {statistics.median(ts):.3f} s, "
          f"{step_flops(model, b) / 1e9:.2f} GFLOP, load {os.getloadavg()[0]:.1f}")
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True) as prof:
        nar_step(model, opt, b)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.profile_rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--algorithms", nargs="+", default=CORE)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--batches", type=int, default=2, help="distinct batches (shapes) per algorithm")
    ap.add_argument("--reps", type=int, default=5, help="timed warm steps per batch, each library")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's); the reference's "
                    "XLA threads follow XLA_FLAGS")
    ap.add_argument("--out", default="/tmp/nar-speed-parity.json", help="JSON, rewritten after every algorithm")
    ap.add_argument("--fragment", default=None, help="Markdown file whose speed_parity block gets the table")
    ap.add_argument("--profile", default=None, metavar="ALG", help="only profile nar's step on ALG")
    ap.add_argument("--profile-rows", type=int, default=25)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.profile:
        profile(args.profile, args)
        return
    gflops = matmul_gflops(args.batch * args.n * args.n, args.hidden)
    meta = (f"`python benchmarks/speed_parity.py {' '.join(sys.argv[1:])}` — "
            f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, "
            f"{platform.node()} ({platform.processor() or platform.machine()}, {os.cpu_count()} cpus), "
            f"torch {torch.__version__} on {torch.get_num_threads()} thread(s), "
            f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '(unset)')!r}; n = {args.n}, batch {args.batch}, hidden "
            f"{args.hidden}; {args.batches} batches x {args.reps} warm steps each. Matmul throughput "
            f"([{args.batch * args.n * args.n}, {args.hidden}] x [{args.hidden}, {args.hidden}] and its backward "
            f"products, median): **{gflops:.1f} GFLOP/s**; 'nar at matmul throughput' = nar's counted FLOPs / that "
            f"rate (the share of the step it would take if it were all such matmuls).")
    rows = []
    for a in args.algorithms:
        rows.append(run_algorithm(a, args))
        r = rows[-1]
        print(f"{a}: reference {r['reference_s']:.3f} s, nar {r['nar_s']:.3f} s, {r['speedup']:.1f}x, "
              f"load {r['load'][1]:.1f}", flush=True)
        Path(args.out).write_text(json.dumps({"meta": meta, "matmul_gflops": gflops, "rows": rows}, indent=1))
    text = table(rows, gflops, meta)
    print(text)
    if args.fragment:
        write_fragment(Path(args.fragment), text)
        print("wrote", args.fragment)


if __name__ == "__main__":
    main()
