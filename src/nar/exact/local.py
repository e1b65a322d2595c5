"""The LOCAL compiler: a distributed algorithm written in plain Python becomes an exact program.

A :class:`LocalAlgorithm` names its state fields and message fields, each either *small* (an
integer ``0..K-1``, stored in ``ceil(log2 K)`` bits) or a *key* (:data:`KEY`: a node ID or the
round number, stored in ``l`` bits).  ``init(inputs) -> (state, message)`` gives a node's first
state and message; ``rule(state, inbox) -> (new_state, message)`` is one LOCAL round, where
``inbox`` is the tuple of the neighbours' messages, one per neighbour in increasing node order
(entry ``j`` is delivered through the neighbour's distance-2 local ID, as in the built-in
programs).  ``rounds(graph, source)`` bounds the number of rounds; ``halt(state)`` (optional) says
when a node is done; ``output(fields)`` decodes the final state fields.

Keys are opaque: a rule may compare them (``<``, ``<=``, ``==``, ``min``, ``max``) and copy them
into a key field of its state or message, nothing else.  So the rule's behaviour depends only on
its small fields, on which neighbours exist and on the outcomes of the key comparisons it makes
(the comparison-based algorithms: leader election, components, maximal independent sets by IDs,
greedy colourings, BFS trees), and :func:`compile_rule` enumerates exactly that finite domain:
every small value and every number of neighbours ``d <= D``; for each, the outcomes (``<``, ``=``,
``>``) of the comparisons the rule makes, explored depth first (:class:`Outcomes`; an outcome
implied by earlier ones does not branch), so a rule that compares nothing costs one call.  The
compiled round (period ``P``, a global one-hot clock; :func:`build_program`):

====================  =======================================================================
phase                 what happens
====================  =======================================================================
0 send                the message registers go into the node's own slot (``me[s]``)
1 receive             slot ``s`` -> inbox entry ``j`` through the neighbour table ``nb[j, s]``
2 .. l+1 compare      bit-serial comparison (most significant bit first) of every key pair the
                      rule ever compared (only when it compares keys at all)
R rule                the merged rule: small state / message bits and one-hot key selections
(R+1 gather)          only when a rule output has more writers than the receive step
C copy                each key field copies the selected source (own field, inbox key, round)
====================  =======================================================================

The rule phase's templates come from the enumeration: one care cube per rule call (the "before
merging" count; relation bits of pairs that call did not compare are free), merged into a cover
whose cubes leave every unreachable input as a don't-care
(:func:`nar.exact.local_cover.minimise`: greedy literal dropping against the OFF-set, a greedy set cover, cubes shared
between outputs).  The result is an ordinary :class:`~nar.exact.programs.ExactProgram`
(:func:`program_class`), so the compiler, the NTK / ensemble predictors, the executor and
``verify`` run it unchanged.

Everything that is wrong with an algorithm is an :class:`LocalCompileError` (an ``InputError``)
raised while compiling, before any step: a non-deterministic rule, a value outside a field's range,
a read of an undeclared field, a small field declared with more values than its bits hold, a
non-key compared with a key, a domain too large to enumerate.
"""
from __future__ import annotations

import inspect
import itertools
import math
import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from ..validation import InputError
from .local_cover import minimise

KEY = "key"
"""Field spec of a key: a node ID (or the round number), ``l`` bits wide, only compared and copied."""

MAX_DOMAIN = 200_000
RESERVED = ("round",)


class LocalCompileError(InputError):
    """A LOCAL algorithm that cannot be compiled (raised before any step)."""


@dataclass(frozen=True)
class Small:
    """A small field: integers ``0..values-1`` in ``bits`` bits."""

    values: int
    bits: int


def small(values: int | None = None, bits: int | None = None) -> Small:
    """A small field spec: ``small(5)`` (values 0..4 in 3 bits), ``small(bits=2)`` (0..3) or both
    (checked: ``values <= 2**bits``)."""
    if values is None and bits is None:
        raise LocalCompileError("small() needs values= or bits=")
    if bits is not None and (isinstance(bits, bool) or not isinstance(bits, int) or bits < 1):
        raise LocalCompileError(f"bits must be an integer >= 1, got {bits!r}")
    if values is None:
        values = 2 ** bits
    if isinstance(values, bool) or not isinstance(values, (int, np.integer)) or values < 1:
        raise LocalCompileError(f"a small field needs an integer number of values >= 1, got {values!r}")
    need = max(1, (int(values) - 1).bit_length())
    if bits is None:
        bits = need
    if need > bits:
        raise LocalCompileError(f"{values} values need {need} bits, but the field declares {bits} bits "
                                f"(which hold {2 ** bits} values); declare bits={need} or fewer values")
    return Small(int(values), int(bits))


