"""Exact reasoners: graph template matching, learned by an NTK predictor or an MLP ensemble.

See :mod:`nar.exact.templates` (framework), :mod:`nar.exact.gadgets`, :mod:`nar.exact.compiler`,
:mod:`nar.exact.executor` (Equation 2 of the seed paper), :mod:`nar.exact.programs`.
"""
from .compiler import Compiled, compile_program
from .executor import IdealPredictor, RunResult, SlotCollision, run
from .graph import Graph, GraphBatch, local_ids
from .layout import Layout, from_bits, to_bits
from .programs import PROGRAMS, ExactProgram, get_program
from .templates import Program, Template

__all__ = [
    "Compiled", "ExactProgram", "Graph", "GraphBatch", "IdealPredictor", "Layout", "PROGRAMS",
    "Program", "RunResult", "SlotCollision", "Template", "compile_program", "from_bits", "get_program",
    "local_ids", "run", "to_bits",
]
