"""Train a learned reasoner on one algorithm, test it out of distribution (n = 64), write a report.

    python examples/02_train_and_evaluate.py                  # Triplet-GMPNN on bfs, 500 steps (minutes on CPU)
    python examples/02_train_and_evaluate.py --algorithm dijkstra --steps 2000 --device cuda
    python examples/02_train_and_evaluate.py --tiny           # a tiny MPNN, 10 steps (seconds)

The same run from the command line:
    nar train --algorithm bfs --processor triplet_gmpnn --hidden 128 --steps 500 --out runs/examples/train
    nar eval runs/examples/train --n 64
    nar report runs/examples/train --out runs/examples/train
"""
import argparse
import shutil
from pathlib import Path

from nar.train import TrainConfig, evaluate_checkpoint, train
from nar.train.report import write_report

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--algorithm", default="bfs")
ap.add_argument("--processor", default="triplet_gmpnn")
ap.add_argument("--steps", type=int, default=500)
ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
ap.add_argument("--out", default="runs/examples/train", help="run directory (replaced if it exists)")
ap.add_argument("--tiny", action="store_true", help="tiny model, 10 steps, small sets (seconds)")
args = ap.parse_args()

out = Path(args.out)
shutil.rmtree(out, ignore_errors=True)  # a run directory holds one run (use --resume to continue one)

# CLRS-baseline defaults (hidden 128, batch 32, Adam 1e-3, sizes 4/7/11/13/16, no teacher forcing,
# soft hint feedback); validation on n = 16 every eval_every steps, test of the best checkpoint at n = 64.
cfg = TrainConfig(algorithms=[args.algorithm], processor=args.processor, steps=args.steps,
                  device=args.device, seed=0, eval_every=50)
if args.tiny:
    cfg = cfg.replace(processor="mpnn", hidden=16, steps=10, batch_size=8, train_sizes=[4, 7],
                      val_count=8, test_count=8, test_n=16, eval_every=5, checkpoint_every=5,
                      log_every=5, threads=1)

results = train(cfg, out, progress=not args.tiny)
print(f"\n{results['steps_done']} steps in {results['seconds']:.0f} s; best validation score "
      f"{results['best_val']:.3f} (n = {cfg.val_n}) at step {results['best_step']}")
for name, r in results["test"].items():
    print(f"test {name}: n = {r['n']}, {r['count']} samples, score {r['score']:.3f}, hints {r['hints']}")

# Score the best checkpoint again on a fresh set of any size (here: twice the test size).
n = 2 * cfg.test_n
for name, r in evaluate_checkpoint(out, n=n, count=8 if args.tiny else 32, seed=7).items():
    print(f"fresh set at n = {r.n}: {name} score {r.scores.score:.3f} (outputs {r.scores.outputs})")

# A markdown table and the learning curves (PNG when matplotlib is installed).
md, png = write_report([out], out)
print("\n" + md)
print(f"learning curves: {png}" if png else "no PNG (pip install matplotlib)")
