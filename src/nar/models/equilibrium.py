"""Gradients through a fixed point: implicit differentiation and the k-step phantom gradient.

For ``z* = f(z*, x)`` (f closes over its parameters and inputs), :func:`fixed_point` returns ``z*``
with an autograd graph attached according to ``grad``:

* ``"implicit"`` (Bai et al. 2019): forward ``z = f(z*)`` once; in backward the incoming gradient
  ``v`` is replaced by the solution ``u`` of ``u = v + J_f(z*)^T u``, itself found by the same
  batched solver on vector-Jacobian products.
* ``"phantom"`` (Geng et al. 2021): ``k`` damped steps ``z <- (1 - lam) z + lam f(z)`` from the
  detached ``z*``, differentiated by ordinary backprop (DEAR uses k = 1).

:func:`jacobian_penalty` is the Hutchinson estimate of ``||J_f(z*)||_F^2 / dim`` with one Gaussian
probe (Bai et al. 2021), used as a regulariser.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import torch

from .solvers import SolverConfig, SolverResult, solve

GRADIENTS = ("implicit", "phantom")


def fixed_point(f: Callable[[torch.Tensor], torch.Tensor], z0: torch.Tensor, config: SolverConfig,
                mask: torch.Tensor | None = None, *, grad: str = "implicit", phantom_steps: int = 1,
                phantom_lambda: float = 1.0, backward_config: SolverConfig | None = None,
                training: bool = True) -> tuple[torch.Tensor, SolverResult]:
    """Solve ``z = f(z)`` and return ``(z*, solver result)`` with the chosen gradient attached."""
    if grad not in GRADIENTS:
        raise ValueError(f"unknown gradient {grad!r}; valid: {list(GRADIENTS)}")
    if phantom_steps < 1 or not 0 < phantom_lambda <= 1:
        raise ValueError("phantom_steps must be >= 1 and phantom_lambda in (0, 1]")
    result = solve(f, z0, config, mask, training=training)
    z_star = result.z.detach()
    if not torch.is_grad_enabled():
        return z_star, result
    if grad == "phantom":
        z = z_star
        for _ in range(phantom_steps):
            z = (1 - phantom_lambda) * z + phantom_lambda * f(z)
        return z, result
    z_in = z_star.clone().requires_grad_(True)
    f_star = f(z_in)
    z_out = f(z_star)  # carries the graph to the parameters and inputs
    bconfig = backward_config or replace(config, name="fixed_point" if config.name == "broyden" else config.name)

    def backward_hook(v: torch.Tensor) -> torch.Tensor:
        def adjoint(u):
            (vjp,) = torch.autograd.grad(f_star, z_in, u, retain_graph=True)
            return vjp + v

        return solve(adjoint, v, bconfig, mask, training=False).z

    if z_out.requires_grad:
        z_out.register_hook(backward_hook)
    return z_out, result


def jacobian_penalty(f: Callable[[torch.Tensor], torch.Tensor], z_star: torch.Tensor,
                     mask: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Hutchinson estimate of ``||J_f(z*)||_F^2`` per real entry (differentiable w.r.t. f's parameters)."""
    z = z_star.detach().requires_grad_(True)
    fz = f(z)
    eps = torch.randn(z.shape, generator=generator, dtype=z.dtype, device=z.device)
    if mask is not None:
        m = mask.to(z.dtype)
        while m.dim() < z.dim():
            m = m.unsqueeze(-1)
        eps = eps * m
    (vjp,) = torch.autograd.grad(fz, z, eps, create_graph=True)
    count = eps.ne(0).sum().clamp(min=1)
    return vjp.pow(2).sum() / count
