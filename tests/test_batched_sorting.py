"""Batched sorting/searching/Kadane kernels on adversarial inputs: ties, sorted and reversed keys,
integer keys, extreme targets, and chunks mixing such inputs (samples finishing at very different
times).  Each trajectory must equal ``nar.execute`` array for array."""
import numpy as np
import pytest

from nar.algorithms.registry import get_algorithm
from nar.batched import execute_many

from test_batched import assert_same

SORTS = ("insertion_sort", "bubble_sort", "heapsort", "quicksort", "quickselect")
SCANS = ("find_maximum_subarray_kadane",)


def key_patterns(rng, n):
    """Keys whose shapes stress the control flow: ties, (reverse) sorted, one value, integers."""
    yield rng.uniform(0, 1, n)
    yield np.sort(rng.uniform(0, 1, n))
    yield np.sort(rng.uniform(0, 1, n))[::-1].copy()
    yield np.full(n, 0.5)
    yield rng.integers(0, 3, n).astype(np.float64)
    yield rng.integers(-2, 3, n)  # integer dtype: converted to float64 as the per-sample code does
    yield np.where(rng.random(n) < 0.5, 0.25, 0.75)


def check(name, inputs):
    algo = get_algorithm(name).fn
    for b, (x, got) in enumerate(zip(inputs, execute_many(name, inputs))):
        assert_same(got, algo(**x), f"{name} n={len(x['A'])} input {b}")


@pytest.mark.parametrize("name", SORTS + SCANS)
@pytest.mark.parametrize("n", (1, 2, 3, 6, 13, 33))
def test_key_patterns(name, n):
    rng = np.random.default_rng(n)
    inputs = [{"A": A} for _ in range(3) for A in key_patterns(rng, n)]
    if name in SCANS:  # signed keys, zero-sum stretches
        inputs += [{"A": np.array([1.0, -1.0] * (n // 2) + [0.0] * (n % 2))},
                   {"A": -rng.uniform(0, 1, n)}]
    check(name, inputs)


@pytest.mark.parametrize("n", (1, 2, 5, 16, 17))
def test_binary_search_targets(n):
    rng = np.random.default_rng(n)
    inputs = []
    for A in key_patterns(rng, n):
        A = np.sort(A)
        for x in (A[0], A[-1], A[n // 2], A[0] - 1, A[-1] + 1, rng.uniform(-1, 2)):
            inputs.append({"x": x, "A": A})
    check("binary_search", inputs)
