"""Batched string and geometry kernels on inputs the default samplers rarely draw."""
from __future__ import annotations

import numpy as np
import pytest

from nar.algorithms.registry import get_algorithm
from nar.batched import execute_many
from nar.samplers import SAMPLERS

from test_batched import assert_same

MATCHERS = ("naive_string_matcher", "kmp_matcher")


def check(name, inputs):
    algo = get_algorithm(name).fn
    for b, (got, x) in enumerate(zip(execute_many(name, inputs), inputs)):
        assert_same(got, algo(**x), f"{name} sample {b}: {x}")


@pytest.mark.parametrize("name", MATCHERS)
def test_matchers_mixed_needle_lengths(name):
    """CLRS training: needle length uniform in 1..8, so text/pattern splits differ within a chunk."""
    rng = np.random.default_rng(3)
    for n in (2, 5, 16, 20, 33):
        check(name, [SAMPLERS[name](rng, n, length_needle=-8) for _ in range(60)])


@pytest.mark.parametrize("name", MATCHERS)
def test_matchers_periodic_and_small_alphabets(name):
    """Periodic patterns over 1-2 letters: long KMP fallback chains, many partial naive matches."""
    rng = np.random.default_rng(4)
    inputs = []
    for _ in range(150):
        n = 14
        m = int(rng.integers(1, 8))
        chars = int(rng.integers(1, 3))
        period = int(rng.integers(1, 4))
        base = rng.integers(0, chars, size=period)
        P = np.resize(base, m)
        P[-1] = rng.integers(0, chars) if rng.random() < 0.5 else P[-1]
        T = np.resize(base, n - m)
        T[rng.random(n - m) < 0.1] = rng.integers(0, chars)
        inputs.append({"T": T, "P": P})
    check(name, inputs)


@pytest.mark.parametrize("name", MATCHERS)
def test_matchers_mixed_sizes_fall_back(name):
    rng = np.random.default_rng(5)
    check(name, [SAMPLERS[name](rng, n) for n in (2, 9, 16, 3, 16)])


HULLS = ("graham_scan", "jarvis_march")


def grid_points(rng, n, side):
    """``n`` distinct points of a ``side x side`` integer grid: many collinear triples, equal
    polar angles and equal lowest ``y``, all with exact float64 cross products."""
    cells = rng.choice(side * side, size=n, replace=False)
    return {"xs": (cells % side).astype(np.float64), "ys": (cells // side).astype(np.float64)}


@pytest.mark.parametrize("name", HULLS)
def test_hulls_on_collinear_grid_points(name):
    rng = np.random.default_rng(6)
    for n, side in ((1, 2), (2, 2), (3, 2), (4, 3), (6, 3), (9, 4), (12, 5)):
        check(name, [grid_points(rng, n, side) for _ in range(40)])


@pytest.mark.parametrize("name", HULLS)
def test_hulls_on_lines_and_scaled_points(name):
    """All points on one line (each direction), and tiny/huge coordinates (rounding in crosses)."""
    rng = np.random.default_rng(8)
    line = [{"xs": np.arange(5.0) * a, "ys": np.arange(5.0) * b}
            for a, b in ((1, 0), (0, 1), (1, 1), (-1, 1), (2, -1))]
    check(name, line)
    for scale in (1e-9, 1e9):
        check(name, [{k: v * scale for k, v in SAMPLERS[name](rng, 10).items()} for _ in range(20)])


def test_segments_touching_and_collinear():
    """Integer endpoints: shared endpoints, T-junctions and collinear overlaps (dir = 0)."""
    rng = np.random.default_rng(9)
    inputs = [{"xs": rng.integers(0, 3, 4).astype(float), "ys": rng.integers(0, 3, 4).astype(float)}
              for _ in range(300)]
    check("segments_intersect", inputs)


@pytest.mark.parametrize("name", HULLS)
def test_hulls_mixed_sizes_fall_back(name):
    rng = np.random.default_rng(10)
    check(name, [SAMPLERS[name](rng, n) for n in (3, 8, 1, 8)])
