"""Training parity: nar's Reasoner beside the reference CLRS ``BaselineModel`` (dm-clrs, JAX/Haiku), step by step.

Both start from the same weights (the reference's initial parameters copied into nar with
:func:`nar.models.reference.load_clrs_params`), see the same batches (sampled once by the reference's own
pipeline, as ``clrs/examples/run.py``: sizes 4, 7, 11, 13, 16 cycled, random ``pos``; converted to nar
Batches) and the same Gumbel noise in the permutation decoder (the reference's uniform draws, streamed out
of it, replace nar's), and train with the reference's defaults: triplet_gmpnn, hidden 128, batch 32,
Adam 1e-3, gradient clipping 1.0, hints encoded and decoded, soft feedback, no teacher forcing, no dropout,
float32.  The steps are interleaved (reference step k, then nar step k), so both run under the same load.

The reference runs in the throwaway environment of ``scripts/golden/make_golden.sh`` as a subprocess
(``scripts/golden/parity_reference.py``); arrays travel through ``.npz`` files; nar never imports it.

Reported per algorithm (JSON, rewritten after every step): both loss curves, their relative difference
(max over the first 100 steps), the relative parameter difference at a few steps, the gradients of step 0
per parameter (where they differ first), the validation score after N steps of both, the time per step
of both (the reference's first step on each new batch shape includes its compilation; medians exclude it).

    python benchmarks/parity.py --algorithms bfs --steps 20 --batch 8 --out /tmp/parity.json
    python benchmarks/parity.py --plot /tmp/parity.json --figure docs/figures/parity_loss.png

Several seeds (the reference's ``run.py`` seed: data, initial weights, rng keys), one result file per seed and
algorithm, finished ones skipped on a rerun; then the table of validation scores with their seed spread:

    python benchmarks/parity.py --algorithms bfs insertion_sort bellman_ford --seeds 42 43 44 --steps 500 \
        --threads 1 --out-dir /tmp/parity500
    python benchmarks/parity.py --table /tmp/parity500/*.json
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see benchmarks/step_time.py

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nar.models.probe_types as probe_types  # noqa: E402
from nar.data.batch import Batch  # noqa: E402
from nar.models import Reasoner, evaluate  # noqa: E402
from nar.models.reference import clrs_params, load_clrs_params, no_effect_params  # noqa: E402
from nar.specs import PRED_AS_INPUT_ALGOS, SPECS, Stage  # noqa: E402
from nar.types import POINTER_TYPES  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "scripts" / "golden" / "parity_reference.py"
VENV = Path(os.environ.get("NAR_GOLDEN_VENV", "/tmp/nar-golden-venv"))


class Reference:
    """The reference half, a subprocess answering one JSON line per command."""

    def __init__(self, workdir: Path, args, algorithm: str):
        py = VENV / "bin" / "python"
        if not py.exists():
            sys.exit(f"{py} not found: build the reference environment with scripts/golden/make_golden.sh "
                     "(or set NAR_GOLDEN_VENV)")
        self.log = open(workdir / "reference.log", "w")
        self.proc = subprocess.Popen(
            [str(py), str(REFERENCE), "--algorithm", algorithm, "--workdir", str(workdir), "--steps",
             str(args.steps), "--batch", str(args.batch), "--hidden", str(args.hidden), "--seed", str(args.seed),
             "--val-samples", str(args.val_samples), "--lengths", args.lengths],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1)
        self.ready = self.read()

    def read(self) -> dict:
        for line in self.proc.stdout:
            if line.startswith("@@ "):
                return json.loads(line[3:])
        raise RuntimeError(f"the reference stopped; see {self.log.name}")

    def __call__(self, **cmd) -> dict:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        try:
            self.proc.stdin.write('{"cmd": "quit"}\n')
            self.proc.stdin.close()
            self.proc.wait(60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        self.log.close()


def to_batch(algorithm: str, spec: dict, z, key: str) -> Batch:
    """A reference feedback (CLRS layout: hints ``[T, B, ...]``, pointers as floats) as a nar Batch."""
    z = {k: z[k] for k in z.files if k.startswith(key + "/")} if hasattr(z, "files") else dict(z)
    if algorithm in PRED_AS_INPUT_ALGOS and "pred" in spec and "pred_h" in SPECS[algorithm]:
        # the reference feeds the constant hint pred_h as the input pred; nar keeps it a hint (and adapts it)
        spec = {("pred_h" if k == "pred" else k): v for k, v in spec.items()}
        t_len = next(v.shape[0] for k, v in z.items() if "/hint/" in k)
        pred = z.pop(f"{key}/input/pred")
        z[f"{key}/hint/pred_h"] = np.broadcast_to(pred[None], (t_len,) + pred.shape)
    if set(spec) != set(SPECS[algorithm]):
        raise ValueError(f"{algorithm}: reference probes {sorted(spec)} != nar's {sorted(SPECS[algorithm])}")
    lengths = z[f"{key}/lengths"].astype(np.int64)
    groups = {Stage.INPUT: {}, Stage.HINT: {}, Stage.OUTPUT: {}}
    for name, p in SPECS[algorithm].items():
        a = z[f"{key}/{p.stage.value}/{name}"]
        a = a.astype(np.int64) if p.type in POINTER_TYPES else a.astype(np.float32)
        if p.stage == Stage.HINT:  # [B, T, ...], a finished sample repeats its last snapshot (nar's padding)
            a = np.swapaxes(a, 0, 1)
            t = np.minimum(np.arange(a.shape[1])[None, :], lengths[:, None] - 1)
            a = a[np.arange(a.shape[0])[:, None], t]
        groups[p.stage][name] = torch.from_numpy(np.ascontiguousarray(a))
    b, n = groups[Stage.INPUT]["pos"].shape
    t = int(next(iter(groups[Stage.HINT].values())).shape[1])
    lengths_t = torch.from_numpy(lengths)
    return Batch(algorithm=algorithm, inputs=groups[Stage.INPUT], hints=groups[Stage.HINT],
                 outputs=groups[Stage.OUTPUT], lengths=lengths_t, n_nodes=torch.full((b,), n),
                 node_mask=torch.ones(b, n, dtype=torch.bool), edge_mask=torch.ones(b, n, n, dtype=torch.bool),
                 time_mask=torch.arange(t)[None, :] < lengths_t[:, None])


def reference_twin(algorithm: str, hidden: int, init: Path) -> Reasoner:
    """nar's Reasoner as the reference's run.py builds its model, with the reference's initial weights."""
    torch.manual_seed(0)  # irrelevant: every parameter is overwritten
    model = Reasoner(algorithm, "triplet_gmpnn", hidden=hidden, nb_triplet_fts=8, use_ln=True,
                     hint_mode="encoded_decoded", feedback="soft", encoder_init="xavier_on_scalars", dropout=0.0)
    with np.load(init) as z:
        load_clrs_params(model, haiku({k: z[k] for k in z.files}))
    return model


