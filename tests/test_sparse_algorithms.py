"""nar.sparse.execute: exactly the dense nar.execute on the same graph (outputs and every hint), and
right against networkx on graphs up to n = 2,000; fast_mis and eccentricity (SALSA-CLRS); bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nar
from nar.sparse import ALGORITHMS, SparseGraph, execute, sample_inputs, to_dense
from nar.sparse.samplers import components

nx = pytest.importorskip("networkx")

CLRS = tuple(a for a in ALGORITHMS if a not in ("fast_mis", "eccentricity"))
FAMILIES = ("er", "geometric", "grid", "tree", "path")


def dense_twin(name, inputs):
    kw = {"A": inputs["graph"].to_dense()}
    if "source" in inputs:
        kw["s"] = inputs["source"]
    return nar.execute(name, **kw)


def assert_same(sparse, dense):
    back = to_dense(sparse)
    for part in ("inputs", "outputs", "hints"):
        a, b = getattr(back, part), getattr(dense, part)
        assert list(a) == list(b), part
        for k in a:
            assert a[k].dtype == b[k].dtype, (part, k)
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{sparse.name} {part} {k}")


# ----------------------------------------------------------------------- the dense oracle tie
@pytest.mark.parametrize("name", CLRS)
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 24), seed=st.integers(0, 2**31), family=st.sampled_from(FAMILIES),
       degree=st.floats(0.0, 6.0), connected=st.booleans())
def test_sparse_equals_dense_on_sampled_graphs(name, n, seed, family, degree, connected):
    options = {"degree": min(degree, n - 1), "connected": connected} if family in ("er", "geometric") else {}
    inputs = sample_inputs(name, n, seed, graph=family, **options)
    assert_same(execute(name, inputs["graph"], inputs.get("source")), dense_twin(name, inputs))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 16), seed=st.integers(0, 2**31))
def test_negative_weights_match_dense(n, seed):
    """bellman_ford and dag_shortest_paths on directed graphs with weights of both signs."""
    g = sample_inputs("dag_shortest_paths", n, seed, low=-1.0, high=1.0)["graph"]
    assert_same(execute("dag_shortest_paths", g, 0), nar.execute("dag_shortest_paths", A=g.to_dense(), s=0))
    try:
        dense = nar.execute("bellman_ford", A=g.to_dense(), s=0)
    except nar.InputError:
        with pytest.raises(nar.InputError, match="negative-weight cycle"):
            execute("bellman_ford", g, 0)
    else:
        assert_same(execute("bellman_ford", g, 0), dense)


@pytest.mark.parametrize("name", ["bfs", "bellman_ford", "dijkstra", "mst_prim", "mst_kruskal",
                                  "dag_shortest_paths"])
@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 20), seed=st.integers(0, 2**31))
def test_ties_match_dense(name, n, seed):
    """Weights in {1, 2}: equal offers and keys everywhere, so every tie-break is exercised."""
    g = sample_inputs(name, n, seed, degree=min(4.0, n - 1))["graph"]
    rng = np.random.default_rng(seed)
    one = g.senders < g.receivers if not g.directed else np.ones(g.num_edges, bool)
    w = rng.integers(1, 3, size=int(one.sum())).astype(np.float32)
    g = SparseGraph.from_edges(n, g.senders[one], g.receivers[one], w, directed=g.directed)
    s = int(rng.integers(n))
    inputs = {"graph": g, "source": s} if name not in ("mst_kruskal",) else {"graph": g}
    assert_same(execute(name, g, inputs.get("source")), dense_twin(name, inputs))


@pytest.mark.parametrize("name", ["dfs", "mst_kruskal", "bridges", "dijkstra"])
def test_logs_flushed_mid_run_are_unchanged(name, monkeypatch):
    """Long runs move their event lists into numpy every FLUSH_EVERY steps; the logs stay exact."""
    from nar.sparse.trajectory import Recorder

    monkeypatch.setattr(Recorder, "FLUSH_EVERY", 3)
    inputs = sample_inputs(name, 20, 9)
    assert_same(execute(name, inputs["graph"], inputs.get("source")), dense_twin(name, inputs))


@pytest.mark.parametrize("name", ALGORITHMS)
def test_hints_false_same_outputs_and_length(name):
    inputs = sample_inputs(name, 60, 4)
    full = execute(name, inputs["graph"], inputs.get("source"))
    bare = execute(name, inputs["graph"], inputs.get("source"), hints=False)
    assert bare.hints == {} and bare.length == full.length
    for k, v in full.outputs.items():
        np.testing.assert_array_equal(bare.outputs[k], v)


# ----------------------------------------------------------------------- networkx oracles
def to_nx(g: SparseGraph):
    G = nx.DiGraph() if g.directed else nx.Graph()
    G.add_nodes_from(range(g.n))
    for u, v, w in zip(g.senders.tolist(), g.receivers.tolist(), g.edge_weights.tolist()):
        G.add_edge(u, v, weight=w)
    return G


def path_lengths(pi, weight_of, n):
    """Distance of each node along its ``pi`` chain (roots: 0)."""
    out = {}
    for v in range(n):
        total, x = 0.0, v
        while pi[x] != x:
            total += weight_of(int(pi[x]), int(x))
            x = pi[x]
        out[v] = (x, total)
    return out


N = 2000


@pytest.fixture(scope="module")
def graphs():
    return {name: sample_inputs(name, N, 11, graph="geometric" if name == "bridges" else "er")
            for name in ALGORITHMS}


@pytest.mark.parametrize("name", ["bfs", "bellman_ford", "dijkstra", "dag_shortest_paths"])
def test_shortest_paths_against_networkx(name, graphs):
    inp = graphs[name]
    g, s = inp["graph"], inp["source"]
    G = to_nx(g)
    pi = execute(name, g, s).outputs["pi"]
    if name == "bfs":
        want = nx.single_source_shortest_path_length(G, s)
        got = path_lengths(pi, lambda u, v: 1.0, g.n)
    else:
        want = nx.single_source_bellman_ford_path_length(G, s)
        got = path_lengths(pi, lambda u, v: G[u][v]["weight"], g.n)
    reached = {v for v, (root, _) in got.items() if root == s}
    assert reached == set(want)
    for v in reached:
        assert got[v][1] == pytest.approx(want[v], rel=1e-9, abs=1e-9)


def test_dfs_forest_is_networkx_dfs(graphs):
    g = graphs["dfs"]["graph"]
    pi = execute("dfs", g).outputs["pi"]
    pred = nx.dfs_predecessors(to_nx(g))  # roots in node order, neighbours in increasing order
    assert {v: int(p) for v, p in enumerate(pi) if p != v} == pred


@pytest.mark.parametrize("name", ["mst_prim", "mst_kruskal"])
def test_mst_weight_against_networkx(name, graphs):
    inp = graphs[name]
    g = inp["graph"]
    G = to_nx(g)
    traj = execute(name, g, inp.get("source"))
    if name == "mst_prim":
        s = inp["source"]
        pi = traj.outputs["pi"]
        total = sum(G[int(p)][v]["weight"] for v, p in enumerate(pi) if p != v)
        comp = G.subgraph(nx.node_connected_component(G, s))
        assert total == pytest.approx(nx.minimum_spanning_tree(comp).size(weight="weight"), rel=1e-9)
    else:
        ei = traj.edge_index
        chosen = traj.outputs["in_mst"] == 1
        total = sum(G[int(u)][int(v)]["weight"] for u, v in ei[:, chosen].T if u < v)
        assert total == pytest.approx(nx.minimum_spanning_tree(G).size(weight="weight"), rel=1e-9)


def test_topological_sort_order_respects_edges(graphs):
    g = graphs["topological_sort"]["graph"]
    out = execute("topological_sort", g).outputs
    topo, head = out["topo"], int(np.argmax(out["topo_head"]))
    order, x = [head], head
    while topo[x] != x:
        x = int(topo[x])
        order.append(x)
    rank = {v: i for i, v in enumerate(order)}
    for u, v in zip(g.senders.tolist(), g.receivers.tolist()):
        if u in rank and v in rank:
            assert rank[u] < rank[v]


def test_scc_against_networkx(graphs):
    g = graphs["strongly_connected_components"]["graph"]
    scc = execute("strongly_connected_components", g).outputs["scc_id"]
    got = {}
    for v, c in enumerate(scc.tolist()):
        got.setdefault(c, set()).add(v)
    assert sorted(map(sorted, got.values())) == sorted(map(sorted, nx.strongly_connected_components(to_nx(g))))


def test_articulation_points_and_bridges_against_networkx(graphs):
    g = graphs["articulation_points"]["graph"]
    cut = execute("articulation_points", g).outputs["is_cut"]
    assert set(np.flatnonzero(cut).tolist()) == set(nx.articulation_points(to_nx(g)))
    g = graphs["bridges"]["graph"]
    traj = execute("bridges", g)
    ei, b = traj.edge_index, traj.outputs["is_bridge"]
    got = {(int(u), int(v)) for u, v in ei[:, b == 1].T if u < v}
    assert got == {tuple(sorted(e)) for e in nx.bridges(to_nx(g))}
    assert got  # a sparse geometric graph has bridges: the test can fail


# ----------------------------------------------------------------------- SALSA-CLRS
@pytest.mark.parametrize("family", ["er", "geometric", "grid"])
def test_fast_mis_is_maximal_independent_and_greedy_by_priority(family):
    g = sample_inputs("fast_mis", N, 5, graph=family)["graph"]
    traj = execute("fast_mis", g, seed=3)
    mis = traj.outputs["inmis"] == 1
    G = to_nx(g)
    assert not any(mis[u] and mis[v] for u, v in G.edges)  # independent
    assert all(mis[v] or any(mis[u] for u in G[v]) for v in G)  # maximal
    # with fixed priorities it is the sequential greedy MIS in increasing (randomness, -index) order
    r = traj.inputs["randomness"]
    taken, blocked = set(), set()
    for v in sorted(range(g.n), key=lambda v: (r[v], -v)):
        if v not in blocked:
            taken.add(v)
            blocked.update(G[v])
    assert taken == set(np.flatnonzero(mis).tolist())
    # hints: two snapshots per round, Ain_h holds the edges between alive nodes
    T = traj.length
    assert T % 2 == 0 and traj.hints["phase_h"].dense().tolist() == [0.0, 1.0] * (T // 2)
    alive = traj.hints["alive_h"].dense()
    ain = traj.hints["Ain_h"].dense()
    ei = traj.edge_index
    is_edge = traj.inputs["adj"].astype(bool) & (ei[0] != ei[1])
    for t in range(T):
        np.testing.assert_array_equal(ain[t], is_edge & (alive[t][ei[0]] == 1) & (alive[t][ei[1]] == 1))
    assert alive[-1].sum() == 0 and traj.hints["inmis_h"].at(T - 1).tolist() == mis.tolist()


def test_fast_mis_seed_changes_randomness_only():
    g = sample_inputs("fast_mis", 200, 1)["graph"]
    a, b = execute("fast_mis", g, seed=1), execute("fast_mis", g, seed=1)
    np.testing.assert_array_equal(a.outputs["inmis"], b.outputs["inmis"])
    c = execute("fast_mis", g, seed=2)
    assert not np.array_equal(a.inputs["randomness"], c.inputs["randomness"])


@pytest.mark.parametrize("family, n", [("er", N), ("geometric", 800), ("grid", 400), ("tree", N), ("path", 50)])
def test_eccentricity_against_networkx(family, n):
    inp = sample_inputs("eccentricity", n, 2, graph=family)
    g, s = inp["graph"], inp["source"]
    traj = execute("eccentricity", g, s)
    G = to_nx(g)
    want = nx.eccentricity(G.subgraph(nx.node_connected_component(G, s)), v=s)
    assert traj.outputs["eccentricity"] == want
    ecc_h = traj.hints["eccentricity_h"].dense()
    assert ecc_h[-1] == want and np.all(np.diff(ecc_h) >= 0)
    flood = traj.hints["floodstate_h"].at(traj.length - 1)
    dist = nx.single_source_shortest_path_length(G, s)
    assert all(flood[v] == d for v, d in dist.items())  # floodstate: the hop distance from s


def test_eccentricity_small_cases():
    # a path 0 - 1 - 2 from 0: flood 2 rounds, echo back 2 rounds, the source finishes in a fifth
    g = SparseGraph.from_edges(3, [0, 1], [1, 2])
    traj = execute("eccentricity", g, 0)
    assert traj.outputs["eccentricity"] == 2.0
    assert traj.hints["visited_h"].dense().tolist()[:3] == [[0, 0, 0], [1, 0, 0], [1, 1, 0]]
    assert traj.hints["echostate_h"].at(traj.length - 1).tolist() == [2, 2, 2]
    isolated = execute("eccentricity", SparseGraph.from_edges(2, [], []), 1)  # SALSA would not stop
    assert isolated.outputs["eccentricity"] == 0.0 and isolated.length == 2


# ----------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, match", [
    (lambda g: execute("floyd_warshall", g), r"'floyd_warshall' has no sparse form: it is dense-only.*bfs, dfs"),
    (lambda g: execute("insertion_sort", g), "not a graph algorithm"),
    (lambda g: execute("bfss", g, 0), "not a known algorithm"),
    (lambda g: execute("bfs", g), "source is required"),
    (lambda g: execute("dfs", g, 0), "takes no source"),
    (lambda g: execute("bfs", g, 7), r"source must be a node index in \[0, 4\)"),
    (lambda g: execute("bfs", g, 0, hints="yes"), "hints must be True or False"),
    (lambda g: execute("bfs", np.eye(4), 0), "graph must be a nar.sparse.SparseGraph"),
    (lambda g: execute("dfs", g, seed=1), "takes no seed"),
])
def test_execute_bad_input(call, match):
    g = SparseGraph.from_edges(4, [0, 1], [1, 2])
    with pytest.raises(nar.InputError, match=match):
        call(g)


def test_algorithm_preconditions():
    neg = SparseGraph.from_edges(3, [0, 1], [1, 2], [1.0, -2.0])
    with pytest.raises(nar.InputError, match="dijkstra: graph must have non-negative weights"):
        execute("dijkstra", neg, 0)
    with pytest.raises(nar.InputError, match="mst_kruskal: graph must have non-negative"):
        execute("mst_kruskal", neg)
    directed = SparseGraph.from_edges(3, [0, 1, 2], [1, 2, 0], directed=True)
    for name in ("mst_prim", "articulation_points", "bridges", "fast_mis", "eccentricity"):
        with pytest.raises(nar.InputError, match=f"{name}: graph must be undirected"):
            execute(name, directed, 0 if name in ("mst_prim", "eccentricity") else None)
    with pytest.raises(nar.InputError, match="topological_sort: graph must be a directed acyclic graph.*cycle"):
        execute("topological_sort", directed)
    with pytest.raises(nar.InputError, match="dag_shortest_paths: graph must be a directed acyclic"):
        execute("dag_shortest_paths", SparseGraph.from_edges(3, [0], [1]), 0)
    with pytest.raises(nar.InputError, match="negative-weight cycle"):
        execute("bellman_ford", neg, 0)


def test_networkx_graph_accepted():
    G = nx.path_graph(5)
    traj = execute("bfs", G, 0)
    assert traj.outputs["pi"].tolist() == [0, 0, 1, 2, 3]


def test_large_graph_never_builds_n_by_n():
    import tracemalloc

    inp = sample_inputs("bfs", 50_000, 0)
    tracemalloc.start()
    execute("bfs", inp["graph"], inp["source"])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 200e6  # an [n, n] float32 array would be 10 GB
    assert components(3, np.array([0]), np.array([1])).tolist() == [0, 0, 2]
