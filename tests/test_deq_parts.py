"""DEAR's optional parts: the ordered alignment to a step-wise reasoner, and Cayley graph propagation."""
import itertools

import numpy as np
import pytest
import torch

import nar
from nar.data import collate
from nar.models import Reasoner
from nar.models.alignment import alignment_loss, ordered_matching, sample_iterates, teacher_latents
from nar.models.cgp import CayleyAugment, cayley_graph, prime_for, sl2_order
from nar.models.deq import DEQReasoner


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# -- alignment -------------------------------------------------------------------------------------
def test_ordered_matching_is_the_brute_force_optimum():
    g = torch.Generator().manual_seed(0)
    cost = torch.rand(6, 3, 7, generator=g)
    steps = torch.tensor([7, 3, 5, 6, 4, 7])
    idx = ordered_matching(cost, steps)
    for b in range(6):
        best = min(itertools.combinations(range(int(steps[b])), 3),
                   key=lambda c: sum(float(cost[b, j, i]) for j, i in enumerate(c)))
        got = idx[b].tolist()
        assert got == sorted(set(got)) and got[-1] < steps[b]  # strictly increasing, allowed columns
        assert sum(float(cost[b, j, i]) for j, i in enumerate(got)) == pytest.approx(
            sum(float(cost[b, j, i]) for j, i in enumerate(best)))
    with pytest.raises(ValueError):
        ordered_matching(cost, torch.tensor([2, 7, 7, 7, 7, 7]))


def test_alignment_loss_is_zero_on_the_teacher_trajectory_and_grows_away_from_it():
    g = torch.Generator().manual_seed(0)
    teacher = torch.randn(2, 6, 4, 3, generator=g)  # [B, S, N, H]
    steps = torch.tensor([6, 5])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.bool)
    picked = torch.tensor([[0, 2, 4], [1, 2, 3]])
    sampled = teacher[torch.arange(2)[:, None], picked]
    final = teacher[torch.arange(2), steps - 1]
    loss, idx = alignment_loss(sampled, final, teacher, steps, mask)
    assert torch.equal(idx, picked) and torch.allclose(loss, torch.zeros(2), atol=1e-6)
    moved = sampled.clone().requires_grad_(True)
    loss2, _ = alignment_loss(moved + 0.3, final, teacher, steps, mask)
    assert (loss2 > 0.1).all()
    loss2.sum().backward()
    assert moved.grad.abs().sum() > 0


def test_sample_iterates_are_sorted_and_inside_each_graphs_trajectory():
    its = torch.tensor([9, 4, 12])
    idx = sample_iterates(its, 5, torch.Generator().manual_seed(0))
    assert idx.shape == (3, 3)  # capped by the shortest trajectory (4 iterates, the last is the fixed point)
    assert (idx[:, 1:] > idx[:, :-1]).all() and (idx < (its - 1)[:, None]).all()
    assert sample_iterates(torch.tensor([1, 5]), 4).shape == (2, 0)


def test_teacher_latents_are_its_processor_outputs_per_step():
    b = collate(nar.sample("bfs", n=5, count=3, seed=5))  # lengths 3, 2, 3
    teacher = Reasoner("bfs", "mpnn", 8)
    latents, steps = teacher_latents(teacher, b)
    assert latents.shape == (3, b.max_length - 1, 5, 8)
    assert torch.equal(steps, (b.lengths - 1).clamp_min(1))
    assert not torch.equal(latents[:, 0], latents[:, -1])


def test_alignment_adds_a_weighted_term_that_training_on_it_lowers():
    torch.manual_seed(0)
    b = collate(nar.sample("bfs", n=6, count=4, seed=3))  # lengths 4, 1, 3, 3
    teacher = Reasoner("bfs", "mpnn", 16)
    model = DEQReasoner("bfs", "mpnn", 16, config=dict(align_weight=0.25, solver="fixed_point", tol=1e-6,
                                                       max_iter=8), teacher=teacher)
    assert not any(p.requires_grad for p in teacher.parameters())
    assert all(not n.startswith("_teacher") for n, _ in model.named_parameters())  # not trained, not saved
    gen = lambda: torch.Generator().manual_seed(1)  # noqa: E731
    losses = model.loss(model(b, generator=gen()), b)
    assert losses["align"] > 0
    assert float(losses["total"].detach()) == pytest.approx(float((losses["output"] + 0.25 * losses["align"]).detach()),
                                                            rel=1e-6)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = float(losses["align"].detach())
    for _ in range(8):
        opt.zero_grad()
        model.loss(model(b, generator=gen()), b)["align"].backward()
        opt.step()
    assert float(model.loss(model(b, generator=gen()), b)["align"].detach()) < 0.9 * first
    model.eval()
    with torch.no_grad():
        assert "align" not in model(b).aux  # a training-time term only


# -- CGP -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p,degree", [(2, 2), (3, 4), (5, 4)])
def test_cayley_graph_of_sl2(p, degree):
    adj = cayley_graph(p)
    c = sl2_order(p)
    assert adj.shape == (c, c) and c == {2: 6, 3: 24, 5: 120}[p]
    assert (adj == adj.T).all() and not adj.diagonal().any() and (adj.sum(1) == degree).all()
    reach = np.eye(c, dtype=bool)[0]  # connected, and the first k nodes (BFS order) form a connected ball
    for _ in range(c):
        reach = reach | adj[reach].any(0)
    assert reach.all()
    assert adj[:5, :5].any(0)[1:].all()


def test_prime_choice():
    assert [prime_for(n) for n in (1, 6, 7, 16, 24, 64, 120, 121, 256)] == [2, 2, 3, 3, 3, 5, 5, 7, 7]


def test_cgp_layout_is_per_graph():
    mask = torch.tensor([[1] * 5 + [0] * 2, [1] * 7], dtype=torch.bool)
    ext, cay = CayleyAugment(4).layout(mask)
    assert ext.shape == (2, 24) and ext[0].sum() == 6 and ext[1].sum() == 24
    assert not cay[0, 6:].any() and cay[1].sum() == 24 * 4


def test_cgp_carries_information_between_disconnected_nodes():
    """With PGN (messages only along the input graph), node 0 of a graph without edges cannot hear
    node 3; with the Cayley graph beside it, it can, and the loss changes."""
    adj = np.zeros((5, 5), dtype=np.float32)
    others = [0, 1, 2, 4]  # logits of node 0 pointing at nodes other than 3 (those read h_3 directly)

    def run(cgp, pos3):
        t = nar.execute("bfs", A=adj, s=0)
        t.inputs["pos"] = t.inputs["pos"].copy()
        t.inputs["pos"][3] = pos3
        b = collate([t])
        torch.manual_seed(0)
        # fixed-point iteration for a fixed number of steps: every node's update is local
        m = DEQReasoner("bfs", "pgn", 16, config=dict(solver="fixed_point", tol=1e-12, max_iter=6,
                                                      eval_max_iter=6, cgp=cgp)).eval()
        with torch.no_grad():
            out = m(b)
            return out.outputs["pi"][0, 0, others], m.loss(out, b)["total"]

    plain_a, loss_plain = run(False, 0.6)
    plain_b, _ = run(False, 0.9)
    cgp_a, loss_cgp = run(True, 0.6)
    cgp_b, _ = run(True, 0.9)
    assert torch.equal(plain_a, plain_b)
    assert not torch.allclose(cgp_a, cgp_b, atol=1e-6)
    assert not torch.isclose(loss_plain, loss_cgp)
