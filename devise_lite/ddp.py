"""Data-parallel training and inference on PyTorch DistributedDataParallel (one process per GPU).

`torchrun` starts the processes and sets the env:// variables; this module joins them (NCCL on
GPUs, gloo on CPUs) and runs the package's two training phases and its inference across them.
Started without torchrun, everything runs in one process, unchanged.

**One global batch, split across ranks.** The batch size in the config is the *global* batch: each
step, every rank takes the rows `rank::world` of the same global batch. The permutation and the
truncated loss's random visiting order are drawn for the whole global batch from a generator that
every rank seeds alike, and each rank's loss is its rows' sum divided by the global batch size, so
DDP's gradient average is exactly the single-process mean. A run on 8 GPUs therefore follows the
same trajectory as the single-process run (up to float summation order), and the learning rates
keep their meaning whatever the number of GPUs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .losses import hinge_rank_loss_full, hinge_rank_loss_truncated, random_order
from .storage import atomic_path

# Rank 0 alone does slow things between collectives (writing features, the per-epoch test monitor);
# the others wait at the next collective, so the timeout is generous.
COLLECTIVE_TIMEOUT = timedelta(hours=2)
GATHER_ROWS = (
    1024  # rows per rank per all_gather: bounded memory whatever the number of images
)


@dataclass(frozen=True)
class Group:
    """This process's place among the torchrun processes (world 1 without torchrun)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def start(device: str = "auto") -> Group:
    """Join the torchrun processes: NCCL and this rank's GPU with CUDA, else gloo on the CPU."""
    if "RANK" not in os.environ:
        use_cuda = torch.cuda.is_available() and device != "cpu"
        return Group(device=torch.device("cuda" if use_cuda else "cpu"))
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank, local_world = (
        int(os.environ["LOCAL_RANK"]),
        int(os.environ["LOCAL_WORLD_SIZE"]),
    )
    use_cuda = torch.cuda.is_available() and device != "cpu"
    if use_cuda:
        torch.cuda.set_device(local_rank)  # a bare "cuda" now means this rank's GPU
    if not dist.is_initialized():
        dist.init_process_group(
            "nccl" if use_cuda else "gloo", timeout=COLLECTIVE_TIMEOUT
        )
    return Group(
        rank,
        world,
        local_rank,
        local_world,
        torch.device("cuda", local_rank) if use_cuda else torch.device("cpu"),
    )


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier(group: Group) -> None:
    if group.world > 1:
        dist.barrier()


def broadcast(obj, group: Group):
    """Rank 0's `obj` on every rank (a picklable object: a flag, a checkpoint, a list)."""
    if group.world == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_objects(obj, group: Group) -> list:
    """Every rank's `obj`, in rank order."""
    if group.world == 1:
        return [obj]
    out = [None] * group.world
    dist.all_gather_object(out, obj)
    return out


def wrap(model: nn.Module, group: Group) -> nn.Module:
    """`model` in DDP when there is a process group (gradients averaged over ranks), else itself."""
    if not dist.is_initialized():
        return model
    return DistributedDataParallel(
        model, device_ids=[group.local_rank] if group.device.type == "cuda" else None
    )


# ---------------------------------------------------------------- one global batch, split across ranks


def global_batches(
    n: int, batch_size: int, generator: torch.Generator
) -> Iterator[torch.Tensor]:
    """Indices of one epoch's global batches: the same permutation `devise.feature_batches` draws."""
    order = torch.randperm(n, generator=generator)
    for start_row in range(0, n, batch_size):
        yield order[start_row : start_row + batch_size]


def sharded_loss(
    kind: str,
    group: Group,
    label_vectors: torch.Tensor | None = None,
    margin: float = 0.1,
) -> Callable:
    """`loss(outputs, targets, generator, global_size)` on this rank's rows: their sum / global size,
    so that DDP's average over ranks equals the mean over the global batch.

    `kind` is "truncated" or "full" (the hinge rank loss against `label_vectors`) or "softmax"
    (cross-entropy on logits). The truncated loss's random visiting order is drawn for the whole
    global batch, on every rank, and each rank keeps its rows: the draw is the single process's.
    """
    scale = lambda size: group.world / size
    if kind == "truncated":

        def loss(emb, y, gen, size):
            keys = random_order(
                size, label_vectors.shape[0], generator=gen, device=emb.device
            )
            rows = keys[group.rank :: group.world]
            return hinge_rank_loss_truncated(
                emb, label_vectors, y, margin, order=rows, reduction="sum"
            ) * scale(size)
    elif kind == "full":

        def loss(emb, y, gen, size):
            return hinge_rank_loss_full(
                emb, label_vectors, y, margin, reduction="sum"
            ) * scale(size)
    elif kind == "softmax":

        def loss(logits, y, gen, size):
            return F.cross_entropy(logits, y, reduction="sum") * scale(size)
    else:
        raise ValueError(f"unknown loss {kind!r}; use 'truncated', 'full' or 'softmax'")
    return loss


