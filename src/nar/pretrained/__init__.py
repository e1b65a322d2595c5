"""A library of pretrained processors, shipped inside the package (no network at run time).

Each entry is a model card ``<name>.json`` under ``nar/pretrained/weights/`` and one safetensors file per
*part* of the trained reasoner's ``state_dict``, in float16: ``<name>.processor.safetensors`` (the reusable
processor) and ``<name>.heads.<algorithm>.safetensors`` (that algorithm's encoders and decoders), so that no
file is much over 0.5 MB and a multi-task entry's processor loads without its heads.  The card's scores are
measured with these rounded weights.  The card holds the algorithm(s), processor, hidden size, the training
config (the committed ``configs/pretrained/<name>.yaml``), steps done out of the budget, CPU time, data
seeds, the scores at n = 16 / 64 / 128 measured by :func:`score_entry` (the ``nar eval`` scorer), and each
part's file, size and sha256 (``files``), checked on every load.

    nar.pretrained.list()                                  # names
    entry = nar.pretrained.load("triplet_gmpnn-bellman_ford")
    entry.processor                                        # the nn.Module processor (a nar Processor)
    block = entry.processor_module(node_dim=32)            # nar.blueprint.ProcessorModule around it
    entry.model                                            # the full Reasoner (for nar-style data)
    nar.pretrained.load("triplet_gmpnn-multitask", algorithms=["bfs"])   # the processor + bfs's heads only

Command line: ``nar pretrained list | show NAME | verify [NAME] [--scores]``, and
``nar pretrained export RUN --name NAME --config FILE`` to add an entry from a training run.
"""
from __future__ import annotations

import builtins
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ..validation import InputError

WEIGHTS_DIR = Path(__file__).parent / "weights"
CARD_FORMAT = "nar.pretrained/2"  # /2: one file per part (processor, heads.<algorithm>); /1 had one file
SCORE_SIZES = (16, 64, 128)  # card scores: validation size and two test sizes
# graphs scored per size (None = CLRS30's 32 x eval multiplier); n = 128 is costly for dense triplets
SCORE_COUNTS = {16: None, 64: None, 128: 8}
STORAGE_DTYPE = torch.float16  # weights are stored in half precision (entries ~1 MB); loaded as float32
CHECK_COUNT = 4  # the card also records the scores on the first 4 graphs of each set: verify() reproduces them


class PretrainedError(InputError):
    """A pretrained entry is unknown, missing a file, or does not match its card."""


def _root(root) -> Path:
    return Path(root) if root is not None else WEIGHTS_DIR


def list_entries(root=None) -> builtins.list[str]:
    """Names of the entries shipped (or under ``root``), sorted."""
    folder = _root(root)
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def card(name: str, root=None) -> dict:
    """The model card of entry ``name`` (a dict; see the module docstring)."""
    path = _root(root) / f"{name}.json"
    if not path.is_file():
        names = list_entries(root)
        raise PretrainedError(f"no pretrained entry {name!r}; available: {', '.join(names) or 'none'}")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PretrainedError(f"{path}: unreadable model card ({exc})") from None
    fmt = data.get("format") if isinstance(data, dict) else None
    if fmt != CARD_FORMAT:
        if isinstance(fmt, str) and fmt.startswith("nar.pretrained/"):
            raise PretrainedError(f"{path}: model card format {fmt!r}; this nar reads {CARD_FORMAT!r} "
                                  f"(re-export the entry with `nar pretrained export`)")
        raise PretrainedError(f"{path}: not a nar model card (format {CARD_FORMAT!r} expected)")
    return data


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Pretrained:
    """A loaded entry: its card and the trained reasoner (whose ``.processor`` is the reusable part)."""

    name: str
    card: dict
    model: torch.nn.Module

    @property
    def processor(self) -> torch.nn.Module:
        return self.model.processor

    @property
    def hidden(self) -> int:
        return int(self.card["hidden"])

    def processor_module(self, **options):
        """A :class:`nar.blueprint.ProcessorModule` around this processor (options as there)."""
        from ..blueprint import ProcessorModule

        return ProcessorModule(self.processor, hidden=self.hidden, **options)

    def __repr__(self) -> str:
        c = self.card
        return (f"Pretrained({self.name!r}, processor={c['processor']!r}, hidden={c['hidden']}, "
                f"algorithms={c['algorithms']}, steps {c['steps_done']}/{c['steps_budget']})")


