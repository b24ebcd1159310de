"""The training loop every model shares (`fit`): for one process or many (`ddp.Group`),
a history row an epoch, and a checkpoint after each so an interrupted run resumes."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from .ddp import SINGLE, Group, broadcast, global_batches, sum_over_ranks, wrap
from .progress import progress_bar
from .storage import checked_path, intact

Item, Result = TypeVar("Item"), TypeVar("Result")
_GLOBAL_GENERATOR = threading.Lock()

# `loss(outputs, targets, generator, global_batch_size)` on this rank's rows
Loss = Callable[[torch.Tensor, torch.Tensor, torch.Generator, int], torch.Tensor]
# each epoch: (this rank's inputs, its targets, the size of the global batch)
Batches = Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor, int]]]


def feature_batches(
    features: np.ndarray,
    targets: np.ndarray,
    batch_size: int,
    generator: torch.Generator,
    group: Group = SINGLE,
) -> Batches:
    """Each epoch: this rank's rows of every global batch, in a fresh shuffled order."""
    y = torch.as_tensor(targets, dtype=torch.long)

    def epoch():
        for batch in global_batches(len(y), batch_size, generator):
            mine = batch[group.rank :: group.world].numpy()
            rows = np.ascontiguousarray(features[mine], dtype=np.float32)
            yield torch.from_numpy(rows), y[mine], len(batch)

    return epoch


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Batches,
    loss_fn: Loss,
    epochs: int,
    *,
    generator: torch.Generator,
    group: Group = SINGLE,
    checkpoint: Path | None = None,
    monitor: Callable[[nn.Module], dict] | None = None,
    max_steps: int | None = None,
    extra_state: dict[str, torch.Generator] | None = None,
    desc: str = "train",
    progress: bool = True,
) -> pd.DataFrame:
    """Train `model` `epochs` passes (or `max_steps` steps): a history row an epoch. In
    DDP each rank takes its rows of each global batch; `checkpoint`: the main process
    saves all state each epoch (`extra_state` too), for a rerun to resume on any N."""
    history, start_epoch, steps, state = [], 0, 0, None
    resume = checkpoint is not None and group.is_main
    if resume and intact(checkpoint, "checkpoint", "training from the start"):
        state = torch.load(checkpoint, weights_only=False, map_location="cpu")
    state = broadcast(state, group)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        for name, extra in (extra_state or {}).items():
            extra.set_state(state[name])
        history, start_epoch, steps = state["history"], state["epoch"], state["steps"]
    net = wrap(model, group)  # nanoGPT: raw_model = model.module if ddp else model
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
            outputs = net(inputs.to(group.device))
            loss = loss_fn(outputs, targets.to(group.device), generator, size)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * size / group.world  # this rank's sum of losses
            count += size
            steps += 1
        total = sum_over_ranks(total, group)
        row = {"epoch": epoch + 1, "steps": steps, "loss": total / max(count, 1)}
        if monitor is not None and group.is_main:
            model.eval()
            with torch.no_grad():
                row.update(monitor(model))
        history.append(row)
        bar.update(1)
        bar.set_postfix(loss=f"{row['loss']:.4f}")
        if checkpoint is not None and group.is_main:
            with checked_path(checkpoint) as tmp:
                saved = {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "generator": generator.get_state(),
                    "history": history,
                    "epoch": epoch + 1,
                    "steps": steps,
                    **{k: g.get_state() for k, g in (extra_state or {}).items()},
                }
                torch.save(saved, tmp)
    bar.close()
    return pd.DataFrame(history)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """The block runs with torch's global generator seeded and this thread alone drawing
    from it: initial weights are the seed's, also when trainings run `side_by_side`."""
    with _GLOBAL_GENERATOR:
        torch.manual_seed(seed)
        yield


def side_by_side(
    train: Callable[[Item], Result],
    items: Iterable[Item],
    cost: Callable[[Item], float] | None = None,
) -> list[Result]:
    """`[train(item) for item in items]`, two at a time in threads with half of torch's
    threads each, costliest first (`cost`: a guess), so no long one runs alone at the
    end; phase 1 is about as fast on one thread as two, and bit-identical (`seeded`)."""
    items, threads = list(items), torch.get_num_threads()
    if len(items) < 2 or threads < 2:  # one core: nothing to gain
        return [train(item) for item in items]
    order = sorted(range(len(items)), key=lambda i: -cost(items[i]) if cost else 0)
    torch.set_num_threads(threads // 2)
    try:
        with ThreadPoolExecutor(2, thread_name_prefix="side-by-side") as pool:
            started = {i: pool.submit(train, items[i]) for i in order}
            return [started[i].result() for i in range(len(items))]
    finally:
        torch.set_num_threads(threads)
