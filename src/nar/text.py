"""CLRS-Text: trajectories as text questions and answers, as the reference formatter writes them.

The format is that of ``clrs/_src/clrs_text/clrs_utils.py`` (dm-clrs 2.0.3), reimplemented from its
behaviour and checked string for string against it (``tests/golden/clrs_text.json``)::

    question = f"{name}:\\n{inputs}\\n{output names}:\\n"      answer = f"{outputs}\\n\\n"

Inputs are ``probe: value`` in spec order, without ``pos`` (and without ``adj`` where ``A`` is given).
Node arrays are ``[a b c]``, edge arrays ``[[a b], [c d]]``; pointers, masks and categoricals
(argmax) are integers, ``mask_one`` is the chosen index, scalars are written as numpy writes them;
a sorting output (``should_be_permutation``) is the ``key`` values in sorted order.  With
``trace=True`` the first snapshot of the output's hint (``<output>_h``; the search and string
algorithms use the hints listed in :data:`TRACE_OUTPUTS`) is appended to the question as
``initial_trace: ...``, and the answer lists the intermediate snapshots, then `` | ``, then the
result.  Floats are written from nar's float32 values; the reference writes float64, which gives
the same digits for the 3-decimal inputs CLRS-Text draws (:data:`DECIMALS`).

:func:`parse_answer` reads an answer back into outputs, :func:`score_answer` scores it with the CLRS
metric, and :func:`iter_examples` streams (question, answer) pairs drawn like ``clrs_generator``.
"""
from __future__ import annotations

import re
from typing import Iterator, Mapping

import numpy as np

from .specs import SPECS, Location, Stage, Type
from .trace import CATEGORIES, Trajectory
from .types import one_hot
from .validation import InputError

#: The algorithms CLRS-Text writes with a trace (``CLRS_TASKS_WITH_HINTS``).
TRACE_ALGORITHMS: tuple[str, ...] = (
    "activity_selector", "articulation_points", "bellman_ford", "bfs", "binary_search", "bridges",
    "bubble_sort", "dag_shortest_paths", "dfs", "dijkstra", "find_maximum_subarray_kadane",
    "floyd_warshall", "graham_scan", "heapsort", "insertion_sort", "jarvis_march", "kmp_matcher",
    "lcs_length", "matrix_chain_order", "minimum", "mst_kruskal", "mst_prim", "naive_string_matcher",
    "optimal_bst", "quickselect", "quicksort", "strongly_connected_components", "task_scheduling",
    "topological_sort")
#: Every algorithm CLRS-Text covers (the 29 above and segments_intersect, written without a trace).
ALGORITHMS: tuple[str, ...] = tuple(sorted(TRACE_ALGORITHMS + ("segments_intersect",)))

#: With a trace these algorithms answer with hints instead of their outputs.
TRACE_OUTPUTS: Mapping[str, tuple[str, ...]] = {
    "naive_string_matcher": ("s",), "kmp_matcher": ("s",),
    "binary_search": ("low", "high"), "find_maximum_subarray_kadane": ("best_low", "best_high"),
    "quickselect": ("pivot",)}
_STRING_MATCHERS = frozenset({"naive_string_matcher", "kmp_matcher"})
_PARENTHESES = frozenset({"binary_search", "find_maximum_subarray_kadane"})  # traces in (...)

#: Scalar inputs the reference samples as integers (written ``1``, not ``1.0``).
INTEGER_INPUTS: frozenset[tuple[str, str]] = frozenset(
    {(a, "A") for a in ("bfs", "dfs", "articulation_points", "bridges", "topological_sort")}
    | {("task_scheduling", "d")})

#: Decimals the reference keeps of float inputs (``clrs_generator(num_decimals_in_float=3)``).
DECIMALS = 3

