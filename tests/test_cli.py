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


# ----------------------------------------------------------------------------- errors are one line
def _run(argv):
    """(exit code, stdout, stderr) of ``nar argv`` run in-process."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _one_error_line(err):
    return err.count("\n") == 1 and err.startswith("nar") and ": error: " in err and "Traceback" not in err


@pytest.mark.parametrize("ext", [".npz", ".st", ".SAFETENSOR", ""])
def test_sample_refuses_an_unknown_extension(tmp_path, ext):
    out = tmp_path / f"x{ext}"
    code, _, err = _run(["sample", "bfs", "--count", "2", "--out", str(out), "--quiet"])
    assert code == 2 and _one_error_line(err)
    assert ".safetensors" in err and str(out) in err
    assert list(tmp_path.iterdir()) == []


def test_sample_prints_the_path_it_wrote(tmp_path):
    out = tmp_path / "sub" / "x.safetensors"
    code, stdout, _ = _run(["sample", "bfs", "--n", "4", "--count", "2", "--out", str(out), "--quiet"])
    assert code == 0 and f"to {out} " in stdout and out.is_file()


def test_sample_progress_covers_writing(tmp_path, capsys):
    out = tmp_path / "x.safetensors"
    assert main(["sample", "bfs", "--n", "4", "--count", "3", "--out", str(out)]) == 0
    last = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "3/3" in last and "writing x.safetensors" in last  # one bar: generate, encode, write


@pytest.mark.parametrize("argv, says", [
    (["sample", "bfs", "--option", "p=abc"], "p"),
    (["sample", "bfs", "--n", "abc"], "--n"),
    (["sample", "bfs", "--seed", "-1"], "--seed"),
    (["sample", "bfs", "--count", "1.5"], "--count"),
    (["show", "bfs", "--n", "-3"], "--n"),
    (["splits", "bfs", "--splits", "dev"], "dev"),
])
def test_bad_arguments_are_one_line(tmp_path, argv, says):
    code, _, err = _run([*argv, "--out", str(tmp_path / "x.safetensors")] if argv[0] != "show" else argv)
    assert code == 2 and _one_error_line(err) and says in err, err


def test_broken_split_folders_are_one_line(tmp_path):
    from nar.data import SplitSpec, write_splits

    args = ["splits", "minimum", "--out", str(tmp_path), "--splits", "val", "--quiet"]
    write_splits(tmp_path, "minimum", {"val": SplitSpec(n=4, count=3, seed=9)})  # other parameters
    code, _, err = _run(args)
    assert code == 2 and _one_error_line(err)
    assert "overwrite=True" in err and "--overwrite" in err
    (tmp_path / "manifest.json").write_text('{"splits": {"minimum/val": {')  # truncated
    code, _, err = _run(args)
    assert code == 2 and _one_error_line(err) and "manifest.json" in err
    (tmp_path / "manifest.json").unlink()
    (tmp_path / "minimum" / "val.safetensors").unlink()
    (tmp_path / "minimum" / "val.safetensors").mkdir()  # a directory where the split goes
    code, _, err = _run(args)
    assert code == 2 and _one_error_line(err) and "val.safetensors is not a regular file" in err
    code, _, err = _run(["sample", "bfs", "--out", str(tmp_path / "minimum" / "val.safetensors"), "--quiet"])
    assert code == 2 and _one_error_line(err) and "is a directory" in err


def test_unwritable_output_is_one_line(tmp_path):
    (tmp_path / "f").write_text("a file")
    code, _, err = _run(["sample", "bfs", "--count", "2", "--out", str(tmp_path / "f" / "x.safetensors"),
                         "--quiet"])
    assert code == 2 and _one_error_line(err) and str(tmp_path / "f") in err


def _arg_values(valid):
    from hypothesis import strategies as st

    return st.one_of(st.integers(-10**30, 0).map(str), valid.map(str), st.text(max_size=6),
                     st.sampled_from(["1e3", "0x10", " 3", "nan", "-", "--", "", "4.0", "٣"]))


def test_cli_argument_fuzz(tmp_path_factory):
    """Random values for --n/--count/--seed and names: exit 0, or exit 2 with one line on stderr."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    small = st.integers(1, 5)
    arg = st.tuples(st.sampled_from(["--n", "--count", "--seed"]),
                    st.one_of(_arg_values(small), st.integers(0, 10**30).map(str)), st.booleans())

    @settings(max_examples=25, deadline=None)
    @given(cmd=st.sampled_from(["sample", "show", "splits"]),
           name=st.sampled_from(["bfs", "insertion_sort", "bogo_sort", "", "-x", "all"]),
           args=st.lists(arg, max_size=3), split=st.sampled_from(["val", "dev", "", "train"]))
    def run(cmd, name, args, split):
        out = tmp_path_factory.mktemp("fuzz")
        argv = [cmd, name]
        if cmd == "splits":
            argv += ["--out", str(out), "--splits", split, "--quiet"]
            if name == "all" or split == "train":  # a valid but long job: keep the example fast
                argv[1] = "bogo_sort"
        else:
            for flag, value, joined in args:
                if cmd == "show" and flag == "--count":
                    continue
                if flag == "--count" and value.isdigit() and int(value) > 5:
                    value = "5"
                if flag == "--n" and value.isdigit() and int(value) > 8:
                    value = "8"
                argv += [f"{flag}={value}"] if joined else [flag, value]
            if cmd == "sample":
                argv += ["--out", str(out / "x.safetensors"), "--quiet"]
        code, _, err = _run(argv)
        assert code in (0, 2), (argv, code, err)
        assert (err == "") if code == 0 else _one_error_line(err), (argv, err)

    run()


def test_version_and_unknown_flags_use_the_subcommands_usage(capsys):
    from nar.cli import main

    assert main(["--version"]) == 0 and capsys.readouterr().out.startswith("nar ")
    assert main(["sample", "bfs", "--out", "x.safetensors", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert "nar sample: error: unrecognized arguments: --bogus" in err and "nar sample --help" in err
    assert main(["pretrained", "show", "x", "--bogus"]) == 2
    assert "nar pretrained show: error" in capsys.readouterr().err


def test_closed_pipe_is_not_an_error():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "nar.cli", "algorithms"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.read(10)
    proc.stdout.close()  # the reader leaves, as `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0 and "Traceback" not in err and "Broken pipe" not in err


def test_splits_says_what_it_wrote_and_what_it_verified(tmp_path, capsys):
    from nar.cli import main

    out = str(tmp_path / "sp")
    assert main(["splits", "bfs", "--out", out, "--splits", "val", "--quiet"]) == 0
    assert "wrote 1 split(s) (" in capsys.readouterr().out
    assert main(["splits", "bfs", "--out", out, "--splits", "val", "test", "--quiet"]) == 0
    assert "wrote 1 split(s), 1 already there and verified" in capsys.readouterr().out
