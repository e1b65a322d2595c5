"""Reliability of the data layer and the `nar` command under concurrency, signals and corruption.

Each test reproduces a defect found by an adversarial probe (issue 14): lost manifest entries with
concurrent writers, temp files leaked by killed writers, tracebacks on Ctrl-C / SIGTERM, header
corruption that loaded as KeyError/TypeError or as big-endian data.
"""
import json
import multiprocessing as mp
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nar
from nar.data import SplitError, SplitSpec, TrajectoryFileError, load_split, load_trajectories
from nar.data import save_trajectories, store, write_splits
from nar.validation import InputError

SMALL = {"val": SplitSpec(n=5, count=24, seed=2), "test": SplitSpec(n=6, count=16, seed=3)}
ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _temps(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*.tmp.*")]


# ----------------------------------------------------------------------------- concurrent splits
def _write(out, algorithm, barrier, rounds):
    barrier.wait()
    for _ in range(rounds):
        write_splits(out, algorithm, SMALL, overwrite=rounds > 1)


def _run_writers(out, algorithms, rounds=1):
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(len(algorithms))
    procs = [ctx.Process(target=_write, args=(str(out), a, barrier, rounds)) for a in algorithms]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * len(procs)


def test_concurrent_writers_into_one_folder_lose_no_manifest_entry(tmp_path):
    algorithms = ["bfs", "dfs", "insertion_sort", "minimum"]
    _run_writers(tmp_path, algorithms, rounds=3)  # 4 processes x 3 rewrites x 2 splits
    entries = json.loads((tmp_path / "manifest.json").read_text())["splits"]
    assert set(entries) == {f"{a}/{s}" for a in algorithms for s in SMALL}
    for a in algorithms:
        for s in SMALL:
            assert len(load_split(tmp_path, a, s)) == SMALL[s].count
    assert _temps(tmp_path) == []


def test_concurrent_writers_of_the_same_split_agree(tmp_path):
    _run_writers(tmp_path, ["bfs"] * 3)
    for s in SMALL:
        assert len(load_split(tmp_path, "bfs", s)) == SMALL[s].count
    events = []
    write_splits(tmp_path, "bfs", SMALL, progress=lambda d, t, what: events.append(what))
    assert all("verified, skipped" in e for e in events)  # the files match the manifest
    assert _temps(tmp_path) == []


def test_a_second_writer_of_a_split_waits_and_says_so(tmp_path):
    from nar.locking import locked

    write_splits(tmp_path, "bfs", {"val": SMALL["val"]})
    events = []
    ctx = mp.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()

    def hold():
        with locked(tmp_path / "bfs" / "val.safetensors"):
            ready.set()
            release.wait(30)

    holder = ctx.Process(target=hold)
    holder.start()
    assert ready.wait(30)

    def progress(d, t, what):
        events.append(what)
        if "waiting" in what:
            release.set()

    write_splits(tmp_path, "bfs", {"val": SMALL["val"]}, progress=progress)
    holder.join(30)
    assert events == ["bfs/val (waiting for another writer)", "bfs/val (verified, skipped)"]


# ----------------------------------------------------------------------------- malformed splits
def test_a_directory_in_place_of_a_split_is_a_split_error(tmp_path):
    write_splits(tmp_path, "bfs", {"val": SMALL["val"]})
    path = tmp_path / "bfs" / "val.safetensors"
    path.unlink()
    path.mkdir()
    with pytest.raises(SplitError, match=f"{path} is not a regular file"):
        load_split(tmp_path, "bfs", "val")
    with pytest.raises(SplitError, match=f"{path} is not a regular file"):
        write_splits(tmp_path, "bfs", {"val": SMALL["val"]})
    with pytest.raises(TrajectoryFileError, match="is a directory"):
        save_trajectories(path, nar.sample("bfs", 4, 1))
    with pytest.raises(TrajectoryFileError, match=f"{path} is not a regular file"):
        load_trajectories(path)
    with pytest.raises(TrajectoryFileError, match=f"{path} is not a regular file"):
        nar.data.read_metadata(path)


@pytest.mark.parametrize("text", ["", "{\"splits\": [1]}", "[]", "{\"splits\": {\"bfs/val\": 3}}",
                                  "{\"splits\": {\"bfs/val\": {\"file\": \"../../x\", \"sha256\": \"0\"}}}"])
def test_malformed_manifest_is_a_split_error(tmp_path, text):
    write_splits(tmp_path, "bfs", {"val": SMALL["val"]})
    (tmp_path / "manifest.json").write_text(text)
    with pytest.raises(SplitError, match="manifest"):
        load_split(tmp_path, "bfs", "val")
    with pytest.raises(SplitError, match="manifest"):
        write_splits(tmp_path, "bfs", {"val": SMALL["val"]})
    if text.startswith('{"splits": {'):  # a malformed entry: --overwrite rewrites it, as the error says
        write_splits(tmp_path, "bfs", {"val": SMALL["val"]}, overwrite=True)
        assert len(load_split(tmp_path, "bfs", "val")) == SMALL["val"].count


def test_data_errors_are_input_errors():
    assert issubclass(TrajectoryFileError, InputError) and issubclass(SplitError, InputError)
    assert issubclass(TrajectoryFileError, ValueError)  # as before


# ----------------------------------------------------------------------------- temp files
_SLOW_WRITE = """
import sys, time
from nar.data import store
real = store._encode_file
def slow(*args):  # a slow disk: hold the temp file open for a while
    out = real(*args)
    time.sleep(60)
    return out
store._encode_file = slow
from nar.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _start(args, *, script=None, stderr=subprocess.PIPE):
    cmd = [sys.executable, "-c", script, *args] if script else [sys.executable, "-m", "nar.cli", *args]
    # SIG_DFL for SIGINT in the child: a background shell may have set SIG_IGN, which Python keeps
    return subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=stderr, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_temp(folder: Path, proc, timeout=60.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _temps(folder)
        if found:
            return found[0]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("no temp file appeared")


@pytest.mark.parametrize("sig, code, line", [(signal.SIGINT, 130, "nar: interrupted"),
                                             (signal.SIGTERM, 143, "nar: terminated (SIGTERM)")])
def test_signal_while_sampling_is_one_line_and_leaves_no_temp(tmp_path, sig, code, line):
    out, log = tmp_path / "data" / "x.safetensors", tmp_path / "stderr.txt"
    with open(log, "w") as err:
        proc = _start(["sample", "bfs", "--n", "8", "--count", "10000000", "--out", str(out)], stderr=err)
        deadline = time.monotonic() + 60
        while "sample/s" not in log.read_text():  # the progress bar: sampling has started
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.02)
        proc.send_signal(sig)
        proc.communicate(timeout=60)
    lines = log.read_text().splitlines()
    assert proc.returncode == code
    assert lines[-1] == line and all("sample/s" in x for x in lines[:-1] if x)  # the bar, one line
    assert list(out.parent.iterdir()) == []


def test_signal_while_writing_removes_the_temp(tmp_path):
    out = tmp_path / "x.safetensors"
    proc = _start(["sample", "bfs", "--n", "4", "--count", "3", "--out", str(out), "--quiet"],
                  script=_SLOW_WRITE)
    _wait_for_temp(tmp_path, proc)
    time.sleep(1.0)  # generation done (3 samples), sleeping in the write
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (143, "nar: terminated (SIGTERM)\n")
    assert list(tmp_path.iterdir()) == []


def test_temp_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    out = tmp_path / "x.safetensors"
    proc = _start(["sample", "bfs", "--n", "4", "--count", "3", "--out", str(out), "--quiet"],
                  script=_SLOW_WRITE)
    stale = _wait_for_temp(tmp_path, proc)
    proc.send_signal(signal.SIGKILL)  # no chance to clean up
    proc.communicate(timeout=60)
    assert stale.exists()
    live = tmp_path / f".x.safetensors.tmp.{os.getpid()}.{store._HOST}.0123abcd"  # a running writer
    live.write_bytes(b"in progress")
    other = tmp_path / f".y.safetensors.tmp.{proc.pid}.deadbeef"  # old-style name, dead writer
    other.write_bytes(b"half")
    save_trajectories(out, nar.sample("bfs", 4, 2))
    assert not stale.exists() and not other.exists()
    assert live.exists()
    assert len(load_trajectories(out)) == 2


def test_failed_write_removes_its_temp(tmp_path):
    out = tmp_path / "x.safetensors"

    def boom():
        yield from nar.sample("bfs", 4, 2)
        raise RuntimeError("generator failed")

    with pytest.raises(RuntimeError):
        save_trajectories(out, boom())
    assert list(tmp_path.iterdir()) == []


def test_unwritable_target_fails_before_generation_and_names_it(tmp_path):
    drawn = []

    def stream():
        for t in nar.sample("bfs", 4, 2):
            drawn.append(t)
            yield t

    target = tmp_path / "file" / "x.safetensors"
    (tmp_path / "file").write_text("a file, not a folder")
    with pytest.raises(OSError):
        save_trajectories(target, stream())
    assert drawn == []


# ----------------------------------------------------------------------------- header robustness
def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for g in ("inputs", "hints", "outputs"):
            gx, gy = getattr(x, g), getattr(y, g)
            assert gx.keys() == gy.keys()
            for k in gx:
                assert gx[k].dtype == gy[k].dtype and gx[k].shape == gy[k].shape
                np.testing.assert_array_equal(gx[k], gy[k])
        assert x.extras == y.extras


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(file bytes, header end, trajectories) of small files with every codec (dfs: categorical)."""
    out = {}
    for name in ("bfs", "dfs"):
        trajs = nar.sample(name, 4, 2, seed=1)
        path = tmp_path_factory.mktemp("flip") / f"{name}.safetensors"
        save_trajectories(path, trajs, metadata={"note": "x"})
        raw = path.read_bytes()
        out[name] = (raw, 8 + struct.unpack("<Q", raw[:8])[0], trajs)
    return out


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["bfs", "dfs"]), where=st.floats(0, 1, exclude_max=True),
       flip=st.integers(1, 255))
