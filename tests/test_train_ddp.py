"""DDP on CPU: two gloo processes train together and keep identical weights; a run folder in use stops
both ranks (none hangs)."""
import os
import socket
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from nar.locking import locked
from nar.train import RunInUse, TrainConfig, Trainer
from nar.train.data import TrainData

CFG = dict(hidden=16, batch_size=4, train_sizes=[4, 5], val_count=4, test_count=4, test_n=8, eval_batch_size=4,
           eval_every=2, checkpoint_every=2, log_every=1, threads=1, device="cpu", seed=5)


class Capture(Trainer):
    def on_train_end(self, model, step):
        torch.save({k: v.clone() for k, v in model.state_dict().items()},
                   self.out / f"final-rank{self.info.rank}.pt")


def _worker(rank: int, world: int, ports: tuple[int, int, int], out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1")
    # a fresh rendezvous per run: re-joining a group on the port of a destroyed one can hang
    os.environ["MASTER_PORT"] = str(ports[0])
    Capture(TrainConfig(algorithms=["bfs"], steps=2, **CFG), f"{out}/single", progress=False).run()
    os.environ["MASTER_PORT"] = str(ports[1])
    Capture(TrainConfig(algorithms=["bfs", "minimum"], steps=3, **CFG), f"{out}/multi", progress=False).run()
    # the test process holds the lock of "busy": every rank must fail (rank 0 alone locks; none may hang)
    os.environ["MASTER_PORT"] = str(ports[2])
    try:
        Capture(TrainConfig(algorithms=["bfs"], steps=2, **CFG), f"{out}/busy", progress=False).run()
    except RunInUse as exc:
        (Path(out) / f"busy-rank{rank}.txt").write_text(str(exc))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_cpu_processes_keep_identical_weights(tmp_path):
    if not torch.distributed.is_available():
        pytest.skip("torch.distributed not available")
    with locked(tmp_path / "busy"):
        ctx = mp.spawn(_worker, args=(2, (_free_port(), _free_port(), _free_port()), str(tmp_path)), nprocs=2,
                       join=False)
        deadline = time.monotonic() + 300
        while not ctx.join(timeout=5):
            if time.monotonic() > deadline:
                for proc in ctx.processes:
                    proc.kill()
                pytest.fail("the two DDP processes did not finish within 300 s (a hung collective?)")
    for rank in (0, 1):
        assert "in use by another process" in (tmp_path / f"busy-rank{rank}.txt").read_text()
    assert not (tmp_path / "busy" / "config.json").exists()
    for run in ("single", "multi"):
        w0 = torch.load(tmp_path / run / "final-rank0.pt", weights_only=True)
        w1 = torch.load(tmp_path / run / "final-rank1.pt", weights_only=True)
        assert all(torch.equal(w0[k], w1[k]) for k in w0), run
        torch.manual_seed(5)
        from nar.train import build_model

        cfg = TrainConfig(algorithms=["bfs"] if run == "single" else ["bfs", "minimum"], **CFG)
        init = build_model(cfg).state_dict()
        assert any(not torch.equal(init[k], w0[k]) for k in init), run  # and they did train
        assert (tmp_path / run / "results.json").is_file()
    # the two ranks saw different samples
    data = TrainData(TrainConfig(algorithms=["bfs"], **CFG))
    a, b = data.trajectories(0, 0, 2)[1][0], data.trajectories(0, 1, 2)[1][0]
    assert not (a.n == b.n and (a.inputs["adj"] == b.inputs["adj"]).all() and (a.inputs["s"] == b.inputs["s"]).all())
