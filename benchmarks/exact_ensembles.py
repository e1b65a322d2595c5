"""Trained MLP ensembles as the node update of Equation 2: accuracy against ensemble size.

Members: two-layer ReLU MLPs, NTK parameterisation, no bias, trained all at once on the template
list (X = I) to a max residual of 1e-4 (:mod:`nar.exact.ensemble`).  For every configuration, the
distinct node inputs met along the ideal trajectories of all cases are collected once; an ensemble
of size s executes a case exactly iff none of that case's inputs is mispredicted, so the case
accuracy of ``s`` members is computed from the member outputs on those inputs (averaged over up to
8 disjoint groups of members).  Two thresholds: ``midgap`` (halfway between the NTK means of 1-bits
and 0-bits, calibrated on separate graphs) and ``1e-3`` (near zero, like the reference's 1e-4 and
5e-3; exactly 0 is unusable because trained members interpolate the m = 1 inputs only up to the
training residual).  The largest ensemble is then also run end to end through the GNN.

* ``trees`` (paper Fig. 4): flooding on all labelled trees with 7 nodes and maximum degree exactly
  D (D + 1 slots), all nonzero l-bit messages; (D, l) in (2,1) (3,1) (4,1) (2,2) (2,3).
* ``graphs`` (paper Fig. 6): flooding on 300 random graphs (n in 5..20, a hub of degree D), l = 1.
* ``programs`` (beyond the paper, which trained ensembles for flooding only): BFS, DFS and
  Bellman-Ford on 100 graphs of the reference distribution (n <= 7, D <= 3).

    python benchmarks/exact_ensembles.py [--parts trees graphs programs] [--width 512] [--members 1024]
        [--programs bfs dfs bellman_ford] [--budget SECONDS] [--cache runs/exact_ensembles] [--json FILE]

The ``programs`` part trains with checkpoints (one file per program, written atomically after
every 64 members): rerunning resumes, and ``--budget`` caps the training seconds of one run.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from nar.exact.ensemble import EnsemblePredictor, train_cached, train_for
from nar.exact.experiments import (collect_inputs, ensemble_curve, ensemble_size_bound, failing_templates,
                                   flooding_cases, labelled_trees)
from nar.exact.programs import get_program
from nar.exact.programs.flooding import Flooding
from nar.exact.verification import bounded_graph, reference_graphs, verify

SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]


def first_size(curve, target=1.0):
    for s, mean, lo, hi in curve:
        if lo >= target:
            return s
    return None


TRAIN = {"steps": 600, "tol": 1e-4}


def evaluate(name, program, cases, ins, calib_cases, calib_ins, width, members, seed=0, e2e=None):
    t0 = time.perf_counter()
    inp = collect_inputs(program, cases, 0, ins)
    cal = collect_inputs(program, calib_cases, 0, calib_ins)
    tau = cal.midgap()
    t1 = time.perf_counter()
    ens = train_for(program.compiled, width=width, members=members, seed=seed, **TRAIN)
    t2 = time.perf_counter()
    curves = ensemble_curve(ens, inp, SIZES, {"midgap": tau, "1e-3": 1e-3})
    t3 = time.perf_counter()
    ntk_ok = inp.case_accuracy(inp.mu > 1e-9)
    row = {"name": name, "cases": inp.cases, "inputs": len(inp.matched), "N": program.compiled.N,
           "k": program.k, "tau": tau, "ntk": ntk_ok, "curves": curves, "train_s": t2 - t1,
           "eval_s": t3 - t2, "collect_s": t1 - t0, "residual": ens.log.max_residual,
           "steps": ens.log.steps, "need_mid": first_size(curves["midgap"]), "need_zero": first_size(curves["1e-3"])}
    if e2e is not None:
        gs, gins = e2e
        t4 = time.perf_counter()
        rep = verify(program, gs, EnsemblePredictor(ens, tau=tau), inputs=gins, cross_check=False)
        row["e2e"] = (rep.passed, len(gs), time.perf_counter() - t4, members)
    print(f"{name:<22} cases {inp.cases:>6} inputs {len(inp.matched):>6} N {program.compiled.N:>4} "
          f"tau {tau:.4f} NTK {ntk_ok:.3f} | train {row['train_s']:.0f} s ({row['steps']} steps, "
          f"residual {row['residual']:.1e}), eval {row['eval_s']:.0f} s | members for 100%: "
          f"mid-gap {row['need_mid']}, 1e-3 {row['need_zero']}"
          + (f" | end to end with {members}: {row['e2e'][0]}/{row['e2e'][1]} exact in {row['e2e'][2]:.1f} s"
             if "e2e" in row else ""))
    print("   size " + " ".join(f"{s:>6}" for s, *_ in curves["midgap"]))
    for key in ("midgap", "1e-3"):
        print(f"   {key:>6} " + " ".join(f"{m:>6.3f}" for _, m, *_ in curves[key]))
    return row


def trees_part(width, members):
    rows = []
    for D, l in [(2, 1), (3, 1), (4, 1), (2, 2), (2, 3)]:
        f = Flooding(D=D, l=l, slots=D + 1)
        cases, ins = flooding_cases(labelled_trees(7, D), l)
        rng = np.random.default_rng(100 + D)
        calib, cins = flooding_cases([bounded_graph(rng, int(rng.integers(8, 12)), D, extra=0.0)
                                      for _ in range(200)], l)
        sub = np.random.default_rng(0).choice(len(cases), min(300, len(cases)), replace=False)
        rows.append(evaluate(f"trees n=7 D={D} l={l}", f, cases, ins, calib, cins, width, members,
                             e2e=([cases[i] for i in sub], [ins[i] for i in sub])))
    return rows


def graphs_part(width, members, count=300):
    rows = []
    for D in (2, 3, 4):
        f = Flooding(D=D, l=1)
        gs = reference_graphs(np.random.default_rng(D), count, (max(5, D + 1), 20), D, hub=True)
        cal = reference_graphs(np.random.default_rng(50 + D), 100, (max(5, D + 1), 20), D, hub=True)
        cases, ins = flooding_cases(gs, 1)
        ccases, cins = flooding_cases(cal, 1)
        rows.append(evaluate(f"graphs D={D} l=1", f, cases, ins, ccases, cins, width, members,
                             e2e=(cases[:100], ins[:100])))
    return rows


def programs_part(width, members, budget, cache: Path, names=("bfs", "dfs", "bellman_ford")):
    """Checkpointed training (``runs/exact_ensembles/*.pt``; a rerun resumes, a larger
    ``--members`` only trains the new members), at most ``budget`` training seconds per program
    and run; then case accuracy against size, the paper's bound and the end-to-end GNN run."""
    rows = []
    for name in names:
        cls = get_program(name)
        w = (1, 3) if cls.weighted else None
        gs = reference_graphs(np.random.default_rng(0), 100, (2, 7), 3, w)
        cal = reference_graphs(np.random.default_rng(1), 100, (2, 7), 3, w)
        prog = cls(D=3, l=cls.bits_for(gs + cal, sources=0))
        C = prog.compiled
        t0 = time.perf_counter()
        inp, calib = collect_inputs(prog, gs), collect_inputs(prog, cal)
        tau = calib.midgap()
        T = int(max(prog.bound(g, 0) for g in gs))
        bound = ensemble_size_bound(inp, C, tau, T)
        path = cache / f"{name}-D3-l{prog.l}-w{width}.pt"
        ens, info = train_cached(C, path, width=width, members=members, steps=TRAIN["steps"],
                                 tol=TRAIN["tol"], max_seconds=budget,
                                 progress=lambda n, s, r: print(f"   {name}: {n} members trained, "
                                                                f"{s:.0f} s, residual {r:.1e}", flush=True))
        t1 = time.perf_counter()
        curves = ensemble_curve(ens, inp, SIZES, {"midgap": tau, "1e-3": 1e-3})
        mean = ens.mean(inp.encoded())
        full, near_zero = (mean > tau).numpy(), (mean > 1e-3).numpy()
        row = {"name": f"{name} n<=7 D<=3", "program": name, "cases": inp.cases, "inputs": len(inp.matched),
               "N": C.N, "k": C.k, "l": prog.l, "T": T, "tau": tau, "width": width, "members": ens.M,
               "asked": members, "train_s": info["seconds"], "train_cpu_s": info["cpu_seconds"], "residual": info["max_residual"],
               "curves": curves, "need_mid": first_size(curves["midgap"]), "need_zero": first_size(curves["1e-3"]),
               "ntk": inp.case_accuracy(inp.mu > 1e-9), "bound": bound, "acc_all": inp.case_accuracy(full),
               "collisions": failing_templates(inp, C, full), "wall_s": t1 - t0,
               "acc_all_1e-3": inp.case_accuracy(near_zero),
               "collisions_1e-3": failing_templates(inp, C, near_zero)}
        t2 = time.perf_counter()
        rep = verify(prog, gs, EnsemblePredictor(ens, tau=tau), cross_check=False)
        row["e2e"] = (rep.passed, len(gs), time.perf_counter() - t2, ens.M)
        print(f"{row['name']:<22} N {C.N} k {C.k} l {prog.l} inputs {row['inputs']} tau {tau:.4f} | "
              f"{ens.M}/{members} members x width {width}, {info['seconds']:.0f} s training "
              f"({info['cpu_seconds']:.0f} s CPU), residual "
              f"{info['max_residual']:.1e} | members for 100%: mid-gap {row['need_mid']}, 1e-3 {row['need_zero']} "
              f"| all {ens.M}: {row['acc_all']:.3f} of cases | end to end: {rep.passed}/{len(gs)} exact "
              f"({row['e2e'][2]:.1f} s) | bound rho {bound['rho']:.2f}, Num {bound['num']:.3g}, "
              f"Thr {bound['thr']:.3g}, z>=5 {bound['z5']} | wrong bits written by {row['collisions']}; "
              f"at tau 1e-3: {row['acc_all_1e-3']:.3f} of cases, wrong bits written by {row['collisions_1e-3']}",
              flush=True)
        print("   size " + " ".join(f"{s:>6}" for s, *_ in curves["midgap"]))
        for key in ("midgap", "1e-3"):
            print(f"   {key:>6} " + " ".join(f"{m:>6.3f}" for _, m, *_ in curves[key]))
        rows.append(row)
    return rows


def table(rows) -> str:
    """The programs table (Markdown) for benchmarks/fragments/exact_ensembles.md."""
    out = ["| program | cases | distinct inputs | N | k | mid-gap tau | width | members trained | "
           "members, mid-gap | members, tau = 1e-3 | train s wall (CPU) | residual | end to end | paper bound Num (rho) | z >= 5 |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        b = r["bound"]
        out.append(f"| {r['name']} | {r['cases']} | {r['inputs']} | {r['N']} | {r['k']} | {r['tau']:.3f} | "
                   f"{r['width']} | {r['members']} | {r['need_mid'] or '> ' + str(r['members'])} | "
                   f"{r['need_zero'] or '> ' + str(r['members'])} | {r['train_s']:.0f} ({r.get('train_cpu_s', float('nan')):.0f}) | "
                   f"{r['residual']:.1e} | "
                   f"{r['e2e'][0]}/{r['e2e'][1]} | {b['num']:.3g} ({b['rho']:.2f}) | {b['z5']} |")
    return "\n".join(out)


def plot(rows, path: Path, title: str, legend: str = "lower right"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for i, r in enumerate(rows):
        for key, ls in (("midgap", "-"), ("1e-3", ":")):
            c = r["curves"][key]
            ax.plot([s for s, *_ in c], [m for _, m, *_ in c], ls, marker="o", ms=3, color=f"C{i}",
                    label=f"{r['name']}" if key == "midgap" else None)
    ax.set(xscale="log", xlabel="ensemble size", ylabel="case accuracy (exact execution)",
           title=title, ylim=(-0.03, 1.03))
    ax.plot([], [], "k-", label="mid-gap threshold")
    ax.plot([], [], "k:", label="threshold 1e-3")
    ax.legend(fontsize=7, loc=legend)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parts", nargs="+", default=["trees", "graphs", "programs"],
                    choices=["trees", "graphs", "programs"])
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--members", type=int, default=None, help="default: 4096 trees, 1024 graphs, 256 programs")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--steps", type=int, default=600, help="max training steps (default 600)")
    ap.add_argument("--tol", type=float, default=1e-4, help="training stops at this max residual (default 1e-4)")
    ap.add_argument("--out", type=Path, default=Path("docs/figures"))
    ap.add_argument("--programs", nargs="+", default=["bfs", "dfs", "bellman_ford"],
                    choices=["bfs", "dfs", "bellman_ford"])
    ap.add_argument("--budget", type=float, default=None,
                    help="programs: at most this many training seconds per program and run (resumable)")
    ap.add_argument("--cache", type=Path, default=Path("runs/exact_ensembles"),
                    help="programs: checkpoint folder (default runs/exact_ensembles; not committed)")
    ap.add_argument("--json", type=Path, default=None, help="programs: write the rows here")
    ap.add_argument("--replot", type=Path, nargs="+", default=None,
                    help="programs: only redraw the figure and table from rows saved with --json")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    TRAIN.update(steps=args.steps, tol=args.tol)
    print(f"# exact_ensembles  {time.strftime('%Y-%m-%d %H:%M')}  {os.cpu_count()} cores, torch "
          f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}, width {args.width}, "
          f"training to max residual {args.tol} or {args.steps} steps")
    if args.replot:
        rows = [r for f in args.replot for r in json.loads(f.read_text())]
        plot(rows, args.out / "exact_ensemble_programs.png", "BFS, DFS, Bellman-Ford (n <= 7, D <= 3)",
             legend="center left")
        print(table(rows))
        return
    if "trees" in args.parts:
        rows = trees_part(args.width, args.members or 4096)
        plot(rows, args.out / "exact_ensemble_trees.png", "Flooding on all trees, n = 7")
    if "graphs" in args.parts:
        rows = graphs_part(args.width, args.members or 1024)
        plot(rows, args.out / "exact_ensemble_graphs.png", "Flooding on random graphs, n = 5..20")
    if "programs" in args.parts:
        rows = programs_part(args.width, args.members or 256, args.budget, args.cache, args.programs)
        plot(rows, args.out / "exact_ensemble_programs.png", "BFS, DFS, Bellman-Ford (n <= 7, D <= 3)",
             legend="center left")
        print(table(rows))
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1, default=float) + "\n")

if __name__ == "__main__":
    main()
