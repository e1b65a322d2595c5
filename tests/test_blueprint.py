"""nar.blueprint: the processor wrapper equals the processor inside a Reasoner; freezing, adapters, steps."""
import networkx as nx
import pytest
import torch

import nar
from nar.blueprint import ProcessorModule, dense_graph
from nar.data import collate
from nar.models import Reasoner, build_processor
from nar.models.processors import DenseMemoryError, Processor
from nar.validation import InputError


def _captured_step(processor_name):
    torch.manual_seed(0)
    model = Reasoner("bfs", processor=processor_name, hidden=16).eval()
    batch = collate(nar.sample("bfs", n=6, count=3, seed=1))
    seen = []
    model.processor.register_forward_hook(lambda mod, args, out: seen.append((args, out)))
    with torch.no_grad():
        model(batch)
    return model, seen[0]


@pytest.mark.parametrize("name", ["triplet_gmpnn", "mpnn", "pgn"])
def test_wrapper_equals_processor_inside_reasoner(name):
    model, ((node, edge, graph, adj, hidden, mask), (new_h, tri)) = _captured_step(name)
    assert torch.count_nonzero(hidden) == 0  # the first step starts from zero, as the wrapper does
    wrap = ProcessorModule(model.processor, hidden=16, steps=1)
    with torch.no_grad():
        out = wrap(node=node, edge=edge.materialise(), graph=graph, adj=adj, node_mask=mask)
    torch.testing.assert_close(out.hidden, new_h, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out.node, torch.cat([node, new_h], -1) * mask[..., None], rtol=1e-5, atol=1e-6)
    if tri is None:
        assert out.edge is None
    else:
        torch.testing.assert_close(out.edge, tri, rtol=1e-5, atol=1e-6)


def test_frozen_processor_gets_no_gradient_but_inputs_and_adapters_do():
    proc = build_processor("triplet_gmpnn", 16)
    wrap = ProcessorModule(proc, hidden=16, node_dim=5, edge_dim=3, out_dim=2, steps=2)
    x = torch.randn(2, 4, 5, requires_grad=True)
    e = torch.randn(2, 4, 4, 3)
    wrap(node=x, edge=e).node.sum().backward()
    assert all(p.grad is None for p in proc.parameters())
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert wrap.node_in.weight.grad.abs().sum() > 0 and wrap.edge_in.weight.grad.abs().sum() > 0
    wrap.freeze(False)
    wrap(node=x, edge=e).node.sum().backward()
    assert sum(float(p.grad.abs().sum()) for p in proc.parameters() if p.grad is not None) > 0


