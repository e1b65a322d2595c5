"""Greedy and dynamic-programming algorithms against independent oracles, hand-checked hint
trajectories and bad-input errors."""
from functools import lru_cache
from itertools import combinations

import numpy as np
import pytest

import nar
from nar import InputError

EXECUTE = nar.execute


def random_sizes(rng, count=200, big=20, low=1):
    """Mostly small sizes, ``big`` of them in 17..64, plus the extremes."""
    small = rng.integers(low, 17, size=count - big - 2)
    large = rng.integers(17, 65, size=big)
    return [int(v) for v in np.r_[low, low + 1, small, large]]


def hint_ids(traj, name):
    """A mask_one hint as the node index per step."""
    return traj.hints[name].argmax(-1).tolist()


def mask_rows(traj, name):
    return traj.hints[name].astype(int).tolist()


# ============================================================================ activity_selector
def compatible(s, f, i, j):
    return f[i] <= s[j] or f[j] <= s[i]


def max_compatible_brute(s, f):
    """Largest number of pairwise compatible activities, by trying every subset (small n)."""
    n = len(s)
    for size in range(n, 0, -1):
        for subset in combinations(range(n), size):
            if all(compatible(s, f, i, j) for i, j in combinations(subset, 2)):
                return size
    return 0


def max_compatible_dp(s, f):
    """Largest compatible set as the longest chain ``j -> i`` (``f[j] <= s[i]``), over the DAG
    ordered by (start, finish, index): a DP with no greedy choice."""
    key = sorted(range(len(s)), key=lambda i: (s[i], f[i], i))
    best = []
    for a, i in enumerate(key):
        before = [best[b] for b, j in enumerate(key[:a]) if f[j] <= s[i]]
        best.append(1 + max(before, default=0))
    return max(best)


def earliest_finish_set(s, f):
    """The textbook greedy set: by finish time (ties: by start, then index), keep what starts
    after the last kept one finishes."""
    kept, last = set(), -np.inf
    for i in sorted(range(len(s)), key=lambda i: (f[i], s[i], i)):
        if s[i] >= last:
            kept.add(i)
            last = f[i]
    return kept


def draw_activities(rng, n, ties=False):
    if ties:
        a, b = rng.integers(0, 6, size=n) / 5, rng.integers(0, 6, size=n) / 5
    else:
        a, b = rng.uniform(size=n), rng.uniform(size=n)
    return np.minimum(a, b), np.maximum(a, b)


def test_activity_selector_is_a_maximum_compatible_set():
    rng = np.random.default_rng(0)
    for case, n in enumerate(random_sizes(rng)):
        s, f = draw_activities(rng, n, ties=case % 4 == 0)
        t = EXECUTE("activity_selector", s=s, f=f)
        kept = set(np.flatnonzero(t.outputs["selected"]).tolist())
        assert all(compatible(s, f, i, j) for i, j in combinations(sorted(kept), 2))
        assert kept == earliest_finish_set(s, f)
        best = max_compatible_brute(s, f) if n <= 9 else max_compatible_dp(s, f)
        assert len(kept) == best, (s, f)
        assert t.length == n + 1
        np.testing.assert_array_equal(t.hints["selected_h"][-1], t.outputs["selected"])
        np.testing.assert_array_equal(t.hints["pred_h"][0], np.maximum(np.arange(n) - 1, 0))


def test_activity_selector_hand_trajectory():
    # by finish time: 1 [1,4), 2 [3,5), 3 [0,6), 0 [5,7); keeps 1, then 0
    t = EXECUTE("activity_selector", s=[5.0, 1.0, 3.0, 0.0], f=[7.0, 4.0, 5.0, 6.0])
    assert hint_ids(t, "m") == [0, 1, 2, 3, 0]
    assert hint_ids(t, "k") == [0, 1, 1, 1, 0]
    assert mask_rows(t, "selected_h") == [[0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0],
                                          [1, 1, 0, 0]]
    assert t.outputs["selected"].tolist() == [1, 1, 0, 0]
    np.testing.assert_array_equal(t.inputs["pos"], [0, 0.25, 0.5, 0.75])


