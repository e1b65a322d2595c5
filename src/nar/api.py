"""The public entry points: list, spec, execute, sample."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from . import algorithms as _algorithms  # noqa: F401  (registers the algorithms)
from .algorithms.registry import get_algorithm, unknown_name_error
from .samplers import MIN_NODES, SAMPLERS, check_options
from .specs import CLRS_30_ALGS, SPECS, Spec
from .trace import Trajectory
from .validation import InputError


def list_algorithms() -> list[str]:
    """The 30 CLRS-30 algorithm names, spelled as CLRS spells them."""
    return list(CLRS_30_ALGS)


def get_spec(name: str) -> Spec:
    """Probe table of ``name``: probe -> (stage, location, type), values are the CLRS words."""
    if name not in SPECS:
        raise unknown_name_error(name)
    return SPECS[name]


def execute(name: str, **inputs) -> Trajectory:
    """Run algorithm ``name`` on raw inputs named as in CLRS, e.g. ``execute("bfs", A=adj, s=0)``."""
    algo = get_algorithm(name)
    missing = [a for a in algo.arguments if a not in inputs]
    unknown = [a for a in inputs if a not in algo.arguments]
    if missing or unknown:
        raise InputError(f"{name} takes arguments {list(algo.arguments)}; "
                         f"missing {missing}, unknown {unknown}")
    return algo.fn(**inputs)


def _positive_int(arg: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{arg} must be a positive integer, got {value!r}")
    return int(value)


def iter_samples(name: str, n: int = 16, count: int = 1, seed: int = 0, *, random_pos: bool = False,
                 **sampler_options) -> Iterator[Trajectory]:
    """Lazily yield the trajectories :func:`sample` returns (same arguments, same data).

    Arguments are checked before the first trajectory is drawn.
    """
    algo = get_algorithm(name)
    n = _positive_int("n", n)
    count = _positive_int("count", count)
    check_options(name, sampler_options)
    need = MIN_NODES.get(name, 1)
    if n < need:
        raise InputError(f"{name} needs n >= {need} nodes, got n={n}")

    def generate() -> Iterator[Trajectory]:
        rng = np.random.default_rng(seed)
        draw = SAMPLERS[name]
        for _ in range(count):
            traj = algo.fn(**draw(rng, n, **sampler_options))
            if random_pos:
                randomise_pos(traj, rng)
            yield traj

    return generate()


def sample(name: str, n: int = 16, count: int = 1, seed: int = 0, *, random_pos: bool = False,
           **sampler_options) -> list[Trajectory]:
    """``count`` trajectories of ``name`` on inputs drawn by its CLRS default sampler at size ``n``.

    Identical for identical arguments.  ``random_pos`` replaces ``pos`` by sorted U[0, 1] values
    (per string for the string algorithms), as CLRS's training pipeline does.  Sampler options
    (e.g. ``p`` for ER graphs, a float or a list drawn from per graph) are listed by
    :func:`nar.samplers.sampler_options`.
    """
    return list(iter_samples(name, n, count, seed, random_pos=random_pos, **sampler_options))


def randomise_pos(traj: Trajectory, rng: np.random.Generator) -> None:
    """Replace ``pos`` in place by sorted U[0, 1] draws; string algorithms get one run per string."""
    n = traj.n
    if "string" in traj.inputs:  # 0 on the text, 1 on the pattern
        split = int((traj.inputs["string"] == 0).sum())
        parts = [np.sort(rng.random(split)), np.sort(rng.random(n - split))]
        traj.inputs["pos"] = np.concatenate(parts).astype(np.float32)
    else:
        traj.inputs["pos"] = np.sort(rng.random(n)).astype(np.float32)
