"""DEQReasoner (DEAR): strict config, no step count, per-graph solving, gradients, diagnostics, scoring."""
import math

import pytest
import torch

import nar
from nar.data import collate
from nar.models import Reasoner, evaluate
from nar.models.deq import DEQConfig, DEQPrediction, DEQReasoner, evaluate_deq


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def crop(t, like):
    return t[tuple(slice(0, s) for s in like.shape)]


def contract(model, factor=0.05):
    """Shrink the processor's weights on the state: the step becomes a contraction (untrained models
    need not converge, and a chaotic iteration amplifies float rounding)."""
    h = model.hidden
    with torch.no_grad():
        for name in ("m1", "m2", "o1"):
            getattr(model.processor, name).weight[:, h:] *= factor
    return model


@pytest.mark.parametrize("bad", [dict(solver="newton"), dict(tol=0.0), dict(tol=-1e-3), dict(stop="max"),
                                 dict(grad="exact"), dict(max_iter=0), dict(phantom_steps=0),
                                 dict(align_weight=-1.0), dict(cgp="yes"), dict(backward_tol=0.0)])
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        DEQConfig(**bad)


def test_config_rejects_unknown_keys_and_names_the_valid_ones():
    with pytest.raises(ValueError, match="stop_mode.*valid keys"):
        DEQConfig.from_dict({"stop_mode": "rel"})  # torchdeq's spelling: an error here, not ignored
    with pytest.raises(ValueError):
        DEQReasoner("bfs", "mpnn", 8, config={"solvers": ["anderson"]})
    assert DEQConfig.from_dict({"solver": "broyden"}).solver_config().name == "broyden"


def test_no_hints_and_no_step_count():
    model = DEQReasoner("bfs", "mpnn", 8, config=dict(max_iter=10, eval_max_iter=10))
    assert not any(k in model.spec("bfs").hints for k in model.heads["bfs"].encoders)
    assert set(model.heads["bfs"].decoders) == set(model.spec("bfs").outputs)
    b = collate(nar.sample("bfs", n=5, count=2, seed=0))
    with pytest.raises(ValueError, match="no step count"):
        model(b, steps=3)
    # the ground-truth lengths are not used: changing them changes nothing
    b2 = collate(nar.sample("bfs", n=5, count=2, seed=0))
    b2.lengths = b2.lengths * 0 + 1
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(b).outputs["pi"], model(b2).outputs["pi"])


@pytest.mark.parametrize("alg,proc,cgp", [("bfs", "mpnn", False), ("insertion_sort", "triplet_mpnn", False),
                                          ("dag_shortest_paths", "pgn", True)])
def test_padded_batch_gives_the_same_fixed_point_and_predictions(alg, proc, cgp):
    torch.manual_seed(0)
    small = nar.sample(alg, n=5, count=2, seed=1)
    big = nar.sample(alg, n=7, count=2, seed=2)
    model = contract(DEQReasoner(alg, proc, 16, config=dict(tol=1e-4, cgp=cgp))).eval()
    with torch.no_grad():
        alone, padded = model(collate(small)), model(collate(small + big))
    assert alone.converged.all()
    assert torch.equal(alone.iterations, padded.iterations[:2])  # each graph converges on its own
    for k, v in alone.outputs.items():
        w = crop(padded.outputs[k][:2], v)
        real = v.abs() < 1e8
        assert torch.allclose(v[real], w[real], atol=1e-4), k


def test_training_step_reaches_encoders_processor_and_decoders():
    b = collate(nar.sample("bellman_ford", n=5, count=3, seed=0))
    model = DEQReasoner("bellman_ford", "mpnn", 16)
    out = model(b)
    losses = model.loss(out, b)
    assert set(losses) >= {"total", "output", "output/pi"} and "jacobian" not in losses
    losses["total"].backward()
    for part in (model.processor, model.heads["bellman_ford"].encoders, model.heads["bellman_ford"].decoders):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
    assert out.iterations.shape == (3,) and out.residual.shape == (3,) and out.converged.dtype == torch.bool


def test_diagnostics_and_scoring():
    torch.manual_seed(0)
    b = collate(nar.sample("bfs", n=6, count=3, seed=0))
    model = DEQReasoner("bfs", "mpnn", 16, config=dict(tol=1e-3, max_iter=2, eval_max_iter=50))
    pred = model.predict(b, with_hints=True)
    assert isinstance(pred, DEQPrediction) and pred.hints == {}
    assert (pred.iterations <= 50).all() and (pred.iterations > 2).any()  # eval budget, not training's
    conv = pred.converged
    assert (pred.residual[conv] < 1e-3).all() and (pred.residual[~conv] >= 1e-3).all()
    scores, summary = evaluate_deq(model, [b, b])
    assert scores.score == evaluate(model, b).score and 0 <= scores.score <= 1
    assert summary.iterations.shape == (6,) and torch.equal(summary.applications, summary.iterations + 1)
    assert set(summary.as_dict()) >= {"iterations/mean", "residual/max", "converged"}


