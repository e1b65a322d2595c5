"""DEAR, the deep equilibrium reasoner: the processor's fixed point is found by a root solver, so no
step count and no hints are needed.  Trains DEAR and the step-wise reasoner without hints on the same
budget, then compares their scores and the solver's effort at a larger size.

    python examples/05_dear.py                             # bellman_ford, 300 steps each (minutes on a CPU)
    python examples/05_dear.py --algorithm insertion_sort --steps 1000
    python examples/05_dear.py --tiny                      # tiny models, a few steps (seconds)

DEAR from the command line (``model=deq``; the DEQConfig fields are model_options):
    nar train --algorithm bellman_ford --processor mpnn --set model=deq \
        --set model_options.tol=0.01 --out runs/examples/dear/deq
"""
import argparse
import shutil
from pathlib import Path

import torch

import nar
from nar.data import collate
from nar.models import evaluate
from nar.models.deq import evaluate_deq
from nar.train import TrainConfig, train

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--algorithm", default="bellman_ford")
ap.add_argument("--steps", type=int, default=300)
ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
ap.add_argument("--out", default="runs/examples/dear", help="folder for the two runs (replaced)")
ap.add_argument("--tiny", action="store_true", help="tiny models, a few steps (seconds)")
args = ap.parse_args()
out = Path(args.out)
shutil.rmtree(out, ignore_errors=True)

# The same budget for both models: MPNN processor (max aggregation, as in the DEAR paper), no hints.
base = TrainConfig(algorithms=[args.algorithm], processor="mpnn", hidden=64, steps=args.steps,
                   hint_mode="none", device=args.device, seed=0, eval_every=50, test_count=32)
if args.tiny:
    base = base.replace(hidden=8, steps=4, batch_size=4, train_sizes=[4, 5], val_count=4, test_count=4,
                        test_n=8, eval_every=2, checkpoint_every=2, threads=1)
# DEAR's solver settings are DEQConfig fields: Anderson (memory 6), relative tolerance 0.01, at most
# 40 iterations in training and 160 at evaluation, 1-step phantom gradient (nar.models.deq.DEQConfig).
dear = base.replace(model="deq", model_options={"solver": "anderson", "tol": 0.01, "max_iter": 40,
                                                "eval_max_iter": 160, "grad": "phantom"})

runs = {}
for label, cfg in (("stepwise", base), ("dear", dear)):
    res = train(cfg, out / label, progress=not args.tiny)
    runs[label] = res
    print(f"{label:<9} {res['steps_done']} steps in {res['seconds']:.0f} s; test at n = {cfg.test_n}: "
          f"{res['test'][args.algorithm]['score']:.3f}")

# Solver effort on larger graphs: processor applications per graph against the true step count.
n = 16 if args.tiny else 64
batch = collate(nar.sample(args.algorithm, n=n, count=4 if args.tiny else 16, seed=3))
deq = nar.load(out / "dear").model
stepwise = nar.load(out / "stepwise").model
with torch.no_grad():
    scores, solver = evaluate_deq(deq, batch)
    base_scores = evaluate(stepwise, batch)  # runs every graph for its ground-truth number of steps
print(f"\nn = {n}: step-wise (true step count) {base_scores.score:.3f}, DEAR {scores.score:.3f}")
print(f"true steps per graph: mean {batch.lengths.float().mean():.1f}; DEAR processor applications: "
      f"mean {solver.applications.float().mean():.1f}, max {int(solver.applications.max())}, "
      f"converged {solver.converged.float().mean():.0%}")
