"""The ``nar`` command line as a new user meets it: DEAR by flags, defaults announced, config keys
spelled as the flags, honest labels and paths, networkx labels kept."""
import json

import numpy as np
import pytest

import nar
from nar.cli import main
from nar.train import ConfigError, TrainConfig

TINY = ["--hidden", "16", "--batch-size", "4", "--threads", "1", "--device", "cpu", "--quiet",
        "--set", "train_sizes=4,5", "--set", "val_count=4", "--set", "test_count=4", "--set", "test_n=8",
        "--set", "val_n=5", "--set", "eval_every=2", "--set", "checkpoint_every=2", "--set", "eval_batch_size=4"]


@pytest.fixture(scope="module")
def deq_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("deq") / "bf"
    return out, main(["train", "--model", "deq", "--algorithm", "bellman_ford", "--solver", "anderson",
                      "--tol", "0.1", "--max-iter", "6", "--eval-max-iter", "8", "--processor", "mpnn",
                      "--steps", "2", "--out", str(out), *TINY])


# ---------------------------------------------------------------------------------------------- item 1: DEAR
def test_deq_by_flags_maps_to_model_options_and_reports_the_solver(deq_run, capsys):
    out, code = deq_run
    assert code == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model"] == "deq"
    assert cfg["model_options"] == {"solver": "anderson", "tol": 0.1, "max_iter": 6, "eval_max_iter": 8}
    res = json.loads((out / "results.json").read_text())
    assert res["step_count"] == "solver"
    test = res["test"]["bellman_ford"]
    assert test["step_count"] == "solver"
    assert 1 <= test["solver"]["iterations/max"] <= 8 and test["solver"]["residual/max"] >= 0
    assert set(res["solver"]["val"]["bellman_ford"]) >= {"iterations/mean", "iterations/max", "residual/mean",
                                                           "residual/max", "converged"}
    assert res["solver"]["options"]["tol"] == 0.1 and res["solver"]["options"]["grad"] == "phantom"
    evals = (out / "eval.csv").read_text()
    assert "solver/iterations/mean" in evals and "truth" not in evals


def test_deq_summary_names_the_solver_not_a_step_count(tmp_path, capsys):
    code = main(["train", "--model", "deq", "--algorithm", "bfs", "--solver", "fixed_point", "--max-iter", "3",
                 "--eval-max-iter", "3", "--processor", "mpnn", "--steps", "1", "--out", str(tmp_path / "r"), *TINY])
    assert code == 0
    text = capsys.readouterr().out
    assert "step count" not in text
    assert "solver fixed_point, tol 0.01 (rel), at most 3 iterations in training, 3 in evaluation" in text
    assert "validation bfs: solver iterations mean" in text
    assert "test bfs (n=8, 4 samples):" in text and "residual mean" in text


def test_a_model_option_flag_of_another_model_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "--algorithm", "bfs", "--solver", "anderson", "--tol", "0.1",
                 "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "--solver, --tol apply to --model deq only, but this run's model is 'reasoner'; add --model deq" in err
    # the model may come from --set or a config file as well
    assert main(["train", "--set", "model=deq", "--tol", "0.5", "--steps", "1", "--out", str(tmp_path / "y"),
                 "--processor", "nope_not_checked_here"]) == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


