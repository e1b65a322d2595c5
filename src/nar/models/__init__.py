"""Learned reasoners: probe types, processors, the encode-process-decode Reasoner, CLRS scoring.

    from nar.models import Reasoner, evaluate
    model = Reasoner("bfs", processor="triplet_gmpnn", hidden=128)
    out = model(batch, teacher_forcing=0.0); losses = model.loss(out, batch)
    scores = evaluate(model, batch)            # Scores(outputs={...}, score=..., hints={...})
"""
from .evaluation import ScoreAccumulator, Scores, evaluate
from .processors import (PROCESSORS, DenseMemoryError, Processor, build_processor, list_processors,
                         register_processor)
from .probe_types import TYPES, ProbeType, probe_type
from .reasoner import FEEDBACK_MODES, HINT_MODES, ModelOutput, Prediction, Reasoner
from .spec import ModelSpec, adapt, cyclic_permutation, fuse_permutation, model_spec, unbatch

__all__ = [
    "FEEDBACK_MODES", "HINT_MODES", "PROCESSORS", "TYPES", "DenseMemoryError", "ModelOutput", "ModelSpec",
    "Prediction", "ProbeType", "Processor", "Reasoner", "ScoreAccumulator", "Scores", "adapt",
    "build_processor", "cyclic_permutation", "evaluate", "fuse_permutation", "list_processors",
    "model_spec", "probe_type", "register_processor", "unbatch",
]
