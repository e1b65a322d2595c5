"""Routing with unknown travel times: the downstream task of the NAR blueprint (issue 9).

Graphs look like road networks (random geometric graphs: 3-nearest-neighbour graph plus a Euclidean
spanning tree; perturbed grids: jittered points, a random quarter of the streets removed while a random
spanning tree is kept), every road in both directions.  Each directed edge carries raw features --
geometric length, road class (one-hot: highway / arterial / local), lanes, speed limit, three noisy
readings of a hidden congestion level, three distractors -- and its *true travel time* is a fixed
nonlinear function of hidden quantities that no model is told (:func:`travel_time`)::

    time = length / (speed_limit / 100 * FREE_FLOW[class]) * (1 + JAM[class] * congestion^2 / sqrt(lanes))

Targets: the shortest-path tree from a source under the true times (``parent``: CLRS's ``pi``, the
source its own parent) and the distances.  ``make_dataset(count, n, kind, seed)`` returns a
:class:`RoutingBatch` of dense tensors; :func:`metrics` scores predicted parents (parent accuracy,
route-cost ratio, reach rate).

Models (all with the same encoders / decoders and width): :class:`ProcessorRouter` (node and edge MLP
encoders -> :class:`nar.blueprint.ProcessorModule` -> pointer decoder + distance head; the processor
fresh, pretrained-frozen or pretrained-fine-tuned), :class:`BottleneckRouter` (one positive weight per
edge -> exact batched Bellman-Ford, trained by blackbox differentiation, Vlastelica et al. 2020) and
:class:`ExactRouter` (the exact algorithm on the true times: the ceiling).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..blueprint import ProcessorModule
from ..models.layers import linear
from ..models.processors import Processor
from ..validation import InputError

KINDS = ("geometric", "grid", "mixed")
SPACING = 0.25          # typical distance between neighbouring points; a graph covers SPACING^2 * n
KNN = 3                 # geometric graphs: each point joined to its 3 nearest neighbours (+ spanning tree)
GRID_DELETE = 0.25      # grids: share of non-tree streets removed
CLASSES = ("highway", "arterial", "local")
CLASS_P = (0.2, 0.3, 0.5)
SPEEDS = np.array([[100, 110, 120], [50, 60, 70], [30, 40, 50]], dtype=np.float64)  # km/h per class
LANES_MIN, LANES_SPAN = np.array([2, 1, 1]), np.array([3, 3, 2])  # lanes in [min, min + span)
FREE_FLOW = np.array([0.95, 0.8, 0.65])   # hidden: free-flow speed as a share of the limit
JAM = np.array([4.0, 2.5, 1.5])           # hidden: how strongly congestion slows each class
READINGS, NOISE, DISTRACTORS = 3, 0.15, 3  # congestion readings (+- NOISE std), irrelevant features

NODE_FEATURES = ("source", "x", "y")
EDGE_FEATURES = (("edge", "length") + tuple(f"class_{c}" for c in CLASSES) + ("lanes", "speed_limit")
                 + tuple(f"congestion_{k}" for k in range(READINGS))
                 + tuple(f"distractor_{k}" for k in range(DISTRACTORS)))
NODE_DIM, EDGE_DIM = len(NODE_FEATURES), len(EDGE_FEATURES)

FAIL_RATIO = 4.0        # route-cost ratio charged for a route that loops or does not reach the source
W_MIN = 1e-3            # smallest edge weight the bottleneck model predicts / the perturbed solve sees


# ------------------------------------------------------------------------------------------ data
@dataclass
class RoutingBatch:
    """Dense tensors of ``B`` routing instances with ``N`` node slots.

    ``node [B, N, 3]`` (:data:`NODE_FEATURES`: source indicator, position scaled to [0, 1]);
    ``edge [B, N, N, 13]`` (:data:`EDGE_FEATURES`, zero where there is no edge; ``edge[b, i, j]`` is
    the road i -> j); ``adj [B, N, N]`` bool; ``node_mask [B, N]`` bool; ``source [B]``;
    ``time [B, N, N]`` float64 true travel times (inf off the edges; never a model input);
    ``parent [B, N]`` shortest-path-tree pointers and ``dist [B, N]`` float64 distances (targets);
    ``hops [B]``: unweighted eccentricity of the source (input-graph only, sets the processor steps).
    """

    node: Tensor
    edge: Tensor
    adj: Tensor
    node_mask: Tensor
    source: Tensor
    time: Tensor
    parent: Tensor
    dist: Tensor
    hops: Tensor

    def __len__(self) -> int:
        return self.node.shape[0]

    def __getitem__(self, index) -> "RoutingBatch":
        return RoutingBatch(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def to(self, device) -> "RoutingBatch":
        return RoutingBatch(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


def _sym(a: np.ndarray) -> np.ndarray:
    """The upper triangle of ``a [C, n, n]`` mirrored below the diagonal (diagonal zero)."""
    u = np.triu(a, 1)
    return u + u.transpose(0, 2, 1)


def _spanning_tree(weight: np.ndarray) -> np.ndarray:
    """Edges [C, n, n] (both directions) of a minimum spanning tree of each graph (``weight > 0``: edges)."""
    from scipy.sparse.csgraph import minimum_spanning_tree

    tree = np.stack([minimum_spanning_tree(w).toarray() > 0 for w in weight])  # one call per graph
    return tree | tree.transpose(0, 2, 1)


def _geometric(count: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    side = SPACING * math.sqrt(n)
    pos = rng.uniform(0.0, side, (count, n, 2))
    d = np.linalg.norm(pos[:, :, None] - pos[:, None], axis=-1)
    near = np.argsort(d, axis=-1)[..., 1:KNN + 1]  # self (distance 0) comes first
    adj = np.zeros((count, n, n), dtype=bool)
    np.put_along_axis(adj, near, True, axis=-1)
    adj |= adj.transpose(0, 2, 1) | _spanning_tree(d)
    return pos, adj


def _grid(count: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    side = math.ceil(math.sqrt(n))
    k = np.arange(n)
    gx, gy = k % side, k // side
    streets = np.zeros((n, n), dtype=bool)
    right = k[(gx < side - 1) & (k + 1 < n)]
    down = k[k + side < n]
    streets[right, right + 1] = True
    streets[down, down + side] = True
    streets |= streets.T
    pos = (np.stack([gx, gy], -1)[None] + rng.uniform(-0.3, 0.3, (count, n, 2))) * SPACING
    tree = _spanning_tree(_sym(rng.uniform(0.1, 1.0, (count, n, n))) * streets)
    kept = _sym(rng.random((count, n, n))) >= GRID_DELETE
    return pos, tree | (streets & kept)


def travel_time(length, road_class, speed_limit, lanes, congestion):
    """The hidden true travel time of a road (numpy arrays, broadcast): see the module docstring."""
    cls = np.asarray(road_class)
    free = np.asarray(speed_limit) / 100.0 * FREE_FLOW[cls]
    return np.asarray(length) / free * (1.0 + JAM[cls] * np.asarray(congestion) ** 2 / np.sqrt(lanes))


def shortest_paths(weight: Tensor, source: Tensor) -> tuple[Tensor, Tensor]:
    """Batched Bellman-Ford: ``(dist [B, N], parent [B, N])`` from ``source [B]``.

    ``weight [B, N, N]``: ``weight[b, i, j]`` the (positive) cost of edge i -> j, ``inf`` where there is
    none.  Unreached nodes get ``dist = inf`` and are their own parent; the source is its own parent.
    Vectorised over the batch and the nodes; at most N - 1 relaxation rounds (stops when nothing changes).
    """
    b, n, _ = weight.shape
    rows = torch.arange(b, device=weight.device)
    dist = torch.full((b, n), float("inf"), dtype=weight.dtype, device=weight.device)
    dist[rows, source] = 0
    for _ in range(max(n - 1, 1)):
        new = torch.minimum(dist, (dist[:, :, None] + weight).amin(1))
        if torch.equal(new, dist):
            break
        dist = new
    parent = (dist[:, :, None] + weight).argmin(1)
    parent = torch.where(torch.isfinite(dist), parent, torch.arange(n, device=weight.device))
    parent[rows, source] = source
    return dist, parent


def _unit_weights(adj: Tensor) -> Tensor:
    return torch.where(adj, 1.0, float("inf")).to(torch.float64)


def make_dataset(count: int, n: int, kind: str = "mixed", seed: int = 0) -> RoutingBatch:
    """``count`` routing instances with ``n`` nodes (``kind``: geometric, grid, or mixed = half each).

    Reproducible: the same arguments give the same tensors.  Features are scaled to O(1): length in
    units of :data:`SPACING`, speed limit / 100, lanes / 2.
    """
    if not (isinstance(count, int) and count >= 1):
        raise InputError(f"count must be a positive int, got {count!r}")
    if not (isinstance(n, int) and n >= 2):
        raise InputError(f"n must be an int >= 2, got {n!r}")
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    rng = np.random.default_rng(seed)
    if kind == "mixed":
        g = count // 2
        parts = [_geometric(g, n, rng)] if g else []
        parts.append(_grid(count - g, n, rng))
        pos, adj = (np.concatenate(x) for x in zip(*parts))
    else:
        pos, adj = (_geometric if kind == "geometric" else _grid)(count, n, rng)
    shape = (count, n, n)
    length = np.linalg.norm(pos[:, :, None] - pos[:, None], axis=-1)
    cls = _sym(rng.choice(3, p=CLASS_P, size=shape))
    lanes = LANES_MIN[cls] + np.floor(_sym(rng.random(shape)) * LANES_SPAN[cls])
    speed = np.take_along_axis(SPEEDS[cls], _sym(rng.integers(0, 3, shape))[..., None], -1)[..., 0]
    congestion = rng.beta(2.0, 3.0, shape)  # per direction
    readings = congestion[..., None] + rng.normal(0.0, NOISE, shape + (READINGS,))
    distractors = rng.normal(0.0, 1.0, shape + (DISTRACTORS,))
    time = np.where(adj, travel_time(length, cls, speed, lanes, congestion), np.inf)
    edge = np.concatenate([np.ones(shape + (1,)), (length / SPACING)[..., None], np.eye(3)[cls],
                           (lanes / 2)[..., None], (speed / 100)[..., None], readings, distractors], -1)
    edge *= adj[..., None]
    source = rng.integers(0, n, count)
    side = pos.reshape(count, -1).max(1)[:, None, None]
    node = np.concatenate([np.eye(n)[source][..., None], pos / side], -1)

    adj_t, source_t = torch.from_numpy(adj), torch.from_numpy(source).long()
    time_t = torch.from_numpy(time)
    dist, parent = shortest_paths(time_t, source_t)
    hops = shortest_paths(_unit_weights(adj_t), source_t)[0].amax(1).long()
    return RoutingBatch(node=torch.from_numpy(node).float(), edge=torch.from_numpy(edge).float(), adj=adj_t,
                        node_mask=torch.ones(count, n, dtype=torch.bool), source=source_t, time=time_t,
                        parent=parent, dist=dist, hops=hops)


def processor_steps(batch: RoutingBatch) -> int:
    """Processor steps for a batch: ``2 * max unweighted eccentricity of the source + 1``.

    Computed from the input graph alone (no travel times, no targets): Bellman-Ford needs as many rounds
    as the shortest-path tree is deep in hops, which is at least the eccentricity and, on these graphs,
    rarely above twice it.
    """
    return 2 * int(batch.hops.max()) + 1


# ------------------------------------------------------------------------------------------ metrics
def route_costs(parent: Tensor, time: Tensor, source: Tensor) -> tuple[Tensor, Tensor]:
    """Follow ``parent`` from every node to the source, summing true times: ``(cost [B, N], reached)``.

    The route of node j is ``source -> ... -> parent[j] -> j``; its cost the sum of ``time[parent[u], u]``
    along it.  ``reached`` is False (and ``cost`` inf) when the pointers loop, stop at a node that is
    its own parent, or use a pair that is not an edge.  The source's own pointer is ignored.  Vectorised
    by pointer doubling (ceil(log2 N) + 1 rounds over all nodes at once).
    """
    b, n = parent.shape
    nodes = torch.arange(n, device=parent.device)
    rows = torch.arange(b, device=parent.device)
    parent = parent.clone()
    parent[rows, source] = source
    step = time.gather(1, parent[:, None, :]).squeeze(1)           # time[b, parent[j], j]
    step = torch.where(parent == nodes, torch.zeros_like(step), step)
    anc, cost = parent, step
    for _ in range(max(1, math.ceil(math.log2(max(n, 2)))) + 1):
        cost = cost + cost.gather(1, anc)
        anc = anc.gather(1, anc)
    reached = (anc == source[:, None]) & torch.isfinite(cost)
    return torch.where(reached, cost, torch.full_like(cost, float("inf"))), reached


def metrics(parent: Tensor, batch: RoutingBatch) -> dict[str, float]:
    """Scores of predicted parents ``[B, N]`` against ``batch`` (means over graphs of per-graph means
    over its non-source nodes).

    ``parent_accuracy``: share of non-source nodes whose parent is the true one.  ``cost_ratio``: mean
    over non-source nodes of (true travel time of the predicted route) / (optimal distance); a route that
    loops or does not reach the source counts :data:`FAIL_RATIO` (= 4.0) and as failed.
    ``reach_rate``: share of non-source nodes whose route reaches the source.
    """
    parent = parent.to(batch.parent.device)
    if parent.shape != batch.parent.shape:
        raise InputError(f"parent must be [B, N] = {tuple(batch.parent.shape)}, got {tuple(parent.shape)}")
    n = parent.shape[1]
    scored = batch.node_mask & (torch.arange(n)[None] != batch.source[:, None])
    count = scored.sum(1).clamp_min(1).double()
    cost, reached = route_costs(parent, batch.time, batch.source)
    ratio = torch.where(reached, cost / batch.dist.clamp_min(1e-12), torch.full_like(cost, FAIL_RATIO))

    def mean(x):
        return float(((x.double() * scored).sum(1) / count).mean())

    return {"parent_accuracy": mean(parent == batch.parent), "cost_ratio": mean(ratio),
            "reach_rate": mean(reached)}


# ------------------------------------------------------------------------------------------ models
def _mlp(fan_in: int, hidden: int, out: int) -> nn.Sequential:
    return nn.Sequential(linear(fan_in, hidden), nn.ReLU(), linear(hidden, out))


def _candidates(batch: RoutingBatch) -> Tensor:
    """``[B, N, N]``: i may be the parent of j (an edge i -> j, or i == j), both real."""
    n = batch.adj.shape[1]
    eye = torch.eye(n, dtype=torch.bool, device=batch.adj.device)[None]
    m = batch.node_mask
    return (batch.adj | eye) & m[:, :, None] & m[:, None, :]


class PointerDecoder(nn.Module):
    """``logits[b, i, j]`` of i being j's parent, from ``[z_i, z_j, e_ij (, t_ij)]``; -1e9 off candidates."""

    def __init__(self, node_dim: int, edge_dim: int, hidden: int, extra_dim: int = 0):
        super().__init__()
        self.src, self.dst = linear(node_dim, hidden), linear(node_dim, hidden)
        self.edge = linear(edge_dim, hidden)
        self.extra = linear(extra_dim, hidden) if extra_dim else None
        self.out = linear(hidden, 1)

    def forward(self, z: Tensor, e: Tensor, extra: Tensor | None, cand: Tensor) -> Tensor:
        m = self.src(z)[:, :, None] + self.dst(z)[:, None] + self.edge(e)
        if self.extra is not None and extra is not None:
            m = m + self.extra(extra)
        return self.out(torch.relu(m)).squeeze(-1).masked_fill(~cand, -1e9)


