"""The seed paper's experiments (Section 7, Appendix C) as functions returning plain numbers.

* :func:`ablation` -- Section 7.3: complete graphs ``K_n``, ``l = 3``, every node but node 0
  holds the message; variants of Equation 2 (encoding on/off x Heaviside before / after / none),
  NTK predictor; "correct" = node 0's ``final_message`` equals the message after steps 149 and 150.
* :func:`collision` -- Appendix C.3: star graphs, the centre's ``final_message`` mean (before the
  Heaviside, averaged over the last 3 of 150 steps), with and without the cascade chain.
* :func:`ensemble_bounds` -- Section 7.1: ``N_ens >= 8 rho [log(2 n0 T) + n0 log 2]`` with
  ``rho = max_bits sigma^2 / mu^2`` at the probe input (``message[0] = my_slot[0, 0] = 1``), and
  the "theoretical" variant with ``rho = n0``; ``T = d_G (d + 4)``, ``d_G = 6``.
* :func:`collect_inputs` / :func:`case_accuracy` -- the distinct encoded inputs met along ideal
  trajectories and, for a predictor's outputs on them, the share of cases none of whose inputs is
  mispredicted (equivalently: the share of cases a GNN using that predictor executes exactly, step
  for step).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from .compiler import Compiled
from .executor import unique_columns
from .graph import Graph
from .layout import to_bits
from .ntk import KernelRegression, closed_mean, closed_variance
from .programs.base import ExactProgram
from .programs.flooding import Flooding

ABLATION_VARIANTS = {  # name -> (encoded inputs, heaviside)
    "main (encoded, H before aggregation)": (True, "before"),
    "unencoded": (False, "before"),
    "H after aggregation": (True, "after"),
    "unencoded, H after aggregation": (False, "after"),
    "no H": (True, "none"),
    "unencoded, no H": (False, "none"),
}


def _raw_training_set(compiled: Compiled, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Unencoded templates: the required ones as a 0/1 state, L2-normalised, zero-padded to ``dim``
    (required zeros vanish -- the point of the ablation)."""
    X = np.zeros((compiled.N, dim))
    pos = compiled.W.to_dense().numpy() > 0
    X[:, : compiled.k] = pos
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-300)
    return X, compiled.Y.numpy().astype(np.float64)


def _ablation_run(f: Flooding, X0: np.ndarray, A: np.ndarray, encoded: bool, heaviside: str,
                  steps: int, record: tuple[int, ...]) -> dict[int, np.ndarray]:
    """Dense small-graph loop of Equation 2 and its ablations; returns states after ``record`` steps."""
    C = f.compiled
    dim = max(C.N, C.k)
    if encoded:
        reg = KernelRegression(np.eye(C.N, dim), C.Y.numpy().astype(np.float64))
    else:
        reg = KernelRegression(*_raw_training_set(C, dim))
    c0, X, out, eps = C.comm_start, X0.astype(np.float64), {}, 1e-10
    W = C.W.to_dense().numpy().astype(np.float64)
    for t in range(1, steps + 1):
        if encoded:
            hit = (X == 1).astype(float) @ np.clip(W, 0, None).T + (X == 0).astype(float) @ np.clip(-W, 0, None).T
            M = (hit == C.literals[None, :]).astype(float)
            m = M.sum(1, keepdims=True)
            E = np.divide(M, np.sqrt(m), out=np.zeros_like(M), where=m > 0)
            inp = np.pad(E, ((0, 0), (0, dim - C.N)))
        else:
            norm = np.linalg.norm(X, axis=1, keepdims=True)
            inp = np.pad(np.divide(X, norm, out=np.zeros_like(X), where=norm > 0), ((0, 0), (0, dim - C.k)))
        mu = reg.mean(inp)
        if heaviside == "before":
            mu = (mu > eps).astype(float)
        X = np.concatenate([mu[:, :c0], A @ mu[:, c0:]], 1)
        if heaviside == "after":
            X = (X > eps).astype(float)
        if t in record:
            out[t] = X.copy()
    return out


