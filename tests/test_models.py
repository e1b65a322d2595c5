"""The Reasoner: padding, every algorithm end to end, training signal, gradients, hint modes, API."""
import math

import pytest
import torch

import nar
from nar.data import collate
from nar.models import Reasoner, evaluate, model_spec
from nar.specs import PRED_AS_INPUT_ALGOS, SPECS, Stage


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def crop(t, like):
    return t[tuple(slice(0, s) for s in like.shape)]


# edge pointer, categorical edge output, graph mask, sort permutation, node pointer + mask hints
PADDING_CASES = [("bfs", "triplet_gmpnn"), ("insertion_sort", "mpnn"), ("floyd_warshall", "triplet_mpnn"),
                 ("lcs_length", "pgn"), ("segments_intersect", "gat"), ("dag_shortest_paths", "gatv2"),
                 ("optimal_bst", "memnet"), ("heapsort", "deepsets")]


@pytest.mark.parametrize("alg,proc", PADDING_CASES)
def test_padded_batch_gives_the_same_predictions_as_unpadded(alg, proc):
    torch.manual_seed(0)
    small = nar.sample(alg, n=5, count=2, seed=1)
    big = nar.sample(alg, n=7, count=2, seed=2)  # more nodes and (usually) longer trajectories
    model = Reasoner(alg, proc, hidden=16).eval()
    with torch.no_grad():
        alone, padded = model(collate(small)), model(collate(small + big))
    for k, v in list(alone.outputs.items()) + list(alone.hints.items()):
        w = crop((padded.outputs if k in alone.outputs else padded.hints)[k][:2], v)
        real = v.abs() < 1e8  # masked logits are -1e9 in both
        assert torch.allclose(v[real], w[real], atol=1e-4), k
    p_alone, p_padded = model.predict(collate(small)), model.predict(collate(small + big))
    for k, v in p_alone.items():
        assert torch.equal(v, crop(p_padded[k][:2], v)), k


@pytest.mark.parametrize("alg", nar.list_algorithms())
def test_every_algorithm_trains_and_scores(alg):
    b = collate(nar.sample(alg, n=5, count=2, seed=0) + nar.sample(alg, n=4, count=1, seed=1))
    model = Reasoner(alg, "mpnn", hidden=8)
    out = model(b, teacher_forcing=0.5, generator=torch.Generator().manual_seed(0))
    losses = model.loss(out, b)
    losses["total"].backward()
    assert all(math.isfinite(float(v.detach())) for v in losses.values())
    assert {f"output/{k}" for k in model.spec(alg).outputs} | {"output", "hint", "total"} <= set(losses)
    spec = SPECS[alg]
    scores = evaluate(model, b)
    assert set(scores.outputs) == {k for k, p in spec.items() if p.stage == Stage.OUTPUT}
    expected_hints = {k for k, p in spec.items() if p.stage == Stage.HINT}
    if alg in PRED_AS_INPUT_ALGOS:
        expected_hints.discard("pred_h")
    assert set(scores.hints) == expected_hints
    assert 0.0 <= scores.score <= 1.0 or any(spec[k].type == "scalar" for k in scores.outputs)


def test_predictions_follow_batch_conventions():
    b = collate(nar.sample("insertion_sort", n=6, count=2) + nar.sample("insertion_sort", n=4, count=1))
    pred = Reasoner("insertion_sort", "mpnn", hidden=8).predict(b)
    assert set(pred) == {"pred"} and pred["pred"].dtype == torch.int64
    assert int(pred["pred"][2, :4].max()) < 4 and torch.equal(pred["pred"][2, 4:], torch.tensor([4, 5]))
    b = collate(nar.sample("activity_selector", n=5, count=2))
    full = Reasoner("activity_selector", "pgn", hidden=8).predict(b, with_hints=True)
    sel = full.outputs["selected"]
    assert sel.dtype == torch.float32 and set(sel.unique().tolist()) <= {0.0, 1.0}
    assert full.hints["m"].shape == b.hints["m"].shape  # mask_one hint, one-hot over nodes
    assert torch.all(full.hints["m"].sum(-1) == 1)
    assert torch.equal(full.hints["m"][:, 0], b.hints["m"][:, 0])  # time 0 is given, not predicted


