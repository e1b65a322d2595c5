"""Checkpoints: safetensors weights, optimizer and training state + a self-hashed JSON manifest, written atomically.

Layout of a run directory::

    run/checkpoints/last-00000500/   model.safetensors  checkpoint.json  optimizer.safetensors  state.safetensors
    run/checkpoints/best-00000450/   model.safetensors  checkpoint.json
    run/checkpoints/last.json        {"checkpoint": "last-00000500", "step": 500, "sha256": ...}   (pointer)
    run/checkpoints/best.json        {"checkpoint": "best-00000450", "step": 450, "sha256": ...}

What is verified (format version 2), so that a checkpoint either loads exactly as written or fails
with :class:`CheckpointError` naming the file:

* ``checkpoint.json`` records the sha256 of every other file of its checkpoint (``files``), the
  canonical JSON of the training config (which decides the architecture) and its sha256
  (``config_sha256``), and the sha256 of its own canonical content (``sha256``): an edit or a flipped
  byte anywhere in it is detected; JSON whitespace changes nothing.
* ``model.safetensors`` (written and read with the ``safetensors`` library) carries the same canonical
  config and hash in its metadata; on load it must equal ``checkpoint.json``'s, and the config must
  equal the one of the model being loaded into (so an mpnn checkpoint never loads into a pgn model,
  though their parameters have the same names and shapes).
* ``optimizer.safetensors`` holds the optimizer's state tensors plus its JSON structure (param groups,
  step counts); ``state.safetensors`` holds the RNG states (torch CPU/CUDA generator bytes, numpy's
  MT19937 key, python ``random``'s state) and the trainer's JSON state.  No pickles.
* a pointer records the name, step and ``sha256`` of the checkpoint it points at.

A checkpoint directory is written under a temporary name, fsync'ed and renamed into place; only then
is its pointer replaced (atomically: temp file + ``os.replace``), and only then are directories
nothing points to removed.  A process killed at any moment leaves the previous checkpoint reachable.

Format 1 checkpoints (``optimizer.pt`` / ``rng.pt`` pickles, no manifest hash) still load for
evaluation and inference (with a warning: their config is not hash-checked) but cannot be resumed.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import struct
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors import torch as st

from ..validation import InputError

FORMAT = "nar.checkpoint"
VERSION = 2
WEIGHTS, META = "model.safetensors", "checkpoint.json"
OPTIMIZER, STATE = "optimizer.safetensors", "state.safetensors"
LEGACY_FILES = ("optimizer.pt", "rng.pt")  # format 1
KINDS = ("last", "best")
_POINTER_KEYS = ({"checkpoint", "step"}, {"checkpoint", "step", "sha256"})  # format 1, format 2


class CheckpointError(InputError):
    """A checkpoint is missing, corrupted, or does not belong to the model/run it is loaded into."""


# ---------------------------------------------------------------------------------------------- hashing
def canonical(obj) -> str:
    """The canonical JSON text of ``obj`` (sorted keys, no whitespace): what hashes are taken of."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def config_diff(a: dict, b: dict, ignore=(), fmt: str = "{key}={a!r} ({b!r})", keys=None) -> list[str]:
    """``fmt`` of every key (of ``keys``, default all; outside ``ignore``) whose values differ between two
    config dicts."""
    missing = "<missing>"
    keys = set(a) | set(b) if keys is None else set(keys)
    keys = sorted(k for k in keys if k not in ignore and a.get(k, missing) != b.get(k, missing))
    return [fmt.format(key=k, a=a.get(k, missing), b=b.get(k, missing)) for k in keys]


# ---------------------------------------------------------------------------------------------- safetensors
def safetensors_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """``tensors`` (moved to the CPU, made contiguous) as safetensors bytes (the ``safetensors`` library)."""
    cpu = {k: t.detach().to("cpu").contiguous().clone() for k, t in tensors.items()}
    return st.save(cpu, metadata=dict(metadata or {}))


def parse_safetensors(data: bytes, where) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """``(tensors, metadata)`` of safetensors bytes; :class:`CheckpointError` naming ``where`` if malformed."""
    try:
        tensors = st.load(data)
        (size,) = struct.unpack("<Q", data[:8])
        meta = json.loads(data[8:8 + size]).get("__metadata__") or {}
    except (SafetensorError, struct.error, ValueError, TypeError, AttributeError, RuntimeError) as exc:
        raise CheckpointError(f"{where}: not a readable safetensors file ({exc})") from None
    return tensors, meta