@pytest.mark.parametrize("args, message", [
    (["--tol", "-1"], "solver tol must be > 0, got -1.0 (flags given: --tol -1.0)"),
    (["--tol", "abc"], "argument --tol: must be a number, got 'abc'"),
    (["--max-iter", "2.5"], "argument --max-iter: must be an integer, got '2.5'"),
    (["--solver", "newton"], "argument --solver: invalid choice: 'newton'"),
    (["--cgp", "maybe"], "argument --cgp: must be true or false"),
    (["--align-weight", "0.1"], "align_weight > 0 needs model_options.teacher"),
])
def test_deq_flags_are_validated_before_the_run_folder_is_made(tmp_path, capsys, args, message):
    out = tmp_path / "run"
    assert main(["train", "--model", "deq", "--algorithm", "bfs", *args, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_set_overrides_a_model_option_flag():
    from nar.train.cli import build_config
    from nar.cli import build_parser

    args = build_parser().parse_args(["train", "--model", "deq", "--tol", "0.5", "--set", "model_options.tol=0.2"])
    assert build_config(args).model_options == {"tol": 0.2}


def test_train_help_lists_models_processors_options_and_defaults(capsys):
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for name in nar.models.list_processors():
        assert name in text
    for piece in ("--model {reasoner,deq}", "(default reasoner)", "(default triplet_gmpnn)", "(default 10000)",
                  "(default 32)", "(default 0.001)", "(default 128)", "(default 42)", "(default auto)",
                  "(default bfs", "(default truth", "--solver {fixed_point,anderson,broyden}", "(default anderson)",
                  "--tol TOL", "(default 0.01)", "--max-iter MAX_ITER", "(default 40)", "(default 160)",
                  "--teacher TEACHER", "(default none)", "--cgp {true,false}"):
        assert piece in text, piece


# ---------------------------------------------------------------------------------------------- item 2
def test_no_algorithm_says_what_it_trains(tmp_path, capsys):
    assert main(["train", "--steps", "1", "--processor", "mpnn", "--out", str(tmp_path / "r"), *TINY]) == 0
    assert "no --algorithm given: training bfs (the default)" in capsys.readouterr().out
    cfg = tmp_path / "c.yaml"
    cfg.write_text("algorithm: dfs\n")
    from nar.train.cli import _algorithm_named
    from nar.cli import build_parser

    assert _algorithm_named(build_parser().parse_args(["train", "--config", str(cfg)]))
    assert _algorithm_named(build_parser().parse_args(["train", "--set", "algorithms=dfs"]))
    assert not _algorithm_named(build_parser().parse_args(["train", "--set", "steps=3"]))


def test_resume_of_a_run_that_does_not_exist_is_an_error(tmp_path, capsys):
    assert main(["train", "--resume", "--out", str(tmp_path / "nothing")]) == 2
    assert "no training run to resume there" in capsys.readouterr().err
    assert main(["train", "--resume"]) == 2
    assert "--resume needs --out" in capsys.readouterr().err


def test_config_accepts_algorithm_like_the_flag(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("algorithm: dfs\nsteps: 3\n")
    assert TrainConfig.load(f).algorithms == ["dfs"]
    j = tmp_path / "c.json"
    j.write_text(json.dumps({"algorithm": ["bfs", "dfs"]}))
    assert TrainConfig.load(j).algorithms == ["bfs", "dfs"]
    assert TrainConfig().with_overrides(["algorithm=dfs"]).algorithms == ["dfs"]
    assert TrainConfig.from_dict({"algorithm": "bfs"}).algorithms == ["bfs"]
    both = tmp_path / "both.yaml"
    both.write_text("algorithm: dfs\nalgorithms: bfs\n")
    with pytest.raises(ConfigError, match="give 'algorithm' .* or 'algorithms' .*, not both"):
        TrainConfig.load(both)
    with pytest.raises(ConfigError, match="not both"):
        TrainConfig().with_overrides(["algorithm=dfs", "algorithms=bfs"])
    # a file naming one and --set the other: the later source wins, as for any key
    assert TrainConfig.load(f, ["algorithms=bfs"]).algorithms == ["bfs"]


def test_eval_json_labels_custom_sets_honestly(deq_run, capsys):
    out, _ = deq_run
    assert main(["eval", str(out), "--n", "8", "--count", "3", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)["bellman_ford"]
    assert res["split"] == "custom (n=8, count=3, seed=3)" and res["step_count"] == "solver"
    from nar.train.cli import set_label

    assert set_label("bfs", 64, 32, None) == "test"
    assert set_label("bfs", 64, 32, 3) == "test"
    assert set_label("bfs", 64, 32, 4) == "custom (n=64, count=32, seed=4)"
    assert set_label("bfs", 128, 5, None) == "custom (n=128, count=5, seed=3)"


def test_eval_table_names_the_set(deq_run, capsys):
    out, _ = deq_run
    assert main(["eval", str(out), "--n", "8", "--count", "3"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("set: custom (n=8, count=3, seed=3)") and "| solver |" in text


def test_report_says_where_it_writes(deq_run, tmp_path, capsys, monkeypatch):
    out, _ = deq_run
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(out), "--out", "rep"]) == 0
    text = capsys.readouterr().out
    assert f"wrote {tmp_path / 'rep' / 'report.md'}" in text
    assert (tmp_path / "rep" / "report.md").is_file()


# ---------------------------------------------------------------------------------------------- item 3
def test_exact_verify_ends_with_a_plain_sentence(capsys):
    assert main(["exact", "verify", "bfs", "--graphs", "5", "--nodes", "2-5", "--predictor", "ntk"]) == 0
    lines = capsys.readouterr().out.splitlines()
    plain = [line for line in lines if line.startswith("In plain words:")]
    assert len(plain) == 1
    assert "on all 5 random graphs every output equals the textbook algorithm's, without a single error" in plain[0]
    assert "no node matches more than" in plain[0]
    assert main(["exact", "verify", "bfs", "--graphs", "3", "--predictor", "ideal"]) == 0
    assert "without a single error." in capsys.readouterr().out


def test_demo_bar_counts_seconds_not_a_step_cap(tmp_path, capsys):
    from nar.train.demo import TimedTrainer

    cfg = TrainConfig(hidden=8, batch_size=4, train_sizes=[4, 5], val_count=4, test_count=4, test_n=8, val_n=5,
                      eval_batch_size=4, eval_every=5, checkpoint_every=5, log_every=5, threads=1, device="cpu",
                      steps=100_000, time_limit=1.0, processor="mpnn")
    res = TimedTrainer(cfg, tmp_path / "run").run()
    err = capsys.readouterr().err
    assert 0 < res["steps_done"] < 100_000
    assert "100000" not in err and "1/1 s" in err and "100%" in err


# ---------------------------------------------------------------------------------------------- item 4
def test_predict_takes_a_networkx_label_for_s(deq_run):
    nx = pytest.importorskip("networkx")
    from nar.api import graph_nodes, to_labels

    out, _ = deq_run
    G = nx.DiGraph()
    G.add_weighted_edges_from([("a", "b", 1.0), ("b", "c", 2.0), ("a", "c", 5.0)])
    pred = nar.load(out).predict("bellman_ford", A=G, s="a")["pi"]
    same = nar.load(out).predict("bellman_ford", A=nx.to_numpy_array(G, nodelist=["a", "b", "c"]), s=0)["pi"]
    assert np.array_equal(pred, same)
    assert set(to_labels(pred, graph_nodes(G)).tolist()) <= {"a", "b", "c"}
    with pytest.raises(nar.InputError, match="not a node"):
        nar.load(out).predict("bellman_ford", A=G, s=0)
