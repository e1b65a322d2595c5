"""``nar exact verify | run | info`` through the sub-parser the main CLI wires in."""
import argparse
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# ---- malformed files and arguments: exit 2 and one line on stderr, never a traceback ------------
def _nar(argv, capsys):
    """The ``nar`` command in-process: (exit code, stdout, stderr)."""
    from nar.cli import main

    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def _one_clear_line(rc, err, *needles):
    assert rc == 2, err
    assert "Traceback" not in err and err.count("\n") == 1 and "error: " in err, err
    for needle in needles:
        assert needle in err, err


_GRAPHML = ('<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
            '<key id="w" for="edge" attr.name="weight" attr.type="{type}"/>'
            '<graph edgedefault="undirected"><node id="a"/><node id="b"/><node id="c"/>'
            '<edge source="a" target="b"><data key="w">{w}</data></edge>'
            '<edge source="b" target="c"><data key="w">1</data></edge></graph></graphml>')

BAD_FILES = [  # (file name, content, program, what the error must say)
    ("nan.txt", "0 1 nan\n1 2 1\n", "bellman_ford", "nan.txt:1: weight 'nan' must be a finite number"),
    ("inf.txt", "0 1 1\n1 2 -inf\n", "bellman_ford", "inf.txt:2: weight '-inf' must be a finite number"),
    ("big.txt", "0 1 1e30\n1 2 1\n", "bellman_ford", "magnitude <= 2^53"),
    ("binary.txt", bytes(range(256)) * 3, "bfs", "not a text edge list"),
    ("binary.graphml", bytes(range(128, 256)) * 3, "bfs", "cannot read it as graphml"),
    ("broken.graphml", '<graphml><graph edgedefault="undirected"><node id="a"/><edge source="a"',
     "bfs", "cannot read it as graphml"),
    ("broken.gml", "graph [ node [ id 0 ] edge [ source 0 target", "bfs", "cannot read it as gml"),
    ("binary.gexf", b"\x00\xff" * 100, "dfs", "cannot read it as gexf"),
    ("nan_weight.graphml", _GRAPHML.format(type="double", w="NaN"), "bellman_ford",
     "edge weights must be finite numbers"),
    ("inf_weight.graphml", _GRAPHML.format(type="double", w="INF"), "bellman_ford",
     "edge weights must be finite numbers"),
    ("text_weight.graphml", _GRAPHML.format(type="string", w="heavy"), "bellman_ford",
     "edge weights must be numbers"),
    ("binary.npy", b"\x00\x01" * 100, "bfs", "not a NumPy .npy file"),
    ("empty.txt", "", "bfs", "no nodes or edges"),
]


