"""nar.tasks.routing: targets against networkx Dijkstra, metrics on hand-made cases, the blackbox gradient,
every model variant end to end on a tiny batch, and the benchmark script's --quick mode."""
import math
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import torch

from nar.models import build_processor
from nar.tasks import routing as R
from nar.validation import InputError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("kind,n,seed", [("geometric", 16, 0), ("grid", 16, 1), ("mixed", 23, 2),
                                         ("grid", 64, 3), ("geometric", 64, 4)])
def test_targets_match_networkx_dijkstra(kind, n, seed):
    data = R.make_dataset(4, n, kind, seed)
    for b in range(len(data)):
        time = data.time[b].numpy()
        G = nx.DiGraph()
        G.add_nodes_from(range(n))
        G.add_weighted_edges_from((i, j, time[i, j]) for i, j in zip(*np.nonzero(data.adj[b].numpy())))
        src = int(data.source[b])
        pred, dist = nx.dijkstra_predecessor_and_distance(G, src)
        assert len(dist) == n  # connected
        np.testing.assert_allclose(data.dist[b].numpy(), [dist[j] for j in range(n)], rtol=1e-12)
        assert int(data.parent[b, src]) == src
        for j in range(n):
            if j != src:
                assert pred[j] == [int(data.parent[b, j])]  # unique shortest paths (continuous times)


def test_dataset_layout_and_reproducibility():
    a, b = R.make_dataset(6, 16, "mixed", 7), R.make_dataset(6, 16, "mixed", 7)
    assert torch.equal(a.edge, b.edge) and torch.equal(a.parent, b.parent)
    assert not torch.equal(a.edge, R.make_dataset(6, 16, "mixed", 8).edge)
    assert a.node.shape == (6, 16, R.NODE_DIM) and a.edge.shape == (6, 16, 16, R.EDGE_DIM)
    assert torch.equal(a.adj, a.adj.transpose(1, 2)) and not a.adj.diagonal(dim1=1, dim2=2).any()
    assert torch.equal(a.edge[..., 0].bool(), a.adj) and (a.edge[~a.adj] == 0).all()
    assert torch.equal(a.node[..., 0].argmax(1), a.source) and a.node[..., 0].sum() == 6
    assert torch.isfinite(a.time[a.adj]).all() and torch.isinf(a.time[~a.adj]).all()
    assert (a.hops >= 1).all() and torch.isfinite(a.dist).all()


def test_processor_step_bound_covers_the_tree_depth():
    data = R.make_dataset(16, 64, "mixed", 5)
    depth = torch.zeros_like(data.parent)
    cur = torch.arange(64).repeat(16, 1)
    for _ in range(64):
        cur = data.parent.gather(1, cur)
        depth += cur != data.source[:, None]
    # Bellman-Ford needs depth + 1 rounds; the bound is 2 * eccentricity + 1
    assert (2 * data.hops + 1 >= depth.amax(1) + 1).all()
    assert R.processor_steps(data) == 2 * int(data.hops.max()) + 1


def test_bad_dataset_arguments_are_clear_errors():
    with pytest.raises(InputError, match="kind"):
        R.make_dataset(2, 8, "ring")
    with pytest.raises(InputError, match="n must be"):
        R.make_dataset(2, 1)
    with pytest.raises(InputError, match="count"):
        R.make_dataset(0, 8)
    data = R.make_dataset(2, 8)
    with pytest.raises(InputError, match="parent must be"):
        R.metrics(torch.zeros(2, 7, dtype=torch.long), data)


def _path_batch():
    """0 - 1 - 2 - 3 (times 1, 2, 3 forwards and back) plus the shortcut 0 - 3 of time 10; source 0."""
    n = 4
    time = torch.full((1, n, n), math.inf, dtype=torch.float64)
    for i, j, t in [(0, 1, 1.0), (1, 2, 2.0), (2, 3, 3.0), (0, 3, 10.0)]:
        time[0, i, j] = time[0, j, i] = t
    adj = torch.isfinite(time)
    source = torch.tensor([0])
    dist, parent = R.shortest_paths(time, source)
    z = torch.zeros(1, n)
    return R.RoutingBatch(node=torch.zeros(1, n, R.NODE_DIM), edge=torch.zeros(1, n, n, R.EDGE_DIM), adj=adj,
                          node_mask=torch.ones(1, n, dtype=torch.bool), source=source, time=time,
                          parent=parent, dist=dist, hops=z[:, 0].long() + 2)


def test_metrics_on_hand_made_cases():
    batch = _path_batch()
    assert batch.parent.tolist() == [[0, 0, 1, 2]] and batch.dist.tolist() == [[0.0, 1.0, 3.0, 6.0]]
    assert R.metrics(batch.parent, batch) == {"parent_accuracy": 1.0, "cost_ratio": 1.0, "reach_rate": 1.0}
    # node 3 takes the shortcut (10 instead of 6): reached, ratio 10/6; the others optimal
    m = R.metrics(torch.tensor([[0, 0, 1, 0]]), batch)
    assert m["parent_accuracy"] == pytest.approx(2 / 3) and m["reach_rate"] == 1.0
    assert m["cost_ratio"] == pytest.approx((1 + 1 + 10 / 6) / 3)
    # a loop 2 <-> 3: both fail (charged FAIL_RATIO), node 1 is still optimal
    m = R.metrics(torch.tensor([[0, 0, 3, 2]]), batch)
    assert m["reach_rate"] == pytest.approx(1 / 3)
    assert m["cost_ratio"] == pytest.approx((1 + 2 * R.FAIL_RATIO) / 3)
    # a node that is its own parent, and a pointer along a pair that is not an edge (1 -> 3): both fail
    m = R.metrics(torch.tensor([[0, 0, 2, 1]]), batch)
    assert m["reach_rate"] == pytest.approx(1 / 3) and m["parent_accuracy"] == pytest.approx(1 / 3)
    # the source's own pointer is not scored and does not break the routes through it
    assert R.metrics(torch.tensor([[1, 0, 1, 2]]), batch)["cost_ratio"] == 1.0


