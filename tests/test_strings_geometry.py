"""String matchers and geometry: outputs vs independent oracles, hand-checked hints, bad input."""
from fractions import Fraction
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import ConvexHull

import nar
from nar.samplers import points_in_disk

MATCHERS = ("naive_string_matcher", "kmp_matcher")
HULLS = ("graham_scan", "jarvis_march")


def idx(arr) -> list:
    """Node indices of a one-hot array (last axis)."""
    return np.argmax(arr, axis=-1).tolist()


def as_str(seq) -> str:
    return "".join("abcd"[c] for c in seq)


# ----------------------------------------------------------------------------- string matchers
def random_strings(rng, count):
    """(T, P) pairs over alphabets of size 1, 2 and 4; total length 2..64; P often absent."""
    cases = []
    for k in range(count):
        n = int(rng.integers(2, 17)) if k % 4 else int(rng.integers(17, 65))
        nP = int(rng.integers(1, n // 2 + 1)) if k % 3 else int(rng.integers(1, min(4, n // 2) + 1))
        chars = (1, 2, 4)[k % 3]
        T, P = rng.integers(0, chars, n - nP), rng.integers(0, chars, nP)
        if k % 5 == 0:  # plant P at the start, the end or anywhere
            at = (0, len(T) - nP, int(rng.integers(len(T) - nP + 1)))[k % 3]
            T[at:at + nP] = P
        cases.append((T, P))
    cases += [([0], [0]), ([2], [1]), ([0, 1, 2, 3], [0, 1, 2, 3]), ([3, 3, 3, 2], [3, 2]),
              ([1, 0, 1, 0], [1, 0]), ([0] * 10, [0] * 10), ([0] * 10, [0] * 9 + [1])]
    return cases


def lcp(T, P, s) -> int:
    k = 0
    while k < len(P) and T[s + k] == P[k]:
        k += 1
    return k


@pytest.mark.parametrize("name", MATCHERS)
def test_matchers_find_the_first_occurrence_like_str_find(name):
    rng = np.random.default_rng(7)
    absent = present = 0
    for T, P in random_strings(rng, 240):
        t = nar.execute(name, T=T, P=P)
        nT = len(T)
        found = as_str(T).find(as_str(P))
        expected = found if found >= 0 else nT  # absent: the head of the pattern
        assert idx(t.outputs["match"]) == expected, (T, P)
        assert t.extras["text_length"] == nT
        assert t.n == nT + len(P)
        absent += found < 0
        present += found >= 0
    assert absent > 30 and present > 30


@pytest.mark.parametrize("name", MATCHERS)
def test_matcher_inputs_follow_clrs_strings_probes(name):
    T, P = [1, 0, 2, 3, 1], [2, 3]
    t = nar.execute(name, T=T, P=P)
    np.testing.assert_array_equal(t.inputs["string"], [0, 0, 0, 0, 0, 1, 1])
    np.testing.assert_allclose(t.inputs["pos"], [0, .2, .4, .6, .8, 0, .5], rtol=1e-6)
    assert idx(t.inputs["key"]) == T + P and t.inputs["key"].shape == (7, 4)
    assert (t.hints["pred_h"] == [0, 0, 1, 2, 3, 5, 5]).all()  # constant, per string


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=12), st.data())
def test_matchers_agree_with_str_find_on_any_strings(T, data):
    P = data.draw(st.lists(st.integers(0, 1), min_size=1, max_size=len(T)))  # small: often present
    found = as_str(T).find(as_str(P))
    for name in MATCHERS:
        assert idx(nar.execute(name, T=T, P=P).outputs["match"]) == (found if found >= 0 else len(T))


def test_naive_trajectory_length_is_one_per_shift_plus_matched_characters():
    rng = np.random.default_rng(3)
    for T, P in random_strings(rng, 120):
        t = nar.execute("naive_string_matcher", T=T, P=P)
        found = as_str(T).find(as_str(P))
        last = found if found >= 0 else len(T) - len(P)
        expected = sum(1 + min(lcp(list(T), list(P), s), len(P) - 1) for s in range(last + 1))
        assert t.length == expected
        assert idx(t.hints["s"])[-1] == last


def test_kmp_prefix_function_hint_equals_brute_force_borders():
    rng = np.random.default_rng(4)
    for T, P in random_strings(rng, 120):
        t = nar.execute("kmp_matcher", T=T, P=P)
        nT, P = len(T), list(P)
        final_phase0 = int(np.argmax(t.hints["phase"] == 1)) - 1 if t.hints["phase"].any() else -1
        pi = t.hints["pi"][final_phase0]
        reset = t.hints["is_reset"][final_phase0]
        assert (pi[:nT] == np.arange(nT)).all() and (reset[:nT] == 0).all()
        assert reset[nT] == 1
        for q in range(1, len(P)):
            border = max(b for b in range(q + 1) if P[:b] == P[q + 1 - b:q + 1])  # proper: b <= q
            assert reset[nT + q] == (border == 0)
            assert pi[nT + q] == nT + max(border - 1, 0)


