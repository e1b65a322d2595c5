"""Each gadget, run by the ideal executor on isolated nodes (one node per input case)."""
import itertools

import numpy as np
import pytest

from nar.exact import Graph, GraphBatch, Program, compile_program, run
from nar.exact import gadgets as G
from nar.exact.layout import from_bits, to_bits


def _run_cases(p: Program, init: dict[str, np.ndarray], steps: int) -> dict:
    """Run ``steps`` ideal steps on len(cases) isolated nodes; returns every variable's values."""
    C = compile_program(p)
    n = len(next(iter(init.values())))
    X = np.zeros((n, C.k), dtype=np.uint8)
    for name, val in init.items():
        C.layout.set(X, name, val)
    g = Graph(n, np.zeros((0, 2), dtype=np.int64))
    out = run(C, GraphBatch([g]), X, steps=steps).final
    return {name: C.layout.get(out, name).astype(np.int64) for name in C.layout.vars}


@pytest.mark.parametrize("l", [1, 3, 4])
def test_increment_all_values(l):
    p = Program("inc")
    x, y = p.var("x", l), p.var("y", l)
    G.increment(p, x.bits(), y.bits())
    v = np.arange(2 ** l)
    out = _run_cases(p, {"x": to_bits(v, l)}, 1)
    assert np.array_equal(from_bits(out["y"]), (v + 1) % 2 ** l)


def test_in_place_counter_counts_clock_ticks():
    p = Program("ctr")
    clk = G.clock(p, "clk", 3)
    c = p.var("c", 3)
    G.persist(p, c.bits(), unless=clk[0])
    G.increment(p, c.bits(), c.bits(), when=clk[0])
    out = _run_cases(p, {"clk": [[1, 0, 0]]}, 3 * 5)
    assert from_bits(out["c"])[0] == 5 and out["clk"][0].tolist() == [1, 0, 0]


def test_ripple_add_all_pairs():
    l = 3
    p = Program("add")
    clk = G.clock(p, "clk", l + 1)
    a, b, s, c = p.var("a", l), p.var("b", l), p.var("s", l), p.var("c", l + 1)
    G.persist(p, [a.bits(), b.bits(), s.bits(), c.bits()])
    G.ripple_add(p, a.bits(), b.bits(), s.bits(), c.bits(), [clk[j] for j in range(l)])
    pairs = np.array(list(itertools.product(range(2 ** l), repeat=2)))
    init = {"a": to_bits(pairs[:, 0], l), "b": to_bits(pairs[:, 1], l),
            "clk": np.tile(np.eye(l + 1, dtype=np.uint8)[0], (len(pairs), 1))}
    out = _run_cases(p, init, l)
    total = from_bits(out["s"]) + (out["c"][:, l] << l)
    assert np.array_equal(total, pairs.sum(1))


def test_compare_all_pairs():
    l = 3
    p = Program("cmp")
    clk = G.clock(p, "clk", l + 1)
    x, y = p.var("x", l), p.var("y", l)
    lt, gt, und = p.var("lt"), p.var("gt"), p.var("und")
    G.persist(p, [x.bits(), y.bits(), lt, gt])
    G.compare(p, x.bits(), y.bits(), lt, gt, und, [clk[j] for j in range(l)])
    pairs = np.array(list(itertools.product(range(2 ** l), repeat=2)))
    init = {"x": to_bits(pairs[:, 0], l), "y": to_bits(pairs[:, 1], l), "und": np.ones(len(pairs)),
            "clk": np.tile(np.eye(l + 1, dtype=np.uint8)[0], (len(pairs), 1))}
    out = _run_cases(p, init, l)
    assert np.array_equal(out["lt"].ravel(), pairs[:, 0] < pairs[:, 1])
    assert np.array_equal(out["gt"].ravel(), pairs[:, 0] > pairs[:, 1])
    assert np.array_equal(out["und"].ravel(), pairs[:, 0] == pairs[:, 1])