def test_route_costs_equal_a_naive_walk():
    data = R.make_dataset(3, 20, "mixed", 11)
    gen = torch.Generator().manual_seed(0)
    # random parents among candidates: loops, dead ends and valid routes mixed
    cand = R._candidates(data).double() + 1e-3 * torch.rand(3, 20, 20, generator=gen, dtype=torch.float64)
    parent = torch.multinomial(cand.transpose(1, 2).reshape(-1, 20), 1, generator=gen).view(3, 20)
    cost, reached = R.route_costs(parent, data.time, data.source)
    for b in range(3):
        s = int(data.source[b])
        for j in range(20):
            total, u, ok = 0.0, j, False
            for _ in range(20):
                if u == s:
                    ok = True
                    break
                p = int(parent[b, u])
                if p == u or not data.adj[b, p, u]:
                    break
                total, u = total + float(data.time[b, p, u]), p
            assert bool(reached[b, j]) == ok
            if ok:
                assert float(cost[b, j]) == pytest.approx(total)


def test_blackbox_gradient_has_the_right_sign():
    # triangle: 0 -> 1 direct (1.0) or via 2 (0.4 + 0.4); the solver routes via 2, the truth is direct
    w = torch.tensor([[[0.0, 1.0, 0.4], [1.0, 0.0, 0.4], [0.4, 0.4, 0.0]]], requires_grad=True)
    adj = ~torch.eye(3, dtype=torch.bool)[None]
    source = torch.tensor([0])
    y = R.BlackboxTree.apply(w, adj, source, 1.0)
    assert y[0, 2, 1] == 1 and y[0, 0, 1] == 0
    truth = R.tree_indicator(torch.tensor([[0, 0, 0]]))
    loss = (y * (1 - truth) + (1 - y) * truth).sum()
    loss.backward()
    assert w.grad[0, 0, 1] > 0   # descent makes the missed true edge cheaper
    assert w.grad[0, 2, 1] < 0   # and the wrongly used edge dearer
    with torch.no_grad():
        w2 = (w - 0.5 * w.grad).clamp_min(R.W_MIN)
    assert torch.equal(R.tree_edges(w2, adj, source), truth)


@pytest.mark.parametrize("variant", ["scratch", "frozen", "finetune", "mpnn", "bottleneck", "exact"])
def test_each_variant_trains_on_a_tiny_batch(variant):
    torch.manual_seed(0)
    data = R.make_dataset(4, 8, "mixed", 0)
    if variant == "bottleneck":
        model = R.BottleneckRouter(hidden=8)
    elif variant == "exact":
        model = R.ExactRouter()
        assert torch.equal(R.predict(model, data), data.parent) and R.train(model, data, steps=2) == []
        return
    else:
        proc = build_processor("mpnn" if variant == "mpnn" else "triplet_gmpnn", 8)
        model = R.ProcessorRouter(proc, 8, hidden=8, frozen=variant == "frozen")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    loss = model.loss(data)
    loss.backward()
    grads = {k: p.grad for k, p in model.named_parameters()}
    assert torch.isfinite(loss) and any(g is not None and g.abs().sum() > 0 for g in grads.values())
    if variant == "frozen":
        assert all(g is None for k, g in grads.items() if k.startswith("core.processor."))
    if variant in ("scratch", "finetune"):
        assert any(g is not None and g.abs().sum() > 0 for k, g in grads.items() if k.startswith("core.processor."))
    losses = R.train(model, data, steps=2, batch_size=2)
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses)
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())
    parent = R.predict(model, data, batch_size=3)
    assert parent.shape == data.parent.shape
    assert R._candidates(data).gather(1, parent[:, None]).all()  # only edges (or itself)
    assert set(R.metrics(parent, data)) == {"parent_accuracy", "cost_ratio", "reach_rate"}


def test_benchmark_quick_mode_runs(tmp_path, monkeypatch, capsys):
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "blueprint.py"), "--quick", "--out",
                          str(tmp_path), "--models", "scratch", "bf_frozen", "bottleneck", "exact",
                          "--figure", str(tmp_path / "fig.png")],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "| (f) exact | 4 | 100.0 ± 0.0 | 1.000 ± 0.000 | 100.0 ± 0.0 |" in out.stdout and "| 1/1 |" in out.stdout
    assert (tmp_path / "results.json").is_file() and (tmp_path / "fig.png").is_file()
    # resumable: a rerun (in process) finds every cell done and trains nothing
    import importlib.util

    spec = importlib.util.spec_from_file_location("blueprint_bench", ROOT / "benchmarks" / "blueprint.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    calls = []
    monkeypatch.setattr(bench.R, "train", lambda *a, **k: calls.append(1) or [])
    assert bench.main(["--quick", "--out", str(tmp_path), "--models", "scratch", "exact"]) == 0
    assert calls == [] and "| (a) scratch | 4 |" in capsys.readouterr().out