def ablation(n_values=range(3, 16), l: int = 3, steps: int = 150) -> dict[str, list[float]]:
    """Accuracy of each variant of :data:`ABLATION_VARIANTS` per ``n`` (share of the 2^l - 1
    nonzero messages delivered to node 0 and stable over the last two steps)."""
    res = {name: [] for name in ABLATION_VARIANTS}
    for n in n_values:
        f = Flooding(D=n - 1, l=l, slots=n, variant="ablation")
        L = f.program.layout
        A = np.ones((n, n))  # closed neighbourhood of the complete graph
        msgs = [np.array(bits) for bits in itertools.product([0, 1], repeat=l) if any(bits)]
        for name, (enc, hv) in ABLATION_VARIANTS.items():
            good = 0
            for msg in msgs:
                X0 = np.zeros((n, f.k))
                L.set(X0, "message", msg, rows=list(range(1, n)))
                cols = L["my_slot"].columns()
                X0[np.arange(n)[:, None], cols[np.arange(n)]] = 1
                snap = _ablation_run(f, X0, A, enc, hv, steps, (steps - 1, steps))
                fin = [(L.get(snap[t], "final_message")[0] > 1e-10).astype(int) for t in (steps - 1, steps)]
                good += int(np.array_equal(fin[0], msg) and np.array_equal(fin[1], msg))
            res[name].append(good / len(msgs))
    return res


def collision(n_values=range(3, 21), steps: int = 150) -> dict[str, list[float]]:
    """Centre value (mean of the NTK output before the Heaviside, last 3 steps) on star graphs."""
    from .executor import run
    from .ntk import NTKPredictor

    out = {"cascade": [], "direct": [], "templates_cascade": [], "max_matched_cascade": [],
           "max_matched_direct": []}
    for n in n_values:
        g = Graph(n, np.array([[0, i] for i in range(1, n)]))
        for variant, key in (("collision", "cascade"), ("direct", "direct")):
            f = Flooding(D=n - 1, l=1, slots=n, variant=variant)
            prep = f.prepare([g], 1)
            col = f.program.layout["final_message"].columns()[0]
            vals = []
            res = run(f.compiled, prep.batch, prep.X0, NTKPredictor(eps=1e-10), steps=steps,
                      observe=lambda t, XT, mu: vals.append(float(mu[col, 0])))
            out[key].append(float(np.mean(vals[-3:])))
            out[f"max_matched_{key}"].append(res.stats.max_matched)
            if key == "cascade":
                out["templates_cascade"].append(f.compiled.N)
    return out


def probe_rho(D: int, l: int) -> tuple[float, int]:
    """``(rho, n0)`` at the reference's probe input of flooding on graphs (``d = D^2 + 1``)."""
    f = Flooding(D=D, l=l)
    C = f.compiled
    L = f.program.layout
    x = np.zeros((1, C.k), dtype=np.float32)
    L.set(x, "message", to_bits(1, l))
    x[0, L["my_slot"].columns()[0, 0]] = 1
    M = C.match(torch.from_numpy(x)).numpy()
    m = M.sum(1)
    mu = closed_mean(m, M @ C.Y.numpy(), C.writers, C.N)[0]
    var = float(closed_variance(m, C.N)[0])
    return float(np.max(var / (mu ** 2 + 1e-10))), C.N


def ensemble_bounds(D_values=range(1, 16), l_values=(1,), d_G: int = 6) -> list[dict]:
    """The reference's numerical (``Num``) and theoretical (``Thr``) ensemble-size bounds."""
    rows = []
    for D in D_values:
        for l in l_values:
            rho, n0 = probe_rho(D, l)
            T = d_G * (D * D + 1 + 4)
            union = math.log(2 * n0 * T) + n0 * math.log(2)
            rows.append({"D": D, "l": l, "n0": n0, "T": T, "rho": rho, "num": 8 * rho * union,
                         "thr": 8 * n0 * union})
    return rows


# ---- ensembles along trajectories -----------------------------------------------------------
def labelled_trees(n: int, max_degree: int) -> list[Graph]:
    """All labelled trees on ``n`` nodes whose maximum degree is exactly ``max_degree`` (Pruefer)."""
    out = []
    for seq in itertools.product(range(n), repeat=n - 2):
        deg = np.ones(n, dtype=np.int64)
        for v in seq:
            deg[v] += 1
        if deg.max() != max_degree:
            continue
        d = deg.copy()
        edges = []
        for v in seq:
            leaf = int(np.flatnonzero(d == 1)[0])
            edges.append((leaf, v))
            d[leaf] -= 1
            d[v] -= 1
        u, w = np.flatnonzero(d == 1)
        edges.append((int(u), int(w)))
        out.append(Graph(n, np.array(edges)))
    return out


