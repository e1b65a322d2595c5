"""nar.sparse data layer: SparseGraph validation, HintLog, from_dense / to_dense round trips, samplers."""
import numpy as np
import pytest

import nar
import nar.sparse
from nar.sparse import HintLog, SparseGraph, from_dense, to_dense
from nar.sparse.trajectory import Recorder

ROUND_TRIP = ("bfs", "dfs", "bellman_ford", "dijkstra", "mst_prim", "mst_kruskal", "topological_sort",
              "dag_shortest_paths", "strongly_connected_components", "articulation_points", "bridges")


def assert_same_trajectory(a, b):
    assert a.name == b.name
    for part in ("inputs", "outputs", "hints"):
        da, db = getattr(a, part), getattr(b, part)
        assert list(da) == list(db), part
        for k in da:
            assert da[k].dtype == db[k].dtype, (part, k)
            np.testing.assert_array_equal(da[k], db[k], err_msg=f"{part} {k}")


# ------------------------------------------------------------------------------ round trips
@pytest.mark.parametrize("name", ROUND_TRIP)
def test_dense_sparse_dense_round_trip_is_exact(name):
    for n in (1, 5, 12):
        for traj in nar.sample(name, n=n, count=3, seed=n):
            st = from_dense(traj)
            assert st.length == traj.length
            M = st.num_edges
            assert st.edge_index.shape == (2, M)
            for k, v in st.inputs.items():
                if traj.spec[k].location == nar.Location.EDGE:
                    assert v.shape[0] == M
            assert_same_trajectory(to_dense(st), traj)


def test_edge_set_is_symmetric_closure_plus_self_loops():
    A = np.zeros((4, 4))
    A[0, 1] = 2.0
    A[2, 3] = 1.0
    traj = nar.execute("dfs", A=A)
    st = from_dense(traj)
    pairs = set(map(tuple, st.edge_index.T.tolist()))
    assert pairs == {(0, 1), (1, 0), (2, 3), (3, 2)} | {(i, i) for i in range(4)}
    assert st.edge_index.T.tolist() == sorted(st.edge_index.T.tolist())
    # every pointer i -> pi[i] is an edge of the set
    for p in st.hints["pi_h"].dense():
        assert {(i, int(j)) for i, j in enumerate(p)} <= pairs


def test_bridges_non_edges_are_masked_after_round_trip():
    traj = nar.sample("bridges", n=8, count=1, seed=3)[0]
    back = to_dense(from_dense(traj))
    assert (back.outputs["is_bridge"] == -1).any()


def test_from_dense_rejects_dense_only_and_non_graph_algorithms():
    traj = nar.sample("floyd_warshall", n=4, count=1)[0]
    with pytest.raises(nar.InputError, match="floyd_warshall.*dense-only.*bfs"):
        from_dense(traj)
    with pytest.raises(nar.InputError, match="not a graph algorithm"):
        from_dense(nar.sample("insertion_sort", n=4, count=1)[0])


# ------------------------------------------------------------------------------ HintLog
def test_hintlog_from_dense_dense_and_at():
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 3, size=(7, 5)).astype(np.float32)
    arr[3] = arr[2]
    log = HintLog.from_dense(arr)
    np.testing.assert_array_equal(log.dense(), arr)
    for t in range(7):
        np.testing.assert_array_equal(log.at(t), arr[t])
    assert log.num_events == int((arr[1:] != arr[:-1]).sum())
    graph = HintLog.from_dense(np.array([0.0, 0.0, 1.0, 1.0, 2.0], np.float32), graph=True)
    np.testing.assert_array_equal(graph.dense(), [0, 0, 1, 1, 2])
    assert graph.at(3) == 1.0 and graph.num_events == 2
    cat = np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=(6, 4))]  # [T, n, C]
    np.testing.assert_array_equal(HintLog.from_dense(cat).dense(), cat)


def test_hintlog_build_keeps_last_event_and_drops_no_ops():
    log = HintLog.build(np.zeros(3, np.float32), [1, 1, 2, 2, 3], [0, 0, 1, 1, 2], [5, 6, 0, 0, 0], 4)
    assert log.steps.tolist() == [1] and log.index.tolist() == [0] and log.values.tolist() == [6]
    np.testing.assert_array_equal(log.dense(), [[0, 0, 0], [6, 0, 0], [6, 0, 0], [6, 0, 0]])
    with pytest.raises(ValueError, match="steps"):
        HintLog.build(np.zeros(3, np.float32), [4], [0], [1], 4)
    amended = HintLog.build(np.zeros(2, np.float32), [0, 0, 1], [1, 1, 0], [3, 4, 1], 2)
    assert amended.initial.tolist() == [0, 4] and amended.steps.tolist() == [1]