# ============================================================================ task_scheduling
def independent(d, tasks):
    """CLRS Lemma 16.12: a task set can be scheduled with none late iff N_t <= t for every t."""
    deadlines = sorted(d[i] for i in tasks)
    return all(dl >= k + 1 for k, dl in enumerate(deadlines))


def best_feasible_weight(d, w):
    n = len(d)
    return max(sum(w[i] for i in subset) for size in range(n + 1)
               for subset in combinations(range(n), size) if independent(d, subset))


def test_task_scheduling_keeps_an_independent_set_by_the_clrs30_rule():
    rng = np.random.default_rng(1)
    for n in random_sizes(rng):
        d = rng.integers(1, n + 1, size=n)
        w = rng.uniform(size=n)
        t = EXECUTE("task_scheduling", d=d, w=w)
        kept = np.flatnonzero(t.outputs["selected"]).tolist()
        assert independent(d, kept)  # the matroid's independence
        # the rule, re-derived from the output alone: in weight order, a task is kept iff fewer
        # tasks than its deadline were kept before it
        count = 0
        for i in sorted(range(n), key=lambda i: (-w[i], i)):
            assert (i in kept) == (count < d[i])
            count += i in kept
        assert t.hints["t"][-1] == len(kept)
        assert t.length == n + 1
        if n <= 9:
            assert sum(w[kept]) <= best_feasible_weight(d, w) + 1e-12


def test_task_scheduling_is_optimal_when_deadlines_follow_the_weight_order():
    # scanning by decreasing weight with non-decreasing deadlines, "t < d" is the exact
    # independence test, so the matroid greedy's optimum is reached
    rng = np.random.default_rng(2)
    for n in range(1, 10):
        for _ in range(6):
            w = np.sort(rng.uniform(size=n))[::-1].copy()
            d = np.sort(rng.integers(1, n + 1, size=n))
            perm = rng.permutation(n)
            w, d = w[perm], d[perm]
            t = EXECUTE("task_scheduling", d=d, w=w)
            kept = t.outputs["selected"].astype(bool)
            assert np.isclose(w[kept].sum(), best_feasible_weight(d, w))


def test_task_scheduling_hand_trajectory_and_documented_suboptimality():
    d, w = [2, 1, 2], [3.0, 2.0, 1.0]
    t = EXECUTE("task_scheduling", d=d, w=w)
    assert hint_ids(t, "i") == [0, 0, 1, 2]
    assert t.hints["t"].tolist() == [0, 1, 1, 2]
    assert mask_rows(t, "selected_h") == [[0, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 1]]
    assert t.outputs["selected"].tolist() == [1, 0, 1]
    assert best_feasible_weight(d, w) == 5.0  # {0, 1}: the CLRS-30 rule misses it (see docstring)


# ============================================================================ matrix_chain_order
def chain_costs(p):
    """Optimal cost of A_i..A_j (A_i is p[i-1] x p[i]) by memoised recursion over the last split."""
    @lru_cache(maxsize=None)
    def cost(i, j):
        if i == j:
            return 0.0
        return min(cost(i, k) + cost(k + 1, j) + p[i - 1] * p[k] * p[j] for k in range(i, j))
    return cost


def cost_of_splits(p, s, i, j):
    if i == j:
        return 0.0
    k = int(s[i, j])
    assert i <= k < j
    return cost_of_splits(p, s, i, k) + cost_of_splits(p, s, k + 1, j) + p[i - 1] * p[k] * p[j]


def check_matrix_chain(p):
    p = list(map(float, p))
    n = len(p)
    t = EXECUTE("matrix_chain_order", p=p)
    s = t.outputs["s"]
    opt = chain_costs(tuple(p))
    m_last, known = t.hints["m"][-1], t.hints["msk"][-1]
    for i in range(1, n):
        for j in range(i, n):
            assert known[i, j] == 1
            assert np.isclose(m_last[i, j], opt(i, j), rtol=1e-5, atol=1e-7)
    if n >= 2:
        assert np.isclose(cost_of_splits(p, s, 1, n - 1), opt(1, n - 1), rtol=1e-9, atol=1e-12)
    assert not s[0].any() and not s[:, 0].any() and not np.tril(s).any()
    assert not known[0].any() and not known[:, 0].any()
    return t


