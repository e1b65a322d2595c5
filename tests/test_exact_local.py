"""The LOCAL compiler (nar.exact.local): compiled programs against networkx / textbook oracles,
compile-time errors, the cube cover, and the plain-Python reference."""
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nar import InputError
from nar.exact import (KEY, Graph, IdealPredictor, LocalAlgorithm, LocalCompileError, NTKPredictor,
                       get_program, simulate, small, verify)
from nar.exact.local import fubini
from nar.exact.local_cover import minimise
from nar.exact.programs.compiled import ALGORITHMS, COMPILED
from nar.exact.verification import bounded_graph, reference_graphs


def nx_graph(g: Graph) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(range(g.n))
    G.add_edges_from(g.edges.tolist())
    return G


def nx_oracle(name, g, source, ids):
    """networkx (or a check of the defining property) for each compiled program."""
    G = nx_graph(g)
    if name in ("leader", "components"):
        leader = np.zeros(g.n, dtype=np.int64)
        for comp in nx.connected_components(G):
            comp = list(comp)
            leader[comp] = ids[comp].min()
        return {"leader": leader}
    if name == "mis":  # lexicographically first MIS: greedy over nodes in ID order
        inside = set()
        for v in sorted(range(g.n), key=lambda v: ids[v]):
            if not any(u in inside for u in G[v]):
                inside.add(v)
        out = np.zeros(g.n, dtype=bool)
        out[list(inside)] = True
        assert nx.is_dominating_set(G, inside) and not any(G.has_edge(u, v) for u in inside for v in inside)
        return {"in_mis": out}
    if name == "greedy_colour":
        col = nx.greedy_color(G, strategy=lambda G, c: sorted(G, key=lambda v: ids[v]))
        return {"colour": np.array([col[v] + 1 for v in range(g.n)])}
    if name == "local_bfs":
        d = nx.single_source_shortest_path_length(G, source)
        return {"dist": np.array([d.get(v, -1) for v in range(g.n)])}
    raise KeyError(name)


def disconnected(rng, count):
    out = []
    for a, b in zip(reference_graphs(rng, count), reference_graphs(rng, count)):
        out.append(Graph(a.n + b.n, np.concatenate([a.edges, b.edges + a.n])))
    return out


def id_inputs(rng, graphs, l):
    return [{"id": rng.choice(2 ** l, g.n, replace=False)} for g in graphs]


@pytest.mark.parametrize("name", sorted(COMPILED))
def test_compiled_programs_exact_with_ntk_on_100_random_graphs(name):
    rng = np.random.default_rng(11)
    graphs = disconnected(rng, 100) if name == "components" else reference_graphs(rng, 100)
    l = 5
    prog = get_program(name)(D=3, l=l)
    inputs = None if name == "local_bfs" else id_inputs(rng, graphs, l)
    rep = verify(prog, graphs, NTKPredictor(), inputs=inputs)
    assert rep.passed == 100, [r.failures for r in rep.results if not r.passed][:3]
    assert rep.stats.mismatches == 0 and rep.stats.min_pos > 0 >= rep.stats.max_neg
    assert rep.stats.max_matched <= rep.report["ntk_safe_matches"]
    outs, _, _ = prog.execute(graphs[:30], inputs=None if inputs is None else inputs[:30])
    for g, out, extra in zip(graphs, outs, inputs or [{}] * 30):
        ids = extra.get("id", np.arange(g.n))
        for key, want in nx_oracle(name, g, 0, ids).items():
            np.testing.assert_array_equal(out[key], want)
        if "halted" in out:
            assert out["halted"].all()


def test_local_bfs_equals_hand_built_bfs():
    rng = np.random.default_rng(3)
    graphs = reference_graphs(rng, 40) + [Graph(5, np.array([[0, 1], [1, 2], [3, 4]]))]
    sources = [int(rng.integers(g.n)) for g in graphs]
    hand, compiled = get_program("bfs")(D=3, l=3), get_program("local_bfs")(D=3, l=3)
    a, _, _ = hand.execute(graphs, sources)
    b, _, _ = compiled.execute(graphs, sources)
    for x, y in zip(a, b):
        for key in ("reached", "dist", "parent"):
            np.testing.assert_array_equal(x[key], y[key])
    # both are small programs; the compiled rule phase is a handful of merged templates
    assert compiled.report()["rule_templates"] <= 12 < compiled.report()["rule_templates_before_merging"]
    assert hand.compiled.N < compiled.compiled.N < 4 * hand.compiled.N


