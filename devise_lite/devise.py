"""DeViSE itself: a linear map from visual features into the label space, trained in two phases,
and the softmax baseline trained on the same images with the same budget.

Phase 1 trains only the projection, with SGD, on cached features (seconds on a CPU).
Phase 2 unfreezes the whole visual network under the projection and trains both with Adagrad on
images (minutes a step-limited run on a CPU; the `paper` preset runs it fully, on a GPU).
Every loop goes through `fit`, which checkpoints after each epoch so an interrupted run resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .config import DeviseConfig
from .losses import hinge_rank_loss_full, hinge_rank_loss_truncated
from .progress import progress_bar
from .storage import atomic_path


class Projection(nn.Module):
    """M: features (B, feature_dim) -> unit vectors (B, label_dim) in the label space."""

    def __init__(self, feature_dim: int, label_dim: int):
        super().__init__()
        self.linear = nn.Linear(feature_dim, label_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.linear(features), dim=-1)


class EndToEnd(nn.Module):
    """Phase 2's model: the visual network with the projection (or a classifier) on top."""

    def __init__(self, backbone: nn.Module, head: nn.Module):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(images))


def rank_loss(cfg: DeviseConfig, label_vectors: torch.Tensor) -> Callable:
    """The configured hinge rank loss as `loss(embeddings, targets, generator)`."""
    if cfg.loss == "truncated":
        return lambda emb, y, gen: hinge_rank_loss_truncated(
            emb, label_vectors, y, cfg.margin, generator=gen
        )
    if cfg.loss == "full":
        return lambda emb, y, gen: hinge_rank_loss_full(
            emb, label_vectors, y, cfg.margin
        )
    raise ValueError(f"unknown loss {cfg.loss!r}; use 'truncated' or 'full'")


def cross_entropy_loss(
    logits: torch.Tensor, targets: torch.Tensor, _generator
) -> torch.Tensor:
    return F.cross_entropy(logits, targets)


def feature_batches(
    features: np.ndarray,
    targets: np.ndarray,
    batch_size: int,
    generator: torch.Generator,
) -> Callable[[], Iterable]:
    """A fresh shuffled pass over in-memory features for each epoch."""
    x = torch.as_tensor(features, dtype=torch.float32)
    y = torch.as_tensor(targets, dtype=torch.long)

    def epoch():
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), batch_size):
            rows = order[start : start + batch_size]
            yield x[rows], y[rows]

    return epoch


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Callable[[], Iterable],
    loss_fn: Callable,
    epochs: int,
    *,
    generator: torch.Generator,
    checkpoint: Path | None = None,
    monitor: Callable[[nn.Module], dict] | None = None,
    max_steps: int | None = None,
    device: torch.device | str = "cpu",
    desc: str = "train",
    progress: bool = True,
) -> pd.DataFrame:
    """Train `model` for `epochs` passes (or `max_steps` steps); one history row per epoch.

    With `checkpoint`, the model, optimizer, random state and history are saved atomically after
    every epoch and loaded on start, so a rerun after an interruption continues where it stopped.
    """
    history, start_epoch, steps = [], 0, 0
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        history, start_epoch, steps = state["history"], state["epoch"], state["steps"]
    bar = progress_bar(
        total=epochs, initial=start_epoch, desc=desc, unit="epoch", progress=progress
    )
    for epoch in range(start_epoch, epochs):
        if max_steps is not None and steps >= max_steps:
            break
        model.train()
        total, count = 0.0, 0
        for inputs, targets in batches():
            if max_steps is not None and steps >= max_steps:
                break
            inputs, targets = inputs.to(device), targets.to(device)
            loss = loss_fn(model(inputs), targets, generator)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(targets)
            count += len(targets)
            steps += 1
        row = {"epoch": epoch + 1, "steps": steps, "loss": total / max(count, 1)}
        if monitor is not None:
            model.eval()
            with torch.no_grad():
                row.update(monitor(model))
        history.append(row)
        bar.update(1)
        bar.set_postfix(loss=f"{row['loss']:.4f}")
        if checkpoint is not None:
            with atomic_path(checkpoint) as tmp:
                torch.save(
                    {
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "generator": generator.get_state(),
                        "history": history,
                        "epoch": epoch + 1,
                        "steps": steps,
                    },
                    tmp,
                )
    bar.close()
    return pd.DataFrame(history)


def train_projection(
    features: np.ndarray,
    targets: np.ndarray,
    label_vectors: np.ndarray,
    cfg: DeviseConfig,
    *,
    checkpoint: Path | None = None,
    monitor=None,
    progress: bool = True,
) -> tuple[Projection, pd.DataFrame]:
    """Phase 1: only M is trained, by SGD with momentum on cached features, under the rank loss."""
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = Projection(features.shape[1], label_vectors.shape[1])
    optimizer = torch.optim.SGD(
        model.parameters(), lr=cfg.phase1_lr, momentum=cfg.phase1_momentum
    )
    labels = torch.as_tensor(label_vectors, dtype=torch.float32)
    history = fit(
        model,
        optimizer,
        feature_batches(features, targets, cfg.batch_size, generator),
        rank_loss(cfg, labels),
        cfg.phase1_epochs,
        generator=generator,
        checkpoint=checkpoint,
        monitor=monitor,
        desc="DeViSE phase 1",
        progress=progress,
    )
    return model.eval(), history


def train_softmax(
    features: np.ndarray,
    targets: np.ndarray,
    n_classes: int,
    cfg: DeviseConfig,
    *,
    checkpoint: Path | None = None,
    monitor=None,
    progress: bool = True,
) -> tuple[nn.Linear, pd.DataFrame]:
    """The baseline: a new softmax classifier on the same cached features, same batches and epochs."""
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = nn.Linear(features.shape[1], n_classes)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=cfg.softmax_lr, momentum=cfg.phase1_momentum
    )
    history = fit(
        model,
        optimizer,
        feature_batches(features, targets, cfg.batch_size, generator),
        cross_entropy_loss,
        cfg.softmax_epochs,
        generator=generator,
        checkpoint=checkpoint,
        monitor=monitor,
        desc="softmax baseline",
        progress=progress,
    )
    return model.eval(), history


def fine_tune(
    model: EndToEnd,
    loader,
    loss_fn: Callable,
    cfg: DeviseConfig,
    *,
    device: torch.device,
    checkpoint: Path | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Phase 2: the whole network, backbone included, trained with Adagrad on images."""
    generator = torch.Generator().manual_seed(cfg.seed)
    model.to(device)  # first: Adagrad allocates its state on the parameters' device
    optimizer = torch.optim.Adagrad(model.parameters(), lr=cfg.phase2_lr)
    return fit(
        model,
        optimizer,
        lambda: iter(loader),
        loss_fn,
        cfg.phase2_epochs,
        generator=generator,
        checkpoint=checkpoint,
        max_steps=cfg.phase2_max_steps,
        device=device,
        desc="phase 2 (whole net)",
        progress=progress,
    )


@torch.no_grad()
def embed(
    projection: nn.Module, features: np.ndarray, batch_size: int = 4096
) -> np.ndarray:
    """Unit embeddings of cached features, in batches."""
    projection.eval()
    x = torch.as_tensor(features, dtype=torch.float32)
    return torch.cat(
        [projection(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    ).numpy()


@torch.no_grad()
def logits(classifier: nn.Module, features: np.ndarray) -> np.ndarray:
    classifier.eval()
    return classifier(torch.as_tensor(features, dtype=torch.float32)).numpy()