def test_matrix_chain_order_splits_are_optimal():
    rng = np.random.default_rng(3)
    for n in random_sizes(rng, big=6):
        check_matrix_chain(rng.uniform(size=n))


def test_matrix_chain_order_with_zero_dimensions_still_optimal():
    rng = np.random.default_rng(4)
    for n in range(3, 12):
        p = rng.integers(0, 3, size=n).astype(float)  # zeros, and ties between splits
        check_matrix_chain(p)


def test_matrix_chain_order_hand_trajectory():
    # A1 1x2, A2 2x3, A3 3x4: round 1 fills (1,2)=6, (2,3)=24; round 2 (1,3)=min(32, 18), k=2
    t = EXECUTE("matrix_chain_order", p=[1, 2, 3, 4])
    assert t.length == 3
    m = t.hints["m"]
    assert m[0].tolist() == np.zeros((4, 4)).tolist()
    assert (m[1, 1, 2], m[1, 2, 3], m[1, 1, 3]) == (6, 24, 0)
    assert m[2, 1, 3] == 18
    msk = t.hints["msk"].astype(int)
    assert msk[0].tolist() == np.diag([0, 1, 1, 1]).tolist()
    assert (msk[1, 1, 3], msk[2, 1, 3]) == (0, 1)
    assert (t.hints["s_h"][2, 1, 2], t.hints["s_h"][2, 2, 3], t.hints["s_h"][2, 1, 3]) == (1, 2, 2)
    np.testing.assert_array_equal(t.outputs["s"], t.hints["s_h"][-1])


# ============================================================================ lcs_length
def lcs_table(x, y):
    """Textbook LCS lengths with an empty row and column: L[i][j] for x[:i], y[:j]."""
    L = [[0] * (len(y) + 1) for _ in range(len(x) + 1)]
    for i, a in enumerate(x):
        for j, b in enumerate(y):
            L[i + 1][j + 1] = L[i][j] + 1 if a == b else max(L[i][j + 1], L[i + 1][j])
    return L


def read_lcs(b_table, x, y):
    """Follow the arrows of ``b`` (edge (i, len(x) + j)) from the last cell; the LCS, in order."""
    nx = len(x)
    arrows = b_table[:nx, nx:].argmax(-1)
    out, i, j = [], len(x) - 1, len(y) - 1
    while i >= 0 and j >= 0:
        a = arrows[i, j]
        if a == 0:
            out.append(x[i])
            i, j = i - 1, j - 1
        elif a == 1:
            i -= 1
        else:
            j -= 1
    return out[::-1]


def is_subsequence(sub, seq):
    it = iter(seq)
    return all(any(c == v for v in it) for c in sub)


def check_lcs(x, y):
    x, y = list(map(int, x)), list(map(int, y))
    t = EXECUTE("lcs_length", x=x, y=y)
    nx, n = len(x), len(x) + len(y)
    L = lcs_table(x, y)
    common = read_lcs(t.outputs["b"], x, y)
    assert len(common) == L[-1][-1]
    assert is_subsequence(common, x) and is_subsequence(common, y)
    c = t.hints["c"][-1]
    np.testing.assert_array_equal(c[:nx, nx:], np.array(L)[1:, 1:])
    assert not c[:, :nx].any() and not c[nx:].any()
    # categorical layout: one-hot arrows on x-rows / y-columns, every other cell masked
    b = t.outputs["b"]
    block = np.zeros((n, n), dtype=bool)
    block[:nx, nx:] = True
    assert np.all(b[block][:, 3] == 0) and np.all(b[block][:, :3].sum(-1) == 1)
    assert np.all(b[~block] == [0, 0, 0, -1])
    np.testing.assert_array_equal(t.inputs["key"].argmax(-1), x + y)
    np.testing.assert_array_equal(t.inputs["string"], [0] * nx + [1] * len(y))
    return t


