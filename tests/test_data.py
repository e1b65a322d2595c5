"""nar.data: padded batches, trajectory files, on-the-fly datasets, fixed splits, PyG export.

Tests that loop over algorithms use every registered one, so they grow as algorithms land.
"""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import nar
from nar.algorithms.registry import registered
from nar.data import (Batch, OnTheFlyDataset, SplitError, SplitSpec, TrajectoryFileError, collate,
                      load_split, load_trajectories, read_metadata, save_trajectories, split_params,
                      to_pyg, to_pyg_dict, write_splits)
from nar.data import splits as splits_mod
from nar.data import store
from nar.data.dataset import chunk, chunk_seeds
from nar.samplers import MIN_NODES
from nar.specs import Location, Stage
from nar.types import POINTER_TYPES

ALGOS = sorted(registered())
GROUPS = ("inputs", "hints", "outputs")


def mixed(name, sizes=(3, 6, 4), seed=0):
    """Trajectories of ``name`` at several sizes (at least the sampler's minimum)."""
    least = MIN_NODES.get(name, 1)
    return [t for i, n in enumerate(sizes) for t in nar.sample(name, max(n, least), 1, seed=seed + i)]


def assert_same(a, b):
    assert a.name == b.name
    for g in GROUPS:
        ga, gb = getattr(a, g), getattr(b, g)
        assert ga.keys() == gb.keys()
        for k in ga:
            assert ga[k].dtype == gb[k].dtype and ga[k].shape == gb[k].shape, (g, k)
            np.testing.assert_array_equal(ga[k], gb[k], err_msg=f"{g}/{k}")
    assert a.extras == b.extras


def assert_same_batch(a: Batch, b: Batch):
    assert a.algorithm == b.algorithm
    for g in ("inputs", "hints", "outputs"):
        for k in getattr(a, g):
            assert torch.equal(getattr(a, g)[k], getattr(b, g)[k]), (g, k)
    for f in ("lengths", "n_nodes", "node_mask", "edge_mask", "time_mask"):
        assert torch.equal(getattr(a, f), getattr(b, f)), f


# ----------------------------------------------------------------------------- collate
@pytest.mark.parametrize("name", ALGOS)
def test_collate_equals_unpadded_samples_on_real_positions(name):
    trajs = mixed(name, (3, 7, 5))
    batch = collate(trajs)
    N, T = max(t.n for t in trajs), max(t.length for t in trajs)
    assert batch.size == 3 and batch.max_nodes == N and batch.max_length == T
    assert batch.lengths.tolist() == [t.length for t in trajs]
    assert batch.n_nodes.tolist() == [t.n for t in trajs]
    for b, t in enumerate(trajs):
        for k, p in t.spec.items():
            value = getattr(t, p.stage.value + "s")[k]
            got = getattr(batch, p.stage.value + "s")[k][b].numpy()
            if p.stage == Stage.HINT:
                got = got[:t.length]
            nloc = {Location.NODE: 1, Location.EDGE: 2, Location.GRAPH: 0}[p.location]
            lead = 1 if p.stage == Stage.HINT else 0
            sl = (slice(None),) * lead + (slice(0, t.n),) * nloc
            np.testing.assert_array_equal(got[sl], value, err_msg=k)
            assert got.dtype == value.dtype


@pytest.mark.parametrize("name", ALGOS)
def test_collate_padding_rules(name):
    trajs = mixed(name, (2, 6))
    batch = collate(trajs)
    small = 0 if trajs[0].n < trajs[1].n else 1
    n, N = trajs[small].n, batch.max_nodes
    for k, p in trajs[0].spec.items():
        x = getattr(batch, p.stage.value + "s")[k][small]
        if p.stage == Stage.HINT:  # time padding repeats the last snapshot
            t = trajs[small].length
            assert torch.equal(x[t:], x[t - 1:t].expand_as(x[t:])), k
            x = x[0]
        if p.location == Location.GRAPH or n == N:
            continue
        if p.type in POINTER_TYPES:  # padded positions point at themselves (valid indices)
            assert x.dtype == torch.int64
            if p.location == Location.NODE:
                assert x[n:].tolist() == list(range(n, N)), k
            assert int(x.min()) >= 0 and int(x.max()) < N, k
        else:  # padded nodes/edges are zero
            assert x.dtype == torch.float32
            assert not x[n:].any(), k
            if p.location == Location.EDGE:
                assert not x[:, n:].any(), k


