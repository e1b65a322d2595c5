"""The bulk samplers follow the CLRS laws on many samples, and the per-sample API is their count = 1."""
from __future__ import annotations

import numpy as np
import pytest

import nar
from nar.samplers import (BULK_SAMPLERS, GENERALIST_P, MIN_NODES, SAMPLERS, _collinear_exact,
                          _has_collinear_triple, community_graph, community_graphs, draw_p, draw_ps,
                          er_graph, er_graphs, generalist_p, points_in_disk, points_in_disks,
                          sampler_options)


def graphs(name, n, count, seed=0, **options):
    return np.stack([x["A"] for x in BULK_SAMPLERS[name](np.random.default_rng(seed), n, count, **options)])


def close(freq, p, count):
    """``freq`` (a mean of ``count`` Bernoulli(p) draws) within 5 standard deviations of p."""
    return abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / count) + 1e-12


def off_diagonal(n):
    return ~np.eye(n, dtype=bool)


# ----------------------------------------------------------------------------- API
@pytest.mark.parametrize("name", nar.list_algorithms())
def test_bulk_samples_look_like_per_sample_ones(name):
    """Same keys, dtypes, shapes and Python types; ``SAMPLERS`` is the bulk sampler with count = 1."""
    n = max(MIN_NODES.get(name, 1), 9)
    one = SAMPLERS[name](np.random.default_rng(1), n)
    again = BULK_SAMPLERS[name](np.random.default_rng(1), n, 1)
    assert len(again) == 1 and list(again[0]) == list(one)
    for k in one:
        np.testing.assert_array_equal(again[0][k], one[k])
    many = BULK_SAMPLERS[name](np.random.default_rng(2), n, 50)
    assert len(many) == 50
    for x in many:
        assert list(x) == list(one)
        for k, v in one.items():
            assert type(x[k]) is type(v), (name, k)
            if isinstance(v, np.ndarray):
                assert x[k].dtype == v.dtype, (name, k)
                if name not in ("naive_string_matcher", "kmp_matcher"):
                    assert x[k].shape == v.shape, (name, k)
    assert sampler_options(name) == tuple(
        k for k, p in __import__("inspect").signature(SAMPLERS[name]).parameters.items()
        if p.kind == p.KEYWORD_ONLY)
    # distinct samples, and trajectories for all of them
    assert any(not np.array_equal(many[0][k], many[1][k]) for k in one)
    nar.batched.execute_many(name, many[:5])


def test_bulk_samplers_validate_options_as_before():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        BULK_SAMPLERS["bfs"](rng, 5, 10, p=1.5)
    with pytest.raises(ValueError, match="list of them"):
        BULK_SAMPLERS["dfs"](rng, 5, 10, p=[0.2, -0.1])
    with pytest.raises(ValueError, match="list of them"):
        BULK_SAMPLERS["dfs"](rng, 5, 10, p=[])
    with pytest.raises(ValueError, match="low must be >= 0"):
        BULK_SAMPLERS["dijkstra"](rng, 5, 10, low=-1.0)
    with pytest.raises(ValueError, match="k must be >= 1"):
        BULK_SAMPLERS["strongly_connected_components"](rng, 5, 10, k=0)
    with pytest.raises(ValueError, match="needs n >= 2"):
        BULK_SAMPLERS["lcs_length"](rng, 1, 10)
    with pytest.raises(ValueError, match="needs n >= 2"):
        BULK_SAMPLERS["kmp_matcher"](rng, 1, 10)
    with pytest.raises(TypeError):
        BULK_SAMPLERS["bfs"](rng, 5, 10, q=0.3)
    assert draw_p(rng, 0.3) == 0.3 and draw_p(rng, [0.25]) == 0.25
    ps = draw_ps(rng, [0.1, 0.5, 0.9], 3000)
    assert set(np.unique(ps)) == {0.1, 0.5, 0.9}
    assert all(close(np.mean(ps == v), 1 / 3, 3000) for v in (0.1, 0.5, 0.9))


def test_single_graph_helpers_still_draw_one():
    rng = np.random.default_rng(0)
    assert er_graph(rng, 7, 0.5, directed=True).shape == (7, 7)
    assert community_graph(rng, 9, k=3, p=0.5).shape == (9, 9)
    xs, ys = points_in_disk(rng, 6)
    assert xs.shape == ys.shape == (6,)
    assert er_graphs(rng, 7, np.full(4, 0.5), 4, directed=False).shape == (4, 7, 7)


# ----------------------------------------------------------------------------- ER graphs
def test_directed_er_edges_are_coin_flips_with_self_loops():
    A = graphs("dfs", 12, 4000)
    freq = (A != 0).mean(axis=0)  # per entry, self-loops included
    assert np.all(np.abs(freq - 0.5) < 5 * np.sqrt(0.25 / 4000))
    assert np.all(A[A != 0] == 1.0)
    assert not np.all(A == A.transpose(0, 2, 1))


