"""Gadgets: small template families that programs are assembled from.

Every gadget adds templates to a :class:`~nar.exact.templates.Program` and documents its timing
(how many steps it takes and which bits must be present when).  Conventions:

* ``when`` is an extra conjunction of literals (a clock phase, a guard) added to every template;
* values are little-endian bit vectors (``x[0]`` is the least significant bit);
* a *transient* bit exists for one step only (no template keeps it); *persistent* bits are kept
  by :func:`persist`.

The writers per output bit (the paper's collisions + 1) are given for each gadget, because the NTK
predictor is exact only while (matched templates) x (writers of a bit) stays well below the
training-set size (see :mod:`nar.exact.ntk`).
"""
from __future__ import annotations

from .layout import Bit, Var
from .templates import Program


def _lits(x) -> list[Bit]:
    if x is None:
        return []
    if isinstance(x, Var):
        return [x.bit()]
    if isinstance(x, Bit):
        return [x]
    out = []
    for item in x:
        out.extend(_lits(item))
    return out


def persist(p: Program, bits, when=None, unless=None) -> None:
    """Keep each 1 bit: ``x & when & ~u -> x`` for each ``u`` in ``unless`` (one template each;
    with no ``unless``, one template ``x & when -> x``).  Writers: ``len(unless)`` or 1 per bit."""
    when, unless = _lits(when), _lits(unless)
    for x in _lits(bits):
        if unless:
            for u in unless:
                p.rule([x, *when, ~u], [x])
        else:
            p.rule([x, *when], [x])


def latch(p: Program, flag, set_when, clear_when=None) -> None:
    """Flag set by the conjunction ``set_when`` and kept until the literal ``clear_when``."""
    p.rule(_lits(set_when), _lits(flag))
    persist(p, flag, unless=clear_when)


def clock(p: Program, name: str, period: int) -> Var:
    """A one-hot ring counter ``name[period]``: phase ``i`` is followed by ``i + 1 mod period``.
    Start it with phase 0 set; every node runs the same clock, so phases are global."""
    clk = p.var(name, period)
    for i in range(period):
        p.rule([clk[i]], [clk[(i + 1) % period]], tag="clock")
    return clk


def copy(p: Program, src, dst, when=None) -> None:
    """``dst_i |= src_i`` (one step, one template per bit; writers +1)."""
    src, dst, when = _lits(src), _lits(dst), _lits(when)
    if len(src) != len(dst):
        raise ValueError(f"copy needs equal widths, got {len(src)} and {len(dst)}")
    for s, d in zip(src, dst):
        p.rule([s, *when], [d])


def increment(p: Program, src, dst, when=None) -> None:
    """``dst = src + 1 mod 2^l`` in one step (a counter).  ``dst`` may be ``src`` (in place) when
    nothing else keeps ``src`` during that step.

    Bit ``j`` of ``src + 1`` is 1 iff ``src_j = 1`` and some lower bit is 0, or ``src_j = 0`` and
    all lower bits are 1.  The first case is split by the position ``i`` of the lowest zero
    (``src_i = 0`` and ``src_0..src_{i-1} = 1``), so at most one template per output bit matches.
    Writers of ``dst_j``: ``j + 1``.
    """
    src, dst, when = _lits(src), _lits(dst), _lits(when)
    for j in range(len(src)):
        for i in range(j):
            p.rule([src[j], ~src[i], *src[:i], *when], [dst[j]])
        p.rule([~src[j], *src[:j], *when], [dst[j]])


