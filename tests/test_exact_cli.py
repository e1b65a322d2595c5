"""``nar exact verify | run | info`` through the sub-parser the main CLI wires in."""
import argparse
import json

import numpy as np
import pytest

from nar.exact import cli


def _main(argv):
    parser = argparse.ArgumentParser(prog="nar")
    sub = parser.add_subparsers(dest="command", required=True)
    cli.add_subparser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.mark.parametrize("program", ["flooding", "bfs"])
def test_verify_passes_and_writes_json(program, tmp_path, capsys):
    out = tmp_path / "v.json"
    rc = _main(["exact", "verify", program, "--graphs", "12", "--nodes", "2-7", "--max-degree", "3",
                "--predictor", "ntk", "--seed", "1", "--json", str(out), "-v"])
    text = capsys.readouterr().out
    assert rc == 0 and "12/12 graphs exact" in text and text.count("ok   graph") == 12
    data = json.loads(out.read_text())
    assert data["passed"] == 12 and len(data["results"]) == 12


def test_verify_bellman_ford_ideal(capsys):
    assert _main(["exact", "verify", "bellman_ford", "--graphs", "8", "--predictor", "ideal"]) == 0
    assert "8/8 graphs exact" in capsys.readouterr().out


def test_run_on_an_edge_list(tmp_path, capsys):
    f = tmp_path / "g.txt"
    f.write_text("# labels need not start at 0\n10 11 2\n11 12 1\n10 12 5\n12 13 1\n")
    assert _main(["exact", "run", "bellman_ford", "--graph", str(f)]) == 0
    text = capsys.readouterr().out
    assert "matches the textbook result" in text
    rows = [line.split() for line in text.splitlines()[2:]]
    assert [r[0] for r in rows] == ["10", "11", "12", "13"]
    assert [r[2] for r in rows] == ["0", "2", "3", "4"] and [r[3] for r in rows] == ["10", "10", "11", "12"]


def test_run_reads_networkx_and_npy(tmp_path, capsys):
    nx = pytest.importorskip("networkx")
    G = nx.path_graph(["a", "b", "c"])
    path = tmp_path / "g.graphml"
    nx.write_graphml(G, path)
    assert _main(["exact", "run", "bfs", "--graph", str(path), "--predictor", "ideal"]) == 0
    np.save(tmp_path / "a.npy", nx.to_numpy_array(nx.cycle_graph(5)))
    assert _main(["exact", "run", "dfs", "--graph", str(tmp_path / "a.npy")]) == 0
    assert capsys.readouterr().out.count("matches the textbook result") == 2


@pytest.mark.parametrize("content,program,extra,msg", [
    ("0 1\n0 2\n0 3\n0 4\n", "bfs", ["-D", "3"], "above the program's maximum degree D=3"),
    ("0 1 -1\n1 2 1\n", "bellman_ford", [], "non-negative"),
    ("0 1 1.5\n1 2 1\n", "bellman_ford", [], "integers"),
    ("0 1\n1 2\n", "bellman_ford", [], "needs a weight on every edge"),
    ("0 1\n2 3\n", "dfs", [], "must be connected"),
    ("0 1\n1 2\n2 3\n3 4\n", "dfs", ["-l", "2"], "more than l=2 bits can number"),
    ("0 1\n1 2\n2 3\n3 4\n", "bfs", ["-l", "2"], "4 hops from the source"),
    ("0 x\n", "bfs", [], "not an integer"),
])
def test_bad_input_is_one_clear_line(tmp_path, capsys, content, program, extra, msg):
    f = tmp_path / "bad.txt"
    f.write_text(content)
    assert _main(["exact", "run", program, "--graph", str(f), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and msg in err and err.count("\n") == 1


def test_info_and_argument_errors(capsys):
    assert _main(["exact", "info", "flooding", "-D", "2", "-l", "1"]) == 0
    assert "templates: 21" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        _main(["exact", "verify", "bfs", "--nodes", "7-2"])


def test_parser_names_match_the_registry_and_build_without_torch():
    import subprocess
    import sys

    from nar.exact.programs import PROGRAMS

    assert tuple(sorted(PROGRAMS)) == cli.PROGRAM_NAMES
    code = ("import argparse, sys; from nar.exact import cli; p = argparse.ArgumentParser(); "
            "cli.add_subparser(p.add_subparsers()); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
