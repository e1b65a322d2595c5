"""Input validation of the public API and the samplers (issue 14, items 2, 8, 11).

Guarantees tested here: every sampling argument (n, count, seed, random_pos, each sampler option)
is checked once, up front, against :data:`nar.samplers.OPTIONS` by every entry point; float
inputs are rounded to float32 at the boundary so what is stored is what was computed on; odd
containers (torch tensors, 0-d arrays, uint64, networkx graphs) are accepted or rejected clearly.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nar
from nar import InputError
from nar.samplers import BULK_SAMPLERS, MIN_NODES, OPTIONS, check_options
from nar.specs import SPECS, Stage
from nar.types import check_value
from nar.validation import to_float32_exact

ALGOS = nar.list_algorithms()
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def assert_valid(traj):
    """Every probe of ``traj`` keeps the conventions of its type (finite scalars, one-hot masks...)."""
    for stage in (traj.inputs, traj.outputs):
        for k, v in stage.items():
            check_value(k, traj.spec[k], v, traj.n, timed=False)
    for k, v in traj.hints.items():
        check_value(k, traj.spec[k], v, traj.n, timed=True)


# ----------------------------------------------------------------------------- sampler options
BAD_REQUESTS = [
    ("insertion_sort", dict(low=float("nan")), "low"),
    ("insertion_sort", dict(high=1e39), "high"),
    ("insertion_sort", dict(low=2.0, high=1.0), "low <= high"),
    ("dag_shortest_paths", dict(low=0.5, high=0.25), "low <= high"),
    ("bfs", dict(low=2.0, high=1.0), "unknown sampler option"),  # unweighted: no weight range
    ("bfs", dict(seed="x"), "seed"),
    ("bfs", dict(seed=-1), "seed"),
    ("bfs", dict(seed=1.5), "seed"),
    ("bfs", dict(random_pos="yes"), "random_pos"),
    ("bfs", dict(p="abc"), "p must be in"),
    ("bfs", dict(p=None), "p must be in"),
    ("bfs", dict(p=[0.5, float("nan")]), "p must be in"),
    ("bfs", dict(p=True), "p must be in"),
    ("kmp_matcher", dict(length_needle=0), "length_needle"),
    ("kmp_matcher", dict(length_needle=-20), "length_needle"),
    ("kmp_matcher", dict(length_needle=9), "length_needle"),  # n = 16: at most n // 2 = 8
    ("kmp_matcher", dict(length_needle=2.0), "length_needle"),
    ("naive_string_matcher", dict(chars=5), "chars"),
    ("lcs_length", dict(chars=0), "chars"),
    ("graham_scan", dict(radius=-1), "radius"),
    ("jarvis_march", dict(radius=0), "radius"),
    ("task_scheduling", dict(max_deadline=0), "max_deadline"),
    ("strongly_connected_components", dict(k=1.5), "k"),
    ("strongly_connected_components", dict(eps=2), "eps"),
    ("dijkstra", dict(low=-1.0), "low must be >= 0"),
    ("matrix_chain_order", dict(low=-1.0), "low must be >= 0"),
    ("segments_intersect", dict(low=1.0, high=1.0), "float32 values"),
    ("insertion_sort", dict(q=1), "allowed: \\['low', 'high'\\]"),
]


@pytest.mark.parametrize("name, kwargs, match", BAD_REQUESTS)
def test_bad_sampling_arguments_are_input_errors_before_drawing(name, kwargs, match):
    with pytest.raises(InputError, match=match) as err:
        nar.iter_samples(name, n=16, count=3, **kwargs)  # raises before the first draw
    key = next(iter(kwargs))
    if "unknown" not in str(err.value):
        assert repr(kwargs[key]) in str(err.value) or str(kwargs[key]) in str(err.value)


def test_option_table_matches_the_samplers():
    import inspect

    for name in ALGOS:
        sig = inspect.signature(BULK_SAMPLERS[name]).parameters
        assert tuple(OPTIONS[name].options) == tuple(k for k, p in sig.items() if p.kind == p.KEYWORD_ONLY)
        check_options(name, {k: p.default for k, p in sig.items() if p.kind == p.KEYWORD_ONLY}, 16)


def test_options_are_normalised_to_float32_values():
    got = check_options("insertion_sort", {"low": 0.1, "high": 1 / 3, "random_pos": True})
    assert got == {"low": float(np.float32(0.1)), "high": float(np.float32(1 / 3)), "random_pos": True}
    for t in nar.sample("insertion_sort", n=8, count=50, low=0.1, high=0.1 + 1e-6):
        assert np.all(t.inputs["key"] >= np.float32(0.1)) and np.all(t.inputs["key"] <= np.float32(0.1 + 1e-6))


def test_every_entry_point_validates_option_values(tmp_path):
    from nar.data import OnTheFlyDataset, SplitSpec, write_splits

    with pytest.raises(InputError, match="p must be in"):
        OnTheFlyDataset("bfs", 4, 2, p="abc")
    with pytest.raises(InputError, match="low"):
        OnTheFlyDataset("insertion_sort", 4, 2, low=float("nan"))
    with pytest.raises(InputError, match="p must be in"):
        write_splits(tmp_path, "bfs", {"x": SplitSpec(n=4, count=2, seed=0, options={"p": 2.0})})
    assert not (tmp_path / "bfs").exists()
    with pytest.raises(InputError, match="length_needle"):
        nar.sample("kmp_matcher", n=5, length_needle=-8)  # n // 2 = 2 < 8: no silent clipping


def test_cli_prints_one_line_for_bad_options(capsys):
    from nar.cli import main

    for option in ("low=NaN", "high=1e39", "p=abc", "low=2"):
        name = "bfs" if option.startswith("p=") else "insertion_sort"
        extra = ["--option", "high=1"] if option == "low=2" else []
        code = main(["sample", name, "--n", "5", "--count", "3", "--option", option, *extra,
                     "--out", "/nonexistent/x.safetensors", "--quiet"])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("nar: error:") and len(err.strip().splitlines()) == 1, err


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2 ** 70), 2 ** 70), st.floats(), st.text(max_size=3),
    st.lists(st.floats(-0.5, 1.5), max_size=3),
    st.sampled_from([0, 1, 2, 4, -1, -3, -20, 0.5, 1e-3, 1e6, 1e39, -1e6, 3.0]))


@pytest.mark.parametrize("name", ALGOS)
@PROPERTY
@given(data=st.data())
def test_any_sampling_request_gives_valid_data_or_an_input_error(name, data):
    """Random option names and values, n, count, seed and random_pos: either valid trajectories
    (finite, within the declared bounds) or an InputError -- never another exception."""
    known = list(OPTIONS[name].options)
    options = data.draw(st.dictionaries(st.sampled_from(known + ["q", "lo"]), _VALUES, max_size=3))
    n = data.draw(st.one_of(st.integers(-1, 9), _VALUES))
    count = data.draw(st.one_of(st.integers(0, 3), _VALUES))
    seed = data.draw(st.one_of(st.integers(0, 2 ** 64), _VALUES))
    random_pos = data.draw(st.one_of(st.booleans(), _VALUES))
    if isinstance(n, int) and not isinstance(n, bool) and n > 64 or \
            isinstance(count, int) and not isinstance(count, bool) and count > 64:
        return  # valid but slow: not what this test is about
    try:
        trajs = nar.sample(name, n=n, count=count, seed=seed, random_pos=random_pos, **options)
    except InputError:
        return
    assert len(trajs) == count
    for t in trajs:
        assert_valid(t)
    # the raw draws of the same (normalised) options: float32-exact, finite, within the bounds
    opts = check_options(name, options, n)
    for x in BULK_SAMPLERS[name](np.random.default_rng(seed), n, 4, **opts):
        check_draw(name, x, opts)


def check_draw(name, x, opts):
    low = opts.get("low", OPTIONS_DEFAULTS(name).get("low"))
    high = opts.get("high", OPTIONS_DEFAULTS(name).get("high"))
    for k, v in x.items():
        v = np.asarray(v)
        if v.dtype.kind != "f":
            continue
        assert np.all(np.isfinite(v)), (name, k)
        assert np.array_equal(v, to_float32_exact(v)), (name, k)
        if name in ("graham_scan", "jarvis_march"):
            assert np.abs(v).max() <= opts.get("radius", 2.0)
        elif name == "dag_shortest_paths":
            w = v[v != 0]
            assert w.size == 0 or (w.min() >= low and w.max() <= high)
        elif low is not None and name not in ("mst_kruskal", "mst_prim", "bellman_ford", "dijkstra",
                                              "floyd_warshall"):
            assert v.min() >= low and v.max() <= high, (name, k, low, high)


def OPTIONS_DEFAULTS(name):
    from nar.samplers import _defaults

    return _defaults(name)


@pytest.mark.parametrize("name", ALGOS)
def test_samplers_draw_float32_exact_values(name):
    n = max(MIN_NODES.get(name, 1), 9)
    for x in BULK_SAMPLERS[name](np.random.default_rng(0), n, 64):
        for k, v in x.items():
            v = np.asarray(v)
            if v.dtype.kind == "f":
                assert np.array_equal(v, to_float32_exact(v)), (name, k)


# ----------------------------------------------------------------------------- float32 storage
def test_execute_computes_on_the_stored_float32_values():
    t = nar.execute("bfs", A=[[0, 1e-50], [0, 0]], s=0)
    assert t.inputs["A"][0, 1] == 0 and t.inputs["adj"][0, 1] == 0 and list(t.outputs["pi"]) == [0, 1]
    t = nar.execute("insertion_sort", A=[1 + 1e-9, 1])
    assert t.inputs["key"][0] == t.inputs["key"][1]
    assert list(t.outputs["pred"]) == list(nar.execute("insertion_sort", A=[1.0, 1.0]).outputs["pred"])
    with pytest.raises(InputError, match="2\\^24"):
        nar.execute("task_scheduling", d=[2 ** 24 + 1, 1], w=[0.5, 0.25])


# raw float argument -> the input probe that stores it
_PROBE = {"A": "key", "x": "target", "xs": "x", "ys": "y"}


def _probe_of(name, arg):
    return arg if arg in SPECS[name] and SPECS[name][arg].stage == Stage.INPUT else _PROBE[arg]


def _same(a, b, what):
    assert a.keys() == b.keys(), what
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=f"{what} {k}")


@pytest.mark.parametrize("name", ALGOS)
@PROPERTY
@given(seed=st.integers(0, 2 ** 32), scale=st.sampled_from([1.0, 1e-3, 1e15, 1e-40]),
       tie=st.booleans())
def test_execute_equals_execute_on_float32_rounded_inputs(name, seed, scale, tie):
    """Random float64 inputs (off the float32 grid, with near-ties): the trajectory equals the one
    of the float32-rounded inputs, and the stored inputs are the rounded values."""
    rng = np.random.default_rng(seed)
    n = max(MIN_NODES.get(name, 1), 6)
    x = BULK_SAMPLERS[name](rng, n, 1)[0]
    noisy = {}
    for k, v in x.items():
        arr = np.asarray(v)
        if arr.dtype.kind == "f":
            s = scale if name not in ("matrix_chain_order",) or scale <= 1e6 else 1e6
            arr = arr * s * (1 + rng.uniform(-1, 1, arr.shape) * 2.0 ** -20)
            if tie and arr.ndim and arr.size > 1:
                arr.flat[1] = arr.flat[0] * (1 + 1e-9)
            if name in ("activity_selector",) and k == "f":
                arr = np.maximum(arr, noisy["s"])
            v = arr if arr.ndim else float(arr)
        noisy[k] = v
    rounded = {k: (to_float32_exact(np.asarray(v)) if np.asarray(v).dtype.kind == "f" else v)
               for k, v in noisy.items()}
    rounded = {k: float(v) if isinstance(noisy[k], float) else v for k, v in rounded.items()}
    try:
        want = nar.execute(name, **rounded)
    except InputError as err:
        with pytest.raises(InputError):
            nar.execute(name, **noisy)
        return
    got = nar.execute(name, **noisy)
    for stage in ("inputs", "hints", "outputs"):
        _same(getattr(got, stage), getattr(want, stage), f"{name} {stage}")
    for k, v in rounded.items():
        if np.asarray(v).dtype.kind == "f":
            want_stored = np.asarray(v, dtype=np.float32)
            stored = got.inputs[_probe_of(name, k)][..., :want_stored.shape[-1]] if want_stored.ndim \
                else got.inputs[_probe_of(name, k)]  # optimal_bst pads p to n + 1 nodes
            np.testing.assert_array_equal(stored, want_stored, err_msg=k)


# ----------------------------------------------------------------------------- API containers
def test_unknown_algorithm_is_an_input_error_and_a_key_error():
    for call in (lambda: nar.get_spec("bsf"), lambda: nar.execute("bsf", A=[1.0]),
                 lambda: nar.sample("bsf"), lambda: nar.iter_samples("bsf")):
        with pytest.raises(InputError, match="did you mean bfs\\?.*valid names") as err:
            call()
        assert isinstance(err.value, KeyError)
        assert str(err.value).startswith("unknown algorithm 'bsf'")  # not KeyError's quoting
    for bad in (None, ["bfs"], 3):
        with pytest.raises(InputError, match="unknown algorithm"):
            nar.sample(bad)
        with pytest.raises(InputError, match="unknown algorithm"):
            nar.get_spec(bad)


def test_torch_tensors_are_detached_and_accepted():
    torch = pytest.importorskip("torch")
    A = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], requires_grad=True)
    want = nar.execute("bfs", A=A.detach().numpy(), s=1)
    for s in (torch.tensor(1), np.array(1), np.int64(1), 1.0):
        got = nar.execute("bfs", A=A, s=s)
        _same(got.outputs, want.outputs, "bfs")
    keys = torch.tensor([0.3, 0.1, 0.2], requires_grad=True)
    _same(nar.execute("insertion_sort", A=keys).outputs,
          nar.execute("insertion_sort", A=keys.detach().numpy()).outputs, "insertion_sort")
    x = torch.tensor(0.2, requires_grad=True)
    assert nar.execute("binary_search", A=keys.detach().sort().values, x=x).inputs["target"] == np.float32(0.2)
    for bad in (torch.tensor([1]), torch.tensor(True), np.array([0, 1])):
        with pytest.raises(InputError, match="s must be"):
            nar.execute("bfs", A=A, s=bad)


def test_uint64_values_beyond_int64_are_rejected_or_exact():
    big = np.array([2 ** 63, 1], dtype=np.uint64)
    with pytest.raises(InputError, match="d must hold integers of magnitude <= 2\\^24"):
        nar.execute("task_scheduling", d=big, w=[0.5, 0.25])
    with pytest.raises(InputError, match="x must hold"):
        nar.execute("lcs_length", x=big, y=[1, 2])
    with pytest.raises(InputError, match="s must be a node index"):
        nar.execute("bfs", A=np.eye(2), s=np.uint64(2 ** 63))
    t = nar.execute("insertion_sort", A=big)  # as float keys: exact in float32 (2^63 is a power of 2)
    assert t.inputs["key"][0] == np.float32(2 ** 63)
    _same(t.outputs, nar.execute("insertion_sort", A=[2.0 ** 63, 1.0]).outputs, "insertion_sort")


def test_networkx_graphs_with_unsortable_labels_or_string_weights():
    nx = pytest.importorskip("networkx")
    G = nx.Graph()
    G.add_edges_from([(0, "a"), ("a", 2)])
    with pytest.raises(InputError, match="A is a networkx graph whose node labels cannot be sorted"):
        nar.execute("bfs", A=G, s=0)
    H = nx.Graph()
    H.add_edge(0, 1, weight="heavy")
    with pytest.raises(InputError, match="non-numeric 'weight'"):
        nar.execute("dijkstra", A=H, s=0)
    W = nx.Graph()
    W.add_edge(0, 1, weight=0.1)
    assert nar.execute("dijkstra", A=W, s=0).inputs["A"][0, 1] == np.float32(0.1)
