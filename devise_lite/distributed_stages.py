"""The `features`, `train` and `finetune` stages of `pipeline.py`, run by every torchrun process.

Each writes the artifacts its `pipeline.py` namesake writes, under the same cache keys, from rank 0
only; the other ranks compute their share and hand it over through collectives (features and
embeddings travel that way, not through files). Every decision that depends on the disk ("is this
stage done?") is rank 0's, broadcast, so all ranks always take the same branch even while a file
system is still catching up.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import ddp, pipeline
from .config import Config, VisualConfig
from .ddp import Group
from .distributed import (
    LabelledImages,
    MissingStageError,
    extract_sharded,
    fine_tune_ddp,
    forward_sharded,
    train_projection_ddp,
    train_softmax_ddp,
)
from .storage import stage_dir


def images_of(cfg: Config, part: str):
    """The "train" or "test" images of the experiment labels, as `pipeline.image_features` lists them."""
    keep = set(pipeline.experiment_labels(cfg)[0])
    return [i for i in getattr(pipeline.image_split(cfg), part) if i.wnid in keep]


def experiment(
    cfg: Config, group: Group, part: str
) -> tuple[list[Path], np.ndarray, list[str]]:
    """(image paths, class indices, labels) of one part. Rank 0 goes first: a missing image set is
    downloaded once, not by every rank at the same time."""
    require(
        stage_dir("labels", pipeline.labels_key(cfg)) / "done.json",
        "the label space",
        f"python -m devise_lite labels --preset {cfg.name}",
        group,
    )
    if group.is_main:
        images_of(cfg, part)
    ddp.barrier(group)
    labels = pipeline.experiment_labels(cfg)[0]
    index = {w: i for i, w in enumerate(labels)}
    images = images_of(cfg, part)
    return (
        [i.path for i in images],
        np.array([index[i.wnid] for i in images], dtype=np.int64),
        labels,
    )


def require(path: Path, what: str, command: str, group: Group) -> None:
    if not ddp.broadcast(path.exists(), group):
        raise MissingStageError(
            f"{what} is not built yet ({path} is missing): run `{command}` first"
        )


def visual_per_rank(cfg: Config, group: Group) -> VisualConfig:
    """The visual config with the CPU threads shared among this machine's ranks (the threads are not
    part of any cache key, so the artifacts are those of the single-process run)."""
    return replace(
        cfg.visual, num_threads=max(1, cfg.visual.num_threads // group.local_world)
    )


def done(stage: str, key: str, group: Group) -> bool:
    return ddp.broadcast((stage_dir(stage, key) / "done.json").exists(), group)


# ---------------------------------------------------------------- features


def features(cfg: Config, group: Group) -> None:
    """Backbone features of the train and test images, sharded; `features.npy` as pipeline writes it."""
    visual = visual_per_rank(cfg, group)
    for part in ("train", "test"):
        paths, _, _ = experiment(cfg, group, part)
        extract_sharded(paths, visual, f"{cfg.images.dataset}-{part}", group)


# ---------------------------------------------------------------- phase 1


def train(cfg: Config, group: Group) -> None:
    """Phase 1 of DeViSE, its random-embedding control and the softmax baseline; pipeline's `train` folder."""
    from .labels import random_label_space
    from .visual import feature_cache_dir

    key = pipeline.train_key(cfg)
    if done("train", key, group):
        return
    paths, y, labels = experiment(cfg, group, "train")
    test_paths, test_y, _ = experiment(cfg, group, "test")
    arrays = [
        feature_cache_dir(p, cfg.visual, f"{cfg.images.dataset}-{part}")
        / "features.npy"
        for p, part in ((paths, "train"), (test_paths, "test"))
    ]
    for path in arrays:
        require(
            path,
            "the image features",
            f"torchrun ... -m devise_lite.distributed features --preset {cfg.name}",
            group,
        )
    # Memory-mapped: the processes of one machine share one copy through the page cache.
    x, test_x = (np.load(path, mmap_mode="r") for path in arrays)
    space = pipeline.label_space(cfg).subset(labels)
    checkpoints = stage_dir("checkpoints", key)
    if group.is_main:
        checkpoints.mkdir(parents=True, exist_ok=True)
    models, histories = {}, []
    began = time.perf_counter()
    for name, vectors in (
        ("DeViSE", space.vectors),
        (
            "DeViSE, random embeddings",
            random_label_space(space, cfg.devise.seed).vectors,
        ),
    ):
        models[name], history = train_projection_ddp(
            x,
            y,
            vectors,
            cfg.devise,
            group,
            checkpoint=checkpoints / f"{pipeline._slug(name)}.pt",
            monitor=test_monitor(test_x, test_y, vectors) if group.is_main else None,
        )
        histories.append(history.assign(model=name))
    models["softmax"], history = train_softmax_ddp(
        x,
        y,
        len(labels),
        cfg.devise,
        group,
        checkpoint=checkpoints / "softmax.pt",
        monitor=test_monitor(test_x, test_y, None) if group.is_main else None,
    )
    histories.append(history.assign(model="softmax baseline"))
    seconds = time.perf_counter() - began

    def build(tmp: Path) -> dict:
        for name, model in models.items():
            torch.save(model.state_dict(), tmp / f"{pipeline._slug(name)}.pt")
        pd.concat(histories).to_csv(tmp / "history.csv", index=False)
        # `seconds` (added by pipeline) times this writing only; the training took `train_seconds`.
        return {
            "train_images": len(y),
            "labels": len(labels),
            "world_size": group.world,
            "train_seconds": round(seconds, 1),
        }

    if group.is_main:
        pipeline._cached_dir("train", key, build)
        shutil.rmtree(checkpoints, ignore_errors=True)
    ddp.barrier(group)


