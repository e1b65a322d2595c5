"""Ensembles of two-layer ReLU MLPs trained on the template list (the seed paper's Equation 1).

Each member is ``f(x) = W2^T relu(W1^T x / sqrt(d)) / sqrt(h)`` with ``W1 [d, h]``, ``W2 [h, k]``
drawn N(0, 1) and **no bias**: the NTK parameterisation, whose infinite-width kernel is the one
of :mod:`nar.exact.ntk` (the reference trained a standard-parameterisation MLP with biases, which
converges to the NNGP kernel instead).  All members are trained at once with batched weights
``[M, d, h]``: full-batch gradient descent with heavy-ball momentum on ``1/2 sum (f - y)^2``.
Because the training inputs are the standard basis (``X = I``), the first layer's pre-activations
on the training set are ``W1 / sqrt(d)`` themselves and the gradients are written out by hand.

Step size and momentum come from the analytic NTK Gram matrix ``((1 - b) I + b 1 1^T) / d``
(eigenvalues ``(1 - b) / d`` and ``(1 - b + N' b) / d``, condition number ``kappa``): the heavy-ball
step for those eigenvalues, damped by 0.9, and the momentum for ``4 kappa``, because a finite-width
kernel is worse conditioned than its limit (measured: 30-40 % fewer steps than the momentum for
``kappa`` on flooding, BFS and DFS; at width 512 and ``N' ~ 500`` the residual still falls slowly,
wider members converge faster).  Gradient descent and heavy ball
both converge, in the linearised regime, to the same interpolant, so the ensemble mean tends to
the NTK mean as width and ensemble size grow; its spread is the NTK-GP variance.
"""
from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..validation import InputError
from .compiler import Compiled
from .executor import Predictor, unique_columns
from .ntk import B, training_set


@dataclass
class TrainLog:
    steps: int
    seconds: float
    max_residual: float      # max |f(e_i) - y_i| over members, templates and bits at the end
    lr: float
    momentum: float


BLOCK = 64  # members per initialisation block (and per training / checkpoint chunk)