def test_collate_masks():
    trajs = [nar.sample("insertion_sort", n, 1, seed=n)[0] for n in (2, 5, 3)]
    b = collate(trajs)
    assert b.node_mask.dtype == torch.bool and b.node_mask.shape == (3, 5)
    assert b.node_mask.sum(1).tolist() == [2, 5, 3]
    assert b.edge_mask.shape == (3, 5, 5)
    assert b.edge_mask.sum((1, 2)).tolist() == [4, 25, 9]
    assert torch.equal(b.edge_mask[0, :2, :2], torch.ones(2, 2, dtype=torch.bool))
    assert b.time_mask.sum(1).tolist() == b.lengths.tolist() == [2, 5, 3]  # insertion sort: T = n
    assert torch.equal(b.time_mask, torch.arange(5)[None] < b.lengths[:, None])


def test_collate_hand_checked_values():
    # path 0-1 (and node 2 alone), source 0; second graph: one node
    a = nar.execute("bfs", A=np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], float), s=0)
    c = nar.execute("bfs", A=np.zeros((1, 1)), s=0)
    b = collate([a, c])
    assert b.lengths.tolist() == [2, 1]
    assert b.hints["reach_h"][0].tolist() == [[1, 0, 0], [1, 1, 0]]
    assert b.hints["reach_h"][1].tolist() == [[1, 0, 0], [1, 0, 0]]  # repeated step, padded nodes 0
    assert b.hints["pi_h"][1].tolist() == [[0, 1, 2], [0, 1, 2]]  # padded nodes point at themselves
    assert b.outputs["pi"].tolist() == [[0, 0, 2], [0, 1, 2]]
    assert b.inputs["s"].tolist() == [[1, 0, 0], [1, 0, 0]]
    assert b.inputs["adj"][1].tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]


def test_collate_errors():
    with pytest.raises(ValueError, match="at least one"):
        collate([])
    with pytest.raises(ValueError, match="one algorithm"):
        collate(nar.sample("bfs", 4, 1) + nar.sample("insertion_sort", 4, 1))


def test_batch_to_keeps_values():
    b = collate(nar.sample("bfs", 4, 2))
    assert_same_batch(b, b.to("cpu"))


# ----------------------------------------------------------------------------- files
@pytest.mark.parametrize("name", ALGOS)
def test_save_load_round_trip_exact(tmp_path, name):
    trajs = mixed(name, (3, 6, 4, 6))
    path = tmp_path / "x.safetensors"
    sha = save_trajectories(path, trajs, metadata={"note": "hi", "n": np.int64(3)})
    assert sha == store.file_sha256(path)
    back = load_trajectories(path)
    assert len(back) == len(trajs)
    for a, b in zip(trajs, back):
        assert_same(a, b)
    meta = read_metadata(path)
    assert meta["algorithm"] == name and meta["count"] == 4 and meta["user"] == {"note": "hi", "n": 3}