@dataclass(eq=False)
class LocalAlgorithm:
    """A LOCAL algorithm (see the module doc).  Field specs: :data:`KEY`, an int ``K`` (values
    ``0..K-1``), :func:`small`, or a callable ``D -> spec`` (e.g. ``lambda D: D + 2`` colours)."""

    name: str
    state: Mapping[str, Any]
    message: Mapping[str, Any]
    init: Callable
    rule: Callable
    rounds: Callable                                 # (graph, source) -> number of rounds
    output: Callable | None = None                   # dict of state-field arrays -> dict of outputs
    halt: Callable | None = None                     # small state fields -> bool
    truth: Callable | None = None                    # (graph, source, **inputs) -> dict (an oracle)
    inputs: Mapping[str, Any] = field(default_factory=dict)  # extra small per-node inputs
    needs_connected: bool = False
    max_domain: int = MAX_DOMAIN
    doc: str = ""
    _plans: dict = field(default_factory=dict, repr=False)

    def compile(self, D: int) -> "Plan":
        """The rule enumerated and merged for maximum degree ``D`` (cached)."""
        if D not in self._plans:
            self._plans[D] = compile_rule(self, D)
        return self._plans[D]

    def round_bound(self, g, source: int = 0, inputs: dict | None = None) -> int:
        """``rounds(g, source, **inputs)`` (the inputs only when ``rounds`` takes them), at least 1."""
        inputs = {k: v for k, v in (inputs or {}).items() if v is not None}
        try:
            inspect.signature(self.rounds).bind(g, source, **inputs)
        except TypeError:
            inputs = {}
        return max(int(self.rounds(g, source, **inputs)), 1)

    def program(self, D: int = 3, l: int = 4, slots: int | None = None):
        """An :class:`~nar.exact.programs.ExactProgram` instance for degree ``D``, key width ``l``."""
        return program_class(self)(D=D, l=l, slots=slots)


# ---- keys and read-only records ---------------------------------------------------------------
class Key:
    """An opaque key.  Compiling, ``ctx`` (a :class:`Outcomes`) decides each comparison and ``src``
    names where the key came from; in :func:`~nar.exact.local_runtime.simulate` ``value`` is the
    number.  The round (``comparable=False``) can be stored or sent, never compared."""

    __slots__ = ("src", "ctx", "value", "comparable")

    def __init__(self, src, ctx=None, value=None, comparable=True):
        self.src, self.ctx, self.value, self.comparable = src, ctx, value, comparable

    def _cmp(self, other, op):
        if not isinstance(other, Key):
            raise LocalCompileError(f"a key compares only with another key, not with {other!r} "
                                    f"({type(other).__name__}); keys are node IDs and rounds")
        if not (self.comparable and other.comparable):
            raise LocalCompileError("state.round can be stored or sent, but not compared")
        if self.ctx is None:
            return op(self.value, other.value)
        return op(self.ctx.outcome(self.src, other.src), 0)

    def __lt__(self, o):
        return self._cmp(o, operator.lt)

    def __le__(self, o):
        return self._cmp(o, operator.le)

    def __gt__(self, o):
        return self._cmp(o, operator.gt)

    def __ge__(self, o):
        return self._cmp(o, operator.ge)

    def __eq__(self, o):
        return self._cmp(o, operator.eq)

    def __ne__(self, o):
        return self._cmp(o, operator.ne)

    def __hash__(self):
        return 0  # one bucket: sets and dicts of keys fall back on (recorded) comparisons

    def __bool__(self):
        raise LocalCompileError("a key has no truth value; compare it with another key")

    def __index__(self):
        raise LocalCompileError("a key is not an integer inside the rule; compare it or copy it")

    def __repr__(self):
        return f"Key({self.value})" if self.value is not None else f"Key{self.src}"


class Outcomes:
    """The outcomes of a rule call's key comparisons, explored depth first.

    The first time a call compares two keys, the outcome comes from ``script`` (a replayed prefix)
    or is the first one still possible; outcomes implied by earlier ones (transitivity) do not
    branch, so every path is consistent with some order of the keys.  :meth:`next_script` gives the
    prefix of the next path, None after the last."""

    def __init__(self, item: dict, script=()):
        self.item, self.script = item, list(script)
        self.decided: dict = {}     # (a, b) with item[a] < item[b] -> -1 (a < b), 0 (equal), 1 (a > b)
        self.trace: list = []       # (pair, outcome, possible outcomes) per new comparison

    def outcome(self, x, y) -> int:
        if x == y:
            return 0
        flip = self.item[x] > self.item[y]
        pair = (y, x) if flip else (x, y)
        if pair not in self.decided:
            allowed = _possible(self.decided, *pair)
            pos = len(self.trace)
            o = self.script[pos] if pos < len(self.script) else allowed[0]
            if o not in allowed:
                raise LocalCompileError("the rule is not deterministic: it compared different keys when called "
                                        "again on the same state and inbox")
            self.trace.append((pair, o, allowed))
            self.decided[pair] = o
        o = self.decided[pair]
        return -o if flip else o

    def next_script(self):
        for i in range(len(self.trace) - 1, -1, -1):
            _, o, allowed = self.trace[i]
            k = allowed.index(o)
            if k + 1 < len(allowed):
                return [t[1] for t in self.trace[:i]] + [allowed[k + 1]]
        return None


