"""Sparse (edge-list) forms of nar's models: the dense modules' parameters applied to ``edge_index``, so a model
trained dense runs sparse and the other way round.

    from nar.sparse import sample
    from nar.sparse.batch import collate_sparse
    import nar.models.sparse as sparse

    batch = collate_sparse(sample("bfs", 4096, 2, seed=0, graph="er"))
    out = sparse.forward(model, batch)                  # raw predictions (model: a nar Reasoner)
    sparse.loss(model, out, batch)["total"].backward()  # training on sparse batches
    sparse.predict(model, batch)                        # hard outputs (pointers: global node ids)
    res = sparse.evaluate(model, "bfs", n=16384, graph="er", count=4)   # scores, seconds, peak memory

Semantics of a sparse processor step: :mod:`nar.models.sparse.processors`; value conventions:
:mod:`nar.models.sparse.probes`; the step loop: :mod:`nar.models.sparse.model`.
"""
from .model import (SparseMemoryError, SparseOutput, SparsePrediction, check_memory, decode, estimate_bytes,
                    forward, loss, predict, structure)
from .ops import Structure, segment_argmax, segment_log_softmax, segment_max, segment_softmax, segment_sum
from .processors import SPARSE_PROCESSORS, check_sparse, sparse_step, supports_sparse
from .scoring import GRAPHS, SparseEvalResult, SparseScoreAccumulator, evaluate, score

__all__ = ["GRAPHS", "SPARSE_PROCESSORS", "SparseEvalResult", "SparseMemoryError", "SparseOutput",
           "SparsePrediction", "SparseScoreAccumulator", "Structure", "check_memory", "check_sparse", "decode",
           "estimate_bytes", "evaluate", "forward", "loss", "predict", "score", "segment_argmax",
           "segment_log_softmax", "segment_max", "segment_softmax", "segment_sum", "sparse_step", "structure",
           "supports_sparse"]