def test_recorder_mask_one_and_categorical_hints():
    rec = Recorder("dfs", 3, np.array([[0, 1, 2], [0, 1, 2]]))
    rec.input(A=np.zeros(3), adj=np.ones(3))
    logs = {k: rec.hint(k, 0) for k in ("u", "v", "s", "s_last")}
    color = rec.hint("color", [0, 0, 0])
    for k, init in (("pi_h", [0, 1, 2]), ("s_prev", [0, 1, 2]), ("d", [0, 0, 0]), ("f", [0, 0, 0]),
                    ("time", 0.0)):
        rec.hint(k, init)
    rec.push()
    logs["u"].move(2)
    color.set(2, 1)
    rec.logs["time"].set(0, 0.01)
    rec.push()
    rec.output(pi=[0, 1, 2])
    st = rec.finish()
    np.testing.assert_array_equal(st.hints["u"].dense(), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(st.hints["color"].dense()[1], [[1, 0, 0], [1, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(st.hints["time"].dense(), np.array([0, 0.01], np.float32))


# ------------------------------------------------------------------------------ SparseGraph
def test_sparse_graph_from_edges_sorts_and_symmetrises():
    g = SparseGraph.from_edges(4, [2, 0], [1, 1], [3.0, 4.0])
    assert g.senders.tolist() == [0, 1, 1, 2] and g.receivers.tolist() == [1, 0, 2, 1]
    assert g.weights.tolist() == [4.0, 4.0, 3.0, 3.0] and g.weights.dtype == np.float32
    indptr, idx, w = g.csr()
    assert indptr.tolist() == [0, 1, 3, 4, 4]
    A = g.to_dense()
    np.testing.assert_array_equal(A, A.T)
    g2 = SparseGraph.from_dense(A)
    assert not g2.directed and g2.senders.tolist() == g.senders.tolist()
    d = SparseGraph.from_edges(3, [0, 1], [1, 2], directed=True)
    assert d.weights is None and d.transpose().senders.tolist() == [1, 2]


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=3, senders=[0, 5], receivers=[1, 2]), r"senders holds node 5, outside \[0, 3\)"),
    (dict(n=3, senders=[0, 1], receivers=[1, -1]), r"receivers holds node -1"),
    (dict(n=3, senders=[0, 1], receivers=[1, 0]), r"edge \{0, 1\} is given twice"),
    (dict(n=3, senders=[0, 0], receivers=[1, 1], directed=True), r"directed edge \(0, 1\) is given twice"),
    (dict(n=3, senders=[1], receivers=[1]), "self-loop"),
    (dict(n=0, senders=[], receivers=[]), "n must be an integer >= 1"),
    (dict(n=-2, senders=[], receivers=[]), "n must be an integer >= 1"),
    (dict(n=3, senders=[0], receivers=[1, 2]), "as many entries as senders"),
    (dict(n=3, senders=[0], receivers=[1], weights=[0.0]), "non-zero"),
    (dict(n=3, senders=[0], receivers=[1], weights=[np.nan]), "finite"),
    (dict(n=3, senders=[0.5], receivers=[1]), "integer node indices"),
])
def test_sparse_graph_bad_input(kwargs, match):
    with pytest.raises(nar.InputError, match=match):
        SparseGraph.from_edges(**kwargs)


def test_sparse_graph_invariants_checked_on_direct_construction():
    with pytest.raises(nar.InputError, match="not sorted"):
        SparseGraph(3, np.array([1, 0]), np.array([0, 1]), None, True)
    with pytest.raises(nar.InputError, match="lacks the reverse"):
        SparseGraph(3, np.array([0]), np.array([1]), None, False)
    with pytest.raises(nar.InputError, match="equal weights"):
        SparseGraph(2, np.array([0, 1]), np.array([1, 0]), np.array([1.0, 2.0]), False)
    with pytest.raises(nar.InputError, match="self-loops"):
        SparseGraph.from_dense(np.eye(2))


def test_sparse_graph_from_networkx():
    nx = pytest.importorskip("networkx")
    G = nx.Graph()
    G.add_edge("b", "a", weight=2.0)
    G.add_edge("c", "b", weight=0.5)
    g = SparseGraph.from_networkx(G)
    assert g.n == 3 and not g.directed
    assert list(zip(g.senders.tolist(), g.receivers.tolist(), g.weights.tolist())) == [
        (0, 1, 2.0), (1, 0, 2.0), (1, 2, 0.5), (2, 1, 0.5)]
    with pytest.raises(nar.InputError, match="networkx graph"):
        SparseGraph.from_networkx(np.zeros((2, 2)))


