"""Run a trained reasoner on a networkx graph of your own: ``nar.load(RUN).predict(name, **inputs)``.

    python examples/03_predict_own_graph.py --run runs/examples/train    # a bfs run of example 02
    python examples/03_predict_own_graph.py                              # trains a small bfs model first
    python examples/03_predict_own_graph.py --tiny                       # tiny model (seconds)

``predict`` takes exactly the arguments of ``nar.execute`` (for bfs: ``A`` = an adjacency matrix or a
networkx graph, ``s`` = the source node) and returns the model's hard outputs as numpy arrays.
"""
import argparse
import shutil
from pathlib import Path

import networkx as nx
import numpy as np

import nar

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--run", help="a run directory of a model trained on bfs (default: train one here)")
ap.add_argument("--out", default="runs/examples/predict", help="where to train when --run is not given")
ap.add_argument("--tiny", action="store_true", help="tiny model and graphs (seconds)")
args = ap.parse_args()

if args.run is None:  # train a small bfs reasoner first (example 02 trains a larger one)
    from nar.train import TrainConfig, train

    shutil.rmtree(args.out, ignore_errors=True)
    cfg = TrainConfig(algorithms=["bfs"], hidden=64, steps=150, eval_every=25, test_count=32, seed=0)
    if args.tiny:
        cfg = cfg.replace(processor="mpnn", hidden=16, steps=10, batch_size=8, train_sizes=[4, 7],
                          val_count=8, test_count=8, test_n=16, eval_every=5, threads=1)
    train(cfg, args.out, progress=not args.tiny)
    args.run = args.out

model = nar.load(args.run)  # the best-validation checkpoint of the run
print(model)

size = 4 if args.tiny else 10
graphs = {
    "grid": nx.convert_node_labels_to_integers(nx.grid_2d_graph(size, size)),
    "barabasi_albert": nx.barabasi_albert_graph(size * size, 2, seed=0),
    "watts_strogatz": nx.connected_watts_strogatz_graph(size * size, 4, 0.1, seed=0),
}
for label, G in graphs.items():
    pred = model.predict("bfs", A=G, s=0)["pi"]            # predicted BFS parent of every node
    truth = nar.execute("bfs", A=G, s=0).outputs["pi"]     # the true parents (same tie-breaking as CLRS)
    print(f"{label:<16} n = {G.number_of_nodes():>3}: parents right at {np.mean(pred == truth):6.1%} of the nodes")

# The predicted parents as a networkx tree (every edge from a node to its predicted parent).
G = graphs["grid"]
pred = model.predict("bfs", A=G, s=0)["pi"]
tree = nx.DiGraph([(int(v), int(p)) for v, p in enumerate(pred) if v != p])
valid = all(G.has_edge(v, p) for v, p in tree.edges)
print(f"predicted BFS tree of the grid: {tree.number_of_edges()} edges, all on graph edges: {valid}")

# A numpy adjacency matrix works the same way (weighted algorithms read the weights from A).
A = nx.to_numpy_array(G)
assert np.array_equal(model.predict("bfs", A=A, s=0)["pi"], pred)
