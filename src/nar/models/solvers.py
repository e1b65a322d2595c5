"""Batched root solvers for deep equilibrium reasoners (DEAR, Georgiev et al. 2024).

Each solver finds ``z* = f(z*)`` for a batch of states ``z [B, ...]`` (for DEAR: node latents
``[B, N, H]``).  Every graph of the batch converges on its own: it is frozen at its first iterate whose
residual is under the tolerance while the others go on.  A graph that does not converge within the
iteration budget returns its lowest-residual iterate; one whose residual becomes non-finite stops there
(also returning its best iterate), and a non-finite solver proposal falls back to ``f(z)``.  Residuals ignore padding (``mask [B, N]``
broadcast over the trailing axes).  Stored iterates are copies, never views into a reused buffer.

Residual of graph b: ``||f(z_b) - z_b||`` over its real entries; relative stop divides by
``||f(z_b)|| + 1e-9``.  Solvers: ``fixed_point`` (damped Picard), ``anderson`` (Walker & Ni 2011,
memory m, mixing beta, Tikhonov lam), ``broyden`` (Broyden's "good" method on g(z) = f(z) - z with a
low-rank inverse-Jacobian estimate).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

SOLVERS = ("fixed_point", "anderson", "broyden")
STOP_MODES = ("abs", "rel")


@dataclass(frozen=True)
class SolverConfig:
    """Strict solver settings: a bad name or value is an error here, never silently ignored."""

    name: str = "anderson"
    tol: float = 1e-3
    stop: str = "rel"
    max_iter: int = 40
    eval_max_iter: int = 160
    memory: int = 6
    beta: float = 1.0
    lam: float = 1e-4
    keep_iterates: bool = False

    def __post_init__(self):
        if self.name not in SOLVERS:
            raise ValueError(f"unknown solver {self.name!r}; valid solvers: {list(SOLVERS)}")
        if self.stop not in STOP_MODES:
            raise ValueError(f"unknown stop mode {self.stop!r}; valid: {list(STOP_MODES)}")
        if not self.tol > 0:
            raise ValueError(f"solver tol must be > 0, got {self.tol}")
        for key in ("max_iter", "eval_max_iter", "memory"):
            if int(getattr(self, key)) < 1:
                raise ValueError(f"solver {key} must be >= 1, got {getattr(self, key)}")
        if not 0 < self.beta <= 1:
            raise ValueError(f"solver beta must be in (0, 1], got {self.beta}")
        if self.lam < 0:
            raise ValueError(f"solver lam must be >= 0, got {self.lam}")


@dataclass
class SolverResult:
    z: torch.Tensor  # [B, ...] per graph: its first iterate under tolerance, else its lowest-residual one
    iterations: torch.Tensor  # [B] int64: evaluations of f used by each graph
    residual: torch.Tensor  # [B] residual of the returned iterate (abs or rel per the config)
    converged: torch.Tensor  # [B] bool
    iterates: list[torch.Tensor] = field(default_factory=list)  # copies, if kept


def _entry_mask(z: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``[B, ...]`` float mask of real entries of ``z``."""
    if mask is None:
        return torch.ones_like(z)
    m = mask.to(z.dtype)
    while m.dim() < z.dim():
        m = m.unsqueeze(-1)
    return m.expand_as(z)


def residuals(fz: torch.Tensor, z: torch.Tensor, emask: torch.Tensor, stop: str) -> torch.Tensor:
    """Per-graph residual ``[B]`` of a fixed-point iterate, ignoring masked entries."""
    diff = ((fz - z) * emask).flatten(1).norm(dim=1)
    if stop == "rel":
        return diff / ((fz * emask).flatten(1).norm(dim=1) + 1e-9)
    return diff


def solve(f: Callable[[torch.Tensor], torch.Tensor], z0: torch.Tensor, config: SolverConfig,
          mask: torch.Tensor | None = None, *, training: bool = True) -> SolverResult:
    """Find ``z = f(z)`` from ``z0`` for every graph of the batch (no autograd graph is built).

    If ``f`` has a method ``select(rows) -> g`` (``g`` computes ``f`` for the graphs ``rows`` only, given
    their states), graphs that are done are not evaluated again; the result is the same.
    """
    max_iter = config.max_iter if training else config.eval_max_iter
    with torch.no_grad():
        if config.name == "anderson":
            step = _AndersonState(z0, config)
        elif config.name == "broyden":
            step = _BroydenState(z0, config)
        else:
            step = _PicardState(config)
        return _iterate(f, z0, config, mask, max_iter, step)


