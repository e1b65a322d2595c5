"""The data model: specs, tracer, registry and the public entry points."""
import numpy as np
import pytest

import nar
from nar.specs import SPECS, Stage
from nar.trace import Tracer
from nar.types import check_value, one_hot


def test_thirty_algorithms_with_clrs_names():
    names = nar.list_algorithms()
    assert len(names) == 30 and len(set(names)) == 30
    for expected in ("insertion_sort", "find_maximum_subarray_kadane", "strongly_connected_components",
                     "jarvis_march", "bfs", "floyd_warshall"):
        assert expected in names


def test_spec_values_are_clrs_words():
    spec = nar.get_spec("bfs")
    assert spec["pos"] == ("input", "node", "scalar")
    assert spec["pi"] == ("output", "node", "pointer")
    assert spec["reach_h"] == ("hint", "node", "mask")
    assert str(spec["adj"].type) == "mask"
    assert nar.get_spec("insertion_sort")["pred"].type == "should_be_permutation"


def test_every_spec_has_pos_input_one_output_and_hints():
    for name, spec in SPECS.items():
        assert spec["pos"] == ("input", "node", "scalar"), name
        stages = {p.stage for p in spec.values()}
        assert stages == {Stage.INPUT, Stage.OUTPUT, Stage.HINT}, name


def test_unknown_algorithm_lists_valid_names():
    with pytest.raises(KeyError, match="insertion_sort"):
        nar.get_spec("bogo_sort")
    with pytest.raises(KeyError, match="valid names"):
        nar.execute("bogo_sort", A=[1.0])
    with pytest.raises(KeyError, match="valid names"):
        nar.sample("bogo_sort")


def test_tracer_carries_unchanged_hints_over_and_copies_values():
    tr = Tracer("bfs", 3)
    tr.input(s=0, A=np.eye(3), adj=np.eye(3))
    reach = np.array([1, 0, 0])
    pi = np.arange(3)
    tr.step(reach_h=reach, pi_h=pi)
    reach[1] = 1  # mutating after recording must not change the record
    tr.step(reach_h=reach)
    pi[2] = 0
    tr.step(pi_h=pi)
    tr.output(pi=pi)
    t = tr.finish()
    assert t.length == 3
    np.testing.assert_array_equal(t.hints["reach_h"], [[1, 0, 0], [1, 1, 0], [1, 1, 0]])
    np.testing.assert_array_equal(t.hints["pi_h"], [[0, 1, 2], [0, 1, 2], [0, 1, 0]])
    np.testing.assert_array_equal(t.inputs["s"], [1, 0, 0])
    np.testing.assert_allclose(t.inputs["pos"], [0, 1 / 3, 2 / 3], rtol=1e-6)


def test_tracer_rejects_incomplete_first_step_and_unknown_probe():
    tr = Tracer("bfs", 2)
    with pytest.raises(ValueError, match="pi_h"):
        tr.step(reach_h=[1, 0])
    with pytest.raises(KeyError, match="not probes"):
        Tracer("bfs", 2).step(bogus=1)


def test_check_value_catches_bad_domains():
    spec = SPECS["bfs"]
    check_value("s", spec["s"], one_hot(1, 3), 3, timed=False)
    with pytest.raises(ValueError, match="one-hot"):
        check_value("s", spec["s"], np.array([1, 1, 0], np.float32), 3, timed=False)
    with pytest.raises(ValueError, match="outside"):
        check_value("pi", spec["pi"], np.array([0, 3, 1]), 3, timed=False)
    with pytest.raises(ValueError, match="shape"):
        check_value("pi_h", spec["pi_h"], np.array([0, 1, 1]), 3, timed=True)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_sample_rejects_bad_n_and_count(bad):
    with pytest.raises(ValueError, match="n must be"):
        nar.sample("bfs", n=bad)
    with pytest.raises(ValueError, match="count must be"):
        nar.sample("bfs", count=bad)


def test_sample_rejects_unknown_option():
    with pytest.raises(ValueError, match="allowed"):
        nar.sample("bfs", n=4, q=0.3)


def test_execute_rejects_wrong_arguments():
    with pytest.raises(ValueError, match="missing"):
        nar.execute("bfs", A=np.eye(3))
    with pytest.raises(ValueError, match="unknown"):
        nar.execute("bfs", A=np.eye(3), s=0, t=1)


