"""The NTK predictor of a two-layer ReLU network without bias, trained on the template list.

**Training set (template-indicator encoding).**  Template ``i`` is the training input ``e_i``
(the ``i``-th standard basis vector of ``R^{N'}``) with target its label ``Y_i``; ``N' = N + pad``,
where the ``pad`` extra inputs ``e_{N+1..N+pad}`` have all-zero labels ("idle" samples, as in the
binary_algos code of the earlier paper).  A node state ``x`` is encoded as
``E(x) = 1_S / sqrt(m)``, ``S`` = the templates that match ``x``, ``m = |S|`` (``E(x) = 0`` when
nothing matches).  This is the paper's orthogonal encoding with every template as its own block.

**Kernels** (NTK parameterisation, weights N(0, 1), no bias; ``d`` = input dim, ``theta`` the angle):
``K(x, x') = |x||x'| (sin theta + (pi - theta) cos theta) / (2 pi d)`` (NNGP),
``Theta(x, x') = <x, x'> (pi - theta) / (2 pi d) + K(x, x')`` (NTK).

**Mean** (infinite width, gradient flow to convergence): ``mu(x) = Theta(x, X) Theta(X, X)^-1 Y``.
With ``X = I`` it depends only on ``m``, ``N'``, the matched label sum ``Y_S`` and the column sums
``Y_Sigma``; with ``b = 1 / (2 pi)``, ``c = 1/sqrt(m)``, ``theta = arccos c`` and
``alpha(m) = (c (pi - theta) + sin theta + (pi - theta) c) / (2 pi)``:

``mu = [(alpha - b) Y_S + b (1 - b - (alpha - b) m) / (1 - b + N' b) Y_Sigma] / (1 - b)``.

Zero-target bits get ``mu <= 0`` for ``m >= 2``; a one-target bit stays positive while
``(alpha - b)(1 - b + N' b) Y_S > b ((alpha - b) m - (1 - b)) Y_Sigma`` -- roughly while
``m * Y_Sigma < N'``.  :func:`required_size` turns this into the training-set size a program needs.

**Variance** of the NTK-GP posterior (the spread of infinitely wide trained networks over their
initialisation): ``K(x,x) + Theta_xX Theta^-1 K_XX Theta^-1 Theta_Xx - 2 Theta_xX Theta^-1 K_Xx``;
it depends only on ``(m, N')``.  Both quantities are given in closed form and in matrix form
(kernel solve); the tests check that they agree to 1e-9.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .compiler import Compiled
from .executor import Predictor

B = 1.0 / (2.0 * math.pi)


def _angles(m):
    m = np.asarray(m, dtype=np.float64)
    c = 1.0 / np.sqrt(np.maximum(m, 1.0))
    theta = np.arccos(np.clip(c, -1.0, 1.0))
    return c, theta


def alpha(m) -> np.ndarray:
    """``d * Theta(E(x), e_j)`` for a matched template ``j`` (``m`` matches)."""
    c, th = _angles(m)
    return (c * (np.pi - th) + np.sin(th) + (np.pi - th) * c) / (2 * np.pi)


def kappa(m) -> np.ndarray:
    """``d * K(E(x), e_j)`` (NNGP) for a matched template ``j``."""
    c, th = _angles(m)
    return (np.sin(th) + (np.pi - th) * c) / (2 * np.pi)


def mean_coefficients(m, n_train: int) -> tuple[np.ndarray, np.ndarray]:
    """``(a, c)`` with ``mu = a * Y_S + c * Y_Sigma``; both 0 where ``m = 0``."""
    m = np.asarray(m, dtype=np.float64)
    am = alpha(m) - B
    a = am / (1 - B)
    c = B * (1 - B - am * m) / ((1 - B + n_train * B) * (1 - B))
    zero = m < 1
    return np.where(zero, 0.0, a), np.where(zero, 0.0, c)


def closed_mean(m, y_s, y_sigma, n_train: int) -> np.ndarray:
    """Closed-form NTK mean; ``m [R]``, ``y_s [R, k]``, ``y_sigma [k]`` -> ``[R, k]``."""
    a, c = mean_coefficients(m, n_train)
    return a[..., None] * np.asarray(y_s, dtype=np.float64) + c[..., None] * np.asarray(y_sigma)


def closed_variance(m, n_train: int, d_in: int | None = None) -> np.ndarray:
    """Closed-form NTK-GP posterior variance at ``E(x)`` with ``m`` matches (``d_in`` defaults to
    ``n_train``, the input dimension of the template-indicator encoding)."""
    m = np.asarray(m, dtype=np.float64)
    d = float(n_train if d_in is None else d_in)
    N = float(n_train)
    a, c = mean_coefficients(m, n_train)   # u = Theta^-1 Theta_Xx = a 1_S + c 1
    u_s, u_1 = a, c
    k_xx = 0.5
    norm2 = (u_s + u_1) ** 2 * m + u_1 ** 2 * (N - m)
    total = u_s * m + u_1 * N
    quad = (0.5 - B) * norm2 + B * total ** 2
    cross = (kappa(m) - B) * (u_s + u_1) * m + B * total
    var = (k_xx + quad - 2 * cross) / d
    return np.where(m < 1, 0.0, np.maximum(var, 0.0))


# ---- matrix form -----------------------------------------------------------------------------
def arccos_kernels(X1: np.ndarray, X2: np.ndarray, d_in: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """NNGP ``K`` and NTK ``Theta`` between the rows of ``X1`` and ``X2`` (float64)."""
    X1, X2 = np.asarray(X1, np.float64), np.asarray(X2, np.float64)
    d = float(X1.shape[1] if d_in is None else d_in)
    n1, n2 = np.linalg.norm(X1, axis=1), np.linalg.norm(X2, axis=1)
    dot = X1 @ X2.T
    norms = np.outer(n1, n2)
    cos = np.divide(dot, norms, out=np.zeros_like(dot), where=norms > 0)
    th = np.arccos(np.clip(cos, -1.0, 1.0))
    K = norms * (np.sin(th) + (np.pi - th) * cos) / (2 * np.pi * d)
    T = dot * (np.pi - th) / (2 * np.pi * d) + K
    return K, T


class KernelRegression:
    """``mu(x) = Theta(x, X) Theta(X, X)^-1 Y`` and the NTK-GP variance, by explicit solves."""

    def __init__(self, X: np.ndarray, Y: np.ndarray):
        self.X, self.Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
        self.Kxx, self.Txx = arccos_kernels(self.X, self.X)
        self.alpha_ = np.linalg.solve(self.Txx, self.Y)

    def mean(self, Xt: np.ndarray) -> np.ndarray:
        _, T = arccos_kernels(Xt, self.X, self.X.shape[1])
        return T @ self.alpha_

    def variance(self, Xt: np.ndarray) -> np.ndarray:
        Kt, Tt = arccos_kernels(Xt, self.X, self.X.shape[1])
        Ktt = np.array([arccos_kernels(x[None], x[None], self.X.shape[1])[0][0, 0] for x in Xt])
        U = np.linalg.solve(self.Txx, Tt.T).T        # Theta_xX Theta^-1
        return Ktt + np.einsum("ij,jk,ik->i", U, self.Kxx, U) - 2 * np.einsum("ij,ij->i", U, Kt)


def training_set(compiled: Compiled, pad: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``X = I_{N + pad}``, ``Y = [labels; 0]``: the template list as a training set."""
    N = compiled.N
    Y = np.zeros((N + pad, compiled.k))
    Y[:N] = compiled.Y.numpy()
    return np.eye(N + pad), Y