def _iterate(f, z0, config: SolverConfig, mask, max_iter: int, stepper) -> SolverResult:
    """The shared loop: per-graph freezing, best-iterate fallback, non-finite guard."""
    B = z0.shape[0]
    emask = _entry_mask(z0, mask)
    z = z0 * emask
    done = torch.zeros(B, dtype=torch.bool, device=z0.device)  # converged or diverged: no longer moves
    converged = torch.zeros_like(done)
    iters = torch.zeros(B, dtype=torch.long, device=z0.device)
    res = torch.full((B,), float("inf"), dtype=z0.dtype, device=z0.device)  # residual of `best`
    best = z.clone()  # the first iterate under tolerance, else the lowest-residual iterate so far
    iterates = []
    select = getattr(f, "select", None)
    sub, sub_rows = None, None
    for _ in range(max_iter):
        active = ~done
        if select is not None and not bool(active.all()):  # evaluate f on the graphs still going only
            rows = active.nonzero().squeeze(1)
            if sub_rows is None or not torch.equal(rows, sub_rows):
                sub, sub_rows = select(rows), rows
            fz = z.clone()  # done graphs do not move
            fz[rows] = sub(z[rows])
            fz = fz * emask
        else:
            fz = f(z) * emask
        r = residuals(fz, z, emask, config.stop)
        iters = iters + active.long()
        finite = torch.isfinite(r)
        better = active & finite & (r < res)
        if better.any():
            best[better] = z[better]
            res = torch.where(better, r, res)
        newly = active & finite & (r < config.tol)
        converged = converged | newly
        done = done | newly | (active & ~finite)  # a non-finite residual ends that graph's search
        if config.keep_iterates:
            iterates.append(torch.where(_bmask(done, z), best, z).clone())
        if done.all():
            break
        z_next = stepper.next(z, fz, emask) * emask
        bad = ~torch.isfinite(z_next.flatten(1)).all(1)  # e.g. a singular Anderson system: take f(z)
        if bad.any():
            z_next = torch.where(_bmask(bad, z), fz, z_next)
        z = torch.where(_bmask(done, z), best, z_next)
    return SolverResult(z=best, iterations=iters, residual=res, converged=converged, iterates=iterates)


def _bmask(flags: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return flags.view(-1, *([1] * (like.dim() - 1)))


class _PicardState:
    def __init__(self, config: SolverConfig):
        self.beta = config.beta

    def next(self, z, fz, emask):
        return fz if self.beta == 1.0 else (1 - self.beta) * z + self.beta * fz


class _AndersonState:
    """Anderson acceleration with a ring buffer of the last m (z, f(z)) pairs per graph."""

    def __init__(self, z0: torch.Tensor, config: SolverConfig):
        B, D = z0.shape[0], z0[0].numel()
        self.m, self.beta, self.lam = config.memory, config.beta, config.lam
        self.X = z0.new_zeros(B, self.m, D)
        self.F = z0.new_zeros(B, self.m, D)
        self.k = 0

    def next(self, z, fz, emask):
        B = z.shape[0]
        slot = self.k % self.m
        self.X[:, slot] = z.reshape(B, -1)
        self.F[:, slot] = fz.reshape(B, -1)
        self.k += 1
        n = min(self.k, self.m)
        if n == 1:
            return _PicardState.next(self, z, fz, emask)
        G = (self.F[:, :n] - self.X[:, :n])  # [B, n, D]
        # min ||G^T alpha|| s.t. sum(alpha) = 1  ->  bordered system [[0, 1^T], [1, GG^T + lam I]]
        H = z.new_zeros(B, n + 1, n + 1)
        H[:, 0, 1:] = 1
        H[:, 1:, 0] = 1
        H[:, 1:, 1:] = G @ G.transpose(1, 2) + self.lam * torch.eye(n, dtype=z.dtype, device=z.device)
        rhs = z.new_zeros(B, n + 1, 1)
        rhs[:, 0] = 1
        alpha = torch.linalg.solve(H, rhs)[:, 1:, 0]  # [B, n]
        mixed = self.beta * (alpha[:, None] @ self.F[:, :n])[:, 0] + \
            (1 - self.beta) * (alpha[:, None] @ self.X[:, :n])[:, 0]
        return mixed.view_as(z)


class _BroydenState:
    """Broyden's good method: z_{k+1} = z_k - J_k^{-1} g(z_k), rank-one inverse updates, per graph."""

    def __init__(self, z0: torch.Tensor, config: SolverConfig):
        B, D = z0.shape[0], z0[0].numel()
        self.m = max(config.memory, 1) * 4
        self.U = z0.new_zeros(B, D, 0)
        self.V = z0.new_zeros(B, 0, D)
        self.prev = None  # (z, g)

    def _apply(self, x):  # -J^{-1} x with J^{-1} = -I + U V
        out = -x
        if self.U.shape[2]:
            out = out + (self.U @ (self.V @ x[..., None]))[..., 0]
        return out

    def _apply_T(self, x):  # x^T (-I + U V)
        out = -x
        if self.U.shape[2]:
            out = out + ((x[:, None, :] @ self.U) @ self.V)[:, 0]
        return out

    def next(self, z, fz, emask):
        B = z.shape[0]
        zf, g = z.reshape(B, -1), (fz - z).reshape(B, -1)
        if self.prev is not None:
            dz, dg = zf - self.prev[0], g - self.prev[1]
            Jdg = self._apply(dg)  # J^{-1} dg
            vT = self._apply_T(dz)  # dz^T J^{-1}
            denom = (vT * dg).sum(1, keepdim=True)
            ok = denom.abs() > 1e-12
            u = torch.where(ok, (dz - Jdg) / torch.where(ok, denom, torch.ones_like(denom)), torch.zeros_like(dz))
            vT = torch.where(ok, vT, torch.zeros_like(vT))
            self.U = torch.cat([self.U, u[..., None]], 2)[:, :, -self.m:]
            self.V = torch.cat([self.V, vT[:, None]], 1)[:, -self.m:]
        self.prev = (zf.clone(), g.clone())
        step = -self._apply(g)  # -J^{-1} g
        return (zf + step).view_as(z)