class Inputs:
    """Distinct matched sets met along ideal trajectories, and which cases met them.

    ``matched [U, N]`` (bool), ``targets [U, k]`` (ideal outputs), ``uses``: (input, case) pairs,
    ``cases``: number of cases.  :meth:`case_accuracy` scores a predictor's outputs on them.
    """

    def __init__(self, matched, targets, uses, cases, mu):
        self.matched, self.targets, self.uses, self.cases, self.mu = matched, targets, uses, cases, mu

    def encoded(self, pad: int = 0) -> np.ndarray:
        M = self.matched.astype(np.float32)
        m = M.sum(1, keepdims=True)
        E = np.divide(M, np.sqrt(m), out=np.zeros_like(M), where=m > 0)
        return np.pad(E, ((0, 0), (0, pad))) if pad else E

    def case_accuracy(self, outputs: np.ndarray) -> float:
        """``outputs [U, k]`` binary: share of cases whose every input is predicted exactly."""
        bad_input = (outputs != self.targets).any(1)
        bad_case = np.zeros(self.cases, dtype=bool)
        bad_case[self.uses[1][bad_input[self.uses[0]]]] = True
        return 1.0 - bad_case.mean()

    def midgap(self) -> float:
        """Halfway between the smallest NTK mean of a 1-bit and the largest of a 0-bit."""
        pos = self.mu[self.targets].min()
        neg = self.mu[~self.targets].max()
        return 0.5 * (float(pos) + float(neg))


def collect_inputs(program: ExactProgram, graphs: list[Graph], sources=0, inputs=None,
                   pad: int = 0, batch: int = 4000) -> Inputs:
    """Run the ideal executor on every case (graph + inputs) up to its own bound and gather the
    distinct matched sets with the cases that met them and their NTK means (``pad`` idle rows)."""
    C = program.compiled
    graphs = list(graphs)
    sources = [sources] * len(graphs) if np.ndim(sources) == 0 else list(sources)
    inputs = [{} for _ in graphs] if inputs is None else list(inputs)
    table: dict[bytes, int] = {}
    rows, pairs = [], []
    for lo in range(0, len(graphs), batch):
        gs = graphs[lo: lo + batch]
        prep = program.prepare(gs, sources[lo: lo + batch], inputs[lo: lo + batch])
        case_of = np.repeat(np.arange(lo, lo + len(gs)), [g.n for g in gs])
        bound_of = np.repeat(prep.bounds, [g.n for g in gs])
        XT = torch.from_numpy(np.ascontiguousarray(prep.X0.T)).float()
        c0 = C.comm_start
        for t in range(int(prep.bounds.max())):
            M = C.match_t(XT)
            live = torch.from_numpy(bound_of > t)
            rep, inv = unique_columns(M)
            Mu = M[:, rep].T.numpy().astype(bool)
            ids = []
            for row in Mu:
                key = np.packbits(row).tobytes()
                if key not in table:
                    table[key] = len(rows)
                    rows.append(row)
                ids.append(table[key])
            ids = np.array(ids)[inv.numpy()]
            pairs.append(np.unique(np.stack([ids[live.numpy()], case_of[live.numpy()]]), axis=1))
            H = (C.counts_t(M) > 0).float()
            XT = H.contiguous()
            XT[c0:] = prep.batch.aggregate(H[c0:].T.contiguous()).T
    matched = np.array(rows)
    uses = np.unique(np.concatenate(pairs, 1), axis=1)
    Mf = matched.astype(np.float64)
    Ys = Mf @ C.Y.numpy()
    mu = closed_mean(Mf.sum(1), Ys, C.writers, C.N + pad)
    return Inputs(matched, Ys > 0, uses, len(graphs), mu)


