"""Batched greedy and dynamic-programming kernels on adversarial inputs: exact ties in every
comparison the per-sample code makes, zero dimensions / probabilities, degenerate strings, tiny
sizes, and chunks mixing such inputs (samples stopping at very different rounds) or sizes (the
per-sample fallback).  Each trajectory must equal ``nar.execute`` array for array."""
import numpy as np
import pytest

from nar.algorithms.registry import get_algorithm
from nar.batched import execute_many

from test_batched import assert_same


def check(name, inputs):
    algo = get_algorithm(name).fn
    got = execute_many(name, inputs)
    assert len(got) == len(inputs)
    for b, (x, g) in enumerate(zip(inputs, got)):
        assert_same(g, algo(**x), f"{name} input {b}: { {k: np.asarray(v).tolist() for k, v in x.items()} }")


def levels(rng, n, values):
    """``n`` draws from a few ``values``: ties everywhere."""
    return rng.choice(np.asarray(values, dtype=np.float64), size=n)


@pytest.mark.parametrize("n", (1, 2, 3, 8, 21))
def test_activity_selector_ties(n):
    rng = np.random.default_rng(n)
    inputs = []
    for _ in range(12):
        a, b = levels(rng, n, [0.0, 0.25, 0.5, 1.0]), levels(rng, n, [0.0, 0.5, 1.0])
        inputs.append({"s": np.minimum(a, b), "f": np.maximum(a, b)})  # empty activities s == f too
    inputs.append({"s": np.zeros(n), "f": np.zeros(n)})
    inputs.append({"s": np.arange(n, dtype=np.float64), "f": np.arange(n) + 1.0})  # all compatible
    inputs.append({"s": np.zeros(n), "f": np.ones(n)})  # pairwise overlapping
    check("activity_selector", inputs)


@pytest.mark.parametrize("n", (1, 2, 3, 8, 21))
def test_task_scheduling_ties(n):
    rng = np.random.default_rng(n)
    inputs = [{"d": rng.integers(1, max(n // 3, 1) + 1, n), "w": levels(rng, n, [0.0, 0.5, 1.0])}
              for _ in range(12)]
    inputs.append({"d": np.ones(n, dtype=np.int64), "w": np.ones(n)})
    inputs.append({"d": np.full(n, n), "w": np.linspace(1, 0, n)})
    check("task_scheduling", inputs)


@pytest.mark.parametrize("n", (1, 2, 3, 4, 9, 17))
def test_matrix_chain_ties_and_zero_dimensions(n):
    rng = np.random.default_rng(n)
    inputs = [{"p": levels(rng, n, [0.0, 0.5, 1.0])} for _ in range(8)]  # ties, zero costs
    inputs += [{"p": levels(rng, n, [1.0, 2.0])} for _ in range(4)]  # integer costs: exact ties
    inputs += [{"p": np.ones(n)}, {"p": np.zeros(n)}, {"p": rng.uniform(0, 1, n)},
               {"p": np.arange(1.0, n + 1)}, {"p": np.arange(n, 0.0, -1)}]
    check("matrix_chain_order", inputs)


@pytest.mark.parametrize("n", (1, 2, 3, 8, 16))
def test_optimal_bst_ties_and_zeros(n):
    rng = np.random.default_rng(n)
    inputs = []
    for _ in range(8):
        arr = levels(rng, 2 * n + 1, [0.0, 1.0, 2.0])
        arr = arr / max(arr.sum(), 1.0)
        inputs.append({"p": arr[:n], "q": arr[n:]})
    inputs += [{"p": np.zeros(n), "q": np.zeros(n + 1)},
               {"p": np.full(n, 1.0 / (2 * n + 1)), "q": np.full(n + 1, 1.0 / (2 * n + 1))}]
    check("optimal_bst", inputs)


@pytest.mark.parametrize("nx, ny", [(1, 1), (1, 5), (5, 1), (2, 2), (3, 7), (8, 8), (13, 4)])
def test_lcs_degenerate_strings(nx, ny):
    rng = np.random.default_rng(nx * 100 + ny)
    inputs = [{"x": rng.integers(0, chars, nx), "y": rng.integers(0, chars, ny)}
              for chars in (1, 2, 4) for _ in range(4)]
    inputs += [{"x": np.zeros(nx, dtype=np.int64), "y": np.ones(ny, dtype=np.int64)},  # no match
               {"x": np.arange(nx) % 4, "y": np.arange(ny) % 4}]
    check("lcs_length", inputs)


def test_mixed_sizes_fall_back_to_the_per_sample_path():
    rng = np.random.default_rng(0)
    check("activity_selector", [{"s": np.zeros(k), "f": rng.uniform(0, 1, k)} for k in (2, 3, 2)])
    check("task_scheduling", [{"d": np.ones(k, dtype=np.int64), "w": rng.uniform(0, 1, k)}
                              for k in (4, 1)])
    check("matrix_chain_order", [{"p": rng.uniform(0, 1, k)} for k in (3, 5, 3)])
    check("optimal_bst", [{"p": np.full(k, 0.1), "q": np.full(k + 1, 0.1)} for k in (2, 4)])
    check("lcs_length", [{"x": rng.integers(0, 4, 3), "y": rng.integers(0, 4, k)} for k in (2, 4)])
