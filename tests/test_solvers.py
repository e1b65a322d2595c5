"""DEQ solvers and gradients on contractive maps, against plain iteration and unrolled backprop."""
import pytest
import torch

from nar.models.equilibrium import fixed_point, jacobian_penalty
from nar.models.solvers import SolverConfig, solve



@pytest.fixture(autouse=True)
def float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def contractive_map(B=3, N=5, H=4, scale=0.5, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(H, H, generator=g)
    W = (scale * W / torch.linalg.matrix_norm(W, ord=2)).requires_grad_(True)
    U = torch.randn(H, H, generator=g).requires_grad_(True)
    x = torch.randn(B, N, H, generator=g).requires_grad_(True)

    def f(z):
        return torch.tanh(z @ W + x @ U)

    return f, (W, U, x)


def unrolled(f, z0, steps=300):
    z = z0
    for _ in range(steps):
        z = f(z)
    return z


@pytest.mark.parametrize("name", ["fixed_point", "anderson", "broyden"])
def test_solvers_find_the_fixed_point(name):
    f, _ = contractive_map()
    res = solve(f, torch.zeros(3, 5, 4), SolverConfig(name=name, tol=1e-10, stop="abs", max_iter=200))
    assert res.converged.all()
    torch.testing.assert_close(res.z, f(res.z), atol=1e-8, rtol=0)
    torch.testing.assert_close(res.z, unrolled(f, torch.zeros(3, 5, 4)).detach(), atol=1e-8, rtol=0)


def test_anderson_and_broyden_need_fewer_iterations_than_picard():
    f, _ = contractive_map(scale=0.95)
    its = {n: solve(f, torch.zeros(3, 5, 4), SolverConfig(name=n, tol=1e-8, stop="abs", max_iter=500))
           .iterations.max().item() for n in ("fixed_point", "anderson", "broyden")}
    assert its["anderson"] < its["fixed_point"] and its["broyden"] < its["fixed_point"], its


def test_each_graph_is_frozen_at_its_first_iterate_under_tolerance():
    # graph 0 converges at once (f constant), graph 1 slowly
    def f(z):
        out = 0.9 * z + 1.0
        out[0] = 2.0
        return out

    z0 = torch.zeros(2, 3, 1)
    cfg = SolverConfig(name="fixed_point", tol=1e-3, stop="abs", max_iter=500, keep_iterates=True)
    res = solve(f, z0, cfg)
    assert res.iterations[0] == 2 and res.iterations[1] > 50
    assert torch.all(res.z[0] == 2.0)
    # the frozen graph never moves again, and iterates are copies (they differ over time for graph 1)
    assert all(torch.equal(it[0], res.iterates[1][0]) for it in res.iterates[1:])
    assert not torch.equal(res.iterates[2][1], res.iterates[-1][1])
    assert res.converged.all()


def test_padded_nodes_do_not_affect_residual_or_convergence():
    f, _ = contractive_map(B=2, N=4)

    def f_garbage(z):  # padded node 3 of graph 1 would never converge
        out = f(z).clone()
        out[1, 3] = out[1, 3] + 100 * torch.randn_like(out[1, 3])
        return out

    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.bool)
    cfg = SolverConfig(name="anderson", tol=1e-9, stop="abs", max_iter=200)
    res = solve(f_garbage, torch.zeros(2, 4, 4), cfg, mask)
    assert res.converged.all()
    assert torch.all(res.z[1, 3] == 0)
    ref = solve(f, torch.zeros(2, 4, 4), cfg)
    torch.testing.assert_close(res.z[1, :3], ref.z[1, :3], atol=1e-8, rtol=0)


def test_max_iter_reports_unconverged():
    res = solve(lambda z: z + 1.0, torch.zeros(2, 2), SolverConfig(name="fixed_point", max_iter=7, eval_max_iter=9))
    assert not res.converged.any() and torch.all(res.iterations == 7)
    res = solve(lambda z: z + 1.0, torch.zeros(2, 2), SolverConfig(name="fixed_point", max_iter=7, eval_max_iter=9),
                training=False)
    assert torch.all(res.iterations == 9)


@pytest.mark.parametrize("bad", [dict(name="newton"), dict(tol=0), dict(tol=-1), dict(stop="max"),
                                 dict(max_iter=0), dict(memory=0), dict(beta=0)])
def test_config_is_strict(bad):
    with pytest.raises(ValueError):
        SolverConfig(**bad)


def _true_grads(seed):
    f, params = contractive_map(seed=seed)
    z = unrolled(f, torch.zeros(3, 5, 4), steps=400)
    loss = (z ** 2).sum() + z[:, 0].sum()
    return torch.autograd.grad(loss, params)


