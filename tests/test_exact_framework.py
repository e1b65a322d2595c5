"""Framework of the exact reasoners: layout, templates, compiler (sparse matching), executor, graphs."""
import itertools

import numpy as np
import pytest
import torch

from nar import InputError
from nar.exact import Graph, GraphBatch, IdealPredictor, Program, SlotCollision, compile_program, run
from nar.exact.graph import bfs_order, check_local_ids, local_ids
from nar.exact.layout import from_bits, to_bits
from nar.exact.verification import bounded_graph


def test_layout_puts_comm_last_and_roundtrips():
    p = Program("t")
    a = p.var("a", 3)
    c = p.var("c", (2, 2), comm=True)
    b = p.var("b", (2, 1))
    L = p.layout
    assert (a.offset, b.offset, c.offset) == (0, 3, 5)
    assert L.comm_start == 5 and L.size == 9
    X = np.zeros((4, 9), dtype=np.uint8)
    L.set(X, "c", [[1, 0], [0, 1]], rows=[2])
    assert L.get(X, "c")[2].tolist() == [[1, 0], [0, 1]] and L.get(X, "c")[1].sum() == 0
    assert repr(~c[1, 0]) == "~c[1,0]"


def test_bits_roundtrip():
    v = np.arange(16)
    assert np.array_equal(from_bits(to_bits(v, 4)), v)
    assert to_bits(6, 3).tolist() == [0, 1, 1]  # little-endian


def test_template_validation():
    p = Program("t")
    x, y = p.var("x"), p.var("y")
    with pytest.raises(ValueError, match="contradictory"):
        p.rule([x, ~x], [y])
    with pytest.raises(ValueError, match="at least one literal"):
        p.rule([], [y])
    with pytest.raises(ValueError, match="only set bits to 1"):
        p.rule([x], [~y])


def _random_program(rng, k=12, N=40):
    p = Program("rand")
    v = p.var("v", k - 3)
    c = p.var("c", 3, comm=True)
    bits = v.bits() + c.bits()
    for _ in range(N):
        lits = rng.choice(k, size=rng.integers(1, 5), replace=False)
        when = [bits[i] if rng.random() < 0.6 else ~bits[i] for i in lits]
        then = [bits[i] for i in rng.choice(k, size=rng.integers(0, 4), replace=False)]
        p.rule(when, then)
    return p, bits


def test_sparse_matching_equals_brute_force():
    rng = np.random.default_rng(0)
    p, bits = _random_program(rng)
    C = compile_program(p)
    X = (rng.random((200, C.k)) < 0.4).astype(np.float32)
    M = C.match(torch.from_numpy(X)).numpy().astype(bool)
    H = C.ideal(torch.from_numpy(X)).numpy()
    for r in range(200):
        want = np.zeros(C.k, dtype=bool)
        for i, t in enumerate(p.templates):
            ok = all(X[r, b.column] == b.value for b in t.when)
            assert M[r, i] == ok
            if ok:
                for b in t.then:
                    want[b.column] = True
        assert np.array_equal(H[r], want)
    assert C.writers.sum() == sum(len(t.then) for t in p.templates)
    assert np.array_equal(C.match_exact_t(torch.from_numpy(X.T).double()).numpy().T.astype(bool), M)


def _relay_program():
    """One bit: a node with x sends it in its slot; a node hearing any slot sets x."""
    p = Program("relay")
    x, me = p.var("x"), p.var("me", 3)
    slot = p.var("slot", 3, comm=True)
    for s in range(3):
        p.rule([me[s]], [me[s]])
        p.rule([x, me[s]], [slot[s], x])
        p.rule([slot[s]], [x])
    return compile_program(p)


def test_executor_aggregates_over_the_closed_neighbourhood():
    C = _relay_program()
    g = Graph(3, np.array([[0, 1], [1, 2]]))  # path 0-1-2: 0 and 2 are two hops apart
    X0 = np.zeros((3, C.k), dtype=np.uint8)
    L = C.layout
    L.set(X0, "me", np.eye(3, dtype=np.uint8))
    L.set(X0, "x", 1, rows=[0])
    res = run(C, GraphBatch([g]), X0, IdealPredictor(), steps=2)
    assert L.get(res.final, "x").tolist() == [1, 1, 0]  # one hop takes two steps
    res = run(C, GraphBatch([g]), X0, IdealPredictor(), steps=4)
    assert L.get(res.final, "x").tolist() == [1, 1, 1]
    X0b = X0.copy()
    L.set(X0b, "me", [[1, 0, 0], [0, 1, 0], [1, 0, 0]])  # 0 and 2 share slot 0, both next to 1
    L.set(X0b, "x", 1, rows=[0, 2])
    with pytest.raises(SlotCollision):
        run(C, GraphBatch([g]), X0b, IdealPredictor(), steps=1)


def test_batch_matches_separate_runs():
    C = _relay_program()
    g1, g2 = Graph(2, np.array([[0, 1]])), Graph(3, np.array([[0, 1], [1, 2]]))
    L = C.layout

    def init(g, ids):
        X = np.zeros((g.n, C.k), dtype=np.uint8)
        L.set(X, "me", np.eye(3, dtype=np.uint8)[ids])
        L.set(X, "x", 1, rows=[g.n - 1])
        return X

    xs = [init(g1, [0, 1]), init(g2, [0, 1, 2])]
    both = run(C, GraphBatch([g1, g2]), np.concatenate(xs), steps=1).final
    alone = [run(C, GraphBatch([g]), x, steps=1).final for g, x in zip([g1, g2], xs)]
    assert np.array_equal(both, np.concatenate(alone))