def test_merging_shrinks_the_rule():
    rep = get_program("mis")(D=3, l=4).report()
    # 6,456 (state, inbox, key order) points, 676 rule calls (comparison outcomes explored), 13 cubes
    assert rep["domain_points"] > 10 * rep["rule_calls"] and rep["rule_calls"] > 5 * rep["rule_templates"]
    assert rep["rule_templates_before_merging"] > 5 * rep["rule_templates"]
    rep = get_program("greedy_colour")(D=3, l=4).report()
    assert rep["rule_templates"] < rep["rule_templates_before_merging"] / 5
    assert rep["max_writers"] <= 3 ** 2 + 2  # gathered: no rule output above the receive gadget's writers


@pytest.mark.slow
def test_greedy_colour_compiles_for_degree_4():
    """Comparison outcomes are explored lazily (no weak orders of keys never compared): D = 4
    declares 4.3 million (state, inbox, order) points but needs a few thousand rule calls."""
    prog = get_program("greedy_colour")(D=4, l=5)
    rep = prog.report()
    assert rep["domain_points"] > 4_000_000 > 100 * rep["rule_calls"]
    rng = np.random.default_rng(4)
    graphs = reference_graphs(rng, 20, nodes=(5, 9), max_degree=4)
    report = verify(prog, graphs, NTKPredictor(), inputs=id_inputs(rng, graphs, 5))
    assert report.passed == 20


@pytest.mark.parametrize("name", ["leader", "mis", "greedy_colour", "local_bfs"])
def test_compiled_equals_plain_python_simulation(name):
    rng = np.random.default_rng(5)
    for g in [bounded_graph(rng, 40, 3), bounded_graph(rng, 25, 3)]:
        ids = rng.permutation(g.n)
        extra = {} if name == "local_bfs" else {"id": ids}
        prog = get_program(name)(D=3, l=6)
        (out,), _, _ = prog.execute(g, 0, inputs=[extra])
        ref = simulate(ALGORITHMS[name], g, 0, **extra)
        assert out.keys() == ref.keys()
        for key in out:
            np.testing.assert_array_equal(out[key], ref[key])


@pytest.mark.parametrize("name", sorted(COMPILED))
def test_compiled_programs_on_a_200_node_graph(name):
    rng = np.random.default_rng(21)
    g = bounded_graph(rng, 200, 3)
    if name == "components":
        h = bounded_graph(rng, 50, 3)
        g = Graph(250, np.concatenate([g.edges, h.edges + 200]))
    inputs = None if name == "local_bfs" else [{"id": rng.permutation(g.n)}]
    rep = verify(get_program(name)(D=3, l=8), [g], IdealPredictor(), inputs=inputs)
    assert rep.passed == 1, rep.results[0].failures


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(COMPILED))
def test_compiled_programs_on_1000_node_graphs(name):
    rng = np.random.default_rng(1000)
    if name == "components":
        parts = [bounded_graph(rng, m, 3) for m in (500, 300, 200)]
        offs = np.cumsum([0] + [p.n for p in parts])
        g = Graph(1000, np.concatenate([p.edges + o for p, o in zip(parts, offs)]))
    else:
        g = bounded_graph(rng, 1000, 3)
    ids = rng.permutation(1000)
    inputs = None if name == "local_bfs" else [{"id": ids}]
    prog = get_program(name)(D=3, l=10)
    (out,), _, _ = prog.execute(g, 0, IdealPredictor(), inputs=inputs)
    for key, want in nx_oracle(name, g, 0, ids if inputs else np.arange(1000)).items():
        np.testing.assert_array_equal(out[key], want)


# ---- compile-time errors ---------------------------------------------------------------------
def alg(**kw):
    base = dict(name="t", state={"x": 2}, message={"x": 2},
                init=lambda inp: ({"x": 0}, {"x": 0}),
                rule=lambda s, inbox: ({"x": s.x}, {"x": s.x}),
                rounds=lambda g, s: 1)
    base.update(kw)
    return LocalAlgorithm(**base)


def test_error_nondeterministic_rule():
    calls = []

    def rule(s, inbox):
        calls.append(1)
        return {"x": len(calls) % 2}, {"x": 0}

    with pytest.raises(LocalCompileError, match="not deterministic"):
        alg(rule=rule).compile(2)


def test_error_nondeterministic_comparisons():
    flips = []

    def rule(s, inbox):
        flips.append(1)
        keys = [m.k for m in inbox]
        if len(keys) >= 2:
            _ = keys[0] < keys[1] if len(flips) % 2 else keys[1] < s.k
        return {}, {"k": s.k}

    with pytest.raises(LocalCompileError, match="not deterministic"):
        alg(state={"x": 2, "k": KEY}, message={"k": KEY}, init=lambda inp: ({"k": inp.id}, {"k": inp.id}),
            rule=rule).compile(2)