def test_lcs_length_arrows_give_a_longest_common_subsequence():
    rng = np.random.default_rng(5)
    for n in random_sizes(rng, low=2):
        m = int(rng.integers(1, n))
        check_lcs(rng.integers(0, 4, size=n - m), rng.integers(0, 4, size=m))


def test_lcs_length_edge_cases():
    for x, y in [([0], [0]), ([0], [1]), ([2, 2, 2], [2]), ([1], [3, 1, 1]),
                 ([0, 1, 2, 3], [0, 1, 2, 3]), ([0, 0, 0, 0], [1, 1, 1]), ([3, 2, 1, 0], [0, 1, 2, 3])]:
        check_lcs(x, y)
    assert check_lcs([0, 0], [1, 1]).length == 1  # no inner change: one snapshot


def test_lcs_length_hand_trajectory():
    # x = 0 1, y = 1 0: row/column 0 filled directly; the inner cell (1,1) goes 0 -> up with c = 1
    t = EXECUTE("lcs_length", x=[0, 1], y=[1, 0])
    assert t.length == 2
    block = lambda a: a[:2, 2:].tolist()
    assert [block(c) for c in t.hints["c"]] == [[[0, 1], [1, 0]], [[0, 1], [1, 1]]]
    arrows = [block(b.argmax(-1)) for b in t.hints["b_h"]]
    assert arrows == [[[1, 0], [0, 0]], [[1, 0], [0, 1]]]
    assert block(t.outputs["b"].argmax(-1)) == [[1, 0], [0, 1]]
    assert t.hints["pred_h"][0].tolist() == [0, 0, 2, 2]
    np.testing.assert_array_equal(t.inputs["pos"], [0, 0.5, 0, 0.5])


# ============================================================================ optimal_bst
def all_trees(i, j):
    """Every BST over keys i..j-1 as nested (root, left, right); None is the gap between keys."""
    if i == j:
        return [None]
    return [(r, left, right) for r in range(i, j)
            for left in all_trees(i, r) for right in all_trees(r + 1, j)]


def expected_cost(tree, p, q, i, j, depth=0):
    """CLRS (15.11): sum over keys and gaps of (depth + 1) * probability."""
    if tree is None:
        return (depth + 1) * q[i]
    r, left, right = tree
    return ((depth + 1) * p[r] + expected_cost(left, p, q, i, r, depth + 1)
            + expected_cost(right, p, q, r + 1, j, depth + 1))


def tree_from_roots(root, i, j):
    if i == j:
        return None
    r = int(root[i, j])
    assert i <= r < j
    return (r, tree_from_roots(root, i, r), tree_from_roots(root, r + 1, j))


def bst_optimum(p, q):
    """Optimal expected cost by memoised recursion over the root (CLRS 15.14)."""
    @lru_cache(maxsize=None)
    def e(i, j):
        if i == j:
            return q[i]
        return sum(p[i:j]) + sum(q[i:j + 1]) + min(e(i, r) + e(r + 1, j) for r in range(i, j))
    return e(0, len(p))


def draw_bst(rng, n):
    arr = rng.uniform(size=2 * n + 1)
    arr /= arr.sum()
    return arr[:n], arr[n:]


def test_optimal_bst_root_table_is_optimal():
    rng = np.random.default_rng(6)
    for n in random_sizes(rng):
        p, q = draw_bst(rng, n)
        t = EXECUTE("optimal_bst", p=p, q=q)
        tree = tree_from_roots(t.outputs["root"], 0, n)
        cost = expected_cost(tree, p, q, 0, n)
        if n <= 7:
            best = min(expected_cost(tr, p, q, 0, n) for tr in all_trees(0, n))
        else:
            best = bst_optimum(tuple(p), tuple(q))
        assert np.isclose(cost, best, rtol=1e-9), (n, cost, best)
        assert np.isclose(t.hints["e"][-1][0, n], best, rtol=1e-6)
        assert t.length == n + 1
        np.testing.assert_array_equal(t.inputs["p"], np.float32(np.r_[p, 0]))
        assert t.hints["msk"][-1].tolist() == np.triu(np.ones((n + 1, n + 1))).tolist()


