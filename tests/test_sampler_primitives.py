"""The samplers' fast primitives draw exactly what numpy's own calls draw (same stream, same bits)."""
from __future__ import annotations

import numpy as np
import pytest

from nar.samplers import uniform, upper_triangle


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-1.0, 1.0), (0.0, 2 * np.pi), (-2.5, 3.75), (1e-3, 1e3)])
@pytest.mark.parametrize("size", [None, 1, 7, (5, 5)])
def test_uniform_is_generator_uniform(low, high, size):
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    for _ in range(20):
        want, got = a.uniform(low, high, size=size), uniform(b, low, high, size)
        assert np.asarray(got).tobytes() == np.asarray(want).tobytes()
        assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == np.asarray(want).dtype
    assert a.random() == b.random()  # the streams stay in step


def test_upper_triangle():
    for n in (1, 2, 5, 16):
        m = np.random.default_rng(n).random((n, n))
        np.testing.assert_array_equal(m * upper_triangle(n), np.triu(m, k=1))
    with pytest.raises(ValueError):
        upper_triangle(3)[0, 0] = 1.0  # the cached mask is read-only