def _possible(decided: dict, p, q) -> tuple:
    """Outcomes of ``p`` vs ``q`` consistent with the decided comparisons (transitive closure)."""
    rel = {}                                      # (x, y) -> 1 (x <= y) or 2 (x < y)
    for (a, b), o in decided.items():
        if o == 0:
            rel[(a, b)] = max(rel.get((a, b), 0), 1)
            rel[(b, a)] = max(rel.get((b, a), 0), 1)
        else:
            rel[(a, b) if o < 0 else (b, a)] = 2
    nodes = {p, q} | {x for pair in decided for x in pair}
    for k in nodes:
        for i in nodes:
            if (i, k) not in rel:
                continue
            for j in nodes:
                if (k, j) in rel:
                    v = max(rel[(i, k)], rel[(k, j)])
                    if rel.get((i, j), 0) < v:
                        rel[(i, j)] = v
    pq, qp = rel.get((p, q), 0), rel.get((q, p), 0)
    if pq == 2:
        return (-1,)
    if qp == 2:
        return (1,)
    if pq and qp:
        return (0,)
    return (-1, 0) if pq else (0, 1) if qp else (-1, 0, 1)


class Record:
    """Read-only fields of a state, message or input (``r.name`` or ``r["name"]``)."""

    __slots__ = ("_what", "_values", "_alg")

    def __init__(self, what: str, values: dict, alg: str):
        object.__setattr__(self, "_what", what)
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_alg", alg)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        what, alg = object.__getattribute__(self, "_what"), object.__getattribute__(self, "_alg")
        declared = ", ".join(k for k in values if k != "round") or "none"
        raise LocalCompileError(f"{alg}: reads {what} field {name!r}, which is not declared "
                                f"(declared {what} fields: {declared}); add it to the algorithm's {what}")

    __getitem__ = __getattr__

    def __setattr__(self, name, value):
        raise LocalCompileError(f"{self._alg}: the {self._what} is read-only inside the rule; return the "
                                f"new values as a dict instead")

    def __repr__(self):
        return f"{self._what}({', '.join(f'{k}={v!r}' for k, v in self._values.items())})"


# ---- specs ----------------------------------------------------------------------------------
def _specs(alg: LocalAlgorithm, what: str, raw: Mapping, D: int) -> tuple[list, list]:
    """``(small fields [(name, Small)], key fields [name])`` of a field declaration."""
    if not isinstance(raw, Mapping):
        raise LocalCompileError(f"{alg.name}: {what} must be a dict of field name -> spec, got {type(raw).__name__}")
    smalls, keys = [], []
    for name, spec in raw.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise LocalCompileError(f"{alg.name}: {what} field names must be identifiers, got {name!r}")
        if name in RESERVED:
            raise LocalCompileError(f"{alg.name}: {what} field name {name!r} is reserved (state.round is the round number)")
        if callable(spec) and not isinstance(spec, Small):
            spec = spec(D)
        if spec == KEY:
            keys.append(name)
            continue
        if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
            spec = small(int(spec))
        if not isinstance(spec, Small):
            raise LocalCompileError(f"{alg.name}: {what} field {name!r}: spec must be KEY, a number of values, "
                                    f"small(...) or a callable of D, got {spec!r}")
        smalls.append((name, spec))
    return smalls, keys


def _check_small(alg, what, name, spec: Small, v, where) -> int:
    if isinstance(v, (bool, np.bool_)):
        v = int(v)
    if not isinstance(v, (int, np.integer)) or not 0 <= v < spec.values:
        raise LocalCompileError(f"{alg.name}: {where} writes {v!r} to {what} field {name!r}, which holds the "
                                f"integers 0..{spec.values - 1} ({spec.bits} bits); declare more values or "
                                f"keep the value in range")
    return int(v)


