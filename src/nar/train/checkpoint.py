"""Checkpoints: safetensors weights + JSON metadata/config + optimizer and RNG state, written atomically.

Layout of a run directory::

    run/checkpoints/last-00000500/   model.safetensors  checkpoint.json  optimizer.pt  rng.pt
    run/checkpoints/best-00000450/   model.safetensors  checkpoint.json
    run/checkpoints/last.json        {"checkpoint": "last-00000500", "step": 500}   (pointer)
    run/checkpoints/best.json        {"checkpoint": "best-00000450", "step": 450}

A checkpoint directory is written under a temporary name and renamed into place (``os.replace``);
only then is its pointer file replaced (atomically), and only then are directories nothing points to
removed.  A run killed at any moment therefore leaves the previous complete checkpoint reachable.

``model.safetensors`` is plain safetensors (8-byte little-endian header size, JSON header, raw
little-endian bytes; https://github.com/huggingface/safetensors), written and read here directly so
that checkpoints need no extra dependency; ``checkpoint.json`` records its sha256, checked on load.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import struct
from pathlib import Path

import numpy as np
import torch

from ..data.store import file_sha256
from ..validation import InputError

FORMAT = "nar.checkpoint"
VERSION = 1
WEIGHTS, META, OPTIMIZER, RNG = "model.safetensors", "checkpoint.json", "optimizer.pt", "rng.pt"
KINDS = ("last", "best")

_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
           torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
           torch.bool: "BOOL"}
_TORCH = {v: k for k, v in _DTYPES.items()}


class CheckpointError(InputError):
    """A checkpoint is missing, corrupted, or does not belong to the model/run it is loaded into."""


# ---------------------------------------------------------------------------------------------- safetensors
def safetensors_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """Serialise ``tensors`` in the safetensors format (sorted names, 8-byte aligned header)."""
    header: dict = {"__metadata__": dict(metadata or {})}
    chunks, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        if t.dtype not in _DTYPES:
            raise TypeError(f"{name}: dtype {t.dtype} cannot be stored in safetensors here")
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    return struct.pack("<Q", len(head)) + head + b"".join(chunks)


def read_safetensors(path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """``(tensors, metadata)`` of a safetensors file; :class:`CheckpointError` if it is malformed."""
    buf = Path(path).read_bytes()
    try:
        (size,) = struct.unpack("<Q", buf[:8])
        header = json.loads(buf[8:8 + size])
        base = 8 + size
        meta = header.pop("__metadata__", {}) or {}
        tensors = {}
        for name, info in header.items():
            start, end = info["data_offsets"]
            dtype = _TORCH[info["dtype"]]
            if base + end > len(buf) or start > end:
                raise ValueError("data offsets past the end of the file")
            flat = torch.frombuffer(bytearray(buf[base + start:base + end]), dtype=torch.uint8) if end > start \
                else torch.empty(0, dtype=torch.uint8)
            tensors[name] = flat.view(dtype).reshape(info["shape"]).clone()
    except (struct.error, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from None
    return tensors, meta


# ---------------------------------------------------------------------------------------------- writing
def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _write_json_atomic(path: Path, obj) -> None:
    from ..data.store import atomic_write

    text = (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode()
    atomic_write(path, lambda put: put(text))


def rng_state() -> dict:
    """Python, numpy and torch (CPU and CUDA) global RNG states, in a ``weights_only``-loadable form."""
    np_state = np.random.get_state(legacy=False)
    state = {"python": random.getstate(), "numpy": {"bit_generator": np_state["bit_generator"],
                                                     "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
                                                     "pos": int(np_state["state"]["pos"]),
                                                     "has_gauss": int(np_state["has_gauss"]),
                                                     "gauss": float(np_state["gauss"])},
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(tuple(tuple(x) if isinstance(x, list) else x for x in state["python"]))
    s = state["numpy"]
    np.random.set_state({"bit_generator": s["bit_generator"], "has_gauss": s["has_gauss"], "gauss": s["gauss"],
                         "state": {"key": s["key"].numpy().astype(np.uint32), "pos": s["pos"]}})
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(run_dir, kind: str, step: int, model: torch.nn.Module, meta: dict, *,
                    optimizer: torch.optim.Optimizer | None = None, state: dict | None = None) -> Path:
    """Write checkpoint ``<kind>-<step>`` of ``model`` under ``run_dir/checkpoints`` and point ``kind`` at it.

    ``meta`` (JSON-able: config, model name, algorithms, metrics) goes to ``checkpoint.json``;
    ``optimizer`` and ``state`` (the trainer's own resume state) to ``optimizer.pt`` / ``rng.pt``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    root = Path(run_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    name = f"{kind}-{step:08d}"
    tmp = root / f".tmp-{name}-{os.getpid()}-{os.urandom(3).hex()}"
    tmp.mkdir()
    try:
        algorithms = list(getattr(model, "algorithms", []))
        weights = safetensors_bytes(model.state_dict(), {"format": "pt", "nar": json.dumps(
            {"model": meta.get("model"), "algorithms": algorithms})})
        _fsync_write(tmp / WEIGHTS, weights)
        from hashlib import sha256

        info = {"format": FORMAT, "version": VERSION, "kind": kind, "step": step,
                "weights_sha256": sha256(weights).hexdigest(), "torch": torch.__version__, **meta}
        if optimizer is not None:
            torch.save(optimizer.state_dict(), tmp / OPTIMIZER)
        if state is not None:
            torch.save({**state, "rng": rng_state()}, tmp / RNG)
        _fsync_write(tmp / META, (json.dumps(info, indent=1, sort_keys=True) + "\n").encode())
        final = root / name
        if final.exists():  # left by a killed run after the rename but before its pointer moved
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _write_json_atomic(root / f"{kind}.json", {"checkpoint": name, "step": step})
    prune(run_dir)
    return final


def pointer(run_dir, kind: str) -> Path | None:
    """The checkpoint directory ``kind`` ('last' or 'best') points at, or None."""
    path = Path(run_dir) / "checkpoints" / f"{kind}.json"
    if not path.is_file():
        return None
    try:
        target = path.parent / json.loads(path.read_text())["checkpoint"]
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(f"{path}: unreadable checkpoint pointer; delete it to fall back to the other "
                              f"checkpoint") from None
    return target if target.is_dir() else None


def set_pointer(run_dir, kind: str, name: str | None) -> None:
    """Point ``kind`` at checkpoint ``name`` (None removes the pointer)."""
    path = Path(run_dir) / "checkpoints" / f"{kind}.json"
    if name is None:
        path.unlink(missing_ok=True)
    else:
        _write_json_atomic(path, {"checkpoint": name, "step": int(name.rsplit("-", 1)[1])})


def prune(run_dir) -> None:
    """Remove checkpoint directories no pointer (nor the last checkpoint's best) refers to, and stale temps."""
    root = Path(run_dir) / "checkpoints"
    keep = {p.name for p in (pointer(run_dir, "last"), pointer(run_dir, "best")) if p is not None}
    last = pointer(run_dir, "last")
    if last is not None and (last / META).is_file():
        try:
            best = json.loads((last / META).read_text()).get("best_checkpoint")
        except ValueError:
            best = None
        if best:
            keep.add(best)
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
def resolve(path, prefer: str = "best") -> Path:
    """A checkpoint directory from a run directory (``prefer``'s pointer, else the other), its
    ``checkpoints/`` folder, or a checkpoint directory itself."""
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"{p} does not exist")
    if (p / META).is_file():
        return p
    run = p.parent if p.name == "checkpoints" else p
    order = [prefer] + [k for k in KINDS if k != prefer]
    for kind in order:
        target = pointer(run, kind)
        if target is not None:
            return target
    raise CheckpointError(f"{p} holds no checkpoint (expected a run directory written by `nar train`, or a "
                          f"checkpoint directory with {META} and {WEIGHTS})")


