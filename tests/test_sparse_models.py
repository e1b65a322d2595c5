"""Sparse processors and the sparse model forward: equal to the dense ones on the same graphs."""
import copy
import itertools

import pytest
import torch

from nar.models import build_processor
from nar.models.layers import EdgeFeatures
from nar.models.sparse import SPARSE_PROCESSORS, Structure, segment_softmax, sparse_step
from nar.validation import InputError

H = 16


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def dense_inputs(n, seed=0, f=3):
    g = torch.Generator().manual_seed(seed)
    node, hidden = torch.randn(1, n, H, generator=g), torch.randn(1, n, H, generator=g)
    edge = EdgeFeatures(torch.randn(1, n, n, f, generator=g), torch.randn(f, H, generator=g),
                        torch.randn(H, generator=g))
    return node, edge, torch.randn(1, H, generator=g), hidden


def structure(adj: torch.Tensor) -> Structure:
    """Structure of a symmetric bool ``[n, n]`` adjacency (self-loops added)."""
    n = adj.shape[0]
    a = adj | adj.t() | torch.eye(n, dtype=torch.bool)
    return Structure(a.nonzero().t().contiguous(), torch.zeros(n, dtype=torch.long), 1)


def random_adj(n, p=0.3, seed=1):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(n, n, generator=g) < p
    return a | a.t() | torch.eye(n, dtype=torch.bool)


def sparse_of(node, edge, graph, hidden, st):
    s, r = st.edge_index
    return node[0], edge.materialise()[0][s, r], graph, hidden[0]


def graph_form(proc):
    """The same module aggregating over the encoders' graph (``adj``) instead of every node."""
    proc = copy.deepcopy(proc)
    if hasattr(proc, "adjacency") and proc.adjacency == "full":
        proc.adjacency = "graph"
    if hasattr(proc, "full"):
        proc.full = False
    return proc


@pytest.mark.parametrize("name", SPARSE_PROCESSORS)
def test_sparse_step_equals_dense_step_on_a_complete_graph(name):
    torch.manual_seed(0)
    proc = build_processor(name, H, nb_heads=2 if "gat" in name else 1).eval()
    n = 6
    node, edge, graph, hidden = dense_inputs(n)
    adj = torch.ones(1, n, n, dtype=torch.bool)
    h_dense, e_dense = proc(node, edge, graph, adj, hidden, torch.ones(1, n, dtype=torch.bool))
    st = structure(adj[0])
    h_sparse, e_sparse = sparse_step(proc, *sparse_of(node, edge, graph, hidden, st), st)
    assert torch.allclose(h_sparse, h_dense[0], atol=1e-5)
    assert (e_dense is None) == (e_sparse is None)
    if e_dense is not None:
        s, r = st.edge_index
        assert torch.allclose(e_sparse, e_dense[0][s, r], atol=1e-5)


@pytest.mark.parametrize("name", [k for k in SPARSE_PROCESSORS if not k.startswith("triplet")])
def test_sparse_step_equals_dense_graph_form_on_a_sparse_graph(name):
    torch.manual_seed(0)
    proc = build_processor(name, H, nb_heads=2 if "gat" in name else 1).eval()
    n = 9
    node, edge, graph, hidden = dense_inputs(n, seed=3)
    adj = random_adj(n)
    h_dense, _ = graph_form(proc)(node, edge, graph, adj[None], hidden, torch.ones(1, n, dtype=torch.bool))
    st = structure(adj)
    h_sparse, _ = sparse_step(proc, *sparse_of(node, edge, graph, hidden, st), st)
    assert torch.allclose(h_sparse, h_dense[0], atol=1e-5)
    if name != "deepsets":  # the graph matters: the full dense step differs
        h_full, _ = proc(node, edge, graph, adj[None] | True, hidden, torch.ones(1, n, dtype=torch.bool))
        assert not torch.allclose(h_sparse, h_full[0], atol=1e-3)