def test_any_single_byte_flip_in_the_header_loads_exactly_or_raises(saved, name, where, flip):
    raw, end, trajs = saved[name]
    buf = bytearray(raw)
    buf[int(where * end)] ^= flip
    try:
        got = store.parse_trajectories(buf, "f")[1]
    except TrajectoryFileError as e:
        assert str(e).startswith("f")  # names the file
        return
    _same(got, trajs)


def test_header_flips_that_changed_meaning_are_rejected(saved):
    """The flips the probe found: a dtype made big-endian, a dtype/codec changed, a class count."""
    raw, end, _ = saved["dfs"]
    head = raw[:end]
    for old, new in ((b'\\"dtype\\":\\"<f4\\"', b'\\"dtype\\":\\">f4\\"'),
                     (b'"dtype":"I8"', b'"dtype":"U8"'),
                     (b'\\"tail\\":[3]', b'\\"tail\\":[7]'),
                     (b'\\"codec\\":\\"raw\\"', b'\\"codec\\":\\"rax\\"')):
        assert old in head, old
        buf = bytearray(head.replace(old, new, 1) + raw[end:])
        with pytest.raises(TrajectoryFileError):
            store.parse_trajectories(buf, "f")


def test_big_endian_values_are_stored_little_endian(tmp_path):
    t = nar.sample("insertion_sort", 5, 1)[0]
    want = t.inputs["key"].copy()
    t.inputs["key"] = want.astype(want.dtype.newbyteorder(">"))
    save_trajectories(tmp_path / "x.safetensors", [t])
    back = load_trajectories(tmp_path / "x.safetensors")[0].inputs["key"]
    assert back.dtype == want.dtype and back.dtype.byteorder in "<=|"
    np.testing.assert_array_equal(back, want)


