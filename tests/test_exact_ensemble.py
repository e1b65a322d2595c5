"""MLP ensembles (NTK parameterisation, batched training) and the experiment helpers."""
import numpy as np
import pytest
import torch

from nar.exact.ensemble import EnsemblePredictor, MLPEnsemble, train_for
from nar.exact.experiments import (collect_inputs, ensemble_bounds, ensemble_curve, flooding_cases,
                                   labelled_trees)
from nar.exact.ntk import closed_mean, closed_variance, encode
from nar.exact.programs.flooding import Flooding
from nar.exact.verification import reference_graphs, verify


@pytest.fixture(scope="module")
def flood_d2():
    return Flooding(D=2, l=1, slots=3)


@pytest.fixture(scope="module")
def trained(flood_d2):
    return train_for(flood_d2.compiled, width=512, members=128, seed=0, steps=300, tol=1e-5)


def test_training_interpolates_the_templates(trained, flood_d2):
    assert trained.log.max_residual < 1e-4
    out = trained.mean(np.eye(flood_d2.compiled.N)).numpy()
    assert np.abs(out - flood_d2.compiled.Y.numpy()).max() < 1e-4


def test_ensemble_mean_is_close_to_the_ntk_mean(trained, flood_d2):
    """At width 512 the member outputs spread like the NTK-GP posterior: z-scores of the
    ensemble mean around the NTK mean have an RMS near 1 (not 10)."""
    C = flood_d2.compiled
    rng = np.random.default_rng(1)
    M = np.zeros((60, C.N))
    for r in range(60):
        M[r, rng.choice(C.N, rng.integers(2, 8), replace=False)] = 1
    mu = closed_mean(M.sum(1), M @ C.Y.numpy(), C.writers, C.N)
    var = closed_variance(M.sum(1), C.N)[:, None]
    z = (trained.mean(encode(M)).numpy() - mu) / np.sqrt(var / trained.M)
    assert 0.5 < np.sqrt((z ** 2).mean()) < 2.0


def test_prefix_means_match_direct_means(trained):
    E = encode(np.eye(13)[:5] + np.eye(13)[5:10])
    pm = trained.prefix_means(E, [1, 10, 128], chunk=48)
    assert torch.allclose(pm[128], trained.mean(E), atol=1e-5)
    assert torch.allclose(pm[10], trained.member_outputs(E, 0, 10).mean(0), atol=1e-5)


def test_members_differ_only_by_initialisation():
    a = MLPEnsemble(5, 3, width=16, members=4, seed=3)
    b = MLPEnsemble(5, 3, width=16, members=4, seed=3)
    assert torch.equal(a.W1, b.W1) and not torch.equal(a.W1[0], a.W1[1])
    with pytest.raises(ValueError, match="targets must be"):
        a.fit_identity(np.zeros((4, 3)))


def test_labelled_tree_counts():
    assert len(labelled_trees(7, 2)) == 2520
    assert len(labelled_trees(5, 2)) == 60 and len(labelled_trees(5, 4)) == 5


def test_ensemble_executes_flooding_on_all_trees(trained, flood_d2):
    """The GNN of Equation 2 with the trained ensemble (mid-gap threshold) runs flooding on every
    labelled tree with 6 nodes and maximum degree 2 exactly, end to end."""
    trees = labelled_trees(6, 2)
    inp = collect_inputs(flood_d2, trees, 0)
    tau = inp.midgap()
    assert inp.case_accuracy(inp.mu > 1e-9) == 1.0  # the NTK itself
    curve = ensemble_curve(trained, inp, [1, 128], {"midgap": tau})["midgap"]
    assert curve[-1][1] == 1.0
    rep = verify(flood_d2, trees, EnsemblePredictor(trained, tau=tau))
    assert rep.passed == len(trees) and rep.stats.mismatches == 0


def test_case_accuracy_counts_a_bad_input_against_all_its_cases():
    gs, ins = flooding_cases(reference_graphs(np.random.default_rng(0), 5, (3, 5), 2), l=1)
    inp = collect_inputs(Flooding(D=2, l=1), gs, 0, ins)
    out = inp.targets.copy()
    assert inp.case_accuracy(out) == 1.0
    used_by_all = np.bincount(inp.uses[0], minlength=len(out)).argmax()
    out[used_by_all, 0] = ~out[used_by_all, 0]
    hit = np.unique(inp.uses[1][inp.uses[0] == used_by_all]).size
    assert inp.case_accuracy(out) == pytest.approx(1 - hit / inp.cases)


def test_bounds_reproduce_the_reference():
    rows = {r["D"]: r for r in ensemble_bounds([1, 2, 4])}
    assert rows[1]["rho"] == pytest.approx(65.33, abs=0.01) and rows[1]["num"] == pytest.approx(6644, rel=1e-3)
    assert rows[2]["thr"] == pytest.approx(3744, rel=1e-3) and rows[4]["rho"] == pytest.approx(225.25, abs=0.01)


def test_train_cached_resumes_and_grows(tmp_path, flood_d2):
    """Checkpointed training: a budget-stopped run keeps its finished chunks, a resumed run trains
    only the rest and equals an uninterrupted run; a checkpoint for another task is refused."""
    from nar import InputError
    from nar.exact.ensemble import BLOCK, train_cached

    C, path = flood_d2.compiled, tmp_path / "ens.pt"
    kw = {"width": 16, "steps": 60, "tol": 1e-3}
    part, info = train_cached(C, path, members=2 * BLOCK + 3, max_seconds=0.0, **kw)
    assert info["trained"] == BLOCK and part.M == BLOCK and info["resumed_from"] == 0
    full, info = train_cached(C, path, members=2 * BLOCK + 3, **kw)
    assert info["resumed_from"] == BLOCK and info["trained"] == full.M == 2 * BLOCK + 3
    direct = train_for(C, members=2 * BLOCK + 3, **kw)
    assert torch.equal(full.W1, direct.W1) and torch.equal(full.W2, direct.W2)
    again, info = train_cached(C, path, members=BLOCK, **kw)  # a prefix: nothing to train
    assert info["resumed_from"] == BLOCK and torch.equal(again.W1, direct.W1[:BLOCK])
    with pytest.raises(InputError, match="different training run"):
        train_cached(C, path, members=4, width=32, steps=60, tol=1e-3)
    with pytest.raises(InputError, match="different training run"):
        train_cached(Flooding(D=3, l=1).compiled, path, members=4, **kw)