@pytest.mark.parametrize("name, content, program, needle", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_a_bad_graph_file_is_one_line_naming_it(tmp_path, capsys, name, content, program, needle):
    if name.endswith((".graphml", ".gml", ".gexf")):
        pytest.importorskip("networkx")
    path = tmp_path / name
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    rc, _, err = _nar(["exact", "run", program, "--graph", str(path), "--predictor", "ideal"], capsys)
    _one_clear_line(rc, err, needle, name)


@pytest.mark.parametrize("make, needle", [
    (lambda: np.array([[0, np.nan], [np.nan, 0]]), "adjacency must be finite"),
    (lambda: np.array([["a", "b"], ["b", "a"]]), "adjacency must be a numeric matrix"),
    (lambda: np.array([{}, {}], dtype=object), "not a readable numeric .npy array"),
])
def test_a_bad_npy_matrix_is_one_line(tmp_path, capsys, make, needle):
    path = tmp_path / "a.npy"
    np.save(path, make(), allow_pickle=True)
    rc, _, err = _nar(["exact", "run", "bfs", "--graph", str(path), "--predictor", "ideal"], capsys)
    _one_clear_line(rc, err, needle)


def test_a_directory_or_truncated_npy_is_one_line(tmp_path, capsys):
    rc, _, err = _nar(["exact", "run", "bfs", "--graph", str(tmp_path)], capsys)
    _one_clear_line(rc, err, "is not a regular file")
    path = tmp_path / "cut.npy"
    np.save(path, np.ones((8, 8)))
    path.write_bytes(path.read_bytes()[:100])
    rc, _, err = _nar(["exact", "run", "bfs", "--graph", str(path)], capsys)
    _one_clear_line(rc, err, "not a readable numeric .npy array")


BAD_ARGUMENTS = [  # (arguments after `nar exact`, the argument the error must name)
    (["run", "bfs", "--predictor", "ensemble", "--members", "0"], "--members"),
    (["run", "bfs", "--predictor", "ensemble", "--width", "0"], "--width"),
    (["run", "bfs", "--width", "-3"], "--width"),
    (["run", "bfs", "--pad", "-5"], "--pad"),
    (["run", "bfs", "--members", "many"], "--members"),
    (["run", "bfs", "--bits", "0"], "--bits"),
    (["run", "bfs", "-D", "0"], "--max-degree"),
    (["run", "bfs", "--seed", "-1"], "--seed"),
    (["verify", "bfs", "--graphs", "0"], "--graphs"),
    (["verify", "bfs", "--max-degree", "-2"], "--max-degree"),
    (["verify", "bfs", "--nodes", "0-3"], "--nodes"),
    (["info", "bfs", "--slots", "0"], "--slots"),
    (["info", "bfs", "-l", "x"], "--bits"),
]


@pytest.mark.parametrize("argv, needle", BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_a_bad_argument_is_one_line_naming_it(tmp_path, capsys, argv, needle):
    graph = tmp_path / "g.txt"
    graph.write_text("0 1\n1 2\n")
    if argv[0] == "run":
        argv = argv + ["--graph", str(graph)]
    rc, _, err = _nar(["exact", *argv], capsys)
    _one_clear_line(rc, err, needle)


def test_pad_zero_and_one_member_are_accepted(tmp_path, capsys):
    graph = tmp_path / "g.txt"
    graph.write_text("0 1\n1 2\n")
    rc, out, _ = _nar(["exact", "run", "bfs", "--graph", str(graph), "--pad", "0"], capsys)
    assert rc == 0 and "matches the textbook result" in out


def test_graph_rejects_non_finite_weights_wherever_it_is_built():
    from nar.exact.graph import Graph
    from nar.validation import InputError

    for bad in (np.nan, np.inf, -np.inf, 1e30):
        with pytest.raises(InputError, match="finite numbers of magnitude <= 2\\^53"):
            Graph(2, [(0, 1)], [bad])
    with pytest.raises(InputError, match="must be numbers"):
        Graph(2, [(0, 1)], ["1"])
    with pytest.raises(InputError, match="adjacency must be finite"):
        Graph.from_adjacency(np.array([[0, np.inf], [np.inf, 0]]), weighted=True)
    assert Graph(2, [(0, 1)], [2 ** 53]).weights.tolist() == [2 ** 53]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(st.binary(max_size=200),
                         st.text(alphabet="0123 \n#,.-eainfx", max_size=40)),
       suffix=st.sampled_from([".txt", ".npy", ".graphml", ".gml", ".adjlist", ".edgelist", ".gexf"]),
       program=st.sampled_from(["bfs", "bellman_ford", "dfs", "flooding"]))
def test_fuzzed_graph_files_give_a_result_or_one_line(tmp_path, capsys, content, suffix, program):
    """Whatever the file holds: a result (exit 0 / 1), or exit 2 with one line -- no traceback."""
    path = tmp_path / f"g{suffix}"
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    rc, _, err = _nar(["exact", "run", program, "--graph", str(path), "--predictor", "ideal"], capsys)
    if rc == 2:
        _one_clear_line(rc, err)
    else:
        assert rc in (0, 1) and err == "", err