#: The reference's default sizes (``generate_clrs_text._DEFAULT_TRAIN/VAL_ALGOS_AND_LENGTHS``).
_SHORT = [4, 5, 10]
_TRAIN_ALL = [4, 5, 10, 11, 12, 15, 19, 23, 28, 31]
TRAIN_LENGTHS: Mapping[str, list[int]] = {
    "articulation_points": _TRAIN_ALL[:7], "activity_selector": _TRAIN_ALL,
    "bellman_ford": _TRAIN_ALL, "bfs": _TRAIN_ALL, "binary_search": _TRAIN_ALL, "bridges": [4, 5],
    "bubble_sort": _SHORT, "dag_shortest_paths": _TRAIN_ALL[:7], "dfs": _TRAIN_ALL[:8],
    "dijkstra": _TRAIN_ALL[:9], "find_maximum_subarray_kadane": _TRAIN_ALL, "floyd_warshall": _SHORT,
    "graham_scan": _TRAIN_ALL, "heapsort": _SHORT, "insertion_sort": _TRAIN_ALL,
    "jarvis_march": _TRAIN_ALL[:5], "kmp_matcher": _TRAIN_ALL, "lcs_length": _SHORT,
    "matrix_chain_order": _SHORT, "minimum": _TRAIN_ALL, "mst_kruskal": _SHORT,
    "mst_prim": _TRAIN_ALL[:9], "naive_string_matcher": _TRAIN_ALL, "optimal_bst": _SHORT,
    "quickselect": _TRAIN_ALL, "quicksort": _SHORT, "segments_intersect": _TRAIN_ALL,
    "strongly_connected_components": _TRAIN_ALL[:6], "task_scheduling": _TRAIN_ALL,
    "topological_sort": _TRAIN_ALL[:8]}
_VAL_MAX = {  # validation lengths are range(4, max)
    "activity_selector": 41, "articulation_points": 20, "bellman_ford": 33, "bfs": 42,
    "binary_search": 65, "bridges": 8, "bubble_sort": 12, "dag_shortest_paths": 20, "dfs": 21,
    "dijkstra": 26, "find_maximum_subarray_kadane": 65, "floyd_warshall": 12, "graham_scan": 32,
    "heapsort": 12, "insertion_sort": 26, "jarvis_march": 14, "kmp_matcher": 65, "lcs_length": 13,
    "matrix_chain_order": 13, "minimum": 65, "mst_kruskal": 11, "mst_prim": 27,
    "naive_string_matcher": 65, "optimal_bst": 11, "quickselect": 65, "quicksort": 13,
    "segments_intersect": 65, "strongly_connected_components": 17, "task_scheduling": 42,
    "topological_sort": 22}
VAL_LENGTHS: Mapping[str, list[int]] = {a: list(range(4, m)) for a, m in _VAL_MAX.items()}
TRAIN_SAMPLES, VAL_SAMPLES = 10_000, 125  # per algorithm (train), per algorithm and length (val)
TRAIN_SEEDS, VAL_SEEDS = (0,), (3, 14, 35, 81, 94)

_SEP = ", "
_TRACE_SEP = " | "


class TextParseError(InputError):
    """An answer string is not in the CLRS-Text format of its algorithm."""


# -- writing -----------------------------------------------------------------------------------
def _check(traj: Trajectory, trace: bool) -> None:
    if traj.name not in ALGORITHMS:
        raise InputError(f"CLRS-Text has no format for {traj.name!r}; it covers {list(ALGORITHMS)}")
    if trace and traj.name not in TRACE_ALGORITHMS:
        raise InputError(f"CLRS-Text writes {traj.name!r} without a trace; trace=True is for "
                         f"{list(TRACE_ALGORITHMS)}")


def _bracket(items) -> str:
    return "[" + " ".join(items) + "]"


def _ints(x: np.ndarray) -> list[str]:
    return [str(v) for v in np.asarray(x).astype(np.int64).ravel().tolist()]


def _floats(x: np.ndarray) -> list[str]:
    # numpy's shortest round-trip repr of each value (float32 values as float32), as ``str(a)``
    return [str(v) for v in np.asarray(x).ravel()]


def _edges(cells: list[str], n_rows: int) -> str:
    m = len(cells) // n_rows if n_rows else 0
    return "[" + _SEP.join(_bracket(cells[i * m:(i + 1) * m]) for i in range(n_rows)) + "]"


def _order(pred: np.ndarray) -> np.ndarray:
    """Node indices in sorted order from the predecessor pointers of a sorting output."""
    pred = np.asarray(pred).astype(np.int64)
    tail = np.ones(len(pred), dtype=bool)
    tail[pred] = False
    last = np.flatnonzero(tail)
    if len(last) != 1:
        raise InputError(f"predecessor pointers {pred.tolist()} are not one chain")
    order = np.empty(len(pred), dtype=np.int64)
    order[-1] = last[0]
    for i in range(len(pred) - 2, -1, -1):
        order[i] = pred[order[i + 1]]
    return order


