"""Training: strict config, checkpoints, exact resume, NaN stop, eval/report commands, inference."""
import json

import numpy as np
import pytest
import torch

import nar
from nar.cli import main
from nar.train import (CheckpointError, ConfigError, TrainConfig, Trainer, TrainingDiverged, load, train)
from nar.train import checkpoint as ck
from nar.types import check_value

TINY = dict(hidden=16, batch_size=4, train_sizes=[4, 5], val_count=4, test_count=4, test_n=8, eval_batch_size=4,
            eval_every=2, checkpoint_every=2, log_every=1, threads=1, device="cpu", seed=3)


def tiny(**kw) -> TrainConfig:
    return TrainConfig(**{**TINY, **kw})


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("run") / "bfs"
    res = train(tiny(steps=4), d, progress=False)
    return d, res


def weights(path) -> dict:
    tensors, _ = ck.read_safetensors(ck.resolve(path, which="last") / ck.WEIGHTS)
    return tensors


# ---------------------------------------------------------------------------------------------- config
def test_config_defaults_follow_clrs_baseline():
    c = TrainConfig()
    assert (c.processor, c.hidden, c.batch_size, c.lr, c.grad_clip, c.steps) == ("triplet_gmpnn", 128, 32, 1e-3, 1.0, 10000)
    assert c.train_sizes == [4, 7, 11, 13, 16] and c.step_count == "truth" and c.model == "reasoner"


def test_config_unknown_key_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key.*'lrr'"):
        TrainConfig.from_dict({"lrr": 0.1})
    with pytest.raises(ConfigError, match="unknown config key 'batchsize'"):
        TrainConfig().with_overrides(["batchsize=3"])
    f = tmp_path / "c.yaml"
    f.write_text("steps: 5\nwarmup: 10\n")
    with pytest.raises(ConfigError, match="warmup"):
        TrainConfig.load(f)


def test_config_overrides_are_typed(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"steps": 7, "lr": 0.01, "algorithms": ["dfs"]}))
    c = TrainConfig.load(f, ["lr=3e-4", "use_ln=false", "train_sizes=4,8", "time_limit=none", "algorithms=bfs,dfs"])
    assert (c.steps, c.lr, c.use_ln, c.train_sizes, c.time_limit) == (7, 3e-4, False, [4, 8], None)
    assert c.algorithms == ["bfs", "dfs"]
    assert TrainConfig.load(None, ["algorithms=all"]).algorithms == nar.list_algorithms()
    y = tmp_path / "c.yml"
    y.write_text("processor: mpnn\nhidden: 32\n")
    assert (TrainConfig.load(y).processor, TrainConfig.load(y).hidden) == ("mpnn", 32)
    for bad, what in (["steps=abc"], "integer"), (["use_ln=maybe"], "true or false"), (["lr=-1"], "lr must be"):
        with pytest.raises(ConfigError, match=what):
            TrainConfig().with_overrides(bad)


def test_config_unknown_names_are_errors():
    with pytest.raises(ConfigError, match="processor must be one of .*triplet_gmpnn"):
        TrainConfig(processor="transformer9")
    with pytest.raises(ConfigError, match="unknown algorithm.*bogo_sort"):
        TrainConfig(algorithms=["bfs", "bogo_sort"])
    with pytest.raises(nar.InputError, match="unknown model_options.*solver"):
        TrainConfig().with_overrides(["model_options.solver=anderson"])
    with pytest.raises(ConfigError, match="model must be one of"):
        TrainConfig(model="transformer")


def test_config_save_load_round_trip(tmp_path):
    c = tiny(algorithms=["bfs", "dfs"], step_count="learned")
    c.save(tmp_path / "c.json")
    assert TrainConfig.load(tmp_path / "c.json") == c


