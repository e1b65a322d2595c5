"""CLRS losses and scores on hand-made cases; permutation and Sinkhorn conventions."""
import math

import pytest
import torch
import torch.nn.functional as F

import nar
from nar.data import collate
from nar.models import Prediction, ScoreAccumulator, cyclic_permutation, fuse_permutation
from nar.models.probe_types import BIG, TYPES, Ctx, log_sinkhorn
from nar.specs import Location, Type


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def batch_of(alg, sizes, seed=0):
    """A real padded batch of ``alg`` with one sample per size (its truths get overwritten below)."""
    return collate([nar.sample(alg, n=n, count=1, seed=seed + i)[0] for i, n in enumerate(sizes)])


def score(batch, outputs, hints=None):
    acc = ScoreAccumulator(batch.algorithm)
    acc.add(Prediction(batch.algorithm, outputs, hints or {}, batch.lengths), batch)
    return acc.result()


# ---------------------------------------------------------------------------------------------
# output scores
# ---------------------------------------------------------------------------------------------

def test_pointer_accuracy_counts_real_nodes_only():
    b = batch_of("bfs", [4, 3])
    b.outputs["pi"] = torch.tensor([[0, 0, 1, 2], [1, 1, 1, 3]])
    pred = torch.tensor([[0, 1, 1, 2], [1, 1, 0, 0]])  # last entry of sample 1 is padding
    s = score(b, {"pi": pred})
    assert s.outputs["pi"] == pytest.approx(5 / 7)
    assert s.score == pytest.approx(5 / 7)


def test_mask_one_argmax_accuracy():
    b = batch_of("minimum", [4, 3])
    b.outputs["min"] = torch.tensor([[0, 0, 1, 0], [1, 0, 0, 0.]])
    pred = torch.tensor([[0, 0, 1, 0], [0, 1, 0, 0.]])
    assert score(b, {"min": pred}).outputs["min"] == pytest.approx(0.5)


def test_categorical_accuracy_ignores_masked_cells():
    b = batch_of("lcs_length", [4])
    n = b.max_nodes
    truth = torch.zeros(1, n, n, 4)
    truth[..., 3] = -1  # every cell masked ...
    truth[0, 0, 1] = torch.tensor([1.0, 0, 0, 0])  # ... but three
    truth[0, 1, 2] = torch.tensor([0, 1.0, 0, 0])
    truth[0, 2, 3] = torch.tensor([0, 0, 1.0, 0])
    b.outputs["b"] = truth
    pred = F.one_hot(torch.full((1, n, n), 3), 4).float()  # wrong everywhere ...
    pred[0, 0, 1] = torch.tensor([1.0, 0, 0, 0])  # ... except one scored cell
    assert score(b, {"b": pred}).outputs["b"] == pytest.approx(1 / 3)


def test_mask_f1_is_pooled_over_the_set_and_ignores_padding():
    b = batch_of("activity_selector", [4, 3])
    b.outputs["selected"] = torch.tensor([[1, 1, 0, 0], [0, 1, 1, 0.]])
    pred = torch.tensor([[1, 0, 0, 0], [0, 1, 1, 1.]])  # the final 1 is on a padded node
    # pooled: tp 3, fp 0, fn 1 -> P 1, R 3/4 -> F1 6/7 (the per-sample mean would be 5/6)
    assert score(b, {"selected": pred}).outputs["selected"] == pytest.approx(6 / 7)


def test_mask_f1_edge_cases():
    f1 = TYPES[Type.MASK].metric_value
    assert f1(torch.tensor([0.0, 0.0, 0.0])) == 1.0  # nothing to find, nothing found
    assert f1(torch.tensor([0.0, 3.0, 0.0])) == 0.0  # only false positives
    assert f1(torch.tensor([0.0, 0.0, 2.0])) == 0.0  # only misses
    assert f1(torch.tensor([2.0, 1.0, 1.0])) == pytest.approx(2 / 3)


def test_scores_are_independent_of_how_the_set_is_split_into_batches():
    b = batch_of("activity_selector", [4, 3])
    b.outputs["selected"] = torch.tensor([[1, 1, 0, 0], [0, 1, 1, 0.]])
    pred = torch.tensor([[1, 0, 0, 0], [0, 1, 1, 0.]])
    whole = score(b, {"selected": pred}).outputs["selected"]
    acc = ScoreAccumulator("activity_selector")
    for i in range(2):
        part = collate([nar.sample("activity_selector", n=n, count=1, seed=i)[0] for n in [[4, 3][i]]])
        n = part.max_nodes
        part.outputs["selected"] = b.outputs["selected"][i:i + 1, :n]
        acc.add(Prediction(part.algorithm, {"selected": pred[i:i + 1, :n]}, {}, part.lengths), part)
    assert acc.result().outputs["selected"] == pytest.approx(whole)


