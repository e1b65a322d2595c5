"""Distributed data parallel under ``torchrun``: gloo on CPU, nccl on GPU.

``torchrun --nproc_per_node 2 -m nar.cli train --algorithm bfs ...`` sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``; :func:`setup` joins the process group from them.
Each process draws its own batches (chunk ``step * world + rank``), DDP averages the gradients, and the
parameters stay identical on every rank.  Rank 0 alone writes logs and checkpoints.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False  # this process initialised the group (and tears it down)

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def pick_device(pref: str, local_rank: int = 0) -> torch.device:
    """The device for ``pref`` ('auto', 'cpu' or 'cuda'); anything else is a ConfigError."""
    from .config import DEVICES

    if not isinstance(pref, str) or pref not in DEVICES:
        from .config import ConfigError

        raise ConfigError(f"device must be one of {', '.join(DEVICES)}; got {pref!r}")
    if pref == "cuda" or (pref == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            from .config import ConfigError

            raise ConfigError("device=cuda but torch sees no CUDA device; use device=cpu or auto")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def setup(device_pref: str = "auto") -> DistInfo:
    """Join the process group described by the torchrun environment (if any) and pick the device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    device = pick_device(device_pref, local)
    if world <= 1:
        return DistInfo(device=device)
    owns = False
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
        owns = True
    return DistInfo(rank, world, local, device, owns)


def teardown(info: DistInfo) -> None:
    if info.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: torch.nn.Module, info: DistInfo, *, multi_task: bool) -> torch.nn.Module:
    """``model`` in DistributedDataParallel when running distributed (else unchanged).

    Multi-task steps touch only one algorithm's encoders/decoders, hence ``find_unused_parameters``.
    """
    if not info.active:
        return model
    import warnings

    from torch.nn.parallel import DistributedDataParallel as DDP

    # a few weight gradients come out transposed (factored edge encoders); DDP copies them: harmless
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")

    ids = [info.device.index] if info.device.type == "cuda" else None
    return DDP(model, device_ids=ids, find_unused_parameters=multi_task)


def any_true(flag: bool, info: DistInfo) -> bool:
    """Whether ``flag`` holds on any rank (a collective: every rank must call it)."""
    if not info.active:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=info.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def barrier(info: DistInfo) -> None:
    if info.active:
        dist.barrier()


def broadcast_float(x: float, info: DistInfo) -> float:
    """Rank 0's value of ``x`` on every rank (a collective)."""
    if not info.active:
        return x
    t = torch.tensor([x], dtype=torch.float64, device=info.device)
    dist.broadcast(t, src=0)
    return float(t.item())