def test_naive_hand_checked_trajectory():
    t = nar.execute("naive_string_matcher", T=[1, 0, 1], P=[0, 1])
    assert idx(t.hints["s"]) == [0, 1, 1]
    assert idx(t.hints["i"]) == [0, 1, 2]
    assert idx(t.hints["j"]) == [3, 3, 4]
    assert idx(t.outputs["match"]) == 1
    t = nar.execute("naive_string_matcher", T=[0, 0], P=[1])  # absent
    assert idx(t.hints["s"]) == [0, 1] and idx(t.hints["j"]) == [2, 2]
    assert idx(t.outputs["match"]) == 2


def test_kmp_hand_checked_trajectory():
    # P = 0 0 1 (nodes 4..6) in T = 0 0 0 1 (nodes 0..3): derived by hand from the reference.
    t = nar.execute("kmp_matcher", T=[0, 0, 0, 1], P=[0, 0, 1])
    h = t.hints
    assert h["phase"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert idx(h["k"]) == [4] * 9
    assert h["k_reset"].tolist() == [1, 0, 1, 1, 1, 1, 1, 1, 1]
    assert idx(h["q"]) == [5, 5, 6, 6, 4, 4, 5, 4, 5]
    assert h["q_reset"].tolist() == [1, 1, 1, 1, 1, 0, 0, 0, 0]
    assert idx(h["s"]) == [0] * 8 + [1]
    assert idx(h["i"]) == [0, 0, 0, 0, 0, 1, 2, 2, 3]
    assert h["pi"][:, 4:].tolist() == [[4, 5, 6]] + [[4, 4, 6]] * 2 + [[4, 4, 4]] * 6
    assert h["is_reset"][:, 4:].tolist() == [[1, 0, 0]] * 3 + [[1, 0, 1]] * 6
    assert idx(t.outputs["match"]) == 1


@pytest.mark.parametrize("name", MATCHERS)
@pytest.mark.parametrize("T, P, message", [
    ([], [0], "at least 1"),
    ([0, 1], [], "at least 1"),
    ([0, 4, 1], [1], "0..3"),
    ([0, 1], [-1], "0..3"),
    ([0, 1.5], [1], "integers"),
    ([0, 1], [0, 1, 0], "longer than the text"),
    ([[0, 1]], [1], "1-D"),
    (["a", "b"], ["a"], "numeric"),
])
def test_matchers_reject_bad_input(name, T, P, message):
    with pytest.raises(nar.InputError, match=message):
        nar.execute(name, T=T, P=P)


# ----------------------------------------------------------------------------- segments
def exact_intersect(pts) -> bool:
    """Closed segments p0p1 and p2p3 meet, by exact rational parametrisation."""
    p0, p1, p2, p3 = [(Fraction(x), Fraction(y)) for x, y in pts]

    def sub(a, b):
        return (a[0] - b[0], a[1] - b[1])

    def cross(a, b):
        return a[0] * b[1] - a[1] * b[0]

    def dot(a, b):
        return a[0] * b[0] + a[1] * b[1]

    r, s, w = sub(p1, p0), sub(p3, p2), sub(p2, p0)
    den = cross(r, s)
    if den != 0:
        t, u = cross(w, s) / den, cross(w, r) / den
        return 0 <= t <= 1 and 0 <= u <= 1
    if r == (0, 0) and s == (0, 0):
        return p0 == p2
    if r == (0, 0):  # p0 on segment p2p3?
        v = sub(p0, p2)
        return cross(s, v) == 0 and 0 <= dot(v, s) <= dot(s, s)
    if cross(w, r) != 0:  # parallel, not on one line
        return False
    ts = sorted((dot(w, r) / dot(r, r), dot(sub(p3, p0), r) / dot(r, r)))
    return ts[0] <= 1 and ts[1] >= 0


def test_segments_intersect_matches_exact_rational_oracle():
    rng = np.random.default_rng(5)
    grids = [rng.integers(0, 4, (4, 2)) for _ in range(400)]  # touching, collinear, point segments
    floats = [rng.random((4, 2)) for _ in range(200)]
    hits = 0
    for pts in grids + floats:
        t = nar.execute("segments_intersect", xs=pts[:, 0], ys=pts[:, 1])
        want = exact_intersect(pts.tolist())
        assert t.outputs["intersect"] == float(want), pts.tolist()
        hits += want
    assert 150 < hits < 450


def test_segments_intersect_hand_checked_trajectory():
    t = nar.execute("segments_intersect", xs=[0, 2, 0, 2], ys=[0, 2, 2, 0])  # an X
    h = t.hints
    assert t.length == 5
    assert idx(h["i"]) == [0, 2, 2, 0, 0]
    assert idx(h["j"]) == [0, 3, 3, 1, 1]
    assert idx(h["k"]) == [0, 0, 1, 2, 3]
    assert h["dir"].tolist() == [[0, 0, 0, 0], [4, 0, 0, 0], [4, -4, 0, 0], [4, -4, -4, 0], [4, -4, -4, 4]]
    assert h["on_seg"].tolist() == [[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]
    assert t.outputs["intersect"] == 1
    t = nar.execute("segments_intersect", xs=[0, 2, 1, 1], ys=[0, 0, 0, 5])  # T-junction: touching
    assert t.hints["dir"][-1, 2] == 0 and t.hints["on_seg"][-1, 2] == 1
    assert t.outputs["intersect"] == 1
    t = nar.execute("segments_intersect", xs=[0, 1, 2, 3], ys=[0, 0, 0, 0])  # collinear, apart
    assert t.outputs["intersect"] == 0


@pytest.mark.parametrize("xs, ys, message", [
    ([0, 1, 2], [0, 1, 2], "exactly 4"),
    ([0, 1, 2, 3, 4], [0, 1, 2, 3, 4], "exactly 4"),
    ([0, 1, 2, 3], [0, 1, 2], "same length"),
    ([0, 1, np.nan, 3], [0, 1, 2, 3], "finite"),
    ([0, 1, 2, 3], [0, np.inf, 2, 3], "finite"),
])
def test_segments_intersect_rejects_bad_input(xs, ys, message):
    with pytest.raises(nar.InputError, match=message):
        nar.execute("segments_intersect", xs=xs, ys=ys)


# ----------------------------------------------------------------------------- convex hulls
def brute_force_vertices(pts) -> list:
    """Point i is a hull vertex iff it lies in no closed triangle / segment of the other points."""
    pts = [tuple(map(int, p)) for p in pts]

    def orient(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    def in_segment(p, a, b):
        return orient(a, b, p) == 0 and min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) \
            and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])

    def in_triangle(p, a, b, c):
        if orient(a, b, c) == 0:
            return False
        d = (orient(a, b, p), orient(b, c, p), orient(c, a, p))
        return all(v >= 0 for v in d) or all(v <= 0 for v in d)

    out = []
    for i, p in enumerate(pts):
        others = pts[:i] + pts[i + 1:]
        inside = any(in_segment(p, a, b) for a, b in combinations(others, 2)) or \
            any(in_triangle(p, a, b, c) for a, b, c in combinations(others, 3))
        out.append(int(not inside))
    return out