# ---- the plan -------------------------------------------------------------------------------
@dataclass
class Plan:
    """A compiled rule for maximum degree ``D`` (independent of the key width ``l``)."""

    name: str
    D: int
    small_state: list            # [(name, Small)]
    key_state: list              # [name]
    small_msg: list
    key_msg: list
    small_inputs: list           # [(name, Small)] incl. is_source
    pairs: list                  # [(src_a, src_b)] key pairs compared (bit-serially)
    constant: list               # key state fields the rule never changes
    alias: dict                  # key message field -> constant key state field it always equals
    selections: list             # [(("s"|"m", name), [sources])] key outputs copied each round
    inputs: list                 # rule-phase input bits: (kind, ...) descriptors
    outputs: list                # rule-phase output bits: (kind, ...) descriptors
    cubes: list                  # [(((input index, value), ...), (output index, ...))]
    minterms: int                # templates before merging (one per distinct rule call with a 1)
    domain: int                  # (state, inbox, order) points declared by the field specs
    calls: int                   # points the rule was called on (an order-free call covers all orders)
    distinct: int                # distinct care cubes (rule calls)
    init_table: dict             # small input tuple -> (small state, small msg, key state srcs, key msg srcs)
    halt_table: dict | None      # small state tuple -> bool
    uses_round: bool

    def phases(self, l: int, S: int) -> tuple[int, int, int]:
        """``(P, R, C)``: period, rule phase and copy phase for key width ``l`` and ``S`` slots
        (one more phase when the rule's outputs are gathered, see :func:`build_program`)."""
        cmp_phases = l if self.pairs else 0
        gather = int(self.gathered(S))
        return 4 + cmp_phases + gather, 2 + cmp_phases, 3 + cmp_phases + gather

    def writers(self) -> np.ndarray:
        """Rule cubes writing each rule output."""
        w = np.zeros(len(self.outputs), dtype=np.int64)
        for _, outs in self.cubes:
            w[list(outs)] += 1
        return w

    def gathered(self, S: int) -> bool:
        """Whether some rule output has more writers than the receive gadget's ``S + 1``."""
        return bool(len(self.cubes)) and int(self.writers().max()) > S + 1

    def report(self) -> dict:
        return {"domain_points": self.domain, "rule_calls": self.calls, "distinct_inputs": self.distinct,
                "rule_templates_before_merging": self.minterms, "rule_templates": len(self.cubes),
                "rule_input_bits": len(self.inputs), "rule_output_bits": len(self.outputs),
                "compared_key_pairs": len(self.pairs),
                "copied_key_fields": [f"{k}.{n}" for (k, n), _ in self.selections]}


def fubini(n: int) -> int:
    """Number of weak orders (ordered set partitions) of ``n`` items."""
    a = [1]
    for m in range(1, n + 1):
        a.append(sum(math.comb(m, k) * a[m - k] for k in range(1, m + 1)))
    return a[n]


def domain_size(nstate: int, nmsg: int, ks: int, km: int, D: int) -> int:
    """(small state, neighbours, small messages, weak order of the keys) points: what a full
    enumeration would visit (reported; the comparison outcomes are explored lazily instead)."""
    return nstate * sum(nmsg ** d * fubini(ks + d * km) for d in range(D + 1))


def compile_rule(alg: LocalAlgorithm, D: int) -> Plan:
    """Enumerate ``alg.rule`` over its domain for maximum degree ``D`` and merge the minterms."""
    if not isinstance(alg.name, str) or not alg.name.isidentifier():
        raise LocalCompileError(f"the algorithm's name must be an identifier, got {alg.name!r}")
    if isinstance(D, bool) or not isinstance(D, (int, np.integer)) or D < 1:
        raise LocalCompileError(f"{alg.name}: the maximum degree D must be an integer >= 1, got {D!r}")
    for what in ("init", "rule", "rounds"):
        if not callable(getattr(alg, what)):
            raise LocalCompileError(f"{alg.name}: {what} must be a function")
    ss, sk = _specs(alg, "state", alg.state, D)
    ms, mk = _specs(alg, "message", alg.message, D)
    ins, ik = _specs(alg, "input", alg.inputs, D)
    if ik:
        raise LocalCompileError(f"{alg.name}: extra inputs must be small fields (the node ID is inputs.id)")
    if any(n in ("id", "is_source") for n, _ in ins):
        raise LocalCompileError(f"{alg.name}: inputs 'id' and 'is_source' are built in; rename yours")
    ins = [("is_source", small(2))] + ins
    ks, km = len(sk), len(mk)
    nstate = math.prod(s.values for _, s in ss)
    nmsg = math.prod(s.values for _, s in ms)
    size = domain_size(nstate, nmsg, ks, km, D)
    configs = nstate * sum(nmsg ** d for d in range(D + 1))

    def too_large(count, what):
        return LocalCompileError(
            f"{alg.name}: the rule's domain is too large to enumerate for D={D}: {what} {count:,} points, above "
            f"the limit of {alg.max_domain:,} (in all {size:,} points: {nstate} small-state values x, per "
            f"neighbour, {nmsg} small-message values x the weak orders of {ks} + d*{km} keys); use fewer or "
            f"smaller fields, fewer keys per message or fewer key comparisons, a smaller D, or raise max_domain")

    if configs > alg.max_domain:
        raise too_large(configs, "its small fields alone have")
    init_table = _enumerate_init(alg, ss, sk, ms, mk, ins)
    halt_table = _enumerate_halt(alg, ss, sk) if alg.halt is not None else None

    # ---- the rule over (small state, neighbours, small messages, key comparison outcomes) -------
    item = {("s", n): i for i, n in enumerate(sk)}
    for j in range(D):
        for i, n in enumerate(mk):
            item[("m", j, n)] = ks + j * km + i
    points = []
    for sv in itertools.product(*(range(s.values) for _, s in ss)):
        for d in range(D + 1):
            for mv in itertools.product(*(range(s.values) for _j in range(d) for _, s in ms)):
                script = []
                while script is not None:
                    if len(points) >= alg.max_domain:
                        raise too_large(len(points) + 1, "the rule compares keys, so it needs more than")
                    ctx = Outcomes(item, script)
                    a, views = _run_point(alg, sv, d, mv, ctx, ss, sk, ms, mk)
                    again = Outcomes(item, [t[1] for t in ctx.trace])
                    b, _ = _run_point(alg, sv, d, mv, again, ss, sk, ms, mk)
                    if a != b or again.decided != ctx.decided:
                        st, ib = views
                        raise LocalCompileError(
                            f"{alg.name}: the rule is not deterministic: two calls with state {st!r} and inbox "
                            f"{list(ib)!r} returned different results ({_show(a)} and {_show(b)}); a rule may "
                            f"depend only on its state and inbox (no randomness, clocks or outside state)")
                    if halt_table is not None and halt_table[sv] and (a[0] != sv or a[2] != tuple(("s", n) for n in sk)):
                        raise LocalCompileError(f"{alg.name}: a halted node (halt(state) is true for state "
                                                f"{views[0]!r}) must keep its state, but the rule changes it")
                    points.append((sv, d, mv, dict(ctx.decided), a))
                    script = ctx.next_script()
    return _plan(alg, D, ss, sk, ms, mk, ins, item, points, size, init_table, halt_table)