@pytest.mark.parametrize("D", [2, 3, 4])
def test_local_ids_are_a_distance_two_colouring(D):
    rng = np.random.default_rng(D)
    for _ in range(20):
        g = bounded_graph(rng, int(rng.integers(2, 40)), D)
        ids = local_ids(g)
        assert check_local_ids(g, ids)
        assert ids.max() <= D * D
    # on trees BFS-order greedy needs only D + 1 colours
    for _ in range(20):
        t = bounded_graph(rng, int(rng.integers(2, 40)), D, extra=0.0)
        assert local_ids(t).max() <= D


def test_graph_input_errors():
    with pytest.raises(InputError, match="self-loops"):
        Graph(2, np.array([[1, 1]]))
    with pytest.raises(InputError, match="duplicate"):
        Graph(2, np.array([[0, 1], [1, 0]]))
    with pytest.raises(InputError, match="symmetric"):
        Graph.from_adjacency(np.array([[0, 1], [0, 0]]))
    assert sorted(bfs_order(Graph(4, np.array([[0, 2], [1, 3]])))) == [0, 1, 2, 3]


def test_all_small_states_match_like_python():
    """Exhaustive: every 0/1 state of a 6-bit program, dense vs sparse vs exact matching."""
    rng = np.random.default_rng(3)
    p, _ = _random_program(rng, k=6, N=25)
    C = compile_program(p)
    X = torch.tensor(list(itertools.product([0, 1], repeat=6)), dtype=torch.float32)
    dense = ((X @ C.W.to_dense().T) == C.need).float()
    assert torch.equal(C.match(X), dense)


def test_chunked_local_step_equals_one_pass(monkeypatch):
    """The local step runs in column chunks (bounded temporaries): states, snapshots and run
    statistics (margins, mismatches, matches) are those of one pass over all nodes, with and
    without state deduplication; the margins equal a brute-force scan of the means."""
    from nar.exact import executor
    from nar.exact.ntk import NTKPredictor
    from nar.exact.programs.bfs import BFS

    rng = np.random.default_rng(4)
    gs = [bounded_graph(rng, int(rng.integers(5, 25)), 3) for _ in range(15)]
    prog = BFS(D=3, l=6)
    prep = prog.prepare(gs, 0)
    seen = []

    def runs(**kw):
        return executor.run(prog.compiled, prep.batch, prep.X0, NTKPredictor(), record_at=prep.bounds,
                            observe=lambda t, XT, mu: seen.append(mu), **kw)

    whole = runs(dedupe=False)
    means = torch.cat(seen, 1)
    targets = []
    for dedupe in (False, True):
        monkeypatch.setattr(executor, "CHUNK_ELEMENTS", 1)  # 64-column chunks: several per step
        seen.clear()
        part = runs(dedupe=dedupe)
        assert np.array_equal(part.final, whole.final)
        assert all(np.array_equal(part.snapshots[g], whole.snapshots[g]) for g in whole.snapshots)
        assert part.stats == whole.stats and part.stats.steps == int(prep.bounds.max())
        targets.append(torch.cat(seen, 1))
    assert torch.equal(targets[0], means)
    ideal = []
    XT = torch.from_numpy(np.ascontiguousarray(prep.X0.T)).float()
    for t in range(int(prep.bounds.max())):  # brute-force margins over the ideal trajectory
        counts = prog.compiled.counts_t(prog.compiled.match_t(XT))
        ideal.append(counts > 0)
        H = (counts > 0).float()
        XT = H.clone()
        XT[prog.compiled.comm_start:] = prep.batch.aggregate(H[prog.compiled.comm_start:].T.contiguous()).T
    ideal = torch.cat(ideal, 1)
    assert whole.stats.min_pos == float(means[ideal].min()) and whole.stats.max_neg == float(means[~ideal].max())


def test_active_templates_match_like_all_templates():
    """Templates contradicting a bit every node shares are skipped: the restricted match, mapped
    back, equals the full one; the label counts too; a periodic program reuses its restrictions."""
    from nar.exact.programs.bellman_ford import BellmanFord

    rng = np.random.default_rng(2)
    p, _ = _random_program(rng, k=12, N=60)
    C = compile_program(p)
    for trial in range(20):
        X = (rng.random((C.k, 50)) < 0.5).astype(np.float32)
        shared = rng.choice(C.k, int(rng.integers(0, C.k + 1)), replace=False)
        X[shared] = (rng.random((len(shared), 1)) < 0.5)
        XT = torch.from_numpy(X)
        sub, index = C.active(XT)
        full = C.match_t(XT)
        if index is None:
            assert sub is C
            continue
        assert sub.N < C.N and sub.k == C.k
        got = torch.zeros_like(full).index_copy_(0, index, sub.match_t(XT))
        assert torch.equal(got, full) and torch.equal(sub.counts_t(sub.match_t(XT)), C.counts_t(full))
    bf = BellmanFord(D=2, l=4)
    g = Graph(6, np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]), np.array([1, 2, 1, 3, 1]))
    out, res, prep = bf.execute(g, 0)
    assert out[0]["dist"].tolist() == [0, 1, 3, 4, 7, 8]
    assert 1 < len(bf.compiled._active) < int(prep.bounds[0])  # restrictions are reused
    subs = [v[0].N for key, v in bf.compiled._active.items() if key != "coo"]
    assert max(subs) < bf.compiled.N / 2
