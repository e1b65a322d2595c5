"""nar.locking: the lock excludes other processes, and read-modify-write under it loses nothing."""
import json
import multiprocessing as mp

import pytest

from nar.locking import LockTimeout, lock_path, locked


def _append(path, key, rounds):
    for i in range(rounds):
        with locked(path):
            data = json.loads(path.read_text()) if path.exists() else {}
            data[f"{key}-{i}"] = i
            tmp = path.with_name(path.name + f".{key}")
            tmp.write_text(json.dumps(data))
            tmp.replace(path)


def test_concurrent_read_modify_write_loses_nothing(tmp_path):
    path = tmp_path / "shared.json"
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_append, args=(path, k, 30)) for k in "abcd"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(json.loads(path.read_text())) == 4 * 30


def _hold(path, ready, release):
    with locked(path):
        ready.set()
        release.wait(30)


def test_timeout_names_the_lock_and_release_on_exit(tmp_path):
    path = tmp_path / "m.json"
    ctx = mp.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold, args=(path, ready, release))
    p.start()
    assert ready.wait(30)
    with pytest.raises(LockTimeout, match=str(lock_path(path).name)):
        with locked(path, timeout=0.2):
            pass
    p.kill()  # a killed holder never leaves a stale lock
    p.join(30)
    with locked(path, timeout=5):
        pass