def _run_point(alg, sv, d, mv, ctx, ss, sk, ms, mk):
    """Call the rule once on one point of the domain; returns (normalised result, (state, inbox))."""
    vals = {n: v for (n, _), v in zip(ss, sv)}
    vals.update({n: Key(("s", n), ctx) for n in sk})
    vals["round"] = Key(("r",), ctx, comparable=False)
    state = Record("state", vals, alg.name)
    inbox = []
    for j in range(d):
        mvals = {n: mv[j * len(ms) + i] for i, (n, _) in enumerate(ms)}
        mvals.update({n: Key(("m", j, n), ctx) for n in mk})
        inbox.append(Record("message", mvals, alg.name))
    inbox = tuple(inbox)
    return _call_rule(alg, state, inbox, ss, sk, ms, mk), (state, inbox)


def _show(out) -> str:
    return f"state {out[0]}{out[2]}, message {out[1]}{out[3]}"


def _call_rule(alg, state, inbox, ss, sk, ms, mk):
    """The rule's result normalised to (small state, small msg, key state srcs, key msg srcs)."""
    try:
        out = alg.rule(state, inbox)
    except LocalCompileError:
        raise
    except Exception as err:  # noqa: BLE001 - any failure of user code is reported with its input
        raise LocalCompileError(f"{alg.name}: the rule raised {type(err).__name__}: {err} on {state!r} with "
                                f"inbox {list(inbox)!r}; inside a rule keys support only comparisons "
                                f"(<, <=, ==, min, max) and copying") from None
    return _normalise(alg, "the rule", out, state, ss, sk, ms, mk, keep=True)


def _normalise(alg, where, out, state, ss, sk, ms, mk, keep):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise LocalCompileError(f"{alg.name}: {where} must return (new_state, message), got {out!r}")
    new, msg = out
    new = {} if new is None else new
    if not isinstance(new, Mapping) or not isinstance(msg, Mapping):
        raise LocalCompileError(f"{alg.name}: {where} must return two dicts (new_state, message), got {out!r}")
    for what, got, decl in (("state", new, [n for n, _ in ss] + sk), ("message", msg, [n for n, _ in ms] + mk)):
        extra = sorted(set(got) - set(decl))
        if extra:
            raise LocalCompileError(f"{alg.name}: {where} writes {what} field {extra[0]!r}, which is not declared "
                                    f"(declared {what} fields: {', '.join(decl) or 'none'})")
    missing = [n for n in [n for n, _ in ms] + mk if n not in msg]
    if missing and keep:
        raise LocalCompileError(f"{alg.name}: {where} must give every message field; missing {missing[0]!r}")

    def small_value(what, name, spec, got, default):
        return _check_small(alg, what, name, spec, got.get(name, default), where)

    def key_src(what, name, got, default):
        v = got.get(name, default)
        if v is None and not keep:
            return None
        if not isinstance(v, Key):
            raise LocalCompileError(f"{alg.name}: {where} writes {v!r} to key field {what}.{name}; a key field "
                                    f"takes a key (inputs.id, a key field of the state or of a message, "
                                    f"or state.round), not {type(v).__name__}")
        return v.src

    sv = tuple(small_value("state", n, s, new, state[n] if keep else 0) for n, s in ss)
    mvals = tuple(small_value("message", n, s, msg, 0) for n, s in ms)
    kst = tuple(key_src("state", n, new, state[n] if keep else None) for n in sk)
    kms = tuple(key_src("message", n, msg, None) for n in mk)
    return sv, mvals, kst, kms


