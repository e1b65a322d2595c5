"""On-the-fly trajectory streams: an iterable dataset of batches generated in DataLoader workers.

The stream of a seed is a sequence of *chunks*: chunk ``k`` (one batch) holds ``batch_size``
trajectories drawn by :func:`nar.sample` at size ``sizes[k % len(sizes)]`` (or a size drawn per
chunk) with its own seed derived from ``SeedSequence([seed, k])``.  Chunks depend on ``(seed, k)``
only, so worker ``w`` of ``W`` generates chunks ``w, w + W, ...`` and the DataLoader, which takes
one item from each worker in turn, hands them back in the order ``0, 1, 2, ...``: the stream is
the same for 0, 1 or any number of workers.
"""
from __future__ import annotations

import itertools
from typing import Callable, Iterator

import numpy as np
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ..algorithms.registry import get_algorithm
from ..api import sample
from ..samplers import MIN_NODES, check_options
from ..trace import Trajectory
from ..validation import InputError
from .batch import collate

SIZE_MODES = ("cycle", "random")


def _non_negative_int(arg: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InputError(f"{arg} must be a non-negative integer, got {value!r}")
    return int(value)


def chunk_seeds(seed: int, index: int) -> tuple[int, np.random.Generator]:
    """(integer seed for :func:`nar.sample`, generator for other draws) of chunk ``index``."""
    sample_ss, other_ss = np.random.SeedSequence([seed, index]).spawn(2)
    return int(sample_ss.generate_state(1, np.uint64)[0]), np.random.default_rng(other_ss)


def chunk(algorithm: str, n: int, count: int, seed: int, index: int, **options) -> list[Trajectory]:
    """Chunk ``index`` of stream ``seed``: ``count`` trajectories at size ``n`` (``options`` go to
    :func:`nar.sample`: sampler options and ``random_pos``)."""
    return sample(algorithm, n, count, chunk_seeds(seed, index)[0], **options)


def check_sizes(algorithm: str, sizes) -> tuple[int, ...]:
    """``sizes`` (an int or a non-empty sequence of them) as a tuple, each allowed for the sampler."""
    seq = (sizes,) if isinstance(sizes, (int, np.integer)) else tuple(sizes)
    least = MIN_NODES.get(algorithm, 1)
    if not seq or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < least
                      for s in seq):
        raise InputError(f"sizes must be an integer >= {least} or a non-empty list of them "
                         f"for {algorithm}, got {sizes!r}")
    return tuple(int(s) for s in seq)


class OnTheFlyDataset(IterableDataset):
    """Batches of freshly sampled trajectories of ``algorithm``, reproducible for ``seed``.

    ``sizes``: node count(s); with a list, chunk ``k`` uses ``sizes[k % len(sizes)]``
    (``size_mode="cycle"``, CLRS's training lengths 4/7/11/13/16) or a size drawn from the chunk's
    own generator (``size_mode="random"``).  ``num_batches``: None for an endless stream.
    ``start``: index of the first batch (resume a stream where it stopped).  ``collate_fn``: applied
    to each chunk's list of trajectories (default :func:`collate`; None yields the lists).
    ``options``: sampler options and ``random_pos``, passed to :func:`nar.sample`
    (e.g. ``p=nar.samplers.generalist_p(name)``).

    Use ``dataset.loader(num_workers=2)`` (a DataLoader with ``batch_size=None``).
    """

    def __init__(self, algorithm: str, sizes=16, batch_size: int = 32, *, seed: int = 0,
                 num_batches: int | None = None, start: int = 0, size_mode: str = "cycle",
                 collate_fn: Callable | None = collate, **options):
        get_algorithm(algorithm)  # fails here, not in a worker, for unknown/unimplemented names
        check_options(algorithm, options)  # random_pos included: a bad value fails here, not in a worker
        if size_mode not in SIZE_MODES:
            raise InputError(f"size_mode must be one of {SIZE_MODES}, got {size_mode!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.algorithm = algorithm
        self.sizes = check_sizes(algorithm, sizes)
        self.batch_size = int(batch_size)
        self.seed = _non_negative_int("seed", seed)
        self.num_batches = None if num_batches is None else _non_negative_int("num_batches", num_batches)
        self.start = _non_negative_int("start", start)
        self.size_mode = size_mode
        self.collate_fn = collate_fn
        self.options = options

    def size_of(self, index: int) -> int:
        """Node count of chunk ``index``."""
        if self.size_mode == "cycle":
            return self.sizes[index % len(self.sizes)]
        return self.sizes[int(chunk_seeds(self.seed, index)[1].integers(len(self.sizes)))]

    def trajectories(self, index: int) -> list[Trajectory]:
        """The trajectories of chunk (batch) ``index``."""
        return chunk(self.algorithm, self.size_of(index), self.batch_size, self.seed, index,
                     **self.options)

    def __iter__(self) -> Iterator:
        info = get_worker_info()
        workers, worker = (1, 0) if info is None else (info.num_workers, info.id)
        first = self.start + worker
        indices = itertools.count(first, workers) if self.num_batches is None else \
            range(first, self.start + self.num_batches, workers)
        for k in indices:
            trajs = self.trajectories(k)
            yield trajs if self.collate_fn is None else self.collate_fn(trajs)

    def __len__(self) -> int:
        if self.num_batches is None:
            raise TypeError("an endless OnTheFlyDataset (num_batches=None) has no length")
        return self.num_batches

    def loader(self, num_workers: int = 0, **kwargs) -> DataLoader:
        """A DataLoader over this dataset (``batch_size=None``: items are already batches)."""
        return DataLoader(self, batch_size=None, num_workers=num_workers, **kwargs)
