"""Data-parallel training under ``torchrun``: which process this is, and how its share adds up.

``torchrun --nproc-per-node N -m tinysleepnet train ...`` (or ``cv --fold I``) starts N
processes with ``WORLD_SIZE``, ``RANK`` and the rendezvous address in their environment.
Each process then trains the same model on its share of every minibatch (PyTorch's
``DistributedDataParallel`` all-reduces the gradients), so N processes with a global batch
of ``batch_nights`` nights compute what one process computes with that batch. Process 0
alone writes checkpoints, logs and results. Multi-node runs are the same command with
torchrun's rendezvous flags (``--nnodes``, ``--rdzv-endpoint``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    """The processes training one model.

    Attributes
    ----------
    rank : int
        This process, 0..size-1; process 0 writes every file.
    size : int
        Number of processes (1 without torchrun).
    """

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        """Whether this process writes the run's files."""
        return self.rank == 0

    def all_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """The sum of ``tensor`` over the processes (``tensor`` itself alone)."""
        if self.size > 1:
            tensor = tensor.clone()
            dist.all_reduce(tensor)
        return tensor

    def gather(self, array: np.ndarray) -> list[np.ndarray]:
        """``array`` of every process, in rank order (``[array]`` alone)."""
        if self.size == 1:
            return [array]
        arrays: list[np.ndarray] = [np.empty(0)] * self.size
        dist.all_gather_object(arrays, array)
        return arrays

    def barrier(self) -> None:
        """Wait until every process gets here (e.g. until process 0 has written a file)."""
        if self.size > 1:
            dist.barrier()


def current_world(device: torch.device) -> World:
    """The processes of this run, joining torchrun's process group on first use.

    Parameters
    ----------
    device : torch.device
        The device this process trains on: NCCL connects CUDA processes, gloo CPU ones.
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return World(rank=dist.get_rank(), size=dist.get_world_size())


def is_main_process() -> bool:
    """Whether this is process 0 of a torchrun job, or a process started alone."""
    return int(os.environ.get("RANK", "0")) == 0


def local_device(name: str) -> str:
    """Under torchrun on a GPU machine, each process takes the GPU of its ``LOCAL_RANK``."""
    if name in ("auto", "cuda") and torch.cuda.is_available() and "LOCAL_RANK" in os.environ:
        return f"cuda:{os.environ['LOCAL_RANK']}"
    return name


def shutdown() -> None:
    """Leave the process group at the end of a command (a no-op without torchrun)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
