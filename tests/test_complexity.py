"""No algorithm does more work than its textbook bound plus writing its hints.

Every algorithm runs on adversarial shapes (paths, stars, sorted or reversed arrays, repetitive
strings) at a size where a blow-up shows, and must (a) stay under an absolute ceiling, far above
its expected time but below what the super-linear versions took, and (b) not grow faster than
its expected exponent ``e`` when ``n`` doubles: ``t(n) <= SLACK * 2^e * t(n/2)``.  Both are
judged only when ``t(n)`` is above ``FLOOR`` seconds (where timer and load noise stop dominating),
so the usual case is one run per algorithm.  ``e`` is the exponent of
the hint output (``T * n`` for node hints, ``T * n^2`` for edge hints) or of the textbook bound.

Measured on 2 shared cores (before -> after the fix):
bfs on a 2,000-node path 8.3 s -> 0.26 s, bellman_ford on an 800-node path 2.5 s -> 0.07 s,
topological_sort on a 2,000-node directed path 5.9 s -> 0.45 s (acyclicity by log n matmuls:
4.8 s -> 0.05 s of it).
"""
from __future__ import annotations

import time

import numpy as np
import pytest

import nar
from nar.batched import kernels

RATIO_FLOOR = 2.0  # seconds: the doubling-ratio check applies above this
SLACK = 4.0  # generous: the machine is shared and small times are noisy
FLOOR = 0.5  # seconds; below this a doubling ratio is not judged


def path(n: int, directed: bool = False) -> np.ndarray:
    A = np.eye(n, k=1)
    return A if directed else A + A.T


def star(n: int) -> np.ndarray:
    A = np.zeros((n, n))
    A[0, 1:] = A[1:, 0] = 1
    return A


def circle(n: int) -> dict:
    angle = np.arange(n) * 2 * np.pi / n
    return dict(xs=np.cos(angle), ys=np.sin(angle))


def a_to_the_k_b(n: int) -> dict:
    """Text ``a^(3n/4)``, pattern ``a^(n/4 - 1) b``: every shift matches almost the whole pattern."""
    k = n // 4
    return dict(T=np.zeros(n - k, int), P=np.r_[np.zeros(k - 1, int), 1])


def arange(n: int) -> np.ndarray:
    return np.arange(n, dtype=float)


