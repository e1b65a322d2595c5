"""Graph kernels on inputs the default samplers never draw: directed and negative weights, tied
weights, self-loops (including -1 on the diagonal, where ``adj`` is 0), isolated sources."""
from __future__ import annotations

import numpy as np
import pytest

import nar
from nar.algorithms.registry import get_algorithm
from nar.batched import kernels

from test_batched import assert_same

GRAPH_KERNELS = ("bfs", "bellman_ford", "dijkstra", "mst_prim", "floyd_warshall", "mst_kruskal")
SYMMETRIC = {"mst_prim", "mst_kruskal"}
NONNEGATIVE = {"dijkstra", "mst_kruskal"}


def odd_graphs(name: str, n: int, count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        edge = rng.random((n, n)) < rng.choice([0.05, 0.3, 0.8])
        w = rng.choice([0.5, 1.0, 2.0, 3.0], size=(n, n))  # many ties
        if name not in NONNEGATIVE and i % 3 == 0:
            w = w * rng.choice([-1.0, 1.0], size=(n, n), p=[0.15, 0.85])
        A = np.where(edge, w, 0.0)
        if i % 4 == 0:
            np.fill_diagonal(A, rng.choice([0.0, -1.0 if name not in NONNEGATIVE else 1.0, 2.0], n))
        if name in SYMMETRIC:
            A = np.triu(A) + np.triu(A, 1).T
        x = {"A": A}
        if "s" in get_algorithm(name).arguments:
            x["s"] = int(rng.integers(n))
        out.append(x)
    return out


@pytest.mark.parametrize("name", GRAPH_KERNELS)
def test_graph_kernels_on_odd_inputs(name):
    assert name in kernels()
    algo = get_algorithm(name).fn
    for n in (1, 2, 3, 6, 13):
        inputs, wanted = [], []
        for x in odd_graphs(name, n, 60, seed=n):
            try:
                wanted.append(algo(**x))
            except nar.InputError:  # a negative cycle
                continue
            inputs.append(x)
        assert len(inputs) >= 20
        for b, (got, want) in enumerate(zip(kernels()[name](inputs), wanted)):
            assert_same(got, want, f"{name} n={n} sample {b}")


@pytest.mark.parametrize("name", ("bellman_ford", "floyd_warshall"))
def test_negative_cycle_raises_the_per_sample_error(name):
    A = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, -2.0], [0.0, -2.0, 0.0]])
    x = {"A": A, "s": 0} if name == "bellman_ford" else {"A": A}
    good = {"A": np.abs(A), **({"s": 0} if name == "bellman_ford" else {})}
    with pytest.raises(nar.InputError, match="negative-weight cycle"):
        kernels()[name]([good, x])