def test_user_inputs_flood_from_marked_nodes():
    spread = LocalAlgorithm(
        name="spread", state={"on": 2}, message={"on": 2}, inputs={"mark": 2},
        init=lambda inp: ({"on": inp.mark}, {"on": inp.mark}),
        rule=lambda s, inbox: ({"on": int(s.on or any(m.on for m in inbox))},) * 2,
        rounds=lambda g, s: g.n)
    g = Graph(7, np.array([[0, 1], [1, 2], [3, 4], [4, 5]]))
    prog = spread.program(D=2, l=1)
    mark = np.array([0, 0, 0, 0, 0, 1, 0])
    (out,), _, _ = prog.execute(g, 0, inputs=[{"mark": mark}])
    assert out["on"].tolist() == [0, 0, 0, 1, 1, 1, 0]
    assert simulate(spread, g, 0, mark=mark)["on"].tolist() == out["on"].tolist()
    with pytest.raises(InputError, match=r"missing input 'mark' \(integers 0..1 per node\)"):
        prog.prepare([g])
    with pytest.raises(InputError, match=r"input 'mark' must be 7 integers in 0..1"):
        prog.prepare([g], inputs=[{"mark": mark * 2}])
    with pytest.raises(InputError, match="unknown input 'colour'; the inputs are: id, mark"):
        prog.prepare([g], inputs=[{"mark": mark, "colour": mark}])


def test_error_write_outside_range():
    with pytest.raises(LocalCompileError, match=r"writes 2 to state field 'x', which holds the integers 0..1"):
        alg(rule=lambda s, inbox: ({"x": s.x + 1}, {"x": 0})).compile(2)
    with pytest.raises(LocalCompileError, match=r"writes 5 to message field 'x'"):
        alg(rule=lambda s, inbox: ({}, {"x": 5})).compile(2)
    with pytest.raises(LocalCompileError, match="writes 3 to key field state.k; a key field takes a key"):
        alg(state={"x": 2, "k": KEY}, rule=lambda s, inbox: ({"k": 3}, {"x": 0})).compile(2)


def test_error_undeclared_fields():
    with pytest.raises(LocalCompileError, match=r"reads state field 'y', which is not declared \(declared state fields: x\)"):
        alg(rule=lambda s, inbox: ({"x": s.y}, {"x": 0})).compile(2)
    with pytest.raises(LocalCompileError, match=r"reads message field 'z'"):
        alg(rule=lambda s, inbox: ({"x": max([m.z for m in inbox], default=0)}, {"x": 0})).compile(2)
    with pytest.raises(LocalCompileError, match="writes state field 'y', which is not declared"):
        alg(rule=lambda s, inbox: ({"y": 1}, {"x": 0})).compile(2)
    with pytest.raises(LocalCompileError, match="must give every message field; missing 'x'"):
        alg(rule=lambda s, inbox: ({}, {})).compile(2)


def test_error_more_values_than_bits():
    with pytest.raises(LocalCompileError, match="5 values need 3 bits, but the field declares 2 bits"):
        alg(state={"x": small(values=5, bits=2)})
        small(values=5, bits=2)


def test_error_domain_too_large():
    big = alg(state={"a": 64, "k": KEY}, message={"a": 64, "k": KEY, "j": KEY},
              init=lambda inp: ({}, {"a": 0, "k": inp.id, "j": inp.id}),
              rule=lambda s, inbox: ({}, {"a": 0, "k": s.k, "j": s.k}))
    with pytest.raises(LocalCompileError, match=r"too large to enumerate for D=3: its small fields alone have "
                                                r"[\d,]+ points, above the limit of 200,000 .* use fewer or smaller fields"):
        big.compile(3)
    # keys: enumerated lazily (only where the rule compares them), stopped at the limit
    cmp = alg(state={"x": 2, "k": KEY}, message={"k": KEY, "j": KEY},
              init=lambda inp: ({}, {"k": inp.id, "j": inp.id}),
              rule=lambda s, inbox: ({"x": int(sorted([s.k] + [m.k for m in inbox] + [m.j for m in inbox])[-1] == s.k)},
                                     {"k": s.k, "j": s.k}),
              max_domain=5_000)
    with pytest.raises(LocalCompileError, match=r"the rule compares keys, so it needs more than 5,001 points"):
        cmp.compile(3)
    assert alg(state={"x": 2, "k": KEY}, message={"x": 2, "k": KEY, "j": KEY},
               init=lambda inp: ({}, {"x": 0, "k": inp.id, "j": inp.id}),
               rule=lambda s, inbox: ({}, {"x": s.x, "k": s.k, "j": s.k}), max_domain=5_000).compile(3).calls < 100