def test_files_without_a_header_hash_still_load(tmp_path):
    """Files written before the header hash existed (version 1 too) are read, fully validated."""
    trajs = nar.sample("bfs", 4, 2)
    path = tmp_path / "x.safetensors"
    save_trajectories(path, trajs)
    raw = path.read_bytes()
    end = 8 + struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:end])
    meta = json.loads(head["__metadata__"]["nar"])
    del meta["header_sha256"]
    head["__metadata__"]["nar"] = json.dumps(meta, sort_keys=True, separators=(",", ":"))
    text = json.dumps(head, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[end:])
    _same(load_trajectories(path), trajs)


def test_dataset_and_splits_check_random_pos_and_needles_up_front(tmp_path):
    from nar.data import OnTheFlyDataset, write_splits
    from nar.validation import InputError

    with pytest.raises(InputError, match="random_pos"):
        OnTheFlyDataset("bfs", random_pos="yes")
    with pytest.raises(InputError, match="length_needle"):
        write_splits(tmp_path, "naive_string_matcher", splits={"val": {"n": 8, "count": 2, "seed": 0,
                                                                      "options": {"length_needle": 7}}})
    assert not any(tmp_path.iterdir())


def test_bad_split_specs_are_clear_errors(tmp_path):
    from nar.data import write_splits
    from nar.validation import InputError

    with pytest.raises(InputError, match="unknown field"):
        write_splits(tmp_path, "bfs", splits={"val": {"n": 8, "count": 2, "seed": 0, "size": 3}})
    with pytest.raises(InputError, match="needs n, count and seed"):
        write_splits(tmp_path, "bfs", splits={"val": {"n": 8}})
    with pytest.raises(InputError, match="SplitSpec or a dict"):
        write_splits(tmp_path, "bfs", splits={"val": 3})
