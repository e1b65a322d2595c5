"""The training loop: Adam with gradient clipping, periodic validation, best-validation checkpoint,
atomic resumable checkpoints, a NaN guard, DDP, and the final test of the best model.

    results = train(TrainConfig(algorithms=["bfs"], steps=500), "runs/bfs")      # -> results.json too

Reproducibility: the model is initialised from ``torch.manual_seed(seed)``; the batch of every step is
a pure function of ``(seed, step, rank)`` (:mod:`nar.train.data`); the model's own randomness
(teacher forcing, Gumbel noise, dropout) comes from a generator seeded by ``(seed, step, rank)``.
A checkpoint stores weights, Adam's state, the global RNG states and the step, so a run resumed from
step ``k`` performs exactly the updates an uninterrupted run performs after step ``k`` (bitwise on CPU
with the same thread count).

Multi-task (several algorithms): one algorithm per step, drawn uniformly (Ibarz et al. 2022 train a
generalist on all algorithms with a shared processor; their stabilisers -- gradient clipping, Xavier
init of scalar hint encoders, layer norm in the processor, gating -- are the config's defaults);
validation score = mean over algorithms.
"""
from __future__ import annotations

import json
import math
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from . import checkpoint as ck
from . import ddp
from .config import ConfigError, TrainConfig
from .data import TrainData, eval_batches
from .evaluation import evaluate_sets, mean_score
from .logs import RunLog
from .models import build_model

# Keys that may differ between a run and its resumption (they do not change what is computed, or
# they only extend it).  Anything else must match the run's saved config.
RESUMABLE_KEYS = ("steps", "time_limit", "eval_every", "checkpoint_every", "log_every", "device", "threads",
                  "num_workers", "data_dir")
