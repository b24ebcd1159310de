"""Table 1's models on the torch side: DeViSE, its random control and the softmax
baseline, their files, and phase 2 on the photos. The pipeline imports this only when
a stage trains or loads them: torch takes seconds to import."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .config import Config
from .ddp import Group, gather_rows
from .devise import (
    EndToEnd,
    Projection,
    embed,
    fine_tune,
    hit_rate_monitor,
    train_projection,
    train_softmax,
)
from .evaluation import DEVISE, RANDOM, SOFTMAX, model_file
from .extraction import (
    feature_engine,
    forward_images,
    loader_workers,
    resolve_device,
    torch_threads,
)
from .image_inputs import ImageFiles, LabelledImages, image_transform
from .labels import LabelSpace, random_label_space
from .progress import progress_bar
from .training import side_by_side
from .vectors import cosine_scores
from .visual import build_backbone


def train_three(cfg: Config, x, y, vectors: dict, group: Group, saved=None, test=None):
    """DeViSE, its control (`vectors`: name -> label vectors) and the softmax on (x, y),
    resuming from `saved`, hit rates shown on `test`. Returns (models, histories)."""
    n_labels = len(next(iter(vectors.values())))

    def train(name: str):
        label_vectors = vectors.get(name)  # None: the softmax baseline
        options = {
            "group": group,
            "checkpoint": saved / model_file(name) if saved else None,
            "monitor": hit_rate_monitor(*test, label_vectors) if test else None,
        }
        if name == SOFTMAX:
            return train_softmax(x, y, n_labels, cfg.devise, **options)
        return train_projection(x, y, label_vectors, cfg.devise, **options)

    names = [*vectors, SOFTMAX]
    # Side by side on one process; under DDP every rank must train in the same order.
    trained = side_by_side(train, names) if group.world == 1 else map(train, names)
    trained = dict(zip(names, trained, strict=True))
    histories = [history.assign(model=name) for name, (_, history) in trained.items()]
    return {name: model for name, (model, _) in trained.items()}, pd.concat(histories)


def word_and_random_scores(
    cfg: Config, x, y, space: LabelSpace, features, seed: int, models=None
) -> dict[str, np.ndarray]:
    """Cosine scores of the test `features` under DeViSE (`space`) and its seeded random
    control, trained on (x, y) with `seed` unless that seed's `models` are given."""
    vectors = {DEVISE: space.vectors, RANDOM: random_label_space(space, seed).vectors}
    if models is None:
        settings = replace(cfg.devise, seed=seed)
        trained = side_by_side(
            lambda v: train_projection(x, y, v, settings, progress=False)[0],
            vectors.values(),
        )
        models = dict(zip(vectors, trained, strict=True))
    return {
        name: cosine_scores(embed(models[name], features), v)
        for name, v in vectors.items()
    }


def save_models(models: dict, out: Path) -> None:
    for name, model in models.items():
        torch.save(model.state_dict(), out / model_file(name))


def load_models(done: Path) -> dict:
    """The models `save_models` wrote, each rebuilt from its weights' shape (at paper
    scale the features are 21 GB, the weights a few MB)."""
    models = {}
    for name in (DEVISE, RANDOM, SOFTMAX):
        state = torch.load(done / model_file(name), weights_only=True)
        if name == SOFTMAX:
            models[name] = torch.nn.Linear(*reversed(state["weight"].shape))
        else:
            models[name] = Projection(*reversed(state["linear.weight"].shape))
        models[name].load_state_dict(state)
    return models


def phase2_on_photos(
    cfg: Config, visual, devise: Projection, train, test, label_vectors, group, saved
) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """Phase 2: backbone + `devise` fine-tuned on `train` toward `label_vectors`
    (resumable from `saved`), then `test` embedded: (history, embeddings, facts)."""
    device = resolve_device(visual, group)
    vectors = torch.as_tensor(label_vectors)
    with torch_threads(visual.num_threads):
        model = EndToEnd(build_backbone(visual), devise)
        paths = [image.path for image in train.images]
        dataset = LabelledImages(
            ImageFiles(paths, image_transform(visual, train=True)), train.targets
        )
        began = time.perf_counter()
        history = fine_tune(
            model,
            dataset,
            vectors,
            cfg.devise,
            visual.batch_size,
            group=group,
            workers=loader_workers(device),
            checkpoint=saved / "phase2.pt",
        )
        seconds = time.perf_counter() - began
        test_files = ImageFiles(
            [image.path for image in test.images][group.rank :: group.world],
            image_transform(visual),
        )
        tuned = feature_engine(visual, device, module=model.eval())
        with progress_bar(
            total=len(test_files),
            desc="embed test images (tuned net)",
            unit="img",
            progress=group.is_main,
        ) as bar:
            local = forward_images(tuned, test_files, visual, device, bar)
    embeddings = gather_rows(local, len(test.images), group)
    steps = int(history["steps"].iloc[-1]) if len(history) else 0
    facts = {
        "steps": steps,
        "batch_size": visual.batch_size,
        "device": f"{group.world} x {device.type}" if group.world > 1 else str(device),
        "train_seconds": round(seconds, 1),
        "seconds_per_step": round(seconds / max(steps, 1), 2),
        "world_size": group.world,
    }
    return history, embeddings, facts