def _config(card_data: dict, source: str):
    from ..train.config import ConfigError, TrainConfig

    try:
        return TrainConfig.from_dict(card_data["config"], source=source)
    except (KeyError, ConfigError) as exc:
        raise PretrainedError(f"{source}: its training config cannot be used here ({exc})") from None


def part_of(key: str) -> str:
    """The part a ``state_dict`` key is stored in: ``processor``, ``heads.<algorithm>`` or ``shared``."""
    first, _, rest = key.partition(".")
    if first == "processor":
        return "processor"
    if first == "heads" and rest:
        return f"heads.{rest.split('.', 1)[0]}"
    return "shared"


def part_file(name: str, part: str) -> str:
    return f"{name}.{part}.safetensors"


def _read_part(folder: Path, name: str, part: str, meta: dict) -> dict[str, torch.Tensor]:
    """The tensors of one part, after checking the file's sha256 against the card."""
    from safetensors.torch import load_file

    info = meta["files"].get(part)
    if info is None:
        raise PretrainedError(f"{name}: the card lists no part {part!r}; parts: {', '.join(sorted(meta['files']))}")
    path = folder / info["file"]
    if not path.is_file():
        raise PretrainedError(f"{path}: the {part} weights of {name!r} are missing")
    digest = _sha256(path)
    if digest != info.get("sha256"):
        raise PretrainedError(f"{path}: sha256 {digest[:16]}... does not match the model card's "
                              f"{str(info.get('sha256'))[:16]}...; the file is corrupted or was replaced "
                              f"(reinstall the package, or re-export the entry)")
    return load_file(str(path))


