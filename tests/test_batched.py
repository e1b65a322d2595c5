"""Every batched kernel returns exactly what ``nar.execute`` returns, sample for sample; ``nar.sample``
is ``nar.execute`` on the bulk sampler's blocks."""
from __future__ import annotations

import numpy as np
import pytest

import nar
from nar.algorithms.registry import get_algorithm
from nar.batched import execute_many, kernels
from nar.samplers import MIN_NODES, SAMPLERS, generalist_p, sampler_options

SIZES = (1, 2, 3, 4, 5, 7, 8, 11, 16, 23, 32, 64)


def assert_same(got, want, where):
    assert got.name == want.name, where
    assert got.extras == want.extras, where
    for part in ("inputs", "hints", "outputs"):
        g, w = getattr(got, part), getattr(want, part)
        assert list(g) == list(w), f"{where}: {part} keys {list(g)} != {list(w)}"
        for k in w:
            assert g[k].dtype == w[k].dtype, f"{where}: {part}[{k!r}] dtype {g[k].dtype} != {w[k].dtype}"
            assert g[k].shape == w[k].shape, f"{where}: {part}[{k!r}] shape {g[k].shape} != {w[k].shape}"
            np.testing.assert_array_equal(g[k], w[k], err_msg=f"{where}: {part}[{k!r}]")


def draws(name, n, count, seed, **options):
    rng = np.random.default_rng(seed)
    return [SAMPLERS[name](rng, n, **options) for _ in range(count)]


@pytest.mark.parametrize("name", sorted(kernels()))
def test_kernel_equals_execute(name):
    algo = get_algorithm(name).fn
    sizes = [n for n in SIZES if n >= MIN_NODES.get(name, 1)]
    for n in sizes:
        count = 40 if n <= 16 else 8
        option_sets = [{}]
        if "p" in sampler_options(name):
            option_sets.append({"p": list(generalist_p(name))})
        for options in option_sets:
            inputs = draws(name, n, count, seed=n, **options)
            got = execute_many(name, inputs)
            assert len(got) == len(inputs)
            for b, (x, g) in enumerate(zip(inputs, got)):
                assert_same(g, algo(**x), f"{name} n={n} {options} sample {b}")


@pytest.mark.parametrize("name", sorted(kernels()))
def test_kernel_on_ties_and_hand_made_inputs(name):
    """Inputs with many ties (keys drawn from 3 values, weights from 2) where the sampler allows."""
    algo = get_algorithm(name).fn
    rng = np.random.default_rng(7)
    n = max(MIN_NODES.get(name, 1), 9)
    inputs = draws(name, n, 30, seed=11)
    tied = []
    for x in inputs:
        y = {}
        for k, v in x.items():
            v = np.asarray(v)
            if v.dtype.kind == "f" and k not in ("xs", "ys"):
                levels = np.unique(v)
                if levels.size > 2:
                    v = np.where(v == 0, 0, rng.choice(levels[-3:], size=v.shape)).astype(v.dtype)
            y[k] = v if np.ndim(v) else x[k]
        tied.append(y)
    if name in ("binary_search",):  # needs sorted keys
        tied = [dict(x, A=np.sort(x["A"])) for x in tied]
    if name in ("dag_shortest_paths", "topological_sort"):
        tied = inputs  # tie patterns of weights are kept by the sampler's DAG
    if name in ("dijkstra", "mst_prim", "mst_kruskal", "bellman_ford", "floyd_warshall"):
        tied = [dict(x, A=np.where(x["A"] != 0, np.float64(0.5), 0.0)) if "A" in x else x for x in inputs] \
            + inputs
    valid, wanted = [], []
    for x in tied:
        try:
            wanted.append(algo(**x))
        except nar.InputError:
            continue
        valid.append(x)
    assert len(valid) >= 10
    for b, (x, want) in enumerate(zip(valid, wanted)):
        assert_same(execute_many(name, [x])[0], want, f"{name} tied sample {b} alone")
    for b, (got, want) in enumerate(zip(execute_many(name, valid), wanted)):
        assert_same(got, want, f"{name} tied sample {b} in a batch")