def _value(traj: Trajectory, probe: str, x: np.ndarray, keys: list[str] | None = None) -> str:
    """One probe value (no batch axis) as text; ``probe`` names the spec entry giving its type;
    ``keys``: the key values as text, for sorting outputs (computed here when not given)."""
    name = traj.name
    _, loc, typ = SPECS[name][probe]
    if loc == Location.NODE:
        if typ == Type.SHOULD_BE_PERMUTATION:
            keys = _floats(traj.inputs["key"]) if keys is None else keys
            return _bracket([keys[i] for i in _order(x).tolist()])
        if typ == Type.MASK_ONE:
            return str(int(np.flatnonzero(x)[0]))
        if typ == Type.SCALAR:
            return _bracket(_ints(x) if (name, probe) in INTEGER_INPUTS else _floats(x))
        if typ == Type.CATEGORICAL:
            return _bracket(_ints(np.argmax(x, axis=-1)))
        return _bracket(_ints(x))
    if loc == Location.GRAPH:
        if typ == Type.SCALAR:
            return str(np.asarray(x)[()])
        if typ == Type.CATEGORICAL:
            return str(int(np.argmax(x)))
        return str(int(np.asarray(x)))
    # edge
    n = x.shape[0]
    if typ == Type.SCALAR:
        return _edges(_ints(x) if (name, probe) in INTEGER_INPUTS else _floats(x), n)
    if typ == Type.CATEGORICAL:
        classes = np.argmax(x, axis=-1)
        classes[np.any(x == -1, axis=-1)] = -1
        return _edges(_ints(classes), n)
    return _edges(_ints(x), n)


def _output_names(name: str, trace: bool) -> list[str]:
    if trace and name in TRACE_OUTPUTS:
        return list(TRACE_OUTPUTS[name])
    return [k for k, p in SPECS[name].items() if p.stage == Stage.OUTPUT]


def _paren(s: str, name: str) -> str:
    return f"({s})" if name in _PARENTHESES else s


def _trace_hints(name: str, outputs: list[str]) -> list[tuple[str, str]]:
    """(hint, probe whose type formats it) for the hints a trace shows, in spec order."""
    pairs = []
    for k, p in SPECS[name].items():
        if p.stage != Stage.HINT:
            continue
        if name in _STRING_MATCHERS:
            if k == TRACE_OUTPUTS[name][0]:
                pairs.append((k, k))
        elif name in TRACE_OUTPUTS:
            if k in TRACE_OUTPUTS[name]:
                pairs.append((k, k))
        elif k[:-2] in outputs:
            pairs.append((k, k[:-2]))
    return pairs


def _snapshot(traj: Trajectory, pairs, t: int, keys) -> str:
    return _paren(_SEP.join(_value(traj, probe, traj.hints[h][t], keys) for h, probe in pairs), traj.name)


def _keys(traj: Trajectory) -> list[str] | None:
    return _floats(traj.inputs["key"]) if "pred" in SPECS[traj.name] and "key" in traj.inputs else None


def question(traj: Trajectory, trace: bool = False) -> str:
    """The CLRS-Text question of ``traj``: algorithm, inputs (and the initial trace), output names."""
    _check(traj, trace)
    spec = SPECS[traj.name]
    parts = [f"{k}: {_value(traj, k, traj.inputs[k])}" for k, p in spec.items()
             if p.stage == Stage.INPUT and k != "pos" and not (k == "adj" and "A" in spec)]
    names = _output_names(traj.name, trace)
    asked = _SEP.join(names)
    if trace:
        asked = _paren(asked, traj.name)
        pairs = _trace_hints(traj.name, names)
        if pairs:
            parts.append(f"initial_trace: {_snapshot(traj, pairs, 0, _keys(traj))}")
            asked = f"trace{_TRACE_SEP}{asked}"
    return f"{traj.name}:\n{_SEP.join(parts)}\n{asked}:\n"


def answer(traj: Trajectory, trace: bool = False) -> str:
    """The CLRS-Text answer of ``traj``: its outputs (after the intermediate trace)."""
    _check(traj, trace)
    names = _output_names(traj.name, trace)
    keys = _keys(traj)
    if trace and traj.name in TRACE_OUTPUTS:
        out = _SEP.join(_value(traj, k, traj.hints[k][-1], keys) for k in names)
    else:
        out = _SEP.join(_value(traj, k, traj.outputs[k], keys) for k in names)
    if trace:
        out = _paren(out, traj.name)
        pairs = _trace_hints(traj.name, names)
        if pairs:  # the first snapshot is in the question, the last equals the result
            steps = _SEP.join(_snapshot(traj, pairs, t, keys) for t in range(1, traj.length - 1))
            out = f"{steps}{_TRACE_SEP}{out}"
    return f"{out}\n\n"


def to_text(traj: Trajectory, trace: bool = False) -> tuple[str, str]:
    """``(question(traj, trace), answer(traj, trace))``."""
    return question(traj, trace), answer(traj, trace)