def _enumerate_init(alg, ss, sk, ms, mk, ins) -> dict:
    table = {}
    for iv in itertools.product(*(range(s.values) for _, s in ins)):
        vals = {n: v for (n, _), v in zip(ins, iv)}
        vals["id"] = Key(("id",))
        inp = Record("input", vals, alg.name)
        try:
            out = alg.init(inp)
            again = alg.init(Record("input", dict(vals), alg.name))
        except LocalCompileError:
            raise
        except Exception as err:  # noqa: BLE001
            raise LocalCompileError(f"{alg.name}: init raised {type(err).__name__}: {err} on {inp!r}") from None
        a = _normalise(alg, "init", out, None, ss, sk, ms, mk, keep=False)
        if a != _normalise(alg, "init", again, None, ss, sk, ms, mk, keep=False):
            raise LocalCompileError(f"{alg.name}: init is not deterministic on {inp!r}")
        for src in a[2] + a[3]:
            if src not in (None, ("id",)):
                raise LocalCompileError(f"{alg.name}: init may set key fields only to inputs.id")
        table[iv] = a
    return table


def _enumerate_halt(alg, ss, sk) -> dict:
    table = {}
    for sv in itertools.product(*(range(s.values) for _, s in ss)):
        vals = {n: v for (n, _), v in zip(ss, sv)}
        rec = Record("state", vals, alg.name)
        try:
            h = alg.halt(rec)
        except LocalCompileError as err:
            raise LocalCompileError(f"{err} (halt may read only the small state fields)") from None
        if not isinstance(h, (bool, np.bool_)):
            raise LocalCompileError(f"{alg.name}: halt must return a bool, got {h!r}")
        table[sv] = bool(h)
    return table