class MLPEnsemble:
    """``members`` NTK-parameterised two-layer ReLU MLPs ``R^d -> R^k`` (float32, CPU)."""

    def __init__(self, d_in: int, d_out: int, width: int = 512, members: int = 64, seed: int = 0,
                 dtype=torch.float32):
        if min(d_in, d_out, width, members) < 1:
            raise ValueError("d_in, d_out, width and members must be positive")
        self.d, self.k, self.h, self.M = int(d_in), int(d_out), int(width), int(members)
        self.seed = int(seed)
        # members are drawn in blocks of BLOCK, each from its own generator, so member i is the
        # same whatever the ensemble size (an ensemble can be grown and its training resumed)
        W1, W2 = [], []
        for b in range(0, self.M, BLOCK):
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + b // BLOCK)
            m = min(BLOCK, self.M - b)
            W1.append(torch.randn(m, self.d, self.h, generator=gen, dtype=dtype))
            W2.append(torch.randn(m, self.h, self.k, generator=gen, dtype=dtype))
        self.W1, self.W2 = torch.cat(W1), torch.cat(W2)
        self.log: TrainLog | None = None

    # ---- training on X = I ----------------------------------------------------------------------
    def fit_identity(self, Y: np.ndarray, steps: int = 400, tol: float = 1e-4, chunk: int = BLOCK,
                     lr: float | None = None, momentum: float | None = None, start: int = 0,
                     after_chunk=None) -> TrainLog:
        """Train members ``start..M`` on inputs ``e_1..e_d`` with targets ``Y [d, k]`` (``d = d_in``),
        ``chunk`` members at a time; ``after_chunk(trained, log)`` is called after each chunk."""
        Y = torch.as_tensor(np.asarray(Y), dtype=self.W1.dtype)
        if Y.shape != (self.d, self.k):
            raise ValueError(f"targets must be [{self.d}, {self.k}], got {tuple(Y.shape)}")
        lam_min, lam_max = (1 - B) / self.d, (1 - B + self.d * B) / self.d
        if lr is None:
            lr = 0.9 * 4.0 / (math.sqrt(lam_max) + math.sqrt(lam_min)) ** 2
        if momentum is None:
            kappa = 4 * lam_max / lam_min
            momentum = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
        t0, worst, done = time.perf_counter(), 0.0, 0
        for lo in range(int(start), self.M, chunk):
            W1, W2 = self.W1[lo: lo + chunk], self.W2[lo: lo + chunk]
            res, n = self._fit_chunk(W1, W2, Y, steps, tol, lr, momentum)
            worst, done = max(worst, res), max(done, n)
            if after_chunk is not None:
                after_chunk(min(lo + chunk, self.M), TrainLog(done, time.perf_counter() - t0, worst, lr, momentum))
        self.log = TrainLog(done, time.perf_counter() - t0, worst, lr, momentum)
        return self.log

    def _fit_chunk(self, W1, W2, Y, steps, tol, lr, mom):
        sd, sh = 1 / math.sqrt(self.d), 1 / math.sqrt(self.h)
        v1, v2 = torch.zeros_like(W1), torch.zeros_like(W2)
        res = float("inf")
        for step in range(1, steps + 1):
            pre = W1 * sd                                    # [m, d, h]: pre-activations of e_i
            act = pre.clamp(min=0)
            r = torch.bmm(act, W2) * sh - Y                  # residuals [m, d, k]
            if step % 10 == 0 or step == steps:
                res = float(r.abs().max())
                if res < tol:
                    break
            g2 = torch.bmm(act.transpose(1, 2), r) * sh      # [m, h, k]
            g1 = torch.bmm(r, W2.transpose(1, 2)) * sh * (pre > 0) * sd  # [m, d, h]
            v1.mul_(mom).add_(g1, alpha=-lr)
            v2.mul_(mom).add_(g2, alpha=-lr)
            W1.add_(v1)
            W2.add_(v2)
        return res, step

    def subset(self, members: int) -> "MLPEnsemble":
        """The first ``members`` members (shared weights, no copy)."""
        if not 1 <= members <= self.M:
            raise ValueError(f"members must be in [1, {self.M}], got {members}")
        out = object.__new__(MLPEnsemble)
        out.__dict__.update(self.__dict__)
        out.M, out.W1, out.W2 = int(members), self.W1[:members], self.W2[:members]
        return out

    # ---- prediction ---------------------------------------------------------------------------
    def member_outputs(self, E: np.ndarray | torch.Tensor, lo: int = 0, hi: int | None = None) -> torch.Tensor:
        """Outputs ``[m, n, k]`` of members ``lo:hi`` on encoded inputs ``E [n, d]``."""
        E = torch.as_tensor(np.asarray(E), dtype=self.W1.dtype)
        W1, W2 = self.W1[lo:hi], self.W2[lo:hi]
        m = W1.shape[0]
        pre = (E @ W1.permute(1, 0, 2).reshape(self.d, m * self.h)).reshape(-1, m, self.h)
        act = pre.permute(1, 0, 2).clamp(min=0) / math.sqrt(self.d)
        return torch.bmm(act, W2) / math.sqrt(self.h)

    def mean(self, E, chunk: int = 64) -> torch.Tensor:
        """Ensemble mean ``[n, k]``."""
        total = None
        for lo in range(0, self.M, chunk):
            s = self.member_outputs(E, lo, lo + chunk).sum(0)
            total = s if total is None else total + s
        return total / self.M

    def prefix_means(self, E, sizes: list[int], chunk: int = 64) -> dict[int, torch.Tensor]:
        """Means of the first ``s`` members for every ``s`` in ``sizes`` (one pass over members)."""
        sizes = sorted(set(int(s) for s in sizes if 1 <= s <= self.M))
        out, running = {}, None
        for lo in range(0, self.M, chunk):
            outs = self.member_outputs(E, lo, lo + chunk)
            cum = outs.cumsum(0)
            if running is not None:
                cum += running
            for s in sizes:
                if lo < s <= lo + outs.shape[0]:
                    out[s] = cum[s - lo - 1] / s
            running = cum[-1]
        return out


def train_for(compiled: Compiled, width: int = 512, members: int = 64, pad: int = 0, seed: int = 0,
              steps: int = 400, tol: float = 1e-4, chunk: int = 64) -> MLPEnsemble:
    """An ensemble trained on ``compiled``'s template list (plus ``pad`` idle samples)."""
    X, Y = training_set(compiled, pad)
    ens = MLPEnsemble(X.shape[1], compiled.k, width, members, seed)
    ens.fit_identity(Y, steps=steps, tol=tol, chunk=chunk)
    return ens


