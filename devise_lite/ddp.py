"""The process group: one process, or one per GPU under `torchrun` (PyTorch DDP), with
one loop for any world size (as nanoGPT's `train.py`), the main process alone writing.
The config's batch is *global*: each rank takes rows `rank::world` (ordered alike on
every rank) and divides their loss sum by the global size, so DDP's gradient average is
the one-process mean: the same trajectory (up to float summation) and learning rates."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

# Generous: the other ranks wait while rank 0 alone writes features or tests an epoch.
COLLECTIVE_TIMEOUT = timedelta(hours=2)
GATHER_ROWS = 1024  # rows per rank per all_gather: memory bounded however many images


@dataclass(frozen=True)
class Group:
    """This process's place among the torchrun processes (world 1 without torchrun)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1
    device_name: str = "cpu"

    @property
    def device(self):
        return _torch().device(self.device_name)

    @property
    def is_main(self) -> bool:
        """The process that writes files and prints (nanoGPT's `master_process`)."""
        return self.rank == 0


SINGLE = Group()


def _torch():
    """torch on first use: `Group` users (the cache, `predict`) may skip its import."""
    import torch

    return torch


def start(device: str = "auto") -> Group:
    """Join the torchrun processes (NCCL on CUDA, else gloo), or one process alone."""
    torch = _torch()
    dist = torch.distributed
    use_cuda = torch.cuda.is_available() and device != "cpu"
    if int(os.environ.get("RANK", -1)) == -1:  # not launched by torchrun
        return Group(device_name="cuda" if use_cuda else "cpu")
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    local_world = int(os.environ["LOCAL_WORLD_SIZE"])
    if use_cuda:
        torch.cuda.set_device(local_rank)  # a bare "cuda" now means this rank's GPU
    if not dist.is_initialized():
        backend = "nccl" if use_cuda else "gloo"
        dist.init_process_group(backend, timeout=COLLECTIVE_TIMEOUT)
    name = f"cuda:{local_rank}" if use_cuda else "cpu"
    return Group(rank, world, local_rank, local_world, name)


def stop() -> None:
    dist = _torch().distributed
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier(group: Group) -> None:
    if group.world > 1:
        _torch().distributed.barrier()


def broadcast(obj, group: Group):
    """Rank 0's `obj` (picklable: a flag, a checkpoint, a list) on every rank."""
    if group.world == 1:
        return obj
    box = [obj]
    _torch().distributed.broadcast_object_list(box, src=0)
    return box[0]


def all_objects(obj, group: Group) -> list:
    """Every rank's `obj`, in rank order."""
    if group.world == 1:
        return [obj]
    out = [None] * group.world
    _torch().distributed.all_gather_object(out, obj)
    return out


def sum_over_ranks(value: float, group: Group) -> float:
    if group.world == 1:
        return value
    torch = _torch()
    total = torch.tensor([value], dtype=torch.float64, device=group.device)
    torch.distributed.all_reduce(total)
    return float(total.item())


def wrap(model, group: Group):
    """`model` in DDP (gradients averaged) in a process group, else itself."""
    if group.world == 1:
        return model
    ids = [group.local_rank] if group.device.type == "cuda" else None
    return _torch().nn.parallel.DistributedDataParallel(model, device_ids=ids)


def global_batches(n: int, batch_size: int, generator) -> Iterator:
    """Indices of one epoch's global batches: a fresh permutation, cut in batches."""
    order = _torch().randperm(n, generator=generator)
    for start_row in range(0, n, batch_size):
        yield order[start_row : start_row + batch_size]


class ShardedBatches:
    """A batch sampler: this rank's part of each global batch, ordered as one shuffling
    DataLoader's; a last batch under the world is dropped (BatchNorm needs rows)."""

    def __init__(self, n: int, batch_size: int, generator, group: Group):
        if batch_size < group.world:
            raise ValueError(
                f"the global batch ({batch_size}) must be at least the number of "
                f"processes ({group.world})"
            )
        self.n, self.batch_size = n, batch_size
        self.generator, self.group = generator, group
        sizes = (min(batch_size, n - i) for i in range(0, n, batch_size))
        self.sizes = [s for s in sizes if s >= group.world]

    def __iter__(self):
        sampler = _torch().utils.data.RandomSampler
        order = list(sampler(range(self.n), generator=self.generator))
        for k, size in enumerate(self.sizes):
            rows = order[k * self.batch_size : k * self.batch_size + size]
            yield rows[self.group.rank :: self.group.world]

    def __len__(self) -> int:
        return len(self.sizes)


def gather_rows(
    local: np.ndarray, total: int, group: Group, out: np.ndarray | None = None
) -> np.ndarray | None:
    """This rank's float32 rows `local` of `items[rank::world]`, gathered in order,
    `GATHER_ROWS` at a time, into `out` or a new array on rank 0 (None elsewhere)."""
    if group.world == 1:
        if out is None:
            return local
        out[:] = local
        return out
    torch = _torch()
    dim = int(max(all_objects(local.shape[1] if local.ndim == 2 else 0, group)))
    rows_of = [len(range(r, total, group.world)) for r in range(group.world)]
    if group.is_main and out is None:
        out = np.empty((total, dim), dtype=np.float32)
    for first in range(0, rows_of[0], GATHER_ROWS):  # rank 0 has the most rows
        block = torch.zeros(GATHER_ROWS, dim, dtype=torch.float32)
        part = np.ascontiguousarray(local[first : first + GATHER_ROWS], np.float32)
        block[: len(part)] = torch.from_numpy(part)
        block = block.to(group.device)
        pieces = [torch.empty_like(block) for _ in range(group.world)]
        torch.distributed.all_gather(pieces, block)
        if group.is_main:
            for r, piece in enumerate(pieces):
                n = max(0, min(rows_of[r], first + GATHER_ROWS) - first)
                rows = r + group.world * np.arange(first, first + n)
                out[rows] = piece[:n].cpu().numpy()
    return out if group.is_main else None
