"""Fixed evaluation splits, as CLRS30: generated once, cached on disk, verified on every load.

Layout under ``out_dir``: ``<algorithm>/<split>.safetensors`` (see :mod:`nar.data.store`) and one
``manifest.json`` recording, per split, the file, its sha256 and the generation parameters.
Defaults (CLRS30): ``train`` 1000 samples at n=16 (seed 1), ``val`` 32 x multiplier at n=16
(seed 2), ``test`` 32 x multiplier at n=64 (seed 3), multiplier = :data:`nar.specs.EVAL_MULTIPLIER`
(1 by default).  A split is the concatenation of chunks of :data:`CHUNK` samples, chunk ``k`` drawn
by :func:`nar.data.dataset.chunk` from ``SeedSequence([seed, k])``, so regenerating a split gives
the same bytes, and only one chunk of raw trajectories is in memory at a time.

Every write is atomic (temp file + rename) and the manifest is updated after each split, so an
interrupted :func:`write_splits` resumes where it stopped: a split whose file matches its manifest
entry is skipped.  Several processes may write splits into one folder at the same time: each split
file and the manifest are guarded by :func:`nar.locking.locked`.
"""
from __future__ import annotations

import json
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from .. import __version__
from ..algorithms.registry import get_algorithm
from ..locking import LockTimeout, locked
from ..samplers import check_options
from ..specs import EVAL_MULTIPLIER
from ..trace import Trajectory
from ..validation import InputError
from .dataset import check_sizes, chunk
from .store import (Progress, TrajectoryFileError, atomic_write, file_sha256, parse_trajectories,
                    read_file, save_trajectories)

MANIFEST = "manifest.json"
CHUNK = 128  # samples per generation chunk; part of a split's definition (recorded in the manifest)
PARAM_KEYS = ("algorithm", "split", "n", "count", "seed", "options", "chunk")


@dataclass(frozen=True)
class SplitSpec:
    """How a split is drawn: ``count`` samples (times the algorithm's eval multiplier if
    ``multiplied``) at ``n`` nodes from ``seed``; ``options`` go to :func:`nar.sample`."""

    n: int
    count: int
    seed: int
    multiplied: bool = False
    options: Mapping = field(default_factory=dict)


CLRS30_SPLITS: Mapping[str, SplitSpec] = {
    "train": SplitSpec(n=16, count=1000, seed=1),
    "val": SplitSpec(n=16, count=32, seed=2, multiplied=True),
    "test": SplitSpec(n=64, count=32, seed=3, multiplied=True),
}


class SplitError(TrajectoryFileError):
    """A split on disk is missing, corrupted, or does not match its manifest."""


def split_params(algorithm: str, split: str, spec: SplitSpec | None = None) -> dict:
    """The generation parameters of ``algorithm``'s ``split`` (as recorded in the manifest)."""
    if spec is None:
        if split not in CLRS30_SPLITS:
            raise KeyError(f"unknown split {split!r}; the standard splits are {list(CLRS30_SPLITS)} "
                           f"(pass a SplitSpec for others)")
        spec = CLRS30_SPLITS[split]
    elif isinstance(spec, Mapping):  # a plain dict is accepted with SplitSpec's fields
        unknown = sorted(set(spec) - {"n", "count", "seed", "multiplied", "options"})
        if unknown:
            raise InputError(f"split {split!r}: unknown field(s) {unknown}; a split spec has n, count, seed, "
                             f"multiplied, options")
        try:
            spec = SplitSpec(**spec)
        except TypeError as exc:
            raise InputError(f"split {split!r}: {exc} (a split spec needs n, count and seed)") from None
    elif not isinstance(spec, SplitSpec):
        raise InputError(f"split {split!r}: expected a SplitSpec or a dict, got {type(spec).__name__}")
    count = spec.count * (EVAL_MULTIPLIER.get(algorithm, 1) if spec.multiplied else 1)
    params = {"algorithm": algorithm, "split": split, "n": spec.n, "count": count, "seed": spec.seed,
              "options": dict(spec.options), "chunk": CHUNK}
    return json.loads(json.dumps(params))  # as it reads back from the manifest (tuples -> lists)


