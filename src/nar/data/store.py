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
sha256 of the data section (checked on every load), the sha256 of the header itself (tensor table
and metadata, ``header_sha256``; files written before it existed are read without it) and the
caller's metadata.  Loading validates every header field it uses (types, codecs, little-endian
dtypes, offsets), so a damaged file raises :class:`TrajectoryFileError` naming the file and never
loads as other data.
"""
from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import socket
import struct
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..specs import SPECS, Location, Stage, Type
from ..trace import Trajectory
from ..types import POINTER_TYPES
from ..validation import InputError

FORMAT = "nar.trajectories"
VERSION = 1
Progress = Callable[[int, "int | None", str], None]  # (done, total, what)

_ST_DTYPES = {"<f4": "F32", "<f8": "F64", "<f2": "F16", "<i8": "I64", "<i4": "I32", "<i2": "I16",
              "|i1": "I8", "|u1": "U8", "|b1": "BOOL", "<u2": "U16", "<u4": "U32", "<u8": "U64"}
_NP_DTYPES = {v: np.dtype(k) for k, v in _ST_DTYPES.items()}
_NLOC = {Location.NODE: 1, Location.EDGE: 2, Location.GRAPH: 0}


class TrajectoryFileError(InputError):
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
def _canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _header_sha256(tensors: dict, meta: dict) -> str:
    """sha256 of the header's meaning: the tensor table and the nar metadata (less this hash)."""
    rest = {k: v for k, v in meta.items() if k != "header_sha256"}
    return hashlib.sha256(_canonical({"meta": rest, "tensors": tensors})).hexdigest()


def _header(tensors: list[tuple[str, np.dtype, int]], meta: dict) -> bytes:
    """safetensors header for 1-D tensors ``(name, dtype, length)`` laid out in the given order."""
    head, offset = {}, 0
    for name, dtype, length in tensors:
        nbytes = length * dtype.itemsize
        head[name] = {"dtype": _ST_DTYPES[dtype.str], "shape": [length],
                      "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    meta = {**meta, "header_sha256": _header_sha256(head, meta)}
    head["__metadata__"] = {"nar": _canonical(meta).decode()}
    raw = _canonical(head)
    raw += b" " * (-len(raw) % 8)  # 8-byte alignment of the data section
    return struct.pack("<Q", len(raw)) + raw


_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]  # tells this machine's temps apart
_TEMP = re.compile(r"\.(?P<target>.+)\.tmp\.(?P<pid>\d+)(?:\.(?P<host>[0-9a-f]{8}))?\.[0-9a-f]{8}")


