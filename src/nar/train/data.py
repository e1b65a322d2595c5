"""Training batches and evaluation sets of a run.

Every training batch is a pure function of ``(seed, step, rank)``: the algorithm of a step is drawn
from ``SeedSequence([seed, step])``; its batch is chunk ``step * world + rank`` of the algorithm's
on-the-fly stream (:class:`nar.data.OnTheFlyDataset`, sizes cycled by chunk index, CLRS run.py
distribution) or, with ``train_data='fixed'``, the next ``batch_size`` samples of the 1000-sample
train split in a per-epoch permutation.  Nothing about the data has to be saved to resume a run.

Evaluation sets are the CLRS30 splits (:data:`nar.data.CLRS30_SPLITS`: val n = 16 seed 2, test
n = 64 seed 3, 32 x the algorithm's multiplier samples) or the same recipe at another size/count;
they are generated in memory or cached under ``data_dir`` (hash-checked files).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ..data import CLRS30_SPLITS, SplitSpec, collate, load_split, split_params, write_splits
from ..data.batch import Batch
from ..data.dataset import OnTheFlyDataset
from ..data.splits import generate
from ..samplers import generalist_p, sampler_options
from ..specs import CLRS_30_ALGS
from .config import STRING_MATCHERS, TrainConfig, training_sizes

_ALGORITHM_STREAM = 0xA1  # separate seed streams for "which algorithm" and "which samples"


def _algorithm_seed(seed: int, algorithm: str) -> int:
    """Seed of one algorithm's data stream (independent of which other algorithms are trained)."""
    ss = np.random.SeedSequence([seed, 1 + CLRS_30_ALGS.index(algorithm)])
    return int(ss.generate_state(1, np.uint32)[0])


def sampler_kwargs(cfg: TrainConfig, algorithm: str) -> dict:
    """Options of the training distribution (CLRS run.py): per-graph ER p, needle lengths, random pos."""
    opts = {"random_pos": cfg.random_pos}
    allowed = sampler_options(algorithm)
    if cfg.graph_p == "generalist" and "p" in allowed:
        opts["p"] = list(generalist_p(algorithm))
    if algorithm in STRING_MATCHERS and "length_needle" in allowed:
        opts["length_needle"] = cfg.length_needle
    return opts


class TrainData:
    """``batch(step, rank, world) -> (algorithm, Batch)`` for every step of a run (stateless)."""

    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.algorithms = list(cfg.algorithms)
        self._streams: dict[str, OnTheFlyDataset] = {}
        self._fixed: dict[str, list] = {}
        for name in self.algorithms:
            seed = _algorithm_seed(cfg.seed, name)
            if cfg.train_data == "on_the_fly":
                self._streams[name] = OnTheFlyDataset(name, training_sizes(cfg, name), cfg.batch_size, seed=seed,
                                                      collate_fn=None, **sampler_kwargs(cfg, name))

    def algorithm_at(self, step: int) -> str:
        if len(self.algorithms) == 1:
            return self.algorithms[0]
        rng = np.random.default_rng([self.cfg.seed, _ALGORITHM_STREAM, step])
        return self.algorithms[int(rng.integers(len(self.algorithms)))]

    def _fixed_split(self, name: str) -> list:
        if name not in self._fixed:
            self._fixed[name] = split_trajectories(self.cfg, name, "train", CLRS30_SPLITS["train"])
        return self._fixed[name]

    def trajectories(self, step: int, rank: int = 0, world: int = 1) -> tuple[str, list]:
        name = self.algorithm_at(step)
        index = step * world + rank
        if self.cfg.train_data == "on_the_fly":
            return name, self._streams[name].trajectories(index)
        data = self._fixed_split(name)
        b, total = self.cfg.batch_size, len(data)
        picks = []
        for pos in range(index * b, (index + 1) * b):  # positions in the endless sequence of epochs
            epoch, i = divmod(pos, total)
            perm = np.random.default_rng([_algorithm_seed(self.cfg.seed, name), epoch]).permutation(total)
            picks.append(data[int(perm[i])])
        return name, picks

    def batch(self, step: int, rank: int = 0, world: int = 1) -> tuple[str, Batch]:
        name, trajs = self.trajectories(step, rank, world)
        return name, collate(trajs)

    def loader(self, start: int, rank: int = 0, world: int = 1) -> Iterator[tuple[int, str, Batch]]:
        """``(step, algorithm, batch)`` from ``start`` on, generated in ``num_workers`` processes."""
        ds = _Steps(self, start, rank, world)
        if self.cfg.num_workers == 0:
            return iter(ds)
        return iter(DataLoader(ds, batch_size=None, num_workers=self.cfg.num_workers, prefetch_factor=4,
                               persistent_workers=False))


class _Steps(IterableDataset):
    """Steps ``start, start+1, ...``; worker ``w`` of ``W`` makes ``start+w, start+w+W, ...`` (the
    DataLoader takes them round-robin, so they come back in step order)."""

    def __init__(self, data: TrainData, start: int, rank: int, world: int):
        self.data, self.start, self.rank, self.world = data, start, rank, world

    def __iter__(self):
        info = get_worker_info()
        workers, worker = (1, 0) if info is None else (info.num_workers, info.id)
        step = self.start + worker
        while True:
            name, batch = self.data.batch(step, self.rank, self.world)
            yield step, name, batch
            step += workers


# ---------------------------------------------------------------------------------------------- eval sets
def split_trajectories(cfg: TrainConfig, algorithm: str, split: str, spec: SplitSpec) -> list:
    """The trajectories of a split: from ``cfg.data_dir`` (written on first use) or generated in memory."""
    if cfg.data_dir is None:
        return list(generate(split_params(algorithm, split, spec)))
    write_splits(cfg.data_dir, [algorithm], {split: spec})
    return load_split(cfg.data_dir, algorithm, split)


def eval_spec(split: str, n: int, count: int | None, seed: int | None = None) -> tuple[str, SplitSpec]:
    """(split name, spec) for an evaluation set: the CLRS30 split when ``n``/``count``/``seed`` match it,
    else a split named after its parameters drawn the same way."""
    base = CLRS30_SPLITS[split]
    seed = base.seed if seed is None else seed
    if n == base.n and count is None and seed == base.seed:
        return split, base
    if count is None:
        spec = SplitSpec(n=n, count=base.count, seed=seed, multiplied=True)
        return f"{split}_n{n}_s{seed}", spec
    return f"{split}_n{n}_c{count}_s{seed}", SplitSpec(n=n, count=count, seed=seed)


def eval_batches(cfg: TrainConfig, algorithm: str, split: str, *, n: int | None = None,
                 count: int | None = None, seed: int | None = None, batch_size: int | None = None) -> list[Batch]:
    """An evaluation set as a list of batches (``split`` 'val' or 'test'; sizes from ``cfg`` unless given)."""
    if n is None:
        n, count = (cfg.val_n, cfg.val_count) if split == "val" else (cfg.test_n, cfg.test_count)
    name, spec = eval_spec(split, n, count, seed)
    trajs = split_trajectories(cfg, algorithm, name, spec)
    bs = batch_size or cfg.eval_batch_size
    return [collate(trajs[i:i + bs]) for i in range(0, len(trajs), bs)]