def encode(matched: np.ndarray | torch.Tensor, pad: int = 0) -> np.ndarray:
    """Template-indicator encoding ``E(x) = 1_S / sqrt(m)`` of matched sets ``[R, N]``."""
    M = np.asarray(matched, dtype=np.float64)
    m = M.sum(1, keepdims=True)
    E = np.divide(M, np.sqrt(m), out=np.zeros_like(M), where=m > 0)
    return np.pad(E, ((0, 0), (0, pad))) if pad else E


def required_size(m_max: int, writers_max: int, safety: float = 2.0) -> int:
    """Smallest ``N'`` keeping a one-target bit positive at ``m <= m_max`` matches when
    ``writers_max`` templates write it, with ``safety`` times the minimal background margin."""
    m = np.arange(2, max(m_max, 2) + 1)
    am = alpha(m) - B
    need = (B * (am * m - (1 - B)) * writers_max * safety / am - (1 - B)) / B
    return int(max(math.ceil(float(need.max())), 1))


def max_safe_matches(compiled: Compiled, pad: int = 0, tau: float = 0.0) -> int:
    """Static guarantee: the largest ``m`` such that, for every input with at most ``m`` matched
    templates, Heaviside(NTK mean) equals the ideal OR output, whatever the input.

    Zero-target bits never exceed 0 (``c(m) <= 0``); a one-target bit is set by at least one
    matched template, so its mean is at least ``a(m) + c(m) * writers_k``.  If a run never meets
    more than this many matches per node (``RunStats.max_matched``), the NTK run equals the ideal
    run step for step."""
    m = np.arange(1, compiled.N + 1)
    a, c = mean_coefficients(m, compiled.N + pad)
    ok = a + c * float(compiled.writers.max()) > tau + 1e-9
    bad = np.flatnonzero(~ok)
    return int(compiled.N if bad.size == 0 else bad[0])