def generate(params: dict) -> Iterator[Trajectory]:
    """The trajectories of a split, chunk by chunk (held in memory one chunk at a time)."""
    count, size = params["count"], params["chunk"]
    for k in range(0, (count + size - 1) // size):
        yield from chunk(params["algorithm"], params["n"], min(size, count - k * size),
                         params["seed"], k, **params["options"])


# ----------------------------------------------------------------------------- manifest
def _read_manifest(out_dir: Path) -> dict:
    path = out_dir / MANIFEST
    if not path.exists():
        return {"format": "nar.splits", "splits": {}}
    try:
        manifest = json.loads(path.read_text())
        if not isinstance(manifest, dict) or not isinstance(manifest.get("splits"), dict):
            raise ValueError("no 'splits' object")
    except (ValueError, OSError) as e:
        raise SplitError(f"{path}: unreadable manifest ({e}); delete it and rerun "
                         f"nar.data.write_splits / `nar splits` to regenerate the splits") from None
    return manifest


def _update_manifest(out_dir: Path, key: str, entry: dict) -> None:
    """Set one entry of the manifest: a read-modify-write of the current file under its lock, so
    concurrent writers of other splits never lose each other's entries."""
    with locked(out_dir / MANIFEST):
        manifest = _read_manifest(out_dir)
        manifest["splits"][key] = entry
        text = json.dumps(manifest, indent=1, sort_keys=True).encode()
        atomic_write(out_dir / MANIFEST, lambda put: put(text))


def _entry(out_dir: Path, algorithm: str, split: str, strict: bool = True) -> dict | None:
    """The manifest entry of ``algorithm/split`` (None if absent); a malformed one raises (or,
    unless ``strict``, counts as absent)."""
    entry = _read_manifest(out_dir)["splits"].get(f"{algorithm}/{split}")
    if entry is not None and not (isinstance(entry, dict) and entry.get("file") == _rel(algorithm, split)
                                  and isinstance(entry.get("sha256"), str)):
        if not strict:
            return None
        raise SplitError(f"{out_dir / MANIFEST}: malformed entry for {algorithm}/{split}; "
                         + _regen_hint(out_dir, algorithm, split, overwrite=True))
    return entry


def _rel(algorithm: str, split: str) -> str:
    return f"{algorithm}/{split}.safetensors"


def _regen_hint(out_dir: Path, algorithm: str, split: str, overwrite: bool = False) -> str:
    flag, arg = (" --overwrite", ", overwrite=True") if overwrite else ("", "")
    return (f"regenerate it with nar.data.write_splits({str(out_dir)!r}, [{algorithm!r}], "
            f"splits=[{split!r}]{arg}) or `nar splits {algorithm} --out {out_dir} --splits {split}{flag}`"
            + ("" if overwrite else " (a corrupted or missing split is rewritten)"))


def _same_params(entry: dict, params: dict) -> bool:
    return {k: entry.get(k) for k in params} == params


def _verified(out_dir: Path, entry: dict | None, params: dict) -> bool:
    if entry is None or not _same_params(entry, params):
        return False
    path = out_dir / entry["file"]
    return path.is_file() and file_sha256(path) == entry["sha256"]


def _split_file(out_dir: Path, algorithm: str, split: str) -> Path:
    """The split's path; raises a SplitError if something other than a file is in its place."""
    path = out_dir / _rel(algorithm, split)
    if path.exists() and not path.is_file():
        raise SplitError(f"{path} is not a regular file (a directory?); remove it, then "
                         + _regen_hint(out_dir, algorithm, split))
    return path


# ----------------------------------------------------------------------------- write / load
def write_splits(out_dir, algorithms: str | Iterable[str],
                 splits: Sequence[str] | Mapping[str, SplitSpec] = tuple(CLRS30_SPLITS), *,
                 overwrite: bool = False, progress: Progress | None = None) -> dict:
    """Generate and write ``splits`` of each algorithm under ``out_dir``; returns the manifest.

    ``splits``: names of the standard splits, or a mapping name -> :class:`SplitSpec`.  A split
    already on disk with the same parameters and a matching hash is skipped (resume); a missing or
    corrupted one is rewritten; one written with other parameters raises.  ``overwrite=True``
    regenerates every split (e.g. after the algorithms or samplers changed).
    One split is generated and written at a time.  ``progress(done, total, what)`` counts samples
    over the whole job (skipped splits count as done).

    Safe to run concurrently into one ``out_dir``: each split is generated under a lock on its
    file (a second writer of the same split waits, then finds it verified) and every manifest
    update re-reads the manifest under the manifest's lock, so no entry is lost.
    """
    out_dir = Path(out_dir)
    names = [algorithms] if isinstance(algorithms, str) else list(algorithms)
    specs = dict(splits) if isinstance(splits, Mapping) else {s: None for s in splits}
    jobs = []
    for name in names:
        get_algorithm(name)
        for split, spec in specs.items():
            params = split_params(name, split, spec)
            check_sizes(name, params["n"])
            check_options(name, params["options"], n=params["n"] if isinstance(params["n"], int) else None)
            jobs.append(params)
    total = sum(p["count"] for p in jobs)
    done = 0
    out_dir.mkdir(parents=True, exist_ok=True)
    _read_manifest(out_dir)  # fail early on an unreadable manifest
    for params in jobs:
        algorithm, split = params["algorithm"], params["split"]
        key = f"{algorithm}/{split}"
        path = _split_file(out_dir, algorithm, split)
        path.parent.mkdir(exist_ok=True)
        with _split_lock(path, progress, done, total, key):
            entry = _entry(out_dir, algorithm, split, strict=not overwrite)  # fresh: others may write
            if not overwrite and _verified(out_dir, entry, params):
                done += params["count"]
                if progress is not None:
                    progress(done, total, f"{key} (verified, skipped)")
                continue
            if entry is not None and not _same_params(entry, params) and not overwrite:
                raise SplitError(f"{path} was written with other parameters "
                                 f"({ {k: entry.get(k) for k in params} }, now {params}); pass "
                                 f"overwrite=True (`nar splits ... --overwrite`) or use another directory")
            base = done

            def step(i: int, _total, _what, base=base, key=key) -> None:
                if progress is not None:
                    progress(base + i, total, key)

            sha = save_trajectories(path, generate(params), metadata=params, progress=step)
            done += params["count"]
            _update_manifest(out_dir, key, {
                **params, "file": _rel(algorithm, split), "sha256": sha, "bytes": path.stat().st_size,
                "nar_version": __version__})
    return _read_manifest(out_dir)


@contextmanager
def _split_lock(path: Path, progress: Progress | None, done: int, total: int, key: str):
    """Hold the lock on one split file; tells ``progress`` when it waits for another writer."""
    with ExitStack() as stack:
        try:
            stack.enter_context(locked(path, timeout=0))
        except LockTimeout:
            if progress is not None:
                progress(done, total, f"{key} (waiting for another writer)")
            stack.enter_context(locked(path, timeout=None))
        yield


def load_split(out_dir, algorithm: str, split: str) -> list[Trajectory]:
    """The trajectories of ``algorithm``'s ``split`` under ``out_dir``, after checking the file's
    sha256 against the manifest and its embedded parameters against the manifest entry.
    ``nar.data.collate(load_split(...))`` gives one padded :class:`Batch`."""
    out_dir = Path(out_dir)
    if not (out_dir / MANIFEST).exists():
        raise FileNotFoundError(f"no {MANIFEST} in {out_dir}; generate the splits with "
                                f"nar.data.write_splits({str(out_dir)!r}, [{algorithm!r}]) or "
                                f"`nar splits {algorithm} --out {out_dir}`")
    entry = _entry(out_dir, algorithm, split)
    if entry is None:
        raise SplitError(f"{out_dir / MANIFEST} has no split {algorithm}/{split}; "
                         + _regen_hint(out_dir, algorithm, split))
    path = _split_file(out_dir, algorithm, split)
    if not path.is_file():
        raise SplitError(f"{path} is missing; " + _regen_hint(out_dir, algorithm, split))
    buf, sha = read_file(path)
    if sha != entry["sha256"]:
        raise SplitError(f"{path}: content hash mismatch: expected sha256 {entry['sha256']} "
                         f"(from {out_dir / MANIFEST}), got {sha}; the file is corrupted or was "
                         f"replaced; " + _regen_hint(out_dir, algorithm, split))
    meta, trajs = parse_trajectories(buf, str(path), check_data=False)  # the file hash covers it
    expected = {k: entry.get(k) for k in PARAM_KEYS}
    if meta["algorithm"] != algorithm or meta["user"] != expected or len(trajs) != entry.get("count"):
        raise SplitError(f"{path}: holds {meta['algorithm']} with parameters {meta['user']}, the "
                         f"manifest expects {algorithm}/{split} with {expected}; "
                         + _regen_hint(out_dir, algorithm, split))
    return trajs


def manifest_entries(out_dir) -> dict:
    """The manifest's split entries (key ``"<algorithm>/<split>"``), or {} if none was written."""
    return _read_manifest(Path(out_dir))["splits"]