def pointer_loss(logits: Tensor, batch: RoutingBatch) -> Tensor:
    """Softmax cross-entropy over each real node's candidate parents (its in-neighbours and itself)."""
    n = logits.shape[1]
    ce = F.cross_entropy(logits.transpose(1, 2).reshape(-1, n), batch.parent.reshape(-1), reduction="none")
    mask = batch.node_mask.reshape(-1).float()
    return (ce * mask).sum() / mask.sum()


class ProcessorRouter(nn.Module):
    """Variants (a)-(d): edge / node MLP encoders -> ProcessorModule -> pointer decoder + distance head.

    ``processor``: a nar Processor of width ``processor_hidden`` (fresh for training from scratch, or
    pretrained); ``frozen``: keep its weights fixed.  The processor runs :func:`processor_steps` steps.
    """

    DIST_WEIGHT = 0.1

    def __init__(self, processor: Processor, processor_hidden: int, hidden: int = 128, frozen: bool = True):
        super().__init__()
        self.node_enc, self.edge_enc = _mlp(NODE_DIM, hidden, hidden), _mlp(EDGE_DIM, hidden, hidden)
        self.core = ProcessorModule(processor, processor_hidden, node_dim=hidden, edge_dim=hidden,
                                    frozen=frozen, steps=1)
        z = self.core.out_dim
        self.pointer = PointerDecoder(z, hidden, hidden, processor.edge_latent_dim)
        self.distance = _mlp(z, hidden, 1)

    def forward(self, batch: RoutingBatch) -> tuple[Tensor, Tensor]:
        """``(logits [B, N, N], distance [B, N])``."""
        x = self.node_enc(batch.node)
        e = self.edge_enc(batch.edge) * batch.adj[..., None]
        out = self.core(node=x, edge=e, adj=batch.adj, node_mask=batch.node_mask, steps=processor_steps(batch))
        logits = self.pointer(out.node, e, out.edge, _candidates(batch))
        return logits, self.distance(out.node).squeeze(-1)

    def loss(self, batch: RoutingBatch) -> Tensor:
        logits, dist = self(batch)
        m = batch.node_mask
        d = F.smooth_l1_loss(dist[m], batch.dist[m].float())
        return pointer_loss(logits, batch) + self.DIST_WEIGHT * d

    @torch.no_grad()
    def predict(self, batch: RoutingBatch) -> Tensor:
        return self(batch)[0].argmax(1)


