"""The four exact programs against textbook ground truth, their sizes, bounds and input errors."""
import numpy as np
import pytest

from nar import InputError
from nar.exact import Graph, get_program
from nar.exact.ntk import NTKPredictor
from nar.exact.programs.flooding import Flooding
from nar.exact.truth import bfs_truth, dfs_truth, shortest_path_truth
from nar.exact.verification import random_graphs, reference_graphs, verify


@pytest.fixture(scope="module")
def ref_graphs():
    return reference_graphs(np.random.default_rng(7), 25, nodes=(2, 7), max_degree=3)


@pytest.fixture(scope="module")
def ref_weighted():
    return reference_graphs(np.random.default_rng(8), 25, nodes=(2, 7), max_degree=3, weights=(1, 3))


@pytest.mark.parametrize("name", ["bfs", "dfs"])
@pytest.mark.parametrize("predictor", ["ideal", "ntk"])
def test_unweighted_programs_are_exact(name, predictor, ref_graphs):
    rep = verify(name, ref_graphs, None if predictor == "ideal" else NTKPredictor(), D=3)
    assert rep.passed == len(ref_graphs), [r for r in rep.results if not r.passed][:3]
    assert rep.cross_checked == "done"


@pytest.mark.parametrize("predictor", ["ideal", "ntk"])
def test_bellman_ford_is_exact(predictor, ref_weighted):
    rep = verify("bellman_ford", ref_weighted, None if predictor == "ideal" else NTKPredictor(), D=3)
    assert rep.passed == len(ref_weighted)
    if predictor == "ntk":
        assert rep.stats.mismatches == 0 and rep.stats.min_pos > 0 >= rep.stats.max_neg


def test_bellman_ford_zero_weights_and_unreachable():
    g = Graph(5, np.array([[0, 1], [1, 2], [0, 2], [3, 4]]), np.array([0, 0, 3, 2]))
    prog = get_program("bellman_ford")(D=2, l=3)
    out, _, _ = prog.execute(g, 0)
    assert out[0]["dist"].tolist() == [0, 0, 0, -1, -1]
    assert out[0]["parent"].tolist() == [0, 0, 1, 3, 4]


def test_bfs_on_disconnected_graph_marks_unreached():
    g = Graph(5, np.array([[0, 1], [1, 2], [3, 4]]))
    out, _, _ = get_program("bfs")(D=2, l=2).execute(g, 1)
    assert out[0]["dist"].tolist() == [1, 0, 1, -1, -1]
    assert out[0]["reached"].tolist() == [True, True, True, False, False]


def test_flooding_reaches_exactly_the_component():
    g = Graph(6, np.array([[0, 1], [1, 2], [2, 3], [4, 5]]))
    f = Flooding(D=2, l=2)
    out, _, _ = f.execute(g, 0, inputs=[{"message": 3}])
    assert out[0]["message"].tolist() == [3, 3, 3, 3, 0, 0]


@pytest.mark.parametrize("D,l,N", [(2, 1, 21), (3, 1, 41), (4, 1, 69), (2, 2, 42)])
def test_flooding_sizes_match_the_paper(D, l, N):
    f = Flooding(D=D, l=l)
    assert f.compiled.N == N == f.k  # N = l (4d + 1) = state size, d = D^2 + 1
    assert f.compiled.comm_start == l + 3 * (D * D + 1) * l


@pytest.mark.parametrize("D,N", [(2, 13), (3, 17), (4, 21)])
def test_flooding_tree_sizes(D, N):
    assert Flooding(D=D, l=1, slots=D + 1).compiled.N == N


def _grid(rows, cols):
    idx = np.arange(rows * cols).reshape(rows, cols)
    return np.concatenate([np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], 1),
                           np.stack([idx[:-1].ravel(), idx[1:].ravel()], 1)])


