"""The NAR blueprint: a (pretrained) processor inside any PyTorch model, with plain tensors in and out.

Velickovic & Blundell (2021), "Neural algorithmic reasoning" (Patterns 2(7)): a processor network P is
trained to execute an algorithm in latent space, then reused over natural inputs -- a learned encoder in
front, a decoder behind, P frozen or fine-tuned, and a skip connection from the encoder to the decoder
for what P cannot explain.  :class:`ProcessorModule` is that middle block::

    proc = nar.pretrained.load("triplet_gmpnn-bellman_ford").processor_module(node_dim=32, edge_dim=16)
    out = proc(node=x, edge=e, adj=adj, node_mask=mask)      # x [B, N, 32], e [B, N, N, 16]
    out.node      # [B, N, out_dim]   latents for the user's decoder (skip connection included)
    out.edge      # [B, N, N, H]      the processor's edge latents (triplet processors) or None

Shapes: ``node [B, N, node_dim]``, ``edge [B, N, N, edge_dim]`` (or None), ``graph [B, graph_dim]``
(or None), ``adj [B, N, N]`` bool (``adj[b, i, j]``: i may send to j; self-loops are added; None = every
pair of real nodes), ``node_mask [B, N]`` bool (None = all real).  Graphs given as networkx graphs or PyG
``Data``/``Batch`` objects are turned into these tensors by :func:`dense_graph`.

Steps: ``steps=k`` applies P ``k`` times; ``steps="converge"`` applies it until the largest change of
the hidden state is below ``tol`` (or ``max_steps``).  ``frozen=True`` (default) keeps P's weights
fixed (no gradient reaches them; gradients still flow *through* P to the encoders in front of it);
the adapters are always trainable.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .models.layers import EdgeFeatures, linear
from .models.processors import Processor, check_dense_memory, device_memory_bytes
from .validation import InputError

STEP_MODES = ("converge",)


@dataclass
class BlueprintOutput:
    """What :class:`ProcessorModule` returns.

    ``node [B, N, out_dim]``: decoder input (``[x, h]`` through the output adapter when ``skip``);
    ``hidden [B, N, H]``: the processor's last hidden state; ``edge [B, N, N, H]`` or None: its edge
    latents at the last step; ``steps``: how many times the processor ran; ``residual``: the last
    step's largest change of ``hidden`` (max-abs).
    """

    node: Tensor
    hidden: Tensor
    edge: Tensor | None
    steps: int
    residual: float


class ProcessorModule(nn.Module):
    """A processor wrapped for reuse: adapters in, ``steps`` processor applications, adapter out.

    Args:
        processor: a :class:`nar.models.Processor` (e.g. ``nar.pretrained.load(name).processor`` or
            ``nar.load(run).model.processor``); it is used in place, not copied.
        hidden: the processor's latent width ``H``.
        node_dim, edge_dim, graph_dim: widths of the caller's latents; a trainable linear adapter maps
            each to ``H`` when it differs (``None``: equal to ``H``, no adapter).
        out_dim: width of ``BlueprintOutput.node``; ``None`` = ``H`` (+ ``node_dim`` with ``skip``),
            no output adapter.
        frozen: keep the processor's weights fixed (they get no gradient and stay in eval mode).
        steps: an int >= 1, or ``"converge"`` (until ``max|h_t - h_{t-1}| < tol``, at most ``max_steps``).
        skip: concatenate the (adapted) input latents to the processor's output (the article's skip
            connection from encoder to decoder).
        max_dense_bytes: refuse inputs whose dense activations would exceed this (default 80% of RAM /
            device memory), with an error that says what to change.
    """

    def __init__(self, processor: Processor, hidden: int, *, node_dim: int | None = None,
                 edge_dim: int | None = None, graph_dim: int | None = None, out_dim: int | None = None,
                 frozen: bool = True, steps: int | str = 1, tol: float = 1e-3, max_steps: int = 64,
                 skip: bool = True, max_dense_bytes: int | None = None):
        super().__init__()
        if not isinstance(processor, Processor):
            raise InputError(f"processor must be a nar.models.Processor, got {type(processor).__name__}")
        if not (steps in STEP_MODES or (isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1)):
            raise InputError(f"steps must be a positive int or 'converge', got {steps!r}")
        if not (isinstance(max_steps, int) and max_steps >= 1):
            raise InputError(f"max_steps must be a positive int, got {max_steps!r}")
        if not tol > 0:
            raise InputError(f"tol must be > 0, got {tol!r}")
        for arg, v in (("hidden", hidden), ("node_dim", node_dim), ("edge_dim", edge_dim),
                       ("graph_dim", graph_dim), ("out_dim", out_dim)):
            if v is not None and not (isinstance(v, int) and v >= 1):
                raise InputError(f"{arg} must be a positive int or None, got {v!r}")
        self.processor, self.hidden = processor, hidden
        self.node_dim = node_dim or hidden
        self.edge_dim = edge_dim or hidden
        self.graph_dim = graph_dim or hidden
        self.steps, self.tol, self.max_steps, self.skip = steps, tol, max_steps, skip
        self.max_dense_bytes = max_dense_bytes
        self.node_in = linear(self.node_dim, hidden) if self.node_dim != hidden else None
        self.graph_in = linear(self.graph_dim, hidden) if self.graph_dim != hidden else None
        # edges stay factored (EdgeFeatures): the adapter is the factor, never an [B, N, N, H] product
        if self.edge_dim != hidden:
            self.edge_in = linear(self.edge_dim, hidden)
        else:
            self.edge_in = None
            self.register_buffer("_edge_eye", torch.eye(hidden), persistent=False)
        dec_in = hidden + (hidden if skip else 0)
        self.out = linear(dec_in, out_dim) if out_dim is not None else None
        self.out_dim = out_dim if out_dim is not None else dec_in
        self.frozen = False
        self.freeze(frozen)

    # -- freezing ------------------------------------------------------------------------------
    def freeze(self, frozen: bool = True) -> "ProcessorModule":
        """Freeze (or unfreeze, for fine-tuning) the processor's weights."""
        self.frozen = bool(frozen)
        for p in self.processor.parameters():
            p.requires_grad_(not self.frozen)
        self.processor.train(self.training and not self.frozen)
        return self

    def train(self, mode: bool = True) -> "ProcessorModule":
        super().train(mode)
        self.processor.train(mode and not self.frozen)
        return self

    # -- forward -------------------------------------------------------------------------------
    def forward(self, node: Tensor, edge: Tensor | None = None, graph: Tensor | None = None,
                adj: Tensor | None = None, node_mask: Tensor | None = None, *,
                steps: int | str | None = None) -> BlueprintOutput:
        """Run the processor on the caller's latents (shapes in the module docstring); ``steps``
        overrides the module's step setting for this call (e.g. a bound computed from the input graph)."""
        steps = self.steps if steps is None else steps
        if not (steps in STEP_MODES or (isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1)):
            raise InputError(f"steps must be a positive int or 'converge', got {steps!r}")
        node, edge, graph, adj, node_mask = self._check(node, edge, graph, adj, node_mask)
        b, n, _ = node.shape
        x = self.node_in(node) if self.node_in is not None else node
        x = x * node_mask[..., None]
        g = graph if graph is not None else x.new_zeros(b, self.graph_dim)
        g = self.graph_in(g) if self.graph_in is not None else g
        if edge is None:
            edge = x.new_zeros(b, n, n, 0)
            weight, bias = x.new_zeros(0, self.hidden), x.new_zeros(self.hidden)
        elif self.edge_in is not None:
            weight, bias = self.edge_in.weight.t(), self.edge_in.bias
        else:
            weight, bias = self._edge_eye.to(x.dtype), x.new_zeros(self.hidden)
        edges = EdgeFeatures(edge, weight, bias, memo={})
        adj = adj | torch.eye(n, dtype=torch.bool, device=adj.device)[None]
        adj = adj & node_mask[:, :, None] & node_mask[:, None, :]
        self._check_memory(b, n, x.device, steps)

        h = x.new_zeros(b, n, self.hidden)
        limit = steps if isinstance(steps, int) else self.max_steps
        residual, done, tri = float("inf"), 0, None
        for done in range(1, limit + 1):
            new, tri = self.processor(x, edges, g, adj, h, node_mask)
            if steps == "converge" or done == limit:  # one host sync per step only when converging
                residual = float((new - h).detach().abs().amax()) if new.numel() else 0.0
            h = new
            if steps == "converge" and residual < self.tol:
                break
        feats = torch.cat([x, h], dim=-1) if self.skip else h
        out = self.out(feats) if self.out is not None else feats
        return BlueprintOutput(node=out * node_mask[..., None], hidden=h, edge=tri, steps=done,
                               residual=residual)

    def _check(self, node, edge, graph, adj, node_mask):
        if not isinstance(node, Tensor) or node.dim() != 3:
            raise InputError(f"node must be a [B, N, node_dim] tensor, got "
                             f"{tuple(node.shape) if isinstance(node, Tensor) else type(node).__name__}")
        b, n, f = node.shape
        if f != self.node_dim:
            raise InputError(f"node has {f} features but this module was built with node_dim={self.node_dim}; "
                             f"pass node_dim={f} to get a linear adapter to the processor's width {self.hidden}")
        if edge is not None:
            if not isinstance(edge, Tensor) or edge.dim() != 4 or tuple(edge.shape[:3]) != (b, n, n):
                raise InputError(f"edge must be a [B, N, N, edge_dim] = [{b}, {n}, {n}, {self.edge_dim}] tensor, "
                                 f"got {tuple(getattr(edge, 'shape', ()))}")
            if edge.shape[3] != self.edge_dim:
                raise InputError(f"edge has {edge.shape[3]} features but this module was built with "
                                 f"edge_dim={self.edge_dim}; pass edge_dim={edge.shape[3]} to get an adapter")
        if graph is not None:
            if not isinstance(graph, Tensor) or tuple(graph.shape) != (b, self.graph_dim):
                raise InputError(f"graph must be a [B, graph_dim] = [{b}, {self.graph_dim}] tensor, "
                                 f"got {tuple(getattr(graph, 'shape', ()))}")
        if node_mask is None:
            node_mask = torch.ones(b, n, dtype=torch.bool, device=node.device)
        elif tuple(node_mask.shape) != (b, n):
            raise InputError(f"node_mask must be [B, N] = [{b}, {n}], got {tuple(node_mask.shape)}")
        node_mask = node_mask.to(torch.bool)
        if adj is None:
            adj = node_mask[:, :, None] & node_mask[:, None, :]
        elif tuple(adj.shape) != (b, n, n):
            raise InputError(f"adj must be [B, N, N] = [{b}, {n}, {n}], got {tuple(adj.shape)}")
        return node, edge, graph, adj.to(torch.bool), node_mask

    def _check_memory(self, b: int, n: int, device, steps) -> None:
        grad = torch.is_grad_enabled()
        limit = self.max_dense_bytes if self.max_dense_bytes is not None else int(0.8 * device_memory_bytes(device))
        kept = (steps if isinstance(steps, int) else self.max_steps) if grad else 2
        estimate = 4 * self.processor.activation_floats(b, n, self.hidden) * kept
        check_dense_memory(estimate, limit, f"the dense processor {self.processor.name!r} on B={b}, N={n}")