def test_error_keys_compare_only_with_keys_and_round_not_compared():
    with pytest.raises(LocalCompileError, match="a key compares only with another key"):
        alg(state={"x": 2, "k": KEY}, rule=lambda s, inbox: ({"x": int(s.k < 3)}, {"x": 0})).compile(2)
    with pytest.raises(LocalCompileError, match="round can be stored or sent, but not compared"):
        alg(state={"x": 2, "k": KEY}, rule=lambda s, inbox: ({"x": int(s.k < s.round)}, {"x": 0})).compile(2)
    with pytest.raises(LocalCompileError, match="the rule raised TypeError"):
        alg(state={"x": 2, "k": KEY}, rule=lambda s, inbox: ({"k": s.k + 1}, {"x": 0})).compile(2)


def test_error_halted_node_changes_state():
    with pytest.raises(LocalCompileError, match="must keep its state"):
        alg(halt=lambda s: s.x == 1, rule=lambda s, inbox: ({"x": 0}, {"x": 0})).compile(2)


def test_errors_are_input_errors_before_any_step():
    assert issubclass(LocalCompileError, InputError)
    prog = get_program("leader")(D=3, l=3)
    g = bounded_graph(np.random.default_rng(0), 12, 3)
    with pytest.raises(InputError, match=r"node IDs must lie in \[0, 2\^l\) = \[0, 8\).*use l >= 4"):
        prog.prepare([g])
    with pytest.raises(InputError, match="must be connected"):
        prog.prepare([Graph(4, np.array([[0, 1], [2, 3]]))])


def test_cli_verifies_a_compiled_program(capsys):
    from nar.exact.cli import _standalone

    assert _standalone(["exact", "verify", "mis", "--graphs", "10"]) == 0
    assert "mis (ntk): 10/10 graphs exact" in capsys.readouterr().out


def test_cli_runs_a_compiled_program_on_a_graph_file(tmp_path, capsys):
    from nar.exact.cli import _standalone

    path = tmp_path / "g.txt"
    path.write_text("10 11\n11 12\n12 13\n13 10\n13 14\n")
    assert _standalone(["exact", "run", "local_bfs", "--graph", str(path), "--source", "1"]) == 0
    out = capsys.readouterr().out
    assert "matches the textbook result" in out
    assert out.splitlines()[-1].split() == ["14", "1", "3", "13"]  # label, reached, dist, parent label


# ---- the cover ---------------------------------------------------------------------------------
def test_fubini_numbers():
    assert [fubini(n) for n in range(7)] == [1, 1, 3, 13, 75, 541, 4683]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(1, 3), st.integers(0, 2 ** 32 - 1), st.floats(0.1, 1.0))
def test_cover_is_exact_on_the_care_set(n, O, seed, density):
    rng = np.random.default_rng(seed)
    R = max(1, int(density * 2 ** n))
    X = np.unique(rng.integers(0, 2, (R, n)).astype(bool), axis=0)
    Y = rng.integers(0, 2, (len(X), O)).astype(bool)
    cubes = minimise(X, Y)
    got = np.zeros_like(Y)
    for lits, outs in cubes:
        hit = np.ones(len(X), dtype=bool)
        for b, v in lits:
            hit &= X[:, b] == v
        got[np.ix_(hit, list(outs))] = True
    np.testing.assert_array_equal(got, Y)
    assert len(cubes) <= max(1, int(Y.any(1).sum()))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8), st.integers(1, 3), st.integers(0, 2 ** 32 - 1))
def test_cover_of_care_cubes(n, O, seed):
    """Care cubes (some bits free): every ON cube lies inside a chosen cube of that output, and no
    chosen cube of an output meets one of its OFF cubes."""
    rng = np.random.default_rng(seed)
    # disjoint care cubes: distinct minterms, then free a random subset of bits where that keeps
    # the cube away from the other rows
    X = np.unique(rng.integers(0, 2, (2 ** n // 2 + 1, n)).astype(bool), axis=0)
    M = np.ones_like(X)
    for r in range(len(X)):
        for b in rng.permutation(n)[: int(rng.integers(0, n))]:
            M[r, b] = False
            others = np.delete(np.arange(len(X)), r)
            if (((X[others] == X[r]) | ~M[others] | ~M[r]).all(1)).any():
                M[r, b] = True
    Y = rng.integers(0, 2, (len(X), O)).astype(bool)
    cubes = minimise(X, Y, M)
    for r in range(len(X)):
        for o in range(O):
            inside = meets = False
            for lits, outs in cubes:
                if o not in outs:
                    continue
                meets |= all(not M[r, b] or X[r, b] == v for b, v in lits)
                inside |= all(M[r, b] and X[r, b] == v for b, v in lits)
            assert inside if Y[r, o] else not meets