def _long_path_graphs():
    """Graphs with long shortest paths: weighted paths, grids (unit and random weights), a cycle
    whose heavy edge makes the shortest path to its far side go the long way round."""
    rng = np.random.default_rng(5)
    path = np.stack([np.arange(15), np.arange(1, 16)], 1)
    cycle = np.concatenate([path, [[15, 0]]])
    return [Graph(16, path, rng.integers(1, 4, 15)), Graph(25, _grid(5, 5), np.ones(40, dtype=int)),
            Graph(24, _grid(4, 6), rng.integers(0, 4, 38)), Graph(30, _grid(3, 10), rng.integers(1, 8, 47)),
            Graph(16, cycle, np.r_[np.ones(15, dtype=int), [20]])]


def test_bellman_ford_bound_is_the_shortest_path_depth_and_tight():
    """The iteration bound is P times the fewest-edge shortest-path depth (a networkx oracle), not
    P (n - 1): on a 5 x 5 grid 8 rounds instead of 24.  At the bound every graph equals the oracle;
    one round earlier each graph is wrong somewhere."""
    nx = pytest.importorskip("networkx")
    for g in _long_path_graphs():
        G = nx.Graph()
        G.add_nodes_from(range(g.n))
        G.add_weighted_edges_from((int(a), int(b), int(c)) for (a, b), c in zip(g.edges, g.weights))
        dist = nx.single_source_dijkstra_path_length(G, 0)
        lex = nx.single_source_dijkstra_path_length(G, 0, weight=lambda u, v, d: d["weight"] * g.n + 1)
        depth = max(lex[v] % g.n for v in lex)
        prog = get_program("bellman_ford")(D=4, l=get_program("bellman_ford").bits_for([g], 0))
        assert prog.bound(g, 0) == prog.period * max(depth, 1) <= prog.period * (g.n - 1)
        out, _, _ = prog.execute(g, 0)
        assert out[0]["dist"].tolist() == [dist[v] for v in range(g.n)]
        assert np.array_equal(out[0]["parent"], shortest_path_truth(g, 0)["parent"])
        early, _, _ = prog.execute(g, 0, steps=prog.bound(g, 0) - prog.period)
        assert early[0]["dist"].tolist() != out[0]["dist"].tolist()
    assert get_program("bellman_ford")(D=4, l=4).bound(_long_path_graphs()[1], 0) == 8 * (3 * 4 + 5)


def test_bellman_ford_bits_fit_the_distances_not_n_times_the_weight():
    """``bits_for``: the largest shortest distance (from the given source, else a bound valid for
    every source), not ``(n - 1) * max weight``; the program then runs from any source."""
    cls = get_program("bellman_ford")
    g = Graph(25, _grid(5, 5), np.ones(40, dtype=int))       # distances from corner 0 up to 8
    assert cls.bits_for([g], 0) == 4 and cls.bits_for([g], 12) == 3 and cls.bits_for([g]) == 5
    prog = cls(D=4, l=cls.bits_for([g]))
    for s in (0, 12, 24):
        out, _, _ = prog.execute(g, s)
        assert np.array_equal(out[0]["dist"], shortest_path_truth(g, s)["dist"])
    two = Graph(6, np.array([[0, 1], [1, 2], [3, 4], [4, 5]]), np.array([3, 3, 7, 7]))
    assert cls.bits_for([two]) == (2 * 14).bit_length()     # the far component counts too
    out, _, _ = cls(D=2, l=cls.bits_for([two])).execute(two, 3)
    assert out[0]["dist"].tolist() == [-1, -1, -1, 0, 7, 14]


def test_flooding_bound_is_tight_enough():
    """On a path the message needs every one of the ecc * (d + 3) steps at worst; check the
    snapshot at the bound is right and one hop's worth of steps earlier is not."""
    g = Graph(5, np.array([[0, 1], [1, 2], [2, 3], [3, 4]]))
    f = Flooding(D=2, l=1)
    out, _, prep = f.execute(g, 0)
    assert out[0]["message"].tolist() == [1] * 5
    early, _, _ = f.execute(g, 0, steps=int(prep.bounds[0]) - (f.S + 3))
    assert early[0]["message"][-1] == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bfs", "dfs", "bellman_ford"])
