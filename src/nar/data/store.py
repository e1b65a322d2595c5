"""Save and load trajectories as one safetensors file (``nar sample --out``, the fixed splits).

Format: plain safetensors (https://github.com/huggingface/safetensors: ``u64`` little-endian header
size, a JSON header naming every tensor's dtype, shape and byte range, then the raw bytes), written
here directly so that (1) writing streams each piece to disk with no second copy in memory and (2) the
bytes depend only on the data (sorted JSON, fixed tensor order), so regenerating gives the same file.
Any safetensors reader opens it.

Tensors, for B trajectories of one algorithm: ``n [B]`` and ``length [B]`` (int64), and for every
probe ``"<stage>/<probe>"`` the flat concatenation over samples of its value in a compact, lossless
encoding chosen by its type:

=========================  ===================================================
scalar, soft_pointer       the values as they are (float32)
mask                       int8 (0, 1, and -1 = masked)
pointer types              node indices, in the smallest signed integer type
                           holding the largest node count (int8 up to n = 126)
mask_one                   the index of the one-hot entry (along the node axis),
                           same integer type
categorical                int8 index of the one-hot class, ``-(c+1)`` where
                           that entry is ``-1``
=========================  ===================================================

``__metadata__["nar"]`` (JSON) holds the algorithm, each probe's codec and trailing shape, the
sha256 of the data section (checked on every load) and the caller's metadata.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..specs import SPECS, Location, Stage, Type
from ..trace import Trajectory
from ..types import POINTER_TYPES

FORMAT = "nar.trajectories"
VERSION = 1
Progress = Callable[[int, "int | None", str], None]  # (done, total, what)

_ST_DTYPES = {"<f4": "F32", "<f8": "F64", "<f2": "F16", "<i8": "I64", "<i4": "I32", "<i2": "I16",
              "|i1": "I8", "|u1": "U8", "|b1": "BOOL", "<u2": "U16", "<u4": "U32", "<u8": "U64"}
_NP_DTYPES = {v: np.dtype(k) for k, v in _ST_DTYPES.items()}
_NLOC = {Location.NODE: 1, Location.EDGE: 2, Location.GRAPH: 0}


class TrajectoryFileError(ValueError):
    """A trajectory file is corrupted, truncated, or does not match what was expected of it."""


# ----------------------------------------------------------------------------- codecs
def _codec(t: Type) -> str:
    if t in POINTER_TYPES:
        return "pointer"
    if t == Type.MASK:
        return "mask"
    if t == Type.MASK_ONE:
        return "index"
    if t == Type.CATEGORICAL:
        return "class"
    return "raw"


def _encode(codec: str, value: np.ndarray, what: str) -> np.ndarray:
    """Compact little-endian encoding of one value; raises if it would not decode to ``value``."""
    if codec == "pointer":
        if value.dtype.kind not in "iu":
            raise ValueError(f"{what}: pointer values must be integers, got dtype {value.dtype}")
        if value.size and (value.min() < 0 or value.max() > np.iinfo(np.int32).max):
            raise ValueError(f"{what}: pointer values outside [0, 2^31)")
        return value.astype("<i4")
    if codec == "mask":
        if not np.all((value == 0) | (value == 1) | (value == -1)):
            raise ValueError(f"{what}: mask values outside {{0, 1, -1 (masked)}}")
        return value.astype("i1")
    if codec in ("index", "class"):
        a = np.abs(value)
        if not (np.all((a == 0) | (a == 1)) and np.all(a.sum(-1) == 1)):
            raise ValueError(f"{what}: not one-hot along its last axis")
        idx = a.argmax(-1)
        neg = np.take_along_axis(value, idx[..., None], -1)[..., 0] < 0
        small = codec == "class" and value.shape[-1] <= 127  # a fixed class count: int8 is enough
        return np.where(neg, -idx - 1, idx).astype("i1" if small else "<i4")
    return np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))


def _narrowest(n: int) -> np.dtype:
    """Smallest little-endian signed integer dtype holding the node indices ``0 .. n - 1``."""
    for dt in ("i1", "<i2", "<i4"):
        if n < np.iinfo(dt).max:
            return np.dtype(dt)
    raise ValueError(f"{n} nodes: too many to store node indices in int32")


def _decode(codec: str, stored: np.ndarray, dtype: np.dtype, size: int) -> np.ndarray:
    """Inverse of :func:`_encode`; ``size`` is the one-hot length (index and class codecs)."""
    if codec in ("index", "class"):
        codes = stored.astype(np.int64)
        neg = codes < 0
        out = np.zeros(codes.shape + (size,), dtype=dtype)
        np.put_along_axis(out, np.where(neg, -codes - 1, codes)[..., None],
                          np.where(neg, -1, 1)[..., None].astype(dtype), -1)
        return out
    return stored.astype(dtype, copy=codec != "raw")


# ----------------------------------------------------------------------------- safetensors I/O
def _header(tensors: list[tuple[str, np.dtype, int]], meta: dict) -> bytes:
    """safetensors header for 1-D tensors ``(name, dtype, length)`` laid out in the given order."""
    head, offset = {}, 0
    for name, dtype, length in tensors:
        nbytes = length * dtype.itemsize
        head[name] = {"dtype": _ST_DTYPES[dtype.str], "shape": [length],
                      "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    head["__metadata__"] = {"nar": json.dumps(meta, sort_keys=True, separators=(",", ":"))}
    raw = json.dumps(head, sort_keys=True, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # 8-byte alignment of the data section
    return struct.pack("<Q", len(raw)) + raw


def atomic_write(path: Path, write: Callable) -> str:
    """Call ``write(put)`` (``put(bytes)`` appends to a temp file next to ``path``), then rename
    the temp file to ``path``.

    Returns the sha256 of the bytes written.  On any failure (an exception, Ctrl-C) the temp file
    is removed and ``path`` is left as it was.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.{os.getpid()}.{os.urandom(4).hex()}")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as f:
            def put(chunk) -> None:
                digest.update(chunk)
                f.write(chunk)
            write(put)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def file_sha256(path: Path, block: int = 1 << 20) -> str:
    """sha256 of a file's bytes, read in blocks (constant memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            digest.update(chunk)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- save
def _jsonable(value, what: str):
    if isinstance(value, dict):
        return {str(k): _jsonable(v, what) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, what) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{what}: {type(value).__name__} is not JSON-serialisable")


def save_trajectories(path, trajectories: Iterable[Trajectory], *, metadata: dict | None = None,
                      progress: Progress | None = None) -> str:
    """Write trajectories of one algorithm to ``path`` atomically; returns the file's sha256.

    ``trajectories`` may be a generator: each trajectory is encoded and dropped as it arrives, so
    memory holds only the compact encoding.  ``metadata``: JSON-serialisable facts to store with
    them (read back by :func:`read_metadata`).  ``progress(done, total, what)`` is called after each
    trajectory (``total`` is None for a generator), e.g. to drive a tqdm bar.
    """
    path = Path(path)
    total = len(trajectories) if hasattr(trajectories, "__len__") else None
    name, spec, codecs, tails = None, None, {}, {}
    pieces: dict[str, list[np.ndarray]] = {}
    ns, lengths, extras = [], [], []
    for b, traj in enumerate(trajectories):
        if name is None:
            name, spec = traj.name, SPECS[traj.name]
            codecs = {k: _codec(p.type) for k, p in spec.items()}
            pieces = {f"{p.stage.value}/{k}": [] for k, p in spec.items()}
        elif traj.name != name:
            raise ValueError(f"save_trajectories needs one algorithm; got {name!r} and {traj.name!r}")
        n, T = traj.n, traj.length
        for k, p in spec.items():
            value = getattr(traj, p.stage.value + "s")[k]
            lead = (T,) if p.stage == Stage.HINT else ()
            loc = (n,) * _NLOC[p.location]
            what = f"trajectory {b} probe {k!r}"
            if value.shape[:len(lead) + len(loc)] != lead + loc:
                raise ValueError(f"{what}: shape {value.shape} does not start with {lead + loc}")
            tail = value.shape[len(lead) + len(loc):]
            if tails.setdefault(k, (tail, value.dtype)) != (tail, value.dtype):
                raise ValueError(f"{what}: trailing shape/dtype {tail}/{value.dtype} differs from "
                                 f"earlier samples' {tails[k]}")
            pieces[f"{p.stage.value}/{k}"].append(_encode(codecs[k], value, what).ravel())
        ns.append(n)
        lengths.append(T)
        extras.append(_jsonable(traj.extras, f"trajectory {b} extras"))
        if progress is not None:
            progress(b + 1, total, path.name)
    if name is None:
        raise ValueError("save_trajectories needs at least one trajectory")
    narrow = _narrowest(max(ns))
    for k, p in spec.items():
        if codecs[k] in ("pointer", "index"):  # node indices: the smallest integer type holding them
            key = f"{p.stage.value}/{k}"
            pieces[key] = [piece.astype(narrow) for piece in pieces[key]]
    pieces["n"] = [np.asarray(ns, dtype="<i8")]
    pieces["length"] = [np.asarray(lengths, dtype="<i8")]

    # widest dtype first keeps every tensor aligned; then by name, so the layout is canonical
    order = sorted(pieces, key=lambda k: (-pieces[k][0].dtype.itemsize, k))
    data_hash = hashlib.sha256()
    for key in order:
        for piece in pieces[key]:
            data_hash.update(memoryview(piece))
    meta = {
        "format": FORMAT, "version": VERSION, "algorithm": name, "count": len(ns),
        "probes": {k: {"codec": codecs[k], "tail": list(tails[k][0]), "dtype": tails[k][1].str}
                   for k in spec},
        "data_sha256": data_hash.hexdigest(), "user": _jsonable(metadata or {}, "metadata"),
    }
    if any(extras):
        meta["extras"] = extras
    header = _header([(k, pieces[k][0].dtype, sum(p.size for p in pieces[k])) for k in order], meta)

    def write(put) -> None:
        put(header)
        for key in order:
            for piece in pieces[key]:
                put(memoryview(piece))

    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, write)


# ----------------------------------------------------------------------------- load
def _parse_header(buf, source: str) -> tuple[dict, int]:
    """(header dict, offset of the data section); raises TrajectoryFileError on a bad header."""
    if len(buf) < 8:
        raise TrajectoryFileError(f"{source}: too short to be a safetensors file ({len(buf)} bytes)")
    (size,) = struct.unpack("<Q", bytes(buf[:8]))
    if size > len(buf) - 8:
        raise TrajectoryFileError(f"{source}: header size {size} exceeds the file; truncated?")
    try:
        head = json.loads(bytes(buf[8:8 + size]))
        meta = json.loads(head.pop("__metadata__")["nar"])
    except (ValueError, KeyError, TypeError) as e:
        raise TrajectoryFileError(f"{source}: not a nar trajectory file (bad header: {e})") from None
    if meta.get("format") != FORMAT:
        raise TrajectoryFileError(f"{source}: not a nar trajectory file (format {meta.get('format')!r})")
    if meta.get("version") != VERSION:
        raise TrajectoryFileError(f"{source}: file format version {meta.get('version')}, this nar "
                                  f"reads version {VERSION}; regenerate the file")
    return {"tensors": head, "meta": meta}, 8 + size


def read_metadata(path) -> dict:
    """The ``nar`` metadata of a trajectory file (algorithm, count, probes, user metadata), from
    its header only."""
    with open(path, "rb") as f:
        start = f.read(8)
        size = struct.unpack("<Q", start)[0] if len(start) == 8 else 0
        head = start + f.read(min(size, 100 << 20))
    return _parse_header(head, str(path))[0]["meta"]


def read_file(path) -> tuple[bytearray, str]:
    """The bytes of ``path`` (one writable buffer) and their sha256."""
    path = Path(path)
    buf = bytearray(path.stat().st_size)
    with open(path, "rb") as f:
        got = f.readinto(buf)
    if got != len(buf):
        raise TrajectoryFileError(f"{path}: read {got} of {len(buf)} bytes")
    return buf, hashlib.sha256(buf).hexdigest()


def parse_trajectories(buf: bytearray, source: str, *, check_data: bool = True
                       ) -> tuple[dict, list[Trajectory]]:
    """Decode a file's bytes into (metadata, trajectories); arrays of raw probes are views of ``buf``.
    ``check_data``: verify the data section against the sha256 in the header (skip only when the
    whole file's hash was checked already)."""
    head, start = _parse_header(buf, source)
    meta, tensors = head["meta"], head["tensors"]
    data = memoryview(buf)[start:]
    if check_data and hashlib.sha256(data).hexdigest() != meta.get("data_sha256"):
        raise TrajectoryFileError(
            f"{source}: data section corrupted (sha256 {hashlib.sha256(data).hexdigest()} != "
            f"{meta.get('data_sha256')} recorded in its header); regenerate the file")
    name = meta["algorithm"]
    spec = SPECS.get(name)
    if spec is None or set(meta["probes"]) != set(spec):
        raise TrajectoryFileError(f"{source}: probes {sorted(meta['probes'])} do not match the "
                                  f"current spec of {name!r}; regenerate the file")

    def tensor(key: str) -> np.ndarray:
        try:
            info = tensors[key]
            a, b = info["data_offsets"]
            dtype = _NP_DTYPES[info["dtype"]]
        except (KeyError, TypeError, ValueError):
            raise TrajectoryFileError(f"{source}: tensor {key!r} missing or malformed") from None
        if not 0 <= a <= b <= len(data) or (b - a) % dtype.itemsize:
            raise TrajectoryFileError(f"{source}: tensor {key!r} has bad offsets [{a}, {b}]")
        return np.frombuffer(data[a:b], dtype=dtype)

    ns, lengths = tensor("n").astype(np.int64), tensor("length").astype(np.int64)
    count = len(ns)
    if count != meta["count"] or len(lengths) != count:
        raise TrajectoryFileError(f"{source}: {count} samples, header says {meta['count']}")
    groups: dict[str, list[dict]] = {s: [{} for _ in range(count)] for s in ("input", "hint", "output")}
    for k, p in spec.items():
        info = meta["probes"][k]
        codec, tail, dtype = info["codec"], tuple(info["tail"]), np.dtype(info["dtype"])
        full = [((int(T),) if p.stage == Stage.HINT else ()) + (int(n),) * _NLOC[p.location] + tail
                for n, T in zip(ns, lengths)]
        hot = codec in ("index", "class")
        stored = [s[:-1] for s in full] if hot else full
        sizes = np.array([math.prod(s) for s in stored], dtype=np.int64)
        flat = tensor(f"{p.stage.value}/{k}")
        if sizes.sum() != flat.size:
            raise TrajectoryFileError(f"{source}: probe {k!r} holds {flat.size} values, "
                                      f"expected {sizes.sum()}")
        ends = np.cumsum(sizes)[:-1]
        hot_sizes = {s[-1] for s in full} if hot else {0}
        if len(hot_sizes) == 1:  # one vectorised decode, then per-sample views
            parts = np.split(_decode(codec, flat, dtype, hot_sizes.pop()), ends)
        else:
            parts = [_decode(codec, piece, dtype, s[-1]) for piece, s in zip(np.split(flat, ends), full)]
        for b, (part, shape) in enumerate(zip(parts, full)):
            groups[p.stage.value][b][k] = part.reshape(shape)
    extras = meta.get("extras") or [{} for _ in range(count)]
    trajs = [Trajectory(name, groups["input"][b], groups["hint"][b], groups["output"][b], dict(extras[b]))
             for b in range(count)]
    return meta, trajs


def load_trajectories(path) -> list[Trajectory]:
    """Read a file written by :func:`save_trajectories`; its data hash is checked."""
    buf, _ = read_file(path)
    return parse_trajectories(buf, str(path))[1]