def ripple_add_bit(p: Program, a: Bit, b: Bit, c_in: Bit | None, s: Bit, c_out: Bit, when=None) -> None:
    """One full-adder cell of a ripple-carry adder: ``s = a ^ b ^ c_in``, ``c_out = maj(a, b, c_in)``
    (``c_in=None``: a half adder).  Writers: ``s`` 4 (2), ``c_out`` 3 (1)."""
    when = _lits(when)
    if c_in is None:
        p.rule([a, ~b, *when], [s])
        p.rule([~a, b, *when], [s])
        p.rule([a, b, *when], [c_out])
        return
    for x, y, z in ((a, ~b, ~c_in), (~a, b, ~c_in), (~a, ~b, c_in), (a, b, c_in)):
        p.rule([x, y, z, *when], [s])
    for x, y in ((a, b), (a, c_in), (b, c_in)):
        p.rule([x, y, *when], [c_out])


def ripple_add(p: Program, a, b, s, carry, phases) -> None:
    """Bit-serial ``s = a + b``: bit ``j`` is added while the literal ``phases[j]`` holds, so the
    sum takes ``l`` steps.  ``carry`` has ``l + 1`` bits (``carry[l]`` = overflow); the caller keeps
    ``a``, ``b``, ``s`` and ``carry`` for the duration (e.g. with :func:`persist`)."""
    a, b, s, carry, phases = _lits(a), _lits(b), _lits(s), _lits(carry), _lits(phases)
    for j in range(len(a)):
        ripple_add_bit(p, a[j], b[j], carry[j] if j else None, s[j], carry[j + 1], when=[phases[j]])


def compare(p: Program, x, y, lt: Bit, gt: Bit, undecided: Bit, phases) -> None:
    """Bit-serial comparison from the most significant bit: while ``phases[j]`` holds, an
    ``undecided`` pair decides on bit ``j`` (``x_j > y_j`` sets ``gt``, ``x_j < y_j`` sets ``lt``)
    or stays undecided.  Start with ``undecided`` set at the first phase; after the last phase
    ``undecided`` means equal.  The caller keeps ``lt``/``gt`` (persistence).  Writers: ``lt``/``gt``
    ``l``, ``undecided`` ``2 l``."""
    x, y, phases = _lits(x), _lits(y), _lits(phases)
    l = len(x)
    for step, j in enumerate(range(l - 1, -1, -1)):
        ph = phases[step]
        p.rule([undecided, x[j], ~y[j], ph], [gt])
        p.rule([undecided, ~x[j], y[j], ph], [lt])
        p.rule([undecided, x[j], y[j], ph], [undecided])
        p.rule([undecided, ~x[j], ~y[j], ph], [undecided])


def equality(p: Program, x, y, differ: Bit, equal: Bit, when=None, then_when=None) -> None:
    """Two steps: ``differ = OR_j (x_j xor y_j)`` under ``when``; then ``equal = ~differ`` under
    ``then_when`` (the next step's guard).  Writers: ``differ`` ``2 l``, ``equal`` 1."""
    x, y, when, then_when = _lits(x), _lits(y), _lits(when), _lits(then_when)
    for a, b in zip(x, y):
        p.rule([a, ~b, *when], [differ])
        p.rule([~a, b, *when], [differ])
    p.rule([*then_when, ~differ], [equal])


def delay_chain(p: Program, inputs, chain, out: Bit) -> None:
    """The cascade of the seed paper (Appendix C.3): ``inputs[s] -> chain[s]``, ``chain[s] ->
    chain[s + 1]`` and ``chain[last] -> out``.  An OR of ``S`` inputs reaches ``out`` within ``S``
    steps while every bit has at most 2 writers (instead of ``S`` writers on ``out``)."""
    inputs, chain = _lits(inputs), _lits(chain)
    if len(inputs) != len(chain):
        raise ValueError("one chain bit per input")
    for i, (x, c) in enumerate(zip(inputs, chain)):
        p.rule([x], [c])
        p.rule([c], [chain[i + 1] if i + 1 < len(chain) else out])


def write_own_slot(p: Program, me: Var, fields, slot: Var, when=None) -> None:
    """Slot routing, sending side: ``me[s] & field_f & when -> slot[s, f]`` for every slot ``s``.
    ``me`` is the node's one-hot local ID, so a node writes only its own slot.  Writers: 1."""
    fields, when = _lits(fields), _lits(when)
    for s in range(me.shape[0]):
        for f, bit in enumerate(fields):
            p.rule([me[s], bit, *when], [slot[s, f] if len(slot.shape) > 1 else slot[s]])


