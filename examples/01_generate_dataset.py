"""Generate CLRS-30 data: run an algorithm on your own input, sample trajectories, save and reload
them, write the fixed CLRS30 splits, and batch them for a model.

    python examples/01_generate_dataset.py            # bfs: CLRS30 train/val/test splits (a few seconds)
    python examples/01_generate_dataset.py --tiny     # small counts, for a smoke test
"""
import argparse
from pathlib import Path

import numpy as np

import nar
from nar.data import (OnTheFlyDataset, SplitSpec, collate, load_split, load_trajectories,
                      save_trajectories, write_splits)

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--algorithm", default="bfs")
ap.add_argument("--out", default="runs/examples/dataset", help="folder for the files written")
ap.add_argument("--tiny", action="store_true", help="a few samples only (seconds)")
args = ap.parse_args()
out = Path(args.out)
name = args.algorithm

# 1. The probe table: CLRS names, stages, locations and types.
print(f"{len(nar.list_algorithms())} algorithms; the probes of {name}:")
for probe, p in nar.get_spec(name).items():
    print(f"  {probe:<8} {p.stage:<7} {p.location:<6} {p.type}")

# 2. One trajectory on an input of your own (argument names follow the CLRS signatures).
A = np.array([[0, 1, 0, 0],
              [1, 0, 1, 1],
              [0, 1, 0, 0],
              [0, 1, 0, 0]], dtype=float)
t = nar.execute("bfs", A=A, s=0)
print(f"\nbfs from node 0: {t.length} steps; parents pi = {t.outputs['pi']}; "
      f"hints {sorted(t.hints)} of shape {t.hints['reach_h'].shape}")

# 3. Sample from the CLRS default sampler (reproducible: same seed, same data) and save to disk.
count = 16 if args.tiny else 1000
trajs = nar.sample(name, n=16, count=count, seed=0)
path = out / f"{name}_n16.safetensors"
out.mkdir(parents=True, exist_ok=True)
save_trajectories(path, trajs, metadata={"note": "example 01"})
again = load_trajectories(path)
assert all(np.array_equal(a.outputs[k], b.outputs[k]) for a, b in zip(trajs, again) for k in a.outputs)
print(f"\nsaved and reloaded {len(again)} trajectories of {name} at n = 16: {path}")

# 4. The fixed CLRS30 splits (train 1000 at n = 16, val and test 32 x multiplier at n = 16 / 64),
#    verified by hash on every load; a rerun skips the splits already written.
splits = {"val": SplitSpec(n=8, count=8, seed=2), "test": SplitSpec(n=16, count=8, seed=3)} if args.tiny \
    else ("train", "val", "test")
write_splits(out / "splits", [name], splits=splits)
for split in ("val", "test"):
    data = load_split(out / "splits", name, split)
    print(f"split {split}: {len(data)} samples at n = {data[0].n}")

# 5. Padded batches: [B, ...] inputs/outputs, [B, T, ...] hints, with node/edge/time masks.
batch = collate(trajs[:8])
print(f"\na batch of {batch.size}: pi {tuple(batch.outputs['pi'].shape)}, "
      f"reach_h {tuple(batch.hints['reach_h'].shape)}, lengths {batch.lengths.tolist()}")

# 6. An endless, reproducible training stream at CLRS's training sizes (one size per batch).
stream = OnTheFlyDataset(name, sizes=[4, 7, 11, 13, 16], batch_size=4, seed=0, num_batches=3,
                         random_pos=True)
for i, b in enumerate(stream):
    print(f"on-the-fly batch {i}: {b.size} graphs of {b.max_nodes} nodes, up to {b.max_length} steps")