def tree_edges(weight: Tensor, adj: Tensor, source: Tensor) -> Tensor:
    """``y [B, N, N]`` float: 1 where edge i -> j is in the shortest-path tree under ``weight`` on ``adj``."""
    _, parent = shortest_paths(torch.where(adj, weight, float("inf")), source)
    return tree_indicator(parent, weight.dtype)


def tree_indicator(parent: Tensor, dtype=torch.float32) -> Tensor:
    """``y [B, N, N]``: ``y[b, parent[b, j], j] = 1`` for every j that is not its own parent."""
    n = parent.shape[1]
    y = F.one_hot(parent, n).transpose(1, 2).to(dtype)
    return y * (1 - torch.eye(n, dtype=dtype, device=parent.device))


class BlackboxTree(torch.autograd.Function):
    """``y = tree_edges(w)`` with Vlastelica et al.'s gradient ``-(y(w) - y(w + lam * dL/dy)) / lam``
    (the perturbed weights are clamped at :data:`W_MIN` so they stay positive)."""

    @staticmethod
    def forward(ctx, weight: Tensor, adj: Tensor, source: Tensor, lam: float) -> Tensor:
        y = tree_edges(weight.detach(), adj, source)
        ctx.save_for_backward(weight.detach(), adj, source, y)
        ctx.lam = lam
        return y

    @staticmethod
    def backward(ctx, grad: Tensor):
        weight, adj, source, y = ctx.saved_tensors
        perturbed = tree_edges((weight + ctx.lam * grad).clamp_min(W_MIN), adj, source)
        return -(y - perturbed) / ctx.lam * adj, None, None, None