@pytest.mark.parametrize("name", ["triplet_mpnn", "triplet_gmpnn", "triplet_pgn"])
def test_sparse_triplets_match_a_hand_computed_max_over_closed_triangles(name):
    torch.manual_seed(0)
    proc = build_processor(name, H).eval()
    n = 7
    node, edge, graph, hidden = dense_inputs(n, seed=5)
    adj = random_adj(n, p=0.4, seed=2)
    st = structure(adj)
    h_sparse, e_sparse = sparse_step(proc, *sparse_of(node, edge, graph, hidden, st), st)
    h_dense, _ = graph_form(proc)(node, edge, graph, adj[None], hidden, torch.ones(1, n, dtype=torch.bool))
    assert torch.allclose(h_sparse, h_dense[0], atol=1e-5)
    with torch.no_grad():
        z = torch.cat([node, hidden], -1)[0]
        e = edge.materialise()[0]
        for idx, (j, k) in enumerate(st.edge_index.t().tolist()):
            cands = [proc.t1(z[i]) + proc.te1(e[i, j]) + proc.te2(e[i, k])
                     for i in range(n) if adj[i, j] and adj[i, k] and adj[j, k]]
            assert cands, "i = j always closes the triangle"
            best = torch.stack(cands).amax(0)
            tri = best + proc.t2(z[j]) + proc.t3(z[k]) + proc.te3(e[j, k]) + proc.tg(graph[0])
            assert torch.allclose(e_sparse[idx], torch.relu(proc.o3(tri)), atol=1e-5)


def test_triplet_enumeration_grows_with_squared_degrees_not_cubed_nodes():
    n = 200
    ring = torch.zeros(n, n, dtype=torch.bool)
    idx = torch.arange(n)
    ring[idx, (idx + 1) % n] = True
    st = structure(ring)
    ij, ik, jk = st.triplets()
    assert st.triplet_count_bound() == 9 * n  # degree 3 with the self-loop
    # triangles of a ring: (i, i, i), (i, i, k), (i, j, i), (i, j, j) per edge; nothing else
    assert len(ij) == n + 3 * 2 * n


@pytest.mark.parametrize("name", ["mpnn", "triplet_gmpnn", "gat", "gatv2", "deepsets"])
def test_gradients_flow_through_sparse_steps(name):
    torch.manual_seed(0)
    proc = build_processor(name, H)
    n = 8
    node, edge, graph, hidden = dense_inputs(n)
    st = structure(random_adj(n))
    args = [t.clone().requires_grad_() for t in sparse_of(node, edge, graph, hidden, st)]
    h, e = sparse_step(proc, *args, st)
    loss = h.square().sum() + (0 if e is None else e.square().sum())
    loss.backward()
    assert sum(float(p.grad.abs().sum()) for p in proc.parameters() if p.grad is not None) > 0
    assert args[0].grad.abs().sum() > 0 and args[1].grad.abs().sum() > 0


def test_segment_softmax_sums_to_one_per_group():
    x = torch.randn(10)
    group = torch.tensor([0, 0, 1, 1, 1, 2, 3, 3, 3, 3])
    p = segment_softmax(x, group, 4)
    assert torch.allclose(torch.zeros(4).index_add(0, group, p), torch.ones(4))


def test_structure_rejects_bad_edge_sets():
    with pytest.raises(InputError, match="self-loop"):
        Structure(torch.tensor([[0, 1], [1, 0]]), torch.zeros(2, dtype=torch.long), 1)
    with pytest.raises(InputError, match="symmetric"):
        Structure(torch.tensor([[0, 0, 1], [0, 1, 1]]), torch.zeros(2, dtype=torch.long), 1)
    with pytest.raises(InputError, match="sorted"):
        Structure(torch.tensor([[1, 0], [1, 0]]), torch.zeros(2, dtype=torch.long), 1)
    with pytest.raises(InputError, match="outside"):
        Structure(torch.tensor([[0, 5], [0, 5]]), torch.zeros(2, dtype=torch.long), 1)
    st = structure(torch.eye(3, dtype=torch.bool) | torch.diag(torch.ones(2, dtype=torch.bool), 1))
    with pytest.raises(InputError, match="node 0 points to node 2, which is not one of its edges"):
        st.pointer_edges(torch.tensor([2, 1, 2]))