def test_graph_mask_and_mean_over_two_outputs():
    b = batch_of("segments_intersect", [4, 4, 4])
    b.outputs["intersect"] = torch.tensor([1.0, 0.0, 1.0])
    assert score(b, {"intersect": torch.tensor([1.0, 1.0, 0.0])}).score == pytest.approx(0.5)
    k = batch_of("find_maximum_subarray_kadane", [3, 3])
    k.outputs["start"] = torch.tensor([[1, 0, 0.], [0, 1, 0.]])
    k.outputs["end"] = torch.tensor([[0, 0, 1.], [0, 0, 1.]])
    s = score(k, {"start": k.outputs["start"].clone(), "end": torch.tensor([[0, 1, 0.], [0, 0, 1.]])})
    assert s.outputs == pytest.approx({"start": 1.0, "end": 0.5})
    assert s.score == pytest.approx(0.75)


def test_scalar_mse_ignores_padding():
    st = TYPES[Type.SCALAR]
    mask = torch.tensor([[True, True, True, False]])
    stats = st.metric_stats(torch.tensor([[1.0, 2.0, 3.0, 100.0]]), torch.tensor([[1.0, 0.0, 3.0, 0.0]]), mask)
    assert st.metric_value(stats.reshape(-1, 2).sum(0)) == pytest.approx(4 / 3)


def test_sorting_output_is_scored_as_fused_pointers():
    b = batch_of("insertion_sort", [4])
    truth = b.outputs["pred"]
    wrong = truth.clone()
    wrong[0, 0] = (truth[0, 0] + 1) % 4
    assert score(b, {"pred": truth.clone()}).score == 1.0
    assert score(b, {"pred": wrong}).score == pytest.approx(0.75)


def test_hint_scores_are_per_step_and_weighted_by_running_samples():
    b = batch_of("bfs", [3, 3])
    b.lengths = torch.tensor([3, 2])
    b.time_mask = torch.tensor([[True, True, True], [True, True, False]])
    b.hints["pi_h"] = torch.tensor([[[0, 1, 2], [0, 0, 2], [0, 0, 1]],
                                    [[0, 1, 2], [1, 1, 1], [1, 1, 1]]])
    pred_h = b.hints["pi_h"].clone()
    pred_h[0, 1, 2] = 0  # step 1: sample 0 gets 2/3
    pred_h[1, 2] = torch.tensor([2, 2, 2])  # step 2 of sample 1 is past its end: ignored
    pred_h[0, 2] = torch.tensor([2, 2, 0])  # step 2: sample 0 gets 0/3
    b.hints["reach_h"] = reach = torch.zeros(2, 3, 3)
    s = score(b, {"pi": b.outputs["pi"]}, {"pi_h": pred_h, "reach_h": reach})
    # step 1: (2 + 3) / 6 over 2 samples; step 2: 0 / 3 over 1 sample -> (5/6 * 2 + 0 * 1) / 3
    assert s.hints["pi_h"] == pytest.approx((5 / 6 * 2) / 3)
    assert s.hints["reach_h"] == 1.0


# ---------------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------------

def masked_mean(loss, weight):
    return float((loss * weight).sum() / weight.sum())


def test_scalar_and_mask_losses():
    mask = torch.tensor([[True, True, False]])
    raw, truth = torch.tensor([[0.5, -1.0, 9.0]]), torch.tensor([[1.0, 0.0, 0.0]])
    assert masked_mean(*TYPES[Type.SCALAR].loss(raw, truth, mask)) == pytest.approx((0.25 + 1.0) / 2)
    expect = F.binary_cross_entropy_with_logits(raw[:, :2], truth[:, :2])
    assert masked_mean(*TYPES[Type.MASK].loss(raw, truth, mask)) == pytest.approx(float(expect), rel=1e-6)


def test_mask_one_and_pointer_losses_are_restricted_to_real_nodes():
    ctx = Ctx(torch.tensor([[True, True, False]]))
    logits = torch.tensor([[2.0, 0.0, 50.0]])
    raw = TYPES[Type.MASK_ONE].finish(logits, Location.NODE, ctx)
    truth = torch.tensor([[0.0, 1.0, 0.0]])
    expect = -math.log(math.exp(0.0) / (math.exp(2.0) + 1.0))  # the padded 50 never enters
    assert masked_mean(*TYPES[Type.MASK_ONE].loss(raw, truth, ctx.loc_mask(Location.NODE))) == pytest.approx(expect)

    logits = torch.tensor([[[1.0, 2.0, 40.0], [0.0, 0.0, 40.0], [5.0, 5.0, 5.0]]])
    raw = TYPES[Type.POINTER].finish(logits, Location.NODE, ctx)
    truth = torch.tensor([[1, 0, 2]])
    l0 = -math.log(math.exp(2) / (math.exp(1) + math.exp(2)))
    l1 = -math.log(0.5)
    got = masked_mean(*TYPES[Type.POINTER].loss(raw, truth, ctx.loc_mask(Location.NODE)))
    assert got == pytest.approx((l0 + l1) / 2, rel=1e-6)


