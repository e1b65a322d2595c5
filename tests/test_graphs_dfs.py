"""DFS-family graph algorithms: outputs against networkx, hand-derived hint trajectories, input checks."""
import networkx as nx
import numpy as np
import pytest

import nar
from nar.algorithms import graphs_dfs as g
from nar.samplers import community_graph, er_graph
from nar.validation import InputError

# Sizes: mostly small, a few at 64 (200+ inputs per algorithm over 1..64).
SIZES = [1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 12, 16, 20, 33, 64]
P = [0.05, 0.1, 0.2, 0.3, 0.5, 0.8]


def draws(seed: int, count: int = 204):
    rng = np.random.default_rng(seed)
    for k in range(count):
        yield rng, SIZES[k % len(SIZES)], P[(k // len(SIZES)) % len(P)]


def digraph(A) -> nx.DiGraph:
    """networkx graph with nodes 0..n-1 and each node's neighbours in increasing index order."""
    G = nx.DiGraph()
    G.add_nodes_from(range(A.shape[0]))
    for i, j in zip(*np.nonzero(A)):  # row-major: sorted neighbours
        G.add_edge(int(i), int(j), weight=float(A[i, j]))
    return G


def ids(arr) -> np.ndarray:
    """Class ids / node indices of a one-hot array."""
    return np.argmax(arr, axis=-1)


def order_of(topo: np.ndarray, head: int) -> list[int]:
    order, x = [head], head
    while topo[x] != x and len(order) <= len(topo):
        x = int(topo[x])
        order.append(x)
    return order


# ----------------------------------------------------------------------------- oracles
def test_dfs_forest_and_times_match_networkx():
    for rng, n, p in draws(1):
        A = er_graph(rng, n, p, directed=True)  # self-loops included
        t = g.dfs(A)
        G = digraph(A)
        pred = nx.dfs_predecessors(G)  # all roots in index order, smallest neighbour first
        expected = np.array([pred.get(v, v) for v in range(n)])
        np.testing.assert_array_equal(t.outputs["pi"], expected)
        np.testing.assert_array_equal(t.hints["pi_h"][-1], expected)
        d, f = t.hints["d"][-1], t.hints["f"][-1]
        assert list(np.argsort(d)) == list(nx.dfs_preorder_nodes(G))
        assert list(np.argsort(f)) == list(nx.dfs_postorder_nodes(G))
        assert np.all(ids(t.hints["color"][-1]) == g.BLACK)
        assert t.length == 3 * n  # one start per root, discover + finish per vertex, one push per child


def test_topological_sort_is_reverse_postorder_and_valid():
    for rng, n, p in draws(2):
        A = er_graph(rng, n, p, directed=True, acyclic=True)
        t = g.topological_sort(A)
        order = order_of(t.outputs["topo"], int(ids(t.outputs["topo_head"])))
        assert sorted(order) == list(range(n))
        G = digraph(A)
        assert nx.is_directed_acyclic_graph(G)
        position = {v: k for k, v in enumerate(order)}
        assert all(position[i] < position[j] for i, j in G.edges)
        assert order == list(reversed(list(nx.dfs_postorder_nodes(G))))


def undirected(rng, n, p):
    return er_graph(rng, n, p, directed=False)  # symmetric, self-loops possible


def test_articulation_points_match_networkx():
    for rng, n, p in draws(3):
        A = undirected(rng, n, p)
        t = g.articulation_points(A)
        expected = np.zeros(n)
        expected[list(nx.articulation_points(digraph(A).to_undirected()))] = 1
        np.testing.assert_array_equal(t.outputs["is_cut"], expected)
        np.testing.assert_array_equal(t.hints["is_cut_h"][-1], expected)


def test_bridges_match_networkx():
    for rng, n, p in draws(4):
        A = undirected(rng, n, p)
        t = g.bridges(A)
        expected = np.where((A == 0) & ~np.eye(n, dtype=bool), -1.0, 0.0)  # non-edges masked
        for i, j in nx.bridges(digraph(A).to_undirected()):
            expected[i, j] = expected[j, i] = 1
        np.testing.assert_array_equal(t.outputs["is_bridge"], expected)


def test_scc_ids_point_to_the_last_finished_member():
    for k, (rng, n, p) in enumerate(draws(5)):
        A = community_graph(rng, n, k=min(4, n), p=p) if k % 2 else er_graph(rng, n, p / 2, directed=True)
        t = g.strongly_connected_components(A)
        scc_id = t.outputs["scc_id"]
        G = digraph(A)
        finish_rank = {v: r for r, v in enumerate(nx.dfs_postorder_nodes(G))}
        comps = list(nx.strongly_connected_components(G))
        for comp in comps:
            rep = max(comp, key=finish_rank.get)
            assert {int(scc_id[v]) for v in comp} == {rep}
        assert len(set(scc_id.tolist())) == len(comps)
        assert t.hints["phase"][0] == 0 and t.hints["phase"][-1] == 1


def test_dag_shortest_paths_pointers_form_a_shortest_path_tree():
    for rng, n, p in draws(6):
        A = er_graph(rng, n, p, directed=True, acyclic=True, weighted=True, low=-1.0, high=1.0)
        A[A != 0] += np.sign(A[A != 0]) * 0.01  # keep weights away from 0 (0 means no edge)
        s = int(rng.integers(n))
        t = g.dag_shortest_paths(A, s)
        pi, d = t.outputs["pi"], t.hints["d"][-1]
        dist = nx.single_source_bellman_ford_path_length(digraph(A), s)
        for v in range(n):
            if v == s or v not in dist:
                assert pi[v] == v
                continue
            u = pi[v]
            assert A[u, v] != 0 and u in dist
            assert dist[u] + A[u, v] == pytest.approx(dist[v], abs=1e-9)  # tight edge
            assert d[v] == pytest.approx(dist[v], abs=1e-5)
        # following the pointers back from any reachable vertex ends at s
        for v in dist:
            x, hops = v, 0
            while x != s and hops <= n:
                x, hops = pi[x], hops + 1
            assert x == s


# ----------------------------------------------------------------------------- hand-derived hints
def onehot_ids(traj, name):
    return ids(traj.hints[name]).tolist()


def test_dfs_hints_by_hand():
    # 0 -> 1, self-loop at 2
    A = np.array([[0, 1, 0], [0, 0, 0], [0, 0, 1]], dtype=float)
    t = nar.execute("dfs", A=A)
    assert onehot_ids(t, "u") == [0, 0, 0, 1, 1, 0, 2, 2, 2]
    assert onehot_ids(t, "v") == [0, 0, 1, 1, 2, 2, 2, 2, 2]
    assert onehot_ids(t, "s_last") == [0, 0, 1, 1, 1, 0, 2, 2, 2]
    assert onehot_ids(t, "s") == [0, 0, 0, 0, 0, 0, 2, 2, 2]
    np.testing.assert_allclose(t.hints["time"], [0, .01, .01, .02, .03, .04, .04, .05, .06], atol=1e-6)
    assert onehot_ids(t, "color") == [[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 0], [1, 2, 0],
                                      [2, 2, 0], [2, 2, 0], [2, 2, 1], [2, 2, 2]]
    assert t.hints["s_prev"].tolist() == [[0, 1, 2]] * 2 + [[0, 0, 2]] * 3 + [[0, 1, 2]] * 4
    assert t.hints["pi_h"].tolist() == [[0, 1, 2]] * 2 + [[0, 0, 2]] * 7
    np.testing.assert_allclose(t.hints["f"][-1], [.04, .03, .06], atol=1e-6)
    np.testing.assert_allclose(t.hints["d"][-1], [.01, .02, .05], atol=1e-6)


def test_topological_sort_hints_by_hand():
    # 0 -> 2, 1 -> 0: order 1, 0, 2
    A = np.zeros((3, 3))
    A[0, 2] = A[1, 0] = 1
    t = nar.execute("topological_sort", A=A)
    assert onehot_ids(t, "color") == [[0, 0, 0], [1, 0, 0], [1, 0, 1], [1, 0, 2], [2, 0, 2],
                                      [2, 0, 2], [2, 1, 2], [2, 2, 2]]
    assert onehot_ids(t, "topo_head_h") == [0, 0, 0, 2, 0, 0, 0, 1]
    assert t.hints["topo_h"].tolist() == [[0, 1, 2]] * 4 + [[2, 1, 2]] * 3 + [[2, 0, 2]]
    assert onehot_ids(t, "u") == [0, 0, 0, 2, 0, 1, 1, 1]
    assert onehot_ids(t, "v") == [0, 0, 2, 2, 2, 1, 1, 2]
    assert onehot_ids(t, "s_last") == [0, 0, 2, 2, 0, 1, 1, 1]
    assert t.hints["s_prev"].tolist() == [[0, 1, 2]] * 2 + [[0, 1, 0]] * 2 + [[0, 1, 2]] * 4
    assert t.outputs["topo"].tolist() == [2, 0, 2] and ids(t.outputs["topo_head"]) == 1


def path3():
    A = np.zeros((3, 3))
    A[0, 1] = A[1, 0] = A[1, 2] = A[2, 1] = 1
    return A


def test_articulation_points_hints_by_hand():
    t = nar.execute("articulation_points", A=path3())
    assert onehot_ids(t, "u") == [0, 0, 0, 1, 1, 2, 2, 1, 1, 0, 0]
    # the two SEEN snapshots (t=7, t=9) look at the finished child; the parent is never "seen"
    assert onehot_ids(t, "v") == [0, 0, 1, 1, 2, 2, 2, 2, 2, 1, 2]
    np.testing.assert_allclose(t.hints["low"][-1], [.01, .02, .03], atol=1e-6)
    np.testing.assert_allclose(t.hints["child_cnt"][-1], [.01, .01, 0], atol=1e-6)
    assert t.hints["is_cut_h"][:, 1].tolist() == [0] * 8 + [1] * 3
    assert t.outputs["is_cut"].tolist() == [0, 1, 0]  # a root with one child is not a cut vertex


def test_bridges_hints_by_hand():
    t = nar.execute("bridges", A=path3())
    assert t.length == 11
    bridge_12 = [0] * 8 + [1] * 3  # found when 1 finishes (t=8)
    bridge_01 = [0] * 10 + [1]     # found when 0 finishes (t=10)
    assert t.hints["is_bridge_h"][:, 1, 2].tolist() == bridge_12
    assert t.hints["is_bridge_h"][:, 2, 1].tolist() == bridge_12
    assert t.hints["is_bridge_h"][:, 0, 1].tolist() == bridge_01
    assert t.hints["is_bridge_h"][:, 0, 2].tolist() == [-1] * 11  # a non-edge stays masked
    assert t.outputs["is_bridge"].tolist() == [[0, 1, -1], [1, 0, 1], [-1, 1, 0]]


def test_scc_hints_by_hand():
    # 0 <-> 1 -> 2: components {0, 1} (root 0 finishes last) and {2}
    A = np.zeros((3, 3))
    A[0, 1] = A[1, 0] = A[1, 2] = 1
    t = nar.execute("strongly_connected_components", A=A)
    assert t.length == 17
    assert t.hints["phase"].tolist() == [0] * 9 + [1] * 8
    assert t.hints["scc_id_h"].tolist() == [[0, 1, 2]] * 12 + [[0, 0, 2]] * 5
    assert onehot_ids(t, "s")[9:] == [0, 0, 0, 0, 0, 2, 2, 2]
    assert onehot_ids(t, "u")[9:] == [0, 0, 0, 1, 0, 2, 2, 2]
    # the second pass only re-stamps d of its roots (the reference's `d[u] == 0` test)
    np.testing.assert_allclose(t.hints["d"][-1], [.07, .02, .10], atol=1e-6)
    np.testing.assert_allclose(t.hints["f"][-1], [.09, .08, .11], atol=1e-6)
    np.testing.assert_array_equal(t.hints["A_t"][0], g.adjacency_mask(A.T))
    assert t.outputs["scc_id"].tolist() == [0, 0, 2]


def test_dag_shortest_paths_hints_by_hand():
    A = np.zeros((3, 3))
    A[0, 1], A[0, 2], A[1, 2] = 2.0, 5.0, 1.0
    t = nar.execute("dag_shortest_paths", A=A, s=0)
    assert t.length == 10
    assert t.hints["phase"].tolist() == [0] * 7 + [1] * 3
    assert onehot_ids(t, "topo_head_h") == [0, 0, 0, 0, 2, 1, 0, 0, 1, 2]
    assert t.hints["topo_h"][-1].tolist() == [1, 2, 2]
    assert t.hints["pi_h"][7:].tolist() == [[0, 1, 2], [0, 0, 0], [0, 0, 1]]
    assert t.hints["d"][7:].tolist() == [[0, 0, 0], [0, 2, 5], [0, 2, 3]]
    assert t.hints["mark"][6:].tolist() == [[0, 0, 0], [1, 0, 0], [1, 1, 1], [1, 1, 1]]
    assert onehot_ids(t, "u") == [0, 0, 0, 1, 2, 1, 0, 0, 0, 0]
    assert t.outputs["pi"].tolist() == [0, 0, 1]


# ----------------------------------------------------------------------------- edge cases
EMPTY_OUTPUT = {  # on 4 isolated vertices
    "dfs": ("pi", [0, 1, 2, 3]),
    "topological_sort": ("topo", [0, 0, 1, 2]),  # order 3, 2, 1, 0
    "articulation_points": ("is_cut", [0, 0, 0, 0]),
    "bridges": ("is_bridge", (-1 + np.eye(4)).tolist()),  # all non-edges masked
    "strongly_connected_components": ("scc_id", [0, 1, 2, 3]),
}


@pytest.mark.parametrize("name", sorted(EMPTY_OUTPUT))
def test_single_node_and_edgeless_graphs(name):
    t = nar.execute(name, A=np.zeros((1, 1)))
    assert t.n == 1 and t.length >= 3
    t = nar.execute(name, A=np.zeros((4, 4)))
    probe, expected = EMPTY_OUTPUT[name]
    assert t.outputs[probe].tolist() == expected
    assert sorted(set(onehot_ids(t, "s"))) == [0, 1, 2, 3]  # every vertex is a root


def test_dag_shortest_paths_unreachable_and_negative_weights():
    A = np.zeros((4, 4))
    A[0, 1], A[1, 2], A[0, 2], A[3, 0] = -1.0, -2.0, 0.5, 1.0
    t = nar.execute("dag_shortest_paths", A=A, s=0)
    assert t.outputs["pi"].tolist() == [0, 0, 1, 3]  # 3 does not reach from 0
    assert t.hints["d"][-1].tolist() == [0, -1, -3, 0]
    t = nar.execute("dag_shortest_paths", A=np.zeros((1, 1)), s=0)
    assert t.length == 4 and t.outputs["pi"].tolist() == [0]


# ----------------------------------------------------------------------------- bad inputs
def test_cycles_are_rejected_where_a_dag_is_needed():
    cyc = np.zeros((3, 3))
    cyc[0, 1] = cyc[1, 2] = cyc[2, 0] = 1
    loop = np.zeros((3, 3))
    loop[1, 1] = 1
    for A in (cyc, loop):
        with pytest.raises(InputError, match="directed acyclic"):
            nar.execute("dag_shortest_paths", A=A, s=0)
        with pytest.raises(InputError, match="directed acyclic"):
            nar.execute("topological_sort", A=A)
    g.dfs(cyc)  # plain DFS and SCC accept cycles
    assert g.strongly_connected_components(cyc).outputs["scc_id"].tolist() == [0, 0, 0]


@pytest.mark.parametrize("s", [-1, 3, 1.5, "0", True])
def test_bad_source_is_rejected(s):
    with pytest.raises(InputError, match="s must"):
        nar.execute("dag_shortest_paths", A=np.zeros((3, 3)), s=s)


@pytest.mark.parametrize("name", ["articulation_points", "bridges"])
def test_directed_input_is_rejected_by_undirected_algorithms(name):
    A = np.zeros((3, 3))
    A[0, 1] = 1
    with pytest.raises(InputError, match="undirected"):
        nar.execute(name, A=A)
    A[1, 0] = 2.5  # different weights, same edge pattern: fine
    assert nar.execute(name, A=A).n == 3


@pytest.mark.parametrize("name", ["dfs", "topological_sort", "articulation_points", "bridges",
                                  "strongly_connected_components"])
@pytest.mark.parametrize("A", [np.zeros((2, 3)), np.zeros(3), np.array([[0, np.nan], [0, 0]]),
                               np.zeros((0, 0))])
def test_malformed_adjacency_is_rejected(name, A):
    with pytest.raises(InputError, match="A must"):
        nar.execute(name, A=A)


def test_networkx_graph_input():
    G = nx.path_graph(4)
    t = nar.execute("articulation_points", A=G)
    assert t.outputs["is_cut"].tolist() == [0, 1, 1, 0]


def test_acyclicity_check_on_long_paths_and_cycles():
    rng = np.random.default_rng(9)
    for n in (2, 5, 17, 64):
        perm = rng.permutation(n)
        path = np.zeros((n, n))
        path[perm[:-1], perm[1:]] = 1  # a Hamiltonian path: the longest possible
        assert g.topological_sort(path).n == n
        cycle = path.copy()
        cycle[perm[-1], perm[0]] = 1  # close it: one cycle through every vertex
        with pytest.raises(InputError, match="directed acyclic"):
            g.topological_sort(cycle)
