"""NTK predictor: closed form vs kernel solve, its variance, and what it does on real programs."""
import numpy as np
import pytest
import torch

from nar.exact import Graph, GraphBatch, run
from nar.exact.ntk import (B, KernelRegression, NTKPredictor, alpha, arccos_kernels, closed_mean,
                           closed_variance, encode, mean_coefficients, required_size, training_set)
from nar.exact.programs.flooding import Flooding
from nar.exact.verification import reference_graphs


def test_alpha_values_of_the_reference_notes():
    got = [round(float(alpha(m) - B), 4) for m in (1, 2, 3, 4, 9, 16, 100)]
    assert got == [0.8408, 0.4837, 0.3726, 0.312, 0.1936, 0.1401, 0.0524]


def test_kernels_on_basis_vectors():
    K, T = arccos_kernels(np.eye(4), np.eye(4))
    assert np.allclose(np.diag(T), 1 / 4) and np.allclose(T[0, 1], B / 4)
    assert np.allclose(np.diag(K), 1 / 8) and np.allclose(K[0, 1], B / 4)


@pytest.mark.parametrize("pad", [0, 9])
def test_closed_form_equals_kernel_solve(pad):
    rng = np.random.default_rng(pad)
    N, k = 37, 15
    Y = (rng.random((N, k)) < 0.2).astype(float)
    X, Yt = np.eye(N + pad), np.vstack([Y, np.zeros((pad, k))])
    reg = KernelRegression(X, Yt)
    M = np.zeros((60, N))
    for r in range(60):
        M[r, rng.choice(N, rng.integers(0, 20), replace=False)] = 1
    E = encode(M, pad)
    mu = closed_mean(M.sum(1), M @ Y, Y.sum(0), N + pad)
    assert np.abs(reg.mean(E) - mu).max() < 1e-9
    assert np.abs(reg.variance(E) - closed_variance(M.sum(1), N + pad)).max() < 1e-9


def test_single_match_interpolates_with_zero_variance():
    a, c = mean_coefficients(np.array([1.0]), 50)
    assert a[0] == 1.0 and c[0] == 0.0
    assert closed_variance(np.array([1.0]), 50)[0] == pytest.approx(0.0, abs=1e-15)
    assert closed_variance(np.array([5.0]), 50)[0] > 0


def test_zero_target_bits_are_never_positive():
    m = np.arange(1, 300)
    _, c = mean_coefficients(m, 100)
    assert np.all(c <= 0)


def test_closed_and_matrix_predictors_agree_on_a_flooding_run():
    f = Flooding(D=2, l=2)
    gs = reference_graphs(np.random.default_rng(0), 6, nodes=(3, 7), max_degree=2)
    prep = f.prepare(gs, 0, [{"message": 3}] * len(gs))
    seen = []
    closed = run(f.compiled, prep.batch, prep.X0, NTKPredictor(), record_at=prep.bounds,
                 observe=lambda t, XT, mu: seen.append(mu.clone()))
    i = 0

    def check(t, XT, mu):
        nonlocal i
        assert torch.allclose(mu.to(torch.float64), seen[i].to(torch.float64), atol=1e-6)
        i += 1

    matrix = run(f.compiled, prep.batch, prep.X0, NTKPredictor(form="matrix"), record_at=prep.bounds,
                 observe=check)
    assert np.array_equal(closed.final, matrix.final) and i == len(seen)
    assert closed.stats.mismatches == 0


def test_required_size_predicts_the_sign_flip():
    """The direct-write star of the paper's collision experiment: ``n`` slots write one bit."""
    for n in (6, 12):
        need = required_size(m_max=n + 2, writers_max=n + 1, safety=1.0)
        a, c = mean_coefficients(np.array([n + 2]), need + 1)
        assert a[0] + c[0] * (n + 1) > 0
        a, c = mean_coefficients(np.array([n + 2]), need - 1)
        assert a[0] + c[0] * (n + 1) <= 0


def _collision_value(n: int, variant: str) -> float:
    f = Flooding(D=n - 1, l=1, slots=n, variant=variant)
    g = Graph(n, np.array([[0, i] for i in range(1, n)]))
    prep = f.prepare([g], 1)
    col = f.program.layout["final_message"].columns()[0]
    vals = []
    run(f.compiled, prep.batch, prep.X0, NTKPredictor(eps=1e-10), steps=150,
        observe=lambda t, XT, mu: vals.append(float(mu[col, 0])))
    return float(np.mean(vals[-3:]))


@pytest.mark.parametrize("n,variant,want", [(3, "collision", 0.256), (20, "collision", 0.0725),
                                            (8, "direct", 0.022), (9, "direct", -0.011)])
def test_collision_experiment_reproduces_the_reference(n, variant, want):
    assert _collision_value(n, variant) == pytest.approx(want, abs=6e-4)


def test_training_set_is_identity_plus_idle_rows():
    f = Flooding(D=2, l=1)
    X, Y = training_set(f.compiled, pad=3)
    assert X.shape == (24, 24) and np.array_equal(X, np.eye(24))
    assert Y[:21].sum() == f.compiled.Y.sum().item() and Y[21:].sum() == 0


def test_predictor_rejects_negative_threshold():
    with pytest.raises(ValueError, match="tau must be >= 0"):
        NTKPredictor(tau=-0.1)


def test_graph_batch_of_one_node():
    f = Flooding(D=1, l=1)
    g = Graph(1, np.zeros((0, 2), dtype=np.int64))
    out, _, _ = f.execute(g, 0, predictor=NTKPredictor())
    assert out[0]["message"].tolist() == [1]
    assert GraphBatch([g]).R == 1


def test_static_safety_bound_covers_verified_runs_and_flags_the_collision_failure():
    from nar.exact.ntk import max_safe_matches
    from nar.exact.verification import verify

    gs = reference_graphs(np.random.default_rng(5), 20, nodes=(4, 7), max_degree=3)
    f = Flooding(D=3, l=1)
    rep = verify(f, gs, NTKPredictor())
    assert rep.passed == 20 and rep.stats.max_matched <= rep.report["ntk_safe_matches"]
    direct = Flooding(D=8, l=1, slots=9, variant="direct")  # fails on the 9-star (11 matches)
    assert max_safe_matches(direct.compiled) < 11
    assert max_safe_matches(direct.compiled, pad=200) >= 11  # idle samples restore the margin