def test_memnet_has_no_sparse_form():
    proc = build_processor("memnet", H)
    st = structure(torch.eye(2, dtype=torch.bool))
    with pytest.raises(InputError, match="no sparse form.*mpnn"):
        sparse_step(proc, torch.zeros(2, H), torch.zeros(2, H), torch.zeros(1, H), torch.zeros(2, H), st)


# -- the whole model ------------------------------------------------------------------------------
import numpy as np  # noqa: E402

import nar  # noqa: E402
from nar.data import collate  # noqa: E402
from nar.models import Reasoner  # noqa: E402
from nar.models.sparse import model as sparse_model  # noqa: E402
from nar.sparse import from_dense  # noqa: E402
from nar.sparse.batch import collate_sparse  # noqa: E402

ALGOS = ["bfs", "bellman_ford", "dijkstra", "mst_prim", "dfs"]


def graph_trajs(algo, sizes, complete, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for n in sizes:
        if complete:
            a = np.ones((n, n)) - np.eye(n)
        else:
            a = np.triu(rng.random((n, n)) < 0.35, 1)
            a = (a | a.T).astype(float)
        w = np.triu(rng.uniform(0.1, 1.0, (n, n)), 1)
        a = a * (w + w.T) if algo != "bfs" else a
        kw = {} if algo == "dfs" else {"s": int(rng.integers(n))}
        out.append(nar.execute(algo, A=a, **kw))
    return out


def dense_at_edges(x, batch, b_index):
    """Dense ``[B, N, N, ...]`` values at the sparse batch's edges (graph ``b_index[g]`` of the dense batch)."""
    s, r = batch.edge_index
    off = batch.offsets
    g = batch.edge_graph
    return x[g, s - off[g], r - off[g]]


def dense_at_nodes(x, batch):
    g = batch.node_graph
    return x[g, torch.arange(batch.num_nodes) - batch.offsets[g]]


def compare_raw(model, dense_out, sparse_out, batch, atol=1e-4):
    ms = model.spec(batch.algorithm)
    for group, (d_all, s_all) in {"output": (dense_out.outputs, sparse_out.outputs),
                                  "hint": (dense_out.hints, sparse_out.hints)}.items():
        for k, s in s_all.items():
            d = d_all[k]
            p = ms.probes[k]
            if group == "hint":  # [B, S, ...] -> per step
                d = d.transpose(0, 1)
                d = torch.stack([_loc(p, d[i], batch) for i in range(d.shape[0])])
            else:
                d = _loc(p, d, batch)
            assert torch.allclose(s, d, atol=atol), f"{group} {k}: max diff {(s - d).abs().max()}"


def _loc(p, d, batch):
    from nar.specs import Location, Type
    if p.type == Type.POINTER or p.location == Location.EDGE:
        return dense_at_edges(d, batch, None)
    if p.location == Location.NODE:
        return dense_at_nodes(d, batch)
    return d


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("proc", ["mpnn", "triplet_gmpnn"])
def test_sparse_forward_equals_dense_forward_on_complete_graphs(algo, proc):
    torch.manual_seed(0)
    model = Reasoner(algo, proc, hidden=16).eval()
    trajs = graph_trajs(algo, [4, 6, 5], complete=True)
    dense, sparse = collate(trajs), collate_sparse([from_dense(t) for t in trajs])
    with torch.no_grad():
        d_out, s_out = model(dense), sparse_model.forward(model, sparse)
    assert torch.equal(s_out.final_step, d_out.final_step)
    compare_raw(model, d_out, s_out, sparse)
    d_pred = model.decode(d_out, dense)
    s_pred = sparse_model.decode(model, s_out, sparse)
    for k, v in s_pred.outputs.items():
        want = dense_at_nodes(d_pred.outputs[k], sparse)
        if k in ("pi",):
            want = want + sparse.offsets[sparse.node_graph]
        assert torch.equal(v, want), k
    for k, v in s_pred.hints.items():
        d = d_pred.hints[k].transpose(0, 1)
        if d.dim() == 2:  # graph hint [S+1, G]
            assert torch.allclose(v, d, atol=1e-5)
            continue
        want = torch.stack([dense_at_nodes(d[i], sparse) for i in range(d.shape[0])])
        if model.spec(algo).probes[k].type == "pointer":
            want = want + sparse.offsets[sparse.node_graph]
        assert torch.allclose(v.float(), want.float(), atol=1e-4), (k, (v.float() - want.float()).abs().max())


@pytest.mark.parametrize("algo", ["bfs", "dijkstra"])
@pytest.mark.parametrize("proc", ["pgn", "gat", "gpgn"])
def test_sparse_forward_equals_dense_forward_restricted_to_the_graph(algo, proc):
    """With the ground-truth hints fed (teacher forcing 1), a graph-restricted processor computes the same
    states dense and sparse; every prediction agrees on the graph's nodes and edges."""
    torch.manual_seed(1)
    model = Reasoner(algo, proc, hidden=16).eval()
    trajs = graph_trajs(algo, [7, 9], complete=False, seed=3)
    dense, sparse = collate(trajs), collate_sparse([from_dense(t) for t in trajs])
    assert sparse.num_edges < sum(t.n ** 2 for t in trajs)
    with torch.no_grad():
        d_out = model(dense, teacher_forcing=1.0)
        s_out = sparse_model.forward(model, sparse, teacher_forcing=1.0)
    compare_raw(model, d_out, s_out, sparse)


@pytest.mark.parametrize("algo", ALGOS)
def test_sparse_loss_equals_dense_loss_on_complete_graphs(algo):
    torch.manual_seed(0)
    model = Reasoner(algo, "mpnn", hidden=16)
    trajs = graph_trajs(algo, [5, 4, 6], complete=True, seed=2)
    dense, sparse = collate(trajs), collate_sparse([from_dense(t) for t in trajs])
    d = model.loss(model(dense), dense)
    s = sparse_model.loss(model, sparse_model.forward(model, sparse), sparse)
    assert d.keys() == s.keys()
    for k in d:
        assert torch.allclose(s[k], d[k], atol=1e-4, rtol=1e-4), (k, s[k], d[k])


def test_training_on_sparse_batches_lowers_the_loss():
    torch.manual_seed(0)
    from nar.sparse import sample

    model = Reasoner("bfs", "mpnn", hidden=16)
    batch = collate_sparse(sample("bfs", 8, 6, 0, graph="er"))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(12):
        opt.zero_grad()
        loss = sparse_model.loss(model, sparse_model.forward(model, batch, teacher_forcing=0.5), batch)["total"]
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]


