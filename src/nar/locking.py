"""Advisory file locks for files that several processes may update (manifests, run folders, pointers).

``with locked(path):`` holds an exclusive ``fcntl.flock`` on ``<path>.lock`` (a sibling file that is
never removed, so two processes can never lock two different inodes).  Read-modify-write of a shared
file must happen inside the lock; the write itself stays atomic (temp file + ``os.replace``) so that
readers that do not lock still see either the old or the new file, never a torn one.

On platforms without ``fcntl`` (Windows) the lock is a no-op and concurrent writers are unsupported.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

from .validation import InputError


class LockTimeout(InputError):
    """Another process held a lock for longer than the caller was willing to wait."""


def lock_path(path) -> Path:
    """The sibling lock file guarding ``path`` (``dir/.name.lock``)."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


@contextmanager
def locked(path, *, timeout: float | None = 600.0, poll: float = 0.05):
    """Hold an exclusive advisory lock on ``path`` (its ``.lock`` sibling) for the ``with`` body.

    Waits at most ``timeout`` seconds (``None``: forever), then raises :class:`LockTimeout` naming
    the lock file.  The lock is released when the body exits or the process dies (the kernel drops
    ``flock`` locks of a closed descriptor), so a killed writer never leaves a stale lock.
    """
    if fcntl is None:  # pragma: no cover
        yield
        return
    target = lock_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() > deadline:
                    raise LockTimeout(f"{path}: another process has held {target} for over {timeout:.0f} s; "
                                      f"wait for it to finish (or, if none is running, delete {target})") from None
                time.sleep(poll)
        yield
    finally:
        os.close(fd)  # releases the lock
