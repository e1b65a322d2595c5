"""Sorting, searching and maximum-subarray algorithms: outputs against independent oracles,
hand-derived hint trajectories on tiny inputs, and bad-input errors."""
import bisect
import itertools

import numpy as np
import pytest

import nar

SORTS = ("insertion_sort", "bubble_sort", "heapsort", "quicksort")
STABLE_SORTS = ("insertion_sort", "bubble_sort")


# ------------------------------------------------------------------------------------ helpers
def random_arrays(seed, count=200, low=0.0, high=1.0):
    """``count`` arrays over sizes 1..64 (mostly small); every third one has integer keys (ties)."""
    rng = np.random.default_rng(seed)
    sizes = [1, 2, 2, 3] + list(rng.integers(1, 12, size=count - 14)) + list(rng.integers(12, 65, size=10))
    for k, n in enumerate(sizes):
        if k % 3 == 2:
            yield rng.integers(-3, 4, size=n).astype(np.float64)
        else:
            yield rng.uniform(low, high, size=n)


def decode_order(pred):
    """The list order encoded by predecessor pointers (first element points to itself)."""
    pred = np.asarray(pred)
    n = len(pred)
    heads = [i for i in range(n) if pred[i] == i]
    assert len(heads) == 1, pred
    succ = {int(p): i for i, p in enumerate(pred) if p != i}
    order = [heads[0]]
    while order[-1] in succ:
        order.append(succ[order[-1]])
    assert sorted(order) == list(range(n)), pred  # a permutation
    return order


def idx(mask_rows):
    """Node indices of a [T, n] mask_one hint (or one [n] mask_one)."""
    return np.argmax(np.asarray(mask_rows), axis=-1).tolist()


def best_subarray(A):
    """Brute force over all (i, j): the maximum sum; among ties the smallest end j, then start i."""
    best = None
    for j in range(len(A)):
        for i in range(j + 1):
            s = sum(A[i:j + 1])
            if best is None or s > best[0]:
                best = (s, i, j)
    return best


# ------------------------------------------------------------------------------------ oracles
@pytest.mark.parametrize("name", SORTS)
def test_sorts_against_argsort(name):
    for A in random_arrays(seed=1):
        t = nar.execute(name, A=A)
        order = decode_order(t.outputs["pred"])
        if name in STABLE_SORTS:  # strict comparisons keep equal keys in input order
            assert order == np.argsort(A, kind="stable").tolist()
        else:
            assert A[order].tolist() == sorted(A.tolist())
            if len(set(A.tolist())) == len(A):
                assert order == np.argsort(A).tolist()
        # the last hint snapshot is the sorted order as well (CLRS records after each change)
        assert decode_order(t.hints["pred_h"][-1]) == order
        np.testing.assert_array_equal(t.inputs["key"], A.astype(np.float32))
        np.testing.assert_allclose(t.inputs["pos"], np.arange(len(A)) / len(A))


def test_sort_lengths_follow_the_textbook():
    A = np.random.default_rng(3).uniform(size=9)
    assert nar.execute("insertion_sort", A=A).length == 9
    assert nar.execute("bubble_sort", A=A).length == 1 + 9 * 8 // 2


def test_minimum_against_argmin():
    for A in random_arrays(seed=2):
        t = nar.execute("minimum", A=A)
        assert idx(t.outputs["min"]) == int(np.argmin(A))  # first of equal minima
        assert idx(t.hints["min_h"]) == [int(np.argmin(A[:k + 1])) for k in range(len(A))]
        assert idx(t.hints["i"]) == list(range(len(A)))