def _plan(alg, D, ss, sk, ms, mk, ins, item, points, size, init_table, halt_table) -> Plan:
    pairs = sorted({pair for pt in points for pair in pt[3]}, key=lambda p: (item[p[0]], item[p[1]]))
    # key outputs: constant state keys, message keys aliasing a constant state key, the rest copied
    constant = [n for i, n in enumerate(sk) if all(pt[4][2][i] == ("s", n) for pt in points)]
    alias = {}
    for i, n in enumerate(mk):
        srcs = {pt[4][3][i] for pt in points}
        if len(srcs) == 1:
            (src,) = srcs
            g = src[1] if src[0] == "s" else None
            if g in constant and all(row[3][i] == row[2][sk.index(g)] for row in init_table.values()):
                alias[n] = g
    selections = []
    for i, n in enumerate(sk):
        if n not in constant:
            selections.append((("s", n), sorted({pt[4][2][i] for pt in points}, key=repr)))
    for i, n in enumerate(mk):
        if n not in alias:
            selections.append((("m", n), sorted({pt[4][3][i] for pt in points}, key=repr)))
    uses_round = any(("r",) in srcs for _, srcs in selections)

    # rule-phase inputs (relation bits, inbox small bits, presence, state small bits) and outputs
    inputs = [(rel, k) for k in range(len(pairs)) for rel in ("lt", "gt", "eq")]
    inputs += [("in", n, j, b) for j in range(D) for n, s in ms for b in range(s.bits)]
    inputs += [("pres", j) for j in range(D)]
    inputs += [("state", n, b) for n, s in ss for b in range(s.bits)]
    outputs = [("state", n, b) for n, s in ss for b in range(s.bits)]
    outputs += [("out", n, b) for n, s in ms for b in range(s.bits)]
    outputs += [("sel", o, src) for o, srcs in selections for src in srcs]
    out_index = {o: i for i, o in enumerate(outputs)}
    sel_pos = {o: i for i, (o, _) in enumerate(selections)}

    # one care cube per rule call: a compared pair's relation bits are fixed (one-hot), a pair this
    # call did not compare is free (any of its three patterns gives the same result), an absent
    # neighbour's pairs are all zero
    calls = len(points)
    X = np.zeros((calls, len(inputs)), dtype=bool)
    M = np.ones((calls, len(inputs)), dtype=bool)
    Y = np.zeros((calls, len(outputs)), dtype=bool)
    ms_bits = [(n, s.bits) for n, s in ms]
    for r, (sv, d, mv, decided, (nsv, nmv, nks, nkm)) in enumerate(points):
        row = []
        for k, (a, b) in enumerate(pairs):
            if a[0] == "m" and a[1] >= d or b[0] == "m" and b[1] >= d:
                row += [0, 0, 0]
            elif (a, b) in decided:
                o = decided[(a, b)]
                row += [o < 0, o > 0, o == 0]
            else:
                row += [0, 0, 0]
                M[r, 3 * k: 3 * k + 3] = False
        for j in range(D):
            for i, (n, bits) in enumerate(ms_bits):
                v = mv[j * len(ms) + i] if j < d else 0
                row += [(v >> b) & 1 for b in range(bits)]
        row += [j < d for j in range(D)]
        for (n, s), v in zip(ss, sv):
            row += [(v >> b) & 1 for b in range(s.bits)]
        X[r] = row
        ys = [(v >> b) & 1 for (n, s), v in zip(ss, nsv) for b in range(s.bits)]
        ys += [(v >> b) & 1 for (n, s), v in zip(ms, nmv) for b in range(s.bits)]
        Y[r, :len(ys)] = ys
        for i, n in enumerate(sk):
            if ("s", n) in sel_pos:
                Y[r, out_index[("sel", ("s", n), nks[i])]] = True
        for i, n in enumerate(mk):
            if ("m", n) in sel_pos:
                Y[r, out_index[("sel", ("m", n), nkm[i])]] = True
    # distinct care cubes; the same cube must always give the same output
    XM, inv = np.unique(np.concatenate([X & M, M], 1), axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    Xu, Mu = XM[:, :len(inputs)], XM[:, len(inputs):]
    Yu = np.zeros((len(XM), len(outputs)), dtype=bool)
    Yu[inv] = Y
    clash = np.flatnonzero((Yu[inv] != Y).any(1))
    if clash.size:
        raise LocalCompileError(f"{alg.name}: the rule's result depends on more than its small fields, its "
                                f"neighbours and the order of the keys it compares (point {clash[0]})")
    cubes = minimise(Xu, Yu, Mu)
    minterms = int(Yu.any(1).sum())
    return Plan(alg.name, D, ss, sk, ms, mk, ins, pairs, constant, alias, selections, inputs, outputs,
                cubes, minterms, size, calls, len(Xu), init_table, halt_table, uses_round)


# ---- the program ------------------------------------------------------------------------------
def build_program(plan: Plan, D: int, l: int, S: int):
    """The templates of a compiled algorithm for key width ``l`` and ``S`` slots.

    When a rule output has more writers (cubes) than ``S + 1`` (the receive gadget's, so the
    program's worst case otherwise), the rule is gathered in two steps so that every bit keeps few
    writers -- the NTK predictor is exact while (matched templates) x (writers) stays well below
    the template count: the ``w`` cubes writing output ``o`` are split into ``ceil(w / g)`` groups
    of ``g = ceil(sqrt(w))``; a cube sets its group bit ``part[o, group]``, and each group bit sets
    ``o`` one step later.  Both steps then have about ``sqrt(w)`` writers per bit."""
    from . import gadgets as G
    from .templates import Program

    if D != plan.D:
        raise LocalCompileError(f"{plan.name}: the plan was compiled for D={plan.D}, not {D}")
    P, R, C = plan.phases(l, S)
    p = Program(plan.name, D=D, l=l, slots=S)
    clk = G.clock(p, "clk", P)
    me, nb, pres = p.var("me", S), p.var("nb", (D, S)), p.var("pres", D)
    sv = {n: p.var(f"state.{n}", s.bits) for n, s in plan.small_state}
    kv = {n: p.var(f"key.{n}", l) for n in plan.key_state}
    ov = {n: p.var(f"out.{n}", s.bits) for n, s in plan.small_msg}
    okv = {n: p.var(f"outkey.{n}", l) for n in plan.key_msg if n not in plan.alias}
    iv = {n: p.var(f"in.{n}", (D, s.bits)) for n, s in plan.small_msg}
    ikv = {n: p.var(f"inkey.{n}", (D, l)) for n in plan.key_msg}
    rnd = p.var("round", l) if plan.uses_round else None
    npairs = len(plan.pairs)
    lt, gt, eq = (p.var(x, npairs) for x in ("lt", "gt", "eq")) if npairs else (None, None, None)
    nsel = sum(len(srcs) for _, srcs in plan.selections)
    sel = p.var("sel", nsel) if nsel else None
    send = [b for n in ov for b in ov[n].bits()]
    send += [b for n in plan.key_msg for b in (okv[n].bits() if n in okv else kv[plan.alias[n]].bits())]
    recv = [(lambda j, n=n, b=b: iv[n][j, b]) for n, s in plan.small_msg for b in range(s.bits)]
    recv += [(lambda j, n=n, b=b: ikv[n][j, b]) for n in plan.key_msg for b in range(l)]
    slot = p.var("slot", (S, max(len(send), 1)), comm=True)

    p.tag("inputs")
    G.persist(p, [me.bits(), nb.bits(), pres.bits()])
    p.tag("state")
    G.persist(p, [v.bits() for v in sv.values()] + [v.bits() for v in ov.values()], unless=clk[R])
    for n, v in kv.items():
        G.persist(p, v.bits(), unless=None if n in plan.constant else clk[C])
    G.persist(p, [v.bits() for v in okv.values()], unless=clk[C])
    if rnd is not None:
        p.tag("round counter")
        G.persist(p, rnd.bits(), unless=clk[0])
        G.increment(p, rnd.bits(), rnd.bits(), when=clk[0])
    p.tag("send")
    if send:
        G.write_own_slot(p, me, send, slot, when=clk[0])
    p.tag("receive")
    for j in range(D):
        for s in range(S):
            for f, target in enumerate(recv):
                p.rule([nb[j, s], slot[s, f]], [target(j)])
    G.persist(p, [v.bits() for v in iv.values()] + [v.bits() for v in ikv.values()], unless=clk[C])

    def key_bits(src):
        if src[0] == "s":
            return kv[src[1]].bits()
        if src[0] == "m":
            return [ikv[src[2]][src[1], b] for b in range(l)]
        return rnd.bits()

    if npairs:
        p.tag("compare")
        for k, (a, b) in enumerate(plan.pairs):
            guard = [pres[x[1]] for x in (a, b) if x[0] == "m"]
            p.rule([clk[1], *guard], [eq[k]])
            G.compare(p, key_bits(a), key_bits(b), lt[k], gt[k], eq[k], phases=[clk[2 + i] for i in range(l)])
        G.persist(p, [lt.bits(), gt.bits()], unless=clk[R])

    sel_index, i = {}, 0
    for o, srcs in plan.selections:
        for src in srcs:
            sel_index[("sel", o, src)] = i
            i += 1

    def in_bit(d):
        kind = d[0]
        if kind in ("lt", "gt", "eq"):
            return {"lt": lt, "gt": gt, "eq": eq}[kind][d[1]]
        if kind == "in":
            return iv[d[1]][d[2], d[3]]
        if kind == "pres":
            return pres[d[1]]
        return sv[d[1]][d[2]]

    def out_bit(d):
        if d[0] == "state":
            return sv[d[1]][d[2]]
        if d[0] == "out":
            return ov[d[1]][d[2]]
        return sel[sel_index[d]]

    p.tag("rule")
    target = {}                                  # (cube, output) -> the bit the cube sets
    if plan.gathered(S):
        groups = []                              # (output, group) per part bit
        for o, w in enumerate(plan.writers().tolist()):
            g = max(1, math.isqrt(w - 1) + 1) if w else 1
            mine = [c for c, (_, outs) in enumerate(plan.cubes) if o in outs]
            for i, c in enumerate(mine):
                target[(c, o)] = ("part", len(groups) + i // g)
            groups += [o] * (-(-len(mine) // g))
        part = p.var("part", len(groups))
    for c, (lits, outs) in enumerate(plan.cubes):
        when = [clk[R]] + [in_bit(plan.inputs[b]) if v else ~in_bit(plan.inputs[b]) for b, v in lits]
        p.rule(when, [part[target[(c, o)][1]] if target else out_bit(plan.outputs[o]) for o in outs])
    if target:
        p.tag("gather")
        for i, o in enumerate(groups):
            p.rule([part[i]], [out_bit(plan.outputs[o])])
    p.tag("copy")
    for o, srcs in plan.selections:
        dst = kv[o[1]].bits() if o[0] == "s" else okv[o[1]].bits()
        for src in srcs:
            s_bit = sel[sel_index[("sel", o, src)]]
            for x, y in zip(key_bits(src), dst):
                p.rule([s_bit, x], [y])
    return p, (P, R, C)


def program_class(alg: LocalAlgorithm):
    """An :class:`~nar.exact.programs.ExactProgram` subclass running ``alg`` (construct it with
    ``D``, ``l`` = key width, ``slots``)."""
    from .programs.local_program import LocalProgram

    return type(f"Local_{alg.name}", (LocalProgram,),
                {"name": alg.name, "algorithm": alg, "needs_connected": alg.needs_connected,
                 "__doc__": alg.doc or f"The LOCAL algorithm {alg.name!r}, compiled."})


def outputs(alg: LocalAlgorithm, plan, fields: dict) -> dict:
    """The algorithm's decoded outputs from its state fields (``halted`` added when it has ``halt``)."""
    out = dict(alg.output(dict(fields))) if alg.output is not None else dict(fields)
    if plan.halt_table is not None:
        shape = tuple(spec.values for _, spec in plan.small_state)
        table = np.zeros(shape, dtype=bool)
        for sv, h in plan.halt_table.items():
            table[sv] = h
        n = len(next(iter(fields.values())))
        out["halted"] = (table[tuple(np.asarray(fields[f]) for f, _ in plan.small_state)] if plan.small_state
                         else np.full(n, bool(table[()])))
    return out
