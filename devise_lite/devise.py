"""DeViSE itself: a linear map from visual features into the label space, trained in two
phases (1: the projection alone, by SGD on cached features; 2: the whole network, by
Adagrad on images), and the softmax baseline on the same budget, via `training.fit`."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from .config import DeviseConfig
from .ddp import SINGLE, Group, ShardedBatches
from .losses import hinge_rank_loss_full, hinge_rank_loss_truncated, random_order
from .metrics import flat_hit_at_k
from .training import Loss, feature_batches, fit, seeded
from .vectors import top_k


class Projection(nn.Module):
    """M: features (B, feature_dim) -> unit vectors (B, label_dim), the label space."""

    def __init__(self, feature_dim: int, label_dim: int):
        super().__init__()
        self.linear = nn.Linear(feature_dim, label_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.linear(features), dim=-1)


class EndToEnd(nn.Module):
    """Phase 2's model: the visual network, the projection (or a classifier) on top."""

    def __init__(self, backbone: nn.Module, head: nn.Module):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(images))


def rank_loss(
    cfg: DeviseConfig, label_vectors: torch.Tensor, group: Group = SINGLE
) -> Loss:
    """The configured hinge rank loss of this rank's rows of a global batch, over the
    global batch size: DDP's mean over ranks is the batch mean. Each rank draws the
    random order for the whole batch and keeps its rows: the draws are one process's."""
    if cfg.loss not in ("truncated", "full"):
        raise ValueError(f"unknown loss {cfg.loss!r}; use 'truncated' or 'full'")

    def loss(emb, y, generator, size):
        if cfg.loss == "full":
            total = hinge_rank_loss_full(
                emb, label_vectors, y, cfg.margin, reduction="sum"
            )
        else:
            keys = random_order(size, len(label_vectors), generator, emb.device)
            mine = keys[group.rank :: group.world]
            total = hinge_rank_loss_truncated(
                emb, label_vectors, y, cfg.margin, order=mine, reduction="sum"
            )
        return total * group.world / size

    return loss


def cross_entropy_loss(group: Group = SINGLE) -> Loss:
    """The softmax baseline's loss, on this rank's rows of a global batch."""

    def loss(logits, targets, _generator, size):
        total = F.cross_entropy(logits, targets, reduction="sum")
        return total * group.world / size

    return loss


def train_projection(
    features: np.ndarray,
    targets: np.ndarray,
    label_vectors: np.ndarray,
    cfg: DeviseConfig,
    *,
    group: Group = SINGLE,
    checkpoint: Path | None = None,
    monitor=None,
    progress: bool = True,
) -> tuple[Projection, pd.DataFrame]:
    """Phase 1: only M is trained, by SGD with momentum on cached features."""
    generator = torch.Generator().manual_seed(cfg.seed)
    with seeded(cfg.seed):
        model = Projection(features.shape[1], label_vectors.shape[1]).to(group.device)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=cfg.phase1_lr, momentum=cfg.phase1_momentum
    )
    labels = torch.as_tensor(label_vectors, dtype=torch.float32, device=group.device)
    history = fit(
        model,
        optimizer,
        feature_batches(features, targets, cfg.batch_size, generator, group),
        rank_loss(cfg, labels, group),
        cfg.phase1_epochs,
        generator=generator,
        group=group,
        checkpoint=checkpoint,
        monitor=monitor,
        desc="DeViSE phase 1",
        progress=progress,
    )
    return model.cpu().eval(), history


def train_softmax(
    features: np.ndarray,
    targets: np.ndarray,
    n_classes: int,
    cfg: DeviseConfig,
    *,
    group: Group = SINGLE,
    checkpoint: Path | None = None,
    monitor=None,
    progress: bool = True,
) -> tuple[nn.Linear, pd.DataFrame]:
    """The baseline: a softmax classifier on the same cached features and batches."""
    generator = torch.Generator().manual_seed(cfg.seed)
    with seeded(cfg.seed):
        model = nn.Linear(features.shape[1], n_classes).to(group.device)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=cfg.softmax_lr, momentum=cfg.phase1_momentum
    )
    history = fit(
        model,
        optimizer,
        feature_batches(features, targets, cfg.batch_size, generator, group),
        cross_entropy_loss(group),
        cfg.softmax_epochs,
        generator=generator,
        group=group,
        checkpoint=checkpoint,
        monitor=monitor,
        desc="softmax baseline",
        progress=progress,
    )
    return model.cpu().eval(), history


