"""``nar exact ...``: verify a program on random graphs, run it on a user's graph, show its size.

Wire-up (``nar.cli`` does this): ``nar.exact.cli.add_subparser(subparsers)`` adds ``exact`` with
``verify`` / ``run`` / ``info`` and sets ``func=nar.exact.cli.main``, so ``args.func(args)``
dispatches.  Building the parser imports neither torch nor the programs.

Graph files for ``run``: an edge list (``u v`` or ``u v w`` per line, ``#`` comments; node labels
are integers, renumbered in increasing order), a ``.npy`` adjacency matrix, or any format networkx
reads by extension (``.graphml``, ``.gml``, ``.adjlist``, ``.edgelist``, ``.gexf``; needs networkx).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..argtypes import int_at_least
from ..validation import InputError

PREDICTORS = ("ideal", "ntk", "ensemble")
# The registered program names, spelled out so that building the parser does not import torch
# (tests check this tuple against nar.exact.programs.PROGRAMS).
PROGRAM_NAMES = ("bellman_ford", "bfs", "components", "dfs", "flooding", "greedy_colour", "leader", "local_bfs", "mis")


def _range(text: str) -> tuple[int, int]:
    try:
        parts = [int(p) for p in text.split("-")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or LO-HI, got {text!r}") from None
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or parts[0] < 1 or parts[0] > parts[1]:
        raise argparse.ArgumentTypeError(f"expected N or LO-HI with 1 <= LO <= HI, got {text!r}")
    return parts[0], parts[1]


def add_subparser(subparsers) -> argparse.ArgumentParser:
    """Add the ``exact`` command (sub-commands ``verify``, ``run``, ``info``) to ``subparsers``."""
    ex = subparsers.add_parser("exact", help="exact reasoners: template programs learned by NTK / MLP ensembles",
                               description="Graph template-matching programs executed by the GNN of "
                                           "Equation 2 (Fetrat Qharabagh et al. 2026).")
    sub = ex.add_subparsers(dest="exact_cmd", required=True)

    def common(p):
        p.add_argument("program", choices=PROGRAM_NAMES)
        p.add_argument("--predictor", choices=PREDICTORS, default="ntk",
                       help="ideal: OR of matched templates; ntk: closed-form NTK mean + Heaviside; "
                            "ensemble: trained MLP ensemble (default ntk)")
        p.add_argument("--bits", "-l", type=int_at_least(1), default=None,
                       help="bit width l (default: enough for the graphs)")
        p.add_argument("--pad", type=int_at_least(0), default=0,
                       help="idle (zero-label) training samples added to the templates")
        p.add_argument("--threshold", choices=("zero", "midgap"), default=None,
                       help="Heaviside threshold: zero (NTK default) or midgap (ensemble default; "
                            "calibrated on separate graphs with the NTK)")
        p.add_argument("--members", type=int_at_least(1), default=256, help="ensemble size (default 256)")
        p.add_argument("--width", type=int_at_least(1), default=512, help="ensemble hidden width (default 512)")
        p.add_argument("--seed", type=int_at_least(0), default=0)
        p.add_argument("--json", type=Path, default=None, help="also write the result as JSON here")

    v = sub.add_parser("verify", help="run a program on random graphs and compare with ground truth")
    common(v)
    v.add_argument("--graphs", type=int_at_least(1), default=100, help="number of random graphs (default 100)")
    v.add_argument("--nodes", type=_range, default=(2, 7), help="node count N or range LO-HI (default 2-7)")
    v.add_argument("--max-degree", "-D", type=int_at_least(1), default=3, help="maximum degree D (default 3)")
    v.add_argument("--kind", choices=("reference", "hub", "bounded"), default="reference",
                   help="graph distribution: the reference validators' (default), its flooding "
                        "variant with a degree-D hub, or random bounded-degree spanning trees + edges")
    v.add_argument("--weights", type=_range, default=(1, 3), help="Bellman-Ford weight range (default 1-3)")
    v.add_argument("--verbose", "-v", action="store_true", help="one line per graph")

    r = sub.add_parser("run", help="run a program on a graph file")
    common(r)
    r.add_argument("--graph", type=Path, required=True, help="edge list, .npy adjacency or networkx-readable file")
    r.add_argument("--source", type=int, default=0, help="source node (default 0, after renumbering)")
    r.add_argument("--max-degree", "-D", type=int_at_least(1), default=None,
                   help="program degree D (default: the graph's)")
    r.add_argument("--message", type=int, default=1, help="flooding: the message as an integer (default 1)")
    r.add_argument("--weight-attr", default="weight", help="networkx edge attribute holding weights")

    i = sub.add_parser("info", help="template count, state size and collisions of a program")
    i.add_argument("program", choices=PROGRAM_NAMES)
    i.add_argument("--max-degree", "-D", type=int_at_least(1), default=3)
    i.add_argument("--bits", "-l", type=int_at_least(1), default=4)
    i.add_argument("--slots", type=int_at_least(1), default=None)

    ex.set_defaults(func=main)
    return ex


# ---- helpers --------------------------------------------------------------------------------
def load_graph(path: Path, weighted: bool = False, weight_attr: str = "weight"):
    """A :class:`~nar.exact.Graph` from a file, and the original node labels (index -> label).

    Any file that cannot be read as its format (binary data, broken XML, non-finite or huge
    weights, ...) is an :class:`InputError` naming the file."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"graph file not found: {path}")
    if not path.is_file():
        raise InputError(f"graph file {path} is not a regular file")
    try:
        return _load(path, weighted, weight_attr)
    except InputError as err:
        text = str(err)
        raise InputError(text if text.startswith(str(path)) else f"{path}: {text}") from None


