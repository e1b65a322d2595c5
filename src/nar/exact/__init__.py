"""Exact reasoners: graph template matching, learned by an NTK predictor or an MLP ensemble.

A program (:mod:`nar.exact.programs`: ``flooding``, ``bfs``, ``dfs``, ``bellman_ford``) is a bit
layout plus templates built from :mod:`nar.exact.gadgets`; :mod:`nar.exact.compiler` turns the
templates into sparse masks and :mod:`nar.exact.executor` runs the GNN of Equation 2 of the seed
paper over a batch of graphs with a predictor: ``IdealPredictor`` (OR of matched labels),
``NTKPredictor`` (:mod:`nar.exact.ntk`) or ``EnsemblePredictor`` (:mod:`nar.exact.ensemble`).
:mod:`nar.exact.local` compiles a LOCAL algorithm written in plain Python (``LocalAlgorithm``) into
such a program.

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
from importlib import import_module

_EXPORTS = {
    "Compiled": "compiler", "compile_program": "compiler",
    "EnsemblePredictor": "ensemble", "MLPEnsemble": "ensemble", "train_for": "ensemble",
    "IdealPredictor": "executor", "RunResult": "executor", "SlotCollision": "executor", "run": "executor",
    "Graph": "graph", "GraphBatch": "graph", "local_ids": "graph",
    "Layout": "layout", "from_bits": "layout", "to_bits": "layout",
    "KEY": "local", "LocalAlgorithm": "local", "LocalCompileError": "local", "compile_rule": "local",
    "program_class": "local", "small": "local", "simulate": "local_runtime",
    "NTKPredictor": "ntk", "max_safe_matches": "ntk",
    "PROGRAMS": "programs", "ExactProgram": "programs", "get_program": "programs",
    "Program": "templates", "Template": "templates",
    "random_graphs": "verification", "reference_graphs": "verification", "verify": "verification",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import on first use, so that ``nar.exact.cli`` (parser building) does not pull in torch."""
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
