"""Probe specifications of the CLRS-30 algorithms.

A *probe* is one named array an algorithm exposes: an input, a hint (one value per step of the
trajectory) or an output, living on nodes, edges or the whole graph, with a type that fixes how it
is encoded, decoded, scored and fed back (see :mod:`nar.types`).

The tables follow CLRS (Velickovic et al., 2022, ``clrs/_src/specs.py``) probe for probe, so that a
researcher who knows CLRS reads them without a dictionary.  ``pred_h`` stays a hint here as in the
CLRS spec; the model layer may turn it into an input (CLRS ``PRED_AS_INPUT_ALGOS``), and
``should_be_permutation`` outputs may be rewritten to ``permutation_pointer`` + ``pred_mask``.
"""
from __future__ import annotations

from enum import Enum
from types import MappingProxyType
from typing import Mapping, NamedTuple


class Stage(str, Enum):
    """When a probe is seen: an input, a hint (one value per step) or an output."""

    INPUT = "input"
    OUTPUT = "output"
    HINT = "hint"

    def __str__(self) -> str:  # prints as the CLRS word
        return self.value


class Location(str, Enum):
    """Where a probe lives: on every node, on every edge (n x n) or on the whole graph."""

    NODE = "node"
    EDGE = "edge"
    GRAPH = "graph"

    def __str__(self) -> str:
        return self.value


class Type(str, Enum):
    """How a probe is encoded, decoded, scored and fed back (see :mod:`nar.types`)."""

    SCALAR = "scalar"
    CATEGORICAL = "categorical"
    MASK = "mask"
    MASK_ONE = "mask_one"
    POINTER = "pointer"
    SHOULD_BE_PERMUTATION = "should_be_permutation"
    PERMUTATION_POINTER = "permutation_pointer"
    SOFT_POINTER = "soft_pointer"

    def __str__(self) -> str:
        return self.value


class Probe(NamedTuple):
    """(stage, location, type) of one probe; compares equal to the tuple of CLRS words."""

    stage: Stage
    location: Location
    type: Type


Spec = Mapping[str, Probe]


def _spec(*rows: tuple[str, str, str, str]) -> Spec:
    return MappingProxyType(
        {name: Probe(Stage(s), Location(l), Type(t)) for name, s, l, t in rows}
    )


# Algorithms whose constant ``pred_h`` hint CLRS's run.py turns into a ``pred`` input.
PRED_AS_INPUT_ALGOS = frozenset({
    "binary_search", "minimum", "find_maximum_subarray_kadane", "matrix_chain_order",
    "lcs_length", "optimal_bst", "activity_selector", "task_scheduling",
    "naive_string_matcher", "kmp_matcher", "jarvis_march",
})

# Eval/test size multipliers of CLRS_30_ALGS_SETTINGS (default 1).
EVAL_MULTIPLIER = MappingProxyType({
    "find_maximum_subarray_kadane": 32,
    "quickselect": 64, "minimum": 64, "binary_search": 64,
    "naive_string_matcher": 64, "kmp_matcher": 64, "segments_intersect": 64,
})

FAMILIES = MappingProxyType({
    "sorting": ("insertion_sort", "bubble_sort", "heapsort", "quicksort"),
    "searching": ("minimum", "binary_search", "quickselect"),
    "divide_and_conquer": ("find_maximum_subarray_kadane",),
    "greedy": ("activity_selector", "task_scheduling"),
    "dynamic_programming": ("matrix_chain_order", "lcs_length", "optimal_bst"),
    "graphs": ("dfs", "bfs", "topological_sort", "articulation_points", "bridges",
               "strongly_connected_components", "mst_kruskal", "mst_prim", "bellman_ford",
               "dijkstra", "dag_shortest_paths", "floyd_warshall"),
    "strings": ("naive_string_matcher", "kmp_matcher"),
    "geometry": ("segments_intersect", "graham_scan", "jarvis_march"),
})

