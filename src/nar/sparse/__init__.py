"""Sparse graphs at large n: edge-list graphs, samplers that never build ``[n, n]``, CLRS graph
algorithms on adjacency lists with hints as change logs, and exact conversion to / from the dense
trajectories of :func:`nar.execute` (small n).  See ``docs/how-to/sparse.md``."""
from .graph import SparseGraph, model_edges
from .trajectory import (EDGE_FILL, SPARSE_ALGORITHMS, HintLog, SparseTrajectory, check_sparse, from_dense,
                         to_dense)

__all__ = [
    "EDGE_FILL",
    "HintLog",
    "SPARSE_ALGORITHMS",
    "SparseGraph",
    "SparseTrajectory",
    "check_sparse",
    "from_dense",
    "model_edges",
    "to_dense",
]
