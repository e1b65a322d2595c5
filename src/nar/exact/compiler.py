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

from dataclasses import dataclass, field, replace
import warnings

import numpy as np
import torch



def to_csr(indices: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """A CSR matrix from COO triplets (summing duplicates), without torch's beta-state warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        coo = torch.sparse_coo_tensor(indices, values, shape, check_invariants=False).coalesce()
        return coo.to_sparse_csr()

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
    _active: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def N(self) -> int:
        return int(self.need.shape[0])

    @property
    def layout(self):
        return self.program.layout

    # Everything runs on transposed states ``XT [k, R]`` (one column per node), so both products
    # are sparse @ dense with no transposes: ``score = W @ XT`` and ``counts = Y^T @ matched``.
    def match_t(self, XT: torch.Tensor) -> torch.Tensor:
        """Matched-template indicator ``[N, R]`` (float32 0/1) of 0/1 states ``XT [k, R]``."""
        score = torch.sparse.mm(self.W, XT.to(torch.float32).contiguous())
        return (score == self.need[:, None]).to(torch.float32)

    def counts_t(self, MT: torch.Tensor) -> torch.Tensor:
        """``Y_S``: how many matched templates set each bit, ``[k, R]`` (float32)."""
        return torch.sparse.mm(self.Yt, MT.to(torch.float32).contiguous())

    def match_exact_t(self, XT: torch.Tensor) -> torch.Tensor:
        """Matching for real-valued states (ablations): a literal holds only on an exact 0 or 1."""
        XT = XT.to(torch.float64)
        W = self.W.to_dense().to(torch.float64)
        score = W.clamp(min=0) @ (XT == 1).to(torch.float64) + (-W).clamp(min=0) @ (XT == 0).to(torch.float64)
        return (score == torch.from_numpy(self.literals).to(torch.float64)[:, None]).to(torch.float32)

    def active(self, XT: torch.Tensor) -> tuple["Compiled", torch.Tensor | None]:
        """The templates that can match some column of the 0/1 states ``XT [k, R]``: a template
        with a literal that contradicts a bit shared by every column (a global clock phase, say)
        matches nothing this step.  Returns ``(sub, index)``: a :class:`Compiled` of those
        templates only (same ``k``, ``writers`` of the whole program) and their indices, or
        ``(self, None)`` when all can match.  Cached per set of excluded templates, so a periodic
        program builds each restriction once."""
        lo, hi = XT.amin(1), XT.amax(1)
        shared = (lo == hi).numpy()
        value = lo.numpy() > 0.5
        if "coo" not in self._active:
            coo = self.W.to_sparse_coo().coalesce()
            rows, cols = coo.indices().numpy()
            self._active["coo"] = (rows, cols, coo.values().numpy() > 0, coo.values())
        rows, cols, want, vals = self._active["coo"]
        dead = np.bincount(rows, weights=shared[cols] & (value[cols] != want), minlength=self.N) > 0
        if not dead.any():
            return self, None
        key = np.packbits(dead).tobytes()
        if key not in self._active:
            if len(self._active) > 256:  # a long run with ever new patterns: start over
                self._active = {"coo": self._active["coo"]}
            index = torch.from_numpy(np.flatnonzero(~dead))
            keep = ~dead[rows]
            remap = np.cumsum(~dead) - 1
            W = to_csr(torch.from_numpy(np.stack([remap[rows[keep]], cols[keep]])),
                       vals[torch.from_numpy(keep)], (len(index), self.k))
            Y = self.Y.index_select(0, index)
            yr, yc = torch.nonzero(Y, as_tuple=True)
            Yt = to_csr(torch.stack([yc, yr]), torch.ones(len(yr)), (self.k, len(index)))
            sub = replace(self, W=W, need=self.need.index_select(0, index), Y=Y, Yt=Yt,
                          literals=self.literals[index.numpy()], _active={})
            self._active[key] = (sub, index)
        return self._active[key]

    # row-major conveniences (one row per node)
    def match(self, X: torch.Tensor) -> torch.Tensor:
        """Matched-template indicator ``[R, N]`` (float32 0/1) of 0/1 states ``X [R, k]``."""
        return self.match_t(X.T).T

    def label_counts(self, matched: torch.Tensor) -> torch.Tensor:
        """``matched @ Y`` ``[R, k]``."""
        return self.counts_t(matched.T).T

    def ideal(self, X: torch.Tensor) -> torch.Tensor:
        """One ideal local step: OR of the labels of the matched templates, ``[R, k]`` bool."""
        return self.label_counts(self.match(X)) > 0

    def report(self) -> dict:
        """Template count, state size, communication size and the worst writers per output bit."""
        names = np.empty(self.k, dtype=object)
        for name, shape, _, off in self.layout.describe():
            size = int(np.prod(shape)) if shape else 1
            names[off: off + size] = name
        per_var = {}
        for j in range(self.k):
            per_var[names[j]] = max(per_var.get(names[j], 0), int(self.writers[j]))
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
            "writers_per_var": per_var,
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
    W = to_csr(torch.tensor([rows, cols]), torch.tensor(vals, dtype=torch.float32), (N, k))
    Y = torch.zeros(N, k, dtype=torch.float32)
    if yr:
        Y[torch.tensor(yr), torch.tensor(yc)] = 1.0
    writers = Y.sum(0).numpy().astype(np.int64)
    return Compiled(program=program, k=k, comm_start=layout.comm_start, W=W,
                    need=torch.from_numpy(need), Y=Y, Yt=to_csr(torch.tensor([yc, yr], dtype=torch.long).reshape(2, -1),
                                                      torch.ones(len(yr)), (k, N)),
                    writers=writers, literals=literals)
