"""The public entry points: list, spec, execute, sample."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from . import algorithms as _algorithms  # noqa: F401  (registers the algorithms)
from .algorithms.registry import get_algorithm, unknown_name_error
from .batched import execute_many
from .samplers import BULK_SAMPLERS, check_request
from .specs import CLRS_30_ALGS, SPECS, Spec
from .trace import Trajectory
from .validation import InputError, is_networkx, networkx_nodes, node_of_label


DRAW_BLOCK = 64  # inputs drawn per call of a bulk sampler: part of the random stream's definition


def chunk_size(n: int) -> int:
    """Samples drawn, then executed together by the algorithm's batched kernel: 512 at n <= 16,
    128 from n = 64 (measured best on 2 cores; bigger chunks only help while arrays stay small)."""
    return max(128, min(512, 8192 // max(n, 1)))


def list_algorithms() -> list[str]:
    """The 30 CLRS-30 algorithm names, spelled as CLRS spells them."""
    return list(CLRS_30_ALGS)


def get_spec(name: str) -> Spec:
    """Probe table of ``name``: probe -> (stage, location, type), values are the CLRS words."""
    if not isinstance(name, str) or name not in SPECS:
        raise unknown_name_error(name)
    return SPECS[name]


NODE_ARGUMENTS = ("s",)  # arguments naming a node of the graph ``A``


def execute(name: str, **inputs) -> Trajectory:
    """Run algorithm ``name`` on raw inputs named as in CLRS, e.g. ``execute("bfs", A=adj, s=0)``.

    ``A`` may be a networkx graph: its nodes become rows ``0..n-1`` in sorted label order, ``s`` is one
    of its node labels (``execute("bfs", A=G, s="paris")``), and the labels in row order are
    ``traj.extras["nodes"]``; pointer outputs are row indices, :func:`to_labels` turns them into labels::

        traj = nar.execute("bfs", A=G, s="paris")
        parents = to_labels(traj.outputs["pi"], traj.extras["nodes"])   # parents[i]: parent of nodes[i]

    With a numpy matrix nodes are the indices ``0..n-1`` and nothing is renamed.
    """
    algo = get_algorithm(name)
    missing = [a for a in algo.arguments if a not in inputs]
    unknown = [a for a in inputs if a not in algo.arguments]
    if missing or unknown:
        raise InputError(f"{name} takes arguments {list(algo.arguments)}; "
                         f"missing {missing}, unknown {unknown}")
    nodes = None
    if is_networkx(inputs.get("A")):
        nodes = networkx_nodes(name, inputs["A"])
        inputs = {k: node_of_label(name, k, v, nodes) if k in NODE_ARGUMENTS else v for k, v in inputs.items()}
    traj = algo.fn(**inputs)
    if nodes is not None:
        traj.extras["nodes"] = nodes
    return traj


def graph_nodes(G) -> list:
    """The node labels of networkx graph ``G`` in the row order :func:`execute` and ``predict`` use
    (sorted); e.g. for the outputs of ``nar.load(run).predict("bfs", A=G, s=...)``."""
    return networkx_nodes("graph_nodes", G)


def to_labels(indices, nodes) -> np.ndarray:
    """Node indices (a pointer output such as ``pi``, or any array of row indices) as the labels
    ``nodes`` (``traj.extras["nodes"]`` or :func:`graph_nodes`): an array of the same shape, int64 when
    every label is an integer, else of dtype object."""
    idx = np.asarray(indices)
    if idx.dtype.kind == "f":
        if not np.all(idx == np.round(idx)):
            raise InputError("to_labels: indices must be integers")
        idx = idx.astype(np.int64)
    if idx.dtype.kind not in "iu" or (idx.size and (idx.min() < 0 or idx.max() >= len(nodes))):
        raise InputError(f"to_labels: indices must be integers in [0, {len(nodes)}), got {indices!r}")
    labels = np.fromiter(nodes, dtype=object, count=len(nodes))[idx]
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in nodes):
        return labels.astype(np.int64)
    return labels


def iter_samples(name: str, n: int = 16, count: int = 1, seed: int = 0, *, random_pos: bool = False,
                 **sampler_options) -> Iterator[Trajectory]:
    """Lazily yield the trajectories :func:`sample` returns (same arguments, same data).

    Every argument is checked before the first trajectory is drawn
    (:func:`nar.samplers.check_request`).
    """
    get_algorithm(name)
    n, count, seed, random_pos, sampler_options = check_request(name, n, count, seed, random_pos,
                                                                sampler_options)

    def generate() -> Iterator[Trajectory]:
        rng = np.random.default_rng(seed)
        draw = BULK_SAMPLERS[name]
        args: list[dict] = []  # drawn, not yet executed
        positions: list[np.ndarray] = []
        chunk = chunk_size(n)
        for start in range(0, count, chunk):
            take = min(chunk, count - start)
            while len(args) < take:
                # The random stream: blocks of DRAW_BLOCK inputs, each followed by its pos when
                # ``random_pos``; whole blocks only, so a shorter ``count`` gives a prefix.
                block = draw(rng, n, DRAW_BLOCK, **sampler_options)
                args += block
                if random_pos:
                    positions += list(_random_pos_block(name, block, n, rng))
            trajs = execute_many(name, args[:take])
            del args[:take]
            if random_pos:
                for traj, pos in zip(trajs, positions[:take]):
                    traj.inputs["pos"] = pos
                del positions[:take]
            yield from trajs

    return generate()


def sample(name: str, n: int = 16, count: int = 1, seed: int = 0, *, random_pos: bool = False,
           **sampler_options) -> list[Trajectory]:
    """``count`` trajectories of ``name`` on inputs drawn by its CLRS default sampler at size ``n``.

    Identical for identical arguments, and ``count`` does not change the draws: a smaller ``count``
    returns a prefix of a larger one (inputs are drawn in fixed blocks of :data:`DRAW_BLOCK`).  ``random_pos`` replaces ``pos`` by sorted U[0, 1] values
    (per string for the string algorithms), as CLRS's training pipeline does.  Sampler options
    (e.g. ``p`` for ER graphs, a float or a list drawn from per graph) are listed, with their
    allowed ranges, in :data:`nar.samplers.OPTIONS`; ``seed`` is an integer >= 0.  Any invalid
    argument raises :class:`~nar.InputError` before anything is drawn.
    """
    return list(iter_samples(name, n, count, seed, random_pos=random_pos, **sampler_options))


def randomise_pos(traj: Trajectory, rng: np.random.Generator) -> None:
    """Replace ``pos`` in place by sorted U[0, 1] draws; string algorithms get one run per string."""
    split = int((traj.inputs["string"] == 0).sum()) if "string" in traj.inputs else None
    traj.inputs["pos"] = _sorted_uniform(traj.n, split, rng)


def _random_pos_block(name: str, args: list[dict], n: int, rng: np.random.Generator) -> np.ndarray:
    """``[len(args), nodes]`` float32: the ``pos`` of each sampler output in ``args``, sorted U[0, 1]
    draws as :func:`randomise_pos` draws them (one sorted run per string for the string algorithms:
    text then pattern for the matchers, x then y for lcs), drawn for the whole block at once."""
    count = len(args)
    first = args[0]
    if "string" not in SPECS[name]:
        nodes = len(first["q"]) if "q" in first else len(first["xs"]) if "xs" in first else n
        return np.sort(rng.random((count, nodes)), axis=1).astype(np.float32)
    u = rng.random((count, n))
    key = "T" if "T" in first else "x"  # the text (matchers), the first string (lcs)
    splits = np.array([len(x[key]) for x in args])
    pos = np.empty((count, n), dtype=np.float32)
    for split in np.unique(splits).tolist():
        rows = np.flatnonzero(splits == split)
        part = u[rows]
        pos[rows, :split] = np.sort(part[:, :split], axis=1)
        pos[rows, split:] = np.sort(part[:, split:], axis=1)
    return pos


def _sorted_uniform(n: int, split: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted U[0, 1] draws for ``n`` nodes; with ``split``, one sorted run per string (text, pattern)."""
    if split is None:
        return np.sort(rng.random(n)).astype(np.float32)
    parts = [np.sort(rng.random(split)), np.sort(rng.random(n - split))]
    return np.concatenate(parts).astype(np.float32)