@pytest.mark.parametrize("name", ["anderson", "fixed_point", "broyden"])
def test_implicit_gradient_matches_unrolled_backprop(name):
    true = _true_grads(1)
    f, params = contractive_map(seed=1)
    z, _ = fixed_point(f, torch.zeros(3, 5, 4), SolverConfig(name=name, tol=1e-12, stop="abs", max_iter=300),
                       grad="implicit")
    loss = (z ** 2).sum() + z[:, 0].sum()
    got = torch.autograd.grad(loss, params)
    for a, b in zip(got, true):
        rel = ((a - b).norm() / b.norm()).item()
        assert rel < 1e-5, rel


def test_phantom_gradient_approaches_the_true_one_with_more_steps():
    true = _true_grads(2)
    errs = []
    for k in (1, 5, 20):
        f, params = contractive_map(seed=2)
        z, _ = fixed_point(f, torch.zeros(3, 5, 4), SolverConfig(tol=1e-12, stop="abs", max_iter=300),
                           grad="phantom", phantom_steps=k)
        loss = (z ** 2).sum() + z[:, 0].sum()
        got = torch.autograd.grad(loss, params)
        errs.append(max(((a - b).norm() / b.norm()).item() for a, b in zip(got, true)))
    assert errs[0] > 1e-2  # one step is a rough approximation on a 0.5-contractive map
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-4, errs


def test_jacobian_penalty_matches_exact_frobenius_norm():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(6, 6, generator=g)

    def f(z):
        return z @ A.T  # J = A (per row), ||J||_F^2 per entry = ||A||_F^2 / 6

    z = torch.randn(4000, 6, generator=g)
    est = jacobian_penalty(f, z, generator=g)
    exact = (A ** 2).sum() / 6
    assert abs(est.item() - exact.item()) / exact.item() < 0.05


def test_anderson_iterates_are_copies_beyond_its_memory():
    # the reference solver returned views into its m-slot buffer: after m iterations the kept
    # trajectory repeated itself.  Here every kept iterate is the state f was evaluated at.
    f, _ = contractive_map(scale=0.9)
    seen = []

    def spy(z):
        seen.append(z.clone())
        return f(z)

    cfg = SolverConfig(name="anderson", memory=2, tol=1e-12, stop="abs", max_iter=9, keep_iterates=True)
    res = solve(spy, torch.zeros(3, 5, 4), cfg)
    assert len(res.iterates) == 9
    for kept, evaluated in zip(res.iterates, seen):
        torch.testing.assert_close(kept, evaluated, atol=0, rtol=0)
    assert all(not torch.equal(res.iterates[i], res.iterates[i + 2]) for i in range(7))


def test_unconverged_graph_returns_its_lowest_residual_iterate():
    def f(z):  # Picard diverges: residuals 1, 2, 4, ... from z = 0, so the first iterate is the best
        return 2 * z + 1

    res = solve(f, torch.zeros(2, 1), SolverConfig(name="fixed_point", tol=1e-6, stop="abs", max_iter=6))
    assert not res.converged.any() and torch.all(res.iterations == 6)
    assert torch.all(res.z == 0) and torch.allclose(res.residual, torch.ones(2))


def test_non_finite_residual_stops_that_graph_only():
    def f(z):
        out = 0.5 * z + 1.0
        out[1] = out[1] * float("inf")
        return out

    res = solve(f, torch.zeros(2, 3), SolverConfig(name="anderson", tol=1e-8, stop="abs", max_iter=80))
    assert res.converged.tolist() == [True, False]
    assert res.iterations[1] == 1 and torch.isfinite(res.z).all()
    torch.testing.assert_close(res.z[0], torch.full((3,), 2.0), atol=1e-7, rtol=0)


def test_graphs_that_are_done_are_not_evaluated_again_when_f_can_select():
    f, _ = contractive_map(B=3)
    scale = torch.tensor([0.0, 1.0, 1.0])  # graph 0 converges at once

    class Selectable:
        def __init__(self, rows=None):
            self.rows = rows

        def __call__(self, z):
            rows = torch.arange(3) if self.rows is None else self.rows
            log.append(rows.tolist())
            return f_rows(z, rows)

        def select(self, rows):
            return Selectable(rows)

    def f_rows(z, rows):
        full = torch.zeros(3, 5, 4)
        full[rows] = z
        return (f(full) * scale[:, None, None])[rows]

    log = []
    cfg = SolverConfig(name="anderson", tol=1e-10, stop="abs", max_iter=100)
    res = solve(Selectable(), torch.zeros(3, 5, 4), cfg)
    plain = solve(lambda z: f(z) * scale[:, None, None], torch.zeros(3, 5, 4), cfg)
    assert log[0] == [0, 1, 2] and len(log) > 5 and all(0 not in rows for rows in log[1:])
    torch.testing.assert_close(res.z, plain.z, atol=1e-12, rtol=0)
    assert torch.equal(res.iterations, plain.iterations)
