"""Write tests/golden/clrs_text.json: CLRS-Text question/answer strings from the reference formatter.

Runs in the throwaway venv with dm-clrs 2.0.3 (see ``make_golden.sh``; only numpy/jax/absl needed)::

    /tmp/nar-golden-venv/bin/python scripts/golden/make_text_golden.py tests/golden
    /tmp/nar-golden-venv/bin/python scripts/golden/make_text_golden.py --bench 1000   # strings/s

For every algorithm, length and seed below, the reference sampler (``truncate_decimals=3``, as
``huggingface_generators.clrs_generator`` builds it) draws one input; the exact arguments handed to the
reference algorithm are recorded by name, with the strings ``clrs_utils.format_clrs_example`` writes
with and without hints.  nar's tests run ``nar.execute`` on those arguments and compare its strings.
"""
from __future__ import annotations

import copy
import inspect
import json
import sys
from pathlib import Path

import numpy as np

LENGTHS = (4, 7)
SEEDS = (0, 1)

from reference_env import import_reference  # noqa: E402  (this folder is on sys.path)

import_reference()
from clrs._src import samplers  # noqa: E402
from clrs._src.clrs_text import clrs_utils  # noqa: E402

ALGOS = sorted(set(clrs_utils.CLRS_TASKS_WITH_HINTS) | {"segments_intersect"})


def _plain(x):
    """JSON form of one algorithm argument: nested lists, with its numpy dtype kind."""
    arr = np.asarray(x)
    return {"value": arr.tolist(), "dtype": arr.dtype.kind}


def _case(algo: str, length: int, seed: int) -> dict:
    sampler, _ = samplers.build_sampler(algo, seed=seed, num_samples=-1, length=length,
                                        track_max_steps=False, use_padding=False, truncate_decimals=3)
    fn = sampler._algorithm
    names = list(inspect.signature(fn).parameters)
    seen = []

    def recording(*data):
        seen.append(copy.deepcopy(data))  # the reference sorts some arguments in place
        return fn(*data)

    sampler._algorithm = recording
    sample = sampler.next(batch_size=1)
    [data] = seen
    case = {"algo": algo, "length": length, "seed": seed,
            "args": {k: _plain(v) for k, v in zip(names, data)}}
    case["question"], case["answer"] = clrs_utils.format_clrs_example(algo, sample, use_hints=False)
    if algo in clrs_utils.CLRS_TASKS_WITH_HINTS:
        case["question_trace"], case["answer_trace"] = clrs_utils.format_clrs_example(
            algo, sample, use_hints=True)
    return case


def _defaults() -> dict:
    """The module-level ``_DEFAULT_*`` constants of ``generate_clrs_text.py`` (read from its source:
    importing it needs tensorflow and ml_collections)."""
    import ast
    source = Path(sys.modules["clrs._src.clrs_text"].__path__[0], "generate_clrs_text.py").read_text()
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id.startswith("_DEFAULT_"):
            out[node.targets[0].id] = eval(compile(ast.Expression(node.value), "<defaults>", "eval"),
                                           {"range": range, "list": list})
    return out


def main(out_dir: str) -> None:
    cases = [_case(a, n, s) for a in ALGOS for n in LENGTHS for s in SEEDS]
    path = Path(out_dir) / "clrs_text.json"
    path.write_text(json.dumps({"reference": "dm-clrs 2.0.3 clrs_text.clrs_utils.format_clrs_example",
                                "defaults": _defaults(), "cases": cases},
                               indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes, {len(cases)} cases)")


BENCH = (("bfs", 16), ("dijkstra", 16), ("insertion_sort", 16), ("binary_search", 16))


def bench(count: int) -> None:
    """Strings per second of the reference: formatting only (samples drawn beforehand) and sampling
    + formatting as ``clrs_generator`` does, with and without hints (compare ``nar.text``)."""
    import time
    for algo, n in BENCH:
        sampler, _ = samplers.build_sampler(algo, seed=0, num_samples=-1, length=n, track_max_steps=False,
                                            use_padding=False, truncate_decimals=3)
        t0 = time.perf_counter()
        samples = [sampler.next(batch_size=1) for _ in range(count)]
        draw = time.perf_counter() - t0
        for hints in (False, True):
            t0 = time.perf_counter()
            for s in samples:
                clrs_utils.format_clrs_example(algo, s, use_hints=hints)
            fmt = time.perf_counter() - t0
            print(f"reference {algo} n={n} hints={hints}: format {count / fmt:,.0f}/s, "
                  f"sample+format {count / (draw + fmt):,.0f}/s")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--bench":
        bench(int(sys.argv[2]))
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "tests/golden")
