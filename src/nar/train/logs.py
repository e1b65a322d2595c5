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


NUMERIC = {"step": int, "loss": float, "output_loss": float, "hint_loss": float, "grad_norm": float, "lr": float,
           "seconds": float, "value": float}


def _parse_log(path) -> tuple[list[str], list[tuple[str, dict]], bool]:
    """``(header lines, [(line, row)], cut)``: see :func:`read_log`."""
    from ..validation import InputError

    text = Path(path).read_text()
    cut = bool(text) and not text.endswith("\n")
    lines = text.splitlines(keepends=True)
    if cut:
        lines = lines[:-1]
    if not lines:
        return [], [], cut
    header = next(csv.reader(lines[:1]))
    rows = []
    for i, (line, values) in enumerate(zip(lines[1:], csv.reader(lines[1:])), start=2):
        if len(values) != len(header):
            raise InputError(f"{path}: line {i} has {len(values)} fields, the header {len(header)}; the file is "
                             f"damaged (delete the line, or the run's logs)")
        row = dict(zip(header, values))
        for k, kind in NUMERIC.items():
            if k in row:
                try:
                    row[k] = kind(row[k])
                except ValueError:
                    raise InputError(f"{path}: line {i} column {k} is not a number ({row[k]!r}); the file is "
                                     f"damaged (delete the line, or the run's logs)") from None
        rows.append((line, row))
    return lines[:1], rows, cut


def read_log(path) -> tuple[list[dict], bool]:
    """``(rows, cut)`` of a log CSV written by :class:`CSVLog`, numeric columns parsed.

    A last line without its newline is a row whose write was cut (a killed run): it is left out and
    ``cut`` is True.  Any other malformed row is an :class:`~nar.validation.InputError` naming the line.
    """
    if not Path(path).is_file():
        return [], False
    _, rows, cut = _parse_log(path)
    return [r for _, r in rows], cut


def read_csv(path) -> list[dict]:
    """The complete rows of a log CSV (see :func:`read_log`)."""
    return read_log(path)[0]


def truncate(path, max_step: int) -> int | None:
    """Keep only complete rows with ``step <= max_step`` (on resume: drop what the lost interval logged,
    and a row cut by a kill); returns the step of the last row kept (None if none)."""
    from ..data.store import atomic_write

    path = Path(path)
    if not path.is_file():
        return None
    header, rows, _ = _parse_log(path)
    kept = [(line, r) for line, r in rows if r["step"] <= max_step]
    data = "".join(header + [line for line, _ in kept]).encode()
    atomic_write(path, lambda put: put(data))
    return kept[-1][1]["step"] if kept else None


class RunLog:
    """The logs of one run directory (rank 0 only); ``enabled=False`` makes every call a no-op."""

    def __init__(self, run_dir, *, enabled: bool = True, resume_step: int | None = None):
        self.enabled = enabled
        self.tb = None
        self.last_train_step = None  # step of train.csv's last row after a resume's truncation
        if not enabled:
            return
        run_dir = Path(run_dir)
        if resume_step is not None:
            self.last_train_step = truncate(run_dir / "train.csv", resume_step)
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