def test_equality_two_steps():
    l = 3
    p = Program("eq")
    go, go2 = p.var("go"), p.var("go2")
    x, y, diff, eq = p.var("x", l), p.var("y", l), p.var("diff"), p.var("eq")
    G.persist(p, [x.bits(), y.bits()])
    p.rule([go], [go2])
    G.equality(p, x.bits(), y.bits(), diff, eq, when=go, then_when=go2)
    pairs = np.array(list(itertools.product(range(2 ** l), repeat=2)))
    out = _run_cases(p, {"x": to_bits(pairs[:, 0], l), "y": to_bits(pairs[:, 1], l),
                         "go": np.ones(len(pairs))}, 2)
    assert np.array_equal(out["eq"].ravel(), pairs[:, 0] == pairs[:, 1])


def test_min_eliminate_finds_all_minima():
    rng = np.random.default_rng(0)
    l, C = 3, 4
    p = Program("min")
    vals, start = p.var("v", (C, l)), p.var("start", C)
    G.persist(p, vals.bits())
    best = G.min_eliminate(p, "m", [[vals[c, b] for b in range(l)] for c in range(C)], start)
    n = 300
    v = rng.integers(0, 2 ** l, (n, C))
    mask = rng.random((n, C)) < 0.6
    out = _run_cases(p, {"v": to_bits(v, l), "start": mask.astype(np.uint8)}, 2 * l)
    big = np.where(mask, v, 99)
    want = mask & (v == big.min(1, keepdims=True))
    assert np.array_equal(out["m_min"].astype(bool), want)


def test_first_one_priority_encoder_and_latch():
    p = Program("prio")
    f, o, anyf, flag, stop = p.var("f", 4), p.var("o", 4), p.var("any"), p.var("flag"), p.var("stop")
    G.first_one(p, f.bits(), o.bits(), also=[anyf])
    G.latch(p, flag, set_when=[anyf], clear_when=stop)
    cases = np.array(list(itertools.product([0, 1], repeat=4)))
    out = _run_cases(p, {"f": cases}, 1)
    first = np.zeros_like(cases)
    has = cases.any(1)
    first[np.arange(len(cases))[has], cases.argmax(1)[has]] = 1
    assert np.array_equal(out["o"], first) and np.array_equal(out["any"].ravel(), has)
    out2 = _run_cases(p, {"f": cases}, 2)  # the latch holds "any" seen one step earlier
    assert np.array_equal(out2["flag"].ravel(), has)


def test_delay_chain_ors_inputs_with_bounded_writers():
    S = 5
    p = Program("cascade")
    x, chain, out = p.var("x", S), p.var("chain", S), p.var("out")
    G.persist(p, x.bits())
    G.delay_chain(p, x.bits(), chain.bits(), out)
    C = compile_program(p)
    assert C.writers.max() == 2  # an OR over S inputs without S writers on one bit
    cases = np.eye(S, dtype=np.uint8)
    res = _run_cases(p, {"x": cases}, S + 1)
    assert res["out"].ravel().tolist() == [1] * S
    early = _run_cases(p, {"x": cases}, 1)
    assert early["out"].ravel().sum() == 0


def test_new_message_and_rebroadcast():
    p = Program("news")
    inc, have, new, send = p.var("inc", 3), p.var("have", 3), p.var("new", 3), p.var("send", 3)
    G.new_message(p, inc.bits(), have.bits(), new.bits())
    G.rebroadcast(p, new.bits(), send.bits())
    out = _run_cases(p, {"inc": [[1, 1, 0]], "have": [[0, 1, 0]]}, 2)
    assert out["send"].tolist() == [[1, 0, 0]]


def test_slot_routing_between_neighbours():
    S, F = 3, 2
    p = Program("route")
    me, nb, val = p.var("me", S), p.var("nb", (1, S)), p.var("val", F)
    got = p.var("got", (1, F))
    slot = p.var("slot", (S, F), comm=True)
    G.persist(p, [me.bits(), nb.bits(), val.bits()])
    G.write_own_slot(p, me, val.bits(), slot)
    G.read_by_table(p, nb, slot, got)
    C = compile_program(p)
    g = Graph(2, np.array([[0, 1]]))
    X = np.zeros((2, C.k), dtype=np.uint8)
    C.layout.set(X, "me", [[0, 0, 1], [1, 0, 0]])
    C.layout.set(X, "nb", [[[1, 0, 0]], [[0, 0, 1]]])
    C.layout.set(X, "val", [[1, 0], [0, 1]])
    out = run(C, GraphBatch([g]), X, steps=2).final
    assert C.layout.get(out, "got")[:, 0].tolist() == [[0, 1], [1, 0]]
