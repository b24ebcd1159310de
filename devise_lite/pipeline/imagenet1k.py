"""The paper's setting's models (chapter 6): DeViSE-1K, its random control and its
ablations trained on the ImageNet sample's views, and the shark experiment's models,
each saved as arrays (`vectors.LinearProjection`) and listed in `models.json`."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from ..config import Config
from ..ddp import Group
from ..evaluation import model_file
from ..imagenet1k import model_specs, training_rows
from ..integrity import record_beside
from ..labels import random_label_space
from ..progress import progress_bar
from ..sharks import SHARK_SPECIES, shark_specs
from ..storage import checked_path, intact
from ..vectors import LinearProjection
from .cache import Run
from .features import sample_images, shark_features


def devise_1k_config(cfg: Config):
    """Phase 1's settings for the DeViSE-1K models (`ImageNetConfig` overrides)."""
    i = cfg.imagenet
    return replace(
        cfg.devise,
        phase1_epochs=i.epochs,
        batch_size=i.batch_size,
        phase1_lr=i.lr,
        seed=i.seed,
    )


def reads_models(cfg: Config):
    return devise_1k_config(cfg), cfg.imagenet


def seen_1k(run: Run) -> list[str]:
    """The seen labels: the sample's ILSVRC labels (1,000 but in tests) with vectors."""
    space = run.get("labels")
    return [image.wnid for image in sample_images(run.cfg) if image.wnid in space]


def train_specs(run: Run, stage: str, specs: list, out: Path) -> dict:
    """Train each DeViSE-1K spec, two side by side, resumably, into `out/models/`."""
    from ..devise import train_projection  # torch: only when training
    from ..training import side_by_side

    cfg, space, sample = run.cfg, run.get("labels"), run.get("sample_features")
    random_space = random_label_space(space, cfg.imagenet.seed)
    saved = run.checkpoints(stage)
    saved.mkdir(parents=True, exist_ok=True)
    (out / "models").mkdir()
    # The extra views first, one spec after another: their random crops draw from
    # torch's global generator, which the trainings' initial weights draw from too.
    views = {spec.name: shark_views(run, spec, saved) for spec in specs}
    bar = progress_bar(total=len(specs), desc=f"{stage}: models", unit="model")

    def train(spec) -> dict:
        file = saved / model_file(spec.name).replace(".pt", ".npz")
        x, y = training_rows(sample.views, sample.wnids, spec.seen, spec.views)
        x, y = with_sharks(run, spec, x, y, views[spec.name])
        began = time.perf_counter()
        if not intact(file, "checkpoint", "training it again"):
            vectors = (random_space if spec.random_vectors else space).subset(spec.seen)
            settings = replace(devise_1k_config(cfg), **dict(spec.settings))
            model, _ = train_projection(x, y, vectors.vectors, settings, progress=False)
            with checked_path(file) as tmp:
                with open(tmp, "wb") as handle:
                    LinearProjection.of(model).save(handle)
        shutil.copyfile(file, out / "models" / file.name)
        bar.update(1)
        return {
            "name": spec.name,
            "file": file.name,
            "seen": list(spec.seen),
            "views": spec.views,
            "random_vectors": spec.random_vectors,
            "extra_species": spec.extra_species,
            "extra_photos": spec.extra_photos,
            "settings": dict(spec.settings),
            "rows": len(y),
            "seconds": round(time.perf_counter() - began, 1),
        }

    def cost(spec) -> float:  # rows x epochs
        epochs = dict(spec.settings).get("phase1_epochs", cfg.imagenet.epochs)
        return len(spec.seen) * spec.views * epochs

    with bar:
        records = side_by_side(train, specs, cost)
    (out / "models.json").write_text(json.dumps(records, indent=1))
    seconds = round(sum(r["seconds"] for r in records), 1)
    return {"models": len(records), "train_seconds": seconds}


def with_sharks(run: Run, spec, x: np.ndarray, y: np.ndarray, extra: list):
    """The training rows plus a seeded `spec.extra_photos` of `spec.extra_species`'s
    mirror photos and the `extra` views of the seen sharks (`shark_views`), labelled."""
    seen = list(spec.seen)
    if spec.extra_species:
        _, features = shark_features(run)[spec.extra_species]
        rng = np.random.default_rng(run.cfg.imagenet.seed)
        chosen = np.sort(rng.permutation(len(features))[: spec.extra_photos])
        label = seen.index(spec.extra_species)
        x = np.concatenate([x, features[chosen]])
        y = np.concatenate([y, np.full(len(chosen), label, dtype=np.int64)])
    if extra:
        labels = [seen.index(p.wnid) for p in seen_shark_photos(run.cfg, spec)]
        x = np.concatenate([x, *extra])
        y = np.concatenate([y, np.tile(np.array(labels, dtype=np.int64), len(extra))])
    return x, y


def seen_shark_photos(cfg: Config, spec) -> list:
    seen = set(spec.seen) & set(SHARK_SPECIES)
    return [image for image in sample_images(cfg) if image.wnid in seen]


def shark_views(run: Run, spec, work: Path) -> list[np.ndarray]:
    """The seen sharks' views `spec.views` to `spec.shark_views`, cached in `work`."""
    import torch  # the backbone: only when extracting

    from ..extraction import extract_features

    cfg, photos = run.cfg, seen_shark_photos(run.cfg, spec)
    extra = []
    for view in range(spec.views, spec.shark_views):
        file = work / f"shark-view{view}.npy"
        if not intact(file, "checkpoint", "extracting it again"):
            torch.manual_seed(cfg.imagenet.seed * 1000 + 500 + view)  # fresh crops
            extract_features(
                [p.path for p in photos],
                cfg.visual,
                file,
                work / f"shark-view{view}",
                augment=True,
                progress=False,
            )
            record_beside(file)  # checked like the other checkpoints when reused
        extra.append(np.load(file))
    return extra


@dataclass(frozen=True)
class TrainedProjection:
    """A DeViSE-1K model as `train_specs` saved it: what it saw, and its map."""

    name: str
    seen: list[str]
    views: int
    random_vectors: bool
    extra_species: str | None
    rows: int
    project: LinearProjection
    settings: dict  # phase 1 settings changed from DeViSE-1K's (the lever ablation)


def load_projections(_run: Run, done: Path) -> dict[str, TrainedProjection]:
    models = {}
    for r in json.loads((done / "models.json").read_text()):
        project = LinearProjection.load(done / "models" / r["file"])
        facts = {f.name: r[f.name] for f in fields(TrainedProjection) if f.name in r}
        models[r["name"]] = TrainedProjection(project=project, **facts)
    return models


def build_imagenet1k(run: Run, out: Path, _group: Group) -> dict:
    specs = model_specs(run.cfg.imagenet, seen_1k(run))
    return train_specs(run, "imagenet1k", specs, out)


def build_shark_models(run: Run, out: Path, _group: Group) -> dict:
    specs = shark_specs(run.cfg.imagenet, seen_1k(run), list(shark_features(run)))
    return train_specs(run, "shark_models", specs, out)


def train_devise_1k(run: Run, views: int | None = None, **settings):
    """A DeViSE-1K map trained afresh (uncached) on `views` views with `settings`."""
    from ..devise import train_projection  # torch: only when training

    cfg, sample, seen = run.cfg, run.get("sample_features"), seen_1k(run)
    x, y = training_rows(sample.views, sample.wnids, seen, views or cfg.imagenet.views)
    devise = replace(devise_1k_config(cfg), **settings)
    vectors = run.get("labels").subset(seen).vectors
    model, _ = train_projection(x, y, vectors, devise, progress=False)
    return LinearProjection.of(model)