def temp_path(path: Path) -> Path:
    """A fresh temp-file name next to ``path`` recording the writer: ``.<name>.tmp.<pid>.<host>.<random>``."""
    return path.with_name(f".{path.name}.tmp.{os.getpid()}.{_HOST}.{os.urandom(4).hex()}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):  # another user's process, or not a pid
        return True
    return True


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete the temp files (:func:`temp_path` names) in ``folder`` whose writer is dead; returns them.

    A writer killed by SIGKILL or a power cut cannot clean up after itself; every later
    :func:`atomic_write` into the same folder does.  Only temps written on this host (or by older
    nar versions, whose names record no host) are considered, and a temp whose pid is alive is
    kept, so a concurrent writer is never disturbed.
    """
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = _TEMP.fullmatch(name)
        if m is None or m["host"] not in (None, _HOST) or _pid_alive(int(m["pid"])):
            continue
        try:
            (Path(folder) / name).unlink()
            removed.append(Path(folder) / name)
        except FileNotFoundError:  # another process removed it first
            pass
    return removed


def atomic_write(path: Path, write: Callable) -> str:
    """Call ``write(put)`` (``put(bytes)`` appends to a temp file next to ``path``), then rename
    the temp file to ``path``.

    Returns the sha256 of the bytes written.  On any failure (an exception, Ctrl-C, SIGTERM under
    the ``nar`` command) the temp file is removed and ``path`` is left as it was; temps of writers
    that died without cleaning up (SIGKILL) are removed first (:func:`remove_stale_temps`).
    Readers see the old or the new file, never a torn one.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory, cannot write a file there", str(path))
    remove_stale_temps(path.parent)
    tmp = temp_path(path)
    digest = hashlib.sha256()
    try:
        f = open(tmp, "wb")
    except OSError as e:  # name the file the caller asked for, not the temp
        raise type(e)(e.errno, f"cannot write {path}: {e.strerror}") from None
    try:
        with f:
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
    _fsync_dir(path.parent)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
    The format is always nar's safetensors layout, whatever the file name.  The temp file is
    created before the first trajectory is drawn, so an unwritable ``path`` fails at once.
    """
    path = Path(path)
    if path.is_dir():
        raise TrajectoryFileError(f"{path} is a directory; give a file name (e.g. {path / 'x.safetensors'})")
    user = _jsonable(metadata or {}, "metadata")
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(put) -> None:
        header, pieces = _encode_file(trajectories, user, progress, path.name)
        put(header)
        for piece in pieces:
            put(memoryview(piece))

    return atomic_write(path, write)


def _encode_file(trajectories: Iterable[Trajectory], user, progress: Progress | None, what: str
                 ) -> tuple[bytes, list[np.ndarray]]:
    """(header, data pieces in file order) of a trajectory file; see :func:`save_trajectories`."""
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
            tail, dtype = value.shape[len(lead) + len(loc):], value.dtype.newbyteorder("<")
            if dtype.str not in _ST_DTYPES:
                raise ValueError(f"{what}: dtype {value.dtype} cannot be stored; allowed: "
                                 f"{sorted(_ST_DTYPES)}")
            if tails.setdefault(k, (tail, dtype)) != (tail, dtype):
                raise ValueError(f"{what}: trailing shape/dtype {tail}/{dtype} differs from "
                                 f"earlier samples' {tails[k]}")
            pieces[f"{p.stage.value}/{k}"].append(_encode(codecs[k], value, what).ravel())
        ns.append(n)
        lengths.append(T)
        extras.append(_jsonable(traj.extras, f"trajectory {b} extras"))
        if progress is not None:
            progress(b + 1, total, what)
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
        "data_sha256": data_hash.hexdigest(), "user": user,
    }
    if any(extras):
        meta["extras"] = extras
    header = _header([(k, pieces[k][0].dtype, sum(p.size for p in pieces[k])) for k in order], meta)

    return header, [piece for key in order for piece in pieces[key]]


# ----------------------------------------------------------------------------- load
_META_KEYS = {"format", "version", "algorithm", "count", "probes", "data_sha256", "header_sha256",
              "user", "extras"}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _bad_header(source: str, what: str) -> TrajectoryFileError:
    return TrajectoryFileError(f"{source}: not a nar trajectory file (bad header: {what})")


def _check_header(head: dict, meta: dict, source: str) -> None:
    """Every field the loader reads has the type and values a nar writer gives it, else raise."""
    def fail(what: str) -> TrajectoryFileError:
        return _bad_header(source, what)

    if meta.get("header_sha256", _header_sha256(head, meta)) != _header_sha256(head, meta):
        raise TrajectoryFileError(f"{source}: header corrupted (its content does not match the "
                                  f"header_sha256 it records); regenerate the file")
    if set(meta) - _META_KEYS:
        raise fail(f"unknown metadata field(s) {sorted(set(meta) - _META_KEYS)}")
    name, probes, count = meta.get("algorithm"), meta.get("probes"), meta.get("count")
    if not isinstance(name, str) or name not in SPECS:
        raise fail(f"unknown algorithm {name!r}")
    if not isinstance(probes, dict) or set(probes) != set(SPECS[name]):
        raise TrajectoryFileError(f"{source}: probes {sorted(probes) if isinstance(probes, dict) else probes!r}"
                                  f" do not match the current spec of {name!r}; regenerate the file")
    if not _is_int(count) or count < 1:
        raise fail(f"count {count!r} is not a positive integer")
    if not isinstance(meta.get("data_sha256"), str):
        raise fail("no data_sha256")
    extras = meta.get("extras")
    if extras is not None and not (isinstance(extras, list) and len(extras) == count
                                   and all(isinstance(e, dict) for e in extras)):
        raise fail(f"extras must be a list of {count} dicts")
    for k, p in SPECS[name].items():
        info = probes[k]
        if not (isinstance(info, dict) and info.get("codec") == _codec(p.type)
                and isinstance(info.get("tail"), list) and all(_is_int(t) and t >= 0 for t in info["tail"])
                and info.get("dtype") in _ST_DTYPES
                and (info["codec"] != "class" or len(info["tail"]) >= 1 and info["tail"][-1] >= 1)):
            raise fail(f"probe {k!r}: {info!r} is not a valid probe record (codec {_codec(p.type)!r}, "
                       f"tail of non-negative integers, dtype one of {sorted(_ST_DTYPES)})")
    for key, info in head.items():
        ok = (isinstance(info, dict) and info.get("dtype") in _NP_DTYPES
              and isinstance(info.get("shape"), list) and len(info["shape"]) == 1
              and isinstance(info.get("data_offsets"), list) and len(info["data_offsets"]) == 2
              and all(_is_int(v) for v in info["shape"] + info["data_offsets"]))
        if not ok or not (0 <= info["data_offsets"][0] <= info["data_offsets"][1]
                          and info["data_offsets"][1] - info["data_offsets"][0]
                          == info["shape"][0] * _NP_DTYPES[info["dtype"]].itemsize):
            raise fail(f"tensor {key!r}: {info!r} is not a valid 1-D tensor record")


def _parse_header(buf, source: str) -> tuple[dict, int]:
    """(header dict, offset of the data section); raises TrajectoryFileError on any bad header."""
    if len(buf) < 8:
        raise TrajectoryFileError(f"{source}: too short to be a safetensors file ({len(buf)} bytes)")
    (size,) = struct.unpack("<Q", bytes(buf[:8]))
    if size > len(buf) - 8:
        raise TrajectoryFileError(f"{source}: header size {size} exceeds the file; truncated?")
    try:
        head = json.loads(bytes(buf[8:8 + size]))
        meta = json.loads(head.pop("__metadata__")["nar"])
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise _bad_header(source, str(e) or type(e).__name__) from None
    if not isinstance(meta, dict):
        raise _bad_header(source, "the nar metadata is not a JSON object")
    if meta.get("format") != FORMAT:
        raise TrajectoryFileError(f"{source}: not a nar trajectory file (format {meta.get('format')!r})")
    if meta.get("version") != VERSION:
        raise TrajectoryFileError(f"{source}: file format version {meta.get('version')!r}, this nar "
                                  f"reads version {VERSION}; regenerate the file")
    _check_header(head, meta, source)
    return {"tensors": head, "meta": meta}, 8 + size


def _check_regular(path: Path) -> None:
    """A missing file stays FileNotFoundError; a directory (or device, pipe) is a TrajectoryFileError."""
    if path.exists() and not path.is_file():
        raise TrajectoryFileError(f"{path} is not a regular file (a directory?); expected a nar "
                                  f"trajectory file (.safetensors)")


def read_metadata(path) -> dict:
    """The ``nar`` metadata of a trajectory file (algorithm, count, probes, user metadata), from
    its header only."""
    _check_regular(Path(path))
    with open(path, "rb") as f:
        start = f.read(8)
        size = struct.unpack("<Q", start)[0] if len(start) == 8 else 0
        head = start + f.read(min(size, 100 << 20))
    return _parse_header(head, str(path))[0]["meta"]


def read_file(path) -> tuple[bytearray, str]:
    """The bytes of ``path`` (one writable buffer) and their sha256."""
    path = Path(path)
    _check_regular(path)
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
    spec = SPECS[name]

    def tensor(key: str, dtype: np.dtype) -> np.ndarray:
        info = tensors.get(key)
        if info is None:
            raise TrajectoryFileError(f"{source}: tensor {key!r} missing")
        if _NP_DTYPES[info["dtype"]] != dtype:
            raise TrajectoryFileError(f"{source}: tensor {key!r} has dtype {info['dtype']}, "
                                      f"expected {_ST_DTYPES[dtype.str]}")
        a, b = info["data_offsets"]
        if b > len(data):
            raise TrajectoryFileError(f"{source}: tensor {key!r} has bad offsets [{a}, {b}] "
                                      f"(data section: {len(data)} bytes)")
        return np.frombuffer(data[a:b], dtype=dtype)

    i8 = np.dtype("<i8")
    ns, lengths = tensor("n", i8), tensor("length", i8)
    count = len(ns)
    if count != meta["count"] or len(lengths) != count:
        raise TrajectoryFileError(f"{source}: {count} samples, header says {meta['count']}")
    if ns.min() < 1 or lengths.min() < 1:
        raise TrajectoryFileError(f"{source}: node counts and lengths must be >= 1")
    narrow = _narrowest(int(ns.max()))
    groups: dict[str, list[dict]] = {s: [{} for _ in range(count)] for s in ("input", "hint", "output")}
    for k, p in spec.items():
        info = meta["probes"][k]
        codec, tail, dtype = info["codec"], tuple(info["tail"]), np.dtype(info["dtype"])
        full = [((int(T),) if p.stage == Stage.HINT else ()) + (int(n),) * _NLOC[p.location] + tail
                for n, T in zip(ns, lengths)]
        hot = codec in ("index", "class")
        stored = [s[:-1] for s in full] if hot else full
        sizes = np.array([math.prod(s) for s in stored], dtype=np.int64)
        expected = {"raw": dtype, "mask": np.dtype("i1"), "pointer": narrow, "index": narrow,
                    "class": np.dtype("i1" if tail and tail[-1] <= 127 else "<i4")}[codec]
        flat = tensor(f"{p.stage.value}/{k}", expected)
        if sizes.sum() != flat.size:
            raise TrajectoryFileError(f"{source}: probe {k!r} holds {flat.size} values, "
                                      f"expected {sizes.sum()}")
        hot_sizes = {s[-1] for s in full} if hot else {0}
        if hot:  # a decodable index: -size <= code < size, size = the sample's one-hot length
            limit = np.repeat(np.array([s[-1] for s in full], dtype=np.int64), sizes)
            if np.any((flat >= limit) | (flat < -limit)):
                raise TrajectoryFileError(f"{source}: probe {k!r} holds an index outside its one-hot size")
        ends = np.cumsum(sizes)[:-1]
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