def _load(path: Path, weighted: bool, weight_attr: str):
    from .graph import Graph

    suffix = path.suffix.lower()
    if suffix == ".npy":
        with open(path, "rb") as f:
            if f.read(6) != b"\x93NUMPY":
                raise InputError("not a NumPy .npy file (no .npy header); save the adjacency "
                                 "matrix with numpy.save")
        try:
            A = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:  # truncated, or an object array
            raise InputError(f"not a readable numeric .npy array ({_first_line(err)})") from None
        g = Graph.from_adjacency(A, weighted=weighted)
        return g, list(range(g.n))
    if suffix in NETWORKX_READERS or (suffix == ".edgelist" and _has_networkx()):
        import networkx as nx

        try:
            G = getattr(nx, NETWORKX_READERS.get(suffix, "read_edgelist"))(path)
        except ImportError:
            raise
        except Exception as err:  # noqa: BLE001 - any parser failure means the file is not that format
            raise InputError(f"cannot read it as {suffix[1:]} ({type(err).__name__}: "
                             f"{_first_line(err)})") from None
        labels = sorted(G.nodes, key=_label_key)
        G = nx.relabel_nodes(G, {v: i for i, v in enumerate(labels)})
        return Graph.from_networkx(G, weight=weight_attr if weighted else None), labels
    return _read_edge_list(path, weighted)


NETWORKX_READERS = {".graphml": "read_graphml", ".gml": "read_gml", ".adjlist": "read_adjlist",
                    ".gexf": "read_gexf"}


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else "no details"


def _has_networkx() -> bool:
    try:
        import networkx  # noqa: F401  (only whether it imports)
        return True
    except ImportError:
        return False


def _label_key(v):
    try:
        return (0, int(v), "")
    except (TypeError, ValueError):
        return (1, 0, str(v))