# ---------------------------------------------------------------------------------------------- checkpoints
def test_safetensors_format_is_readable_by_the_library(tmp_path):
    st = pytest.importorskip("safetensors.torch")
    tensors = {"a": torch.randn(3, 4), "b": torch.arange(5), "c": torch.tensor(2.5), "d": torch.zeros(0, 2),
               "m": torch.tensor([True, False])}
    (tmp_path / "x.safetensors").write_bytes(ck.safetensors_bytes(tensors, {"k": "v"}))
    theirs = st.load_file(tmp_path / "x.safetensors")
    assert set(theirs) == set(tensors) and all(torch.equal(theirs[k], tensors[k]) for k in tensors)
    st.save_file(tensors, tmp_path / "y.safetensors", metadata={"k": "v"})
    ours, meta = ck.read_safetensors(tmp_path / "y.safetensors")
    assert meta == {"k": "v"} and all(torch.equal(ours[k], tensors[k]) for k in tensors)


def test_run_writes_checkpoints_logs_and_results(run_dir):
    d, res = run_dir
    assert res["steps_done"] == 4 and res["step_count"] == "truth"
    assert res["test"]["bfs"]["n"] == 8 and res["test"]["bfs"]["step_count"] == "truth"
    assert 0.0 <= res["test"]["bfs"]["score"] <= 1.0 and "pi_h" in res["test"]["bfs"]["hints"]
    assert json.loads((d / "results.json").read_text())["test_mean"] == res["test_mean"]
    last, best = ck.pointer(d, "last"), ck.pointer(d, "best")
    assert last.name == "last-00000004" and best.name == f"best-{res['best_step']:08d}"
    assert {p.name for p in last.iterdir()} == {ck.WEIGHTS, ck.META, ck.OPTIMIZER, ck.STATE}
    assert sorted(p.name for p in (d / "checkpoints").iterdir() if p.is_dir()) == sorted({last.name, best.name})
    rows = (d / "train.csv").read_text().splitlines()
    assert rows[0].startswith("step,algorithm,loss") and len(rows) == 5
    assert "val,bfs,truth,score" in (d / "eval.csv").read_text()


def test_load_restores_the_best_weights(run_dir):
    d, res = run_dir
    model = load(d)
    own = {k: v for k, v in model.model.state_dict().items()}
    saved, _ = ck.read_safetensors(ck.pointer(d, "best") / ck.WEIGHTS)
    assert set(own) == set(saved) and all(torch.equal(own[k], saved[k]) for k in own)
    assert model.step_count == "truth" and model.algorithms == ["bfs"]


def test_corrupted_or_foreign_checkpoints_are_clear_errors(run_dir, tmp_path):
    d, _ = run_dir
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(ck.pointer(d, "best"), copy)
    raw = bytearray((copy / ck.WEIGHTS).read_bytes())
    raw[-3] ^= 0xFF
    (copy / ck.WEIGHTS).write_bytes(raw)
    with pytest.raises(CheckpointError, match="hash does not match"):
        load(copy)
    (copy / ck.WEIGHTS).write_bytes(b"garbage")
    with pytest.raises(CheckpointError):
        ck.read_safetensors(copy / ck.WEIGHTS)
    (copy / ck.META).write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupted"):
        load(copy)
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        load(tmp_path)
    from nar.models import Reasoner

    other = Reasoner("dfs", processor="mpnn", hidden=16)
    with pytest.raises(CheckpointError, match="another model"):
        ck.load_weights(ck.pointer(d, "best"), other)


# ---------------------------------------------------------------------------------------------- resume
class _Killed(Exception):
    pass


class KillAt(Trainer):
    """Dies (like a SIGKILL'd process would, minus the process) when about to run step ``at``."""

    def __init__(self, *a, at: int, **kw):
        super().__init__(*a, **kw)
        self.at, self.calls = at, 0

    def compute_loss(self, model, batch, generator):
        if self.calls == self.at:
            raise _Killed()
        self.calls += 1
        return super().compute_loss(model, batch, generator)