def scipy_vertices(xs, ys) -> list:
    n = len(xs)
    if n < 3:
        return [1] * n
    mask = np.zeros(n, dtype=int)
    mask[ConvexHull(np.stack([xs, ys], 1)).vertices] = 1
    return mask.tolist()


@pytest.mark.parametrize("name", HULLS)
def test_hull_of_random_points_matches_scipy(name):
    rng = np.random.default_rng(6)
    sizes = [1, 2, 3, 4] + rng.integers(5, 17, 170).tolist() + rng.integers(17, 65, 26).tolist()
    for n in sizes:
        xs, ys = points_in_disk(rng, n)
        t = nar.execute(name, xs=xs, ys=ys)
        assert t.outputs["in_hull"].astype(int).tolist() == scipy_vertices(xs, ys), (name, n)
        np.testing.assert_array_equal(t.hints["in_hull_h"][-1], t.outputs["in_hull"])


@pytest.mark.parametrize("name", HULLS)
def test_hull_of_grid_points_with_collinear_triples_is_its_vertices(name):
    rng = np.random.default_rng(8)
    for k in range(120):
        side = (3, 4, 6)[k % 3]
        n = int(rng.integers(1, 11))
        cells = rng.choice(side * side, size=min(n, side * side), replace=False)
        xs, ys = cells % side, cells // side
        if k % 10 == 0:  # all on one line
            xs, ys = np.arange(n), 2 * np.arange(n) + 1
        t = nar.execute(name, xs=xs, ys=ys)
        expected = brute_force_vertices(np.stack([xs, ys], 1))
        assert t.outputs["in_hull"].astype(int).tolist() == expected, (name, xs.tolist(), ys.tolist())