def test_larger_graphs_with_ntk(name):
    rng = np.random.default_rng(11)
    gs = random_graphs(rng, 30, (8, 64), 3, (1, 3) if name == "bellman_ford" else None, kind="bounded")
    rep = verify(name, gs, NTKPredictor(), D=3)
    assert rep.passed == len(gs)


# ---- bad input: every error comes before any step runs ---------------------------------------
def test_degree_above_D():
    star = Graph(5, np.array([[0, i] for i in range(1, 5)]))
    with pytest.raises(InputError, match="degree 4, above the program's maximum degree D=3"):
        get_program("bfs")(D=3, l=3).execute(star, 0)


def test_dfs_needs_enough_bits_and_connectivity():
    path = Graph(5, np.array([[i, i + 1] for i in range(4)]))
    with pytest.raises(InputError, match="more than l=2 bits can number"):
        get_program("dfs")(D=2, l=2).execute(path, 0)
    two = Graph(4, np.array([[0, 1], [2, 3]]))
    with pytest.raises(InputError, match="must be connected"):
        get_program("dfs")(D=2, l=3).execute(two, 0)


def test_bfs_needs_bits_for_the_eccentricity():
    path = Graph(6, np.array([[i, i + 1] for i in range(5)]))
    with pytest.raises(InputError, match="5 hops from the source"):
        get_program("bfs")(D=2, l=2).execute(path, 0)


@pytest.mark.parametrize("weights,msg", [([1, -2], "non-negative"), ([1.5, 1], "integers"),
                                         ([7, 7], "shortest path has length 14"), ([9, 1], "does not fit")])
def test_bellman_ford_weight_errors(weights, msg):
    g = Graph(3, np.array([[0, 1], [1, 2]]), np.array(weights))
    with pytest.raises(InputError, match=msg):
        get_program("bellman_ford")(D=2, l=3).execute(g, 0)


def test_bellman_ford_needs_weights_and_valid_source():
    with pytest.raises(InputError, match="needs edge weights"):
        get_program("bellman_ford")(D=2, l=3).execute(Graph(2, np.array([[0, 1]])), 0)
    with pytest.raises(InputError, match="source must be a node index"):
        get_program("bfs")(D=2, l=3).execute(Graph(2, np.array([[0, 1]])), 5)


def test_errors_name_the_graph_in_a_batch():
    good, bad = Graph(3, np.array([[0, 1], [1, 2]])), Graph(4, np.array([[0, 1], [2, 3]]))
    with pytest.raises(InputError, match="graph 1: dfs: the graph must be connected"):
        get_program("dfs")(D=2, l=3).execute([good, bad], 0)


# ---- the textbook oracles themselves, against networkx ---------------------------------------
def test_truth_against_networkx():
    nx = pytest.importorskip("networkx")
    rng = np.random.default_rng(3)
    for g in random_graphs(rng, 25, (2, 30), 3, kind="bounded"):
        G = nx.Graph(list(map(tuple, g.edges)))
        G.add_nodes_from(range(g.n))
        bt = bfs_truth(g, 0)
        want = nx.single_source_shortest_path_length(G, 0)
        assert all(bt["dist"][v] == d for v, d in want.items())
        for v in range(1, g.n):  # smallest-ID parent one level up
            cands = [u for u in G[v] if want[u] == want[v] - 1]
            assert bt["parent"][v] == min(cands)
        order = list(nx.dfs_preorder_nodes(nx.Graph(sorted(G.edges)), 0, sort_neighbors=sorted))
        assert dfs_truth(g, 0)["order"].tolist() == [order.index(v) for v in range(g.n)]
        w = rng.integers(0, 4, len(g.edges))
        gw = Graph(g.n, g.edges, w)
        Gw = nx.Graph()
        Gw.add_weighted_edges_from((int(a), int(b), int(c)) for (a, b), c in zip(gw.edges, gw.weights))
        dist = nx.single_source_dijkstra_path_length(Gw, 0)
        assert all(shortest_path_truth(gw, 0)["dist"][v] == d for v, d in dist.items())
