"""Graph algorithms of nar.algorithms.graphs against independent oracles (networkx, scipy), hand-checked
hint trajectories on tiny graphs, edge cases and bad input."""
import math

import networkx as nx
import numpy as np
import pytest
from scipy.sparse.csgraph import floyd_warshall as scipy_floyd_warshall

import nar
from nar.algorithms.graphs import adjacency_mask
from nar.samplers import er_graph

SIZES = [1, 2, 2, 3, 3, 4, 5, 5, 6, 7, 8, 9, 10, 12, 13, 16, 16, 20, 24, 33]  # plus some n = 64 below


# ----------------------------------------------------------------------------------------- inputs
def random_graphs(seed: int, count: int, *, directed: bool, negative: bool = False, big: int = 4,
                  p_big: float | None = None):
    """``count`` weighted adjacency matrices over sizes 1..64 (``big`` of them at n = 64, with ER
    probability ``p_big`` if given): sparse and dense, continuous weights and small integer weights
    (ties), self-loops, disconnected graphs.
    ``negative``: directed acyclic graphs with weights in [-1, 1] (no negative cycles)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        n = 64 if i < big else SIZES[i % len(SIZES)]
        p = float(rng.choice([0.05, 0.2, 0.5, 0.9]))
        if i < big and p_big is not None:
            p = p_big
        if negative:
            A = er_graph(rng, n, p, directed=True, acyclic=True, weighted=True, low=-1.0, high=1.0)
        elif i % 3 == 2:  # integer weights 1..3: many equal path lengths
            A = er_graph(rng, n, p, directed=directed) * rng.integers(1, 4, size=(n, n))
            if not directed:
                A = np.triu(A) + np.triu(A, 1).T
        else:
            A = er_graph(rng, n, p, directed=directed, weighted=True)
        out.append(A.astype(float))
    return out


def digraph(A, edge=lambda w: w != 0) -> nx.DiGraph:
    G = nx.DiGraph()
    G.add_nodes_from(range(len(A)))
    us, vs = np.nonzero(edge(A))
    G.add_weighted_edges_from((int(u), int(v), float(A[u, v])) for u, v in zip(us, vs))
    return G


def undirected(A, edge=lambda w: w != 0) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(range(len(A)))
    us, vs = np.nonzero(np.triu(edge(A), 1))
    G.add_weighted_edges_from((int(u), int(v), float(A[u, v])) for u, v in zip(us, vs))
    return G


def check_parent_pointers(A, s, pi, dist):
    """``pi`` is a shortest-path tree from ``s``: every reachable v != s points along an edge that is
    tight for the oracle distances ``dist`` (and the pointers lead back to ``s``); unreachable nodes
    and ``s`` point at themselves."""
    n = len(A)
    assert pi[s] == s
    for v in range(n):
        if v not in dist:
            assert pi[v] == v, (v, "unreachable nodes point at themselves")
            continue
        if v == s:
            continue
        u = int(pi[v])
        assert u in dist and A[u, v] != 0, (u, v)
        assert math.isclose(dist[u] + A[u, v], dist[v], rel_tol=1e-9, abs_tol=1e-9), (u, v)
        hops, w = 0, v
        while w != s:
            w, hops = int(pi[w]), hops + 1
            assert hops <= n, "pointers form a cycle"


# -------------------------------------------------------------------------------------------- bfs
def test_bfs_matches_levels_and_smallest_parent():
    for A in random_graphs(1, 220, directed=False) + random_graphs(2, 40, directed=True, big=1):
        n = len(A)
        s = int(np.random.default_rng(n).integers(n))
        pi = nar.execute("bfs", A=A, s=s).outputs["pi"]
        level = nx.single_source_shortest_path_length(digraph(A, lambda w: w > 0), s)
        for v in range(n):
            if v == s or v not in level:
                assert pi[v] == v
            else:
                parents = [u for u in range(n) if A[u, v] > 0 and level.get(u) == level[v] - 1]
                assert pi[v] == min(parents)  # CLRS: the smallest node of the previous round


def test_bfs_hints_by_hand():
    A = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], float)  # the path 0 - 1 - 2
    t = nar.execute("bfs", A=A, s=0)
    np.testing.assert_array_equal(t.hints["reach_h"], [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(t.hints["pi_h"], [[0, 1, 2], [0, 0, 2], [0, 0, 1]])
    np.testing.assert_array_equal(t.outputs["pi"], [0, 0, 1])


def test_bfs_edges_are_positive_entries():
    A = np.array([[0, -1.0], [-1.0, 0]])  # a negative entry is in adj but is no BFS edge (A > 0)
    t = nar.execute("bfs", A=A, s=0)
    np.testing.assert_array_equal(t.outputs["pi"], [0, 1])
    np.testing.assert_array_equal(t.inputs["adj"], np.ones((2, 2)))


def test_adjacency_mask_is_A_plus_I_nonzero():
    A = np.array([[0, 2.0, 0], [0, -1.0, 0], [0.5, 0, 3.0]])
    np.testing.assert_array_equal(adjacency_mask(A), [[1, 1, 0], [0, 0, 0], [1, 0, 1]])
    assert adjacency_mask(A).dtype == np.float32


# ------------------------------------------------------------------------------------------- MSTs
def mst_weight(G: nx.Graph) -> float:
    return nx.minimum_spanning_tree(G).size(weight="weight")


def test_kruskal_is_a_minimum_spanning_forest():
    for A in random_graphs(3, 220, directed=False, p_big=0.2):  # CLRS's p at n = 64: T ~ 300
        n = len(A)
        in_mst = nar.execute("mst_kruskal", A=A).outputs["in_mst"]
        np.testing.assert_array_equal(in_mst, in_mst.T)
        assert np.all(np.diagonal(in_mst) == 0) and np.all(A[in_mst == 1] > 0)
        G = undirected(A, lambda w: w > 0)
        F = nx.Graph()
        F.add_nodes_from(range(n))
        F.add_edges_from(zip(*np.nonzero(np.triu(in_mst))))
        assert nx.is_forest(F)
        assert F.number_of_edges() == n - nx.number_connected_components(G)  # spans every component
        assert math.isclose(A[np.triu(in_mst) == 1].sum(), mst_weight(G), rel_tol=1e-9, abs_tol=1e-12)
        weights = A[np.triu(A, 1) > 0]
        if len(np.unique(weights)) == len(weights):  # distinct weights: the MST is unique
            assert {tuple(sorted(e)) for e in nx.minimum_spanning_tree(G).edges} == \
                {(int(u), int(v)) for u, v in zip(*np.nonzero(np.triu(in_mst)))}


def test_prim_is_a_minimum_spanning_tree_of_the_source_component():
    graphs = random_graphs(4, 220, directed=False)
    rng = np.random.default_rng(0)
    for A in graphs + [np.where(A != 0, A - 0.5, 0.0) for A in graphs[:40]]:  # also negative weights
        n = len(A)
        s = int(rng.integers(n))
        pi = nar.execute("mst_prim", A=A, s=s).outputs["pi"]
        G = undirected(A)
        comp = nx.node_connected_component(G, s)
        total = 0.0
        for v in range(n):
            if v == s or v not in comp:
                assert pi[v] == v
                continue
            assert A[pi[v], v] != 0 and int(pi[v]) in comp
            total += A[pi[v], v]
            w, hops = v, 0
            while w != s:
                w, hops = int(pi[w]), hops + 1
                assert hops <= n
        assert math.isclose(total, mst_weight(G.subgraph(comp)), rel_tol=1e-9, abs_tol=1e-9)


def test_kruskal_hints_by_hand():
    A = np.array([[0, 1, 3], [1, 0, 2], [3, 2, 0]], float)  # edges by weight: 01, 12, 02
    t = nar.execute("mst_kruskal", A=A)
    h = t.hints
    assert t.length == 9
    # 0 init | 01: start, link (pi[0] = 1) | 12: start, link (pi[1] = 2) | 02: start, find(0) twice, no link
    np.testing.assert_array_equal(h["pi"], [[0, 1, 2], [0, 1, 2], [1, 1, 2], [1, 1, 2], [1, 2, 2],
                                            [1, 2, 2], [1, 2, 2], [2, 2, 2], [2, 2, 2]])
    np.testing.assert_array_equal(h["phase"].argmax(-1), [0, 1, 0, 1, 0, 1, 1, 1, 0])
    np.testing.assert_array_equal(h["u"].argmax(-1), [0, 0, 0, 1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(h["v"].argmax(-1), [0, 1, 1, 2, 2, 2, 2, 2, 2])
    np.testing.assert_array_equal(h["root_u"].argmax(-1), [0, 0, 0, 1, 1, 0, 1, 2, 2])
    np.testing.assert_array_equal(h["root_v"].argmax(-1), [0, 1, 1, 2, 2, 2, 2, 2, 2])
    np.testing.assert_array_equal(h["mask_u"], [[0, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0],
                                                [1, 0, 0], [1, 1, 0], [1, 1, 1], [1, 1, 1]])
    np.testing.assert_array_equal(h["mask_v"][[0, 1, 3, 5]], [[0, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]])
    assert [int(m[0, 1]) + int(m[1, 2]) + int(m[0, 2]) for m in h["in_mst_h"]] == [0, 0, 1, 1, 2, 2, 2, 2, 2]
    np.testing.assert_array_equal(t.outputs["in_mst"], [[0, 1, 0], [1, 0, 1], [0, 1, 0]])


def test_kruskal_takes_equal_weights_in_row_major_order():
    A = np.ones((3, 3)) - np.eye(3)  # a triangle of equal weights: 01 and 02 come before 12
    np.testing.assert_array_equal(nar.execute("mst_kruskal", A=A).outputs["in_mst"],
                                  [[0, 1, 1], [1, 0, 0], [1, 0, 0]])


def test_prim_hints_by_hand():
    A = np.array([[0, 1, 3], [1, 0, 2], [3, 2, 0]], float)
    t = nar.execute("mst_prim", A=A, s=0)
    h = t.hints
    np.testing.assert_array_equal(h["u"].argmax(-1), [0, 0, 1, 2])
    np.testing.assert_array_equal(h["pi_h"], [[0, 1, 2], [0, 0, 0], [0, 0, 1], [0, 0, 1]])
    np.testing.assert_array_equal(h["key"], [[0, 0, 0], [0, 1, 3], [0, 1, 2], [0, 1, 2]])
    np.testing.assert_array_equal(h["mark"], [[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(h["in_queue"], [[1, 0, 0], [0, 1, 1], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(t.outputs["pi"], [0, 0, 1])


def test_mst_on_tiny_and_edgeless_graphs():
    for A in (np.zeros((1, 1)), np.array([[0.7]]), np.zeros((3, 3)), np.eye(3)):
        n = len(A)
        t = nar.execute("mst_kruskal", A=A)
        assert t.length == 1 and not t.outputs["in_mst"].any()  # self-loops are never MST edges
        t = nar.execute("mst_prim", A=A, s=n - 1)
        np.testing.assert_array_equal(t.outputs["pi"], np.arange(n))
        assert t.length == 2  # initial state + extracting s
    t = nar.execute("mst_kruskal", A=np.array([[0, 0.3], [0.3, 0]]))
    np.testing.assert_array_equal(t.outputs["in_mst"], [[0, 1], [1, 0]])
    np.testing.assert_array_equal(nar.execute("mst_prim", A=np.array([[0, 0.3], [0.3, 0]]), s=1).outputs["pi"],
                                  [1, 1])


# -------------------------------------------------------------------------------- shortest paths
@pytest.mark.parametrize("name", ["dijkstra", "bellman_ford"])
def test_single_source_shortest_paths_match_networkx(name):
    graphs = random_graphs(5, 150, directed=False) + random_graphs(6, 70, directed=True, big=2)
    if name == "bellman_ford":
        graphs += random_graphs(7, 60, directed=True, negative=True, big=1)
    rng = np.random.default_rng(1)
    for A in graphs:
        n = len(A)
        s = int(rng.integers(n))
        t = nar.execute(name, A=A, s=s)
        dist = nx.single_source_bellman_ford_path_length(digraph(A), s)
        check_parent_pointers(A, s, t.outputs["pi"], dist)
        d = t.hints["d"][-1]  # the last snapshot holds the final distances; 0 where unreachable
        want = np.array([dist.get(v, 0.0) for v in range(n)])
        np.testing.assert_allclose(d, want, rtol=1e-5, atol=1e-5)


def test_dijkstra_hints_by_hand():
    A = np.array([[0, 1, 3], [1, 0, 2], [3, 2, 0]], float)
    t = nar.execute("dijkstra", A=A, s=0)
    h = t.hints
    np.testing.assert_array_equal(h["u"].argmax(-1), [0, 0, 1, 2])
    np.testing.assert_array_equal(h["d"], [[0, 0, 0], [0, 1, 3], [0, 1, 3], [0, 1, 3]])
    # 0 -> 1 -> 2 costs 3 = d[2]: not strictly shorter, so 2 keeps parent 0
    np.testing.assert_array_equal(h["pi_h"], [[0, 1, 2], [0, 0, 0], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(h["mark"], [[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(h["in_queue"], [[1, 0, 0], [0, 1, 1], [0, 0, 1], [0, 0, 0]])


def test_dijkstra_ties_go_to_the_smallest_queued_node():
    A = np.zeros((4, 4))
    A[3, 2] = A[3, 1] = 1.0  # 1 and 2 both at distance 1 from 3
    t = nar.execute("dijkstra", A=A, s=3)
    np.testing.assert_array_equal(t.hints["u"].argmax(-1), [3, 3, 1, 2])
    np.testing.assert_array_equal(t.outputs["pi"], [0, 3, 3, 3])


def test_bellman_ford_hints_by_hand():
    A = np.array([[0, 1, 3], [1, 0, 2], [3, 2, 0]], float)
    t = nar.execute("bellman_ford", A=A, s=0)
    h = t.hints
    np.testing.assert_array_equal(h["d"], [[0, 0, 0], [0, 1, 3]])  # round 2 changes nothing: stop
    np.testing.assert_array_equal(h["msk"], [[1, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(h["pi_h"], [[0, 1, 2], [0, 0, 0]])
    np.testing.assert_array_equal(t.outputs["pi"], [0, 0, 0])
    # a path 0 -> 1 -> 2 -> 3 needs three changing rounds and a quiet one
    P = np.diag([1.0, 1.0, 1.0], k=1)
    t = nar.execute("bellman_ford", A=P, s=0)
    np.testing.assert_array_equal(t.hints["d"], [[0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 2, 0], [0, 1, 2, 3]])
    np.testing.assert_array_equal(t.hints["msk"][-1], [1, 1, 1, 1])
    np.testing.assert_array_equal(t.outputs["pi"], [0, 0, 1, 2])


def test_bellman_ford_keeps_its_parent_on_equal_offers():
    A = np.zeros((3, 3))
    A[2, 1], A[2, 0], A[0, 1] = 2.0, 1.0, 1.0  # from s = 2, node 1 costs 2 directly and via 0
    t = nar.execute("bellman_ford", A=A, s=2)
    np.testing.assert_array_equal(t.hints["d"], [[0, 0, 0], [1, 2, 0]])
    np.testing.assert_array_equal(t.outputs["pi"], [2, 2, 2])  # the equal offer of 0 is not taken


def test_bellman_ford_continues_when_only_new_nodes_are_reached():
    A = np.zeros((4, 4))
    A[0, 1], A[1, 2], A[2, 3] = 1.0, -1.0, 1.0  # node 2 is first reached at distance exactly 0
    t = nar.execute("bellman_ford", A=A, s=0)
    np.testing.assert_array_equal(t.outputs["pi"], [0, 0, 1, 2])  # the reference stops with pi[3] = 3
    np.testing.assert_array_equal(t.hints["d"][-1], [0, 1, 0, 1])
    np.testing.assert_array_equal(t.hints["msk"][-1], [1, 1, 1, 1])


def test_shortest_paths_tiny_graphs_and_zero_entries():
    for name in ("dijkstra", "bellman_ford"):
        for A in (np.zeros((1, 1)), np.array([[0.5]])):
            t = nar.execute(name, A=A, s=0)
            np.testing.assert_array_equal(t.outputs["pi"], [0])
        A = np.array([[0, 0.0], [0.0, 0]])  # a zero entry is no edge: 1 is unreachable
        t = nar.execute(name, A=A, s=0)
        np.testing.assert_array_equal(t.outputs["pi"], [0, 1])
        np.testing.assert_array_equal(t.hints["d"][-1], [0, 0])
        A = np.array([[0.4, 0.0], [0.2, 0.0]])  # directed: 1 -> 0 only; self-loop on 0
        np.testing.assert_array_equal(nar.execute(name, A=A, s=1).outputs["pi"], [1, 1])
        np.testing.assert_array_equal(nar.execute(name, A=A, s=0).outputs["pi"], [0, 1])


# -------------------------------------------------------------------------------- floyd_warshall
def check_all_pairs_pointers(A, Pi, dist):
    n = len(A)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            if not np.isfinite(dist[i, j]):
                assert Pi[i, j] == i
                continue
            total, w, hops = 0.0, j, 0
            while w != i:
                u = int(Pi[i, w])
                assert A[u, w] != 0
                total, w, hops = total + A[u, w], u, hops + 1
                assert hops <= n
            assert math.isclose(total, dist[i, j], rel_tol=1e-9, abs_tol=1e-9), (i, j)


def test_floyd_warshall_matches_networkx_and_scipy():
    graphs = (random_graphs(8, 150, directed=False, big=2) + random_graphs(9, 50, directed=True, big=1)
              + random_graphs(10, 40, directed=True, negative=True, big=1))
    for A in graphs:
        n = len(A)
        t = nar.execute("floyd_warshall", A=A)
        assert t.length == n
        if n <= 16:
            dist = nx.floyd_warshall_numpy(digraph(A), nodelist=range(n))
        else:
            dist = scipy_floyd_warshall(np.where(A != 0, A, 0.0), directed=True)
        check_all_pairs_pointers(A, t.outputs["Pi"], dist)
        if np.all(np.diagonal(A) == 0) and np.all(A >= 0):
            np.testing.assert_array_equal(np.diagonal(t.outputs["Pi"]), np.arange(n))


def test_floyd_warshall_hints_by_hand():
    A = np.array([[0, 1, 0], [0, 0, 2], [0, 0, 0]], float)  # directed path 0 -> 1 -> 2
    t = nar.execute("floyd_warshall", A=A)
    h = t.hints
    np.testing.assert_array_equal(h["k"].argmax(-1), [0, 1, 2])
    np.testing.assert_array_equal(h["D"][:2], [A, A])
    np.testing.assert_array_equal(h["D"][2], [[0, 1, 3], [0, 0, 2], [0, 0, 0]])
    np.testing.assert_array_equal(h["msk"][1], [[1, 1, 0], [0, 1, 1], [0, 0, 1]])
    np.testing.assert_array_equal(h["msk"][2], [[1, 1, 1], [0, 1, 1], [0, 0, 1]])
    np.testing.assert_array_equal(h["Pi_h"][2], [[0, 0, 1], [1, 1, 1], [2, 2, 2]])
    np.testing.assert_array_equal(t.outputs["Pi"], [[0, 0, 1], [1, 1, 1], [2, 2, 2]])


def test_floyd_warshall_self_loops_and_tiny_graphs():
    t = nar.execute("floyd_warshall", A=np.zeros((1, 1)))
    assert t.length == 1 and t.outputs["Pi"].tolist() == [[0]]
    A = np.array([[5.0, 1.0], [1.0, 0.0]])  # the self-loop 0 -> 0 (5) loses to the cycle 0 -> 1 -> 0 (2)
    t = nar.execute("floyd_warshall", A=A)
    np.testing.assert_array_equal(t.outputs["Pi"], [[1, 0], [1, 1]])
    np.testing.assert_array_equal(t.hints["D"][1], A)  # snapshots precede each k: 2 is never shown


# ------------------------------------------------------------------------------------ bad input
ALL = {"bfs": True, "mst_kruskal": False, "mst_prim": True, "bellman_ford": True, "dijkstra": True,
       "floyd_warshall": False}


def call(name, A, s=0):
    return nar.execute(name, A=A, s=s) if ALL[name] else nar.execute(name, A=A)


@pytest.mark.parametrize("name", sorted(ALL))
def test_bad_matrices_are_rejected(name):
    with pytest.raises(nar.InputError, match="square"):
        call(name, np.zeros((2, 3)))
    with pytest.raises(nar.InputError, match="square"):
        call(name, np.zeros(4))
    with pytest.raises(nar.InputError, match="at least 1 node"):
        call(name, np.zeros((0, 0)))
    with pytest.raises(nar.InputError, match="finite"):
        call(name, np.array([[0, np.nan], [np.nan, 0]]))
    with pytest.raises(nar.InputError, match="finite"):
        call(name, np.array([[0, np.inf], [np.inf, 0]]))
    with pytest.raises(nar.InputError, match="numeric"):
        call(name, np.array([["a", "b"], ["c", "d"]]))


@pytest.mark.parametrize("name", [k for k, has_source in ALL.items() if has_source])
def test_source_out_of_range_is_rejected(name):
    A = np.ones((3, 3))
    for bad in (3, -1, 1.5, "0", True):
        with pytest.raises(nar.InputError, match="s must be"):
            call(name, A, s=bad)


def test_weight_constraints():
    sym_neg = np.array([[0, -1.0], [-1.0, 0]])
    with pytest.raises(nar.InputError, match="non-negative"):
        nar.execute("dijkstra", A=np.array([[0, -0.5], [0, 0]]), s=0)
    with pytest.raises(nar.InputError, match="non-negative"):
        nar.execute("mst_kruskal", A=sym_neg)
    for name in ("mst_kruskal", "mst_prim"):
        with pytest.raises(nar.InputError, match="symmetric"):
            call(name, np.array([[0, 1.0], [0, 0]]))
    with pytest.raises(nar.InputError, match="negative-weight cycle"):
        nar.execute("bellman_ford", A=sym_neg, s=0)  # undirected: a negative edge is a cycle
    with pytest.raises(nar.InputError, match="negative-weight cycle"):
        nar.execute("floyd_warshall", A=sym_neg)
    with pytest.raises(nar.InputError, match="negative-weight cycle"):
        nar.execute("floyd_warshall", A=np.array([[-1.0]]))  # a self-loop of -1 (also absent from adj)
    with pytest.raises(nar.InputError, match="float32"):  # probes are float32
        nar.execute("floyd_warshall", A=np.array([[0, 1e308], [1e308, 0]]))
    # negative cycles out of reach of s are fine for bellman_ford; negative weights for prim
    A = np.array([[0, 1.0, 0], [0, 0, 0], [0, 0, -1.0]])
    np.testing.assert_array_equal(nar.execute("bellman_ford", A=A, s=0).outputs["pi"], [0, 0, 2])
    np.testing.assert_array_equal(nar.execute("mst_prim", A=sym_neg, s=0).outputs["pi"], [0, 0])


def test_networkx_graph_input():
    G = nx.Graph()
    G.add_weighted_edges_from([(0, 1, 2.0), (1, 2, 1.0), (0, 2, 5.0)])
    t = nar.execute("dijkstra", A=G, s=0)
    np.testing.assert_array_equal(t.outputs["pi"], [0, 0, 1])