def test_monitor(
    features: np.ndarray,
    targets: np.ndarray,
    label_vectors: np.ndarray | None,
    rows: int = 4096,
):
    """Test hit@1/hit@5 after each epoch (pipeline's curves), on the model's own device."""
    from .metrics import flat_hit_at_k, top_k

    def monitor(model) -> dict:
        device = next(model.parameters()).device
        vectors = (
            None
            if label_vectors is None
            else torch.as_tensor(label_vectors, dtype=torch.float32, device=device)
        )
        blocks = []
        for i in range(0, len(features), rows):
            out = model(
                torch.as_tensor(
                    np.array(features[i : i + rows], dtype=np.float32), device=device
                )
            )
            blocks.append((out if vectors is None else out @ vectors.T).cpu().numpy())
        hits = flat_hit_at_k(top_k(np.concatenate(blocks), 5), targets, (1, 5))
        return {"test hit@1": hits[1], "test hit@5": hits[5]}

    return monitor


# ---------------------------------------------------------------- phase 2


def finetune(cfg: Config, group: Group) -> None:
    """Phase 2 with DDP, then the test images embedded by the tuned net; pipeline's `phase2` folder."""
    from .devise import EndToEnd, Projection
    from .visual import ImageFiles, build_backbone, image_transform, torch_threads

    key = pipeline.phase2_key(cfg)
    if done("phase2", key, group):
        return
    trained = stage_dir("train", pipeline.train_key(cfg))
    require(
        trained / "done.json",
        "phase 1",
        f"torchrun ... -m devise_lite.distributed train --preset {cfg.name}",
        group,
    )
    paths, y, labels = experiment(cfg, group, "train")
    test_paths, _, _ = experiment(cfg, group, "test")
    vectors = torch.as_tensor(
        pipeline.label_space(cfg).subset(labels).vectors, dtype=torch.float32
    )
    state = torch.load(trained / "devise.pt")
    projection = Projection(
        state["linear.weight"].shape[1], state["linear.weight"].shape[0]
    )
    projection.load_state_dict(state)
    visual = visual_per_rank(cfg, group)
    checkpoints = stage_dir("checkpoints", key)
    workers = (
        0 if group.device.type == "cpu" else max(1, min(8, visual.num_threads - 1))
    )
    with torch_threads(visual.num_threads):
        model = EndToEnd(build_backbone(visual), projection)
        dataset = LabelledImages(
            ImageFiles(paths, image_transform(visual, train=True)), y
        )
        began = time.perf_counter()
        history = fine_tune_ddp(
            model,
            dataset,
            vectors,
            cfg.devise,
            visual.batch_size,
            group,
            workers=workers,
            checkpoint=checkpoints / "phase2.pt",
        )
        seconds = time.perf_counter() - began
        embeddings = forward_sharded(
            model, ImageFiles(test_paths, image_transform(visual)), visual, group
        )

    def build(tmp: Path) -> dict:
        np.save(tmp / "test_embeddings.npy", embeddings)
        history.to_csv(tmp / "history.csv", index=False)
        steps = int(history["steps"].iloc[-1]) if len(history) else 0
        return {
            "steps": steps,
            "batch_size": visual.batch_size,
            "device": f"{group.world} x {group.device.type}",
            "train_seconds": round(seconds, 1),
            "seconds_per_step": round(seconds / max(steps, 1), 2),
            "world_size": group.world,
        }

    if group.is_main:
        checkpoints.mkdir(parents=True, exist_ok=True)
        pipeline._cached_dir("phase2", key, build)
        shutil.rmtree(checkpoints, ignore_errors=True)
    ddp.barrier(group)


STAGES = {"features": features, "train": train, "finetune": finetune}