@pytest.mark.parametrize("algo", ["bfs", "dijkstra", "dfs"])
def test_sparse_scores_equal_dense_scores_on_complete_graphs(algo):
    from nar.models.evaluation import evaluate as dense_evaluate
    from nar.models.sparse.scoring import evaluate as sparse_evaluate, score

    torch.manual_seed(0)
    model = Reasoner(algo, "mpnn", hidden=16)
    trajs = graph_trajs(algo, [5, 4, 6], complete=True, seed=4)
    d = dense_evaluate(model, collate(trajs))
    s = score(model, collate_sparse([from_dense(t) for t in trajs]))
    assert s.outputs.keys() == d.outputs.keys() and s.hints.keys() == d.hints.keys()
    for k in d.outputs:
        assert s.outputs[k] == pytest.approx(d.outputs[k], abs=1e-9)
    for k in d.hints:
        assert s.hints[k] == pytest.approx(d.hints[k], rel=1e-5, abs=1e-6), k
    res = sparse_evaluate(model, algo, trajectories=[from_dense(t) for t in trajs], batch_graphs=2)
    assert res.scores.score == pytest.approx(d.score) and res.count == 3
    assert res.seconds_per_graph > 0 and res.peak_bytes > 0 and res.edges == pytest.approx((25 + 16 + 36) / 3)


