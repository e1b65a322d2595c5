"""Reliability of the training / checkpoint layer: verified loads and resumes, exact logs after a resume,
no silent best->last fallback, one-line CLI errors, one writer per run folder, atomic pointers."""
import contextlib
import io
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nar
from nar.cli import main
from nar.locking import lock_path, locked
from nar.train import CheckpointError, ConfigError, RunInUse, TrainConfig, Trainer, build_model, load, train
from nar.train import checkpoint as ck
from nar.train.evaluation import evaluate_checkpoint
from test_train import KillAt, _Killed  # the trainer that dies before a given step

TINY = dict(hidden=8, batch_size=2, train_sizes=[4, 5], val_count=2, test_count=2, test_n=6, eval_batch_size=2,
            eval_every=2, checkpoint_every=2, log_every=1, threads=1, device="cpu", seed=3, processor="mpnn")


def tiny(**kw) -> TrainConfig:
    return TrainConfig(**{**TINY, **kw})


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A finished 4-step mpnn run: last-00000004 (+ optimizer/state) and a best checkpoint."""
    d = tmp_path_factory.mktemp("rel") / "mpnn"
    train(tiny(steps=4), d, progress=False)
    return d


def copy_run(run: Path, to: Path) -> Path:
    shutil.copytree(run, to)
    return to


def cli(argv) -> tuple[int, str]:
    """``nar ARGV`` in-process: (exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse
            rc = exc.code
    return rc, err.getvalue()


def weights(path, which="last") -> dict:
    return ck.read_safetensors(ck.resolve(path, which) / ck.WEIGHTS)[0]


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


# ---------------------------------------------------------------------------------------------- 1: architecture
def test_editing_the_processor_in_checkpoint_json_is_refused(run, tmp_path):
    d = copy_run(run, tmp_path / "r")
    edit_json(ck.pointer(d, "best") / ck.META, lambda m: m["config"].update(processor="pgn"))
    with pytest.raises(CheckpointError, match=r"checkpoint.json: content does not match its recorded hash.*"
                                              r"processor='pgn' \('mpnn'\)"):
        load(d)
    rc, err = cli(["eval", d, "--n", 6, "--count", 2])
    assert rc == 2 and err.count("\n") == 1 and "processor" in err


def test_a_resealed_edit_still_disagrees_with_the_weights_file(run, tmp_path):
    """Recomputing checkpoint.json's own hash does not help: the weights file records the config too."""
    d = copy_run(run, tmp_path / "r")
    best = ck.pointer(d, "best")
    meta = json.loads((best / ck.META).read_text())
    meta["config"]["processor"] = "pgn"
    meta["config_sha256"] = ck.sha256(ck.canonical(meta["config"]))
    meta = ck.seal(meta)
    (best / ck.META).write_text(json.dumps(meta, indent=1))
    edit_json(d / "checkpoints" / "best.json", lambda p: p.update(sha256=meta["sha256"]))
    with pytest.raises(CheckpointError, match=r"record different configs: processor='pgn' \('mpnn'\)"):
        load(d)


def test_editing_the_run_config_blocks_resume(run, tmp_path):
    d = copy_run(run, tmp_path / "r")
    edit_json(d / "config.json", lambda c: c.update(processor="pgn", steps=6))
    rc, err = cli(["train", "--out", d, "--resume", "--quiet"])
    assert rc == 2 and err.count("\n") == 1
    assert "config.json differs from the configuration recorded" in err and "processor='pgn' (checkpoint: 'mpnn')" in err
    assert ck.pointer(d, "last").name == "last-00000004"  # nothing was trained


def test_resume_with_another_architecture_is_refused_even_if_config_json_agrees(run, tmp_path):
    d = copy_run(run, tmp_path / "r")
    edit_json(d / "config.json", lambda c: c.update(steps=6))  # a resumable key: allowed
    with pytest.raises(ConfigError, match=r"processor='mpnn' \(now 'pgn'\)"):
        train(tiny(steps=6, processor="pgn"), d, resume=True, progress=False)
    torch.manual_seed(0)
    pgn = build_model(tiny(processor="pgn"))
    with pytest.raises(CheckpointError, match=r"another configuration.*processor='mpnn' \('pgn'\)"):
        ck.load_weights(ck.pointer(d, "best"), pgn, config=tiny(processor="pgn").to_dict())


# ---------------------------------------------------------------------------------------------- 2: flipped bytes
def _flip(path: Path, offset: int, mask: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset % len(raw)] ^= mask
    path.write_bytes(raw)


@pytest.mark.parametrize("name", ["optimizer", "state"])
def test_a_flipped_byte_in_optimizer_or_rng_state_stops_resume(run, tmp_path, name):
    d = copy_run(run, tmp_path / "r")
    (f,) = ck.pointer(d, "last").glob(f"{name}.*")
    _flip(f, f.stat().st_size * 3 // 4, 0x10)
    with pytest.raises(CheckpointError, match="content hash does not match"):
        train(tiny(steps=5), d, resume=True, progress=False)


def _snapshot_resume(d: Path, cfg: TrainConfig) -> dict:
    """Everything a resume restores: weights, optimizer state, RNG states, trainer state."""
    t = Trainer(cfg, d, resume=True, progress=False)
    last = t._prepare_dir()
    torch.manual_seed(cfg.seed + 1)  # the restored state must not depend on this
    model = build_model(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    state = t.restore(last, model, opt)
    osd = opt.state_dict()
    return {"model": model.state_dict(), "opt_state": osd["state"], "groups": osd["param_groups"], "state": state,
            "torch": torch.get_rng_state(), "numpy": np.random.get_state(legacy=False), "python": random.getstate()}


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if torch.is_tensor(a):
        return torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


RESUME_FILES = ["last/" + f for f in (ck.WEIGHTS, ck.META, ck.OPTIMIZER, ck.STATE)] + ["last.json", "config.json"]
LOAD_FILES = ["best/" + f for f in (ck.WEIGHTS, ck.META)] + ["best.json"]


def _target(d: Path, name: str) -> Path:
    if name == "config.json":
        return d / name
    if name.endswith(".json") and "/" not in name:
        return d / "checkpoints" / name
    kind, f = name.split("/")
    return ck.pointer(d, kind) / f


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(RESUME_FILES), where=st.floats(0, 1, exclude_max=True), mask=st.integers(1, 255))
def test_flipping_any_byte_a_resume_reads_is_an_error_or_changes_nothing(run, name, where, mask):
    cfg = tiny(steps=4)
    with tempfile.TemporaryDirectory() as tmp:
        d = copy_run(run, Path(tmp) / "r")
        reference = _snapshot_resume(d, cfg)
        f = _target(d, name)
        _flip(f, int(where * f.stat().st_size), mask)
        try:
            got = _snapshot_resume(d, cfg)
        except CheckpointError:
            return
        assert _same(got, reference), f"{name}: a flipped byte was loaded as a different state"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(LOAD_FILES), where=st.floats(0, 1, exclude_max=True), mask=st.integers(1, 255))
def test_flipping_any_byte_a_load_reads_is_an_error_or_changes_nothing(run, name, where, mask):
    with tempfile.TemporaryDirectory() as tmp:
        d = copy_run(run, Path(tmp) / "r")
        ref = load(d)
        f = _target(d, name)
        _flip(f, int(where * f.stat().st_size), mask)
        try:
            got = load(d)
        except CheckpointError:
            return
        assert got.config == ref.config and _same(got.model.state_dict(), ref.model.state_dict())


# ---------------------------------------------------------------------------------------------- 3: format
def test_weights_are_plain_safetensors_with_the_config_in_their_metadata(run):
    from safetensors import safe_open
    from safetensors.torch import load_file

    best = ck.pointer(run, "best")
    tensors = load_file(best / ck.WEIGHTS)
    with safe_open(best / ck.WEIGHTS, "pt") as f:
        meta = f.metadata()
    assert set(tensors) == set(load(run).model.state_dict())
    assert json.loads(meta["nar_config"])["processor"] == "mpnn"
    assert meta["nar_config_sha256"] == ck.read_meta(best)["config_sha256"]
    for f in ck.pointer(run, "last").iterdir():  # no pickles
        assert f.suffix in (".safetensors", ".json")


def _as_format_1(d: Path) -> None:
    """Rewrite a run's checkpoints the way nar wrote them before format 2."""
    for kind in ck.KINDS:
        target = ck.pointer(d, kind)
        meta = json.loads((target / ck.META).read_text())
        for k in ("sha256", "files", "config_sha256"):
            meta.pop(k)
        meta.update(version=1, weights_sha256=ck.sha256((target / ck.WEIGHTS).read_bytes()))
        (target / ck.META).write_text(json.dumps(meta, indent=1, sort_keys=True))
        for f in (ck.OPTIMIZER, ck.STATE):
            (target / f).unlink(missing_ok=True)
        if kind == "last":
            for f in ck.LEGACY_FILES:
                (target / f).write_bytes(b"old pickle")
        edit_json(d / "checkpoints" / f"{kind}.json", lambda p: p.pop("sha256"))


def test_format_1_run_folders_still_load_but_cannot_be_resumed(run, tmp_path):
    d = copy_run(run, tmp_path / "old")
    _as_format_1(d)
    with pytest.warns(UserWarning, match="format 1"):
        old = load(d)
    assert _same(old.model.state_dict(), load(run).model.state_dict())
    with pytest.raises(CheckpointError, match="format 1 .* cannot be resumed"):
        train(tiny(steps=6), d, resume=True, progress=False)


# ---------------------------------------------------------------------------------------------- 4: train.csv

def _train_rows(d: Path) -> list[list[str]]:
    """train.csv without the wall-clock column."""
    lines = [line.split(",") for line in (d / "train.csv").read_text().splitlines()]
    col = lines[0].index("seconds")
    return [row[:col] + row[col + 1:] for row in lines]


def test_resumed_train_csv_equals_the_uninterrupted_one(tmp_path):
    cfg = tiny(steps=7, log_every=3, checkpoint_every=2, eval_every=7)
    train(cfg, tmp_path / "a", progress=False)
    with pytest.raises(_Killed):  # dies in step 6; the last checkpoint (step 4) is between log rows 3 and 6
        KillAt(cfg, tmp_path / "b", at=5, progress=False).run()
    train(cfg, tmp_path / "b", resume=True, progress=False)
    a, b = _train_rows(tmp_path / "a"), _train_rows(tmp_path / "b")
    assert [r[0] for r in a[1:]] == ["3", "6", "7"]
    assert a == b
    assert (tmp_path / "a" / "eval.csv").read_text() == (tmp_path / "b" / "eval.csv").read_text()
    wa, wb = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert _same(wa, wb)


def test_a_row_cut_by_a_kill_is_dropped_on_resume(tmp_path):
    cfg = tiny(steps=4, log_every=1)
    train(cfg.replace(steps=2), tmp_path / "b", progress=False)
    with open(tmp_path / "b" / "train.csv", "a") as f:
        f.write("1,bf")  # a kill in the middle of writing a row
    train(cfg, tmp_path / "b", resume=True, progress=False)
    train(cfg, tmp_path / "a", progress=False)
    assert _train_rows(tmp_path / "a") == _train_rows(tmp_path / "b")


# ---------------------------------------------------------------------------------------------- 5: no silent fallback
def test_a_missing_best_checkpoint_is_an_error_that_names_the_alternative(tmp_path):
    cfg = tiny(steps=4, checkpoint_every=2, eval_every=100)
    with pytest.raises(_Killed):  # killed before its first validation: a last checkpoint, no best
        KillAt(cfg, tmp_path / "r", at=3, progress=False).run()
    d = tmp_path / "r"
    with pytest.raises(CheckpointError, match=r"has no best checkpoint \(it has: last-00000002\).*which='last'"):
        load(d)
    assert load(d, which="last").meta["step"] == 2
    rc, err = cli(["eval", d, "--n", 6, "--count", 2])
    assert rc == 2 and err.count("\n") == 1 and "--which last" in err
    assert cli(["eval", d, "--n", 6, "--count", 2, "--which", "last"])[0] == 0


# ---------------------------------------------------------------------------------------------- 6: CLI / API gaps
def test_eval_and_load_reject_bad_arguments_in_one_line(run):
    for args, what in ((["--count", 0], "--count"), (["--batch-size", 0], "--batch-size"), (["--n", -1], "--n"),
                       (["--seed", "x"], "--seed"), (["--which", "first"], "--which")):
        rc, err = cli(["eval", run, *args])
        assert rc == 2 and err.count("\n") == 1 and f"argument {what}" in err and "Traceback" not in err, args
    for kw, what in (({"count": 0}, "count must be an integer >= 1"), ({"batch_size": 0}, "batch_size must be"),
                     ({"n": 0}, "n must be"), ({"seed": -2}, "seed must be")):
        with pytest.raises(nar.InputError, match=what):
            evaluate_checkpoint(run, **{"n": 6, **kw})
    with pytest.raises(nar.InputError, match="device must be one of auto, cpu, cuda; got 'tpu'"):
        load(run, device="tpu")
    with pytest.raises(nar.InputError, match="which checkpoint: must be one of best, last"):
        load(run, which="newest")


def test_report_on_partial_or_damaged_logs(run, tmp_path, monkeypatch):
    monkeypatch.setattr("nar.train.report.plot", lambda records, path: None)  # the logs matter here, not the PNG
    d = copy_run(run, tmp_path / "r")
    (d / "results.json").unlink()  # an unfinished run ...
    text = (d / "train.csv").read_text()
    (d / "train.csv").write_text(text + text.splitlines()[-1][:9])  # ... killed while writing a row
    rc, err = cli(["report", d, "--out", tmp_path / "rep"])
    assert rc == 0, err
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "(unfinished)" in md and "last row of train.csv was cut" in md
    lines = text.splitlines()
    lines[2] = lines[2][:9]  # a damaged row in the middle
    (d / "train.csv").write_text("\n".join(lines) + "\n")
    rc, err = cli(["report", d, "--out", tmp_path / "rep"])
    assert rc == 2 and err.count("\n") == 1 and "train.csv: line 3 has" in err
    (d / "config.json").write_text("{")
    rc, err = cli(["report", d, "--out", tmp_path / "rep"])
    assert rc == 2 and "config.json: not valid JSON" in err


def test_resume_of_a_missing_run_folder_is_an_error(tmp_path):
    rc, err = cli(["train", "--algorithm", "bfs", "--out", tmp_path / "nope", "--resume", "--quiet"])
    assert rc == 2 and err.count("\n") == 1 and "no training run to resume" in err
    assert not (tmp_path / "nope").exists() and not lock_path(tmp_path / "nope").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no training run to resume"):
        train(tiny(), tmp_path / "empty", resume=True, progress=False)


_NOT_INT = st.one_of(st.sampled_from(["", "x", "1.5", "1e3", "nan", "inf", "-inf", "0x10", "--", "1,2"]),
                     st.text(alphabet="abc.-+e ", min_size=1, max_size=5))
_BAD = {"int>=1": st.one_of(_NOT_INT, st.integers(max_value=0).map(str)),
        "int>=0": st.one_of(_NOT_INT, st.integers(max_value=-1).map(str), st.integers(2 ** 64, 2 ** 80).map(str)),
        "float>0": st.one_of(st.sampled_from(["", "x", "nan", "inf", "-inf", "1e999", "0", "-0.0"]),
                             st.floats(max_value=0).map(str))}
TRAIN_ARGS = {"--steps": "int>=1", "--batch-size": "int>=1", "--hidden": "int>=1", "--threads": "int>=1",
              "--seed": "int>=0", "--lr": "float>0", "--time-limit": "float>0"}
EVAL_ARGS = {"--n": "int>=1", "--count": "int>=1", "--batch-size": "int>=1", "--seed": "int>=0"}
SET_KEYS = {"steps": "int>=1", "batch_size": "int>=1", "hidden": "int>=1", "eval_every": "int>=1",
            "seed": "int>=0", "lr": "float>0", "time_limit": "float>0"}


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_cli_numeric_argument_fuzz(data, tmp_path_factory):
    command = data.draw(st.sampled_from(["train", "eval", "train --set"]))
    if command == "eval":
        flag, kind = data.draw(st.sampled_from(sorted(EVAL_ARGS.items())))
        argv = ["eval", "no/such/run", f"{flag}={data.draw(_BAD[kind])}"]
    elif command == "train":
        flag, kind = data.draw(st.sampled_from(sorted(TRAIN_ARGS.items())))
        argv = ["train", "--algorithm", "bfs", "--out", "no/such/out", f"{flag}={data.draw(_BAD[kind])}"]
    else:
        key, kind = data.draw(st.sampled_from(sorted(SET_KEYS.items())))
        value = data.draw(_BAD[kind].filter(lambda v: v.strip() != ""))  # --set time_limit= means "none": valid
        argv = ["train", "--algorithm", "bfs", "--out", "no/such/out", "--set", f"{key}={value}"]
    rc, err = cli(argv)
    assert rc == 2 and err.count("\n") == 1 and err.startswith("nar") and "Traceback" not in err, (argv, err)
    assert not Path("no").exists()


# ---------------------------------------------------------------------------------------------- 7: one writer
def test_a_second_process_cannot_train_into_a_run_folder_in_use(run, tmp_path, monkeypatch):
    monkeypatch.setattr("nar.train.loop.LOCK_TIMEOUT", 0.2)
    d = copy_run(run, tmp_path / "r")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"), str(lock_path(d))], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunInUse, match="run folder in use by another process"):
            train(tiny(steps=6), d, resume=True, progress=False)
        rc, err = cli(["train", "--out", d, "--resume", "--quiet"])
        assert rc == 2 and err.count("\n") == 1 and "in use by another process" in err
    finally:
        holder.kill()
        holder.wait()
    assert ck.pointer(d, "last").name == "last-00000004"  # untouched while in use
    with locked(d, timeout=0):  # and the lock was released by the refused runs
        pass


def test_an_interrupted_pointer_update_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    cfg = tiny(steps=4, checkpoint_every=2, eval_every=4)
    train(cfg.replace(steps=2), tmp_path / "b", progress=False)
    import nar.data.store as store

    real = store.os.replace

    def interrupted(src, dst):
        if Path(dst).name == "last.json" and "last-00000004" in Path(src).read_text():
            raise KeyboardInterrupt  # Ctrl-C (or a kill) while the pointer moves
        return real(src, dst)

    monkeypatch.setattr(store.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "b", resume=True, progress=False)
    monkeypatch.setattr(store.os, "replace", real)
    assert ck.pointer(tmp_path / "b", "last").name == "last-00000002"  # still valid and verified
    assert not [p for p in (tmp_path / "b" / "checkpoints").iterdir() if ".tmp" in p.name]
    train(cfg, tmp_path / "b", resume=True, progress=False)
    train(cfg, tmp_path / "a", progress=False)
    assert _same(weights(tmp_path / "a"), weights(tmp_path / "b"))