def test_saved_file_is_plain_safetensors(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    trajs = nar.sample("bfs", 5, 3, seed=1)
    save_trajectories(tmp_path / "x.safetensors", trajs)
    tensors = st.load_file(str(tmp_path / "x.safetensors"))
    assert tensors["n"].tolist() == [5, 5, 5]
    np.testing.assert_array_equal(tensors["input/A"], np.concatenate([t.inputs["A"].ravel() for t in trajs]))


def test_save_accepts_a_generator_and_reports_progress(tmp_path):
    seen = []
    save_trajectories(tmp_path / "g.safetensors", (t for t in nar.sample("bfs", 4, 3)),
                      progress=lambda done, total, what: seen.append((done, total)))
    assert seen == [(1, None), (2, None), (3, None)]
    assert len(load_trajectories(tmp_path / "g.safetensors")) == 3


def test_same_trajectories_give_same_bytes(tmp_path):
    save_trajectories(tmp_path / "a", nar.sample("insertion_sort", 6, 4, seed=5))
    save_trajectories(tmp_path / "b", nar.sample("insertion_sort", 6, 4, seed=5))
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_save_rejects_bad_input_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.safetensors"
    with pytest.raises(ValueError, match="at least one"):
        save_trajectories(path, [])
    with pytest.raises(ValueError, match="one algorithm"):
        save_trajectories(path, nar.sample("bfs", 4, 1) + nar.sample("insertion_sort", 4, 1))
    t = nar.sample("bfs", 4, 1)[0]
    t.hints["reach_h"][0, 0] = 0.5  # breaks the mask convention: not storable losslessly
    with pytest.raises(ValueError, match="reach_h"):
        save_trajectories(path, [t])
    assert list(tmp_path.iterdir()) == []


def test_corrupted_file_is_detected(tmp_path):
    path = tmp_path / "x.safetensors"
    save_trajectories(path, nar.sample("bfs", 6, 3))
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF
    path.write_bytes(raw)
    with pytest.raises(TrajectoryFileError, match="corrupted"):
        load_trajectories(path)
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(TrajectoryFileError, match="not a nar trajectory file"):
        load_trajectories(path)
    path.write_bytes(raw[:20])
    with pytest.raises(TrajectoryFileError, match="truncated"):
        load_trajectories(path)


# ----------------------------------------------------------------------------- dataset
def test_dataset_same_stream_for_0_1_2_workers():
    ds = OnTheFlyDataset("bfs", sizes=[3, 5, 4], batch_size=3, seed=7, num_batches=5)
    streams = [list(ds.loader(num_workers=w)) for w in (0, 1, 2)]
    assert [len(s) for s in streams] == [5, 5, 5]
    for other in streams[1:]:
        for a, b in zip(streams[0], other):
            assert_same_batch(a, b)
    assert [b.max_nodes for b in streams[0]] == [3, 5, 4, 3, 5]  # sizes cycle per batch


def test_dataset_batches_are_the_chunks():
    ds = OnTheFlyDataset("insertion_sort", sizes=5, batch_size=4, seed=3, num_batches=3)
    for k, batch in enumerate(ds):
        assert_same_batch(batch, collate(chunk("insertion_sort", 5, 4, 3, k)))
        expected = nar.sample("insertion_sort", 5, 4, seed=chunk_seeds(3, k)[0])
        assert_same(ds.trajectories(k)[0], expected[0])


def test_dataset_start_resumes_and_seed_changes_stream():
    full = list(OnTheFlyDataset("bfs", sizes=4, batch_size=2, seed=1, num_batches=4))
    tail = list(OnTheFlyDataset("bfs", sizes=4, batch_size=2, seed=1, num_batches=2, start=2))
    for a, b in zip(full[2:], tail):
        assert_same_batch(a, b)
    other = next(iter(OnTheFlyDataset("bfs", sizes=4, batch_size=2, seed=2, num_batches=1)))
    assert not torch.equal(other.inputs["A"], full[0].inputs["A"])


def test_dataset_random_sizes_and_options():
    ds = OnTheFlyDataset("bfs", sizes=[3, 4, 5, 6], batch_size=2, seed=0, num_batches=12,
                         size_mode="random", p=[0.0], random_pos=True, collate_fn=None)
    first, again = list(ds), list(ds)
    sizes = [lists[0].n for lists in first]
    assert set(sizes) <= {3, 4, 5, 6} and len(set(sizes)) > 1
    assert sizes == [lists[0].n for lists in again]
    for trajs in first:
        for t in trajs:
            assert isinstance(t, nar.Trajectory)
            assert t.inputs["A"].sum() == 0  # p=0: no edges
            assert not np.allclose(t.inputs["pos"], np.arange(t.n) / t.n)  # random_pos


def test_dataset_infinite_stream_and_errors():
    ds = OnTheFlyDataset("bfs", sizes=4, batch_size=1)
    it = iter(ds)
    assert [next(it).size for _ in range(3)] == [1, 1, 1]
    with pytest.raises(TypeError, match="no length"):
        len(ds)
    assert len(OnTheFlyDataset("bfs", num_batches=3)) == 3
    with pytest.raises(nar.InputError, match="unknown sampler option"):
        OnTheFlyDataset("bfs", q=1)
    with pytest.raises(nar.InputError, match="sizes"):
        OnTheFlyDataset("bfs", sizes=[4, 0])
    with pytest.raises(nar.InputError, match="batch_size"):
        OnTheFlyDataset("bfs", batch_size=0)
    with pytest.raises(nar.InputError, match="size_mode"):
        OnTheFlyDataset("bfs", size_mode="shuffle")
    with pytest.raises(KeyError, match="valid names"):
        OnTheFlyDataset("bogo_sort")


# ----------------------------------------------------------------------------- splits
TINY = {"train": SplitSpec(n=5, count=10, seed=1), "val": SplitSpec(n=4, count=3, seed=2),
        "test": SplitSpec(n=7, count=2, seed=3, multiplied=True)}


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(splits_mod, "CHUNK", 4)  # several chunks per split


def test_clrs30_split_parameters():
    p = split_params("bfs", "train")
    assert (p["n"], p["count"], p["seed"]) == (16, 1000, 1)
    assert (split_params("bfs", "val")["count"], split_params("bfs", "val")["n"]) == (32, 16)
    assert split_params("bfs", "test")["n"] == 64 and split_params("bfs", "test")["seed"] == 3
    assert split_params("minimum", "test")["count"] == 32 * 64
    assert split_params("find_maximum_subarray_kadane", "val")["count"] == 32 * 32
    assert split_params("minimum", "train")["count"] == 1000
    with pytest.raises(KeyError, match="standard splits"):
        split_params("bfs", "dev")


def test_split_round_trip(tmp_path, small_chunks):
    manifest = write_splits(tmp_path, ["bfs", "insertion_sort"], TINY)
    assert set(manifest["splits"]) == {f"{a}/{s}" for a in ("bfs", "insertion_sort") for s in TINY}
    for name in ("bfs", "insertion_sort"):
        for split in TINY:
            params = split_params(name, split, TINY[split])
            got = load_split(tmp_path, name, split)
            expected = list(splits_mod.generate(params))
            assert len(got) == params["count"] == len(expected)
            for a, b in zip(got, expected):
                assert_same(a, b)
            assert {t.n for t in got} == {TINY[split].n}
    entry = manifest["splits"]["bfs/val"]
    assert entry["sha256"] == store.file_sha256(tmp_path / "bfs" / "val.safetensors")
    assert entry["seed"] == 2 and entry["chunk"] == 4
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert on_disk == manifest


def test_split_chunks_follow_the_seed_scheme(small_chunks):
    params = split_params("bfs", "train", TINY["train"])
    trajs = list(splits_mod.generate(params))
    expected = chunk("bfs", 5, 4, 1, 0) + chunk("bfs", 5, 4, 1, 1) + chunk("bfs", 5, 2, 1, 2)
    for a, b in zip(trajs, expected, strict=True):
        assert_same(a, b)


def test_regeneration_gives_same_bytes(tmp_path, small_chunks):
    m1 = write_splits(tmp_path / "a", "bfs", TINY)
    m2 = write_splits(tmp_path / "b", "bfs", TINY)
    for split in TINY:
        rel = f"bfs/{split}.safetensors"
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
        assert m1["splits"][f"bfs/{split}"]["sha256"] == m2["splits"][f"bfs/{split}"]["sha256"]


def test_corrupted_split_is_detected_with_a_clear_error(tmp_path):
    write_splits(tmp_path, "bfs", TINY)
    path = tmp_path / "bfs" / "train.safetensors"
    expected = json.loads((tmp_path / "manifest.json").read_text())["splits"]["bfs/train"]["sha256"]
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # flip one bit
    path.write_bytes(raw)
    with pytest.raises(SplitError) as err:
        load_split(tmp_path, "bfs", "train")
    msg = str(err.value)
    for part in (str(path), expected, store.file_sha256(path), "write_splits", "'train'"):
        assert part in msg
    load_split(tmp_path, "bfs", "val")  # the others are fine


def test_mismatched_or_missing_split_is_detected(tmp_path):
    write_splits(tmp_path, "bfs", TINY)
    # a valid file of another split put in place of test, with the manifest hash made to agree
    src, dst = tmp_path / "bfs" / "val.safetensors", tmp_path / "bfs" / "test.safetensors"
    dst.write_bytes(src.read_bytes())
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["splits"]["bfs/test"]["sha256"] = store.file_sha256(dst)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SplitError, match="manifest expects bfs/test"):
        load_split(tmp_path, "bfs", "test")
    (tmp_path / "bfs" / "val.safetensors").unlink()
    with pytest.raises(SplitError, match="missing.*write_splits"):
        load_split(tmp_path, "bfs", "val")
    with pytest.raises(SplitError, match="no split insertion_sort/train"):
        load_split(tmp_path, "insertion_sort", "train")
    with pytest.raises(FileNotFoundError, match="write_splits"):
        load_split(tmp_path / "nowhere", "bfs", "train")
    (tmp_path / "manifest.json").write_text("{oops")
    with pytest.raises(SplitError, match="unreadable manifest"):
        load_split(tmp_path, "bfs", "train")


