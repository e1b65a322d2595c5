"""Published Triplet-GMPNN OOD test scores (n = 64, %), Ibarz et al. 2022 (Tables 1 and 2), for comparison.

Per-algorithm means (10 seeds, 10,000 steps, batch 32); their family means and the mean of family means
(74.14) reproduce the paper's Table 1.  Source notes: shared/reference/published_results.md.
"""
from __future__ import annotations

from ..specs import FAMILIES

TRIPLET_GMPNN = {
    "bfs": 99.73, "dag_shortest_paths": 98.19, "minimum": 97.78, "segments_intersect": 97.64,
    "bellman_ford": 97.39, "dijkstra": 96.05, "activity_selector": 95.18, "bridges": 93.99,
    "graham_scan": 93.62, "matrix_chain_order": 91.68, "jarvis_march": 91.01, "mst_kruskal": 89.8,
    "articulation_points": 88.32, "topological_sort": 87.27, "task_scheduling": 87.25, "mst_prim": 86.39,
    "lcs_length": 80.51, "naive_string_matcher": 78.67, "insertion_sort": 78.14, "binary_search": 77.58,
    "find_maximum_subarray_kadane": 76.36, "optimal_bst": 73.77, "bubble_sort": 67.68, "quicksort": 64.64,
    "floyd_warshall": 48.52, "dfs": 47.79, "strongly_connected_components": 43.43, "heapsort": 31.04,
    "kmp_matcher": 19.51, "quickselect": 0.47,
}
TRIPLET_GMPNN_OVERALL = 74.14  # mean of the 8 family means

CORE_SUITE = ("bfs", "dfs", "bellman_ford", "dijkstra", "dag_shortest_paths", "mst_prim", "topological_sort",
              "insertion_sort", "minimum", "binary_search")
CORE_GRAPH_ALGORITHMS = ("bfs", "dfs", "bellman_ford", "dijkstra", "dag_shortest_paths", "mst_prim",
                         "topological_sort")


def family_means(scores: dict[str, float]) -> dict[str, float]:
    """Mean score per CLRS family over the algorithms present in ``scores``."""
    out = {}
    for fam, names in FAMILIES.items():
        vals = [scores[a] for a in names if a in scores]
        if vals:
            out[fam] = sum(vals) / len(vals)
    return out


def overall(scores: dict[str, float]) -> float:
    """Mean of family means (the paper's 'overall average')."""
    fm = family_means(scores)
    return sum(fm.values()) / len(fm)