def test_binary_search_against_bisect():
    rng = np.random.default_rng(4)
    beyond_seen = 0
    for k, A in enumerate(random_arrays(seed=4)):
        A = np.sort(A)
        x = float(rng.choice(A)) if k % 3 == 0 else float(rng.uniform(A.min() - 0.2, A.max() + 0.2))
        t = nar.execute("binary_search", x=x, A=A)
        q = bisect.bisect_left(A.tolist(), x)  # textbook: smallest q with x <= A[q], n if none
        assert t.extras["index"] == q
        assert t.extras["beyond"] == (q == len(A))
        assert idx(t.outputs["return"]) == min(q, len(A) - 1)  # the reference clamps to the array
        halvings = t.length - 1  # the initial state, then one snapshot per halving
        assert int(np.floor(np.log2(len(A)))) <= halvings <= int(np.ceil(np.log2(len(A))))
        beyond_seen += q == len(A)
    assert beyond_seen > 5


def test_binary_search_beyond_every_key_is_reported():
    t = nar.execute("binary_search", x=5.0, A=[1.0, 2.0, 3.0])
    assert idx(t.outputs["return"]) == 2 and t.extras == {"index": 3, "beyond": True}
    t = nar.execute("binary_search", x=3.0, A=[1.0, 2.0, 3.0])
    assert idx(t.outputs["return"]) == 2 and t.extras == {"index": 2, "beyond": False}
    t = nar.execute("binary_search", x=2.0, A=[2.0, 2.0, 2.0, 5.0])  # first of equal keys
    assert idx(t.outputs["return"]) == 0