RESULTS = "results.json"
CONFIG = "config.json"


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN/inf; the update was not applied and the run stopped."""


def _step_seed(seed: int, step: int, rank: int) -> int:
    return int(np.random.SeedSequence([seed, 0xB2, step, rank]).generate_state(1, np.uint32)[0])


class _Progress:
    """tqdm when available and wanted; otherwise a line per validation (or nothing)."""

    def __init__(self, total: int, initial: int, enabled: bool, desc: str):
        self.bar, self.enabled, self.post = None, enabled, {}
        if not enabled:
            return
        try:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, unit="step", dynamic_ncols=True)
        except ImportError:
            print(f"{desc}: steps {initial}..{total}", flush=True)

    def update(self, step: int, **post) -> None:
        self.post.update(post)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(self.post, refresh=False)

    def note(self, step: int, **post) -> None:
        self.post.update(post)
        if self.bar is not None:
            self.bar.set_postfix(self.post)
        elif self.enabled:
            print(f"step {step}: " + ", ".join(f"{k}={v}" for k, v in self.post.items()), flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def check_resume_config(saved: TrainConfig, new: TrainConfig, run_dir) -> None:
    a, b = saved.to_dict(), new.to_dict()
    diff = [k for k in a if k not in RESUMABLE_KEYS and a[k] != b[k]]
    if diff:
        raise ConfigError(f"{run_dir} was trained with a different configuration: "
                          + ", ".join(f"{k}={a[k]!r} (now {b[k]!r})" for k in diff)
                          + f"; only {', '.join(RESUMABLE_KEYS)} may change on --resume")


class Trainer:
    """One training run writing to ``out_dir`` (see the module docstring)."""

    def __init__(self, cfg: TrainConfig, out_dir, *, resume: bool = False, progress: bool = True):
        self.cfg, self.out, self.resume, self.progress = cfg, Path(out_dir), resume, progress
        self.info = ddp.DistInfo()

    # -- the pieces a test may replace ----------------------------------------------------------------
    def compute_loss(self, model, batch, generator) -> dict:
        out = model(batch, self.cfg.teacher_forcing, generator=generator)
        return self.core.loss(out, batch)

    def on_train_end(self, model, step: int) -> None:
        """Called on every rank with the final (not the best) weights, before the test."""

    # -- run ------------------------------------------------------------------------------------------
    def run(self) -> dict:
        self.info = ddp.setup(self.cfg.device)
        try:
            return self._run()
        finally:
            ddp.teardown(self.info)

    def _prepare_dir(self) -> tuple[Path | None, bool]:
        """(last checkpoint to resume from or None, whether a previous run exists)."""
        out, cfg = self.out, self.cfg
        saved = out / CONFIG
        exists = saved.is_file() or (out / "checkpoints").is_dir()
        if exists and not self.resume:
            raise ConfigError(f"{out} already holds a training run; pass --resume to continue it, or choose "
                              f"another --out")
        if self.resume and saved.is_file():
            check_resume_config(TrainConfig.from_dict(json.loads(saved.read_text()), source=str(saved)), cfg, out)
        return (ck.pointer(out, "last") if self.resume else None), exists

    def _run(self) -> dict:
        cfg, info, out = self.cfg, self.info, self.out
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        last, _ = self._prepare_dir()
        ddp.barrier(info)  # every rank has looked at the directory before rank 0 writes to it
        if info.main:
            out.mkdir(parents=True, exist_ok=True)
            cfg.save(out / CONFIG)
        ddp.barrier(info)
        device = info.device

        torch.manual_seed(cfg.seed)
        model = build_model(cfg).to(device)
        self.core = model
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        step, elapsed = 0, 0.0
        best = {"score": None, "step": None, "checkpoint": None, "scores": {}}
        if last is not None:
            ck.load_weights(last, model)
            state = ck.load_training_state(last, opt)
            step, elapsed, best = int(state["step"]), float(state["elapsed"]), dict(state["best"])
            if info.main:  # forget a best checkpoint written after the one we resume from
                keep = best["checkpoint"] if best["checkpoint"] and (out / "checkpoints" / best["checkpoint"]).is_dir() else None
                ck.set_pointer(out, "best", keep)
                ck.prune(out)
        elif self.resume and info.main:
            print(f"{out}: no checkpoint yet; starting from step 0", flush=True)
            if (out / "checkpoints").is_dir():  # a best checkpoint of the lost attempt
                ck.set_pointer(out, "best", None)
                ck.prune(out)
        ddp.barrier(info)
        log = RunLog(out, enabled=info.main, resume_step=step if self.resume else None)
        net = ddp.wrap(model, info, multi_task=len(cfg.algorithms) > 1)
        data = TrainData(cfg)
        val_sets: dict = {}
        desc = ",".join(cfg.algorithms) if len(cfg.algorithms) <= 3 else f"{len(cfg.algorithms)} algorithms"
        bar = _Progress(cfg.steps, step, self.progress and info.main, f"{desc} {cfg.processor}")
        start_step, t0 = step, time.perf_counter() - elapsed
        sums = {"loss": 0.0, "output": 0.0, "hint": 0.0, "n": 0}
        stream = data.loader(step, info.rank, info.world)
        try:
            while step < cfg.steps:
                if cfg.time_limit is not None and ddp.any_true(time.perf_counter() - t0 >= cfg.time_limit, info):
                    break
                s, name, batch = next(stream)
                assert s == step, (s, step)
                batch = batch.to(device)
                gen = torch.Generator(device=device).manual_seed(_step_seed(cfg.seed, step, info.rank))
                model.train()
                losses = self.compute_loss(net, batch, gen)
                loss = losses["total"]
                opt.zero_grad(set_to_none=True)
                loss.backward()
                norm = torch.nn.utils.clip_grad_norm_(model.parameters(),
                                                      cfg.grad_clip if cfg.grad_clip > 0 else math.inf)
                loss_v, norm_v = float(loss.detach()), float(norm)
                if ddp.any_true(not (math.isfinite(loss_v) and math.isfinite(norm_v)), info):
                    raise TrainingDiverged(self._diverged_message(step, name, loss_v, norm_v))
                opt.step()
                step += 1
                sums["loss"] += loss_v
                sums["output"] += float(losses["output"].detach())
                sums["hint"] += float(losses["hint"].detach())
                sums["n"] += 1
                bar.update(step, loss=f"{loss_v:.3f}")
                sums["grad_norm"] = norm_v
                if step % cfg.log_every == 0 or step == cfg.steps:
                    sums = self._log_train(log, step, sums, time.perf_counter() - t0)
                if step % cfg.eval_every == 0:
                    best = self._validate(model, val_sets, step, best, log, bar)
                if step % cfg.checkpoint_every == 0:
                    self._save_last(model, opt, step, time.perf_counter() - t0, best)
        finally:
            del stream
            bar.close()
        elapsed = time.perf_counter() - t0
        if sums["n"]:  # stopped by the time limit between two log rows
            self._log_train(log, step, sums, elapsed)
        if step > start_step and step % cfg.eval_every != 0:  # the last step was not validated yet
            best = self._validate(model, val_sets, step, best, log, bar)
        if step > start_step and step % cfg.checkpoint_every != 0:
            self._save_last(model, opt, step, elapsed, best)
        self.on_train_end(model, step)
        results = self._test(model, step, start_step, elapsed, best, log)
        log.close()
        return results

    # -- pieces ---------------------------------------------------------------------------------------
    def _log_train(self, log: RunLog, step: int, sums: dict, seconds: float) -> dict:
        k = sums["n"]
        log.train_row({"step": step, "algorithm": self.cfg.algorithms[0] if len(self.cfg.algorithms) == 1 else "mixed",
                       "loss": sums["loss"] / k, "output_loss": sums["output"] / k, "hint_loss": sums["hint"] / k,
                       "grad_norm": sums["grad_norm"], "lr": self.cfg.lr, "seconds": seconds})
        return {"loss": 0.0, "output": 0.0, "hint": 0.0, "n": 0}

    def _diverged_message(self, step: int, name: str, loss: float, norm: float) -> str:
        last = ck.pointer(self.out, "last")
        where = (f"the last good checkpoint is {last} (step {ck.read_meta(last)['step']}); "
                 f"`nar train --resume --out {self.out}` continues from it") if last else \
            "no checkpoint had been written yet"
        return (f"training diverged at step {step + 1} ({name}): loss={loss}, gradient norm={norm}. The update "
                f"was not applied and the run stopped; {where}. Try a lower lr or grad_clip.")

    def _meta(self, step: int, metrics: dict) -> dict:
        return {"model": self.cfg.model, "algorithms": list(self.cfg.algorithms), "config": self.cfg.to_dict(),
                "step_count": self.cfg.step_count, "metrics": metrics, "nar_version": __version__}

    def _save_last(self, model, opt, step: int, elapsed: float, best: dict) -> None:
        if self.info.main:
            meta = self._meta(step, {"best_val": best["score"], "best_step": best["step"]})
            meta["best_checkpoint"] = best["checkpoint"]
            ck.save_checkpoint(self.out, "last", step, model, meta, optimizer=opt,
                               state={"step": step, "elapsed": elapsed, "best": best})
        ddp.barrier(self.info)

    def _validate(self, model, val_sets: dict, step: int, best: dict, log: RunLog, bar: _Progress) -> dict:
        cfg = self.cfg
        if not val_sets:
            val_sets.update({a: eval_batches(cfg, a, "val") for a in cfg.algorithms})
        results = evaluate_sets(model, val_sets, cfg, self.info.device, "val")
        for name, r in results.items():
            log.scores(step, "val", name, r.step_count, r.scores.as_dict())
        score = ddp.broadcast_float(mean_score(results), self.info)  # rank 0 decides what is best
        bar.note(step, val=f"{score:.3f}")
        if best["score"] is None or score > best["score"]:
            best = {"score": score, "step": step, "checkpoint": f"best-{step:08d}",
                    "scores": {k: r.scores.score for k, r in results.items()}}
            if self.info.main:
                ck.save_checkpoint(self.out, "best", step, model,
                                   self._meta(step, {"val": score, "val_scores": best["scores"]}))
        return best

    def _test(self, model, step: int, start_step: int, elapsed: float, best: dict, log: RunLog) -> dict:
        cfg, info = self.cfg, self.info
        ckpt = ck.pointer(self.out, "best")
        if ckpt is not None:  # test the best-validation weights, as CLRS does
            ck.load_weights(ckpt, model)
        test_sets = {a: eval_batches(cfg, a, "test") for a in cfg.algorithms}
        results = evaluate_sets(model, test_sets, cfg, info.device, "test")
        test_step = best["step"] if ckpt is not None else step
        for name, r in results.items():
            log.scores(test_step, "test", name, r.step_count, r.scores.as_dict())
        out = {
            "algorithms": list(cfg.algorithms), "model": cfg.model, "processor": cfg.processor,
            "step_count": cfg.step_count, "steps_done": step, "steps_planned": cfg.steps,
            "seconds": round(elapsed, 2), "steps_this_session": step - start_step,
            "best_step": best["step"], "best_val": best["score"], "val": best["scores"],
            "test": {k: r.as_dict() for k, r in results.items()}, "test_mean": mean_score(results),
            "tested_checkpoint": ckpt.name if ckpt is not None else None,
            "device": str(info.device), "world_size": info.world, "torch": torch.__version__,
            "threads": torch.get_num_threads(), "machine": platform.node(), "nar_version": __version__,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "config": cfg.to_dict(),
        }
        if info.main:
            from ..data.store import atomic_write

            text = (json.dumps(out, indent=1) + "\n").encode()
            atomic_write(self.out / RESULTS, lambda put: put(text))
        return out


def train(cfg: TrainConfig, out_dir, *, resume: bool = False, progress: bool = True) -> dict:
    """Train ``cfg`` into ``out_dir`` (see :class:`Trainer`); returns (and writes) ``results.json``."""
    return Trainer(cfg, out_dir, resume=resume, progress=progress).run()
