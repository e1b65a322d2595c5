"""Alignment of a DEQ solver's iterates to a step-wise reasoner's latents (DEAR, Georgiev et al. 2024, Sec. 4.2).

A trained step-wise :class:`~nar.models.reasoner.Reasoner` (the *teacher*) gives per-step node latents
``t_i [N, H]``, ``i = 0 .. S_b - 1`` for graph ``b``.  The DEQ gives latents at ``K`` solver iterates
``a_j``, sampled at random and kept in solver order.  The cost of matching ``a_j`` to ``t_i`` is the
per-node L2 distance averaged over the graph's real nodes.  The sampled iterates are matched to
*distinct* teacher steps before the last one, in order (``i_0 < i_1 < ... < i_{K-1} < S_b - 1``; steps
may be skipped), by dynamic programming; the DEQ's fixed point is matched to the teacher's last step.

    loss_b = (1/K) sum_j cost_b(a_j, t_{i_j}) + cost_b(a_final, t_{S_b - 1})

The matching is found without gradients; the loss is differentiable in the DEQ's latents.
"""
from __future__ import annotations

import torch
from torch import Tensor

INF = float("inf")


def node_distance(a: Tensor, t: Tensor, node_mask: Tensor) -> Tensor:
    """Mean over real nodes of ``||a_v - t_v||``: ``a, t [..., N, H]`` broadcast, ``node_mask [B, N]``
    broadcast against the leading axes (``[B, 1, .., N]`` is formed here)."""
    d = (a - t).norm(dim=-1)  # [..., N]
    m = node_mask.view(node_mask.shape[:1] + (1,) * (d.dim() - 2) + node_mask.shape[1:]).to(d.dtype)
    return (d * m).sum(-1) / m.sum(-1).clamp_min(1.0)


def ordered_matching(cost: Tensor, steps: Tensor) -> Tensor:
    """Order-preserving matching of ``K`` rows to distinct columns by dynamic programming.

    ``cost [B, K, S]``; ``steps [B]``: columns ``0 .. steps_b - 1`` are allowed for graph ``b`` (needs
    ``steps_b >= K``).  Returns ``idx [B, K]`` strictly increasing per row, minimising
    ``sum_j cost[b, j, idx[b, j]]``.

    ``E_j[i]`` (best cost of rows ``0..j`` with row ``j`` on column ``i``) is
    ``cost[j, i] + min_{i' < i} E_{j-1}[i']``: one prefix minimum per row.
    """
    b, k, s = cost.shape
    if k == 0:
        return cost.new_zeros(b, 0, dtype=torch.long)
    if bool((steps < k).any()):
        raise ValueError(f"ordered_matching needs at least K={k} allowed columns per graph, got {steps.tolist()}")
    cols = torch.arange(s, device=cost.device)
    allowed = cols[None, :] < steps[:, None]  # [B, S]
    cost = torch.where(allowed[:, None, :], cost, torch.full_like(cost, INF))
    e = [cost[:, 0]]
    for j in range(1, k):
        best_before = torch.cummin(e[-1], dim=1).values  # min over i' <= i
        shifted = torch.cat([cost.new_full((b, 1), INF), best_before[:, :-1]], 1)  # min over i' < i
        e.append(cost[:, j] + shifted)
    idx = cost.new_zeros(b, k, dtype=torch.long)
    bound = steps.clone()  # row j must sit on a column < bound
    for j in range(k - 1, -1, -1):
        cand = torch.where(cols[None, :] < bound[:, None], e[j], torch.full_like(e[j], INF))
        idx[:, j] = cand.argmin(1)
        bound = idx[:, j]
    return idx


def sample_iterates(iterations: Tensor, count: int, generator: torch.Generator | None = None) -> Tensor:
    """Sorted random iterate indices ``[B, K]`` with ``K = min(count, min_b(iterations_b - 1))``.

    Graph ``b`` keeps iterates ``0 .. iterations_b - 1``; the last one is its fixed point, so the
    sample is drawn without replacement from ``0 .. iterations_b - 2``.
    """
    avail = (iterations - 1).clamp_min(0)
    k = int(min(count, int(avail.min()))) if avail.numel() else 0
    if k == 0:
        return iterations.new_zeros(iterations.shape[0], 0)
    width = int(avail.max())
    weights = (torch.arange(width, device=iterations.device)[None, :] < avail[:, None]).to(torch.float32)
    idx = torch.multinomial(weights, k, replacement=False, generator=generator)
    return idx.sort(1).values


def teacher_latents(teacher, batch, *, teacher_forcing: float = 0.0) -> tuple[Tensor, Tensor]:
    """Per-step node latents of a step-wise reasoner on ``batch``: ``([B, S, N, H], steps [B])``.

    Runs ``teacher`` (a :class:`~nar.models.reasoner.Reasoner`) with the true step count in eval mode
    without gradients and records its processor's output at every step (a forward hook, so the
    reasoner is used as it is).  Graph ``b`` has ``steps_b = max(length_b - 1, 1)`` valid steps; at a
    step where the reasoner runs only the graphs still going (in batch order), the finished ones keep
    their last latents.
    """
    seen: list[Tensor] = []

    def hook(_module, _inputs, output):
        seen.append(output[0].detach().clone())

    handle = teacher.processor.register_forward_hook(hook)
    was = teacher.training
    teacher.eval()
    try:
        with torch.no_grad():
            teacher(batch, teacher_forcing, steps="truth")
    finally:
        handle.remove()
        teacher.train(was)
    lengths = batch.lengths.to(batch.node_mask.device)
    steps = (lengths - 1).clamp_min(1)
    b = lengths.shape[0]
    full = []
    for i, h in enumerate(seen):
        if h.shape[0] != b:
            rows = (steps > i).nonzero().squeeze(1)
            if rows.shape[0] != h.shape[0]:
                raise RuntimeError(f"teacher step {i} ran {h.shape[0]} graphs, expected {rows.shape[0]}")
            h = full[-1].index_copy(0, rows, h)
        full.append(h)
    return torch.stack(full, 1), steps


def alignment_loss(sampled: Tensor, final: Tensor, teacher: Tensor, steps: Tensor,
                   node_mask: Tensor) -> tuple[Tensor, Tensor]:
    """The loss of the module docstring, per graph ``[B]``, and the matched teacher steps ``[B, K]``.

    ``sampled [B, K, N, H]`` DEQ latents at the sampled iterates (in solver order), ``final [B, N, H]``
    at the fixed point, ``teacher [B, S, N, H]`` with ``steps [B]`` valid steps per graph.
    """
    b, k = sampled.shape[:2]
    s = teacher.shape[1]
    last = (steps - 1).clamp(0, s - 1)
    ar = torch.arange(b, device=teacher.device)
    final_cost = node_distance(final, teacher[ar, last], node_mask)  # [B]
    if k == 0:
        return final_cost, sampled.new_zeros(b, 0, dtype=torch.long)
    with torch.no_grad():
        cost = node_distance(sampled.detach()[:, :, None], teacher[:, None], node_mask)  # [B, K, S]
        idx = ordered_matching(cost, steps - 1)
    matched = teacher[ar[:, None], idx]  # [B, K, N, H]
    path = node_distance(sampled, matched, node_mask).mean(1)
    return path + final_cost, idx


__all__ = ["alignment_loss", "node_distance", "ordered_matching", "sample_iterates", "teacher_latents"]
