"""Run logs: ``train.csv`` (one row per logged step), ``eval.csv`` (long format: one row per metric),
and TensorBoard scalars when ``torch.utils.tensorboard`` is importable (optional).

``eval.csv`` columns: ``step, split, algorithm, step_count, metric, value`` where ``metric`` is
``score`` or ``output/<probe>`` / ``hint/<probe>`` (CLRS scores, hints separate from outputs) and
``step_count`` says whether the ground-truth length or the learned termination was used.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

TRAIN_FIELDS = ["step", "algorithm", "loss", "output_loss", "hint_loss", "grad_norm", "lr", "seconds"]
EVAL_FIELDS = ["step", "split", "algorithm", "step_count", "metric", "value"]


class CSVLog:
    """Append rows to a CSV file (header written once), flushed after every write."""

    def __init__(self, path, fields: list[str]):
        self.path, self.fields = Path(path), fields
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._file = open(self.path, "a", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=fields)
        if new:
            self._writer.writeheader()
            self._file.flush()

    def write(self, row: dict) -> None:
        self._writer.writerow({k: _fmt(row.get(k, "")) for k in self.fields})
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _fmt(v):
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.6g}"
    return v


def read_csv(path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def truncate(path, max_step: int) -> None:
    """Keep only rows with ``step <= max_step`` (on resume: drop what the lost interval logged)."""
    from ..data.store import atomic_write

    path = Path(path)
    if not path.is_file():
        return
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        rows = [r for r in reader if int(r["step"]) <= max_step]
    import io

    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=fields)
    w.writeheader()
    w.writerows(rows)
    data = out.getvalue().encode()
    atomic_write(path, lambda put: put(data))


class RunLog:
    """The logs of one run directory (rank 0 only); ``enabled=False`` makes every call a no-op."""

    def __init__(self, run_dir, *, enabled: bool = True, resume_step: int | None = None):
        self.enabled = enabled
        self.tb = None
        if not enabled:
            return
        run_dir = Path(run_dir)
        if resume_step is not None:
            truncate(run_dir / "train.csv", resume_step)
            truncate(run_dir / "eval.csv", resume_step)
        self.train = CSVLog(run_dir / "train.csv", TRAIN_FIELDS)
        self.eval = CSVLog(run_dir / "eval.csv", EVAL_FIELDS)
        try:  # optional: needs the tensorboard package
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(run_dir / "tensorboard"), purge_step=resume_step)
        except Exception:  # ImportError, or tensorboard's own import errors
            self.tb = None

    def train_row(self, row: dict) -> None:
        if not self.enabled:
            return
        self.train.write(row)
        if self.tb is not None:
            for k in ("loss", "output_loss", "hint_loss", "grad_norm"):
                self.tb.add_scalar(f"train/{k}", float(row[k]), int(row["step"]))

    def scores(self, step: int, split: str, algorithm: str, step_count: str, scores: dict) -> None:
        if not self.enabled:
            return
        for metric, value in scores.items():
            self.eval.write({"step": step, "split": split, "algorithm": algorithm, "step_count": step_count,
                             "metric": metric, "value": float(value)})
            if self.tb is not None:
                self.tb.add_scalar(f"{split}/{algorithm}/{metric}", float(value), step)

    def close(self) -> None:
        if not self.enabled:
            return
        self.train.close()
        self.eval.close()
        if self.tb is not None:
            self.tb.close()