class BottleneckRouter(nn.Module):
    """Variant (e), the algorithmic bottleneck: an edge MLP predicts one positive weight per edge, an exact
    shortest-path solver runs on it; trained through the solver by blackbox differentiation with a
    Hamming loss between predicted and true tree edges."""

    def __init__(self, hidden: int = 128, lam: float = 2.0):
        super().__init__()
        self.weight_net, self.lam = _mlp(EDGE_DIM, hidden, 1), lam

    def forward(self, batch: RoutingBatch) -> Tensor:
        return F.softplus(self.weight_net(batch.edge).squeeze(-1)) + W_MIN

    def loss(self, batch: RoutingBatch) -> Tensor:
        y = BlackboxTree.apply(self(batch), batch.adj, batch.source, self.lam)
        truth = tree_indicator(batch.parent, y.dtype)
        return (y * (1 - truth) + (1 - y) * truth).sum() / batch.node_mask.sum()

    @torch.no_grad()
    def predict(self, batch: RoutingBatch) -> Tensor:
        return shortest_paths(torch.where(batch.adj, self(batch), float("inf")), batch.source)[1]


class ExactRouter(nn.Module):
    """Variant (f), the ceiling: the exact algorithm on the true travel times (not learned)."""

    def loss(self, batch: RoutingBatch) -> Tensor:  # nothing to learn
        return torch.zeros((), requires_grad=True)

    @torch.no_grad()
    def predict(self, batch: RoutingBatch) -> Tensor:
        return shortest_paths(batch.time, batch.source)[1]