def test_overfitting_a_tiny_batch_drives_the_loss_down():
    torch.manual_seed(0)
    b = collate(nar.sample("bfs", n=5, count=4, seed=3))
    model = Reasoner("bfs", "mpnn", hidden=32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(25):
        loss = model.loss(model(b), b)["total"]
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.1 * first
    assert evaluate(model, b).score > 0.9


def _without_grad(model):
    return sorted(n for n, p in model.named_parameters() if p.grad is None or float(p.grad.abs().sum()) == 0)


def test_gradients_reach_every_parameter():
    # quickselect: graph-level hints (so graph latents are non-zero) and pointer hints (so the
    # triplet edge latents are decoded); the halting head is trained too
    torch.manual_seed(0)
    b = collate(nar.sample("quickselect", n=6, count=3, seed=0))
    model = Reasoner("quickselect", "triplet_gmpnn", hidden=16, termination=True)
    model.loss(model(b, teacher_forcing=0.5, generator=torch.Generator().manual_seed(1)), b)["total"].backward()
    assert _without_grad(model) == []
    # bfs has no graph-level probe: only the weights reading the (zero) graph latent get nothing
    b = collate(nar.sample("bfs", n=6, count=3, seed=0))
    model = Reasoner("bfs", "triplet_gmpnn", hidden=16)
    model.loss(model(b), b)["total"].backward()
    assert _without_grad(model) == ["processor.mg.weight", "processor.tg.weight"]


def test_hint_modes():
    b = collate(nar.sample("bfs", n=5, count=2))
    none = Reasoner("bfs", "mpnn", hidden=8, hint_mode="none")
    assert set(none.heads["bfs"].encoders) == {"pos", "s", "A", "adj"}
    assert set(none.heads["bfs"].decoders) == {"pi"}
    losses = none.loss(none(b), b)
    assert float(losses["hint"].detach()) == 0.0 and not any(k.startswith("hint/") for k in losses)
    assert evaluate(none, b).hints == {}
    dec = Reasoner("bfs", "mpnn", hidden=8, hint_mode="decoded_only")
    assert set(dec.heads["bfs"].encoders) == {"pos", "s", "A", "adj"}
    assert set(dec.heads["bfs"].decoders) == {"pi", "pi_h", "reach_h"}
    with pytest.raises(ValueError, match="hint_mode"):
        Reasoner("bfs", hint_mode="teacher")


def test_full_teacher_forcing_feeds_ground_truth_hints():
    b = collate(nar.sample("bfs", n=6, count=3, seed=3))  # lengths 4, 1, 3: hints to feed back
    model = Reasoner("bfs", "mpnn", hidden=16)
    forced, free = model(b, teacher_forcing=1.0).outputs["pi"], model(b, teacher_forcing=0.0).outputs["pi"]
    with torch.no_grad():  # change what the model would feed back
        for p in model.heads["bfs"].decoders["reach_h"].parameters():
            p.add_(1.0)
    assert torch.allclose(model(b, teacher_forcing=1.0).outputs["pi"], forced)
    assert not torch.allclose(model(b, teacher_forcing=0.0).outputs["pi"], free)


def test_randomness_comes_from_the_generator():
    b = collate(nar.sample("insertion_sort", n=5, count=4))  # Gumbel noise + teacher forcing
    model = Reasoner("insertion_sort", "mpnn", hidden=8, dropout=0.1).train()
    runs = [model(b, 0.5, generator=torch.Generator().manual_seed(s)).outputs["pred"] for s in (7, 7, 8)]
    assert torch.equal(runs[0], runs[1]) and not torch.equal(runs[0], runs[2])


def test_hard_feedback_blocks_gradients_through_predicted_hints():
    b = collate(nar.sample("bfs", n=6, count=3, seed=5))
    grads = {}
    for mode in ("soft", "hard"):
        torch.manual_seed(0)
        model = Reasoner("bfs", "mpnn", hidden=16, feedback=mode)
        model.loss(model(b), b)["output"].backward()  # output loss only: hint decoders learn only via feedback
        grads[mode] = model.heads["bfs"].decoders["reach_h"].lin.weight.grad
    assert grads["soft"] is not None and float(grads["soft"].abs().sum()) > 0
    assert grads["hard"] is None or float(grads["hard"].abs().sum()) == 0


def test_multi_task_shares_the_processor():
    model = Reasoner(["bfs", "insertion_sort"], "triplet_mpnn", hidden=16)
    assert model.algorithms == ["bfs", "insertion_sort"]
    assert sum(1 for n, _ in model.named_parameters() if n.startswith("processor.")) > 0
    for alg in model.algorithms:
        b = collate(nar.sample(alg, n=5, count=2))
        model.loss(model(b), b)["total"].backward()
    assert model.processor.mlp1.weight.grad is not None
    with pytest.raises(KeyError, match="built for"):
        model(collate(nar.sample("dfs", n=4, count=1)))


def test_learned_termination():
    b = collate(nar.sample("bfs", n=6, count=4, seed=6))
    model = Reasoner("bfs", "mpnn", hidden=16, termination=True)
    losses = model.loss(model(b), b)
    assert "termination" in losses and float(losses["termination"].detach()) > 0
    out = model.eval()(b, steps="learned", max_steps=5)
    assert out.final_step.shape == (4,) and int(out.final_step.max()) <= 4
    assert set(model.predict(b, steps="learned", max_steps=5)) == {"pi"}
    with pytest.raises(ValueError, match="termination=True"):
        Reasoner("bfs", "mpnn", hidden=8)(b, steps="learned", max_steps=3)


def test_model_spec_rewrites():
    ms = model_spec("insertion_sort")
    assert ms.probes["pred"].type == "permutation_pointer" and ms.probes["pred_mask"].type == "mask_one"
    assert model_spec("insertion_sort", enforce_permutations=False).probes["pred"].type == "pointer"
    ms = model_spec("binary_search")
    assert "pred_h" not in ms.probes and ms.probes["pred"] == ("input", "node", "pointer")
    assert "pred_h" in model_spec("binary_search", pred_as_input=False).probes


def test_config_rebuilds_the_model_and_finished_samples_are_frozen():
    b = collate(nar.sample("bfs", n=7, count=4, seed=8))
    model = Reasoner(["bfs"], "pgn", hidden=16, termination=True).eval()
    clone = Reasoner(**model.config)
    clone.load_state_dict(model.state_dict())
    out, again = model(b), clone.eval()(b)
    assert torch.equal(out.outputs["pi"], again.outputs["pi"])
    short = int(b.lengths.argmin())
    last = int(b.lengths[short]) - 2  # its final step; afterwards its predictions stay as they were
    if last + 1 < out.hints["pi_h"].shape[1]:
        assert torch.equal(out.hints["pi_h"][short, last + 1:], out.hints["pi_h"][short, last].expand_as(
            out.hints["pi_h"][short, last + 1:]))
    assert torch.equal(out.final_step, (b.lengths - 2).clamp_min(0))


def test_hand_made_spec_with_uncommon_types_and_locations():
    """Graph pointers, edge mask_one, graph categorical and edge-pointer inputs: not in CLRS-30, still generic."""
    from types import MappingProxyType

    from nar.models.heads import AlgorithmHeads
    from nar.models.layers import EdgeFeatures
    from nar.models.probe_types import TYPES, Ctx
    from nar.models.spec import ModelSpec
    from nar.specs import Location, Probe, Type

    probes = {"ep": Probe(Stage.INPUT, Location.EDGE, Type.POINTER),
              "gp": Probe(Stage.INPUT, Location.GRAPH, Type.POINTER),
              "row": Probe(Stage.OUTPUT, Location.EDGE, Type.MASK_ONE),
              "root": Probe(Stage.OUTPUT, Location.GRAPH, Type.POINTER),
              "kind": Probe(Stage.OUTPUT, Location.GRAPH, Type.CATEGORICAL)}
    ms = ModelSpec("custom", MappingProxyType(probes), MappingProxyType({"kind": 3}), (), False)
    heads = AlgorithmHeads(ms, 8, encode_hints=True, decode_hints=True, node_dim=24, edge_dim=8)
    mask = torch.tensor([[True] * 4, [True, True, True, False]])
    ctx = Ctx(mask)
    g = torch.Generator().manual_seed(0)
    ep = torch.randint(0, 3, (2, 4, 4), generator=g)
    enc = heads.encode({"ep": ep, "gp": torch.tensor([1, 2])}, ctx)
    assert enc.node.shape == (2, 4, 8) and enc.edge.x.shape == (2, 4, 4, 2) and enc.edge.dim == 8
    raw = heads.decode(ms.outputs, torch.randn(2, 4, 24, generator=g), enc.edge, enc.graph, ctx)
    assert raw["row"].shape == (2, 4, 4) and raw["root"].shape == (2, 4) and raw["kind"].shape == (2, 3)
    assert float(raw["row"][1, :, 3].max()) < -1e8 and float(raw["root"][1, 3]) < -1e8  # padded targets
    truths = {"row": torch.nn.functional.one_hot(torch.tensor([[0, 1, 2, 3], [2, 0, 1, 3]]), 4).float(),
              "root": torch.tensor([3, 1]), "kind": torch.tensor([[0, 1, 0.], [0, 0, 1.]])}
    for k, t in truths.items():
        p = probes[k]
        loss, w = TYPES[p.type].loss(raw[k], t, ctx.loc_mask(p.location))
        assert torch.isfinite((loss * w).sum()) and w.sum() > 0
        hard = TYPES[p.type].hard(raw[k], ctx.loc_mask(p.location))
        stats = TYPES[p.type].metric_stats(hard, t, ctx.loc_mask(p.location))
        assert 0.0 <= TYPES[p.type].metric_value(stats.reshape(-1, stats.shape[-1]).sum(0)) <= 1.0
    assert int(TYPES[Type.POINTER].hard(raw["root"], ctx.loc_mask(Location.GRAPH))[1]) < 3


def test_unbatch_gives_trajectory_conventions():
    from nar.models import unbatch
    trajs = nar.sample("floyd_warshall", n=5, count=1) + nar.sample("floyd_warshall", n=3, count=1)
    b = collate(trajs)
    samples = unbatch(b.outputs, b)
    assert samples[1]["Pi"].shape == (3, 3) and (samples[1]["Pi"] == trajs[1].outputs["Pi"]).all()
    hints = unbatch(b.hints, b, timed=True)
    assert hints[1]["D"].shape == trajs[1].hints["D"].shape
    pred = unbatch(Reasoner("floyd_warshall", "mpnn", hidden=8).predict(b), b)
    assert pred[0]["Pi"].shape == (5, 5) and pred[0]["Pi"].max() < 5


@pytest.mark.parametrize("dense", [False, True])
def test_pointer_decoders_edge_gradient_is_exactly_zero_where_max_never_picks_it(dense):
    """CLRS scores ``max(L1 h_x, L2 h_y + L3 e_yx)``: in a channel where the max always takes ``L1 h_x``
    the gradient of ``L3`` is exactly 0 (the reference's, and Adam then leaves it at rest); computing the
    score as ``score(q) + score(relu(p - q))`` leaves float32 rounding leftovers there instead."""
    from nar.models.layers import EdgeFeatures
    from nar.models.probe_types import Ctx, EdgePointerDecoder, NodePointerDecoder

    torch.manual_seed(0)
    b, n, f, hid = 3, 6, 5, 16
    x = torch.randn(b, n, n, f)
    e = EdgeFeatures(x, torch.randn(f, 8) * 0.3, torch.randn(8) * 0.1,
                     torch.randn(b, n, n, 4) if dense else None)
    h = torch.randn(b, n, 12)
    ctx = Ctx(node_mask=torch.ones(b, n, dtype=torch.bool))
    for dec, big in ((NodePointerDecoder(12, e.weight.shape[1] + (4 if dense else 0), hid), "src"),
                     (EdgePointerDecoder(12, e.weight.shape[1] + (4 if dense else 0), hid), "tgt")):
        with torch.no_grad():
            getattr(dec, big).bias[: hid // 2] += 100.0  # the max never picks the edge term here
        out = dec(h, e, None, ctx)
        (out * torch.randn_like(out)).sum().backward()
        gw, gb = dec.edge.weight.grad, dec.edge.bias.grad
        assert torch.count_nonzero(gw[: hid // 2]) == 0 and torch.count_nonzero(gb[: hid // 2]) == 0, type(dec)
        assert torch.count_nonzero(gw[hid // 2:]) > 0, type(dec)  # elsewhere it does learn


def test_maximum_matches_torch_and_routes_the_whole_gradient_to_the_larger_side():
    from nar.models.layers import maximum

    torch.manual_seed(0)
    a = torch.randn(3, 1, 4, 5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, 6, 4, 5, dtype=torch.float64, requires_grad=True)
    assert torch.equal(maximum(a, b), torch.maximum(a, b))
    assert torch.autograd.gradcheck(maximum, (a, b))
    g = torch.randn(3, 6, 4, 5, dtype=torch.float64)
    ga, gb = torch.autograd.grad(maximum(a, b), (a, b), g)
    assert torch.equal(gb, torch.where(b >= a, g, 0.0))
    assert torch.equal(ga, torch.where(a > b, g, 0.0).sum(1, keepdim=True))
