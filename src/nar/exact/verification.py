"""Verification of the exact programs against ground truth, on random graphs.

Graph distributions:

* :func:`reference_graphs` -- the distribution of the reference validators (``n ~ U[lo, hi]``; a
  degree cap ``D_g ~ U[min_deg, min(D, n - 1)]`` with ``min_deg = 1`` for ``n = 2`` else 2; edges
  ``i < j`` in index order with probability 1/2 while both degrees are below the cap; retried until
  connected).  After 100 failed attempts it falls back to :func:`bounded_graph`.
  ``hub=True`` gives the flooding validators' variant (a random hub of degree exactly ``D``).
* :func:`bounded_graph` -- a random spanning tree with degrees <= D, extra random edges, shuffled
  labels: connected, any size, no index-order bias.

:func:`verify` runs a program on a batch with a predictor, decodes every graph at its own
iteration bound and compares each output with the textbook ground truth (:mod:`nar.exact.truth`)
and, where the semantics match, with ``nar.execute`` (``bfs``, ``bellman_ford``: parents; ``dfs``:
parents when the source is node 0).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..validation import InputError
from .executor import IdealPredictor, Predictor, RunStats
from .graph import Graph
from .programs import ExactProgram, get_program


def _greedy_graph(rng, n: int, cap: int) -> Graph:
    deg = np.zeros(n, dtype=np.int64)
    edges = []
    for i in range(n):
        for j in range(i + 1, n):
            if deg[i] < cap and deg[j] < cap and rng.random() < 0.5:
                edges.append((i, j))
                deg[i] += 1
                deg[j] += 1
    return Graph(n, np.array(edges, dtype=np.int64).reshape(-1, 2))


def bounded_graph(rng: np.random.Generator, n: int, D: int, extra: float = 0.5) -> Graph:
    """Connected random graph, max degree <= D: a random tree (each node joins a random earlier node
    with spare degree) plus about ``extra * n`` random edges where degrees allow; shuffled labels."""
    if D < 2 and n > 2:
        raise InputError(f"a connected graph on {n} nodes needs maximum degree >= 2")
    deg = np.zeros(n, dtype=np.int64)
    edges = set()
    for v in range(1, n):
        free = np.flatnonzero(deg[:v] < D)
        u = int(rng.choice(free))
        edges.add((u, v))
        deg[u] += 1
        deg[v] += 1
    for _ in range(int(extra * n)):
        u, v = (int(x) for x in rng.choice(n, 2, replace=False))
        a, b = min(u, v), max(u, v)
        if deg[u] < D and deg[v] < D and (a, b) not in edges:
            edges.add((a, b))
            deg[u] += 1
            deg[v] += 1
    perm = rng.permutation(n)
    e = perm[np.array(sorted(edges), dtype=np.int64).reshape(-1, 2)]
    return Graph(n, e)


def _hub_graph(rng, n: int, D: int) -> Graph:
    """The flooding validators' generator: a random hub gets exactly ``D`` neighbours, then edges
    ``i < j`` in index order with probability 1/2 while both degrees are below ``D``."""
    deg = np.zeros(n, dtype=np.int64)
    hub = int(rng.integers(n))
    edges = {(min(hub, int(v)), max(hub, int(v))) for v in rng.choice(np.delete(np.arange(n), hub), D, replace=False)}
    for a, b in edges:
        deg[a] += 1
        deg[b] += 1
    for i in range(n):
        for j in range(i + 1, n):
            if (i, j) not in edges and deg[i] < D and deg[j] < D and rng.random() < 0.5:
                edges.add((i, j))
                deg[i] += 1
                deg[j] += 1
    return Graph(n, np.array(sorted(edges), dtype=np.int64).reshape(-1, 2))


def reference_graphs(rng: np.random.Generator, count: int, nodes=(2, 7), max_degree: int = 3,
                     weights: tuple[int, int] | None = None, hub: bool = False) -> list[Graph]:
    """``count`` connected graphs from the reference validators' distribution (see module doc);
    ``hub=True``: the flooding validators' variant (a hub of degree exactly ``max_degree``)."""
    lo, hi = nodes
    if not 1 <= lo <= hi:
        raise InputError(f"node range must satisfy 1 <= lo <= hi, got {nodes}")
    if hub and lo <= max_degree:
        raise InputError(f"a hub of degree {max_degree} needs at least {max_degree + 1} nodes")
    out = []
    for _ in range(count):
        n = int(rng.integers(lo, hi + 1))
        if n == 1:
            g = Graph(1, np.zeros((0, 2), dtype=np.int64))
        else:
            min_deg = 1 if n == 2 else 2
            cap = max_degree if hub else int(rng.integers(min(min_deg, max_degree), min(max_degree, n - 1) + 1))
            for _attempt in range(100):
                g = _hub_graph(rng, n, cap) if hub else _greedy_graph(rng, n, cap)
                if g.is_connected():
                    break
            else:
                g = bounded_graph(rng, n, max(cap, 2))
        if weights is not None:
            g = Graph(g.n, g.edges, rng.integers(weights[0], weights[1] + 1, len(g.edges)))
        out.append(g)
    return out