# ------------------------------------------------------------------------------------------ graphs
@dataclass
class DenseGraph:
    """Padded dense tensors of one or several graphs (the inputs :class:`ProcessorModule` takes).

    ``node [B, N, F]``, ``edge [B, N, N, Fe]`` or None, ``adj [B, N, N]`` bool, ``node_mask [B, N]``
    bool; ``nodes``: per graph, the original node labels in the order of the rows (networkx input).
    """

    node: Tensor
    edge: Tensor | None
    adj: Tensor
    node_mask: Tensor
    nodes: list | None = None


def dense_graph(graph, *, node_attrs: list[str] | None = None, edge_attrs: list[str] | None = None) -> DenseGraph:
    """A networkx graph, or a PyG ``Data``/``Batch`` (``x, edge_index, edge_attr, batch``), as dense tensors.

    networkx: ``node_attrs`` / ``edge_attrs`` name the numeric attributes stacked into the feature
    vectors (each node / edge must have them all); nodes keep ``list(G.nodes)`` order (``nodes``); an
    undirected graph gives edges in both directions.  PyG: ``x`` -> ``node``, ``edge_attr`` -> ``edge``
    (``to_dense_batch`` / ``to_dense_adj``).
    """
    if hasattr(graph, "edge_index"):
        return _from_pyg(graph)
    if hasattr(graph, "nodes") and hasattr(graph, "edges"):
        return _from_networkx(graph, node_attrs or [], edge_attrs or [])
    raise InputError(f"graph must be a networkx graph or a torch_geometric Data/Batch, got {type(graph).__name__}")


