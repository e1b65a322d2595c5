"""Train (or resume) the pretrained entries of nar.pretrained from configs/pretrained/, then export them.

    python scripts/pretrain.py --jobs 2                 # train every config, resuming killed runs
    python scripts/pretrain.py --export                 # export every run that has a checkpoint
    python scripts/pretrain.py --only triplet_gmpnn-bellman_ford --jobs 1

Runs go to runs/pretrained/<name> (not committed); exported entries to src/nar/pretrained/weights/.
Training is resumable at any moment (checkpoints every 50 steps): rerun the same command.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs" / "pretrained"
# most useful first: the blueprint benchmark needs Bellman-Ford and the multi-task processor
PRIORITY = ["triplet_gmpnn-bellman_ford", "mpnn-bellman_ford", "triplet_gmpnn-multitask", "triplet_gmpnn-bfs",
            "triplet_gmpnn-dijkstra", "triplet_gmpnn-mst_prim", "mpnn-bfs", "mpnn-dijkstra", "mpnn-mst_prim"]


def names(only: list[str] | None) -> list[str]:
    found = sorted(p.stem for p in CONFIGS.glob("*.yaml"))
    order = [n for n in PRIORITY if n in found] + [n for n in found if n not in PRIORITY]
    if only:
        unknown = sorted(set(only) - set(found))
        if unknown:
            sys.exit(f"unknown entries {unknown}; configs: {', '.join(found)}")
        order = [n for n in order if n in only]
    return order


def train(name: str, runs: Path, python: str) -> int:
    out = runs / name
    cmd = [python, "-m", "nar.cli", "train", "--config", str(CONFIGS / f"{name}.yaml"), "--out", str(out), "--quiet"]
    if (out / "config.json").exists():  # a run was started here: continue it
        cmd.append("--resume")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(runs / f"{name}.log", "a") as log:
        print(f"[pretrain] {' '.join(cmd)}", file=log, flush=True)
        return subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)


def export(name: str, runs: Path, python: str, commit: str | None) -> int:
    run = runs / name
    if not (run / "checkpoints").is_dir():
        print(f"{name}: no checkpoint yet, skipped")
        return 0
    cmd = [python, "-m", "nar.cli", "pretrained", "export", str(run), "--name", name,
           "--config", f"configs/pretrained/{name}.yaml"]
    if commit:
        cmd += ["--commit", commit]
    return subprocess.call(cmd)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--runs", default=str(ROOT / "runs" / "pretrained"))
    ap.add_argument("--export", action="store_true", help="export the runs instead of training")
    ap.add_argument("--commit", help="git commit the runs were trained with (for the cards)")
    args = ap.parse_args()
    runs = Path(args.runs)
    todo = names(args.only)
    if args.export:
        return max([export(n, runs, sys.executable, args.commit) for n in todo] or [0])
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        codes = list(pool.map(lambda n: train(n, runs, sys.executable), todo))
    for n, c in zip(todo, codes):
        print(f"{n}: exit {c}")
    return max(codes or [0])


if __name__ == "__main__":
    sys.exit(main())