def read_by_table(p: Program, table: Var, slot: Var, dst: Var, when=None, fields=None) -> None:
    """Slot routing, receiving side: entry ``j`` of the neighbour table is the one-hot local ID of
    the ``j``-th neighbour; ``table[j, s] & slot[s, f] -> dst[j, f]``.  Writers: ``S`` (only one
    matches, since a table row is one-hot)."""
    when = _lits(when)
    n_entries, n_slots = table.shape
    n_fields = slot.shape[1] if len(slot.shape) > 1 else 1
    fields = range(n_fields) if fields is None else fields
    for j in range(n_entries):
        for s in range(n_slots):
            for k, f in enumerate(fields):
                src = slot[s, f] if len(slot.shape) > 1 else slot[s]
                out = dst[j, k] if len(dst.shape) > 1 else dst[j]
                p.rule([table[j, s], src, *when], [out])


def first_one(p: Program, flags, out, when=None, also=None) -> None:
    """Priority encoder: ``out_j = flags_j & ~flags_0 & ... & ~flags_{j-1} & when`` (also setting
    the bits ``also``, e.g. an "any" flag).  Writers of ``out_j``: 1."""
    flags, out, when, also = _lits(flags), _lits(out), _lits(when), _lits(also)
    for j in range(len(flags)):
        p.rule([flags[j], *[~f for f in flags[:j]], *when], [out[j], *also])


def new_message(p: Program, incoming, have, new, when=None) -> None:
    """New-message detection: ``incoming_i & ~have_i -> new_i`` (a bit nobody told us yet)."""
    incoming, have, new, when = _lits(incoming), _lits(have), _lits(new), _lits(when)
    for a, b, c in zip(incoming, have, new):
        p.rule([a, ~b, *when], [c])


def rebroadcast(p: Program, new, send, when=None) -> None:
    """Re-broadcast: a newly learned bit is kept and queued for sending (``new_i -> send_i``)."""
    copy(p, new, send, when)


def min_eliminate(p: Program, name: str, values: list, start: Var) -> Var:
    """Minimum of ``len(values)`` candidates by bit-serial elimination, most significant bit first.

    ``values[c]`` is a list of ``l`` Bits (kept by the caller for the whole operation), ``start`` a
    transient candidate mask ``[C]``.  For bit ``j`` from ``l - 1`` down to 0, in two steps:
    ``Z_j = OR_c (cand_c & ~v_c[j])`` while the mask is copied to a hold register, then the
    candidates with ``v_c[j] = 1`` are dropped if ``Z_j``.  Returns the transient final mask
    ``[C]`` (present ``2 l`` steps after ``start``): exactly the candidates of minimal value.
    Writers: ``Z_j`` ``C``, mask bits 2, hold bits 1.
    """
    C, l = start.shape[0], len(values[0])
    mask = p.var(f"{name}_mask", (l - 1, C)) if l > 1 else None  # after bits l-1..j decided
    hold = p.var(f"{name}_hold", (l, C))
    zero = p.var(f"{name}_zero", l)
    final = p.var(f"{name}_min", C)
    for j in range(l - 1, -1, -1):
        cur = [start[c] for c in range(C)] if j == l - 1 else [mask[j, c] for c in range(C)]
        nxt = [mask[j - 1, c] for c in range(C)] if j > 0 else [final[c] for c in range(C)]
        for c in range(C):
            p.rule([cur[c], ~values[c][j]], [zero[j]])
            p.rule([cur[c]], [hold[j, c]])
            p.rule([hold[j, c], ~zero[j]], [nxt[c]])
            p.rule([hold[j, c], ~values[c][j]], [nxt[c]])
    return final