def haiku(flat: dict) -> dict:
    """``{'module/leaf': array}`` -> ``{module: {leaf: array}}``."""
    out: dict = {}
    for k, v in flat.items():
        m, leaf = k.rsplit("/", 1)
        out.setdefault(m, {})[leaf] = v
    return out


def as_reference(model: Reasoner, tensors: dict) -> dict:
    """nar tensors keyed like ``model.state_dict()`` (e.g. gradients) in the reference's layout."""
    twin = Reasoner(**model.config)
    twin.load_state_dict(tensors)
    return clrs_params(twin)


def rel_diffs(a: dict, b: dict, skip=()) -> dict:
    """Per reference parameter ``||a - b|| / ||b||`` (``b`` the reference), largest first; ``skip``: the
    parameters without effect (nar has none, see :func:`nar.models.reference.no_effect_params`)."""
    out = {}
    for m, leaves in b.items():
        for leaf, v in leaves.items():
            if f"{m}/{leaf}" in skip:
                continue
            ref = np.asarray(v, np.float64)
            d = np.linalg.norm(np.asarray(a[m][leaf], np.float64) - ref)
            out[f"{m}/{leaf}"] = float(d / max(np.linalg.norm(ref), 1e-30)) if d else 0.0
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


# the reference's Gumbel noise, replayed in nar's permutation decoder
_PENDING: list = []
_gumbel_like = probe_types.gumbel_like


def _replayed_gumbel(x, generator):
    if not _PENDING:
        return _gumbel_like(x, generator)
    u = _PENDING.pop()
    if tuple(u.shape) != tuple(x.shape):
        raise RuntimeError(f"reference noise {tuple(u.shape)} for a decoder output {tuple(x.shape)}")
    return -torch.log(-torch.log(u + 1e-12) + 1e-12)


probe_types.gumbel_like = _replayed_gumbel


def stage_noise(path: Path, batch: Batch) -> None:
    """The uniform draws of the reference's step (``[steps, B, N, N]``) at each sample's output step."""
    _PENDING.clear()
    if path.exists():
        u = np.load(path)
        final = np.maximum(batch.lengths.numpy() - 2, 0)
        _PENDING.append(torch.from_numpy(u[final, np.arange(u.shape[1])]).to(torch.float32))