def ensemble_curve(ens, inp: Inputs, sizes, taus: dict[str, float], max_groups: int = 8,
                   chunk: int = 64, pad: int = 0) -> dict[str, list[tuple[int, float, float, float]]]:
    """Case accuracy of ensembles of each size in ``sizes`` (powers of two up to ``chunk``, then
    multiples of ``chunk``), averaged over up to ``max_groups`` disjoint groups of members.
    Returns ``{tau name: [(size, mean, min, max), ...]}``."""
    E = inp.encoded(pad)
    sizes = [s for s in sorted(set(sizes)) if s <= ens.M]
    accs = {name: {s: [] for s in sizes} for name in taus}
    big_sums = {s: None for s in sizes if s > chunk}

    def score(mean, s):
        for name, tau in taus.items():
            if len(accs[name][s]) < max_groups:
                accs[name][s].append(inp.case_accuracy((mean > tau).numpy()))

    for lo in range(0, ens.M, chunk):
        outs = ens.member_outputs(E, lo, lo + chunk)          # [c, U, k]
        c = outs.shape[0]
        for s in sizes:
            if s <= chunk and c % s == 0:
                groups = outs.reshape(c // s, s, *outs.shape[1:]).mean(1)
                for g in groups:
                    score(g, s)
            elif s > chunk:
                part = outs.sum(0)
                big_sums[s] = part if big_sums[s] is None else big_sums[s] + part
                if (lo + c) % s == 0:
                    score(big_sums[s] / s, s)
                    big_sums[s] = None
    return {name: [(s, float(np.mean(v)), float(np.min(v)), float(np.max(v))) for s, v in d.items() if v]
            for name, d in accs.items()}


def flooding_cases(graphs: list[Graph], l: int) -> tuple[list[Graph], list[dict]]:
    """Every graph with every nonzero ``l``-bit message (the reference's cases)."""
    gs, ins = [], []
    for g in graphs:
        for msg in range(1, 2 ** l):
            gs.append(g)
            ins.append({"message": msg})
    return gs, ins


def ensemble_size_bound(inp: Inputs, compiled: Compiled, tau: float, T: int, pad: int = 0) -> dict:
    """The seed paper's ensemble-size bound ``N_ens >= 8 rho [log(2 n0 T) + n0 log 2]`` for a
    program, with ``rho`` taken over the inputs the program actually meets (``inp``) against the
    threshold ``tau``: ``rho = max over inputs and bits of sigma^2 / (mu - tau)^2`` (NTK-GP
    variance and mean); ``n0`` = training-set size, ``T`` = iteration bound.  ``thr`` is the
    paper's "theoretical" variant (``rho = n0``).  ``z5`` is the Gaussian estimate of the members
    needed for every (input, bit) to sit 5 standard deviations of the ensemble mean from ``tau``."""
    n0 = compiled.N + pad
    m = inp.matched.sum(1)
    var = closed_variance(m, n0)[:, None]
    gap2 = (inp.mu - tau) ** 2
    rho = float(np.max(var / np.maximum(gap2, 1e-300)))
    union = math.log(2 * n0 * T) + n0 * math.log(2)
    return {"rho": rho, "n0": n0, "T": int(T), "num": 8 * rho * union, "thr": 8 * n0 * union,
            "z5": int(math.ceil(25 * rho))}


def failing_templates(inp: Inputs, compiled: Compiled, outputs: np.ndarray, top: int = 5) -> list[tuple[str, int]]:
    """Where a predictor's ``outputs [U, k]`` differ from the ideal ones: the tags of the templates
    that write the wrongly predicted bits and were matched there (the colliding templates), with
    how many (input, bit) errors each tag is involved in, most first."""
    bad_u, bad_j = np.nonzero(outputs != inp.targets)
    if bad_u.size == 0:
        return []
    tags = np.array([t.tag or "?" for t in compiled.program.templates], dtype=object)
    Y = compiled.Y.numpy().astype(bool)
    count: dict[str, int] = {}
    for u, j in zip(bad_u.tolist(), bad_j.tolist()):
        hit = inp.matched[u] & Y[:, j] if inp.targets[u, j] else inp.matched[u]
        for tag in set(tags[hit].tolist()):
            count[tag] = count.get(tag, 0) + 1
    return sorted(count.items(), key=lambda kv: -kv[1])[:top]