def random_graphs(rng, count, nodes=(2, 7), max_degree=3, weights=None, kind="reference") -> list[Graph]:
    """``kind="reference"`` or ``"hub"`` (:func:`reference_graphs`), or ``"bounded"``
    (:func:`bounded_graph`)."""
    if kind in ("reference", "hub"):
        return reference_graphs(rng, count, nodes, max_degree, weights, hub=kind == "hub")
    if kind != "bounded":
        raise InputError(f"graph kind must be 'reference', 'hub' or 'bounded', got {kind!r}")
    out = []
    for _ in range(count):
        g = bounded_graph(rng, int(rng.integers(nodes[0], nodes[1] + 1)), max_degree)
        if weights is not None:
            g = Graph(g.n, g.edges, rng.integers(weights[0], weights[1] + 1, len(g.edges)))
        out.append(g)
    return out


@dataclass
class GraphResult:
    index: int
    n: int
    edges: int
    steps: int
    passed: bool
    failures: list[str] = field(default_factory=list)


@dataclass
class VerifyReport:
    program: str
    predictor: str
    report: dict
    results: list[GraphResult]
    stats: RunStats
    seconds: float
    cross_checked: str

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    def summary(self) -> str:
        s = self.stats
        gap = "" if s.min_pos == float("inf") else (
            f", learned-mean margin: min mean of 1-bits {s.min_pos:.4g}, max mean of 0-bits {s.max_neg:.3g}")
        if "ntk_safe_matches" in self.report:
            gap += f" (NTK provably exact up to {self.report['ntk_safe_matches']} matches)"
        return (f"{self.program} ({self.predictor}): {self.passed}/{len(self.results)} graphs exact, "
                f"{self.report['templates']} templates, {self.report['state_bits']} state bits, "
                f"max {s.max_matched} matched templates per node{gap}; {self.seconds:.2f} s; "
                f"cross-check with nar.execute: {self.cross_checked}")


def _cross_check(name: str, g: Graph, source: int, out: dict) -> str | None:
    """Compare parents with ``nar.execute`` where the semantics match; None if consistent."""
    import nar

    A = g.to_adjacency()
    if name == "bfs":
        pi = nar.execute("bfs", A=A, s=source).outputs["pi"]
    elif name == "bellman_ford":
        if g.weights is not None and len(g.weights) and np.min(g.weights) <= 0:
            return None  # zero weights are not edges in a dense adjacency: no like-for-like run
        pi = nar.execute("bellman_ford", A=A, s=source).outputs["pi"]
    elif name == "dfs":
        if source != 0:
            return None
        pi = nar.execute("dfs", A=A).outputs["pi"]
    else:
        return None
    if not np.array_equal(np.asarray(pi), out["parent"]):
        return f"parent differs from nar.execute({name!r})"
    return None


def verify(program: str | ExactProgram, graphs: list[Graph], predictor: Predictor | None = None,
           sources=0, inputs: list[dict] | None = None, D: int | None = None, l: int | None = None,
           cross_check: bool = True) -> VerifyReport:
    """Run ``program`` on ``graphs`` and compare every decoded output with the ground truth."""
    if isinstance(program, str):
        cls = get_program(program)
        D = D if D is not None else max(max(g.max_degree for g in graphs), 1)
        l = l if l is not None else cls.bits_for(graphs)
        program = cls(D=D, l=l)
    predictor = predictor or IdealPredictor()
    t0 = time.perf_counter()
    outs, res, prep = program.execute(graphs, sources, predictor=predictor, inputs=inputs)
    seconds = time.perf_counter() - t0
    report = program.report()
    if predictor.name == "ntk":
        from .ntk import max_safe_matches

        report["ntk_safe_matches"] = max_safe_matches(program.compiled, predictor.pad, predictor.tau0)
    results, crossed = [], "done"
    try:
        import nar  # noqa: F401
    except ImportError:  # pragma: no cover
        crossed = "skipped (nar.execute unavailable)"
    for i, (g, s, out, extra) in enumerate(zip(graphs, prep.sources, outs, prep.inputs)):
        truth = program.truth(g, s, **extra)
        fails = [f"{key} differs" for key in out if key in truth and not np.array_equal(out[key], truth[key])]
        if cross_check and crossed == "done":
            try:
                msg = _cross_check(program.name, g, s, out)
            except KeyError:
                crossed, msg = f"skipped ({program.name} not registered in nar.algorithms)", None
            if msg:
                fails.append(msg)
        results.append(GraphResult(i, g.n, len(g.edges), int(prep.bounds[i]), not fails, fails))
    if program.name == "flooding":
        crossed = "not applicable (no flooding algorithm in nar.algorithms)"
    return VerifyReport(program.name, predictor.name, report, results, res.stats, seconds,
                        crossed if cross_check else "off")