def _from_networkx(G, node_attrs: list[str], edge_attrs: list[str]) -> DenseGraph:
    nodes = list(G.nodes)
    n = len(nodes)
    if n == 0:
        raise InputError("graph has no nodes")
    index = {v: i for i, v in enumerate(nodes)}
    feats = torch.zeros(1, n, len(node_attrs))
    for v, data in G.nodes(data=True):
        for k, a in enumerate(node_attrs):
            feats[0, index[v], k] = _number(data, a, f"node {v!r}")
    adj = torch.zeros(1, n, n, dtype=torch.bool)
    edge = torch.zeros(1, n, n, len(edge_attrs)) if edge_attrs else None
    both = not G.is_directed()
    for u, v, data in G.edges(data=True):
        i, j = index[u], index[v]
        adj[0, i, j] = True
        if both:
            adj[0, j, i] = True
        if edge is not None:
            vals = torch.tensor([_number(data, a, f"edge ({u!r}, {v!r})") for a in edge_attrs])
            edge[0, i, j] = vals
            if both:
                edge[0, j, i] = vals
    return DenseGraph(feats, edge, adj, torch.ones(1, n, dtype=torch.bool), [nodes])


def _number(data: dict, attr: str, where: str) -> float:
    if attr not in data:
        raise InputError(f"{where} has no attribute {attr!r} (it has {sorted(data)})")
    try:
        value = float(data[attr])
    except (TypeError, ValueError):
        raise InputError(f"{where}: attribute {attr!r} must be a number, got {data[attr]!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(f"{where}: attribute {attr!r} must be finite, got {value}")
    return value


def _from_pyg(data) -> DenseGraph:
    from .optional import require

    utils = require("torch_geometric.utils", "reading a PyG graph")
    x = getattr(data, "x", None)
    if x is None:
        raise InputError("the PyG graph has no node features x")
    batch = getattr(data, "batch", None)
    node, mask = utils.to_dense_batch(x, batch)
    adj = utils.to_dense_adj(data.edge_index, batch, max_num_nodes=node.shape[1]) > 0
    edge_attr = getattr(data, "edge_attr", None)
    edge = None
    if edge_attr is not None:
        ea = edge_attr if edge_attr.dim() == 2 else edge_attr[:, None]
        edge = utils.to_dense_adj(data.edge_index, batch, edge_attr=ea, max_num_nodes=node.shape[1])
    return DenseGraph(node, edge, adj, mask)
