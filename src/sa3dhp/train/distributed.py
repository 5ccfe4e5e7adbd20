"""torchrun: the process group of a run (:class:`DistContext`, :func:`init_distributed`) and
which rank writes (rank 0 only; a plain single process is rank 0).

:func:`init_distributed` reads the torchrun environment (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``...): NCCL on CUDA, gloo on CPU; a single process without it.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from sa3dhp.device import resolve_device


class DistContext:
    """Process-group state of a run (a single process when not launched by torchrun).

    Attributes:
        rank, world_size, local_rank: this process's place in the run.
        device: the device this process computes on.
        backend: ``nccl``, ``gloo`` or None (single process).
    """

    def __init__(
        self,
        device: torch.device,
        rank: int = 0,
        world_size: int = 1,
        local_rank: int = 0,
        backend: str | None = None,
    ) -> None:
        self.device, self.rank, self.world_size = device, rank, world_size
        self.local_rank, self.backend = local_rank, backend

    def __repr__(self) -> str:
        return (
            f"DistContext(rank={self.rank}, world_size={self.world_size}, "
            f"device={self.device}, backend={self.backend})"
        )

    @property
    def is_main(self) -> bool:
        """True on rank 0, the only rank that writes checkpoints and logs."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1

    def wrap(self, model: nn.Module, **ddp_kwargs: Any) -> nn.Module:
        """``DistributedDataParallel(model)`` when distributed, else ``model`` itself."""
        if not self.distributed:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids, **ddp_kwargs)

    def broadcast_params(self, model: nn.Module) -> None:
        """Copy rank 0's parameters and buffers to every rank (for models not wrapped in DDP)."""
        if self.distributed:
            for t in list(model.parameters()) + list(model.buffers()):
                dist.broadcast(t.data, src=0)

    def sync_grads(self, model: nn.Module) -> None:
        """Average gradients over ranks (for models not wrapped in DDP)."""
        if self.distributed:
            for p in model.parameters():
                if p.grad is not None:
                    dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
                    p.grad /= self.world_size

    def all_reduce_mean(self, value: torch.Tensor | float) -> torch.Tensor:
        """Mean of a tensor (or number) over ranks; a copy, the input is left unchanged."""
        t = torch.as_tensor(value, device=self.device).detach().clone()
        if self.distributed:
            if not t.is_floating_point():
                t = t.double()
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
            t /= self.world_size
        return t

    def barrier(self) -> None:
        """Wait for every rank (no-op for a single process)."""
        if self.distributed:
            dist.barrier()

    def close(self) -> None:
        """Leave the process group (after a final barrier); no-op for a single process."""
        if self.distributed and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


def is_main_process() -> bool:
    """Rank 0 of a torchrun launch, or a plain single process."""
    return int(os.environ.get("RANK", "0")) == 0


def init_distributed(device_preference: str = "auto") -> DistContext:
    """Join the torchrun process group when ``WORLD_SIZE > 1``, else run as a single process.

    The backend is NCCL when the resolved device is CUDA (each rank on ``cuda:LOCAL_RANK``),
    gloo otherwise. ``MASTER_ADDR`` / ``MASTER_PORT`` come from torchrun's environment.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device_preference)
    if world <= 1:
        return DistContext(dev, 0, 1, 0, None)
    if dev.type == "cuda":
        if local >= torch.cuda.device_count():
            raise ValueError(
                f"LOCAL_RANK={local} but only {torch.cuda.device_count()} GPU(s) are visible; "
                "start at most that many processes per node (torchrun --nproc_per_node)"
            )
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend)
    return DistContext(dev, rank, world, local, backend)
