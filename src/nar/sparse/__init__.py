"""Sparse graphs at large n: edge-list graphs, samplers that never build ``[n, n]``, CLRS graph
algorithms on adjacency lists with hints as change logs, and exact conversion to / from the dense
trajectories of :func:`nar.execute` (small n).  See ``docs/how-to/sparse.md``."""
from .api import ALGORITHMS, execute, sample
from .graph import SparseGraph, model_edges
from .samplers import sample_graph, sample_inputs
from .specs import SALSA_SPECS, spec_of
from .trajectory import (EDGE_FILL, SPARSE_ALGORITHMS, HintLog, SparseTrajectory, check_sparse, from_dense,
                         to_dense)

__all__ = [
    "ALGORITHMS",
    "SALSA_SPECS",
    "execute",
    "sample",
    "sample_graph",
    "sample_inputs",
    "spec_of",
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