def fine_tune(
    model: EndToEnd,
    dataset: Dataset,
    label_vectors: torch.Tensor,
    cfg: DeviseConfig,
    batch_size: int,
    *,
    group: Group = SINGLE,
    workers: int = 0,
    checkpoint: Path | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Phase 2: the whole network, backbone included, trained with Adagrad on images."""
    if group.device.type == "cuda" and group.world > 1:
        # batch statistics over the global batch, not each rank's share of it
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model.to(group.device)  # first: Adagrad allocates its sums beside the weights
    optimizer = torch.optim.Adagrad(model.parameters(), lr=cfg.phase2_lr)
    order = torch.Generator().manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    # Random crops (in the main process) and stochastic depth draw from the global
    # generator: seeded, a rerun repeats itself; the ranks' crops differ.
    torch.manual_seed(cfg.seed + group.rank)
    sampler = ShardedBatches(len(dataset), batch_size, order, group)
    # The loader draws its workers' base seed from `order` too, as in one process.
    loader = DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        generator=order,
        pin_memory=group.device.type == "cuda",
    )

    def epoch():
        for (images, targets), size in zip(loader, sampler.sizes, strict=True):
            yield images, targets, size

    return fit(
        model,
        optimizer,
        epoch,
        rank_loss(cfg, label_vectors.to(group.device, torch.float32), group),
        cfg.phase2_epochs,
        generator=generator,
        group=group,
        checkpoint=checkpoint,
        max_steps=cfg.phase2_max_steps,
        extra_state={"order_generator": order},
        desc="phase 2 (whole net)",
        progress=progress,
    )


def phase2_budget(
    steps: int, batch_size: int, seconds_per_step: float, n_train: int
) -> dict[str, float]:
    """What `steps` phase 2 steps covered, and an epoch's cost at the measured rate."""
    steps_per_epoch = math.ceil(n_train / batch_size)
    epochs, rest = divmod(steps, steps_per_epoch)
    seen = epochs * n_train + min(rest * batch_size, n_train)
    return {
        "photos seen": seen,
        "share of one epoch": seen / n_train,
        "steps per epoch": steps_per_epoch,
        "seconds per epoch": steps_per_epoch * seconds_per_step,
    }


def format_duration(seconds: float) -> str:
    """A duration for prose: "40 s", "12.5 min", "3.2 h"."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


@torch.no_grad()
def embed(
    projection: nn.Module, features: np.ndarray, batch_size: int = 4096
) -> np.ndarray:
    """Unit embeddings of cached features, in batches."""
    projection.eval()
    device = next(projection.parameters()).device
    blocks = []
    for start in range(0, len(features), batch_size):
        rows = np.asarray(features[start : start + batch_size])
        x = torch.as_tensor(rows, dtype=torch.float32, device=device)
        blocks.append(projection(x).cpu())
    return torch.cat(blocks).numpy() if blocks else np.zeros((0, 0), np.float32)


@torch.no_grad()
def logits(classifier: nn.Module, features: np.ndarray) -> np.ndarray:
    classifier.eval()
    device = next(classifier.parameters()).device
    x = torch.as_tensor(np.asarray(features), dtype=torch.float32, device=device)
    return classifier(x).cpu().numpy()


def hit_rate_monitor(
    features: np.ndarray, targets: np.ndarray, label_vectors: np.ndarray | None
) -> Callable[[nn.Module], dict]:
    """Test hit@1 and hit@5 after each epoch, for the curves only: nothing is chosen by
    it. Without `label_vectors`, the outputs are logits (the softmax baseline)."""

    def monitor(model: nn.Module) -> dict:
        if label_vectors is None:
            scores = logits(model, features)
        else:
            scores = embed(model, features) @ np.asarray(label_vectors).T
        hits = flat_hit_at_k(top_k(scores, 5), targets, (1, 5))
        return {"test hit@1": hits[1], "test hit@5": hits[5]}

    return monitor
