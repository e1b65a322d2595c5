"""Sparse (edge-list) forms of nar's models: the dense modules' parameters applied to ``edge_index``.

See :mod:`nar.models.sparse.processors` for the semantics of a sparse processor step.
"""
from .ops import Structure, segment_log_softmax, segment_max, segment_softmax, segment_sum
from .processors import SPARSE_PROCESSORS, check_sparse, sparse_step, supports_sparse

__all__ = ["SPARSE_PROCESSORS", "Structure", "check_sparse", "segment_log_softmax", "segment_max",
           "segment_softmax", "segment_sum", "sparse_step", "supports_sparse"]
