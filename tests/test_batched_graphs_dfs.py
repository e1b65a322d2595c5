"""Batched DFS-family kernels on inputs the default samplers rarely draw."""
from __future__ import annotations

import numpy as np
import pytest

from nar.algorithms.registry import get_algorithm
from nar.batched import execute_many
from nar.samplers import er_graph

from test_batched import assert_same

DIRECTED = ("dfs", "topological_sort", "strongly_connected_components", "dag_shortest_paths")
UNDIRECTED = ("articulation_points", "bridges")
ACYCLIC = ("topological_sort", "dag_shortest_paths")


def check(name, inputs):
    algo = get_algorithm(name).fn
    for b, (got, x) in enumerate(zip(execute_many(name, inputs), inputs)):
        assert_same(got, algo(**x), f"{name} sample {b}")


def graphs(name, rng, n, ps, count):
    """Graphs of ``name``'s kind with edge probabilities cycling through ``ps`` (0: no edges,
    1: complete), so one chunk mixes very short and very long walks."""
    out = []
    for i in range(count):
        A = er_graph(rng, n, ps[i % len(ps)], directed=name not in UNDIRECTED,
                     acyclic=name in ACYCLIC, weighted=name == "dag_shortest_paths")
        x = {"A": A}
        if name == "dag_shortest_paths":
            x["s"] = int(rng.integers(n))
        out.append(x)
    return out


@pytest.mark.parametrize("name", DIRECTED + UNDIRECTED)
def test_empty_complete_and_mixed_density(name):
    """Edgeless graphs (every vertex a root), complete ones with self-loops (the longest rescans:
    the snapshot buffers must grow) and everything between, mixed within a chunk."""
    rng = np.random.default_rng(0)
    for n in (1, 2, 6, 13):
        check(name, graphs(name, rng, n, (0.0, 1.0, 0.1, 0.3, 0.6, 0.9), 24))


@pytest.mark.parametrize("name", UNDIRECTED)
def test_undirected_trees_and_cycles(name):
    """Paths, stars and cycles: every edge a bridge / every inner vertex a cut vertex, or none."""
    n = 9
    shapes = []
    for kind in ("path", "star", "cycle"):
        A = np.zeros((n, n))
        for i in range(1, n):
            j = 0 if kind == "star" else i - 1
            A[i, j] = A[j, i] = 1
        if kind == "cycle":
            A[0, n - 1] = A[n - 1, 0] = 1
        perm = np.random.default_rng(len(shapes)).permutation(n)
        shapes += [{"A": A}, {"A": A[perm][:, perm]}]
    check(name, shapes)


def test_scc_chains_of_cycles():
    """Strongly connected blocks chained one way: Kosaraju's second pass starts from each block."""
    rng = np.random.default_rng(1)
    inputs = []
    for _ in range(20):
        n, k = 12, int(rng.integers(1, 5))
        block = np.sort(rng.integers(0, k, n))
        A = ((block[:, None] == block[None, :]) & (rng.random((n, n)) < 0.4)) | \
            ((block[:, None] + 1 == block[None, :]) & (rng.random((n, n)) < 0.2))
        perm = rng.permutation(n)
        inputs.append({"A": A[perm][:, perm].astype(float)})
    check("strongly_connected_components", inputs)


def test_dag_sources_without_out_edges():
    """A source with no out-edge ends after three snapshots while others relax for long."""
    rng = np.random.default_rng(2)
    inputs = graphs("dag_shortest_paths", rng, 10, (0.5, 0.9), 30)
    for x in inputs[::3]:
        x["s"] = int(np.flatnonzero(~(x["A"] != 0).any(1))[0])
    check("dag_shortest_paths", inputs)


def test_buffers_reused_across_sizes_and_algorithms():
    """Pooled snapshot buffers carry nothing from one chunk to the next."""
    rng = np.random.default_rng(3)
    for name in ("dfs", "articulation_points", "dfs", "bridges", "articulation_points"):
        for n in (7, 5, 7):
            check(name, graphs(name, rng, n, (0.2, 0.5), 10))


@pytest.mark.parametrize("name", DIRECTED + UNDIRECTED)
def test_mixed_sizes_go_per_sample(name):
    rng = np.random.default_rng(4)
    check(name, graphs(name, rng, 5, (0.3,), 3) + graphs(name, rng, 8, (0.3,), 3))


@pytest.mark.parametrize("name", DIRECTED + UNDIRECTED)
def test_trajectories_outlive_the_next_chunk(name):
    """A chunk's trajectories own their arrays: later chunks (single samples too) reuse scratch."""
    rng = np.random.default_rng(5)
    first = graphs(name, rng, 6, (0.4,), 1)
    kept = execute_many(name, first)
    for _ in range(3):
        execute_many(name, graphs(name, rng, 6, (0.4,), 1))
    assert_same(kept[0], get_algorithm(name).fn(**first[0]), f"{name} kept")
