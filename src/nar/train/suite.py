"""Single-task benchmark suites: train one run per (algorithm, seed), resumably, and tabulate the scores
beside the published Triplet-GMPNN ones (used by ``benchmarks/core_suite.py`` and ``benchmarks/clrs30.py``).

Runs go to ``<out>/<algorithm>-s<seed>``; a run with a ``results.json`` is not trained again, an
interrupted one is resumed from its last checkpoint.  A run that fails (e.g. diverges) is reported, and
the suite goes on.
"""
from __future__ import annotations

import json
import statistics
import time
import traceback
from pathlib import Path

from .config import TrainConfig
from .loop import RESULTS, train
from .published import TRIPLET_GMPNN, family_means, overall


def run_dir(out, algorithm: str, seed: int) -> Path:
    return Path(out) / f"{algorithm}-s{seed}"


def run_suite(algorithms, seeds, out, base: TrainConfig, *, per_algorithm: dict | None = None,
              progress: bool = True, log=print) -> dict[tuple[str, int], dict]:
    """Train every (algorithm, seed); returns ``{(algorithm, seed): results or {'error': ...}}``.

    ``per_algorithm``: config changes for some algorithms (e.g. a smaller validation set).
    """
    done = {}
    for name in algorithms:
        for seed in seeds:
            d = run_dir(out, name, seed)
            if (d / RESULTS).is_file():
                done[(name, seed)] = json.loads((d / RESULTS).read_text())
                log(f"[{name} s{seed}] done before: test {done[(name, seed)]['test_mean']:.4f}")
                continue
            cfg = base.replace(algorithms=[name], seed=seed, **(per_algorithm or {}).get(name, {}))
            t = time.time()
            try:
                res = train(cfg, d, resume=(d / "config.json").is_file(), progress=progress)
            except Exception as exc:  # keep the suite going; the failure is in the table
                log(f"[{name} s{seed}] FAILED: {exc}\n{traceback.format_exc()}")
                done[(name, seed)] = {"error": str(exc)}
                continue
            done[(name, seed)] = res
            log(f"[{name} s{seed}] {res['steps_done']} steps in {time.time() - t:.0f} s: best val "
                f"{res['best_val']:.4f} (step {res['best_step']}), test {res['test_mean']:.4f}")
    return done


def load_results(out, algorithms, seeds) -> dict[tuple[str, int], dict]:
    res = {}
    for name in algorithms:
        for seed in seeds:
            f = run_dir(out, name, seed) / RESULTS
            if f.is_file():
                res[(name, seed)] = json.loads(f.read_text())
    return res


def _mean_sd(vals: list[float]) -> str:
    if not vals:
        return "—"
    m = 100 * statistics.fmean(vals)
    return f"{m:.2f}" if len(vals) == 1 else f"{m:.2f} ± {100 * statistics.stdev(vals):.2f}"


def summarise(results: dict[tuple[str, int], dict], algorithms) -> dict[str, dict]:
    """Per algorithm: mean val/test (fractions), seeds, steps and seconds, from the runs that finished."""
    rows = {}
    for name in algorithms:
        runs = [r for (a, _), r in results.items() if a == name and "error" not in r]
        errors = [r["error"] for (a, _), r in results.items() if a == name and "error" in r]
        if not runs:
            rows[name] = {"runs": 0, "errors": errors}
            continue
        rows[name] = {
            "runs": len(runs), "errors": errors,
            "val": [r["best_val"] for r in runs], "test": [r["test"][name]["score"] for r in runs],
            "steps": [r["steps_done"] for r in runs], "seconds": [r["seconds"] for r in runs],
            "step_count": runs[0]["step_count"], "test_n": runs[0]["test"][name]["n"],
            "test_count": runs[0]["test"][name]["count"],
        }
    return rows


def markdown_table(rows: dict[str, dict]) -> str:
    """Validation / test table beside the published Triplet-GMPNN test scores (all in %)."""
    lines = ["| algorithm | seeds | steps | train time (s) | step count | val n=16 | test n=64 | published | Δ test |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        pub = TRIPLET_GMPNN.get(name)
        if not r["runs"]:
            why = "; ".join(r["errors"]) or "not run"
            lines.append(f"| {name} | 0 | — | — | — | — | — | {pub} | ({why[:80]}) |")
            continue
        test = 100 * statistics.fmean(r["test"])
        delta = f"{test - pub:+.2f}" if pub is not None else "—"
        steps = "/".join(str(s) for s in sorted(set(r["steps"])))
        secs = f"{statistics.fmean(r['seconds']):.0f}"
        lines.append(f"| {name} | {r['runs']} | {steps} | {secs} | {r['step_count']} | {_mean_sd(r['val'])} | "
                     f"{_mean_sd(r['test'])} | {pub} | {delta} |")
    return "\n".join(lines)


def family_table(rows: dict[str, dict]) -> str:
    """Family means and the mean of family means, ours (over the algorithms run) vs published."""
    ours = {a: 100 * statistics.fmean(r["test"]) for a, r in rows.items() if r["runs"]}
    if not ours:
        return "(no finished runs)"
    fm, pub = family_means(ours), family_means({a: TRIPLET_GMPNN[a] for a in ours})
    lines = ["| family | algorithms run | ours | published (same algorithms) |", "|---|---|---|---|"]
    for fam in fm:
        k = sum(1 for a in ours if a in _members(fam))
        lines.append(f"| {fam} | {k} | {fm[fam]:.2f} | {pub[fam]:.2f} |")
    lines.append(f"| **mean of family means** | {len(ours)} | **{overall(ours):.2f}** | "
                 f"**{overall({a: TRIPLET_GMPNN[a] for a in ours}):.2f}** (all 30: 74.14) |")
    return "\n".join(lines)


def _members(family: str):
    from ..specs import FAMILIES

    return FAMILIES[family]