def read_meta(ckpt) -> dict:
    path = Path(ckpt) / META
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{ckpt}: no {META}; not a nar checkpoint") from None
    except ValueError as exc:
        raise CheckpointError(f"{path}: corrupted ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a nar checkpoint (format {meta.get('format') if isinstance(meta, dict) else None!r})")
    if meta.get("version", 0) > VERSION:
        raise CheckpointError(f"{path}: written by a newer nar (checkpoint version {meta['version']} > {VERSION})")
    return meta


def load_weights(ckpt, model: torch.nn.Module, meta: dict | None = None) -> dict:
    """Load ``ckpt``'s weights into ``model`` after checking file hash, model name and parameter names."""
    ckpt = Path(ckpt)
    meta = meta or read_meta(ckpt)
    wpath = ckpt / WEIGHTS
    if not wpath.is_file():
        raise CheckpointError(f"{ckpt}: {WEIGHTS} is missing")
    if file_sha256(wpath) != meta.get("weights_sha256"):
        raise CheckpointError(f"{wpath}: content hash does not match {META}; the file is corrupted or was replaced")
    tensors, _ = read_safetensors(wpath)
    own = model.state_dict()
    missing, unexpected = sorted(set(own) - set(tensors)), sorted(set(tensors) - set(own))
    shapes = [k for k in own if k in tensors and tuple(own[k].shape) != tuple(tensors[k].shape)]
    if missing or unexpected or shapes:
        raise CheckpointError(
            f"{ckpt} was written by another model ({meta.get('model')!r} on {meta.get('algorithms')}, "
            f"processor {meta.get('config', {}).get('processor')!r}, hidden {meta.get('config', {}).get('hidden')}) "
            f"than the one it is loaded into: {len(missing)} missing, {len(unexpected)} unexpected and "
            f"{len(shapes)} mis-shaped parameters (e.g. {(missing + unexpected + shapes)[:3]})")
    model.load_state_dict({k: v.to(own[k].device) for k, v in tensors.items()})
    return meta


def load_training_state(ckpt, optimizer: torch.optim.Optimizer | None) -> dict:
    """Restore ``optimizer`` and the global RNGs from a 'last' checkpoint; returns the trainer's state."""
    ckpt = Path(ckpt)
    for f in (OPTIMIZER, RNG):
        if not (ckpt / f).is_file():
            raise CheckpointError(f"{ckpt}: {f} is missing; only 'last' checkpoints can be resumed")
    try:
        if optimizer is not None:
            optimizer.load_state_dict(torch.load(ckpt / OPTIMIZER, map_location="cpu", weights_only=True))
        state = torch.load(ckpt / RNG, map_location="cpu", weights_only=True)
    except (RuntimeError, ValueError, EOFError, OSError) as exc:
        raise CheckpointError(f"{ckpt}: optimizer/RNG state unreadable ({exc})") from None
    set_rng_state(state["rng"])
    return state
