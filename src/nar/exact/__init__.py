"""Exact reasoners: graph template matching, learned by an NTK predictor or an MLP ensemble.

A program (:mod:`nar.exact.programs`: ``flooding``, ``bfs``, ``dfs``, ``bellman_ford``) is a bit
layout plus templates built from :mod:`nar.exact.gadgets`; :mod:`nar.exact.compiler` turns the
templates into sparse masks and :mod:`nar.exact.executor` runs the GNN of Equation 2 of the seed
paper over a batch of graphs with a predictor: ``IdealPredictor`` (OR of matched labels),
``NTKPredictor`` (:mod:`nar.exact.ntk`) or ``EnsemblePredictor`` (:mod:`nar.exact.ensemble`).

Example::

    import numpy as np
    from nar.exact import Graph, NTKPredictor, get_program, verify, reference_graphs

    g = Graph(4, np.array([[0, 1], [1, 2], [0, 2], [2, 3]]), weights=np.array([2, 1, 5, 1]))
    bf = get_program("bellman_ford")(D=3, l=4)
    (out,), result, _ = bf.execute(g, 0, predictor=NTKPredictor())
    out["dist"]             # array([0, 2, 3, 4])
    rep = verify("bfs", reference_graphs(np.random.default_rng(0), 100), NTKPredictor(), D=3)
    print(rep.summary())    # bfs (ntk): 100/100 graphs exact, ...
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
