"""The visual half of the pipeline on several GPUs or machines:

    torchrun --nproc_per_node=8 -m devise_lite.distributed {features,train,finetune,all} --preset paper

Each stage writes exactly the cache folders and files that `pipeline.py` writes for the same config,
so `python -m devise_lite evaluate --preset paper` afterwards finds them and computes nothing again.
The language half (corpus, skip-gram, labels) runs before, in one process with `workers` threads:
`python -m devise_lite labels --preset paper`.

Several machines share the data root (`DEVISE_DATA` on a shared file system): phase 1 memory-maps
the features that rank 0 wrote, and every rank reads the label space and phase 1's projection.

- features: each rank extracts `images[rank::world]` through `visual.extract_features` (cached and
  resumable per shard) and rank 0 writes them, in the original order, into the `features.npy` the
  single-process stage would have written (streamed through a memory-mapped file).
- train: phase 1 of the three models with DDP (`ddp.py`): same global batch, same draws.
- finetune: phase 2 with DDP (the whole network, Adagrad), then the test images embedded, sharded.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, RandomSampler, Subset

from . import ddp
from .config import PRESETS, DeviseConfig, VisualConfig, get_preset
from .ddp import Group, fit_sharded, global_batches, sharded_loss
from .devise import Projection
from .storage import atomic_path, write_text_atomic


class MissingStageError(RuntimeError):
    """A stage this one builds on has not been run yet."""


# ---------------------------------------------------------------- the two phases, sharded


def feature_shards(
    features: np.ndarray,
    targets: np.ndarray,
    batch_size: int,
    generator: torch.Generator,
    group: Group,
):
    """Each epoch: this rank's rows of every global batch of in-memory (or memory-mapped) features."""
    y = torch.as_tensor(targets, dtype=torch.long)

    def epoch():
        for batch in global_batches(len(y), batch_size, generator):
            mine = batch[group.rank :: group.world].numpy()
            yield (
                torch.from_numpy(
                    np.ascontiguousarray(features[mine], dtype=np.float32)
                ),
                y[mine],
                len(batch),
            )

    return epoch


def train_projection_ddp(
    features: np.ndarray,
    targets: np.ndarray,
    label_vectors: np.ndarray,
    cfg: DeviseConfig,
    group: Group,
    *,
    checkpoint: Path | None = None,
    monitor=None,
    progress: bool = True,
) -> tuple[Projection, pd.DataFrame]:
    """Phase 1 (`devise.train_projection`) across ranks: SGD with momentum on M alone."""
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = Projection(features.shape[1], label_vectors.shape[1]).to(group.device)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=cfg.phase1_lr, momentum=cfg.phase1_momentum
    )
    labels = torch.as_tensor(label_vectors, dtype=torch.float32, device=group.device)
    history = fit_sharded(
        model,
        optimizer,
        feature_shards(features, targets, cfg.batch_size, generator, group),
        sharded_loss(cfg.loss, group, labels, cfg.margin),
        cfg.phase1_epochs,
        group,
        generator=generator,
        checkpoint=checkpoint,
        monitor=monitor,
        desc="DeViSE phase 1 (DDP)",
        progress=progress,
    )
    return model.cpu().eval(), pd.DataFrame(history)


def train_softmax_ddp(
    features: np.ndarray,
    targets: np.ndarray,
    n_classes: int,
    cfg: DeviseConfig,
    group: Group,
    *,
    checkpoint: Path | None = None,
    monitor=None,
    progress: bool = True,
) -> tuple[nn.Linear, pd.DataFrame]:
    """The softmax baseline (`devise.train_softmax`) across ranks."""
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = nn.Linear(features.shape[1], n_classes).to(group.device)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=cfg.softmax_lr, momentum=cfg.phase1_momentum
    )
    history = fit_sharded(
        model,
        optimizer,
        feature_shards(features, targets, cfg.batch_size, generator, group),
        sharded_loss("softmax", group),
        cfg.softmax_epochs,
        group,
        generator=generator,
        checkpoint=checkpoint,
        monitor=monitor,
        desc="softmax baseline (DDP)",
        progress=progress,
    )
    return model.cpu().eval(), pd.DataFrame(history)