def _read_edge_list(path: Path, weighted: bool):
    from .graph import MAX_WEIGHT, Graph

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("not a text edge list (it is not UTF-8 text); give 'u v [w]' lines, a .npy "
                         "matrix or a networkx format (.graphml, .gml, .adjlist, .edgelist, .gexf)") from None
    edges, weights, nodes = [], [], set()
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.replace(",", " ").split()
        if len(parts) == 1:
            nodes.add(_int(parts[0], path, lineno))
            continue
        if len(parts) not in (2, 3):
            raise InputError(f"{path}:{lineno}: expected 'u v' or 'u v w', got {line!r}")
        u, v = _int(parts[0], path, lineno), _int(parts[1], path, lineno)
        nodes.update((u, v))
        edges.append((u, v))
        if len(parts) == 3:
            try:
                weights.append(float(parts[2]))
            except ValueError:
                raise InputError(f"{path}:{lineno}: weight {parts[2]!r} is not a number") from None
            if not abs(weights[-1]) <= MAX_WEIGHT:  # also rejects nan
                raise InputError(f"{path}:{lineno}: weight {parts[2]!r} must be a finite number of "
                                 f"magnitude <= 2^53")
        elif weighted:
            raise InputError(f"{path}:{lineno}: this program needs a weight on every edge ('u v w')")
    if not nodes:
        raise InputError(f"{path}: no nodes or edges found")
    labels = sorted(nodes)
    index = {v: i for i, v in enumerate(labels)}
    e = np.array([(index[u], index[v]) for u, v in edges], dtype=np.int64).reshape(-1, 2)
    w = None
    if weighted:
        w = np.array(weights)
        if np.all(w == np.round(w)):  # |w| <= 2^53 (checked above): exact as int64
            w = w.astype(np.int64)
    return Graph(len(labels), e, w), labels


def _int(text: str, path, lineno) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{path}:{lineno}: node label {text!r} is not an integer") from None


def make_predictor(args, program, calib_graphs=None):
    """The predictor named on the command line (training / calibrating an ensemble if asked)."""
    from .executor import IdealPredictor
    from .ntk import NTKPredictor

    if args.predictor == "ideal":
        return IdealPredictor(), {}
    tau, info = 0.0, {}
    threshold = args.threshold or ("midgap" if args.predictor == "ensemble" else "zero")
    if threshold == "midgap":
        from .experiments import collect_inputs

        inp = collect_inputs(program, calib_graphs, 0, pad=args.pad)
        tau = inp.midgap()
        info["tau"] = tau
    if args.predictor == "ntk":
        return NTKPredictor(pad=args.pad, tau=max(tau, 0.0)), info
    from .ensemble import EnsemblePredictor, train_for

    ens = train_for(program.compiled, width=args.width, members=args.members, pad=args.pad, seed=args.seed)
    info.update(members=args.members, width=args.width, train_seconds=round(ens.log.seconds, 2),
                train_residual=ens.log.max_residual)
    return EnsemblePredictor(ens, pad=args.pad, tau=tau if threshold == "midgap" else 1e-3), info


# ---- commands -------------------------------------------------------------------------------
def plain_summary(rep) -> str:
    """One sentence for a newcomer: how many graphs ran without error, and what the NTK guarantees."""
    total, ok = len(rep.results), rep.passed
    if ok < total:
        return (f"In plain words: {total - ok} of {total} random graphs got at least one wrong output "
                f"(rerun with --verbose to see which).")
    text = (f"In plain words: on all {total} random graphs every output equals the textbook algorithm's, "
            f"without a single error")
    safe = rep.report.get("ntk_safe_matches")
    if safe is not None:
        text += (f"; the predictor's margin guarantees it acts exactly like the ideal program on any graph where "
                 f"no node matches more than {safe} of its rules at once (these graphs needed at most "
                 f"{rep.stats.max_matched})")
    return text + "."


