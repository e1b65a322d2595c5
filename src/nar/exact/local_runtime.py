"""A compiled LOCAL algorithm run directly in plain Python: the specification its program must meet.

:func:`simulate` runs ``init`` and ``rule`` one LOCAL round at a time, with keys holding their real
values (node IDs, round numbers), and decodes like the compiled program
(:class:`nar.exact.programs.local_program.LocalProgram`).  Per-node Python: a reference, not a
fast path.
"""
from __future__ import annotations

import numpy as np

from .graph import Graph
from .local import Key, LocalAlgorithm, Record, outputs


def simulate(alg: LocalAlgorithm, g: Graph, source: int = 0, rounds: int | None = None, **inputs) -> dict:
    """Run ``alg`` in plain Python (keys hold their values) for ``rounds`` rounds (default
    ``alg.rounds(g, source)``); returns the decoded outputs, like the compiled program's."""
    plan = alg.compile(max(g.max_degree, 1))
    ss, sk, ms, mk = plan.small_state, plan.key_state, plan.small_msg, plan.key_msg
    ids = np.arange(g.n) if inputs.get("id") is None else np.asarray(inputs["id"])
    extra = {n: np.asarray(inputs[n]) for n, _ in plan.small_inputs[1:]}
    states, msgs = [], []
    for v in range(g.n):
        vals = {"is_source": int(v == source), **{n: int(a[v]) for n, a in extra.items()},
                "id": Key(None, value=int(ids[v]))}
        new, msg = alg.init(Record("input", vals, alg.name))
        st = {n: int(new.get(n, 0)) for n, _ in ss}
        st.update({n: new.get(n, Key(None, value=0)) for n in sk})
        states.append(st)
        m = {n: int(msg.get(n, 0)) for n, _ in ms}
        m.update({n: msg.get(n, Key(None, value=0)) for n in mk})
        msgs.append(m)
    R = alg.round_bound(g, source, inputs) if rounds is None else rounds
    for r in range(1, int(R) + 1):
        rnd = Key(None, value=r, comparable=False)
        new_states, new_msgs = [], []
        for v in range(g.n):
            state = Record("state", {**states[v], "round": rnd}, alg.name)
            inbox = tuple(Record("message", msgs[u], alg.name) for u in g.adj[v])
            new, msg = alg.rule(state, inbox)
            st = dict(states[v])
            st.update(new or {})
            new_states.append(st)
            new_msgs.append(dict(msg))
        states, msgs = new_states, new_msgs
    fields = {n: np.array([int(s[n]) for s in states], dtype=np.int64) for n, _ in ss}
    fields.update({n: np.array([s[n].value for s in states], dtype=np.int64) for n in sk})
    return outputs(alg, plan, fields)