def test_resumed_run_matches_uninterrupted_run_exactly(tmp_path):
    cfg = tiny(steps=6, checkpoint_every=2, eval_every=3, teacher_forcing=0.5)
    straight = train(cfg, tmp_path / "a", progress=False)
    with pytest.raises(_Killed):  # killed during step 6 (index 5): the last checkpoint is at step 4
        KillAt(cfg, tmp_path / "b", at=5, progress=False).run()
    assert ck.pointer(tmp_path / "b", "last").name == "last-00000004"
    resumed = train(cfg, tmp_path / "b", resume=True, progress=False)
    wa, wb = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert set(wa) == set(wb) and all(torch.equal(wa[k], wb[k]) for k in wa)
    oa, _ = ck.read_safetensors(ck.pointer(tmp_path / "a", "last") / ck.OPTIMIZER)
    ob, _ = ck.read_safetensors(ck.pointer(tmp_path / "b", "last") / ck.OPTIMIZER)
    assert set(oa) == set(ob) and any(k.endswith("exp_avg_sq") for k in oa)
    assert all(torch.equal(oa[k], ob[k]) for k in oa)
    assert (straight["best_val"], straight["best_step"], straight["test_mean"]) == \
        (resumed["best_val"], resumed["best_step"], resumed["test_mean"])
    assert (tmp_path / "a" / "train.csv").read_text().count("\n") == (tmp_path / "b" / "train.csv").read_text().count("\n")


def test_half_then_resume_equals_straight(tmp_path):
    cfg = tiny(steps=4, checkpoint_every=2)
    train(cfg, tmp_path / "a", progress=False)
    train(cfg.replace(steps=2), tmp_path / "b", progress=False)
    train(cfg, tmp_path / "b", resume=True, progress=False)
    wa, wb = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_resume_refuses_a_changed_config_and_a_fresh_run_refuses_an_old_dir(tmp_path):
    cfg = tiny(steps=2)
    train(cfg, tmp_path / "r", progress=False)
    with pytest.raises(ConfigError, match="already holds a training run"):
        train(cfg, tmp_path / "r", progress=False)
    with pytest.raises(ConfigError, match="hidden=16 .now 32"):
        train(cfg.replace(hidden=32), tmp_path / "r", resume=True, progress=False)


# ---------------------------------------------------------------------------------------------- NaN
class NaNAt(Trainer):
    def __init__(self, *a, at: int, **kw):
        super().__init__(*a, **kw)
        self.at, self.calls = at, 0

    def compute_loss(self, model, batch, generator):
        losses = super().compute_loss(model, batch, generator)
        self.calls += 1
        if self.calls == self.at:
            losses["total"] = losses["total"] * float("nan")
        return losses


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    cfg = tiny(steps=6, checkpoint_every=2, eval_every=2)
    with pytest.raises(TrainingDiverged, match=r"diverged at step 4 .*last good checkpoint is .*last-00000002"):
        NaNAt(cfg, tmp_path / "r", at=4, progress=False).run()
    last = ck.pointer(tmp_path / "r", "last")
    assert last.name == "last-00000002"
    assert all(torch.isfinite(t).all() for t in weights(tmp_path / "r").values())
    assert not (tmp_path / "r" / "results.json").exists()