def test_frozen_processor_unchanged_by_an_optimizer_step():
    proc = build_processor("mpnn", 8)
    before = {k: v.clone() for k, v in proc.state_dict().items()}
    wrap = ProcessorModule(proc, hidden=8, node_dim=3, out_dim=1)
    opt = torch.optim.Adam([p for p in wrap.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        wrap(node=torch.randn(2, 5, 3)).node.pow(2).mean().backward()
        opt.step()
    assert all(torch.equal(before[k], v) for k, v in proc.state_dict().items())


class _Halving(Processor):
    """h' = h / 2 + 1 on real nodes: converges to 2, the change halves each step."""

    def forward(self, node, edge, graph, adj, hidden, node_mask):
        return (hidden / 2 + 1) * node_mask[..., None], None


def test_converge_mode_stops_at_tolerance():
    wrap = ProcessorModule(_Halving(), hidden=4, steps="converge", tol=1e-3, max_steps=100)
    out = wrap(node=torch.zeros(1, 3, 4))
    # change at step k is 2^(1-k): first below 1e-3 at k = 11
    assert out.steps == 11 and out.residual < 1e-3
    torch.testing.assert_close(out.hidden, torch.full((1, 3, 4), 2 - 2 ** -10))
    fixed = ProcessorModule(_Halving(), hidden=4, steps=3)(node=torch.zeros(1, 3, 4))
    assert fixed.steps == 3


def test_state_dict_round_trip_gives_identical_outputs():
    torch.manual_seed(0)
    a = ProcessorModule(build_processor("triplet_gmpnn", 8), hidden=8, node_dim=3, edge_dim=2, out_dim=4)
    torch.manual_seed(1)
    b = ProcessorModule(build_processor("triplet_gmpnn", 8), hidden=8, node_dim=3, edge_dim=2, out_dim=4)
    x, e = torch.randn(2, 5, 3), torch.randn(2, 5, 5, 2)
    assert not torch.allclose(a(node=x, edge=e).node, b(node=x, edge=e).node)
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(a(node=x, edge=e).node, b(node=x, edge=e).node)


def test_padding_does_not_change_real_nodes():
    torch.manual_seed(0)
    wrap = ProcessorModule(build_processor("triplet_gmpnn", 8), hidden=8, node_dim=3, edge_dim=2).eval()
    x, e = torch.randn(1, 4, 3), torch.randn(1, 4, 4, 2)
    xp = torch.cat([x, torch.randn(1, 2, 3)], 1)
    ep = torch.randn(1, 6, 6, 2)
    ep[:, :4, :4] = e
    mask = torch.tensor([[True] * 4 + [False] * 2])
    with torch.no_grad():
        full = wrap(node=x, edge=e).node
        padded = wrap(node=xp, edge=ep, node_mask=mask).node
    torch.testing.assert_close(padded[:, :4], full, rtol=1e-5, atol=1e-6)
    assert torch.count_nonzero(padded[:, 4:]) == 0


def test_networkx_graph_to_dense_inputs():
    G = nx.Graph()
    G.add_node("a", size=1.0)
    G.add_node("b", size=2.0)
    G.add_node("c", size=3.0)
    G.add_edge("a", "b", length=5.0)
    G.add_edge("b", "c", length=7.0)
    g = dense_graph(G, node_attrs=["size"], edge_attrs=["length"])
    assert g.nodes == [["a", "b", "c"]]
    assert g.node[0, :, 0].tolist() == [1.0, 2.0, 3.0]
    assert g.edge[0, 1, 0, 0] == 5.0 and g.edge[0, 0, 1, 0] == 5.0 and g.edge[0, 2, 1, 0] == 7.0
    assert g.adj[0].tolist() == [[False, True, False], [True, False, True], [False, True, False]]
    out = ProcessorModule(build_processor("mpnn", 4), hidden=4, node_dim=1, edge_dim=1)(
        node=g.node, edge=g.edge, adj=g.adj, node_mask=g.node_mask)
    assert out.node.shape == (1, 3, 8)
    with pytest.raises(InputError, match="attribute 'weight'"):
        dense_graph(G, edge_attrs=["weight"])
    G.nodes["a"]["size"] = "big"
    with pytest.raises(InputError, match="must be a number"):
        dense_graph(G, node_attrs=["size"])


def test_pyg_batch_to_dense_inputs():
    pyg = pytest.importorskip("torch_geometric")
    from torch_geometric.data import Batch, Data

    d1 = Data(x=torch.ones(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]), edge_attr=torch.tensor([[1.0], [2.0]]))
    d2 = Data(x=torch.zeros(2, 2), edge_index=torch.tensor([[0], [1]]), edge_attr=torch.tensor([[3.0]]))
    g = dense_graph(Batch.from_data_list([d1, d2]))
    assert g.node.shape == (2, 3, 2) and g.node_mask.tolist() == [[True] * 3, [True, True, False]]
    assert g.edge[0, 1, 2, 0] == 2.0 and g.edge[1, 0, 1, 0] == 3.0 and bool(g.adj[1, 0, 1])


def test_bad_inputs_are_clear_errors():
    wrap = ProcessorModule(build_processor("mpnn", 8), hidden=8, node_dim=3)
    with pytest.raises(InputError, match="node_dim=5"):
        wrap(node=torch.randn(1, 4, 5))
    with pytest.raises(InputError, match="adj must be"):
        wrap(node=torch.randn(1, 4, 3), adj=torch.ones(1, 3, 3, dtype=torch.bool))
    with pytest.raises(InputError, match="edge_dim=2"):
        wrap(node=torch.randn(1, 4, 3), edge=torch.randn(1, 4, 4, 2))
    with pytest.raises(InputError, match="steps"):
        ProcessorModule(build_processor("mpnn", 8), hidden=8, steps=0)
    with pytest.raises(InputError, match="Processor"):
        ProcessorModule(torch.nn.Linear(2, 2), hidden=8)
    big = ProcessorModule(build_processor("triplet_gmpnn", 8), hidden=8, max_dense_bytes=1 << 20)
    with pytest.raises(DenseMemoryError, match="N=64"):
        big(node=torch.randn(1, 64, 8))


def test_loaded_run_gives_the_same_wrapper(tmp_path):
    from nar.train import TrainConfig, train

    cfg = TrainConfig(algorithms=["bfs"], processor="mpnn", hidden=8, steps=2, eval_every=2, checkpoint_every=2,
                      val_count=4, test_count=4, device="cpu")
    train(cfg, tmp_path / "run", progress=False)
    loaded = nar.load(tmp_path / "run")
    wrap = loaded.processor_module(node_dim=3)
    assert wrap.processor is loaded.model.processor and wrap.hidden == 8
    assert wrap(node=torch.randn(1, 4, 3)).node.shape == (1, 4, 16)


def test_steps_per_call_override_the_module_setting():
    wrap = ProcessorModule(_Halving(), hidden=4, steps=3)
    assert wrap(node=torch.zeros(1, 3, 4)).steps == 3
    assert wrap(node=torch.zeros(1, 3, 4), steps=5).steps == 5
    assert wrap(node=torch.zeros(1, 3, 4), steps="converge").steps == 11
    with pytest.raises(InputError, match="steps"):
        wrap(node=torch.zeros(1, 3, 4), steps=0)
