"""Compile a program's templates into sparse masks, and match states against them in one product.

For ``N`` templates over a ``k``-bit state:

* ``W`` ``[N, k]``: +1 where a template requires a 1, -1 where it requires a 0.  For a 0/1 state
  ``x``, ``(W x)_i`` equals the number of required ones of template ``i`` exactly when every
  literal holds, so matching all rows of a batch ``X [R, k]`` is one sparse product:
  ``matched = (X W^T == need)``.  (A value other than 0 or 1 matches neither kind of literal, as
  exact comparison would; the executors never produce one.)
* ``Y`` ``[N, k]``: the labels.  The ideal step is ``OR`` of matched labels: ``matched @ Y > 0``.

:class:`Compiled` also reports the static facts the NTK analysis needs: the template count, the
state size and, per output bit, how many templates write it (``writers``, the column sums
``Y_Sigma`` of the seed paper; the paper's "collisions" are ``writers - 1``).
"""
from __future__ import annotations

from dataclasses import dataclass
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")

from .templates import Program


@dataclass
class Compiled:
    """Matching masks and labels of a program, as torch tensors (CPU)."""

    program: Program
    k: int                      # state size
    comm_start: int             # first communication column
    W: torch.Tensor             # [N, k] sparse CSR, +1 / -1 literals (float32)
    need: torch.Tensor          # [N] number of required ones (float32)
    Y: torch.Tensor             # [N, k] dense labels (float32, 0/1)
    Yt: torch.Tensor            # [k, N] sparse CSR labels (for R x N @ N x k as a sparse product)
    writers: np.ndarray         # [k] templates writing each bit (Y_Sigma)
    literals: np.ndarray        # [N] literal count per template

    @property
    def N(self) -> int:
        return int(self.need.shape[0])

    @property
    def layout(self):
        return self.program.layout

    def match(self, X: torch.Tensor) -> torch.Tensor:
        """Matched-template indicator ``[R, N]`` (bool) of 0/1 states ``X [R, k]``."""
        X = X.to(torch.float32)
        score = torch.sparse.mm(self.W, X.T.contiguous()).T  # [R, N]
        return score == self.need

    def match_exact(self, X: torch.Tensor) -> torch.Tensor:
        """Matching for real-valued states (ablations): a literal holds only on an exact 0 or 1."""
        X = X.to(torch.float64)
        pos = self.W.to(torch.float64).to_dense().clamp(min=0)
        neg = (-self.W.to(torch.float64).to_dense()).clamp(min=0)
        score = (X == 1).to(torch.float64) @ pos.T + (X == 0).to(torch.float64) @ neg.T
        return score == torch.from_numpy(self.literals).to(torch.float64)

    def label_counts(self, matched: torch.Tensor) -> torch.Tensor:
        """``Y_S = matched @ Y``: how many matched templates set each bit, ``[R, k]`` (float32)."""
        return torch.sparse.mm(self.Yt, matched.to(torch.float32).T.contiguous()).T

    def ideal(self, X: torch.Tensor) -> torch.Tensor:
        """One ideal local step: OR of the labels of the matched templates, ``[R, k]`` bool."""
        return self.label_counts(self.match(X)) > 0

    def report(self) -> dict:
        """Template count, state size, communication size and the worst writers per output bit."""
        names = np.empty(self.k, dtype=object)
        for name, shape, _, off in self.layout.describe():
            size = int(np.prod(shape)) if shape else 1
            names[off: off + size] = name
        worst = int(self.writers.max()) if self.k else 0
        worst_vars = sorted({names[j] for j in np.flatnonzero(self.writers == worst)})
        return {
            "program": self.program.name,
            "params": dict(self.program.params),
            "templates": self.N,
            "state_bits": self.k,
            "comm_bits": self.k - self.comm_start,
            "max_writers": worst,
            "max_collisions": max(worst - 1, 0),
            "max_writers_vars": worst_vars,
            "max_literals": int(self.literals.max()) if self.N else 0,
            "zero_label_templates": int((self.Y.sum(1) == 0).sum().item()),
        }


def compile_program(program: Program) -> Compiled:
    """Masks and labels of ``program`` (its layout is frozen here)."""
    layout = program.layout
    layout.freeze()
    k, N = layout.size, len(program.templates)
    if N == 0:
        raise ValueError(f"program {program.name!r} has no templates")
    rows, cols, vals, need = [], [], [], np.zeros(N, dtype=np.float32)
    yr, yc = [], []
    literals = np.zeros(N, dtype=np.int64)
    for i, t in enumerate(program.templates):
        for b in t.when:
            rows.append(i)
            cols.append(b.column)
            vals.append(1.0 if b.value else -1.0)
            need[i] += b.value
        literals[i] = len(t.when)
        for b in t.then:
            yr.append(i)
            yc.append(b.column)
    W = torch.sparse_coo_tensor(torch.tensor([rows, cols]), torch.tensor(vals, dtype=torch.float32),
                                (N, k), check_invariants=False).coalesce().to_sparse_csr()
    Y = torch.zeros(N, k, dtype=torch.float32)
    if yr:
        Y[torch.tensor(yr), torch.tensor(yc)] = 1.0
    writers = Y.sum(0).numpy().astype(np.int64)
    return Compiled(program=program, k=k, comm_start=layout.comm_start, W=W,
                    need=torch.from_numpy(need), Y=Y, Yt=Y.T.contiguous().to_sparse_csr(),
                    writers=writers, literals=literals)