class ShardedBatches:
    """A DataLoader batch sampler: this rank's indices of each global batch, in the order the
    single-process `DataLoader(shuffle=True, generator=...)` visits them. A last global batch
    smaller than the number of ranks is skipped (at most world-1 examples an epoch), because a rank
    with no rows cannot run a BatchNorm network forward."""

    def __init__(
        self, n: int, batch_size: int, generator: torch.Generator, group: Group
    ):
        if batch_size < group.world:
            raise ValueError(
                f"the global batch ({batch_size}) must be at least the number of processes ({group.world})"
            )
        self.n, self.batch_size, self.generator, self.group = (
            n,
            batch_size,
            generator,
            group,
        )
        self.sizes = [
            s
            for s in (min(batch_size, n - i) for i in range(0, n, batch_size))
            if s >= group.world
        ]

    def __iter__(self):
        order = list(
            RandomSampler(range(self.n), generator=self.generator)
        )  # the draws DataLoader makes
        for k in range(len(self.sizes)):
            yield order[k * self.batch_size : k * self.batch_size + self.sizes[k]][
                self.group.rank :: self.group.world
            ]

    def __len__(self) -> int:
        return len(self.sizes)


def fine_tune_ddp(
    model: nn.Module,
    dataset: Dataset,
    label_vectors: torch.Tensor,
    cfg: DeviseConfig,
    batch_size: int,
    group: Group,
    *,
    workers: int = 0,
    checkpoint: Path | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Phase 2 (`devise.fine_tune`) across ranks: the whole network with Adagrad on (image, class) pairs."""
    if group.device.type == "cuda" and group.world > 1:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(
            model
        )  # batch statistics over the global batch
    model.to(
        group.device
    )  # before the optimizer: Adagrad allocates its sums beside the weights
    optimizer = torch.optim.Adagrad(model.parameters(), lr=cfg.phase2_lr)
    order = torch.Generator().manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    # Random crops (without loader workers) and stochastic depth draw from the global generator:
    # seeded, a rerun repeats itself; per rank, the ranks' crops differ.
    torch.manual_seed(cfg.seed + group.rank)
    sampler = ShardedBatches(len(dataset), batch_size, order, group)
    # The loader draws its workers' base seed from `order` too, before the sampler: as in one process.
    loader = DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        generator=order,
        pin_memory=group.device.type == "cuda",
    )

    def epoch():
        for (x, y), size in zip(loader, sampler.sizes):
            yield x, y, size

    labels = label_vectors.to(group.device, torch.float32)
    history = fit_sharded(
        model,
        optimizer,
        epoch,
        sharded_loss(cfg.loss, group, labels, cfg.margin),
        cfg.phase2_epochs,
        group,
        generator=generator,
        checkpoint=checkpoint,
        max_steps=cfg.phase2_max_steps,
        extra_state={"order_generator": order},
        desc="phase 2 (whole net, DDP)",
        progress=progress,
    )
    return pd.DataFrame(history)


def forward_sharded(
    model: nn.Module,
    images: Dataset,
    cfg: VisualConfig,
    group: Group,
    progress: bool = True,
) -> np.ndarray | None:
    """`visual.forward_images` with each rank on `images[rank::world]`; rank 0 gets all rows in order."""
    from .progress import progress_bar
    from .visual import forward_images

    mine = Subset(images, range(group.rank, len(images), group.world))
    local = np.zeros((0, 0), dtype=np.float32)
    if len(mine):
        with progress_bar(
            total=len(mine),
            desc="embed (sharded)",
            unit="img",
            progress=progress and group.is_main,
        ) as bar:
            local = forward_images(model, mine, cfg, group.device, bar)
    return ddp.gather_rows(local, len(images), group)


def extract_sharded(
    paths: list[Path], cfg: VisualConfig, set_name: str, group: Group
) -> Path:
    """`visual.extract_features` with each rank on `paths[rank::world]` (cached and resumable per
    shard); rank 0 writes the rows, in order, to the `features.npy` and `stats.json` that the
    single-process call for the same paths reads. Returns that file."""
    from .visual import extract_features, extraction_stats, feature_cache_dir

    folder = feature_cache_dir(paths, cfg, set_name)
    if ddp.broadcast((folder / "features.npy").exists(), group):
        return folder / "features.npy"
    mine = paths[group.rank :: group.world]
    shard = f"{set_name}-shard{group.rank}of{group.world}"
    local = (
        extract_features(mine, cfg, shard, progress=group.is_main)
        if mine
        else np.zeros((0, 0), np.float32)
    )
    stats = ddp.all_objects(extraction_stats(mine, cfg, shard) if mine else None, group)
    dim = max(ddp.all_objects(local.shape[1], group))
    if group.is_main:
        with atomic_path(
            folder / "features.npy"
        ) as tmp:  # streamed to disk: never all rows in memory
            out = np.lib.format.open_memmap(
                tmp, mode="w+", dtype=np.float32, shape=(len(paths), dim)
            )
            ddp.gather_rows(local, len(paths), group, out=out)
            out.flush()
            del out
        merged = _merged_stats(
            [s for s in stats if s], cfg, set_name, len(paths), dim, group
        )
        write_text_atomic(folder / "stats.json", json.dumps(merged, indent=1))
    else:
        ddp.gather_rows(local, len(paths), group)
    ddp.barrier(group)
    if mine:
        shutil.rmtree(
            feature_cache_dir(mine, cfg, shard), ignore_errors=True
        )  # features.npy holds them now
    return folder / "features.npy"


def _merged_stats(
    stats: list[dict], cfg: VisualConfig, set_name: str, n: int, dim: int, group: Group
) -> dict:
    """One `stats.json` for the set: the ranks run at once, so images/s is their sum over the slowest."""
    computed = sum(s["images_computed"] for s in stats)
    seconds = max((s["seconds"] for s in stats), default=0.0)
    return {
        "backbone": cfg.backbone,
        "image_size": cfg.image_size,
        "set_name": set_name,
        "images": n,
        "feature_dim": dim,
        "images_computed": computed,
        "seconds": seconds,
        "images_per_second": round(computed / seconds, 2) if seconds else None,
        "device": f"{group.world} x {group.device.type}",
        "batch_size": cfg.batch_size,
        "num_threads": cfg.num_threads,
        "world_size": group.world,
        "images_per_second_per_rank": [s["images_per_second"] for s in stats],
    }


class LabelledImages(Dataset):
    """(image tensor, class index) pairs."""

    def __init__(self, images: Dataset, targets: np.ndarray):
        self.images, self.targets = images, targets

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], int(self.targets[i])


# ---------------------------------------------------------------- the command line


def main(argv: list[str] | None = None) -> int:
    from . import distributed_stages as stages

    parser = argparse.ArgumentParser(
        prog="torchrun --nproc_per_node=N -m devise_lite.distributed",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("stage", choices=[*stages.STAGES, "all"])
    parser.add_argument("--preset", default="paper", choices=sorted(PRESETS))
    args = parser.parse_args(argv)
    cfg = get_preset(args.preset)
    group = ddp.start(cfg.visual.device)
    try:
        for name in list(stages.STAGES) if args.stage == "all" else [args.stage]:
            began = time.perf_counter()
            if group.is_main:
                print(
                    f"[devise-lite ddp] {name} ({cfg.name}, {group.world} process(es) on {group.device.type})",
                    flush=True,
                )
            stages.STAGES[name](cfg, group)
            if group.is_main:
                print(
                    f"[devise-lite ddp] {name} done in {time.perf_counter() - began:.1f}s",
                    flush=True,
                )
    except MissingStageError as err:
        if group.is_main:
            print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        ddp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