def test_subtree_mass_rounds_like_the_textbook_loop():
    from nar.algorithms.dynamic_programming import _subtree_mass

    rng = np.random.default_rng(7)
    for n in (1, 2, 5, 40):
        p, q = rng.uniform(size=n), rng.uniform(size=n + 1)
        w = np.zeros((n + 1, n + 1))
        for i in range(n + 1):
            w[i, i] = q[i]
            for j in range(i + 1, n + 1):
                w[i, j] = w[i, j - 1] + p[j - 1] + q[j]
        assert np.array_equal(_subtree_mass(p, q), w)  # bit-for-bit: ties between roots hinge on it


def test_optimal_bst_hand_trajectory():
    # keys 1/8, 1/4; gaps 1/8, 1/4, 1/4 (exact binary fractions)
    t = EXECUTE("optimal_bst", p=[0.125, 0.25], q=[0.125, 0.25, 0.25])
    assert t.length == 3
    e, w, root = t.hints["e"], t.hints["w"], t.hints["root_h"]
    assert e[0].tolist() == np.diag([0.125, 0.25, 0.25]).tolist()
    assert (w[1, 0, 1], w[1, 1, 2], w[1, 0, 2]) == (0.5, 0.75, 0)
    assert (e[1, 0, 1], e[1, 1, 2], root[1, 0, 1], root[1, 1, 2]) == (0.875, 1.25, 0, 1)
    assert (w[2, 0, 2], e[2, 0, 2], root[2, 0, 2]) == (1.0, 2.125, 1)  # root 1: 2.125 < 2.375
    assert t.hints["msk"][1].astype(int).tolist() == [[1, 1, 0], [0, 1, 1], [0, 0, 1]]


# ============================================================================ bad inputs
@pytest.mark.parametrize("name, kwargs, words", [
    ("activity_selector", dict(s=[0.0, 1.0], f=[1.0]), "same length"),
    ("activity_selector", dict(s=[0.5], f=[0.2]), "s <= f"),
    ("activity_selector", dict(s=[np.nan], f=[1.0]), "finite"),
    ("activity_selector", dict(s=[], f=[]), "at least 1"),
    ("activity_selector", dict(s=[[0.0]], f=[[1.0]]), "1-D"),
    ("task_scheduling", dict(d=[1, 2], w=[0.5]), "same length"),
    ("task_scheduling", dict(d=[0, 1], w=[0.5, 0.5]), ">= 1"),
    ("task_scheduling", dict(d=[1.5, 1], w=[0.5, 0.5]), "integers"),
    ("task_scheduling", dict(d=[1, 1], w=[np.inf, 0.5]), "finite"),
    ("task_scheduling", dict(d=[], w=[]), "at least 1"),
    ("matrix_chain_order", dict(p=[]), "at least 1"),
    ("matrix_chain_order", dict(p=[1.0, -2.0]), ">= 0"),
    ("matrix_chain_order", dict(p=[1.0, np.nan]), "finite"),
    ("matrix_chain_order", dict(p=[1e30, 1e30, 1e30]), "overflow"),
    ("matrix_chain_order", dict(p=[1e200, 1e200, 1e200]), "float32"),
    ("lcs_length", dict(x=[0, 4], y=[1]), "<= 3"),
    ("lcs_length", dict(x=[0, 1], y=[-1]), ">= 0"),
    ("lcs_length", dict(x=[0.5], y=[1]), "integers"),
    ("lcs_length", dict(x=[], y=[1]), "at least 1"),
    ("optimal_bst", dict(p=[0.2, 0.2], q=[0.2, 0.4]), "one more element"),
    ("optimal_bst", dict(p=[0.5], q=[0.5, np.nan]), "finite"),
    ("optimal_bst", dict(p=[-0.5], q=[0.5, 1.0]), ">= 0"),
    ("optimal_bst", dict(p=[], q=[1.0]), "at least 1"),
    ("optimal_bst", dict(p=[1e38], q=[1e38, 1e38]), "overflow"),
])
def test_bad_inputs_raise_clear_errors(name, kwargs, words):
    with pytest.raises(InputError, match=words) as err:
        EXECUTE(name, **kwargs)
    assert name in str(err.value)