def test_random_pos_is_sorted_uniform():
    t = nar.sample("bfs", n=16, seed=3, random_pos=True)[0]
    pos = t.inputs["pos"]
    assert np.all(np.diff(pos) >= 0) and pos.min() >= 0 and pos.max() <= 1
    assert not np.allclose(pos, np.arange(16) / 16)


def test_one_hot_returns_fresh_arrays():
    a = one_hot(2, 4)
    a[0] = 7.0  # must not corrupt the cached identity
    np.testing.assert_array_equal(one_hot(2, 4), [0, 0, 1, 0])
    np.testing.assert_array_equal(one_hot([[1], [0]], 2), [[[0, 1]], [[1, 0]]])


def test_undirected_weighted_sampler_rejects_negative_low():
    with pytest.raises(ValueError, match="low must be >= 0"):
        nar.sample("dijkstra", n=4, low=-1.0)


def test_values_beyond_float32_are_rejected():
    with pytest.raises(ValueError, match="float32"):
        nar.execute("insertion_sort", A=[1e39, 0.0])
    with pytest.raises(ValueError, match="float32"):
        nar.execute("bfs", A=np.full((2, 2), 1e300), s=0)


def test_community_graph_has_no_cycle_across_communities():
    import networkx as nx

    from nar.samplers import community_graph

    rng = np.random.default_rng(0)
    for n in (4, 7, 13, 16, 33):
        A = community_graph(rng, n, k=4, p=0.5, eps=0.2)
        # every SCC lies inside one community, and communities hold n//4 nodes (the last the rest)
        g = nx.DiGraph(A)
        assert max(len(c) for c in nx.strongly_connected_components(g)) <= n - 3 * (n // 4)
    with pytest.raises(ValueError, match="communities"):
        community_graph(rng, 3, k=4)
    assert nar.sample("strongly_connected_components", n=2)[0].n == 2


def test_matcher_embeds_the_needle_in_the_haystack():
    for t in nar.sample("naive_string_matcher", n=20, count=20, seed=1):
        text_len = int((t.inputs["string"] == 0).sum())
        assert 20 - text_len == 4  # needle n//5
        assert t.outputs["match"].sum() == 1


def test_networkx_labels_are_kept_and_s_is_a_label():
    nx = pytest.importorskip("networkx")
    from nar.api import graph_nodes, to_labels

    G = nx.Graph([("paris", "lyon"), ("lyon", "nice"), ("paris", "brest")])
    traj = nar.execute("bfs", A=G, s="paris")
    nodes = traj.extras["nodes"]
    assert nodes == ["brest", "lyon", "nice", "paris"] == graph_nodes(G)
    assert to_labels(traj.outputs["pi"], nodes).tolist() == ["paris", "paris", "lyon", "paris"]
    # integer labels that are not 0..n-1: s is the label, not the row
    P = nx.path_graph([5, 7, 9])
    traj = nar.execute("bfs", A=P, s=9)
    assert traj.outputs["pi"].tolist() == [1, 2, 2]
    labels = to_labels(traj.outputs["pi"], traj.extras["nodes"])
    assert labels.dtype == np.int64 and labels.tolist() == [7, 9, 9]
    assert nar.execute("bfs", A=P, s=np.int64(5)).outputs["pi"].tolist() == [0, 0, 1]
    with pytest.raises(nar.InputError, match=r"s=0 is not a node of the networkx graph A; .*\(5, 7, 9\)"):
        nar.execute("bfs", A=P, s=0)
    with pytest.raises(nar.InputError, match="not a node"):
        nar.execute("bfs", A=P, s=True)
    grid = nx.grid_2d_graph(2, 2)  # tuple labels
    traj = nar.execute("bellman_ford", A=grid, s=(1, 1))
    assert to_labels(traj.outputs["pi"], traj.extras["nodes"])[3] == (1, 1)
    with pytest.raises(nar.InputError, match=r"indices must be integers in \[0, 3\)"):
        to_labels([3], [5, 7, 9])


def test_numpy_input_is_unchanged_by_node_labels():
    A = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float)
    traj = nar.execute("bfs", A=A, s=2)
    assert "nodes" not in traj.extras and traj.outputs["pi"].tolist() == [1, 2, 2]
    with pytest.raises(nar.InputError, match=r"node index in \[0, 3\)"):
        nar.execute("bfs", A=A, s=5)