def test_failure_mid_generation_leaves_nothing(tmp_path, small_chunks, monkeypatch):
    write_splits(tmp_path, "bfs", {"val": TINY["val"]})
    def files():  # lock files (empty, kept by design: nar.locking) are not data
        return {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".lock"}

    before = files()
    calls = []

    def failing_chunk(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:  # the second chunk of train fails
            raise KeyboardInterrupt
        return chunk(*args, **kwargs)

    monkeypatch.setattr(splits_mod, "chunk", failing_chunk)
    with pytest.raises(KeyboardInterrupt):
        write_splits(tmp_path, "bfs", TINY)
    after = files()
    assert after == before  # no partial train file, no temp file, manifest unchanged


class _FailingFile:
    """A file whose third write raises, as a full disk would."""

    def __init__(self, f):
        self.f, self.writes = f, 0

    def write(self, data):
        self.writes += 1
        if self.writes == 3:
            raise OSError("disk full")
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def test_failure_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "x.safetensors"
    save_trajectories(path, nar.sample("bfs", 4, 2, seed=0))
    old = path.read_bytes()
    monkeypatch.setattr(store, "open", lambda *a, **k: _FailingFile(open(*a, **k)), raising=False)
    with pytest.raises(OSError, match="disk full"):  # header and one tensor written, then failure
        save_trajectories(path, nar.sample("bfs", 4, 2, seed=1))
    monkeypatch.undo()

    def fail(*_):
        raise OSError("fsync failed")

    monkeypatch.setattr(store.os, "fsync", fail)  # after every byte went to the temp file
    with pytest.raises(OSError, match="fsync failed"):
        save_trajectories(path, nar.sample("bfs", 4, 2, seed=1))
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["x.safetensors"]


def test_interrupted_run_resumes(tmp_path, small_chunks):
    first = write_splits(tmp_path, "bfs", TINY)
    kept = tmp_path / "bfs" / "train.safetensors"
    stat = kept.stat()
    (tmp_path / "bfs" / "val.safetensors").unlink()  # never finished
    corrupted = tmp_path / "bfs" / "test.safetensors"
    corrupted.write_bytes(corrupted.read_bytes()[:-3])  # truncated
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / "bfs" / f".val.safetensors.tmp.{dead.pid}.abcd1234"
    stale.write_bytes(b"half a file")
    events = []
    second = write_splits(tmp_path, "bfs", TINY, progress=lambda d, t, what: events.append((d, t, what)))
    assert second == first  # same hashes: rewritten splits have the same bytes
    assert kept.stat().st_mtime_ns == stat.st_mtime_ns and kept.stat().st_ino == stat.st_ino
    assert events[0] == (10, 15, "bfs/train (verified, skipped)")
    assert events[-1][:2] == (15, 15)
    assert not stale.exists()
    assert len(load_split(tmp_path, "bfs", "test")) == 2


def test_other_parameters_need_overwrite(tmp_path):
    write_splits(tmp_path, "bfs", {"val": TINY["val"]})
    other = {"val": SplitSpec(n=4, count=3, seed=9)}
    with pytest.raises(SplitError, match="overwrite=True"):
        write_splits(tmp_path, "bfs", other)
    write_splits(tmp_path, "bfs", other, overwrite=True)
    assert json.loads((tmp_path / "manifest.json").read_text())["splits"]["bfs/val"]["seed"] == 9
    path = tmp_path / "bfs" / "val.safetensors"
    ino = path.stat().st_ino
    write_splits(tmp_path, "bfs", other, overwrite=True)  # regenerates even a verified split
    assert path.stat().st_ino != ino
    assert len(load_split(tmp_path, "bfs", "val")) == 3


# ----------------------------------------------------------------------------- PyG
def test_to_pyg_without_pyg_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch_geometric", None)
    monkeypatch.setitem(sys.modules, "torch_geometric.data", None)
    with pytest.raises(ImportError, match=r"pip install 'nar\[pyg\]'"):
        to_pyg(nar.sample("bfs", 4, 1)[0])


def test_to_pyg_wraps_the_dict(monkeypatch):
    import types

    class Data:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    fake = types.ModuleType("torch_geometric.data")
    fake.Data = Data
    monkeypatch.setitem(sys.modules, "torch_geometric", types.ModuleType("torch_geometric"))
    monkeypatch.setitem(sys.modules, "torch_geometric.data", fake)
    t = nar.sample("bfs", 5, 1)[0]
    data = to_pyg(t)
    assert data.kwargs.keys() == to_pyg_dict(t).keys()
    assert torch.equal(data.kwargs["edge_index"], to_pyg_dict(t)["edge_index"])


def test_to_pyg_dict_bfs_values():
    A = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], float)
    t = nar.execute("bfs", A=A, s=0)
    d = to_pyg_dict(t)
    adj = t.inputs["adj"]
    src, dst = d["edge_index"].numpy()
    assert sorted(zip(src.tolist(), dst.tolist())) == sorted(zip(*np.nonzero(adj)))
    assert d["num_nodes"] == 3 and d["length"] == t.length
    np.testing.assert_array_equal(d["input_A"].numpy(), A[src, dst])
    assert d["input_adj"].numpy().tolist() == [1.0] * len(src)
    assert d["hint_reach_h"].shape == (3, t.length)  # node-major, time second
    np.testing.assert_array_equal(d["hint_reach_h"].numpy(), t.hints["reach_h"].T)
    np.testing.assert_array_equal(d["output_pi"].numpy(), t.outputs["pi"])
    assert d["output_pi"].dtype == torch.int64


@pytest.mark.parametrize("name", ALGOS)
def test_to_pyg_dict_shapes(name):
    t = mixed(name, (5,))[0]
    d = to_pyg_dict(t, length=t.length + 2)
    E = d["edge_index"].shape[1]
    if "adj" not in t.inputs:
        assert E == t.n * t.n
    for k, p in t.spec.items():
        x = d[f"{p.stage.value}_{k}"]
        first = {Location.NODE: t.n, Location.EDGE: E, Location.GRAPH: 1}[p.location]
        assert x.shape[0] == first, k
        if p.stage == Stage.HINT:
            assert x.shape[1] == t.length + 2, k
            assert torch.equal(x[:, -1], x[:, t.length - 1]), k  # padded by repeating the last step
    with pytest.raises(ValueError, match="shorter"):
        to_pyg_dict(t, length=t.length - 1)
    with pytest.raises(ValueError, match="edges"):
        to_pyg_dict(t, edges="sparse")