def test_categorical_loss_skips_masked_cells():
    raw = torch.tensor([[[0.0, 1.0, 2.0, 0.0], [3.0, 0.0, 0.0, 0.0]]])
    truth = torch.tensor([[[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, -1.0]]])
    loss, w = TYPES[Type.CATEGORICAL].loss(raw, truth, torch.tensor([[True, True]]))
    expect = -float(torch.log_softmax(raw[0, 0], -1)[2])
    assert masked_mean(loss, w) == pytest.approx(expect)


def test_permutation_loss_is_cross_entropy_with_the_sinkhorn_matrix():
    mask = torch.tensor([[True, True, True]])
    logs = log_sinkhorn(torch.randn(1, 3, 3), mask, steps=60)
    truth = torch.tensor([[[0, 0, 1], [1, 0, 0], [0, 1, 0.]]])
    loss, w = TYPES[Type.PERMUTATION_POINTER].loss(logs, truth, mask)
    assert masked_mean(loss, w) == pytest.approx(float(-(truth * logs).sum() / 3))


def test_reasoner_loss_on_hand_made_predictions():
    from nar.models import ModelOutput, Reasoner
    b = batch_of("bfs", [3, 2], seed=2)  # sample 0 has a hint step (sample 1 has none)
    model = Reasoner("bfs", "mpnn", hidden=8)
    n, s = b.max_nodes, b.max_length - 1
    logits = torch.zeros(2, n, n)
    logits[1, :, 2] = -BIG  # sample 1 has 2 real nodes: uniform over them
    out = ModelOutput("bfs", {"pi": logits}, {"pi_h": torch.zeros(2, s, n, n), "reach_h": torch.zeros(2, s, n)},
                      torch.zeros(2, dtype=torch.long))
    losses = model.loss(out, b)
    assert float(losses["output/pi"].detach()) == pytest.approx((3 * math.log(3) + 2 * math.log(2)) / 5, rel=1e-5)
    # unmasked zero logits over N = 3 targets
    assert float(losses["hint/pi_h"].detach()) == pytest.approx(math.log(3), rel=1e-5)
    assert float(losses["hint/reach_h"].detach()) == pytest.approx(math.log(2), rel=1e-5)
    assert float(losses["hint"].detach()) == pytest.approx(math.log(3) + math.log(2), rel=1e-5)
    assert float(losses["total"].detach()) == pytest.approx(float((losses["output"] + losses["hint"]).detach()))


# ---------------------------------------------------------------------------------------------
# permutations and Sinkhorn
# ---------------------------------------------------------------------------------------------

def test_cyclic_permutation_matches_the_clrs_example_and_round_trips():
    perm, first = cyclic_permutation(torch.tensor([[2, 1, 1]]), torch.ones(1, 3, dtype=torch.bool))
    assert torch.equal(perm, torch.tensor([[[0, 0, 1], [1, 0, 0], [0, 1, 0.]]]))
    assert torch.equal(first, torch.tensor([[0, 1, 0.]]))
    assert torch.equal(fuse_permutation(perm.argmax(-1), first), torch.tensor([[2, 1, 1]]))


def test_cyclic_permutation_with_padding_and_a_lone_node():
    ptr = torch.tensor([[1, 1, 0, 3, 4], [0, 1, 2, 3, 4]])  # order 1, 0, 2 (+2 padded); a lone node
    mask = torch.tensor([[True, True, True, False, False], [True, False, False, False, False]])
    perm, first = cyclic_permutation(ptr, mask)
    assert torch.equal(perm.argmax(-1)[0], torch.tensor([1, 2, 0, 3, 4]))  # first (1) points to last (2)
    assert torch.equal(first[0], torch.tensor([0, 1, 0, 0, 0.]))
    assert torch.equal(perm.argmax(-1)[1], torch.arange(5)) and first[1, 0] == 1
    assert torch.equal(fuse_permutation(perm.argmax(-1), first), ptr)


def test_log_sinkhorn_is_doubly_stochastic_on_real_nodes():
    mask = torch.tensor([[True, True, True, True, False]])
    p = log_sinkhorn(torch.randn(1, 5, 5, generator=torch.Generator().manual_seed(0)) * 0.1, mask, steps=60).exp()
    real = p[0, :4, :4]
    assert torch.allclose(real.sum(-1), torch.ones(4), atol=1e-3)
    assert torch.allclose(real.sum(-2), torch.ones(4), atol=1e-3)
    assert float(torch.diagonal(real).max()) < 1e-6
    assert p[0, 4, 4] == pytest.approx(1.0) and float(p[0, :4, 4].sum() + p[0, 4, :4].sum()) < 1e-6