class NTKPredictor(Predictor):
    """Heaviside of the NTK mean: ``H = mu > tau + eps`` (``eps`` absorbs round-off).

    ``form="closed"`` (default) costs about as much as the ideal executor: the coefficients
    ``a(m)``, ``c(m)`` are tabulated once per training-set size and the mean is computed in float32
    (zero-target bits have ``mu <= 0`` exactly, one-target bits stay far above round-off).
    ``form="matrix"`` encodes the matched sets and uses the kernel solve (float64; for checking).
    """

    name = "ntk"

    def __init__(self, pad: int = 0, tau: float = 0.0, eps: float = 1e-9, form: str = "closed"):
        if form not in ("closed", "matrix"):
            raise ValueError(f"form must be 'closed' or 'matrix', got {form!r}")
        if tau < 0:
            raise ValueError("the threshold tau must be >= 0 (zero-target bits sit at or below 0)")
        self.pad, self.tau0, self.eps, self.form = int(pad), float(tau), float(eps), form
        self._reg = None
        self._table = None

    @property
    def tau(self) -> float:
        return self.tau0 + self.eps

    @property
    def needs_matched(self) -> bool:
        return self.form == "matrix"

    def _coefficients(self, compiled):
        if self._table is None or self._table[0] is not compiled:
            n_train = compiled.N + self.pad
            a, c = mean_coefficients(np.arange(compiled.N + 1), n_train)
            ysig = torch.from_numpy(compiled.writers.astype(np.float32))
            self._table = (compiled, torch.from_numpy(a.astype(np.float32)),
                           torch.from_numpy(c.astype(np.float32)), ysig)
        return self._table[1:]

    def mean(self, compiled, matched, m, counts):
        if self.form == "closed":
            a, c, ysig = self._coefficients(compiled)
            mi = m.to(torch.long)
            return counts * a[mi][None, :] + ysig[:, None] * c[mi][None, :]
        if self._reg is None or self._reg[0] is not compiled:
            self._reg = (compiled, KernelRegression(*training_set(compiled, self.pad)))
        E = encode(matched.T.numpy(), self.pad)
        return torch.from_numpy(self._reg[1].mean(E).T.copy())