# -- reading -----------------------------------------------------------------------------------
def _split_top(s: str) -> list[str]:
    """Split at ', ' outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(s):
        if c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif depth == 0 and s.startswith(_SEP, i):
            parts.append(s[start:i])
            start = i + len(_SEP)
    parts.append(s[start:])
    return parts


_NUMBER = re.compile(r"^-?\d+$")


def _numbers(s: str, ints: bool) -> list:
    out = []
    for tok in s.split(" "):
        if ints and not _NUMBER.match(tok):
            raise ValueError(tok)
        out.append(int(tok) if ints else float(tok))
    return out


def _row(s: str, ints: bool) -> list:
    if not (s.startswith("[") and s.endswith("]")):
        raise ValueError(s)
    return _numbers(s[1:-1], ints) if s[1:-1] else []


def _parse_value(name: str, probe: str, s: str, inputs: Mapping | None) -> np.ndarray:
    _, loc, typ = SPECS[name][probe]
    n = None if inputs is None else int(np.asarray(inputs["pos"]).shape[0])
    if loc == Location.EDGE:
        if not (s.startswith("[") and s.endswith("]")):
            raise ValueError(s)
        rows = [_row(r, typ != Type.SCALAR) for r in _split_top(s[1:-1])] if s[1:-1] else []
        if len({len(r) for r in rows}) > 1:
            raise ValueError("rows of unequal length")
        x = np.array(rows)
        if typ == Type.CATEGORICAL:
            k = CATEGORIES[(name, probe)]
            out = one_hot(np.where(x < 0, k - 1, x), k)
            out[x < 0] = -one_hot(k - 1, k)
            return out
        return x.astype(np.int64 if typ == Type.POINTER else np.float32)
    if loc == Location.GRAPH:
        if typ == Type.SCALAR:
            return np.float32(float(s))
        [v] = _numbers(s, True)
        if typ == Type.CATEGORICAL:
            return one_hot(v, CATEGORIES[(name, probe)])
        return np.int64(v) if typ == Type.POINTER else np.float32(v)
    # node
    if typ == Type.MASK_ONE:
        [v] = _numbers(s, True)
        if n is None:
            raise _NeedsInputs(f"{probe} (mask_one) needs the number of nodes")
        if not 0 <= v < n:
            raise ValueError(f"index {v} outside 0..{n - 1}")
        return one_hot(v, n)
    if typ == Type.SHOULD_BE_PERMUTATION:
        values = _row(s, False) and s[1:-1].split(" ")
        if inputs is None:
            raise _NeedsInputs(f"{probe} (sorted key values) needs the key to recover the order")
        keys = _floats(inputs["key"])
        free: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            free.setdefault(k, []).append(i)
        try:
            order = [free[v].pop(0) for v in values]
        except (KeyError, IndexError):
            raise ValueError("the values are not a permutation of the key") from None
        if len(order) != len(keys):
            raise ValueError(f"{len(order)} values for {len(keys)} keys")
        pred = np.empty(len(order), dtype=np.int64)
        pred[order[0]] = order[0]
        pred[order[1:]] = order[:-1]
        return pred
    x = np.array(_row(s, typ != Type.SCALAR))
    if typ == Type.CATEGORICAL:
        return one_hot(x, CATEGORIES[(name, probe)])
    return x.astype(np.int64 if typ == Type.POINTER else np.float32)


class _NeedsInputs(Exception):
    pass


def parse_answer(name: str, text: str, inputs: Mapping[str, np.ndarray] | None = None,
                 trace: bool = False) -> dict[str, np.ndarray]:
    """Read a CLRS-Text answer back into outputs (nar's Trajectory conventions).

    ``inputs`` (e.g. ``traj.inputs``) is needed for ``mask_one`` outputs (the node count) and for
    sorting outputs (the key, to turn sorted values back into predecessor pointers).  With ``trace``
    only the final result (after the last `` | ``) is read; the search and string algorithms then
    return their answered hints (:data:`TRACE_OUTPUTS`) instead of outputs.  Raises
    :class:`TextParseError` naming the part that is not in the format.
    """
    if name not in ALGORITHMS:
        raise InputError(f"CLRS-Text has no format for {name!r}; it covers {list(ALGORITHMS)}")
    body = text[:-2] if text.endswith("\n\n") else text.rstrip("\n")
    if trace and _TRACE_SEP in body:
        body = body.rsplit(_TRACE_SEP, 1)[1]
    if trace and name in _PARENTHESES:
        if not (body.startswith("(") and body.endswith(")")):
            raise TextParseError(f"{name}: answer {body!r} should be in parentheses")
        body = body[1:-1]
    names = _output_names(name, trace)
    parts = _split_top(body)
    if len(parts) != len(names):
        raise TextParseError(f"{name}: answer {body!r} has {len(parts)} part(s); expected "
                             f"{len(names)} ({', '.join(names)})")
    out = {}
    for k, s in zip(names, parts):
        try:
            out[k] = _parse_value(name, k, s, inputs)
        except _NeedsInputs as e:
            raise InputError(f"{name}: parse_answer needs inputs=: {e}") from None
        except (ValueError, IndexError) as e:
            raise TextParseError(f"{name}: cannot read {k} ({SPECS[name][k].location}, "
                                 f"{SPECS[name][k].type}) from {s!r}: {e}") from None
    return out


def score_answer(name: str, text: str, traj: Trajectory, trace: bool = False) -> dict:
    """Score an answer against ``traj``: ``exact`` (the string equals the true answer, trailing
    newlines aside), ``parsed``
    (False if unreadable), per-output CLRS metrics (``outputs``) and their mean (``score``; 0 when
    unreadable).  The CLRS metrics are nar's (:data:`nar.models.probe_types.METRIC_TYPES`)."""
    truth_text = answer(traj, trace)
    exact = text == truth_text or text.rstrip("\n") == truth_text.rstrip("\n")
    try:
        pred = parse_answer(name, text, traj.inputs, trace)
    except TextParseError as e:
        return {"exact": False, "parsed": False, "error": str(e), "outputs": {}, "score": 0.0}
    truth = parse_answer(name, truth_text, traj.inputs, trace)
    import torch

    from .models.probe_types import METRIC_TYPES
    scores = {}
    for k, t in truth.items():
        p = pred[k]
        if np.shape(p) != np.shape(t):
            scores[k] = 0.0
            continue
        _, loc, typ = SPECS[name][k]
        cell = {Location.NODE: t.shape[:1], Location.EDGE: t.shape[:2], Location.GRAPH: ()}[loc]
        mask = torch.ones((1,) + tuple(cell), dtype=torch.bool)
        stats = METRIC_TYPES[typ].metric_stats(torch.as_tensor(p)[None], torch.as_tensor(t)[None], mask)
        scores[k] = METRIC_TYPES[typ].metric_value(stats.reshape(-1, stats.shape[-1]).sum(0))
    return {"exact": exact, "parsed": True, "outputs": scores,
            "score": float(np.mean(list(scores.values()))) if scores else 0.0}


# -- streaming ---------------------------------------------------------------------------------
def truncate_inputs(args: dict, decimals: int = DECIMALS) -> dict:
    """Float arguments truncated (toward zero) to ``decimals`` decimals, as the reference sampler
    does before running the algorithm; integer arguments are left as they are."""
    scale = 10.0 ** decimals
    out = {}
    for k, v in args.items():
        a = np.asarray(v)
        out[k] = (np.trunc(a.astype(np.float64) * scale) / scale) if a.dtype.kind == "f" else v
    return out


def iter_examples(name: str, n: int = 16, count: int = 1, seed: int = 0, trace: bool = False,
                  **sampler_options) -> Iterator[dict]:
    """Stream ``{"question", "answer", "text", "algo_name", "length", "use_hints"}`` records (the
    reference's ``clrs_generator`` fields) for ``count`` inputs drawn by nar's sampler of ``name``
    at size ``n``, float inputs truncated to :data:`DECIMALS` decimals before execution."""
    from .api import get_algorithm
    from .batched import execute_many
    from .api import DRAW_BLOCK
    from .samplers import BULK_SAMPLERS, check_request

    if name not in ALGORITHMS:
        raise InputError(f"CLRS-Text has no format for {name!r}; it covers {list(ALGORITHMS)}")
    get_algorithm(name)
    n, count, seed, _, sampler_options = check_request(name, n, count, seed, False, sampler_options)
    if trace and name not in TRACE_ALGORITHMS:
        raise InputError(f"CLRS-Text writes {name!r} without a trace; --trace is for "
                         f"{list(TRACE_ALGORITHMS)}")

    def generate() -> Iterator[dict]:
        rng = np.random.default_rng(seed)
        draw = BULK_SAMPLERS[name]
        done = 0
        while done < count:
            block = [truncate_inputs(a) for a in draw(rng, n, DRAW_BLOCK, **sampler_options)]
            for traj in execute_many(name, block[:count - done]):
                q, a = question(traj, trace), answer(traj, trace)
                yield {"text": q + a, "question": q, "answer": a, "algo_name": name, "length": n,
                       "use_hints": trace}
                done += 1

    return generate()  # arguments are checked above, before anything is drawn