# (algorithm, shape, inputs at size n, n, exponent e, ceiling in seconds at n)
FAST = [
    ("bfs", "path", lambda n: dict(A=path(n), s=0), 2000, 2, 3.0),
    ("bfs", "directed path", lambda n: dict(A=path(n, True), s=0), 2000, 2, 3.0),
    ("bfs", "star", lambda n: dict(A=star(n), s=0), 2000, 2, 3.0),
    ("bellman_ford", "path", lambda n: dict(A=path(n), s=0), 2000, 2, 3.0),
    ("bellman_ford", "star", lambda n: dict(A=star(n), s=0), 2000, 2, 3.0),
    ("dijkstra", "path", lambda n: dict(A=path(n), s=0), 2000, 2, 3.0),
    ("mst_prim", "star", lambda n: dict(A=star(n), s=0), 2000, 2, 3.0),
    ("topological_sort", "directed path", lambda n: dict(A=path(n, True)), 1000, 2, 3.0),
    ("dag_shortest_paths", "directed path", lambda n: dict(A=path(n, True), s=0), 1000, 2, 3.0),
    # from the path's end: T = 4, so all the time is the acyclicity check of the whole graph
    ("dag_shortest_paths", "directed path, last source", lambda n: dict(A=path(n, True), s=n - 1), 2000, 2, 2.0),
    ("dfs", "star", lambda n: dict(A=star(n)), 600, 2, 3.0),
    ("articulation_points", "path", lambda n: dict(A=path(n)), 600, 2, 3.0),
    ("articulation_points", "star", lambda n: dict(A=star(n)), 100, 3, 3.0),  # T ~ n^2 / 2
    ("bridges", "path", lambda n: dict(A=path(n)), 100, 3, 3.0),
    ("strongly_connected_components", "directed path", lambda n: dict(A=path(n, True)), 100, 3, 3.0),
    ("mst_kruskal", "path", lambda n: dict(A=path(n)), 100, 3, 3.0),
    ("floyd_warshall", "path", lambda n: dict(A=path(n)), 100, 3, 3.0),
    ("insertion_sort", "reversed", lambda n: dict(A=arange(n)[::-1].copy()), 1000, 2, 3.0),
    ("bubble_sort", "reversed", lambda n: dict(A=arange(n)[::-1].copy()), 80, 3, 3.0),
    ("heapsort", "sorted", lambda n: dict(A=arange(n)), 500, 2, 3.0),
    ("quicksort", "sorted", lambda n: dict(A=arange(n)), 100, 3, 3.0),
    ("minimum", "reversed", lambda n: dict(A=arange(n)[::-1].copy()), 2000, 2, 3.0),
    ("binary_search", "sorted", lambda n: dict(A=arange(n), x=float(n)), 2000, 1, 3.0),
    ("quickselect", "sorted", lambda n: dict(A=arange(n)), 100, 3, 3.0),
    ("find_maximum_subarray_kadane", "increasing", lambda n: dict(A=arange(n)), 2000, 2, 3.0),
    ("activity_selector", "nested", lambda n: dict(s=np.zeros(n), f=arange(n) + 1), 2000, 2, 3.0),
    ("task_scheduling", "equal", lambda n: dict(d=np.ones(n, int), w=np.ones(n)), 2000, 2, 3.0),
    # CLRS-30's matrix chain runs O(n^3) relaxation rounds until a fixed point, up to n - 1 of them
    ("matrix_chain_order", "increasing", lambda n: dict(p=arange(n) + 1), 40, 4, 3.0),
    ("lcs_length", "equal strings", lambda n: dict(x=np.zeros(n // 2, int), y=np.zeros(n // 2, int)), 100, 3, 3.0),
    ("optimal_bst", "uniform", lambda n: dict(p=np.full(n - 1, 0.5 / n), q=np.full(n, 0.5 / n)), 100, 3, 3.0),
    ("naive_string_matcher", "a^k b", a_to_the_k_b, 160, 3, 3.0),
    ("kmp_matcher", "a^k b", a_to_the_k_b, 2000, 2, 3.0),
    ("segments_intersect", "crossing", lambda n: dict(xs=[0, 1, 0, 1.0], ys=[0, 1, 1, 0.0]), 4, 0, 3.0),
    ("graham_scan", "circle", circle, 2000, 2, 3.0),
    ("jarvis_march", "circle", circle, 80, 3, 3.0),  # every point on the hull: n rounds of n
]

# The same shapes at sizes whose hint output is hundreds of MB (seconds each, mostly page faults).
SLOW = [
    ("dfs", "path", lambda n: dict(A=path(n)), 2000, 2, 30.0),
    ("dfs", "star", lambda n: dict(A=star(n)), 2000, 2, 30.0),
    ("dag_shortest_paths", "directed path", lambda n: dict(A=path(n, True), s=0), 2000, 2, 30.0),
    ("articulation_points", "path", lambda n: dict(A=path(n)), 2000, 2, 30.0),
    ("mst_prim", "path", lambda n: dict(A=path(n), s=0), 2000, 2, 30.0),
    ("dijkstra", "star", lambda n: dict(A=star(n), s=0), 2000, 2, 30.0),
    ("bfs", "path", lambda n: dict(A=path(n), s=0), 4000, 2, 30.0),
    ("bellman_ford", "path", lambda n: dict(A=path(n), s=0), 4000, 2, 30.0),
    ("heapsort", "sorted", lambda n: dict(A=arange(n)), 1000, 2, 30.0),
    ("matrix_chain_order", "increasing", lambda n: dict(p=arange(n) + 1), 80, 4, 30.0),
    ("optimal_bst", "uniform", lambda n: dict(p=np.full(n - 1, 0.5 / n), q=np.full(n, 0.5 / n)), 200, 3, 30.0),
]


def _seconds(run, repeat: int = 2) -> float:
    """Best of ``repeat`` wall times of ``run()`` (the least disturbed by other load)."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _check_growth(what: str, run_at, n: int, exponent: float, ceiling: float) -> None:
    t_full = _seconds(lambda: run_at(n), repeat=1)
    if t_full <= FLOOR:
        return  # within the floor every growth is allowed
    t_full = min(t_full, _seconds(lambda: run_at(n), repeat=1))  # the first run may have been disturbed
    assert t_full <= ceiling, f"{what}: {t_full:.2f} s at n={n} (ceiling {ceiling} s)"
    if t_full <= RATIO_FLOOR:
        # below this the doubling ratio is dominated by first-touch page faults and other load on a
        # shared 2-core machine (kmp at n = 2000: 0.95 / 0.035 s once under xdist); a real blow-up at
        # these sizes costs tens of seconds (bfs on a 4000-path was > 60 s) and still fails the ceiling
        return
    t_half = _seconds(lambda: run_at(max(n // 2, 4)))
    allowed = SLACK * 2 ** exponent * t_half
    assert t_full <= allowed, (f"{what}: t(n)/t(n/2) = {t_full:.3f}/{t_half:.3f} s grows faster than "
                               f"n^{exponent} (allowed {allowed:.2f} s)")


def _ids(cases):
    return [f"{name}-{shape}-{n}" for name, shape, _, n, _, _ in cases]


def test_every_algorithm_is_covered():
    assert {case[0] for case in FAST} == set(nar.list_algorithms())


@pytest.mark.parametrize("name, shape, make, n, exponent, ceiling", FAST, ids=_ids(FAST))
def test_execute_grows_as_its_output(name, shape, make, n, exponent, ceiling):
    _check_growth(f"{name} on {shape}", lambda m: nar.execute(name, **make(m)), n, exponent, ceiling)


@pytest.mark.slow
@pytest.mark.parametrize("name, shape, make, n, exponent, ceiling", SLOW, ids=_ids(SLOW))
def test_execute_grows_as_its_output_at_large_n(name, shape, make, n, exponent, ceiling):
    _check_growth(f"{name} on {shape}", lambda m: nar.execute(name, **make(m)), n, exponent, ceiling)


@pytest.mark.parametrize("name, n", [("bfs", 1600), ("bellman_ford", 1000)])
def test_round_based_kernels_read_only_the_changed_rows(name, n):
    """The batched kernels of the round-based searches (a round per level of a path) were
    O(B n^2) per round: 3.7 s / 19.5 s at n = 1600 (2 samples); now O(n^2) per sample in all
    (0.39 s / 0.59 s)."""
    def run(m):
        A = path(m)
        return kernels()[name]([dict(A=A, s=0), dict(A=A, s=m - 1)])

    _check_growth(f"{name} kernel on a path", run, n, 2, 2.5)


def test_kernels_on_paths_equal_execute():
    A = path(50)
    for name in ("bfs", "bellman_ford"):
        inputs = [dict(A=A, s=0), dict(A=A, s=25), dict(A=star(50), s=3)]
        for got, x in zip(kernels()[name](inputs), inputs):
            want = nar.execute(name, **x)
            for part in ("hints", "outputs"):
                for key, value in getattr(want, part).items():
                    np.testing.assert_array_equal(getattr(got, part)[key], value)