@pytest.mark.parametrize("name,p", [("bfs", 0.5), ("articulation_points", 0.2), ("bridges", 0.2)])
def test_undirected_er_needs_both_coin_flips(name, p):
    n, count = 10, 4000
    A = graphs(name, n, count)
    assert np.all(A == A.transpose(0, 2, 1))
    edges = A != 0
    assert close(edges[:, off_diagonal(n)].mean(), p * p, count * n * (n - 1) // 2)
    assert close(edges[:, np.eye(n, dtype=bool)].mean(), p, count * n)  # self-loop: u_ii < p


@pytest.mark.parametrize("name,p", [("mst_prim", 0.5), ("dijkstra", 0.5), ("bellman_ford", 0.5),
                                    ("floyd_warshall", 0.5), ("mst_kruskal", 0.2)])
def test_undirected_weights_are_sqrt_of_product_plus_epsilon(name, p):
    n, count = 8, 4000
    A = graphs(name, n, count)
    assert np.all(A == A.transpose(0, 2, 1))
    assert close((A[:, off_diagonal(n)] != 0).mean(), p * p, count * n * (n - 1) // 2)
    w = A[:, off_diagonal(n)]
    w = w[w != 0]
    assert w.min() >= np.sqrt(1e-3) and w.max() <= np.sqrt(1 + 1e-3)
    # w^2 - 1e-3 = u * v with u, v iid U[0, 1]: mean 1/4, P(uv < 1/4) = (1 + ln 4) / 4
    sq = w ** 2 - 1e-3
    assert abs(sq.mean() - 0.25) < 0.01
    assert abs((sq < 0.25).mean() - (1 + np.log(4)) / 4) < 0.02
    d = A[:, np.arange(n), np.arange(n)]
    d = d[d != 0]
    assert abs((d ** 2 - 1e-3).mean() - 1 / 3) < 0.02  # self-loop weight sqrt(u^2 + 1e-3)


@pytest.mark.parametrize("name", ["topological_sort", "dag_shortest_paths"])
def test_dag_samplers_are_acyclic_with_every_pair_equally_likely(name):
    n, count = 9, 3000
    A = graphs(name, n, count, low=-1.0, high=1.0) if name == "dag_shortest_paths" else graphs(name, n, count)
    edges = (A != 0).astype(np.int64)
    assert not edges[:, np.arange(n), np.arange(n)].any()
    assert not np.any(edges & edges.transpose(0, 2, 1))
    reach = edges.copy()
    for _ in range(n):  # a cycle would leave a path of length n
        reach = np.minimum(reach @ edges, 1)
    assert not reach.any()
    # upper triangle of ER(0.5), then a uniform node permutation: each ordered pair has p / 2
    freq = edges.mean(axis=0)[off_diagonal(n)]
    assert np.all(np.abs(freq - 0.25) < 5 * np.sqrt(0.25 * 0.75 / count))
    if name == "dag_shortest_paths":
        w = A[A != 0]
        assert w.min() >= -1.0 and w.max() <= 1.0
        assert abs(w.mean()) < 0.03 and abs((w < 0).mean() - 0.5) < 0.03  # U[low, high]
        assert np.any(A != A.transpose(0, 2, 1))


def test_directed_weights_are_uniform_between_low_and_high():
    A = er_graphs(np.random.default_rng(3), 8, 0.5, 2000, directed=True, weighted=True, low=2.0, high=3.0)
    w = A[A != 0]
    assert w.min() >= 2.0 and w.max() <= 3.0 and abs(w.mean() - 2.5) < 0.01
    assert abs((w < 2.25).mean() - 0.25) < 0.02


@pytest.mark.parametrize("name", ["bfs", "mst_prim", "bellman_ford", "dijkstra", "dag_shortest_paths"])
def test_sources_are_uniform_node_ints(name):
    n, count = 6, 6000
    s = np.array([x["s"] for x in BULK_SAMPLERS[name](np.random.default_rng(4), n, count)])
    assert s.min() == 0 and s.max() == n - 1
    assert all(close(np.mean(s == v), 1 / n, count) for v in range(n))


@pytest.mark.parametrize("name", ["dfs", "bfs", "mst_kruskal", "dag_shortest_paths",
                                  "strongly_connected_components"])
def test_p_list_is_drawn_per_graph(name):
    n, count = 16, 2000
    options = {"eps": 0.0} if name == "strongly_connected_components" else {}
    A = graphs(name, n, count, p=[0.1, 0.9], **options)
    density = (A != 0).mean(axis=(1, 2))

    def expected(q):  # edge density of the whole matrix at ER p = q
        if name == "dfs":
            return q
        if name == "dag_shortest_paths":
            return q * (n - 1) / (2 * n)
        if name == "strongly_connected_components":
            return q / 4  # four communities of four nodes
        return (q * q * (n * n - n) + q * n) / (n * n)

    lo, hi = expected(0.1), expected(0.9)
    high = density > (lo + hi) / 2
    assert close(high.mean(), 0.5, count)
    assert abs(density[high].mean() - hi) < 0.01 and abs(density[~high].mean() - lo) < 0.01


def test_generalist_p_reaches_every_value():
    n, count = 16, 3000
    A = graphs("dfs", n, count, p=list(GENERALIST_P))
    density = (A != 0)[:, off_diagonal(n)].mean(axis=1)
    nearest = np.abs(density[:, None] - np.asarray(GENERALIST_P)[None]).argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(GENERALIST_P))
    assert np.all(np.abs(counts / count - 1 / 9) < 0.04)
    assert generalist_p("bridges") == tuple(v / 2 for v in GENERALIST_P)


# ----------------------------------------------------------------------------- community graphs
def test_community_graphs_keep_cycles_inside_communities():
    import networkx as nx

    rng = np.random.default_rng(0)
    for n in (4, 7, 13, 16):
        for A in community_graphs(rng, n, 60, k=4, p=0.5, eps=0.2):
            g = nx.DiGraph(A)
            assert max(len(c) for c in nx.strongly_connected_components(g)) <= n - 3 * (n // 4)
    with pytest.raises(ValueError, match="communities"):
        community_graphs(rng, 3, 5, k=4)


def test_community_graph_density():
    """Without toggles: ER(p) inside each community (self-loops included), nothing across."""
    n, k, count = 12, 3, 3000
    A = community_graphs(np.random.default_rng(1), n, count, k=k, p=0.5, eps=0.0)
    assert close((A != 0).mean(), 0.5 * k * (n // k) ** 2 / n ** 2, count * n * n)
    with_toggles = community_graphs(np.random.default_rng(1), n, count, k=k, p=0.5, eps=0.1)
    # within: 0.5 toggled stays 0.5; forward across (3 of 6 off-diagonal blocks): 0.1; backward: 0
    want = (k * 16 * 0.5 + 3 * 16 * 0.1) / n ** 2
    assert close((with_toggles != 0).mean(), want, count * n * n / 4)


# ----------------------------------------------------------------------------- geometry
def test_points_in_disks_are_uniform_without_collinear_triples():
    n, count = 10, 1500
    xs, ys = points_in_disks(np.random.default_rng(2), n, count)
    r2 = xs ** 2 + ys ** 2
    assert r2.max() <= 4.0
    assert close((r2 < 1.0).mean(), 0.25, count * n)  # uniform in the disk of radius 2
    assert close((xs > 0).mean(), 0.5, count * n)
    assert not _collinear_exact(xs, ys, 1e-12).any()
    assert all(not _collinear_exact(x[None], y[None], 1e-12).any()
               for x, y in zip(*(a[:20] for a in (xs, ys))))


@pytest.mark.parametrize("n", [3, 4, 5, 8, 16, 33])
def test_collinearity_filter_agrees_with_the_exact_test(n):
    rng = np.random.default_rng(n)
    xs, ys = rng.uniform(-2, 2, (300, n)), rng.uniform(-2, 2, (300, n))
    for b in range(0, 300, 3):  # a third get an exactly computed point on a line through two others
        i, j, k = rng.choice(n, 3, replace=False)
        t = rng.uniform(-2, 2)
        xs[b, k], ys[b, k] = xs[b, i] + t * (xs[b, j] - xs[b, i]), ys[b, i] + t * (ys[b, j] - ys[b, i])
    for b in range(1, 300, 3):  # a third get two points very close together (and maybe collinear)
        i, j = rng.choice(n, 2, replace=False)
        xs[b, j], ys[b, j] = xs[b, i] + rng.uniform(-1, 1) * 1e-5, ys[b, i] + rng.uniform(-1, 1) * 1e-9
    xs[2, :3], ys[2, :3] = [0.0, 1.0, 2.0], [0.0, 1e-13, 0.0]  # |cross| = 2e-13 < tol
    want = _collinear_exact(xs, ys, 1e-12)
    assert want[0] and want[2] and want[::3].mean() > 0.9
    np.testing.assert_array_equal(_has_collinear_triple(xs, ys, 1e-12), want)
    np.testing.assert_array_equal(_has_collinear_triple(xs, ys, 1e-3), _collinear_exact(xs, ys, 1e-3))


def orient(ax, ay, bx, by, cx, cy):
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


def test_segments_meet_with_probability_one_half():
    count = 6000
    draws = BULK_SAMPLERS["segments_intersect"](np.random.default_rng(5), 4, count, low=-1.0, high=2.0)
    meet = []
    for x in draws:
        xs, ys = x["xs"], x["ys"]
        assert xs.shape == ys.shape == (4,) and xs.min() >= -1 and ys.max() <= 2
        d1 = orient(xs[2], ys[2], xs[3], ys[3], xs[0], ys[0])
        d2 = orient(xs[2], ys[2], xs[3], ys[3], xs[1], ys[1])
        d3 = orient(xs[0], ys[0], xs[1], ys[1], xs[2], ys[2])
        d4 = orient(xs[0], ys[0], xs[1], ys[1], xs[3], ys[3])
        meet.append(d1 * d2 <= 0 and d3 * d4 <= 0)
    assert close(np.mean(meet), 0.5, count)
    got = [bool(t.outputs["intersect"].item()) for t in nar.batched.execute_many("segments_intersect", draws[:300])]
    assert got == meet[:300]


# ----------------------------------------------------------------------------- strings and others
@pytest.mark.parametrize("name", ["naive_string_matcher", "kmp_matcher"])
def test_matcher_needle_occurs_and_never_ends_the_haystack(name):
    for n, length_needle, lengths in ((20, None, {4}), (16, -8, set(range(1, 9))), (3, None, {1}), (9, 3, {3})):
        draws = BULK_SAMPLERS[name](np.random.default_rng(n), n, 3000, length_needle=length_needle)
        seen, starts = set(), []
        for x in draws:
            T, P = x["T"], x["P"]
            m = len(P)
            assert len(T) + m == n and T.dtype == P.dtype == np.int64
            seen.add(m)
            at = [i for i in range(len(T) - m + 1) if np.array_equal(T[i:i + m], P)]
            assert at, "the needle is in the haystack"
            assert T.min() >= 0 and T.max() < 4
            starts.append(at[0])
        assert seen == lengths
        if n >= 4:  # CLRS's start rule: U{0, ..., len(T) - m - 1}
            assert max(starts) <= n - 2 * min(lengths) - 1
    # placement is uniform over the allowed starts (n = 20, m = 4: 0..11) -- first occurrence at
    # most the placement, so look at the last start's share only
    draws = BULK_SAMPLERS[name](np.random.default_rng(9), 20, 6000, chars=1000)
    placed = [int(np.flatnonzero([np.array_equal(x["T"][i:i + 4], x["P"]) for i in range(13)])[0])
              for x in draws]
    assert set(placed) == set(range(12))
    assert all(close(np.mean(np.array(placed) == v), 1 / 12, 6000) for v in range(12))


def test_other_samplers_laws():
    rng = np.random.default_rng(6)
    n, count = 10, 2000
    bst = BULK_SAMPLERS["optimal_bst"](rng, n, count)
    for x in bst[:50]:
        assert x["p"].shape == (n,) and x["q"].shape == (n + 1,)
        # float32-exact values (as stored): the sum is 1 up to float32 rounding
        assert abs(x["p"].sum() + x["q"].sum() - 1) < 1e-6 and x["p"].min() >= 0
    tasks = BULK_SAMPLERS["task_scheduling"](rng, n, count)
    d = np.stack([x["d"] for x in tasks])
    assert d.min() == 1 and d.max() == n and all(close(np.mean(d == v), 1 / n, d.size) for v in range(1, n + 1))
    d = np.stack([x["d"] for x in BULK_SAMPLERS["task_scheduling"](rng, n, 100, max_deadline=3)])
    assert set(np.unique(d)) == {1, 2, 3}
    acts = BULK_SAMPLERS["activity_selector"](rng, n, count)
    s, f = np.stack([x["s"] for x in acts]), np.stack([x["f"] for x in acts])
    assert np.all(s <= f) and abs(s.mean() - 1 / 3) < 0.01 and abs(f.mean() - 2 / 3) < 0.01
    search = BULK_SAMPLERS["binary_search"](rng, n, count, low=1.0, high=3.0)
    assert all(isinstance(x["x"], float) and np.all(np.diff(x["A"]) >= 0) for x in search)
    xs = np.array([x["x"] for x in search])
    assert xs.min() >= 1 and xs.max() <= 3 and abs(xs.mean() - 2) < 0.05
    lcs = BULK_SAMPLERS["lcs_length"](rng, 7, count, chars=3)
    assert all(len(x["x"]) == 4 and len(x["y"]) == 3 for x in lcs)
    assert set(np.unique(np.concatenate([x["x"] for x in lcs]))) == {0, 1, 2}
    kad = np.stack([x["A"] for x in BULK_SAMPLERS["find_maximum_subarray_kadane"](rng, n, count)])
    assert kad.min() >= -1 and kad.max() <= 1 and abs(kad.mean()) < 0.02