def nar_step(model: Reasoner, opt, batch: Batch) -> tuple[float, float]:
    """One training step as ``nar.train.loop`` does it; (loss, seconds)."""
    t = time.perf_counter()
    model.train()
    loss = model.loss(model(batch, 0.0), batch)["total"]
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return float(loss.detach()), time.perf_counter() - t


def nar_grads(model: Reasoner, batch: Batch) -> tuple[float, dict]:
    model.train()
    model.zero_grad(set_to_none=True)
    loss = model.loss(model(batch, 0.0), batch)["total"]
    loss.backward()
    grads = {k: (p.grad if p.grad is not None else torch.zeros_like(p)).detach().clone()
             for k, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    return float(loss.detach()), grads


def run_algorithm(algorithm: str, args, record: dict, save) -> None:
    res = record["algorithms"][algorithm] = {"steps": [], "status": "starting"}
    with tempfile.TemporaryDirectory(prefix=f"nar-parity-{algorithm}-") as tmp:
        wd = Path(tmp)
        t0 = time.perf_counter()
        ref = Reference(wd, args, algorithm)
        try:
            res["reference_setup_s"] = time.perf_counter() - t0
            spec = json.loads((wd / "spec.json").read_text())
            with np.load(wd / "data.npz") as z:
                keys = {k.split("/")[0] + "/" + k.split("/")[1] for k in z.files}
                train = [to_batch(algorithm, spec, z, f"train/{k}") for k in range(args.steps)]
                val = [to_batch(algorithm, spec, z, k) for k in sorted(x for x in keys if x.startswith("val/"))]
            model = reference_twin(algorithm, args.hidden, wd / "init.npz")
            skip = set(no_effect_params(model))
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            twin = None
            if args.twin:  # nar again, weights x (1 + 1e-7 N(0, 1)): how far float32-sized differences drift
                twin = Reasoner(**model.config)
                twin.load_state_dict(model.state_dict())
                gen = torch.Generator().manual_seed(1)
                with torch.no_grad():
                    for p in twin.parameters():
                        p.mul_(1 + 1e-7 * torch.randn(p.shape, generator=gen))
                opt_twin = torch.optim.Adam(twin.parameters(), lr=1e-3)
            # gradients of step 0, per parameter, before any update
            loss_r = ref(cmd="grads", k=0, path=str(wd / "grads0.npz"))["loss"]
            stage_noise(wd / "noise_grads_0.npy", train[0])
            loss_n, g = nar_grads(model, train[0])
            with np.load(wd / "grads0.npz") as z:
                gd = rel_diffs(as_reference(model, g), haiku({k: z[k] for k in z.files}), skip)
            res["grads0"] = {"loss_reference": loss_r, "loss_nar": loss_n,
                             "largest_rel_diff": dict(list(gd.items())[:8])}
            res["status"] = "training"
            for k in range(args.steps):
                r = ref(cmd="step", k=k)
                stage_noise(wd / f"noise_{k}.npy", train[k])
                loss_n, t_n = nar_step(model, opt, train[k])
                if _PENDING:
                    raise RuntimeError(f"step {k}: the reference's noise was not used by nar")
                b = train[k]
                row = {"k": k, "n": int(b.max_nodes), "T": int(b.max_length), "loss_reference": r["loss"],
                       "loss_nar": loss_n, "time_reference": r["time"], "time_nar": t_n, "compiled": r["compiled"],
                       "noise_draws": r["noise"]}
                if twin is not None:
                    stage_noise(wd / f"noise_{k}.npy", b)
                    row["loss_twin"] = nar_step(twin, opt_twin, b)[0]
                res["steps"].append(row)
                if (k + 1) in args.param_checks or k + 1 == args.steps:
                    ref(cmd="params", path=str(wd / "params.npz"))
                    with np.load(wd / "params.npz") as z:
                        pd = rel_diffs(clrs_params(model), haiku({k2: z[k2] for k2 in z.files}), skip)
                    res.setdefault("params", {})[str(k + 1)] = {"max": max(pd.values()),
                                                                "largest": dict(list(pd.items())[:5])}
                summarise(res)
                save()
            res["status"] = "evaluating"
            res["val_reference"] = ref(cmd="eval")
            s = evaluate(model, val, hints=False)
            res["val_nar"] = {"score": s.score, **s.outputs}
            res["val_samples"] = s.samples
            res["status"] = "done"
            summarise(res)
            save()
        finally:
            ref.close()


def summarise(res: dict) -> None:
    steps = res["steps"]
    if not steps:
        return
    rd = [abs(s["loss_nar"] - s["loss_reference"]) / abs(s["loss_reference"]) for s in steps]
    warm = [s["time_reference"] for s in steps if not s["compiled"]]
    res["summary"] = {
        "steps": len(steps),
        "max_rel_loss_diff_first_100": max(rd[:100]),
        "first_step_over_1pct": next((i for i, d in enumerate(rd) if d > 0.01), None),
        "max_rel_loss_diff": max(rd),
        **({"max_rel_loss_diff_nar_vs_twin_first_100": max(
            abs(s["loss_nar"] - s["loss_twin"]) / abs(s["loss_nar"]) for s in steps[:100]),
            "first_step_over_1pct_twin": next((s["k"] for s in steps
                                               if abs(s["loss_nar"] - s["loss_twin"]) > 0.01 * abs(s["loss_nar"])), None)}
           if "loss_twin" in steps[0] else {}),
        "final_loss_reference": steps[-1]["loss_reference"], "final_loss_nar": steps[-1]["loss_nar"],
        "median_step_s_reference_warm": statistics.median(warm) if warm else None,
        "median_step_s_nar": statistics.median(s["time_nar"] for s in steps),
        "compile_steps_reference": sum(s["compiled"] for s in steps),
        "total_s_reference": sum(s["time_reference"] for s in steps),
        "total_s_nar": sum(s["time_nar"] for s in steps),
    }


def _median(values) -> str:
    v = [x for x in values if x is not None]
    return f"{statistics.median(v):.2f}" if v else "-"


def table(paths: list[str]) -> str:
    """Markdown: per algorithm, both libraries' validation scores after N steps over the seeds (mean, spread)."""
    rows: dict = {}
    for p in paths:
        r = json.loads(Path(p).read_text())
        for a, res in r["algorithms"].items():
            if res.get("status") != "done":
                continue
            key = (a, r["args"]["steps"])
            rows.setdefault(key, []).append((r["args"]["seed"], res, r.get("loadavg")))
    out = ["| algorithm | steps | seeds | val score reference: per seed (mean, spread) | val score nar: per seed "
           "(mean, spread) | nar - ref (mean) | within each other's spread | final loss ref / nar (mean) "
           "| s/step ref warm / nar (median) | load avg (1 min) |", "|---" * 10 + "|"]
    for (a, steps), runs in sorted(rows.items()):
        runs.sort(key=lambda x: x[0])
        ref = [x[1]["val_reference"]["score"] for x in runs]
        nar = [x[1]["val_nar"]["score"] for x in runs]
        summ = [x[1]["summary"] for x in runs]
        within = (min(nar) <= max(ref) and max(nar) >= min(ref)) if len(runs) > 1 else None
        fmt = lambda v: ", ".join(f"{x:.3f}" for x in v) + f" ({statistics.mean(v):.3f}, {max(v) - min(v):.3f})"
        out.append(
            f"| {a} | {steps} | {', '.join(str(x[0]) for x in runs)} | {fmt(ref)} | {fmt(nar)} | "
            f"{statistics.mean(nar) - statistics.mean(ref):+.3f} | {'-' if within is None else ('yes' if within else 'no')} | "
            f"{statistics.mean(s['final_loss_reference'] for s in summ):.3f} / "
            f"{statistics.mean(s['final_loss_nar'] for s in summ):.3f} | "
            f"{_median(s['median_step_s_reference_warm'] for s in summ)} / "
            f"{_median(s['median_step_s_nar'] for s in summ)} | "
            f"{', '.join(f'{x[2][0]:.1f}' for x in runs if x[2])} |")
    return "\n".join(out)


def plot(paths: list[str], figure: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [json.loads(Path(p).read_text()) for p in paths]
    algs = [(r, a) for r in records for a in r["algorithms"] if r["algorithms"][a]["steps"]]
    fig, axes = plt.subplots(2, len(algs), figsize=(4.2 * len(algs), 5.6), squeeze=False,
                             gridspec_kw={"height_ratios": [2.2, 1]}, sharex="col")
    for j, (r, a) in enumerate(algs):
        steps = r["algorithms"][a]["steps"]
        k = [s["k"] + 1 for s in steps]
        lr, ln = [s["loss_reference"] for s in steps], [s["loss_nar"] for s in steps]
        ax = axes[0, j]
        ax.plot(k, lr, color="black", lw=2.2, label="reference (dm-clrs, JAX)")
        ax.plot(k, ln, color="tab:orange", lw=1.0, ls="--", label="nar (torch)")
        if "loss_twin" in steps[0]:
            ax.plot(k, [s["loss_twin"] for s in steps], color="tab:green", lw=0.8, ls=":",
                    label="nar, weights x (1+1e-7 N(0,1))")
        ax.set_title(f"{a}  (batch {r['args']['batch']}, hidden {r['args']['hidden']})", fontsize=10)
        ax.set_yscale("log")
        if j == 0:
            ax.set_ylabel("training loss")
            ax.legend(fontsize=8)
        rd = [max(abs(x - y) / abs(y), 1e-9) for x, y in zip(ln, lr)]
        bx = axes[1, j]
        bx.semilogy(k, rd, color="tab:blue", lw=1, label="nar vs ref")
        if "loss_twin" in steps[0]:
            bx.semilogy(k, [max(abs(s["loss_nar"] - s["loss_twin"]) / abs(s["loss_nar"]), 1e-9) for s in steps],
                        color="tab:green", lw=0.8, label="nar vs perturbed nar")
            bx.legend(fontsize=7)
        bx.axhline(0.01, color="grey", ls=":", lw=1)
        bx.set_xlabel("step")
        if j == 0:
            bx.set_ylabel("|nar - ref| / ref")
    fig.suptitle("Same initial weights, batches and Gumbel noise: training loss per step", fontsize=11)
    fig.tight_layout()
    Path(figure).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=110)
    print("wrote", figure)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--algorithms", nargs="+", default=["bfs", "bellman_ford", "insertion_sort"])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--seed", type=int, default=42, help="the reference's run.py seed (data, init, rng keys)")
    ap.add_argument("--lengths", default="4,7,11,13,16", help="training sizes, cycled (run.py's default)")
    ap.add_argument("--val-samples", type=int, default=64, help="validation samples at the largest size")
    ap.add_argument("--param-checks", type=int, nargs="*", default=[1, 10, 50, 100, 500])
    ap.add_argument("--twin", action="store_true",
                    help="also train nar with weights x (1 + 1e-7 N(0,1)) on the same batches: the drift of "
                         "float32-sized differences alone")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--out", default="/tmp/nar-parity.json", help="JSON results, rewritten after every step")
    ap.add_argument("--seeds", type=int, nargs="+", default=None,
                    help="with --out-dir: run each (seed, algorithm) as its own piece, <alg>_seed<s>_steps<N>.json; "
                         "finished pieces are skipped, so a stopped run resumes at the piece it was in")
    ap.add_argument("--out-dir", default=None, help="directory of the per-seed pieces (see --seeds)")
    ap.add_argument("--table", nargs="*", help="only print the Markdown table of these per-seed pieces")
    ap.add_argument("--plot", nargs="*", help="only draw the figure from these result files")
    ap.add_argument("--figure", default=None, help="PNG of the loss curves")
    args = ap.parse_args()
    if args.plot:
        plot(args.plot, args.figure or "parity_loss.png")
        return
    if args.table:
        print(table(args.table))
        return
    if args.seeds is None:
        args.seeds = [args.seed]
    elif args.out_dir is None:
        sys.exit("--seeds needs --out-dir (one result file per seed and algorithm)")
    if args.threads:
        torch.set_num_threads(args.threads)
    for a in args.algorithms:
        if a not in SPECS:
            sys.exit(f"unknown algorithm {a!r}")
    record = {"args": vars(args), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cpus",
              "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "algorithms": {}}

    def save():
        record["loadavg"] = os.getloadavg()
        tmp = Path(args.out + ".tmp")
        tmp.write_text(json.dumps(record, indent=1))
        tmp.replace(args.out)

    if args.out_dir is None:
        for a in args.algorithms:
            run_algorithm(a, args, record, save)
            print(a, json.dumps(record["algorithms"][a].get("summary")), flush=True)
        if args.figure:
            plot([args.out], args.figure)
        return
    # per-seed pieces, seed-major (every algorithm gets seed 1 before any gets seed 2); finished pieces skipped
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for a in args.algorithms:
            path = out_dir / f"{a}_seed{seed}_steps{args.steps}.json"
            if path.exists() and json.loads(path.read_text())["algorithms"].get(a, {}).get("status") == "done":
                print("done already:", path, flush=True)
                continue
            piece = argparse.Namespace(**{**vars(args), "seed": seed, "out": str(path)})
            rec = {**record, "args": vars(piece), "algorithms": {}}

            def save_piece(rec=rec, path=path):
                rec["loadavg"] = os.getloadavg()
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(rec, indent=1))
                tmp.replace(path)

            run_algorithm(a, piece, rec, save_piece)
            print(a, seed, json.dumps(rec["algorithms"][a].get("summary")), flush=True)


if __name__ == "__main__":
    main()