def test_quickselect_finds_the_upper_median():
    for A in random_arrays(seed=5):
        t = nar.execute("quickselect", A=A)
        m = idx(t.outputs["median"])
        assert A[m] == sorted(A.tolist())[len(A) // 2]
        assert t.hints["target"][0] == pytest.approx((len(A) // 2) / len(A))


def test_kadane_against_brute_force():
    for A in random_arrays(seed=6, low=-1.0, high=1.0):
        t = nar.execute("find_maximum_subarray_kadane", A=A)
        start, end = idx(t.outputs["start"]), idx(t.outputs["end"])
        best, i, j = best_subarray(A.tolist())
        if A.dtype == np.float64 and not np.all(A == np.round(A)):
            # float keys: the sums differ by rounding only; exact ties have probability 0
            assert sum(A[start:end + 1]) == pytest.approx(best, abs=1e-9)
        assert (start, end) == (i, j)
        assert t.hints["best_sum"][-1] == pytest.approx(best, abs=1e-5)


def test_kadane_ties_pick_the_earliest_end_and_keep_zero_prefixes():
    t = nar.execute("find_maximum_subarray_kadane", A=[2.0, -2.0, 2.0])  # [0,0] and [0,2], [2,2] tie
    assert (idx(t.outputs["start"]), idx(t.outputs["end"])) == (0, 0)
    t = nar.execute("find_maximum_subarray_kadane", A=[-1.0, 0.0, 3.0])  # zero prefix kept
    assert (idx(t.outputs["start"]), idx(t.outputs["end"])) == (1, 2)
    t = nar.execute("find_maximum_subarray_kadane", A=[-3.0, -1.0, -2.0])  # all negative
    assert (idx(t.outputs["start"]), idx(t.outputs["end"])) == (1, 1)


def test_input_array_is_not_modified():
    for name in SORTS + ("minimum", "quickselect", "find_maximum_subarray_kadane"):
        A = np.array([3.0, 1.0, 2.0])
        nar.execute(name, A=A)
        assert A.tolist() == [3.0, 1.0, 2.0]


def test_default_samplers_give_valid_outputs():
    for name in SORTS:
        for t in nar.sample(name, n=16, count=3, seed=9):
            order = decode_order(t.outputs["pred"])
            assert np.all(np.diff(t.inputs["key"][order]) >= 0)
    for t in nar.sample("binary_search", n=16, count=5, seed=9):
        assert np.all(np.diff(t.inputs["key"]) >= 0)


# ------------------------------------------------------------------- hand-derived trajectories
def test_insertion_sort_trajectory_by_hand():
    t = nar.execute("insertion_sort", A=[3.0, 1.0, 2.0])
    # orders: [0,1,2] -> insert 1 before 0: [1,0,2] -> insert 2 between 1 and 0: [1,2,0]
    assert t.hints["pred_h"].tolist() == [[0, 0, 1], [1, 1, 0], [2, 1, 1]]
    assert idx(t.hints["j"]) == [0, 1, 2]
    assert idx(t.hints["i"]) == [0, 0, 0]  # the element that held slot i+1: 3 (node 0) both times
    assert t.outputs["pred"].tolist() == [2, 1, 1]


def test_bubble_sort_trajectory_by_hand():
    t = nar.execute("bubble_sort", A=[2.0, 3.0, 1.0])
    # i=0: j=2 swaps 3,1 -> [2,1,3] (nodes 0,2,1); j=1 swaps 2,1 -> [1,2,3] (nodes 2,0,1)
    # i=1: j=2 compares 2,3: no swap
    assert t.hints["pred_h"].tolist() == [[0, 0, 1], [0, 2, 0], [2, 0, 2], [2, 0, 2]]
    assert idx(t.hints["i"]) == [0, 0, 2, 0]
    assert idx(t.hints["j"]) == [0, 1, 0, 1]


def test_heapsort_trajectory_by_hand():
    t = nar.execute("heapsort", A=[1.0, 2.0])
    # init | heapify(1) | heapify(0) swaps | heapify(1) recursion | extraction | heapify(0), phase 2
    assert t.hints["pred_h"].tolist() == [[0, 0], [0, 0], [1, 1], [1, 1], [0, 0], [0, 0]]
    assert t.hints["parent"].tolist() == [[0, 0], [0, 0], [1, 1], [1, 1], [0, 1], [0, 1]]
    assert idx(t.hints["i"]) == [1, 1, 1, 1, 0, 1]
    assert idx(t.hints["j"]) == [1, 1, 1, 0, 1, 0]
    assert idx(t.hints["largest"]) == [1, 1, 0, 0, 0, 0]
    assert idx(t.hints["heap_size"]) == [1, 1, 0, 0, 0, 0]
    assert idx(t.hints["phase"]) == [0, 0, 0, 0, 1, 2]
    assert t.outputs["pred"].tolist() == [0, 0]


def test_quicksort_trajectory_by_hand():
    t = nar.execute("quicksort", A=[2.0, 3.0, 1.0])
    # partition(0, 2), pivot 1: 2 > 1, 3 > 1, then the pivot moves to slot 0: [1,3,2]
    # partition(1, 2), pivot 2: 3 > 2, then the pivot moves to slot 1: [1,2,3]
    assert t.hints["pred_h"].tolist() == [[0, 0, 1], [0, 0, 1], [1, 2, 2], [1, 2, 2], [2, 0, 2]]
    assert idx(t.hints["p"]) == [0, 0, 2, 1, 0]
    assert idx(t.hints["r"]) == [2, 2, 0, 0, 1]
    assert idx(t.hints["i"]) == [0, 0, 2, 1, 0]
    assert idx(t.hints["j"]) == [0, 1, 0, 1, 1]
    one = nar.execute("quicksort", A=[5.0])  # documented deviation: one snapshot for n = 1
    assert one.length == 1 and one.outputs["pred"].tolist() == [0]


def test_minimum_trajectory_by_hand():
    t = nar.execute("minimum", A=[2.0, 1.0, 1.0, 0.5])
    assert idx(t.hints["min_h"]) == [0, 1, 1, 3]
    assert t.hints["pred_h"].tolist() == [[0, 0, 1, 2]] * 4


def test_binary_search_trajectory_by_hand():
    t = nar.execute("binary_search", x=0.5, A=[0.1, 0.2, 0.6, 0.9])
    assert idx(t.hints["low"]) == [0, 2, 2]
    assert idx(t.hints["high"]) == [3, 3, 2]
    assert idx(t.hints["mid"]) == [1, 2, 2]
    assert float(t.inputs["target"]) == pytest.approx(0.5)
    # beyond every key: low climbs to the last slot, as in the reference
    t = nar.execute("binary_search", x=2.0, A=[0.1, 0.2, 0.6, 0.9])
    assert idx(t.hints["low"]) == [0, 2, 3] and idx(t.outputs["return"]) == 3


def test_quickselect_trajectory_by_hand():
    t = nar.execute("quickselect", A=[3.0, 1.0, 2.0])
    # rank 1; partition(0, 2) around 2: 3 > 2; 1 <= 2 swaps slots 0,1; pivot to slot 1 -> q = 1
    assert t.hints["pred_h"].tolist() == [[0, 0, 1], [1, 1, 0], [2, 1, 1]]
    assert idx(t.hints["p"]) == [0, 1, 1]
    assert idx(t.hints["r"]) == [2, 2, 0]
    assert idx(t.hints["i"]) == [0, 0, 2]
    assert idx(t.hints["j"]) == [0, 0, 0]
    assert idx(t.hints["pivot"]) == [2, 2, 2]
    np.testing.assert_allclose(t.hints["i_rank"], [0, 1 / 3, 1 / 3])
    np.testing.assert_allclose(t.hints["target"], [1 / 3] * 3)
    assert idx(t.outputs["median"]) == 2


def test_kadane_trajectory_by_hand():
    t = nar.execute("find_maximum_subarray_kadane", A=[1.0, -2.0, 3.0])
    np.testing.assert_allclose(t.hints["sum"], [1, -1, 3])
    np.testing.assert_allclose(t.hints["best_sum"], [1, 1, 3])
    assert idx(t.hints["i"]) == [0, 0, 2]
    assert idx(t.hints["j"]) == [0, 1, 2]
    assert idx(t.hints["best_low"]) == [0, 0, 2]
    assert idx(t.hints["best_high"]) == [0, 0, 2]


# ------------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("name", SORTS + ("minimum", "quickselect", "find_maximum_subarray_kadane"))
@pytest.mark.parametrize("bad, message", [
    (np.zeros((2, 2)), "1-D"), ([], "at least 1"), ([1.0, np.nan], "finite"),
    ([0.0, np.inf], "finite"), (["a", "b"], "numeric"),
])
def test_bad_arrays_are_rejected(name, bad, message):
    with pytest.raises(nar.InputError, match=message):
        nar.execute(name, A=bad)


def test_binary_search_bad_inputs():
    with pytest.raises(nar.InputError, match="sorted"):
        nar.execute("binary_search", x=0.5, A=[0.3, 0.1, 0.2])
    with pytest.raises(nar.InputError, match="x must be one finite number"):
        nar.execute("binary_search", x=float("nan"), A=[0.1, 0.2])
    with pytest.raises(nar.InputError, match="x must be one finite number"):
        nar.execute("binary_search", x=[0.1, 0.2], A=[0.1, 0.2])
    with pytest.raises(nar.InputError, match="A must be finite"):
        nar.execute("binary_search", x=0.1, A=[0.1, np.inf])


def test_tiny_inputs_all_algorithms():
    for name in SORTS + ("minimum", "quickselect", "find_maximum_subarray_kadane"):
        for A in ([4.0], [2.0, 1.0], [1.0, 1.0]):
            t = nar.execute(name, A=A)
            assert t.n == len(A) and t.length >= 1
    assert idx(nar.execute("binary_search", x=0.0, A=[4.0]).outputs["return"]) == 0


def test_every_permutation_of_four_distinct_keys_sorts():
    for perm in itertools.permutations(range(4)):
        A = np.array(perm, dtype=float)
        for name in SORTS:
            assert decode_order(nar.execute(name, A=A).outputs["pred"]) == np.argsort(A).tolist()
        assert A[idx(nar.execute("quickselect", A=A).outputs["median"])] == 2.0