def load(name: str, *, device: str = "cpu", root=None, algorithms=None) -> Pretrained:
    """Entry ``name`` with its weights (each part's sha256 checked against the card) on ``device``.

    ``algorithms``: load the heads of these algorithms only (default: all the entry was trained on);
    the processor is always loaded.
    """
    from ..train.models import build_model

    meta = card(name, root)
    folder = _root(root)
    cfg = _config(meta, str(folder / f"{name}.json"))
    if algorithms is not None:
        algorithms = [algorithms] if isinstance(algorithms, str) else builtins.list(algorithms)
        unknown = [a for a in algorithms if a not in cfg.algorithms]
        if unknown or not algorithms:
            raise InputError(f"algorithms: {name!r} was trained on {', '.join(cfg.algorithms)}; got {algorithms}")
        cfg = cfg.replace(algorithms=algorithms)
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"device must be 'cpu', 'cuda' or 'cuda:K', got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError("device 'cuda' was asked for, but no CUDA device is available here")
    with torch.random.fork_rng(devices=[]):  # initial weights are overwritten; leave the caller's RNG alone
        model = build_model(cfg)
    parts = sorted({part_of(k) for k in model.state_dict()})
    state = {}
    for part in parts:  # half-precision tensors are copied into the float32 parameters
        state.update(_read_part(folder, name, part, meta))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise PretrainedError(f"{name}: weights do not fit the card's architecture "
                              f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    model.to(dev).eval()
    return Pretrained(name, meta, model)


def write_parts(state: dict[str, torch.Tensor], folder: Path, name: str) -> dict[str, dict]:
    """Write ``state`` as one float16 safetensors file per part (atomically); the card's ``files``."""
    from safetensors.torch import save_file

    groups: dict[str, dict[str, torch.Tensor]] = {}
    for k, v in state.items():
        v = (v.to(STORAGE_DTYPE) if v.is_floating_point() else v).detach().cpu().contiguous()
        groups.setdefault(part_of(k), {})[k] = v
    files = {}
    for part, tensors in sorted(groups.items()):
        path = folder / part_file(name, part)
        tmp = path.with_name(f".{path.name}.tmp.{os.getpid()}")
        save_file(tensors, str(tmp), metadata={"format": CARD_FORMAT, "name": name, "part": part})
        os.replace(tmp, path)
        files[part] = {"file": path.name, "sha256": _sha256(path), "bytes": path.stat().st_size}
    return files


def _write_card(data: dict, folder: Path, name: str) -> None:
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    card_path = folder / f"{name}.json"
    tmp = card_path.with_name(f".{card_path.name}.tmp.{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, card_path)


# ------------------------------------------------------------------------------------------ scores
def score_entry(model, cfg, *, n: int, count: int | None = None, seed: int | None = None,
                device="cpu") -> dict[str, float]:
    """``{algorithm: CLRS score}`` on a fresh CLRS30-style test set at ``n`` (the ``nar eval`` scorer).

    ``n == cfg.val_n`` uses the validation split's seed, any other ``n`` the test split's.
    """
    from ..train.data import eval_batches
    from ..train.evaluation import evaluate_sets

    split = "val" if n == cfg.val_n else "test"
    sets = {a: eval_batches(cfg, a, split, n=n, count=count, seed=seed) for a in cfg.algorithms}
    res = evaluate_sets(model, sets, cfg, torch.device(device), split)
    return {a: round(float(r.scores.score), 4) for a, r in res.items()}


def verify(name: str, *, scores: bool = False, root=None, tol: float = 1e-3) -> dict:
    """Load ``name`` (sha256 checked); with ``scores``, re-measure the card's check scores.

    The check scores are those of the first :data:`CHECK_COUNT` graphs of each evaluation set; they
    are re-measured here and must agree with the card within ``tol`` (else :class:`PretrainedError`).
    Returns ``{"name", "sha256_ok", "scores": {n: {algorithm: score}}}``.
    """
    entry = load(name, root=root)
    out = {"name": name, "sha256_ok": True, "scores": {}}
    if scores:
        cfg = _config(entry.card, name)
        expected = entry.card.get("check_scores", {})
        for n in SCORE_SIZES:
            got = score_entry(entry.model, cfg, n=n, count=CHECK_COUNT)
            out["scores"][n] = got
            want = expected.get(str(n))
            if want is None:
                continue
            bad = {a: (v, want.get(a)) for a, v in got.items() if want.get(a) is None or abs(v - want[a]) > tol}
            if bad:
                raise PretrainedError(f"{name}: scores at n = {n} on {CHECK_COUNT} graphs differ from the card "
                                      f"(measured, card): {bad}")
    return out


# ------------------------------------------------------------------------------------------ export
def export(run, name: str, *, config_file=None, root=None, counts: dict | None = None,
           code_commit: str | None = None) -> dict:
    """Add the best checkpoint of training run ``run`` as entry ``name``; returns its card.

    Scores are measured here at each size of ``counts`` (size -> graphs, None = CLRS30's count;
    default :data:`SCORE_COUNTS`); the weights are written with safetensors and their sha256 recorded
    in the card.  Both files are written atomically.  ``code_commit``: the git commit the run was
    trained with (recorded for reproduction).
    """
    from ..train.inference import load as load_run

    if not name or any(c in name for c in "/\\ ") or name.startswith("."):
        raise InputError(f"name must be a plain file name (no '/', '\\', spaces or leading '.'), got {name!r}")
    folder = _root(root)
    folder.mkdir(parents=True, exist_ok=True)
    loaded = load_run(run)
    cfg = loaded.config
    model = loaded.model
    with torch.no_grad():  # score exactly the weights that are stored: rounded to STORAGE_DTYPE
        for v in model.state_dict().values():
            if v.is_floating_point():
                v.copy_(v.to(STORAGE_DTYPE))
    t0 = time.process_time()
    counts = dict(SCORE_COUNTS if counts is None else counts)
    measured = {str(n): score_entry(model, cfg, n=n, count=c) for n, c in counts.items()}
    checks = {str(n): score_entry(model, cfg, n=n, count=CHECK_COUNT) for n in counts}
    files = write_parts(model.state_dict(), folder, name)
    meta = loaded.meta
    progress = _run_progress(Path(run))
    trained = _last_step(Path(run), default=int(meta.get("step", 0)))
    data = {
        "format": CARD_FORMAT, "name": name, "algorithms": builtins.list(cfg.algorithms), "processor": cfg.processor,
        "hidden": cfg.hidden, "model": cfg.model, "config": cfg.to_dict(),
        "config_file": str(config_file) if config_file else None,
        "steps_done": trained, "steps_budget": int(cfg.steps),
        "trained": "complete" if trained >= cfg.steps else "partial: budget not reached yet",
        "best_val": (meta.get("metrics") or {}).get("val"), "best_step": int(meta.get("step", 0)), "cpu_seconds": progress.get("cpu_seconds"),
        "wall_seconds": progress.get("wall_seconds"), "threads": progress.get("threads"),
        "data_seeds": {"train": cfg.seed, "val": "CLRS30 validation split seed", "test": "CLRS30 test split seed"},
        "scores": measured, "check_scores": checks, "check_count": CHECK_COUNT,
        "score_counts": {str(n): c or "CLRS30 (32 x eval multiplier)" for n, c in counts.items()},
        "code_commit": code_commit,
        "scoring_cpu_seconds": round(time.process_time() - t0, 1),
        "parameters": {"processor": sum(p.numel() for p in model.processor.parameters()),
                       "total": sum(p.numel() for p in model.parameters())},
        "files": files, "bytes": sum(f["bytes"] for f in files.values()), "storage_dtype": str(STORAGE_DTYPE),
        "torch": torch.__version__, "exported": time.strftime("%Y-%m-%d"),
    }
    _write_card(data, folder, name)
    return data


def _last_step(run: Path, default: int) -> int:
    """Steps the run has done (its last checkpoint's), else ``default``."""
    try:
        return int(json.loads((run / "checkpoints" / "last.json").read_text())["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return default


def _run_progress(run: Path) -> dict:
    """Wall and CPU seconds of a run, from its ``results.json`` (CPU only where the trainer recorded it)."""
    try:
        res = json.loads((run / "results.json").read_text())
    except (OSError, ValueError):
        return {}
    out = {}
    for key, field in (("wall_seconds", "seconds"), ("cpu_seconds", "cpu_seconds")):
        if isinstance(res.get(field), (int, float)):
            out[key] = round(float(res[field]), 1)
    if isinstance(res.get("threads"), int):
        out["threads"] = res["threads"]
    return out


def table(root=None) -> str:
    """A markdown table of every entry's card (for the docs and ``nar pretrained list``)."""
    lines = ["| name | processor | hidden | algorithms | steps | val n=16 | test n=64 | test n=128 | MB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in list_entries(root):
        c = card(name, root)
        s = c.get("scores", {})

        def cell(n):
            v = s.get(str(n))
            return "-" if not v else ", ".join(f"{x:.3f}" for x in v.values())
        lines.append(f"| {name} | {c['processor']} | {c['hidden']} | {', '.join(c['algorithms'])} | "
                     f"{c['steps_done']}/{c['steps_budget']} | {cell(16)} | {cell(64)} | {cell(128)} | "
                     f"{c.get('bytes', 0) / 1e6:.2f} |")
    return "\n".join(lines)


list = list_entries  # noqa: A001  -- the issue's name: nar.pretrained.list()