# -- bad input ------------------------------------------------------------------------------------
def _bfs_batch(sizes=(6, 5), complete=False):
    return collate_sparse([from_dense(t) for t in graph_trajs("bfs", list(sizes), complete=complete, seed=7)])


def test_a_run_too_large_for_memory_is_refused_before_allocating():
    from nar.models.sparse.model import SparseMemoryError

    model = Reasoner("bfs", "triplet_gmpnn", hidden=16, max_dense_bytes=10_000)
    with pytest.raises(SparseMemoryError, match=r"triplet_gmpnn.*N=11 nodes.*GiB.*max_dense_bytes"):
        sparse_model.forward(model, _bfs_batch())
    model.max_dense_bytes = None
    sparse_model.forward(model, _bfs_batch())  # fits by default


def test_pointer_targets_that_are_not_edges_are_named():
    batch = _bfs_batch()
    st = sparse_model.structure(batch)
    far = [i for i in range(6) if int(st.find(torch.tensor([0]), torch.tensor([i]))) < 0]
    assert far, "the test graph needs a node 0 is not adjacent to"
    model = Reasoner("bfs", "mpnn", hidden=16)
    out = sparse_model.forward(model, batch)
    batch.hints["pi_h"][0, 0] = far[0]
    with pytest.raises(InputError, match=rf"bfs hint 'pi_h' at time 0: node 0 points to node {far[0]}, which is not"):
        sparse_model.forward(model, batch)
    batch.outputs["pi"][0] = far[0]
    with pytest.raises(InputError, match="bfs output 'pi': node 0 points to"):
        sparse_model.loss(model, out, batch)


def test_mismatched_edge_probe_lengths_are_named():
    t = from_dense(graph_trajs("bfs", [5], complete=False, seed=1)[0])
    t.inputs["A"] = t.inputs["A"][:-1]
    with pytest.raises(InputError, match=r"bfs input 'A' of trajectory 0 has length \d+ along its edge axis, but "
                                         r"the trajectory has \d+ edges of edge_index"):
        collate_sparse([t])
    with pytest.raises(InputError, match="one algorithm"):
        collate_sparse([from_dense(graph_trajs("bfs", [4], True)[0]), from_dense(graph_trajs("dfs", [4], True)[0])])


def test_models_without_a_sparse_form_are_refused_with_the_alternatives():
    with pytest.raises(InputError, match="processor 'memnet' has no sparse form; sparse processors: deepsets"):
        sparse_model.forward(Reasoner("bfs", "memnet", hidden=16), _bfs_batch())
    with pytest.raises(InputError, match="steps must be 'truth' or a positive int"):
        sparse_model.forward(Reasoner("bfs", "mpnn", hidden=16), _bfs_batch(), steps="learned")


