"""Common machinery of the exact programs: parameters, input checks, batching, running, decoding.

A subclass defines ``build`` (the templates), ``check`` (input errors, raised before any step),
``init_rows`` (initial node states), ``bound`` (its iteration bound), ``decode`` (bits -> outputs)
and ``truth`` (textbook ground truth, from :mod:`nar.exact.truth`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...validation import InputError
from ..compiler import Compiled, compile_program
from ..executor import Predictor, RunResult, run
from ..graph import Graph, GraphBatch, local_ids
from ..templates import Program


@dataclass
class Prepared:
    batch: GraphBatch
    X0: np.ndarray          # [R, k] uint8
    bounds: np.ndarray      # [B] iteration bound per graph
    ids: list[np.ndarray]   # local IDs per graph
    sources: list[int]
    inputs: list[dict]


class ExactProgram:
    """An algorithm in the graph template-matching framework, for maximum degree ``D``."""

    name = ""
    needs_connected = False
    weighted = False

    def __init__(self, D: int = 3, l: int = 4, slots: int | None = None):
        if int(D) < 1:
            raise InputError(f"{self.name}: the maximum degree D must be >= 1, got {D}")
        if int(l) < 1:
            raise InputError(f"{self.name}: the bit width l must be >= 1, got {l}")
        self.D, self.l = int(D), int(l)
        self.S = int(slots) if slots is not None else self.D ** 2 + 1
        if self.S < self.D + 1:
            raise InputError(f"{self.name}: need at least D + 1 = {self.D + 1} slots, got {self.S}")
        self.program: Program = self.build()
        self.compiled: Compiled = compile_program(self.program)

    # ---- to be defined by programs ------------------------------------------------------------
    def build(self) -> Program:
        raise NotImplementedError

    def check(self, g: Graph, source: int, **inputs) -> None:
        """Program-specific input errors (after :meth:`check_common`)."""

    def init_rows(self, g: Graph, source: int, ids: np.ndarray, **inputs) -> np.ndarray:
        raise NotImplementedError

    def bound(self, g: Graph, source: int, **inputs) -> int:
        raise NotImplementedError

    def decode(self, g: Graph, source: int, rows: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def truth(self, g: Graph, source: int, **inputs) -> dict[str, np.ndarray]:
        raise NotImplementedError

    @classmethod
    def bits_for(cls, graphs: list[Graph], **inputs) -> int:
        """A bit width that fits every graph of ``graphs``."""
        raise NotImplementedError

    # ---- shared ------------------------------------------------------------------------------
    @property
    def k(self) -> int:
        return self.compiled.k

    def new_rows(self, n: int) -> np.ndarray:
        return np.zeros((n, self.k), dtype=np.uint8)

    def check_common(self, g: Graph, source: int) -> np.ndarray:
        """Degree, source, connectivity and slot checks; returns the local IDs."""
        if not isinstance(g, Graph):
            raise InputError(f"{self.name}: expected a nar.exact.Graph, got {type(g).__name__}")
        if g.max_degree > self.D:
            v = int(np.argmax(g.degrees()))
            raise InputError(f"{self.name}: node {v} has degree {g.max_degree}, above the program's "
                             f"maximum degree D={self.D}; build the program with D >= {g.max_degree}")
        if isinstance(source, bool) or not isinstance(source, (int, np.integer)) or not 0 <= source < g.n:
            raise InputError(f"{self.name}: the source must be a node index in [0, {g.n}), got {source!r}")
        if self.needs_connected and not g.is_connected():
            raise InputError(f"{self.name}: the graph must be connected "
                             f"({int((g.hops(0) >= 0).sum())} of {g.n} nodes reachable from node 0)")
        if self.weighted and g.weights is None:
            raise InputError(f"{self.name}: the graph needs edge weights")
        ids = local_ids(g)
        if ids.max(initial=0) >= self.S:
            raise InputError(f"{self.name}: the graph needs {int(ids.max()) + 1} local IDs (distance-2 "
                             f"colours) but the program has {self.S} slots; build it with more slots")
        return ids

    def prepare(self, graphs: list[Graph], sources=0, inputs: list[dict] | None = None) -> Prepared:
        """Check every graph (raising before any step) and build the batch and initial states."""
        graphs = list(graphs)
        sources = [sources] * len(graphs) if np.ndim(sources) == 0 else list(sources)
        inputs = [{} for _ in graphs] if inputs is None else list(inputs)
        if not (len(sources) == len(graphs) == len(inputs)):
            raise InputError(f"{self.name}: need one source and one input dict per graph")
        ids, rows, bounds = [], [], []
        for i, (g, s, extra) in enumerate(zip(graphs, sources, inputs)):
            try:
                gid = self.check_common(g, s)
                self.check(g, s, **extra)
            except InputError as err:
                raise InputError(f"graph {i}: {err}" if len(graphs) > 1 else str(err)) from None
            ids.append(gid)
            rows.append(self.init_rows(g, int(s), gid, **extra))
            bounds.append(self.bound(g, int(s), **extra))
        return Prepared(GraphBatch(graphs), np.concatenate(rows), np.array(bounds, dtype=np.int64),
                        ids, [int(s) for s in sources], inputs)

    def execute(self, graphs, sources=0, predictor: Predictor | None = None, inputs=None,
                steps: int | None = None) -> tuple[list[dict], RunResult, Prepared]:
        """Run on ``graphs`` (each snapshotted at its own bound); returns decoded outputs per graph."""
        single = isinstance(graphs, Graph)
        graphs = [graphs] if single else list(graphs)
        prep = self.prepare(graphs, sources, inputs)
        record = prep.bounds if steps is None else np.full(len(graphs), steps)
        res = run(self.compiled, prep.batch, prep.X0, predictor, steps=int(record.max()),
                  record_at=record)
        out = [self.decode(g, s, res.snapshots[i]) for i, (g, s) in enumerate(zip(graphs, prep.sources))]
        return out, res, prep

    def report(self) -> dict:
        rep = self.compiled.report()
        rep.update(D=self.D, l=self.l, slots=self.S)
        return rep


# ---- helpers shared by the programs ----------------------------------------------------------
def neighbour_table(g: Graph, ids: np.ndarray, D: int, S: int) -> tuple[np.ndarray, np.ndarray]:
    """``table [n, D, S]`` (row ``j`` of node ``v``: one-hot local ID of its ``j``-th smallest
    neighbour, zero beyond its degree) and ``nbrs [n, D]`` (the neighbours, -1 beyond the degree)."""
    nbrs = np.full((g.n, D), -1, dtype=np.int64)
    for v, a in enumerate(g.adj):
        nbrs[v, : len(a)] = a
    table = np.zeros((g.n, D, S), dtype=np.uint8)
    v, j = np.nonzero(nbrs >= 0)
    table[v, j, ids[nbrs[v, j]]] = 1
    return table, nbrs


def decode_parent(one_hot: np.ndarray, nbrs: np.ndarray, default: np.ndarray) -> np.ndarray:
    """Parent IDs from a one-hot entry ``[n, D]`` (``default`` where no entry is set)."""
    has = one_hot.any(1)
    entry = one_hot.argmax(1)
    return np.where(has, nbrs[np.arange(len(nbrs)), entry], default)
