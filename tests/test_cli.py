"""The `nar` command: algorithms, show, sample and its errors."""
import numpy as np
import pytest

from nar.cli import main


def test_algorithms_lists_thirty_with_outputs(capsys):
    assert main(["algorithms"]) == 0
    out = capsys.readouterr().out
    assert "find_maximum_subarray_kadane" in out and "pi (node pointer)" in out
    assert len([l for l in out.splitlines()[1:] if l.strip()]) == 30


def test_show_prints_steps_and_writes_png(tmp_path, capsys):
    png = tmp_path / "fig.png"
    assert main(["show", "insertion_sort", "--n", "5", "--seed", "1", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert "t=0" in out and "pred_h=" in out and "outputs:" in out
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"


def test_show_graph_algorithm_png(tmp_path):
    png = tmp_path / "bfs.png"
    assert main(["show", "bfs", "--n", "6", "--png", str(png)]) == 0
    assert png.exists()


def test_unknown_algorithm_is_a_clear_error(capsys):
    assert main(["show", "bogo_sort"]) == 2
    err = capsys.readouterr().err
    assert "unknown algorithm 'bogo_sort'" in err and "insertion_sort" in err


def test_sample_writes_file_that_loads_back(tmp_path):
    from nar.data import load_trajectories

    out = tmp_path / "bfs.safetensors"
    assert main(["sample", "bfs", "--n", "6", "--count", "5", "--seed", "3", "--out", str(out), "--quiet"]) == 0
    back = load_trajectories(out)
    import nar

    direct = nar.sample("bfs", n=6, count=5, seed=3)
    assert len(back) == 5
    for a, b in zip(back, direct):
        for k in b.hints:
            np.testing.assert_array_equal(a.hints[k], b.hints[k])


@pytest.mark.parametrize("args", [["--n", "0"], ["--count", "0"], ["--option", "q=3"]])
def test_sample_bad_arguments_write_nothing(tmp_path, args, capsys):
    out = tmp_path / "x.safetensors"
    assert main(["sample", "bfs", "--out", str(out), "--quiet", *args]) == 2
    assert not out.exists()
    assert "error" in capsys.readouterr().err


def test_splits_command_writes_and_verifies(tmp_path, capsys):
    from nar.data import load_split

    args = ["splits", "minimum", "--out", str(tmp_path), "--splits", "val", "--quiet"]
    assert main(args) == 0
    assert len(load_split(tmp_path, "minimum", "val")) == 32 * 64
    assert main(args) == 0  # resume: verified, skipped
    assert "verified" in capsys.readouterr().out


def test_lazy_submodules():
    import nar

    assert nar.data.collate is not None
    with pytest.raises(AttributeError):
        nar.bogus
