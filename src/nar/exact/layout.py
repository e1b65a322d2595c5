"""Bit layout of a node state: named binary variables, a computation part and a communication part.

A :class:`Layout` is a list of :class:`Var` (a name, a shape, local or communication).  The flat
state vector puts every local variable first, in declaration order, then every communication
variable, so the communication part is one contiguous suffix ``[comm_start, size)``: the part that
Equation 2 of the seed paper sums over a node's closed neighbourhood.  Multi-dimensional
variables are flattened in C order.

A :class:`Bit` names one bit of one variable and a required value; ``~bit`` flips the value, so a
template's condition reads ``[msg[i], ~flag]`` ("msg[i] is 1 and flag is 0").
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Var:
    """A named block of bits; ``var[i, j]`` is a :class:`Bit`, ``var.bits()`` all of them in C order."""

    name: str
    shape: tuple[int, ...]
    comm: bool
    layout: "Layout" = field(repr=False)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    def __getitem__(self, idx) -> "Bit":
        idx = idx if isinstance(idx, tuple) else (idx,)
        if len(idx) != len(self.shape):
            raise IndexError(f"{self.name} has shape {self.shape}, got index {idx}")
        for i, n in zip(idx, self.shape):
            if not 0 <= i < n:
                raise IndexError(f"{self.name}{list(idx)} out of range for shape {self.shape}")
        flat = int(np.ravel_multi_index(idx, self.shape)) if self.shape else 0
        return Bit(self, flat, True)

    def bit(self) -> "Bit":
        """The only bit of a scalar variable."""
        if self.shape:
            raise IndexError(f"{self.name} is not a scalar (shape {self.shape})")
        return Bit(self, 0, True)

    def __invert__(self) -> "Bit":
        """``~flag`` for a scalar variable: the literal "flag is 0"."""
        return ~self.bit()

    def bits(self) -> list["Bit"]:
        return [Bit(self, i, True) for i in range(self.size)]

    @property
    def offset(self) -> int:
        return self.layout.offset(self)

    def columns(self) -> np.ndarray:
        """Flat state columns of this variable, shaped like the variable."""
        return (self.offset + np.arange(self.size)).reshape(self.shape)


@dataclass(frozen=True)
class Bit:
    """Bit ``index`` (flat, within ``var``) required to equal ``value`` (a literal)."""

    var: Var
    index: int
    value: bool = True

    def __invert__(self) -> "Bit":
        return Bit(self.var, self.index, not self.value)

    @property
    def column(self) -> int:
        return self.var.offset + self.index

    def __repr__(self) -> str:
        idx = np.unravel_index(self.index, self.var.shape) if self.var.shape else ()
        text = self.var.name + ("[" + ",".join(str(int(i)) for i in idx) + "]" if idx else "")
        return text if self.value else "~" + text


class Layout:
    """Ordered named variables; offsets are fixed by :meth:`freeze` (local ones first)."""

    def __init__(self):
        self.vars: dict[str, Var] = {}
        self._offsets: dict[str, int] | None = None

    def add(self, name: str, shape: int | tuple[int, ...] = (), comm: bool = False) -> Var:
        if self._offsets is not None:
            raise RuntimeError("layout is frozen; declare every variable before using offsets")
        if name in self.vars:
            raise ValueError(f"variable {name!r} declared twice")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if any(s < 1 for s in shape):
            raise ValueError(f"variable {name!r} needs a positive shape, got {shape}")
        var = Var(name, shape, comm, self)
        self.vars[name] = var
        return var

    def freeze(self) -> None:
        if self._offsets is None:
            offsets, pos = {}, 0
            for comm in (False, True):
                for v in self.vars.values():
                    if v.comm == comm:
                        offsets[v.name] = pos
                        pos += v.size
            self._offsets = offsets

    def offset(self, var: Var) -> int:
        self.freeze()
        return self._offsets[var.name]

    @property
    def size(self) -> int:
        return sum(v.size for v in self.vars.values())

    @property
    def comm_start(self) -> int:
        """First column of the communication part (``size`` when there is none)."""
        return sum(v.size for v in self.vars.values() if not v.comm)

    def __getitem__(self, name: str) -> Var:
        return self.vars[name]

    def get(self, state: np.ndarray, name: str) -> np.ndarray:
        """Values of variable ``name`` in states ``[..., size]`` -> ``[..., *shape]``."""
        var = self.vars[name]
        cols = var.columns().reshape(-1)
        return np.asarray(state)[..., cols].reshape(*np.shape(state)[:-1], *var.shape)

    def set(self, state: np.ndarray, name: str, value, rows=None) -> None:
        """Write ``value`` (broadcast to ``[len(rows), *shape]``) into variable ``name`` of ``state``
        (all rows, or the integer array ``rows``)."""
        var = self.vars[name]
        cols = var.columns().reshape(-1)
        rows = np.arange(state.shape[0]) if rows is None else np.asarray(rows).reshape(-1)
        value = np.broadcast_to(np.asarray(value), (len(rows),) + var.shape)
        state[np.ix_(rows, cols)] = value.reshape(len(rows), -1)

    def describe(self) -> list[tuple[str, tuple[int, ...], str, int]]:
        """``(name, shape, 'local'|'comm', offset)`` per variable, in state order."""
        self.freeze()
        rows = [(v.name, v.shape, "comm" if v.comm else "local", self._offsets[v.name])
                for v in self.vars.values()]
        return sorted(rows, key=lambda r: r[3])


def to_bits(values, width: int) -> np.ndarray:
    """Little-endian bits of non-negative integers: ``[...] -> [..., width]`` (uint8)."""
    v = np.asarray(values, dtype=np.int64)
    return ((v[..., None] >> np.arange(width)) & 1).astype(np.uint8)


def from_bits(bits) -> np.ndarray:
    """Inverse of :func:`to_bits`: ``[..., width] -> [...]`` (int64)."""
    b = np.asarray(bits).astype(np.int64)
    return (b << np.arange(b.shape[-1])).sum(axis=-1)