@settings(max_examples=120, deadline=None)
@given(st.sets(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), min_size=1, max_size=9))
def test_hulls_are_the_vertices_of_any_small_integer_point_set(points):
    pts = np.array(sorted(points, key=lambda p: hash(p)))  # an arbitrary order
    expected = brute_force_vertices(pts)
    for name in HULLS:
        t = nar.execute(name, xs=pts[:, 0], ys=pts[:, 1])
        assert t.outputs["in_hull"].astype(int).tolist() == expected, (name, pts.tolist())


def test_hulls_on_a_square_grid_and_a_line():
    xs, ys = np.divmod(np.arange(9), 3)
    for name in HULLS:
        t = nar.execute(name, xs=xs, ys=ys)
        assert np.flatnonzero(t.outputs["in_hull"]).tolist() == [0, 2, 6, 8]
        t = nar.execute(name, xs=[3, 1, 0, 2], ys=[0, 0, 0, 0])  # reference graham loops forever
        assert t.outputs["in_hull"].tolist() == [1, 0, 1, 0]


def test_graham_hand_checked_trajectory():
    xs, ys = [1, 0, 2, 2, 0], [0.5, 0, 0, 2, 2]  # a square around point 0
    t = nar.execute("graham_scan", xs=xs, ys=ys)
    h = t.hints
    assert idx(h["phase"]) == [0, 1, 2, 4, 4, 3, 4, 4]
    assert idx(h["i"]) == [0, 1, 1, 2, 0, 3, 3, 4]
    assert idx(h["last_stack"]) == [0, 1, 1, 2, 0, 2, 3, 4]
    assert idx(h["best"]) == [0] + [1] * 7
    np.testing.assert_allclose(h["atans"][2], [np.arctan2(0.5, 1), 0, 0, np.pi / 4, np.pi / 2], rtol=1e-6)
    assert (h["atans"][:2] == 0).all()
    assert h["stack_prev"][-1].tolist() == [0, 1, 1, 2, 3]
    assert h["in_hull_h"][:, 0].tolist() == [0, 0, 0, 0, 1, 0, 0, 0]
    assert t.outputs["in_hull"].tolist() == [0, 1, 1, 1, 1]


def test_graham_final_stack_walks_the_hull_clockwise():
    rng = np.random.default_rng(9)
    for n in (3, 8, 20, 64):
        xs, ys = points_in_disk(rng, n)
        t = nar.execute("graham_scan", xs=xs, ys=ys)
        prev, top = t.hints["stack_prev"][-1], idx(t.hints["last_stack"][-1])
        best = idx(t.hints["best"][-1])
        walk = [top]
        while walk[-1] != best:
            walk.append(int(prev[walk[-1]]))
        assert sorted(walk) == np.flatnonzero(t.outputs["in_hull"]).tolist()
        ring = np.stack([xs, ys], 1)[walk]  # clockwise: negative signed area
        area = np.sum(ring[:, 0] * np.roll(ring[:, 1], -1) - np.roll(ring[:, 0], -1) * ring[:, 1])
        assert area < 0


def test_jarvis_hand_checked_trajectory():
    t = nar.execute("jarvis_march", xs=[0, 4, 1, 0], ys=[0, 0, 1, 4])  # a triangle around point 2
    h = t.hints
    assert idx(h["endpoint"]) == [0, 0, 0, 1, 1, 1, 0, 0, 0, 2, 3, 0, 0, 0, 0, 0]
    assert idx(h["i"]) == [0, 0, 0, 1, 2, 3, 0, 0, 1, 2, 3, 0, 0, 1, 2, 3]
    assert idx(h["last_point"]) == [0] * 6 + [1] * 5 + [3] * 5
    assert idx(h["phase"]) == [0] + [1] * 15
    assert h["pred_h"][0].tolist() == [0, 0, 1, 2]
    assert t.outputs["in_hull"].tolist() == [1, 1, 0, 1]


def test_jarvis_length_is_one_scan_per_hull_vertex():
    rng = np.random.default_rng(10)
    for n in (1, 2, 5, 16, 40):
        xs, ys = points_in_disk(rng, n)
        t = nar.execute("jarvis_march", xs=xs, ys=ys)
        h = int(t.outputs["in_hull"].sum())
        assert t.length == 2 + h * n + (h - 1)


@pytest.mark.parametrize("name", HULLS)
@pytest.mark.parametrize("xs, ys, message", [
    ([], [], "at least 1"),
    ([0, 1, 2], [0, 1], "same length"),
    ([0, 1, np.inf], [0, 1, 2], "finite"),
    ([0, 1, 2], [0, np.nan, 2], "finite"),
    ([0, 1, 0], [0, 1, 0], "distinct"),
    ([[0, 1]], [[0, 1]], "1-D"),
])
def test_hulls_reject_bad_input(name, xs, ys, message):
    with pytest.raises(nar.InputError, match=message):
        nar.execute(name, xs=xs, ys=ys)