SPECS: Mapping[str, Spec] = MappingProxyType({
    "insertion_sort": _spec(
        ("pos", "input", "node", "scalar"),
        ("key", "input", "node", "scalar"),
        ("pred", "output", "node", "should_be_permutation"),
        ("pred_h", "hint", "node", "pointer"),
        ("i", "hint", "node", "mask_one"),
        ("j", "hint", "node", "mask_one"),
    ),
    "bubble_sort": _spec(
        ("pos", "input", "node", "scalar"),
        ("key", "input", "node", "scalar"),
        ("pred", "output", "node", "should_be_permutation"),
        ("pred_h", "hint", "node", "pointer"),
        ("i", "hint", "node", "mask_one"),
        ("j", "hint", "node", "mask_one"),
    ),
    "heapsort": _spec(
        ("pos", "input", "node", "scalar"),
        ("key", "input", "node", "scalar"),
        ("pred", "output", "node", "should_be_permutation"),
        ("pred_h", "hint", "node", "pointer"),
        ("parent", "hint", "node", "pointer"),
        ("i", "hint", "node", "mask_one"),
        ("j", "hint", "node", "mask_one"),
        ("largest", "hint", "node", "mask_one"),
        ("heap_size", "hint", "node", "mask_one"),
        ("phase", "hint", "graph", "categorical"),
    ),
    "quicksort": _spec(
        ("pos", "input", "node", "scalar"),
        ("key", "input", "node", "scalar"),
        ("pred", "output", "node", "should_be_permutation"),
        ("pred_h", "hint", "node", "pointer"),
        ("p", "hint", "node", "mask_one"),
        ("r", "hint", "node", "mask_one"),
        ("i", "hint", "node", "mask_one"),
        ("j", "hint", "node", "mask_one"),
    ),
    "minimum": _spec(
        ("pos", "input", "node", "scalar"),
        ("key", "input", "node", "scalar"),
        ("min", "output", "node", "mask_one"),
        ("pred_h", "hint", "node", "pointer"),
        ("min_h", "hint", "node", "mask_one"),
        ("i", "hint", "node", "mask_one"),
    ),
    "binary_search": _spec(
        ("pos", "input", "node", "scalar"),
        ("key", "input", "node", "scalar"),
        ("target", "input", "graph", "scalar"),
        ("return", "output", "node", "mask_one"),
        ("pred_h", "hint", "node", "pointer"),
        ("low", "hint", "node", "mask_one"),
        ("high", "hint", "node", "mask_one"),
        ("mid", "hint", "node", "mask_one"),
    ),
    "quickselect": _spec(
        ("pos", "input", "node", "scalar"),
        ("key", "input", "node", "scalar"),
        ("median", "output", "node", "mask_one"),
        ("pred_h", "hint", "node", "pointer"),
        ("p", "hint", "node", "mask_one"),
        ("r", "hint", "node", "mask_one"),
        ("i", "hint", "node", "mask_one"),
        ("j", "hint", "node", "mask_one"),
        ("i_rank", "hint", "graph", "scalar"),
        ("target", "hint", "graph", "scalar"),
        ("pivot", "hint", "node", "mask_one"),
    ),
    "find_maximum_subarray_kadane": _spec(
        ("pos", "input", "node", "scalar"),
        ("key", "input", "node", "scalar"),
        ("start", "output", "node", "mask_one"),
        ("end", "output", "node", "mask_one"),
        ("pred_h", "hint", "node", "pointer"),
        ("best_low", "hint", "node", "mask_one"),
        ("best_high", "hint", "node", "mask_one"),
        ("best_sum", "hint", "graph", "scalar"),
        ("i", "hint", "node", "mask_one"),
        ("j", "hint", "node", "mask_one"),
        ("sum", "hint", "graph", "scalar"),
    ),
    "activity_selector": _spec(
        ("pos", "input", "node", "scalar"),
        ("s", "input", "node", "scalar"),
        ("f", "input", "node", "scalar"),
        ("selected", "output", "node", "mask"),
        ("pred_h", "hint", "node", "pointer"),
        ("selected_h", "hint", "node", "mask"),
        ("m", "hint", "node", "mask_one"),
        ("k", "hint", "node", "mask_one"),
    ),
    "task_scheduling": _spec(
        ("pos", "input", "node", "scalar"),
        ("d", "input", "node", "scalar"),
        ("w", "input", "node", "scalar"),
        ("selected", "output", "node", "mask"),
        ("pred_h", "hint", "node", "pointer"),
        ("selected_h", "hint", "node", "mask"),
        ("i", "hint", "node", "mask_one"),
        ("t", "hint", "graph", "scalar"),
    ),
    "matrix_chain_order": _spec(
        ("pos", "input", "node", "scalar"),
        ("p", "input", "node", "scalar"),
        ("s", "output", "edge", "pointer"),
        ("pred_h", "hint", "node", "pointer"),
        ("m", "hint", "edge", "scalar"),
        ("s_h", "hint", "edge", "pointer"),
        ("msk", "hint", "edge", "mask"),
    ),
    "lcs_length": _spec(
        ("string", "input", "node", "mask"),
        ("pos", "input", "node", "scalar"),
        ("key", "input", "node", "categorical"),
        ("b", "output", "edge", "categorical"),
        ("pred_h", "hint", "node", "pointer"),
        ("b_h", "hint", "edge", "categorical"),
        ("c", "hint", "edge", "scalar"),
    ),
    "optimal_bst": _spec(
        ("pos", "input", "node", "scalar"),
        ("p", "input", "node", "scalar"),
        ("q", "input", "node", "scalar"),
        ("root", "output", "edge", "pointer"),
        ("pred_h", "hint", "node", "pointer"),
        ("root_h", "hint", "edge", "pointer"),
        ("e", "hint", "edge", "scalar"),
        ("w", "hint", "edge", "scalar"),
        ("msk", "hint", "edge", "mask"),
    ),
    "dfs": _spec(
        ("pos", "input", "node", "scalar"),
        ("A", "input", "edge", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("pi", "output", "node", "pointer"),
        ("pi_h", "hint", "node", "pointer"),
        ("color", "hint", "node", "categorical"),
        ("d", "hint", "node", "scalar"),
        ("f", "hint", "node", "scalar"),
        ("s_prev", "hint", "node", "pointer"),
        ("s", "hint", "node", "mask_one"),
        ("u", "hint", "node", "mask_one"),
        ("v", "hint", "node", "mask_one"),
        ("s_last", "hint", "node", "mask_one"),
        ("time", "hint", "graph", "scalar"),
    ),
    "bfs": _spec(
        ("pos", "input", "node", "scalar"),
        ("s", "input", "node", "mask_one"),
        ("A", "input", "edge", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("pi", "output", "node", "pointer"),
        ("reach_h", "hint", "node", "mask"),
        ("pi_h", "hint", "node", "pointer"),
    ),
    "topological_sort": _spec(
        ("pos", "input", "node", "scalar"),
        ("A", "input", "edge", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("topo", "output", "node", "pointer"),
        ("topo_head", "output", "node", "mask_one"),
        ("topo_h", "hint", "node", "pointer"),
        ("topo_head_h", "hint", "node", "mask_one"),
        ("color", "hint", "node", "categorical"),
        ("s_prev", "hint", "node", "pointer"),
        ("s", "hint", "node", "mask_one"),
        ("u", "hint", "node", "mask_one"),
        ("v", "hint", "node", "mask_one"),
        ("s_last", "hint", "node", "mask_one"),
    ),
    "articulation_points": _spec(
        ("pos", "input", "node", "scalar"),
        ("A", "input", "edge", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("is_cut", "output", "node", "mask"),
        ("is_cut_h", "hint", "node", "mask"),
        ("pi_h", "hint", "node", "pointer"),
        ("color", "hint", "node", "categorical"),
        ("d", "hint", "node", "scalar"),
        ("f", "hint", "node", "scalar"),
        ("low", "hint", "node", "scalar"),
        ("child_cnt", "hint", "node", "scalar"),
        ("s_prev", "hint", "node", "pointer"),
        ("s", "hint", "node", "mask_one"),
        ("u", "hint", "node", "mask_one"),
        ("v", "hint", "node", "mask_one"),
        ("s_last", "hint", "node", "mask_one"),
        ("time", "hint", "graph", "scalar"),
    ),
    "bridges": _spec(
        ("pos", "input", "node", "scalar"),
        ("A", "input", "edge", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("is_bridge", "output", "edge", "mask"),
        ("is_bridge_h", "hint", "edge", "mask"),
        ("pi_h", "hint", "node", "pointer"),
        ("color", "hint", "node", "categorical"),
        ("d", "hint", "node", "scalar"),
        ("f", "hint", "node", "scalar"),
        ("low", "hint", "node", "scalar"),
        ("s_prev", "hint", "node", "pointer"),
        ("s", "hint", "node", "mask_one"),
        ("u", "hint", "node", "mask_one"),
        ("v", "hint", "node", "mask_one"),
        ("s_last", "hint", "node", "mask_one"),
        ("time", "hint", "graph", "scalar"),
    ),
    "strongly_connected_components": _spec(
        ("pos", "input", "node", "scalar"),
        ("A", "input", "edge", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("scc_id", "output", "node", "pointer"),
        ("scc_id_h", "hint", "node", "pointer"),
        ("A_t", "hint", "edge", "mask"),
        ("color", "hint", "node", "categorical"),
        ("d", "hint", "node", "scalar"),
        ("f", "hint", "node", "scalar"),
        ("s_prev", "hint", "node", "pointer"),
        ("s", "hint", "node", "mask_one"),
        ("u", "hint", "node", "mask_one"),
        ("v", "hint", "node", "mask_one"),
        ("s_last", "hint", "node", "mask_one"),
        ("time", "hint", "graph", "scalar"),
        ("phase", "hint", "graph", "mask"),
    ),
    "mst_kruskal": _spec(
        ("pos", "input", "node", "scalar"),
        ("A", "input", "edge", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("in_mst", "output", "edge", "mask"),
        ("in_mst_h", "hint", "edge", "mask"),
        ("pi", "hint", "node", "pointer"),
        ("u", "hint", "node", "mask_one"),
        ("v", "hint", "node", "mask_one"),
        ("root_u", "hint", "node", "mask_one"),
        ("root_v", "hint", "node", "mask_one"),
        ("mask_u", "hint", "node", "mask"),
        ("mask_v", "hint", "node", "mask"),
        ("phase", "hint", "graph", "categorical"),
    ),
    "mst_prim": _spec(
        ("pos", "input", "node", "scalar"),
        ("s", "input", "node", "mask_one"),
        ("A", "input", "edge", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("pi", "output", "node", "pointer"),
        ("pi_h", "hint", "node", "pointer"),
        ("key", "hint", "node", "scalar"),
        ("mark", "hint", "node", "mask"),
        ("in_queue", "hint", "node", "mask"),
        ("u", "hint", "node", "mask_one"),
    ),
    "bellman_ford": _spec(
        ("pos", "input", "node", "scalar"),
        ("s", "input", "node", "mask_one"),
        ("A", "input", "edge", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("pi", "output", "node", "pointer"),
        ("pi_h", "hint", "node", "pointer"),
        ("d", "hint", "node", "scalar"),
        ("msk", "hint", "node", "mask"),
    ),
    "dijkstra": _spec(
        ("pos", "input", "node", "scalar"),
        ("s", "input", "node", "mask_one"),
        ("A", "input", "edge", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("pi", "output", "node", "pointer"),
        ("pi_h", "hint", "node", "pointer"),
        ("d", "hint", "node", "scalar"),
        ("mark", "hint", "node", "mask"),
        ("in_queue", "hint", "node", "mask"),
        ("u", "hint", "node", "mask_one"),
    ),
    "dag_shortest_paths": _spec(
        ("pos", "input", "node", "scalar"),
        ("s", "input", "node", "mask_one"),
        ("A", "input", "edge", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("pi", "output", "node", "pointer"),
        ("pi_h", "hint", "node", "pointer"),
        ("d", "hint", "node", "scalar"),
        ("mark", "hint", "node", "mask"),
        ("topo_h", "hint", "node", "pointer"),
        ("topo_head_h", "hint", "node", "mask_one"),
        ("color", "hint", "node", "categorical"),
        ("s_prev", "hint", "node", "pointer"),
        ("u", "hint", "node", "mask_one"),
        ("v", "hint", "node", "mask_one"),
        ("s_last", "hint", "node", "mask_one"),
        ("phase", "hint", "graph", "mask"),
    ),
    "floyd_warshall": _spec(
        ("pos", "input", "node", "scalar"),
        ("A", "input", "edge", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("Pi", "output", "edge", "pointer"),
        ("Pi_h", "hint", "edge", "pointer"),
        ("D", "hint", "edge", "scalar"),
        ("msk", "hint", "edge", "mask"),
        ("k", "hint", "node", "mask_one"),
    ),
    "naive_string_matcher": _spec(
        ("string", "input", "node", "mask"),
        ("pos", "input", "node", "scalar"),
        ("key", "input", "node", "categorical"),
        ("match", "output", "node", "mask_one"),
        ("pred_h", "hint", "node", "pointer"),
        ("s", "hint", "node", "mask_one"),
        ("i", "hint", "node", "mask_one"),
        ("j", "hint", "node", "mask_one"),
    ),
    "kmp_matcher": _spec(
        ("string", "input", "node", "mask"),
        ("pos", "input", "node", "scalar"),
        ("key", "input", "node", "categorical"),
        ("match", "output", "node", "mask_one"),
        ("pred_h", "hint", "node", "pointer"),
        ("pi", "hint", "node", "pointer"),
        ("is_reset", "hint", "node", "mask"),
        ("k", "hint", "node", "mask_one"),
        ("k_reset", "hint", "graph", "mask"),
        ("q", "hint", "node", "mask_one"),
        ("q_reset", "hint", "graph", "mask"),
        ("s", "hint", "node", "mask_one"),
        ("i", "hint", "node", "mask_one"),
        ("phase", "hint", "graph", "mask"),
    ),
    "segments_intersect": _spec(
        ("pos", "input", "node", "scalar"),
        ("x", "input", "node", "scalar"),
        ("y", "input", "node", "scalar"),
        ("intersect", "output", "graph", "mask"),
        ("i", "hint", "node", "mask_one"),
        ("j", "hint", "node", "mask_one"),
        ("k", "hint", "node", "mask_one"),
        ("dir", "hint", "node", "scalar"),
        ("on_seg", "hint", "node", "mask"),
    ),
    "graham_scan": _spec(
        ("pos", "input", "node", "scalar"),
        ("x", "input", "node", "scalar"),
        ("y", "input", "node", "scalar"),
        ("in_hull", "output", "node", "mask"),
        ("best", "hint", "node", "mask_one"),
        ("atans", "hint", "node", "scalar"),
        ("in_hull_h", "hint", "node", "mask"),
        ("stack_prev", "hint", "node", "pointer"),
        ("last_stack", "hint", "node", "mask_one"),
        ("i", "hint", "node", "mask_one"),
        ("phase", "hint", "graph", "categorical"),
    ),
    "jarvis_march": _spec(
        ("pos", "input", "node", "scalar"),
        ("x", "input", "node", "scalar"),
        ("y", "input", "node", "scalar"),
        ("in_hull", "output", "node", "mask"),
        ("pred_h", "hint", "node", "pointer"),
        ("in_hull_h", "hint", "node", "mask"),
        ("best", "hint", "node", "mask_one"),
        ("last_point", "hint", "node", "mask_one"),
        ("endpoint", "hint", "node", "mask_one"),
        ("i", "hint", "node", "mask_one"),
        ("phase", "hint", "graph", "categorical"),
    ),})

CLRS_30_ALGS: tuple[str, ...] = tuple(SPECS)

assert sorted(CLRS_30_ALGS) == sorted(a for fam in FAMILIES.values() for a in fam)
