"""The training loop: Adam with gradient clipping, periodic validation, best-validation checkpoint,
atomic resumable checkpoints, a NaN guard, DDP, and the final test of the best model.

    results = train(TrainConfig(algorithms=["bfs"], steps=500), "runs/bfs")      # -> results.json too

Reproducibility: the model is initialised from ``torch.manual_seed(seed)``; the batch of every step is
a pure function of ``(seed, step, rank)`` (:mod:`nar.train.data`); the model's own randomness
(teacher forcing, Gumbel noise, dropout) comes from a generator seeded by ``(seed, step, rank)``.
A checkpoint stores weights, Adam's state, the global RNG states, the step and the log's running sums,
so a run resumed from step ``k`` performs exactly the updates an uninterrupted run performs after step
``k`` (bitwise on CPU with the same thread count) and writes the same ``train.csv`` rows (up to the
wall-clock ``seconds`` column).  Everything a resume reads is hash-checked (:mod:`nar.train.checkpoint`),
and the run's ``config.json`` must agree with the last checkpoint's recorded config.

One process at a time: a run holds an advisory lock on its folder (:func:`nar.locking.locked`) for its
whole life; a second ``nar train`` into the same ``--out`` fails at once with :class:`RunInUse`.

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
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..locking import LockTimeout, lock_path, locked
from . import checkpoint as ck
from . import ddp
from .config import ConfigError, TrainConfig
from .data import TrainData, eval_batches
from .evaluation import evaluate_sets, mean_score
from .logs import RunLog
from .models import build_model, check_model_options

# Keys that may differ between a run and its resumption (they do not change what is computed, or
# they only extend it).  Anything else must match the run's saved config.
RESUMABLE_KEYS = ("steps", "time_limit", "eval_every", "checkpoint_every", "log_every", "device", "threads",
                  "num_workers", "data_dir")
RESULTS = "results.json"
CONFIG = "config.json"
LOCK_TIMEOUT = 2.0  # seconds a run waits for its folder's lock before giving up
SOLVER = "solver"  # the step_count label of a DEQ run's results: its root solver decides per graph


def _prefixed(solver: dict | None) -> dict:
    """Solver diagnostics as ``eval.csv`` metrics (``solver/iterations/mean``, ...)."""
    return {f"solver/{k}": v for k, v in (solver or {}).items()}


class RunInUse(ConfigError):
    """Another process is training into the same run folder."""


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN/inf; the update was not applied and the run stopped."""


def _step_seed(seed: int, step: int, rank: int) -> int:
    return int(np.random.SeedSequence([seed, 0xB2, step, rank]).generate_state(1, np.uint32)[0])


def _empty_sums() -> dict:
    """The running sums of ``train.csv``'s next row (saved in checkpoints, so a resume continues them)."""
    return {"loss": 0.0, "output": 0.0, "hint": 0.0, "n": 0, "grad_norm": 0.0}


class _Progress:
    """tqdm when available and wanted; otherwise a line per validation (or nothing).

    With a ``time_limit`` shorter than the step budget is likely to take, the bar counts seconds of
    that limit (the step is shown beside it) instead of steps it will never reach."""

    def __init__(self, total: int, initial: int, enabled: bool, desc: str, time_limit: float | None = None):
        self.bar, self.enabled, self.post = None, enabled, {}
        self.time_limit, self.t0 = time_limit, time.perf_counter()
        if not enabled:
            return
        try:
            from tqdm import tqdm

            if time_limit is not None:
                self.bar = tqdm(total=max(1, math.ceil(time_limit)), desc=desc, unit="s", dynamic_ncols=True)
            else:
                self.bar = tqdm(total=total, initial=initial, desc=desc, unit="step", dynamic_ncols=True)
        except ImportError:
            print(f"{desc}: steps {initial}..{total}", flush=True)

    def update(self, step: int, **post) -> None:
        self.post.update(post)
        if self.bar is not None:
            if self.time_limit is not None:
                self.post["step"] = step
                now = min(int(time.perf_counter() - self.t0), self.bar.total)
                self.bar.update(now - self.bar.n)
            else:
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


