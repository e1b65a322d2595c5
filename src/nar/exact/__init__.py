"""Exact reasoners: graph template matching, learned by an NTK predictor or an MLP ensemble.

See :mod:`nar.exact.templates` (framework), :mod:`nar.exact.gadgets`, :mod:`nar.exact.compiler`,
:mod:`nar.exact.executor` (Equation 2 of the seed paper), :mod:`nar.exact.programs`.
"""
from .compiler import Compiled, compile_program
from .ensemble import EnsemblePredictor, MLPEnsemble, train_for
from .executor import IdealPredictor, RunResult, SlotCollision, run
from .graph import Graph, GraphBatch, local_ids
from .layout import Layout, from_bits, to_bits
from .ntk import NTKPredictor, max_safe_matches
from .programs import PROGRAMS, ExactProgram, get_program
from .templates import Program, Template
from .verify import random_graphs, reference_graphs, verify

__all__ = [
    "Compiled", "EnsemblePredictor", "ExactProgram", "Graph", "GraphBatch", "IdealPredictor", "Layout",
    "MLPEnsemble", "NTKPredictor", "PROGRAMS", "Program", "RunResult", "SlotCollision", "Template",
    "compile_program", "from_bits", "get_program", "local_ids", "max_safe_matches", "random_graphs",
    "reference_graphs", "run", "to_bits", "train_for", "verify",
]
