"""Every algorithm's trajectories match its spec, over sizes, and sampling is deterministic."""
import numpy as np
import pytest

import nar
from nar.samplers import MIN_NODES
from nar.specs import Stage
from nar.types import check_value

ALGOS = nar.list_algorithms()


def assert_matches_spec(t: nar.Trajectory) -> None:
    spec = nar.get_spec(t.name)
    groups = {Stage.INPUT: t.inputs, Stage.HINT: t.hints, Stage.OUTPUT: t.outputs}
    for stage, values in groups.items():
        expected = {k for k, p in spec.items() if p.stage == stage}
        assert set(values) == expected, (t.name, stage, set(values) ^ expected)
    assert t.length >= 1
    for k, p in spec.items():
        value = groups[p.stage][k]
        check_value(k, p, value, t.n, timed=p.stage == Stage.HINT)
        if p.stage == Stage.HINT:
            assert value.shape[0] == t.length, (t.name, k)


@pytest.mark.parametrize("name", ALGOS)
def test_trajectories_match_spec(name):
    sizes = [n for n in (1, 2, 3, 5, 8, 16, 33) if n >= MIN_NODES.get(name, 1)]
    for n in sizes:
        for t in nar.sample(name, n=n, count=4, seed=n):
            assert_matches_spec(t)


@pytest.mark.parametrize("name", ALGOS)
def test_same_seed_same_bytes_other_seed_other_data(name):
    def flat(trajs):
        return b"".join(a.tobytes() for t in trajs for d in (t.inputs, t.hints, t.outputs)
                        for a in d.values())

    a = flat(nar.sample(name, n=8, count=3, seed=11))
    b = flat(nar.sample(name, n=8, count=3, seed=11))
    c = flat(nar.sample(name, n=8, count=3, seed=12))
    assert a == b
    assert a != c