def check_resume_config(saved: dict, new: dict, run_dir) -> None:
    """ConfigError unless ``new`` equals the run's recorded config ``saved`` outside :data:`RESUMABLE_KEYS`."""
    diff = ck.config_diff(saved, new, RESUMABLE_KEYS, "{key}={a!r} (now {b!r})", keys=saved)
    if diff:
        raise ConfigError(f"{run_dir} was trained with a different configuration: " + ", ".join(diff)
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
            if self.resume and not (self.out / CONFIG).is_file() and not (self.out / "checkpoints").is_dir():
                raise ConfigError(f"{self.out}: no training run to resume there (no {CONFIG}, no checkpoints/); "
                                  f"drop --resume to start a new run, or give the folder of an existing run")
            with self._lock():
                return self._run()
        finally:
            ddp.teardown(self.info)

    @contextmanager
    def _lock(self):
        """Rank 0 holds the run folder's lock for the whole run; every rank fails if it cannot."""
        with ExitStack() as stack:
            busy = False
            folder = self.out.resolve()  # one lock per folder, however it is spelled
            if self.info.main:
                try:
                    stack.enter_context(locked(folder, timeout=LOCK_TIMEOUT))
                except LockTimeout:
                    busy = True
            if ddp.any_true(busy, self.info):
                raise RunInUse(f"{self.out}: run folder in use by another process (it holds {lock_path(folder)}); "
                               f"wait for that run to finish, or train into another --out")
            yield

    def _prepare_dir(self) -> Path | None:
        """The last checkpoint to resume from (or None), after checking the run folder and its config.

        On resume, the run's config as recorded (hash-checked) in its last checkpoint is the reference:
        ``config.json`` and the new config may differ from it only in :data:`RESUMABLE_KEYS`."""
        out, cfg = self.out, self.cfg
        saved = out / CONFIG
        exists = saved.is_file() or (out / "checkpoints").is_dir()
        if exists and not self.resume:
            raise ConfigError(f"{out} already holds a training run; pass --resume to continue it, or choose "
                              f"another --out")
        if not self.resume:
            return None
        last = ck.pointer(out, "last")
        recorded = ck.read_meta(last).get("config") if last is not None else None
        if saved.is_file():
            try:
                on_disk = TrainConfig.from_dict(json.loads(saved.read_text()), source=str(saved)).to_dict()
            except (ValueError, ConfigError) as exc:
                raise ck.CheckpointError(f"{saved}: corrupted or edited ({exc}); it no longer describes this "
                                         f"run") from None
            if recorded is not None:
                diff = ck.config_diff(on_disk, recorded, RESUMABLE_KEYS, "{key}={a!r} (checkpoint: {b!r})",
                                      keys=recorded)
                if diff:
                    raise ck.CheckpointError(
                        f"{saved} differs from the configuration recorded (hash-checked) in {last / ck.META}: "
                        f"{', '.join(diff)}; it was edited or corrupted: restore it (only "
                        f"{', '.join(RESUMABLE_KEYS)} may change between sessions)")
            else:
                recorded = on_disk
        if recorded is not None:
            check_resume_config(recorded, cfg.to_dict(), out)
        return last

    def _run(self) -> dict:
        cfg, info, out = self.cfg, self.info, self.out
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        last = self._prepare_dir()
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
        step, elapsed, cpu = 0, 0.0, 0.0
        best = {"score": None, "step": None, "checkpoint": None, "scores": {}}
        sums = _empty_sums()
        if last is not None:
            state = self.restore(last, model, opt)
            step, elapsed, best = int(state["step"]), float(state["elapsed"]), dict(state["best"])
            cpu = state["cpu"]
            sums = dict(state["log"])
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
        if log.last_train_step == step:  # a row at the resumed step (a time-limit stop) already holds the sums
            sums = _empty_sums()
        net = ddp.wrap(model, info, multi_task=len(cfg.algorithms) > 1)
        data = TrainData(cfg)
        val_sets: dict = {}
        desc = ",".join(cfg.algorithms) if len(cfg.algorithms) <= 3 else f"{len(cfg.algorithms)} algorithms"
        bar = _Progress(cfg.steps, step, self.progress and info.main, f"{desc} {cfg.processor}",
                        time_limit=cfg.time_limit)
        start_step, t0 = step, time.perf_counter() - elapsed
        self._cpu0 = time.process_time() - cpu  # CPU seconds of this process, summed over sessions
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
                # the step's one device->host transfer (as nanoGPT: no other sync per step): the NaN check
                # and the logged sums
                loss_v, out_v, hint_v, norm_v = torch.stack(
                    [loss.detach(), losses["output"].detach(), losses["hint"].detach(), norm.to(loss.dtype)]).tolist()
                if ddp.any_true(not (math.isfinite(loss_v) and math.isfinite(norm_v)), info):
                    raise TrainingDiverged(self._diverged_message(step, name, loss_v, norm_v))
                opt.step()
                step += 1
                sums["loss"] += loss_v
                sums["output"] += out_v
                sums["hint"] += hint_v
                sums["n"] += 1
                bar.update(step, loss=f"{loss_v:.3f}")
                sums["grad_norm"] = norm_v
                if step % cfg.log_every == 0 or step == cfg.steps:
                    sums = self._log_train(log, step, sums, time.perf_counter() - t0)
                if step % cfg.eval_every == 0:
                    best = self._validate(model, val_sets, step, best, log, bar)
                if step % cfg.checkpoint_every == 0:
                    self._save_last(model, opt, step, time.perf_counter() - t0, best, sums)
        finally:
            del stream
            bar.close()
        elapsed = time.perf_counter() - t0
        if sums["n"]:  # stopped by the time limit between two log rows
            sums = self._log_train(log, step, sums, elapsed)
        if step > start_step and step % cfg.eval_every != 0:  # the last step was not validated yet
            best = self._validate(model, val_sets, step, best, log, bar)
        if step > start_step and step % cfg.checkpoint_every != 0:
            self._save_last(model, opt, step, elapsed, best, sums)
        self.on_train_end(model, step)
        results = self._test(model, step, start_step, elapsed, best, log)
        log.close()
        return results

    def restore(self, last: Path, model, opt) -> dict:
        """Load weights, optimizer, RNGs and the trainer's state from ``last`` (all hash-checked)."""
        meta = ck.read_meta(last)
        ck.check_resumable(last, meta)
        ck.load_weights(last, model, meta, config=self.cfg.to_dict(), may_differ=RESUMABLE_KEYS)
        state = ck.load_training_state(last, opt, meta)
        try:
            state = {"step": int(state["step"]), "elapsed": float(state["elapsed"]), "best": dict(state["best"]),
                     "cpu": float(state.get("cpu", 0.0)),  # absent in checkpoints written before it was kept
                     "log": {k: state["log"][k] for k in _empty_sums()}}
        except (KeyError, TypeError, ValueError) as exc:
            raise ck.CheckpointError(f"{last / ck.STATE}: trainer state incomplete ({exc!r})") from None
        return state

    # -- pieces ---------------------------------------------------------------------------------------
    def _evaluate(self, model, sets: dict, split: str) -> tuple[dict, dict]:
        """``({algorithm: EvalResult}, {algorithm: solver diagnostics})``; the diagnostics (mean / max
        iterations and residuals, :meth:`nar.models.deq.SolverSummary.as_dict`) only for a DEQ model,
        whose results say ``step_count`` :data:`SOLVER` (its solver, not a step count, decides)."""
        from ..models.deq import DEQReasoner, evaluate_deq
        from .evaluation import EvalResult

        device = self.info.device
        if not isinstance(model, DEQReasoner):
            return evaluate_sets(model, sets, self.cfg, device, split), {}
        results, solver = {}, {}
        for name, batches in sets.items():
            scores, summary = evaluate_deq(model, [b.to(device) for b in batches])
            results[name] = EvalResult(name, split, max(b.max_nodes for b in batches), sum(b.size for b in batches),
                                       SOLVER, scores)
            solver[name] = summary.as_dict()
        return results, solver

    def _log_train(self, log: RunLog, step: int, sums: dict, seconds: float) -> dict:
        k = sums["n"]
        log.train_row({"step": step, "algorithm": self.cfg.algorithms[0] if len(self.cfg.algorithms) == 1 else "mixed",
                       "loss": sums["loss"] / k, "output_loss": sums["output"] / k, "hint_loss": sums["hint"] / k,
                       "grad_norm": sums["grad_norm"], "lr": self.cfg.lr, "seconds": seconds})
        return _empty_sums()

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

    def _save_last(self, model, opt, step: int, elapsed: float, best: dict, sums: dict) -> None:
        if self.info.main:
            meta = self._meta(step, {"best_val": best["score"], "best_step": best["step"]})
            meta["best_checkpoint"] = best["checkpoint"]
            ck.save_checkpoint(self.out, "last", step, model, meta, optimizer=opt,
                               state={"step": step, "elapsed": elapsed, "best": best, "log": dict(sums),
                                      "cpu": time.process_time() - self._cpu0})
        ddp.barrier(self.info)

    def _validate(self, model, val_sets: dict, step: int, best: dict, log: RunLog, bar: _Progress) -> dict:
        cfg = self.cfg
        if not val_sets:
            val_sets.update({a: eval_batches(cfg, a, "val") for a in cfg.algorithms})
        results, solver = self._evaluate(model, val_sets, "val")
        for name, r in results.items():
            log.scores(step, "val", name, r.step_count, {**r.scores.as_dict(), **_prefixed(solver.get(name))})
        score = ddp.broadcast_float(mean_score(results), self.info)  # rank 0 decides what is best
        bar.note(step, val=f"{score:.3f}")
        if best["score"] is None or score > best["score"]:
            best = {"score": score, "step": step, "checkpoint": f"best-{step:08d}",
                    "scores": {k: r.scores.score for k, r in results.items()}}
            if solver:
                best["solver"] = solver
            if self.info.main:
                ck.save_checkpoint(self.out, "best", step, model,
                                   self._meta(step, {"val": score, "val_scores": best["scores"]}))
        return best

    def _test(self, model, step: int, start_step: int, elapsed: float, best: dict, log: RunLog) -> dict:
        cfg, info = self.cfg, self.info
        ckpt = ck.pointer(self.out, "best")
        if ckpt is not None:  # test the best-validation weights, as CLRS does
            ck.load_weights(ckpt, model, config=cfg.to_dict(), may_differ=RESUMABLE_KEYS)
        test_sets = {a: eval_batches(cfg, a, "test") for a in cfg.algorithms}
        results, solver = self._evaluate(model, test_sets, "test")
        test_step = best["step"] if ckpt is not None else step
        for name, r in results.items():
            log.scores(test_step, "test", name, r.step_count, {**r.scores.as_dict(), **_prefixed(solver.get(name))})
        tests = {k: r.as_dict() for k, r in results.items()}
        for name, summary in solver.items():
            tests[name]["solver"] = summary
        out = {
            "algorithms": list(cfg.algorithms), "model": cfg.model, "processor": cfg.processor,
            "step_count": SOLVER if solver else cfg.step_count, "steps_done": step, "steps_planned": cfg.steps,
            "seconds": round(elapsed, 2), "cpu_seconds": round(time.process_time() - self._cpu0, 3),
            "steps_this_session": step - start_step,
            "best_step": best["step"], "best_val": best["score"], "val": best["scores"],
            "test": tests, "test_mean": mean_score(results),
            "tested_checkpoint": ckpt.name if ckpt is not None else None,
            "device": str(info.device), "world_size": info.world, "torch": torch.__version__,
            "threads": torch.get_num_threads(), "machine": platform.node(), "nar_version": __version__,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "config": cfg.to_dict(),
        }
        if solver:  # a DEQ run: what its solver used, on the best checkpoint's validation and on the test
            out["solver"] = {"options": check_model_options(cfg.model, cfg.model_options),
                             "val": best.get("solver", {}), "test": solver}
        if info.main:
            from ..data.store import atomic_write

            text = (json.dumps(out, indent=1) + "\n").encode()
            atomic_write(self.out / RESULTS, lambda put: put(text))
        return out


def train(cfg: TrainConfig, out_dir, *, resume: bool = False, progress: bool = True) -> dict:
    """Train ``cfg`` into ``out_dir`` (see :class:`Trainer`); returns (and writes) ``results.json``."""
    return Trainer(cfg, out_dir, resume=resume, progress=progress).run()