# ---------------------------------------------------------------------------------------------- commands
def test_eval_command_prints_scores_with_step_count(run_dir, capsys):
    d, _ = run_dir
    assert main(["eval", str(d), "--n", "8", "--count", "4"]) == 0
    out = capsys.readouterr().out
    assert "| bfs | 8 | 4 | truth |" in out
    assert main(["eval", str(d / "nothing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["eval", str(d), "--algorithm", "dfs", "--n", "8"]) == 2
    assert "trained on ['bfs']" in capsys.readouterr().err


def test_train_command_rejects_bad_input(tmp_path, capsys):
    assert main(["train", "--algorithm", "bfs", "--processor", "nope", "--out", str(tmp_path / "x")]) == 2
    assert "argument --processor: invalid choice: 'nope' (choose from 'deepsets'" in capsys.readouterr().err
    assert main(["train", "--algorithm", "bfs", "--set", "processor=nope", "--out", str(tmp_path / "x")]) == 2
    assert "processor must be one of" in capsys.readouterr().err
    assert main(["train", "--algorithm", "bfs", "--set", "warmup=3", "--out", str(tmp_path / "x")]) == 2
    assert "unknown config key 'warmup'" in capsys.readouterr().err
    assert main(["train", "--algorithm", "bogo", "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()


def test_report_writes_table_and_png(run_dir, tmp_path):
    d, res = run_dir
    assert main(["report", str(d), "--out", str(tmp_path / "rep")]) == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    row = [l for l in md.splitlines() if l.startswith(f"| {d.name} | bfs |")]
    assert len(row) == 1 and f"{100 * res['test']['bfs']['score']:.2f}" in row[0] and "| 4/4 | truth |" in row[0]
    png = tmp_path / "rep" / "learning_curves.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 5000


# ---------------------------------------------------------------------------------------------- inference
def test_predict_on_numpy_matrix_and_networkx_graph(run_dir):
    nx = pytest.importorskip("networkx")
    d, _ = run_dir
    model = load(d)
    g = nx.gnp_random_graph(9, 0.4, seed=1)
    adj = nx.to_numpy_array(g, nodelist=range(9))
    a = model.predict("bfs", A=adj, s=2)
    b = model.predict("bfs", A=g, s=2)
    assert set(a) == {"pi"} and a["pi"].shape == (9,) and a["pi"].dtype == np.int64
    check_value("pi", nar.get_spec("bfs")["pi"], a["pi"], 9, timed=False)
    assert np.array_equal(a["pi"], b["pi"])
    with pytest.raises(nar.InputError, match="trained on"):
        model.predict("dfs", A=adj)
    with pytest.raises(nar.InputError):
        model.predict("bfs", A=adj)  # missing s


def test_multitask_and_learned_termination(tmp_path):
    cfg = tiny(algorithms=["bfs", "minimum"], steps=6, step_count="learned", eval_every=6)
    from nar.train.data import TrainData

    assert {TrainData(cfg).algorithm_at(s) for s in range(6)} == {"bfs", "minimum"}
    res = train(cfg, tmp_path / "m", progress=False)
    assert set(res["test"]) == {"bfs", "minimum"} and res["step_count"] == "learned"
    assert all(r["step_count"] == "learned" for r in res["test"].values())
    model = load(tmp_path / "m")
    out = model.predict("minimum", A=np.array([0.5, 0.2, 0.9, 0.4]))
    assert out["min"].shape == (4,) and out["min"].sum() == 1.0  # mask_one, one-hot
    # every algorithm's heads were trained: both differ from their initialisation
    torch.manual_seed(cfg.seed)
    from nar.train import build_model

    init = build_model(cfg).state_dict()
    trained = weights(tmp_path / "m")  # the last checkpoint: all six steps
    for name in ("bfs", "minimum"):
        keys = [k for k in init if k.startswith(f"heads.{name}.")]
        assert any(not torch.equal(init[k], trained[k]) for k in keys), name


def test_learned_step_count_needs_a_termination_head(run_dir):
    d, _ = run_dir
    assert main(["eval", str(d), "--n", "8", "--count", "4", "--step-count", "learned"]) == 2


def test_fixed_train_split_batches_cover_each_epoch_once(tmp_path):
    from nar.train.data import TrainData

    cfg = tiny(train_data="fixed", batch_size=250, data_dir=str(tmp_path / "splits"))
    data = TrainData(cfg)
    seen = [id(t) for step in range(4) for t in data.trajectories(step)[1]]
    assert len(seen) == 1000 and len(set(seen)) == 1000  # epoch 0: a permutation of the 1000 samples
    assert all(t.n == 16 for t in data.trajectories(4)[1])
    assert (tmp_path / "splits" / "manifest.json").is_file()  # cached, hash-checked split
    again = TrainData(cfg).trajectories(5)[1]
    assert [t.inputs["s"].argmax() for t in again] == [t.inputs["s"].argmax() for t in data.trajectories(5)[1]]


def test_on_the_fly_batches_follow_the_clrs_training_distribution():
    from nar.train.data import TrainData, sampler_kwargs

    cfg = tiny(train_sizes=[4, 7, 11])
    data = TrainData(cfg)
    assert [data.batch(s)[1].max_nodes for s in range(4)] == [4, 7, 11, 4]
    assert sampler_kwargs(TrainConfig(), "bridges")["p"][0] == pytest.approx(0.05)  # halved, as CLRS
    assert sampler_kwargs(TrainConfig(), "kmp_matcher")["length_needle"] == -8
    assert TrainData(TrainConfig(algorithms=["kmp_matcher"])).batch(0)[1].max_nodes == 20  # 16 * 5 // 4


def test_too_large_graph_for_a_dense_processor_is_a_clear_error(run_dir):
    from nar.models import DenseMemoryError

    d, _ = run_dir
    model = load(d)
    model.model.max_dense_bytes = 1 << 20
    with pytest.raises(DenseMemoryError, match="GiB of dense activations"):
        model.predict("bfs", A=np.ones((200, 200)), s=0)


def test_worker_processes_give_the_same_batches_in_step_order():
    from nar.train.data import TrainData

    cfg = tiny(num_workers=2, algorithms=["bfs", "minimum"])
    data = TrainData(cfg)
    it = data.loader(3)
    got = [next(it) for _ in range(4)]
    del it
    assert [s for s, _, _ in got] == [3, 4, 5, 6]
    for s, name, batch in got:
        want_name, want = data.batch(s)
        assert name == want_name and torch.equal(batch.inputs["pos"], want.inputs["pos"])


def test_run_killed_before_its_first_checkpoint_restarts_cleanly(tmp_path):
    cfg = tiny(steps=4, checkpoint_every=100, eval_every=2)
    with pytest.raises(_Killed):
        KillAt(cfg, tmp_path / "b", at=3, progress=False).run()
    assert ck.pointer(tmp_path / "b", "last") is None and ck.pointer(tmp_path / "b", "best") is not None
    resumed = train(cfg, tmp_path / "b", resume=True, progress=False)
    straight = train(cfg, tmp_path / "a", progress=False)
    assert (resumed["best_step"], resumed["test_mean"]) == (straight["best_step"], straight["test_mean"])
    wa, wb = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_results_record_cpu_seconds_summed_over_resumes(tmp_path, capsys):
    from nar.train import TrainConfig, train

    cfg = TrainConfig(algorithms=["bfs"], processor="mpnn", hidden=8, steps=4, eval_every=2, checkpoint_every=2,
                      val_count=4, test_count=4, device="cpu")
    first = train(cfg.replace(steps=2), tmp_path / "run", progress=False)
    resumed = train(cfg, tmp_path / "run", resume=True, progress=False)
    assert 0 < first["cpu_seconds"] <= resumed["cpu_seconds"]


def test_time_limited_bar_counts_seconds_not_steps(tmp_path, capsys):
    from nar.train import TrainConfig, train

    cfg = TrainConfig(algorithms=["bfs"], processor="mpnn", hidden=8, steps=100_000, time_limit=1.0, eval_every=1000,
                      checkpoint_every=1000, val_count=4, test_count=4, device="cpu")
    train(cfg, tmp_path / "run", progress=True)
    err = capsys.readouterr().err
    assert "/1 [" in err or "/1 s" in err or "1/1" in err, err[-300:]
    assert "100000" not in err


def test_training_loop_makes_one_device_to_host_transfer_per_step(tmp_path, monkeypatch):
    """Like nanoGPT, the loop reads values back from the device only once per step (the NaN check and the
    logged sums travel together); every extra ``float(t)`` / ``.item()`` stalls a GPU's queue."""
    import sys

    counts = {"n": 0}

    def counting(name):
        orig = getattr(torch.Tensor, name)

        def wrapper(self, *a, **kw):
            if sys._getframe(1).f_code.co_filename.endswith("loop.py"):
                counts["n"] += 1
            return orig(self, *a, **kw)
        return wrapper

    for name in ("item", "tolist", "__float__", "__int__", "__bool__", "numpy", "cpu"):
        monkeypatch.setattr(torch.Tensor, name, counting(name))
    steps = 6
    train(tiny(steps=steps, eval_every=100, checkpoint_every=100, log_every=100), tmp_path / "r", progress=False)
    assert counts["n"] == steps