def _fingerprint(compiled: Compiled, pad: int) -> str:
    """Hash of the training set (labels and padding): a cache is only reused for the same task."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(compiled.Y.numpy().astype(np.uint8)).tobytes())
    h.update(f"{compiled.N},{compiled.k},{int(pad)}".encode())
    return h.hexdigest()[:16]


def train_cached(compiled: Compiled, path, width: int = 512, members: int = 64, pad: int = 0,
                 seed: int = 0, steps: int = 400, tol: float = 1e-4, max_seconds: float | None = None,
                 progress=None) -> tuple[MLPEnsemble, dict]:
    """:func:`train_for` with a checkpoint at ``path``: after every chunk of :data:`BLOCK` members
    the trained members are written atomically (temp file + ``os.replace``, under
    :func:`nar.locking.locked`), so an interrupted or budget-limited run resumes where it stopped
    and a later call with more ``members`` only trains the new ones.  A checkpoint made for another
    training set, width, seed or schedule is an :class:`InputError`.

    ``max_seconds``: stop starting new chunks after this much training time (the returned
    ensemble then holds the members trained so far).  Returns ``(ensemble, info)``; ``info`` has
    ``trained`` (members), ``seconds`` and ``cpu_seconds`` (wall and process CPU training time
    summed over all sessions), ``max_residual`` and ``resumed_from``."""
    from ..locking import locked

    path = Path(path)
    X, Y = training_set(compiled, pad)
    meta = {"fingerprint": _fingerprint(compiled, pad), "d": int(X.shape[1]), "k": int(compiled.k),
            "width": int(width), "seed": int(seed), "steps": int(steps), "tol": float(tol)}
    ens = MLPEnsemble(X.shape[1], compiled.k, width, members, seed)
    done, seconds, residual, cpu = 0, 0.0, 0.0, 0.0
    if path.exists():
        saved = torch.load(path, map_location="cpu", weights_only=True)
        other = {key: saved["meta"].get(key) for key in meta}
        if other != meta:
            diff = {key: (other[key], meta[key]) for key in meta if other[key] != meta[key]}
            raise InputError(f"ensemble checkpoint {path} was made for a different training run "
                             f"(saved vs asked: {diff}); delete it or pass another path")
        done = min(int(saved["trained"]), ens.M)
        ens.W1[:done], ens.W2[:done] = saved["W1"][:done], saved["W2"][:done]
        seconds, residual = float(saved["seconds"]), float(saved["max_residual"])
        cpu = float(saved.get("cpu_seconds", 0.0))
    resumed_from = done
    path.parent.mkdir(parents=True, exist_ok=True)
    t0, c0 = time.perf_counter(), time.process_time()

    def save(trained, log):
        nonlocal seconds, residual, steps_done
        steps_done = max(steps_done, log.steps)
        seconds_now = seconds + (time.perf_counter() - t0)
        cpu_now = cpu + (time.process_time() - c0)
        residual = max(residual, log.max_residual)
        with locked(path):
            old = torch.load(path, map_location="cpu", weights_only=True) if path.exists() else None
            keep = max(trained, int(old["trained"]) if old else 0)
            W1 = ens.W1[:trained] if keep == trained else torch.cat([ens.W1[:trained], old["W1"][trained:keep]])
            W2 = ens.W2[:trained] if keep == trained else torch.cat([ens.W2[:trained], old["W2"][trained:keep]])
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            torch.save({"meta": meta, "trained": keep, "W1": W1.clone(), "W2": W2.clone(),
                        "seconds": seconds_now, "cpu_seconds": cpu_now, "max_residual": residual}, tmp)
            os.replace(tmp, path)
        if progress is not None:
            progress(trained, seconds_now, residual)
        if max_seconds is not None and time.perf_counter() - t0 >= max_seconds:
            raise _Budget(trained)

    trained, steps_done = done, 0
    if done < ens.M:
        try:
            ens.fit_identity(Y, steps=steps, tol=tol, start=done, after_chunk=save)
            trained = ens.M
        except _Budget as stop:
            trained = stop.trained
    if trained < ens.M:
        ens = ens.subset(trained)
    if trained > done:
        seconds += time.perf_counter() - t0
        cpu += time.process_time() - c0
    ens.log = TrainLog(steps_done, seconds, residual, float('nan'), float('nan'))
    return ens, {"trained": trained, "seconds": seconds, "cpu_seconds": cpu, "max_residual": residual,
                 "resumed_from": resumed_from}


class _Budget(Exception):
    def __init__(self, trained: int):
        super().__init__(trained)
        self.trained = trained


class EnsemblePredictor(Predictor):
    """Heaviside of the ensemble mean (Equation 2), evaluated once per distinct matched set."""

    name = "ensemble"

    def __init__(self, ensemble: MLPEnsemble, pad: int = 0, tau: float = 0.0):
        self.ens, self.pad, self.tau = ensemble, int(pad), float(tau)
        self._cache: dict[bytes, np.ndarray] = {}

    def mean(self, compiled, matched, m, counts):
        N, R = matched.shape
        rep, inverse = unique_columns(matched)
        Mu = matched[:, rep].T.numpy().astype(bool)            # [U, N]
        keys = [row.tobytes() for row in np.packbits(Mu, axis=1)]
        todo = [i for i, key in enumerate(keys) if key not in self._cache]
        if todo:
            sub = Mu[todo].astype(np.float32)
            mm = sub.sum(1, keepdims=True)
            E = np.divide(sub, np.sqrt(mm), out=np.zeros_like(sub), where=mm > 0)
            E = np.pad(E, ((0, 0), (0, self.ens.d - N)))
            vals = self.ens.mean(E).numpy()
            for i, v in zip(todo, vals):
                self._cache[keys[i]] = v
        U = np.stack([self._cache[key] for key in keys])      # [U, k]
        return torch.from_numpy(U.T.copy())[:, inverse]