def cmd_verify(args) -> int:
    from .programs import get_program
    from .verification import random_graphs, verify

    cls = get_program(args.program)
    if args.graphs < 1:
        raise InputError("--graphs must be >= 1")
    rng = np.random.default_rng(args.seed)
    weights = args.weights if cls.weighted else None
    gs = random_graphs(rng, args.graphs, args.nodes, args.max_degree, weights, kind=args.kind)
    l = args.bits if args.bits is not None else cls.bits_for(gs)
    program = cls(D=args.max_degree, l=l)
    calib = None
    if args.predictor != "ideal" and (args.threshold or ("midgap" if args.predictor == "ensemble" else "zero")) == "midgap":
        calib = random_graphs(np.random.default_rng(args.seed + 10_000), min(args.graphs, 50), args.nodes,
                              args.max_degree, weights, kind=args.kind)
    predictor, info = make_predictor(args, program, calib)
    rep = verify(program, gs, predictor)
    if args.verbose:
        for r in rep.results:
            status = "ok  " if r.passed else "FAIL"
            print(f"{status} graph {r.index:4d}: n={r.n:3d} edges={r.edges:3d} steps={r.steps:5d}"
                  + ("" if r.passed else "  " + "; ".join(r.failures)))
    print(rep.summary())
    print(plain_summary(rep))
    if info:
        print("predictor:", ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items()))
    if args.json:
        payload = {"program": rep.program, "predictor": rep.predictor, "passed": rep.passed,
                   "graphs": len(rep.results), "seconds": rep.seconds, "report": rep.report,
                   "max_matched": rep.stats.max_matched, "predictor_info": info,
                   "results": [r.__dict__ for r in rep.results]}
        args.json.write_text(json.dumps(payload, indent=1, default=str))
    return 0 if rep.passed == len(rep.results) else 1


def cmd_run(args) -> int:
    from .programs import get_program

    cls = get_program(args.program)
    g, labels = load_graph(args.graph, weighted=cls.weighted, weight_attr=args.weight_attr)
    D = args.max_degree if args.max_degree is not None else max(g.max_degree, 1)
    l = args.bits if args.bits is not None else cls.bits_for([g])
    program = cls(D=D, l=l)
    inputs = [{"message": args.message}] if args.program == "flooding" else None
    program.prepare([g], args.source, inputs)  # every input error before any work
    predictor, info = make_predictor(args, program, [g])
    t0 = time.perf_counter()
    outs, res, prep = program.execute([g], args.source, predictor=predictor, inputs=inputs)
    seconds = time.perf_counter() - t0
    out, truth = outs[0], program.truth(g, args.source, **(inputs[0] if inputs else {}))
    exact = all(np.array_equal(out[k], truth[k]) for k in out if k in truth)
    print(f"{program.name} on {args.graph} (n={g.n}, edges={len(g.edges)}, D={D}, l={l}): "
          f"{int(prep.bounds[0])} steps in {seconds:.2f} s with the {predictor.name} predictor; "
          f"{'matches' if exact else 'DIFFERS FROM'} the textbook result")
    keys = list(out)
    print("node  " + "  ".join(f"{k:>8}" for k in keys))
    for v in range(g.n):
        vals = []
        for k in keys:
            x = out[k][v]
            vals.append(str(labels[int(x)]) if k == "parent" else str(int(x)))
        print(f"{str(labels[v]):<5} " + "  ".join(f"{x:>8}" for x in vals))
    if args.json:
        args.json.write_text(json.dumps({"program": program.name, "exact": exact, "steps": int(prep.bounds[0]),
                                         "labels": [str(x) for x in labels],
                                         "outputs": {k: np.asarray(v).tolist() for k, v in out.items()}},
                                        indent=1))
    return 0 if exact else 1


def cmd_info(args) -> int:
    from .programs import get_program

    prog = get_program(args.program)(D=args.max_degree, l=args.bits, slots=args.slots)
    rep = prog.report()
    for key, val in rep.items():
        print(f"{key:>22}: {val}")
    print("variables (name, shape, part, offset):")
    for row in prog.program.layout.describe():
        print("   ", row)
    return 0


def main(args) -> int:
    """Dispatch ``nar exact <verify|run|info>``; input errors print one line and return 2."""
    try:
        return {"verify": cmd_verify, "run": cmd_run, "info": cmd_info}[args.exact_cmd](args)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _standalone(argv=None) -> int:  # python -m nar.exact.cli ...
    parser = argparse.ArgumentParser(prog="nar")
    sub = parser.add_subparsers(dest="command", required=True)
    add_subparser(sub)
    args = parser.parse_args(argv)
    return main(args)


if __name__ == "__main__":
    sys.exit(_standalone())