# ------------------------------------------------------------------------------------------ training
def train(model: nn.Module, data: RoutingBatch, *, steps: int, batch_size: int = 32, lr: float = 1e-3,
          processor_lr: float | None = None, seed: int = 0, clip: float = 1.0) -> list[float]:
    """Adam on ``model.loss`` over random minibatches of ``data``; returns the losses.

    ``processor_lr``: learning rate of a (fine-tuned) processor's weights (default ``lr``).  A model
    without trainable parameters is returned untouched.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if not params or steps <= 0:
        return []
    proc = getattr(getattr(model, "core", None), "processor", None)
    proc_ids = {id(p) for p in proc.parameters()} if proc is not None else set()
    groups = [{"params": [p for p in params if id(p) not in proc_ids], "lr": lr}]
    tuned = [p for p in params if id(p) in proc_ids]
    if tuned:
        groups.append({"params": tuned, "lr": processor_lr if processor_lr is not None else lr})
    opt = torch.optim.Adam(groups)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    losses = []
    for _ in range(steps):
        idx = torch.randperm(len(data), generator=gen)[:batch_size]
        opt.zero_grad()
        loss = model.loss(data[idx])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


@torch.no_grad()
def predict(model: nn.Module, data: RoutingBatch, batch_size: int = 16) -> Tensor:
    """Predicted parents ``[B, N]``; graphs are batched in order of ``hops`` so a batch's processor step
    count (its largest eccentricity) fits all of its graphs closely."""
    model.eval()
    order = torch.argsort(data.hops, stable=True)
    out = torch.empty_like(data.parent)
    for k in range(0, len(data), batch_size):
        idx = order[k:k + batch_size]
        out[idx] = model.predict(data[idx])
    return out
