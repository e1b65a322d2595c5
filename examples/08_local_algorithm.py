"""Write a LOCAL algorithm in plain Python, compile it into an exact program and verify it.

The algorithm: 2-colour a connected graph along the BFS layers of a source and detect an odd cycle
(an edge inside a layer), flooding that verdict to every node.  The compiler enumerates the rule,
merges it into templates, and the GNN of Equation 2 runs them with the NTK predictor.

    python examples/08_local_algorithm.py          # 100 random graphs, then a 1,000-node graph
    python examples/08_local_algorithm.py --tiny   # 10 random graphs, then a 100-node graph (seconds)
"""
import argparse

import networkx as nx
import numpy as np

from nar.exact import IdealPredictor, LocalAlgorithm, NTKPredictor, program_class, reference_graphs, simulate, verify
from nar.exact.verification import bounded_graph

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--tiny", action="store_true", help="10 random graphs and a 100-node graph")
args = ap.parse_args()


# ---- the algorithm: state and message fields, init, one round, a round bound, an oracle --------
def init(inp):                                   # side 0 = not yet known; the source is side 1
    side = 1 if inp.is_source else 0
    return {"side": side, "odd": 0}, {"side": side, "odd": 0}


def rule(state, inbox):                          # inbox: the neighbours' messages, smallest ID first
    side = state.side or next((3 - m.side for m in inbox if m.side), 0)
    odd = int(state.odd or any(m.odd or (side and m.side == side) for m in inbox))
    return {"side": side, "odd": odd}, {"side": side, "odd": odd}


def truth(g, source):                            # networkx: BFS parity and bipartiteness
    G = nx.Graph(g.edges.tolist())
    G.add_nodes_from(range(g.n))
    hops = nx.single_source_shortest_path_length(G, source)
    return {"side": np.array([1 + hops[v] % 2 for v in range(g.n)]), "odd": np.full(g.n, not nx.is_bipartite(G))}


two_colouring = LocalAlgorithm(
    name="two_colouring", state={"side": 3, "odd": 2}, message={"side": 3, "odd": 2},
    init=init, rule=rule, rounds=lambda g, s: 3 * g.eccentricity(s) + 1, truth=truth, needs_connected=True,
    output=lambda f: {"side": f["side"], "odd": f["odd"] == 1})
# ---------------------------------------------------------------------------------------------------

TwoColouring = program_class(two_colouring)      # an ExactProgram class, like get_program("bfs")
program = TwoColouring(D=3, l=1)                 # maximum degree 3; no keys, so 1 bit is enough
rep = program.report()
print(f"two_colouring: {rep['rule_templates_before_merging']} enumerated rule templates merged into "
      f"{rep['rule_templates']}; {rep['templates']} templates, {rep['state_bits']} state bits in all")

graphs = reference_graphs(np.random.default_rng(0), 10 if args.tiny else 100, nodes=(2, 7), max_degree=3)
report = verify(program, graphs, NTKPredictor())
print(report.summary())
assert report.passed == len(graphs)

n = 100 if args.tiny else 1000
g = bounded_graph(np.random.default_rng(1), n, 3)
(out,), _, prep = program.execute(g, 0, predictor=IdealPredictor())
want, ref = truth(g, 0), simulate(two_colouring, g, 0)
assert all(np.array_equal(out[k], want[k]) and np.array_equal(out[k], ref[k]) for k in want)
print(f"{n}-node graph: exact after {int(prep.bounds[0])} GNN steps "
      f"(odd cycle: {bool(out['odd'][0])}; {int((out['side'] == 1).sum())} nodes on side 1)")