def read_safetensors(path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """``(tensors, metadata)`` of a safetensors file; :class:`CheckpointError` if it is malformed."""
    return parse_safetensors(Path(path).read_bytes(), path)


# ---------------------------------------------------------------------------------------------- optimizer
def optimizer_bytes(optimizer: torch.optim.Optimizer) -> bytes:
    """The optimizer's state dict: tensors in safetensors, the rest (param groups, scalars) as JSON metadata."""
    sd = optimizer.state_dict()
    tensors, state = {}, {}
    for pid, entry in sd["state"].items():
        state[str(pid)] = {}
        for key, value in entry.items():
            if torch.is_tensor(value):
                name = f"state.{pid}.{key}"
                tensors[name] = value
                state[str(pid)][key] = {"tensor": name}
            else:
                state[str(pid)][key] = {"value": value}
    structure = {"state": state, "param_groups": sd["param_groups"]}
    return safetensors_bytes(tensors, {"nar_optimizer": canonical(structure)})


def optimizer_state(data: bytes, where, optimizer: torch.optim.Optimizer) -> dict:
    """The state dict stored by :func:`optimizer_bytes`, shaped like ``optimizer``'s (tuples restored)."""
    tensors, meta = parse_safetensors(data, where)
    try:
        structure = json.loads(meta["nar_optimizer"])
        state = {int(pid): {k: tensors[v["tensor"]] if "tensor" in v else v["value"] for k, v in entry.items()}
                 for pid, entry in structure["state"].items()}
        own = optimizer.state_dict()["param_groups"]
        groups = [{k: tuple(v) if isinstance(mine.get(k), tuple) else v for k, v in g.items()}
                  for g, mine in zip(structure["param_groups"], own + [{}] * len(structure["param_groups"]))]
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{where}: optimizer structure unreadable ({exc!r})") from None
    return {"state": state, "param_groups": groups}


# ---------------------------------------------------------------------------------------------- RNG + trainer state
def state_bytes(trainer_state: dict) -> bytes:
    """Global RNG states (python, numpy, torch CPU and CUDA) and the trainer's JSON state, in safetensors."""
    np_state = np.random.get_state(legacy=False)
    version, py_state, gauss_next = random.getstate()
    tensors = {"rng.torch": torch.get_rng_state(), "rng.python": torch.tensor(py_state, dtype=torch.int64),
               "rng.numpy.key": torch.from_numpy(np_state["state"]["key"].astype(np.int64))}
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    tensors.update({f"rng.cuda.{i}": s for i, s in enumerate(cuda)})
    info = {"trainer": trainer_state, "cuda_devices": len(cuda),
            "python": {"version": version, "gauss_next": gauss_next},
            "numpy": {"bit_generator": np_state["bit_generator"], "pos": int(np_state["state"]["pos"]),
                      "has_gauss": int(np_state["has_gauss"]), "gauss": float(np_state["gauss"])}}
    return safetensors_bytes(tensors, {"nar_state": canonical(info)})


def parse_state(data: bytes, where) -> tuple[dict, dict]:
    """``(trainer state, rng)`` stored by :func:`state_bytes` (RNGs not yet applied: :func:`set_rng_state`)."""
    tensors, meta = parse_safetensors(data, where)
    try:
        info = json.loads(meta["nar_state"])
        rng = {"torch": tensors["rng.torch"], "python": (info["python"]["version"],
                                                         tuple(int(x) for x in tensors["rng.python"].tolist()),
                                                         info["python"]["gauss_next"]),
               "numpy": {"bit_generator": info["numpy"]["bit_generator"], "has_gauss": info["numpy"]["has_gauss"],
                         "gauss": info["numpy"]["gauss"],
                         "state": {"key": tensors["rng.numpy.key"].numpy().astype(np.uint32),
                                   "pos": info["numpy"]["pos"]}},
               "cuda": [tensors[f"rng.cuda.{i}"] for i in range(info["cuda_devices"])]}
        trainer = info["trainer"]
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{where}: training state unreadable ({exc!r})") from None
    return trainer, rng


def set_rng_state(rng: dict) -> None:
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


# ---------------------------------------------------------------------------------------------- writing
def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory descriptors
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _write_json_atomic(path: Path, obj) -> None:
    from ..data.store import atomic_write

    text = (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode()
    atomic_write(path, lambda put: put(text))
    _fsync_dir(path.parent)


def seal(info: dict) -> dict:
    """``info`` with ``sha256``: the hash of its canonical JSON without that key."""
    body = {k: v for k, v in info.items() if k != "sha256"}
    return {**body, "sha256": sha256(canonical(body))}


def save_checkpoint(run_dir, kind: str, step: int, model: torch.nn.Module, meta: dict, *,
                    optimizer: torch.optim.Optimizer | None = None, state: dict | None = None) -> Path:
    """Write checkpoint ``<kind>-<step>`` of ``model`` under ``run_dir/checkpoints`` and point ``kind`` at it.

    ``meta`` (JSON-able; must hold ``config``, the training config as a dict) goes to ``checkpoint.json``;
    ``optimizer`` to ``optimizer.safetensors``; ``state`` (the trainer's JSON resume state) and the
    global RNG states to ``state.safetensors``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    root = Path(run_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    name = f"{kind}-{step:08d}"
    config_text = canonical(meta["config"])
    config_sha = sha256(config_text)
    blobs = {WEIGHTS: safetensors_bytes(model.state_dict(), {
        "format": "pt", "nar": canonical({"model": meta.get("model"), "algorithms": list(meta.get("algorithms", [])),
                                          "config_sha256": config_sha}),
        "nar_config": config_text, "nar_config_sha256": config_sha})}
    if optimizer is not None:
        blobs[OPTIMIZER] = optimizer_bytes(optimizer)
    if state is not None:
        blobs[STATE] = state_bytes(state)
    info = seal({"format": FORMAT, "version": VERSION, "kind": kind, "step": step, "torch": torch.__version__,
                 **meta, "config_sha256": config_sha, "files": {f: sha256(b) for f, b in blobs.items()}})
    tmp = root / f".tmp-{name}-{os.getpid()}-{os.urandom(3).hex()}"
    tmp.mkdir()
    try:
        for f, data in blobs.items():
            _fsync_write(tmp / f, data)
        _fsync_write(tmp / META, (json.dumps(info, indent=1, sort_keys=True) + "\n").encode())
        _fsync_dir(tmp)
        final = root / name
        if final.exists():  # left by a killed run after the rename but before its pointer moved
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _write_json_atomic(root / f"{kind}.json", {"checkpoint": name, "step": step, "sha256": info["sha256"]})
    prune(run_dir)
    return final


def pointer(run_dir, kind: str) -> Path | None:
    """The checkpoint directory ``kind`` ('last' or 'best') points at, or None if there is no pointer.

    A pointer that is unreadable, inconsistent, points at a missing directory or at a checkpoint whose
    manifest hash differs from the one it recorded is a :class:`CheckpointError`.
    """
    path = Path(run_dir) / "checkpoints" / f"{kind}.json"
    if not path.is_file():
        return None
    fix = f"delete {path} to drop it"
    try:
        data = json.loads(path.read_text())
        name, step = data["checkpoint"], data["step"]
        ok = set(data) in _POINTER_KEYS and isinstance(step, int) and name == f"{kind}-{step:08d}"
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise CheckpointError(f"{path}: corrupted checkpoint pointer (expected {{\"checkpoint\": \"{kind}-<step>\", "
                              f"\"step\": <step>, \"sha256\": ...}}); {fix}") from None
    target = path.parent / name
    if not target.is_dir():
        raise CheckpointError(f"{path} points at {name}, which does not exist; {fix}")
    recorded = data.get("sha256")
    meta = read_meta(target)
    if recorded != meta.get("sha256") or (meta["version"] >= 2 and meta["step"] != step):
        raise CheckpointError(f"{path}: points at {name} with manifest hash {recorded}, but {target / META} has "
                              f"{meta.get('sha256')}; the pointer or the checkpoint was edited or corrupted")
    return target


def set_pointer(run_dir, kind: str, name: str | None) -> None:
    """Point ``kind`` at checkpoint ``name`` (None removes the pointer); atomic."""
    root = Path(run_dir) / "checkpoints"
    path = root / f"{kind}.json"
    if name is None:
        path.unlink(missing_ok=True)
        return
    meta = read_meta(root / name)
    data = {"checkpoint": name, "step": int(name.rsplit("-", 1)[1])}
    if "sha256" in meta:
        data["sha256"] = meta["sha256"]
    _write_json_atomic(path, data)


def prune(run_dir) -> None:
    """Remove checkpoint directories no pointer (nor the last checkpoint's best) refers to, and stale temps."""
    root = Path(run_dir) / "checkpoints"
    last, best = pointer(run_dir, "last"), pointer(run_dir, "best")
    keep = {p.name for p in (last, best) if p is not None}
    if last is not None:
        kept_best = read_meta(last).get("best_checkpoint")
        if kept_best:
            keep.add(kept_best)
    for d in root.iterdir():
        if not d.is_dir() or d.name in keep:
            continue
        if d.name.startswith(".tmp-"):
            try:
                pid = int(d.name.split("-")[-2])
                os.kill(pid, 0)
                continue  # its writer is alive
            except (ValueError, IndexError):
                continue
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        if d.name.startswith(".tmp-") or d.name.split("-")[0] in KINDS:
            shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- reading
def resolve(path, which: str = "best") -> Path:
    """A checkpoint directory: ``path`` itself if it is one, else the ``which`` ('best' or 'last')
    checkpoint of a run directory (or of its ``checkpoints/`` folder).  No silent fallback: a run
    without the requested checkpoint is a :class:`CheckpointError` that says which ones it has."""
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"{p} does not exist")
    if (p / META).is_file():
        return p
    if which not in KINDS:
        raise InputError(f"which checkpoint: must be one of best, last; got {which!r}")
    run = p.parent if p.name == "checkpoints" else p
    target = pointer(run, which)
    if target is not None:
        return target
    others = [k for k in KINDS if k != which and pointer(run, k) is not None]
    if others:
        other = others[0]
        raise CheckpointError(
            f"{run} has no {which} checkpoint (it has: {pointer(run, other).name}); ask for it explicitly: "
            f"nar.load(..., which={other!r}) / nar eval --which {other}, or give that checkpoint directory")
    raise CheckpointError(f"{p} holds no checkpoint (expected a run directory written by `nar train`, or a "
                          f"checkpoint directory with {META} and {WEIGHTS})")


def read_meta(ckpt) -> dict:
    """``checkpoint.json`` of ``ckpt``, verified against its own hash (format 2) and its config hash."""
    path = Path(ckpt) / META
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{ckpt}: no {META}; not a nar checkpoint") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: corrupted ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a nar checkpoint (format "
                              f"{meta.get('format') if isinstance(meta, dict) else None!r})")
    version = meta.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(f"{path}: corrupted (version {version!r})")
    if version > VERSION:
        raise CheckpointError(f"{path}: written by a newer nar (checkpoint version {version} > {VERSION})")
    if version == 1:
        if "sha256" in meta or "files" in meta:
            raise CheckpointError(f"{path}: corrupted (format 1 checkpoints have no sha256/files)")
        return meta
    if meta.get("sha256") != seal(meta)["sha256"]:
        raise CheckpointError(f"{path}: content does not match its recorded hash (sha256); the file was edited "
                              f"or corrupted" + _what_differs(Path(ckpt), meta))
    if not isinstance(meta.get("config"), dict) or meta.get("config_sha256") != sha256(canonical(meta["config"])):
        raise CheckpointError(f"{path}: config does not match its recorded config_sha256")
    return meta


def _what_differs(ckpt: Path, meta: dict) -> str:
    """For an error message: how ``meta``'s config differs from the one recorded in the weights file."""
    try:
        with open(ckpt / WEIGHTS, "rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            recorded = json.loads(json.loads(f.read(size))["__metadata__"]["nar_config"])
        diff = config_diff(meta.get("config") or {}, recorded)
    except Exception:  # only a hint for the message
        return ""
    return f" (config differs from the one recorded in {WEIGHTS}: {', '.join(diff)})" if diff else ""


def _verified_bytes(ckpt: Path, meta: dict, name: str, hint: str = "") -> bytes:
    """The bytes of file ``name`` of ``ckpt``, checked against the sha256 in its manifest."""
    path = ckpt / name
    expected = meta.get("files", {}).get(name) if meta["version"] >= 2 else meta.get("weights_sha256")
    if expected is None:
        raise CheckpointError(f"{ckpt}: {META} records no {name}{hint}")
    if not path.is_file():
        raise CheckpointError(f"{ckpt}: {name} is missing")
    data = path.read_bytes()
    if sha256(data) != expected:
        raise CheckpointError(f"{path}: content hash does not match {META}; the file is corrupted or was replaced")
    return data


def load_weights(ckpt, model: torch.nn.Module, meta: dict | None = None, *, config: dict | None = None,
                 may_differ=()) -> dict:
    """Load ``ckpt``'s weights into ``model`` after checking hashes, the recorded config and parameter names.

    ``config``: the training config (dict) ``model`` was built from; the checkpoint's must equal it
    except for the keys in ``may_differ``.  Returns the verified metadata.
    """
    ckpt = Path(ckpt)
    meta = meta or read_meta(ckpt)
    data = _verified_bytes(ckpt, meta, WEIGHTS)
    tensors, wmeta = parse_safetensors(data, ckpt / WEIGHTS)
    saved = meta.get("config") or {}
    if meta["version"] >= 2:
        try:
            recorded = json.loads(wmeta["nar_config"])
        except (KeyError, ValueError) as exc:
            raise CheckpointError(f"{ckpt / WEIGHTS}: no readable config in its metadata ({exc!r})") from None
        if canonical(recorded) != canonical(saved) or wmeta.get("nar_config_sha256") != meta["config_sha256"]:
            raise CheckpointError(f"{ckpt}: {META} and {WEIGHTS} record different configs: "
                                  f"{', '.join(config_diff(saved, recorded)) or 'config hash'}")
    else:
        warnings.warn(f"{ckpt}: checkpoint format 1 (written by an older nar): its config is not hash-checked; "
                      f"retrain or re-save to get a verified checkpoint", stacklevel=2)
    if config is not None:  # keys the checkpoint does not record (added to nar after it was written) are not compared
        diff = config_diff(saved, config, may_differ, keys=saved)
        if diff:
            raise CheckpointError(f"{ckpt} was trained with another configuration than the model it is loaded "
                                  f"into: {', '.join(diff)} (checkpoint (model))")
    own = model.state_dict()
    missing, unexpected = sorted(set(own) - set(tensors)), sorted(set(tensors) - set(own))
    shapes = [k for k in own if k in tensors and tuple(own[k].shape) != tuple(tensors[k].shape)]
    if missing or unexpected or shapes:
        raise CheckpointError(
            f"{ckpt} was written by another model ({meta.get('model')!r} on {meta.get('algorithms')}, "
            f"processor {saved.get('processor')!r}, hidden {saved.get('hidden')}) "
            f"than the one it is loaded into: {len(missing)} missing, {len(unexpected)} unexpected and "
            f"{len(shapes)} mis-shaped parameters (e.g. {(missing + unexpected + shapes)[:3]})")
    model.load_state_dict({k: v.to(own[k].device) for k, v in tensors.items()})
    return meta


def check_resumable(ckpt, meta: dict) -> None:
    """CheckpointError for a format 1 checkpoint (its optimizer/RNG pickles cannot be verified)."""
    if meta["version"] < 2:
        raise CheckpointError(f"{ckpt}: checkpoint format 1 (written by an older nar; {', '.join(LEGACY_FILES)} "
                              f"are unverifiable pickles) cannot be resumed; its weights still load with "
                              f"nar.load / nar eval: start a new run")


def load_training_state(ckpt, optimizer: torch.optim.Optimizer | None, meta: dict | None = None) -> dict:
    """Restore ``optimizer`` and the global RNGs from a 'last' checkpoint; returns the trainer's state.

    Both files are hash-checked and parsed before anything is changed."""
    ckpt = Path(ckpt)
    meta = meta or read_meta(ckpt)
    check_resumable(ckpt, meta)
    hint = "; only 'last' checkpoints can be resumed"
    opt_state = None
    if optimizer is not None:
        opt_state = optimizer_state(_verified_bytes(ckpt, meta, OPTIMIZER, hint), ckpt / OPTIMIZER, optimizer)
    trainer, rng = parse_state(_verified_bytes(ckpt, meta, STATE, hint), ckpt / STATE)
    if trainer.get("step") != meta["step"]:
        raise CheckpointError(f"{ckpt / STATE}: step {trainer.get('step')} but {META} says {meta['step']}")
    if opt_state is not None:
        try:
            optimizer.load_state_dict(opt_state)
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise CheckpointError(f"{ckpt / OPTIMIZER}: does not fit the optimizer ({exc})") from None
    set_rng_state(rng)
    return trainer