def expected_pos(name, args, n, rng):
    """The block's ``pos`` as :func:`nar.sample` draws it after the block's inputs: per sample,
    sorted U[0, 1] values from one ``[block, nodes]`` draw; the string algorithms sort the text
    (or lcs's x) and the pattern (y) separately."""
    if "string" not in nar.get_spec(name):
        nodes = nar.execute(name, **args[0]).n
        return [np.sort(row).astype(np.float32) for row in rng.random((len(args), nodes))]
    pos = []
    for x, row in zip(args, rng.random((len(args), n))):
        split = len(x["T"] if "T" in x else x["x"])
        pos.append(np.concatenate([np.sort(row[:split]), np.sort(row[split:])]).astype(np.float32))
    return pos


@pytest.mark.parametrize("name", nar.list_algorithms())
def test_sample_is_the_bulk_stream(name, monkeypatch):
    """``nar.sample`` draws fixed blocks of ``DRAW_BLOCK`` inputs with the bulk sampler (always a
    whole block, however few samples are still wanted), each followed by its pos when
    ``random_pos``, from one generator, and returns ``nar.execute`` of the inputs in order, executed
    in chunks of ``chunk_size(n)`` (here not a multiple of the block, so chunks straddle blocks)."""
    import nar.api
    from nar.samplers import BULK_SAMPLERS
    monkeypatch.setattr(nar.api, "DRAW_BLOCK", 16)
    monkeypatch.setattr(nar.api, "chunk_size", lambda n: 24)
    algo = get_algorithm(name).fn
    n = max(MIN_NODES.get(name, 1), 5)
    count = 2 * 16 + 3  # crosses block boundaries; the last block is drawn whole, 3 kept
    for random_pos in (False, True):
        rng = np.random.default_rng(5)
        want = []
        for start in range(0, count, 16):
            args = BULK_SAMPLERS[name](rng, n, 16)
            assert len(args) == 16
            pos = expected_pos(name, args, n, rng) if random_pos else None
            for k, x in enumerate(args[:count - start]):
                traj = algo(**x)
                if random_pos:
                    assert traj.inputs["pos"].shape == pos[k].shape
                    traj.inputs["pos"] = pos[k]
                want.append(traj)
        got = nar.sample(name, n=n, count=count, seed=5, random_pos=random_pos)
        assert len(got) == count
        for b, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{name} random_pos={random_pos} sample {b}")
        if random_pos:
            for t in got:
                pos = t.inputs["pos"]
                assert pos.min() >= 0 and pos.max() <= 1
        # a shorter count is a prefix; iter_samples yields the same; same seed same data
        for short in (1, 5, 16, 17):
            short_run = nar.sample(name, n=n, count=short, seed=5, random_pos=random_pos)
            assert len(short_run) == short
            for b, (g, w) in enumerate(zip(short_run, got)):
                assert_same(g, w, f"{name} random_pos={random_pos} count={short} sample {b}")
        lazy = list(nar.iter_samples(name, n=n, count=count, seed=5, random_pos=random_pos))
        assert len(lazy) == count
        for b, (g, w) in enumerate(zip(lazy, got)):
            assert_same(g, w, f"{name} iter_samples sample {b}")
        other = nar.sample(name, n=n, count=3, seed=6, random_pos=random_pos)
        assert any(not np.array_equal(o.inputs[k], g.inputs[k])
                   for o, g in zip(other, got) for k in g.inputs), f"{name}: seeds 5 and 6 agree"


@pytest.mark.parametrize("name", nar.list_algorithms())
def test_sample_prefix_property_at_default_chunk_size(name):
    """``sample(count=5) == sample(count=600)[:5]``: 600 spans two execution chunks at n = 8 (512)
    and ten draw blocks."""
    n = max(MIN_NODES.get(name, 1), 8)
    long = nar.sample(name, n=n, count=600, seed=2, random_pos=True)
    assert len(long) == 600
    for b, (g, w) in enumerate(zip(nar.sample(name, n=n, count=5, seed=2, random_pos=True), long)):
        assert_same(g, w, f"{name} sample {b}")
    assert not np.array_equal(long[0].inputs["pos"], long[512].inputs["pos"])
