"""Train one generalist reasoner on several algorithms (a shared processor, per-algorithm encoders
and decoders; Ibarz et al. 2022), then score and use it per algorithm.

    python examples/04_generalist.py                      # 6 algorithms, 600 steps (minutes on a CPU)
    python examples/04_generalist.py --algorithms all --steps 10000 --device cuda   # the CLRS-30 generalist
    python examples/04_generalist.py --tiny               # 2 algorithms, 10 steps (seconds)

The same from the command line:
    nar train --algorithms bfs,bellman_ford,dijkstra,mst_prim,minimum,binary_search --steps 600 \
        --hidden 64 --out runs/examples/generalist
    nar eval runs/examples/generalist --n 64
"""
import argparse
import shutil

import networkx as nx
import numpy as np

import nar
from nar.train import TrainConfig, evaluate_checkpoint, train

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--algorithms", default="bfs,bellman_ford,dijkstra,mst_prim,minimum,binary_search",
                help="'all' or a comma-separated list")
ap.add_argument("--steps", type=int, default=600)
ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
ap.add_argument("--out", default="runs/examples/generalist", help="run directory (replaced if it exists)")
ap.add_argument("--tiny", action="store_true", help="2 algorithms, tiny model, 10 steps (seconds)")
args = ap.parse_args()

names = nar.list_algorithms() if args.algorithms == "all" else args.algorithms.split(",")
# One algorithm per training step, drawn uniformly; the validation score is the mean over algorithms.
# The generalist's stabilisers (gradient clipping, Xavier init of scalar encoders, layer norm, gating)
# are TrainConfig's defaults.
cfg = TrainConfig(algorithms=names, steps=args.steps, hidden=64, device=args.device, seed=0,
                  eval_every=100, val_count=32, test_count=32)
if args.tiny:
    cfg = cfg.replace(algorithms=["bfs", "bellman_ford"], processor="mpnn", hidden=16, steps=10,
                      batch_size=8, train_sizes=[4, 7], val_count=8, test_count=8, test_n=16,
                      eval_every=5, threads=1)

shutil.rmtree(args.out, ignore_errors=True)
results = train(cfg, args.out, progress=not args.tiny)
print(f"\n{results['steps_done']} steps in {results['seconds']:.0f} s; mean test score "
      f"{results['test_mean']:.3f} over {len(cfg.algorithms)} algorithms")
for name, r in results["test"].items():
    print(f"  {name:<20} test (n = {r['n']}): {r['score']:.3f}")

# Score a subset of the algorithms again on a fresh set (the CLI: nar eval RUN --algorithm a,b).
subset = cfg.algorithms[:2]
for name, r in evaluate_checkpoint(args.out, n=cfg.test_n, count=8, seed=11, algorithms=subset).items():
    print(f"fresh set: {name} {r.scores.score:.3f}")

# One model, several algorithms, on one graph of your own (weights are read from the adjacency matrix).
model = nar.load(args.out)
G = nx.connected_watts_strogatz_graph(12 if args.tiny else 48, 4, 0.2, seed=1)
for u, v in G.edges:
    G[u][v]["weight"] = float(np.random.default_rng(u * 1000 + v).uniform(0.1, 1.0))
A = nx.to_numpy_array(G)
for name in [a for a in ("bfs", "bellman_ford", "dijkstra") if a in model.algorithms]:
    pred = model.predict(name, A=A, s=0)["pi"]
    truth = nar.execute(name, A=A, s=0).outputs["pi"]
    print(f"own graph, {name:<13}: parents right at {np.mean(pred == truth):.1%} of {len(pred)} nodes")
