"""nar.pretrained: export a run, list/card/load with the sha256 check, check scores reproduced, errors."""
import json

import pytest
import torch

import nar
import nar.pretrained as pre
from nar.cli import main as cli
from nar.train import TrainConfig, train


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrained")
    run = root / "run"
    cfg = TrainConfig(algorithms=["bfs"], processor="mpnn", hidden=8, steps=4, eval_every=2, checkpoint_every=2,
                      val_count=4, test_count=4, device="cpu", seed=3)
    train(cfg, run, progress=False)
    lib = root / "lib"
    card = pre.export(run, "mpnn-bfs-tiny", root=lib, counts={16: 4, 64: 4}, code_commit="abc")
    return lib, run, card


def test_export_writes_a_complete_card(library):
    lib, _, card = library
    assert pre.list_entries(lib) == ["mpnn-bfs-tiny"] and pre.list(lib) == ["mpnn-bfs-tiny"]
    assert card == pre.card("mpnn-bfs-tiny", lib)
    for key in ("algorithms", "processor", "hidden", "config", "steps_done", "steps_budget", "data_seeds",
                "scores", "check_scores", "files", "code_commit", "parameters", "best_val"):
        assert key in card, key
    assert card["processor"] == "mpnn" and card["hidden"] == 8 and card["steps_done"] == 4
    assert set(card["scores"]) == {"16", "64"} and 0 <= card["scores"]["64"]["bfs"] <= 1
    assert "| mpnn-bfs-tiny | mpnn | 8 | bfs | 4/4 |" in pre.table(lib)
    # one file per part: the reusable processor, and each algorithm's encoders/decoders
    assert set(card["files"]) == {"processor", "heads.bfs"}
    assert sorted(p.name for p in lib.glob("*.safetensors")) == [
        "mpnn-bfs-tiny.heads.bfs.safetensors", "mpnn-bfs-tiny.processor.safetensors"]
    assert card["bytes"] == sum(f["bytes"] for f in card["files"].values())


def test_load_gives_the_runs_weights_and_a_wrapper(library):
    lib, run, _ = library
    entry = pre.load("mpnn-bfs-tiny", root=lib)
    ref = nar.load(run).model.state_dict()
    # the stored weights are the run's, rounded to half precision (and loaded back as float32)
    assert all(torch.equal(ref[k].to(pre.STORAGE_DTYPE).to(ref[k].dtype) if ref[k].is_floating_point() else ref[k], v)
               and v.dtype == ref[k].dtype for k, v in entry.model.state_dict().items())
    block = entry.processor_module(node_dim=5)
    assert block.processor is entry.processor
    assert block(node=torch.randn(2, 3, 5)).node.shape == (2, 3, 16)


def test_verify_reproduces_the_check_scores(library):
    lib, _, card = library
    res = pre.verify("mpnn-bfs-tiny", scores=True, root=lib)
    for n in ("16", "64"):
        assert res["scores"][int(n)] == pytest.approx(card["check_scores"][n], abs=1e-6)


def test_tampered_card_scores_are_caught(library, tmp_path):
    lib, _, card = library
    for f in lib.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    card = json.loads((tmp_path / "mpnn-bfs-tiny.json").read_text())
    card["check_scores"]["64"]["bfs"] = min(1.0, card["check_scores"]["64"]["bfs"] + 0.25) - (
        0.5 if card["check_scores"]["64"]["bfs"] > 0.7 else 0)
    (tmp_path / "mpnn-bfs-tiny.json").write_text(json.dumps(card))
    with pytest.raises(pre.PretrainedError, match="differ from the card"):
        pre.verify("mpnn-bfs-tiny", scores=True, root=tmp_path)


