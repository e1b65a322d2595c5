"""``nar.sparse.execute`` and ``nar.sparse.sample``: the sparse algorithms by name."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..validation import InputError, as_node, is_networkx
from . import algorithms as _alg
from . import algorithms_dfs as _dfs
from . import salsa as _salsa
from .graph import SparseGraph
from .samplers import _check_n, _rng, sample_inputs
from .trajectory import SparseTrajectory, check_sparse

# name -> (function, takes a source)
ALGORITHMS: dict[str, tuple[Callable[..., SparseTrajectory], bool]] = {
    "bfs": (_alg.bfs, True),
    "dfs": (_dfs.dfs, False),
    "bellman_ford": (_alg.bellman_ford, True),
    "dijkstra": (_alg.dijkstra, True),
    "mst_prim": (_alg.mst_prim, True),
    "mst_kruskal": (_alg.mst_kruskal, False),
    "dag_shortest_paths": (_dfs.dag_shortest_paths, True),
    "topological_sort": (_dfs.topological_sort, False),
    "strongly_connected_components": (_dfs.strongly_connected_components, False),
    "articulation_points": (_dfs.articulation_points, False),
    "bridges": (_dfs.bridges, False),
    "fast_mis": (_salsa.fast_mis, False),
    "eccentricity": (_salsa.eccentricity, True),
}


def execute(name: str, graph, source=None, *, hints: bool = True, seed=None) -> SparseTrajectory:
    """Run algorithm ``name`` on ``graph`` (a :class:`SparseGraph` or a networkx graph) in
    O((n + E) log n) plus O(1) per recorded hint change.

    ``source``: the start node, required exactly by the algorithms with an ``s`` input (bfs,
    bellman_ford, dijkstra, mst_prim, dag_shortest_paths, eccentricity).  ``hints=False`` skips the
    change logs (``traj.hints`` is empty, ``traj.length`` still counts the steps).  ``seed``: the
    random stream of ``fast_mis`` (randomised); other algorithms take none.
    On a graph small enough for :meth:`SparseGraph.to_dense`, ``to_dense(execute(...))`` equals the
    dense ``nar.execute(name, A=graph.to_dense(), s=source)`` exactly (outputs and every hint).
    """
    check_sparse(name, ALGORITHMS)
    fn, takes_source = ALGORITHMS[name]
    if is_networkx(graph):
        graph = SparseGraph.from_networkx(graph)
    if not isinstance(graph, SparseGraph):
        raise InputError(f"{name}: graph must be a nar.sparse.SparseGraph (or a networkx graph), "
                         f"got {type(graph).__name__}")
    if not isinstance(hints, (bool, np.bool_)):
        raise InputError(f"{name}: hints must be True or False, got {hints!r}")
    if takes_source and source is None:
        raise InputError(f"{name}: source is required (a node index in [0, {graph.n}))")
    if not takes_source and source is not None:
        raise InputError(f"{name}: takes no source (it runs over the whole graph), got source={source!r}")
    extra = {}
    if name == "fast_mis":
        extra["seed"] = 0 if seed is None else seed
    elif seed is not None:
        raise InputError(f"{name}: takes no seed (it is deterministic)")
    if takes_source:
        return fn(graph, as_node(name, "source", source, graph.n), hints=bool(hints), **extra)
    return fn(graph, hints=bool(hints), **extra)


def sample(name: str, n: int = 1000, count: int = 1, seed=0, *, graph: str = "er", hints: bool = True,
           **options) -> list[SparseTrajectory]:
    """``count`` trajectories of ``name`` on graphs of family ``graph`` (``er``, ``geometric``,
    ``grid``, ``tree``, ``path``) drawn by :func:`nar.sparse.samplers.sample_inputs` with ``options``
    (``degree``, ``connected``, ``low``, ``high``, ``drop``); the same arguments give the same list."""
    check_sparse(name, ALGORITHMS)
    n = _check_n(n)
    if isinstance(count, (bool, np.bool_)) or not isinstance(count, (int, np.integer)) or count < 0:
        raise InputError(f"nar.sparse.sample: count must be an integer >= 0, got {count!r}")
    rng = _rng(seed)
    out = []
    for _ in range(int(count)):
        inputs = sample_inputs(name, n, rng, graph=graph, **options)
        extra = {"seed": int(rng.integers(1 << 31))} if name == "fast_mis" else {}
        out.append(execute(name, inputs["graph"], inputs.get("source"), hints=hints, **extra))
    return out