def test_chunked_evaluation_equals_one_chunk(monkeypatch):
    """Without gradients, per-edge work runs in chunks; the values do not change."""
    from nar.models.sparse import processors as sp_proc

    torch.manual_seed(0)
    model = Reasoner("bfs", "triplet_gmpnn", hidden=16).eval()
    batch = collate_sparse([from_dense(t) for t in graph_trajs("bfs", [40, 30], complete=False, seed=5)])
    monkeypatch.setattr(sp_proc, "CHUNK_BYTES", 1)  # 256-row chunks
    assert len(sp_proc.edge_chunks(batch.num_edges, 16)) == 1  # gradients recorded: one chunk
    with torch.no_grad():
        assert len(sp_proc.edge_chunks(batch.num_edges, 16)) > 2
        chunked = sparse_model.forward(model, batch)
    monkeypatch.setattr(sp_proc, "CHUNK_BYTES", 1 << 30)
    with torch.no_grad():
        whole = sparse_model.forward(model, batch)
    for k in whole.outputs:
        assert torch.allclose(whole.outputs[k], chunked.outputs[k], atol=1e-5)
    for k in whole.hints:
        assert torch.allclose(whole.hints[k], chunked.hints[k], atol=1e-5)


@pytest.mark.parametrize("algo", ["fast_mis", "eccentricity"])
def test_salsa_algorithms_run_sparse_once_the_model_knows_their_specs(algo, monkeypatch):
    """fast_mis / eccentricity (nar.sparse.SALSA_SPECS): forward, loss and scores on sparse batches.  The
    Reasoner builds heads from nar.specs.SPECS; here its table is extended the way nar.models.spec should."""
    import nar.models.spec as mspec
    from nar.models.sparse.scoring import score
    from nar.sparse import SALSA_SPECS, sample

    monkeypatch.setattr(mspec, "SPECS", {**mspec.SPECS, **SALSA_SPECS})
    torch.manual_seed(0)
    model = Reasoner(algo, "triplet_gmpnn", hidden=16)
    batch = collate_sparse(sample(algo, 12, 3, 0, graph="er"))
    out = sparse_model.forward(model, batch, teacher_forcing=0.5)
    losses = sparse_model.loss(model, out, batch)
    losses["total"].backward()
    assert torch.isfinite(losses["total"]) and set(losses) >= {f"output/{k}" for k in out.outputs}
    s = score(model, batch)
    assert set(s.outputs) == set(out.outputs) and set(s.hints) == set(out.hints)


@pytest.mark.parametrize("graph", ["er", "geometric", "grid"])
def test_evaluate_draws_sparse_graphs_and_reports_cost(graph):
    from nar.models.sparse import evaluate  # the package-level API

    torch.manual_seed(0)
    model = Reasoner("bfs", "mpnn", hidden=8)
    res = evaluate(model, "bfs", n=64, graph=graph, count=2, seed=1, batch_graphs=2)
    assert res.count == 2 and res.n == 64 and res.graph == graph and 0 <= res.scores.score <= 1
    assert res.seconds_per_graph > 0 and res.peak_bytes > 0 and 64 < res.edges < 64 * 12
    again = evaluate(model, "bfs", n=64, graph=graph, count=2, seed=1)
    assert again.scores.score == res.scores.score  # same seed, same graphs, batching does not matter
    with pytest.raises(InputError, match="graph must be one of er, geometric, grid, got 'ring'"):
        evaluate(model, "bfs", n=64, graph="ring")
    with pytest.raises(InputError, match=r"trained on \['bfs'\], not 'dfs'"):
        evaluate(model, "dfs", n=64)
    with pytest.raises(InputError, match="n must be an integer >= 1"):
        evaluate(model, "bfs", n=0)