def test_corrupted_weights_and_unknown_names_are_clear_errors(library, tmp_path):
    lib, _, _ = library
    for f in lib.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    w = tmp_path / "mpnn-bfs-tiny.heads.bfs.safetensors"
    data = bytearray(w.read_bytes())
    data[-3] ^= 0x55
    w.write_bytes(bytes(data))
    with pytest.raises(pre.PretrainedError, match="heads.bfs.safetensors: sha256"):
        pre.load("mpnn-bfs-tiny", root=tmp_path)
    data[-3] ^= 0x55
    w.write_bytes(bytes(data))  # repaired
    pre.load("mpnn-bfs-tiny", root=tmp_path)
    (tmp_path / "mpnn-bfs-tiny.processor.safetensors").unlink()
    with pytest.raises(pre.PretrainedError, match="the processor weights of 'mpnn-bfs-tiny' are missing"):
        pre.load("mpnn-bfs-tiny", root=tmp_path)
    with pytest.raises(pre.PretrainedError, match="available: mpnn-bfs-tiny"):
        pre.load("nope", root=tmp_path)
    with pytest.raises(nar.validation.InputError, match="name"):
        pre.export("x", "../evil", root=tmp_path)


def test_old_card_format_and_unknown_heads_are_clear_errors(library, tmp_path):
    lib, _, _ = library
    for f in lib.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    with pytest.raises(nar.validation.InputError, match="trained on bfs; got"):
        pre.load("mpnn-bfs-tiny", root=tmp_path, algorithms=["dijkstra"])
    card = json.loads((tmp_path / "mpnn-bfs-tiny.json").read_text())
    card["format"] = "nar.pretrained/1"
    (tmp_path / "mpnn-bfs-tiny.json").write_text(json.dumps(card))
    with pytest.raises(pre.PretrainedError, match="re-export"):
        pre.load("mpnn-bfs-tiny", root=tmp_path)


def test_a_subset_of_heads_loads_without_the_others(tmp_path):
    # a two-algorithm entry: the processor and one algorithm's heads load without the other's file
    run = tmp_path / "run"
    cfg = TrainConfig(algorithms=["bfs", "bellman_ford"], processor="mpnn", hidden=8, steps=2, eval_every=2,
                      checkpoint_every=2, val_count=2, test_count=2, device="cpu", seed=1)
    train(cfg, run, progress=False)
    lib = tmp_path / "lib"
    card = pre.export(run, "two", root=lib, counts={16: 2})
    assert set(card["files"]) == {"processor", "heads.bfs", "heads.bellman_ford"}
    (lib / card["files"]["heads.bellman_ford"]["file"]).unlink()
    entry = pre.load("two", root=lib, algorithms="bfs")
    assert entry.model.algorithms == ["bfs"]
    full = nar.load(run).model.state_dict()
    for k, v in entry.model.state_dict().items():
        assert torch.equal(v, full[k].to(pre.STORAGE_DTYPE).to(v.dtype)), k
    with pytest.raises(pre.PretrainedError, match="heads.bellman_ford weights of 'two' are missing"):
        pre.load("two", root=lib)


def test_cli_unknown_entry_is_one_line(capsys):
    assert cli(["pretrained", "show", "no-such-entry"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no pretrained entry 'no-such-entry'" in err


@pytest.mark.parametrize("name", pre.list_entries())
def test_shipped_entry_loads_with_its_hash(name):
    entry = pre.load(name)
    card = entry.card
    assert card["name"] == name and card["storage_dtype"] == "torch.float16"
    assert all(f["bytes"] < 700_000 for f in card["files"].values())  # every file small
    assert entry.hidden == card["hidden"] == entry.processor.m1.weight.shape[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", pre.list_entries())
def test_shipped_entry_reproduces_its_check_scores(name):
    pre.verify(name, scores=True)


def test_docs_table_matches_the_shipped_cards():
    from pathlib import Path

    table = Path(__file__).resolve().parents[1] / "docs" / "_snippets" / "pretrained_table.md"
    assert table.read_text().strip() == pre.table().strip(), (
        "regenerate with: python -c \"import nar.pretrained as p; print(p.table())\" > docs/_snippets/pretrained_table.md")


def test_shipped_library_stays_small():
    total = sum(pre.card(n)["bytes"] for n in pre.list_entries())
    assert total < 20_000_000, f"the pretrained weights grew to {total / 1e6:.1f} MB (budget 20 MB)"