def test_implicit_gradient_matches_many_step_phantom_on_a_contractive_processor():
    b = collate(nar.sample("bellman_ford", n=5, count=3, seed=0))

    def grads(**cfg):
        torch.manual_seed(0)
        m = DEQReasoner("bellman_ford", "mpnn", 16, config=dict(tol=1e-6, stop="abs", max_iter=60, **cfg))
        contract(m)
        loss = m.loss(m(b), b)["total"]
        g = torch.autograd.grad(loss, list(m.parameters()), allow_unused=True)
        return torch.cat([x.flatten() for x in g if x is not None])

    implicit = grads(grad="implicit", backward_tol=1e-8, backward_max_iter=60)
    unrolled = grads(grad="phantom", phantom_steps=25)
    one_step = grads(grad="phantom", phantom_steps=1)
    assert ((implicit - unrolled).norm() / unrolled.norm()).item() < 1e-4
    assert ((one_step - unrolled).norm() / unrolled.norm()).item() > 1e-3


def test_jacobian_penalty_is_added_with_its_weight():
    b = collate(nar.sample("bfs", n=5, count=2, seed=0))
    torch.manual_seed(0)
    model = DEQReasoner("bfs", "mpnn", 8, config=dict(jacobian_weight=0.5))
    losses = model.loss(model(b, generator=torch.Generator().manual_seed(0)), b)
    assert losses["jacobian"] > 0
    assert math.isclose(float(losses["total"].detach()), float((losses["output"] + 0.5 * losses["jacobian"]).detach()), rel_tol=1e-6)
    losses["jacobian"].backward()  # differentiable w.r.t. the processor
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.processor.parameters())


def test_a_step_wise_teacher_must_match_the_width():
    with pytest.raises(ValueError, match="hidden"):
        DEQReasoner("bfs", "mpnn", 8, teacher=Reasoner("bfs", "mpnn", 16))
    model = DEQReasoner("bfs", "mpnn", 8, config=dict(align_weight=0.1))
    with pytest.raises(ValueError, match="teacher"):
        model(collate(nar.sample("bfs", n=5, count=2, seed=0)))


def test_the_trainer_builds_a_deq_model_with_strict_options():
    from nar.train import TrainConfig, build_model
    from nar.validation import InputError

    cfg = TrainConfig(algorithms=["bfs"], model="deq", processor="mpnn", hidden=8,
                      model_options={"solver": "broyden", "tol": 0.05})
    model = build_model(cfg)
    assert isinstance(model, DEQReasoner) and model.config.solver == "broyden" and model.config.tol == 0.05
    with pytest.raises(InputError, match="stop_mode"):
        TrainConfig(algorithms=["bfs"], model="deq", model_options={"stop_mode": "rel"})
    with pytest.raises(InputError, match="tol"):
        build_model(cfg.replace(model_options={"tol": -1}))
    with pytest.raises(InputError, match="teacher"):
        build_model(cfg.replace(model_options={"align_weight": 0.1}))
    with pytest.raises(InputError, match="termination"):
        build_model(cfg.replace(step_count="learned"))


def test_the_trainer_loads_a_teacher_run_lazily(tmp_path):
    # the teacher option is a run directory; the trainer (not nar.models) knows how to load it
    from nar.train import TrainConfig, build_model, train

    teacher_cfg = TrainConfig(algorithms=["bfs"], processor="mpnn", hidden=8, steps=1, eval_every=1,
                              checkpoint_every=1, val_count=2, test_count=2, device="cpu")
    train(teacher_cfg, tmp_path / "teacher", progress=False)
    cfg = TrainConfig(algorithms=["bfs"], model="deq", processor="mpnn", hidden=8,
                      model_options={"align_weight": 0.1, "teacher": str(tmp_path / "teacher")})
    model = build_model(cfg)
    assert not model._teacher  # nothing loaded until the alignment loss needs it
    teacher = model.teacher
    assert isinstance(teacher, Reasoner) and teacher.hidden == 8
    assert not any(p.requires_grad for p in teacher.parameters())
    with pytest.raises(TypeError, match="Reasoner or a function"):
        model.set_teacher("a/run/directory")