@pytest.mark.slow
def test_a_dense_trained_run_is_scored_on_large_sparse_graphs(tmp_path, capsys):
    import argparse
    import json

    from nar.train import TrainConfig, train
    from nar.train.sparse_eval import cli_eval, evaluate_run

    cfg = TrainConfig(algorithms=["bfs"], processor="mpnn", hidden=8, steps=2, eval_every=2, checkpoint_every=2,
                      batch_size=4, train_sizes=[4, 5], val_count=4, test_count=4, val_n=5, test_n=8, device="cpu")
    train(cfg, tmp_path / "run", progress=False)
    res = evaluate_run(tmp_path / "run", n=300, graph="geometric", count=1)
    assert res["bfs"].n == 300 and res["bfs"].processor == "mpnn"
    args = argparse.Namespace(checkpoint=str(tmp_path / "run"), n=200, graph="er", count=None, seed=None,
                              algorithm=None, which="best", device="cpu", json=True)
    assert cli_eval(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bfs"]["n"] == 200 and out["bfs"]["graph"] == "er" and "seconds_per_graph" in out["bfs"]
    args.json, args.algorithm = False, "dfs"
    with pytest.raises(InputError, match=r"--algorithm: this run was trained on \['bfs'\], not \['dfs'\]"):
        cli_eval(args)
    args.algorithm = None
    assert cli_eval(args) == 0
    assert "| bfs | 200 | 1 |" in capsys.readouterr().out


def test_cli_eval_prints_a_table_or_json(monkeypatch, capsys):
    import argparse
    import json
    import types

    import nar.train.sparse_eval as se

    torch.manual_seed(0)
    fake = types.SimpleNamespace(model=Reasoner("bfs", "mpnn", hidden=8), algorithms=["bfs"], step_count="truth")
    monkeypatch.setattr(se, "load", lambda path, device, which: fake)
    args = argparse.Namespace(checkpoint="run", n=100, graph="grid", count=2, seed=4, algorithm=None,
                              which="best", device="cpu", json=False)
    assert se.cli_eval(args) == 0
    text = capsys.readouterr().out
    assert "sparse grid graphs (n=100, seed=4)" in text and "| bfs | 100 | 2 |" in text and "peak MB" in text
    args.json = True
    se.cli_eval(args)
    assert json.loads(capsys.readouterr().out)["bfs"]["count"] == 2
    args.step_count = "learned"
    with pytest.raises(InputError, match="--step-count"):
        se.cli_eval(args)
    args.step_count, args.batch_size = None, 2
    assert se.cli_eval(args) == 0
    capsys.readouterr()
    args.graph = "torus"
    with pytest.raises(InputError, match="--graph must be one of er, geometric, grid"):
        se.cli_eval(args)
    fake.step_count = "learned"
    args.graph = "er"
    with pytest.raises(InputError, match="ground-truth number of steps"):
        se.cli_eval(args)


@pytest.mark.parametrize("algo", ALGOS)
def test_inference_on_sampled_sparse_graphs_of_each_graph_algorithm(algo):
    """Every pointer of the sparse samplers' trajectories is an edge; forward, loss and scores run."""
    from nar.models.sparse.scoring import SparseScoreAccumulator
    from nar.sparse import sample

    torch.manual_seed(0)
    model = Reasoner(algo, "triplet_gmpnn", hidden=8).eval()
    batch = collate_sparse(sample(algo, 24, 2, 3, graph="geometric"))
    with torch.no_grad():
        out = sparse_model.forward(model, batch)
        assert torch.isfinite(sparse_model.loss(model, out, batch)["total"])
        pred = sparse_model.decode(model, out, batch)
    assert pred.outputs["pi"].shape == (batch.num_nodes,)
    acc = SparseScoreAccumulator(algo)
    acc.add(pred, batch)
    assert 0 <= acc.result().score <= 1


def test_memory_estimate_counts_backward_steps_and_triplets():
    model = Reasoner("bfs", "mpnn", hidden=128)
    small = collate_sparse([from_dense(t) for t in graph_trajs("bfs", [60], complete=False, seed=1)])
    with torch.no_grad():
        est_eval = sparse_model.estimate_bytes(model, small, steps=10)
    est_train = sparse_model.estimate_bytes(model, small, steps=10, grad=True)
    assert est_train > 4 * est_eval  # kept for backward at every step
    tri = Reasoner("bfs", "triplet_gmpnn", hidden=128)
    assert sparse_model.estimate_bytes(tri, small, 10, grad=False) > sparse_model.estimate_bytes(model, small, 10,
                                                                                                  grad=False)