# ---------------------------------------------------------------- the training loop


def fit_sharded(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor, int]]],
    loss_fn: Callable,
    epochs: int,
    group: Group,
    *,
    generator: torch.Generator,
    checkpoint: Path | None = None,
    monitor: Callable[[nn.Module], dict] | None = None,
    max_steps: int | None = None,
    extra_state: dict[str, torch.Generator] | None = None,
    desc: str = "train",
    progress: bool = True,
) -> list[dict]:
    """`devise.fit` across ranks: `batches()` yields (local inputs, local targets, global batch size).

    Checkpoints have `fit`'s format (unwrapped model, optimizer, generator, history, epoch, steps),
    written by rank 0 after each epoch and sent from it to every rank on resume, so a run resumes
    with any number of processes, and machines need no shared disk. `extra_state` names further
    generators to save and restore (the sample order of phase 2). Returns rank 0's history rows.
    """
    from .progress import progress_bar

    history, start_epoch, steps = [], 0, 0
    state = (
        torch.load(checkpoint, weights_only=False, map_location="cpu")
        if group.is_main and checkpoint is not None and checkpoint.exists()
        else None
    )
    state = broadcast(state, group)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        for name, gen in (extra_state or {}).items():
            gen.set_state(state[name])
        history, start_epoch, steps = state["history"], state["epoch"], state["steps"]
    net = wrap(model, group)
    bar = progress_bar(
        total=epochs,
        initial=start_epoch,
        desc=desc,
        unit="epoch",
        progress=progress and group.is_main,
    )
    for epoch in range(start_epoch, epochs):
        if max_steps is not None and steps >= max_steps:
            break
        net.train()
        total, count = 0.0, 0
        for inputs, targets, size in batches():
            if max_steps is not None and steps >= max_steps:
                break
            loss = loss_fn(
                net(inputs.to(group.device)), targets.to(group.device), generator, size
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += (
                loss.item() * size / group.world
            )  # this rank's sum of per-example losses
            count += size
            steps += 1
        total = _sum_over_ranks(total, group)
        row = {"epoch": epoch + 1, "steps": steps, "loss": total / max(count, 1)}
        if monitor is not None and group.is_main:
            model.eval()
            with torch.no_grad():
                row.update(monitor(model))
        history.append(row)
        bar.update(1)
        bar.set_postfix(loss=f"{row['loss']:.4f}")
        if checkpoint is not None and group.is_main:
            with atomic_path(checkpoint) as tmp:
                torch.save(
                    {
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "generator": generator.get_state(),
                        "history": history,
                        "epoch": epoch + 1,
                        "steps": steps,
                        **{k: g.get_state() for k, g in (extra_state or {}).items()},
                    },
                    tmp,
                )
    bar.close()
    return history


def _sum_over_ranks(value: float, group: Group) -> float:
    if group.world == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=group.device)
    dist.all_reduce(t)
    return float(t.item())


# ---------------------------------------------------------------- sharded inference


def gather_rows(
    local: np.ndarray, total: int, group: Group, out: np.ndarray | None = None
) -> np.ndarray | None:
    """Reassemble rows computed as `items[rank::world]` into the original order, on rank 0.

    `local` is this rank's (rows, dim) float32 block. Rank 0 fills `out` (e.g. a memory-mapped .npy)
    or a new array and returns it; other ranks return None. Rows travel in all_gathers of
    `GATHER_ROWS` per rank, so no rank ever holds more than that many rows of the others.
    """
    if group.world == 1:
        if out is None:
            return local
        out[:] = local
        return out
    dim = int(max(all_objects(local.shape[1] if local.ndim == 2 else 0, group)))
    rows_of = [len(range(r, total, group.world)) for r in range(group.world)]
    if group.is_main and out is None:
        out = np.empty((total, dim), dtype=np.float32)
    for first in range(0, rows_of[0], GATHER_ROWS):  # rank 0 has the most rows
        block = torch.zeros(GATHER_ROWS, dim, dtype=torch.float32)
        part = local[first : first + GATHER_ROWS]
        block[: len(part)] = torch.from_numpy(
            np.ascontiguousarray(part, dtype=np.float32)
        )
        block = block.to(group.device)
        pieces = [torch.empty_like(block) for _ in range(group.world)]
        dist.all_gather(pieces, block)
        if group.is_main:
            for r, piece in enumerate(pieces):
                n = max(0, min(rows_of[r], first + GATHER_ROWS) - first)
                out[r + group.world * np.arange(first, first + n)] = (
                    piece[:n].cpu().numpy()
                )
    return out if group.is_main else None