# ------------------------------------------------------------------------------ samplers
from nar.sparse import samplers as S  # noqa: E402


@pytest.mark.parametrize("family", S.FAMILIES)
def test_sampler_seed_gives_the_same_graph(family):
    a, b = S.sample_graph(family, 500, 7), S.sample_graph(family, 500, 7)
    c = S.sample_graph(family, 500, 8)
    assert np.array_equal(a.senders, b.senders) and np.array_equal(a.receivers, b.receivers)
    if family not in ("path", "grid"):  # a grid without drop, like a path, does not depend on the seed
        assert not (np.array_equal(a.senders, c.senders) and np.array_equal(a.receivers, c.receivers))


@pytest.mark.parametrize("family", ["er", "geometric"])
def test_sampler_mean_degree(family):
    g = S.sample_graph(family, 20_000, 1, degree=5.0)
    assert not g.directed and g.num_edges / g.n == pytest.approx(5.0, rel=0.05)
    d = S.er(20_000, 3.0, 1, directed=True)
    assert d.directed and d.num_edges / d.n == pytest.approx(3.0, rel=0.05)


def test_sampler_connected_option_and_trees():
    for family in ("er", "geometric", "grid"):
        g = S.sample_graph(family, 3000, 2, degree=2.0, connected=True, drop=0.4)
        assert np.unique(S.components(g.n, g.senders, g.receivers)).size == 1, family
    for g in (S.tree(1000, 3), S.path(1000)):
        assert g.num_edges == 2 * 999 and np.unique(S.components(g.n, g.senders, g.receivers)).size == 1


def test_sampler_orientations_and_weights():
    dag = S.er(2000, 4.0, 1, acyclic=True, weighted=True, low=0.5, high=2.0)
    assert dag.directed and dag.weights.min() >= 0.5 and dag.weights.max() <= 2.0
    from nar.sparse.algorithms_dfs import check_acyclic
    check_acyclic("test", dag)  # raises on a cycle
    und = S.geometric(2000, 4.0, 1, weighted=True)
    assert und.weights.min() >= np.float32(np.sqrt(1e-3)) and und.weights.max() <= np.float32(np.sqrt(1 + 1e-3))
    assert np.array_equal(und.weights, und.weights.astype(np.float32))
    grid = S.grid(12, 0)  # 3 x 4
    assert grid.num_edges == 2 * (3 * 3 + 2 * 4)


@pytest.mark.parametrize("call, match", [
    (lambda: S.er(0), "n must be an integer >= 1"),
    (lambda: S.er(10, 20.0), r"degree must be in \[0, n - 1\]"),
    (lambda: S.er(10, seed=-1), "seed must be an integer >= 0"),
    (lambda: S.grid(10, drop=1.5), r"drop must be in \[0, 1\)"),
    (lambda: S.sample_graph("hex", 10), "graph family must be one of er, geometric"),
    (lambda: S.sample_graph("er", 10, orient="up"), "orient must be None, 'random' or 'acyclic'"),
    (lambda: S.er(10, weighted=True, low=-1.0), "low must be >= 0 for undirected weighted"),
    (lambda: S.sample_inputs("floyd_warshall", 10), "dense-only"),
])
def test_sampler_bad_input(call, match):
    with pytest.raises(nar.InputError, match=match):
        call()


def test_sampler_at_1e5_nodes_is_sparse_and_fast():
    import time
    import tracemalloc

    tracemalloc.start()
    t = time.process_time()
    g = S.er(100_000, 4.0, 0)
    cpu = time.process_time() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert g.n == 100_000 and peak < 100e6 and cpu < 5.0


def test_sparse_sample_is_reproducible():
    a = nar.sparse.sample("dijkstra", 300, count=2, seed=4, graph="geometric")
    b = nar.sparse.sample("dijkstra", 300, count=2, seed=4, graph="geometric")
    assert len(a) == 2
    for x, y in zip(a, b):
        assert np.array_equal(x.outputs["pi"], y.outputs["pi"]) and np.array_equal(x.inputs["A"], y.inputs["A"])


def test_default_degree_is_capped_at_n_minus_1():
    """The default degree 4 is min(4, n - 1): small graphs sample without an explicit degree."""
    assert S.er(3, seed=1).num_edges <= 6 and S.geometric(2, seed=1).n == 2
    assert nar.sparse.sample("bfs", n=3, seed=0)[0].n == 3
