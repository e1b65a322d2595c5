"""Templates (instructions) and the program that holds them.

A :class:`Template` is a partial assignment of bits -- required ones and required zeros -- and an
output label, the set of bits it sets.  One step of the graph template-matching framework (seed
paper, Algorithm 2/3) outputs, for every node, the OR of the labels of all templates that match its
state; the communication part of that output is then summed over the closed neighbourhood.

A :class:`Program` is a :class:`~nar.exact.layout.Layout` plus its template list.  Programs are
written with :meth:`Program.rule` and the gadgets of :mod:`nar.exact.gadgets`.
"""
from __future__ import annotations

from dataclasses import dataclass

from .layout import Bit, Layout, Var


@dataclass(frozen=True)
class Template:
    """``when`` (literals, all required) -> ``then`` (bits set to 1; empty = an all-zero label)."""

    when: tuple[Bit, ...]
    then: tuple[Bit, ...]
    tag: str = ""

    def __repr__(self) -> str:
        cond = " & ".join(map(repr, self.when)) or "true"
        out = ", ".join(map(repr, self.then)) or "0"
        return f"[{self.tag}] {cond} -> {out}"


class Program:
    """A named layout and template list; build it, then :func:`nar.exact.compiler.compile_program`."""

    def __init__(self, name: str, **params):
        self.name = name
        self.params = dict(params)
        self.layout = Layout()
        self.templates: list[Template] = []
        self._tag = ""

    # ---- declaration -------------------------------------------------------------------------
    def var(self, name: str, shape: int | tuple[int, ...] = (), comm: bool = False) -> Var:
        return self.layout.add(name, shape, comm)

    def tag(self, text: str) -> "Program":
        """Label the templates added next (shows up in reports and collision tables)."""
        self._tag = text
        return self

    def rule(self, when, then, tag: str | None = None) -> Template:
        """Add ``when -> then``.  ``when``/``then`` are Bits or lists of Bits (scalar Vars allowed).

        A template with no literal would match every state, and a contradictory one (a bit
        required both 0 and 1) none: both are rejected, as is a label that sets a bit to 0
        (labels only set ones; an empty label is the all-zero output).
        """
        when = tuple(_as_bit(b) for b in _as_list(when))
        then = tuple(_as_bit(b) for b in _as_list(then))
        if not when:
            raise ValueError("a template needs at least one literal")
        seen: dict[tuple[str, int], bool] = {}
        for b in when:
            key = (b.var.name, b.index)
            if seen.get(key, b.value) != b.value:
                raise ValueError(f"contradictory template: {b!r} and {~b!r}")
            seen[key] = b.value
        if any(not b.value for b in then):
            raise ValueError("labels only set bits to 1 (an empty label is the all-zero output)")
        when = tuple(dict.fromkeys(when))
        then = tuple(dict.fromkeys(then))
        t = Template(when, then, self._tag if tag is None else tag)
        self.templates.append(t)
        return t

    def __len__(self) -> int:
        return len(self.templates)

    def __repr__(self) -> str:
        return (f"Program({self.name!r}, {self.params}, state={self.layout.size}, "
                f"templates={len(self.templates)})")


def _as_list(x) -> list:
    if isinstance(x, (list, tuple)):
        out = []
        for item in x:
            out.extend(_as_list(item))
        return out
    return [x]


def _as_bit(b) -> Bit:
    if isinstance(b, Bit):
        return b
    if isinstance(b, Var):
        return b.bit()
    raise TypeError(f"expected a Bit (or a scalar Var), got {type(b).__name__}")
