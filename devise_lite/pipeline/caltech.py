"""The Caltech-101 experiment's stages: phase 1 (DeViSE, its random-embedding control,
the softmax baseline), phase 2, Table 1, and the first zero-shot experiment (chapters
4 to 6). The three models' files are written and read here (`save_models`,
`load_models`); torch is imported only where a model is trained, saved or loaded.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..candidates import hop_sets
from ..config import Config
from ..conse import conse_embedding
from ..ddp import Group, gather_rows
from ..evaluation import DEVISE, RANDOM, SOFTMAX, conse_name, model_file, table1_rows
from ..labels import random_label_space
from ..progress import progress_bar
from ..splits import split_seen_unseen
from ..storage import read_info
from ..vectors import softmax, unit
from ..zeroshot import (
    Placed,
    ZeroShotData,
    families,
    restrict_to_labels,
    zero_shot_tables,
)
from .cache import Run, read_csv
from .features import (
    experiment_images,
    experiment_labels,
    image_features,
    visual_per_rank,
)

# ---------------------------------------------------------------- phase 1


def train_three(run: Run, x, y, vectors: dict, group: Group, saved=None, test=None):
    """DeViSE and its random control (`vectors`: name -> label vectors), then the
    softmax baseline, trained on the same rows; each resumes from the folder `saved`
    and reports hit rates on `test` (features, targets) when those are given. Returns
    ({name: model}, the training histories in one table)."""
    from ..devise import hit_rate_monitor, train_projection, train_softmax  # torch

    def options(name: str, label_vectors) -> dict:
        return {
            "group": group,
            "checkpoint": saved / model_file(name) if saved else None,
            "monitor": hit_rate_monitor(*test, label_vectors) if test else None,
        }

    models, histories = {}, []
    for name, label_vectors in vectors.items():
        models[name], history = train_projection(
            x, y, label_vectors, run.cfg.devise, **options(name, label_vectors)
        )
        histories.append(history.assign(model=name))
    n_labels = len(next(iter(vectors.values())))
    models[SOFTMAX], history = train_softmax(
        x, y, n_labels, run.cfg.devise, **options(SOFTMAX, None)
    )
    histories.append(history.assign(model=SOFTMAX))
    return models, pd.concat(histories)


def save_models(models: dict, out: Path) -> None:
    import torch  # model files are torch state dicts

    for name, model in models.items():
        torch.save(model.state_dict(), out / model_file(name))


def load_models(done: Path) -> dict:
    """DeViSE, its random control and the softmax baseline as `save_models` wrote
    them, each rebuilt from its weights' shape (at paper scale the features are 21 GB,
    the weights a few MB)."""
    import torch  # model files are torch state dicts

    from ..devise import Projection

    models = {}
    for name in (DEVISE, RANDOM, SOFTMAX):
        state = torch.load(done / model_file(name), weights_only=True)
        if name == SOFTMAX:
            models[name] = torch.nn.Linear(*reversed(state["weight"].shape))
        else:
            models[name] = Projection(*reversed(state["linear.weight"].shape))
        models[name].load_state_dict(state)
    return models


def build_train(run: Run, out: Path | None, group: Group) -> dict:
    labels = experiment_labels(run)
    space = run.get("labels").subset(labels)
    vectors = {
        DEVISE: space.vectors,
        RANDOM: random_label_space(space, run.cfg.devise.seed).vectors,
    }
    x, y = image_features(run, "train")
    saved = run.checkpoints("train")
    saved.mkdir(parents=True, exist_ok=True)
    test = image_features(run, "test")
    models, history = train_three(run, x, y, vectors, group, saved, test)
    if out is not None:
        save_models(models, out)
        history.to_csv(out / "history.csv", index=False)
    return {"train_images": len(y), "labels": len(labels), "world_size": group.world}


def load_train(_run: Run, done: Path) -> dict:
    return {**load_models(done), "history": read_csv(done / "history.csv")}


# ---------------------------------------------------------------- phase 2


def phase2_enabled(cfg: Config) -> bool:
    return bool(cfg.devise.phase2_epochs) and cfg.devise.phase2_max_steps != 0


def build_finetune(run: Run, out: Path | None, group: Group) -> dict:
    import torch  # phase 2 trains the whole torch network

    from ..devise import EndToEnd, fine_tune
    from ..visual import (
        ImageFiles,
        LabelledImages,
        build_backbone,
        feature_engine,
        forward_images,
        image_transform,
        loader_workers,
        resolve_device,
        torch_threads,
    )

    cfg = run.cfg
    if not phase2_enabled(cfg):
        if out is not None:
            np.save(out / "test_embeddings.npy", np.zeros((0, 0), np.float32))
        return {"skipped": "phase 2 is off in this preset"}
    visual = visual_per_rank(cfg, group)
    device = resolve_device(visual, group)
    train, test = experiment_images(run, "train"), experiment_images(run, "test")
    vectors = torch.as_tensor(run.get("labels").subset(train.labels).vectors)
    saved = run.checkpoints("finetune")
    saved.mkdir(parents=True, exist_ok=True)
    with torch_threads(visual.num_threads):
        model = EndToEnd(build_backbone(visual), run.get("train")[DEVISE])
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
    if out is None:
        return {}
    np.save(out / "test_embeddings.npy", embeddings)
    history.to_csv(out / "history.csv", index=False)
    steps = int(history["steps"].iloc[-1]) if len(history) else 0
    return {
        "steps": steps,
        "batch_size": visual.batch_size,
        "device": f"{group.world} x {device.type}" if group.world > 1 else str(device),
        "train_seconds": round(seconds, 1),
        "seconds_per_step": round(seconds / max(steps, 1), 2),
        "world_size": group.world,
    }


def load_finetune(_run: Run, done: Path) -> np.ndarray:
    return np.load(done / "test_embeddings.npy")


def build_table1(run: Run, out: Path, _group: Group) -> dict:
    test = image_features(run, "test")
    tuned = run.get("finetune") if phase2_enabled(run.cfg) else None
    table = table1_rows(
        labels=experiment_labels(run),
        space=run.get("labels"),
        models=run.get("train"),
        test=test,
        tuned=tuned,
        seed=run.cfg.devise.seed,
    )
    table.to_csv(out / "table1.csv", index=False)
    return {"test_images": len(test[1])}


# ---------------------------------------------------------------- the first zero-shot
# experiment: seen labels from Caltech-101 itself


def caltech_zero_shot_data(run: Run) -> ZeroShotData:
    """The Caltech experiment's data: a seeded share of the experiment labels held out
    (`splits.py`); training rows of the seen labels, test rows of the unseen ones."""
    cfg, labels = run.cfg, experiment_labels(run)
    seen, unseen = split_seen_unseen(
        labels, cfg.zeroshot.unseen_share, cfg.zeroshot.seed, families(cfg, labels)
    )
    selected = {}
    for part, wanted in (("train", seen), ("test", unseen)):
        chosen = experiment_images(run, part)
        features, _ = image_features(run, part)
        x, y, mask = restrict_to_labels(features, chosen.targets, labels, wanted)
        paths = [i.path for i, m in zip(chosen.images, mask, strict=True) if m]
        selected[part] = (paths, x, y)
    (train_paths, x_train, y_train), (test_paths, x_test, y_test) = selected.values()
    return ZeroShotData(
        seen,
        unseen,
        train_paths,
        x_train,
        y_train,
        test_paths,
        x_test,
        [unseen[t] for t in y_test],
    )


def build_zeroshot_caltech(run: Run, out: Path | None, group: Group) -> dict:
    """The Caltech experiment's models: trained on the seen Caltech labels only."""
    data, space = caltech_zero_shot_data(run), run.get("labels")
    random_space = random_label_space(space, run.cfg.zeroshot.seed)
    vectors = {
        DEVISE: space.subset(data.seen).vectors,
        RANDOM: random_space.subset(data.seen).vectors,
    }
    x, y = data.train_features, data.train_targets
    models, _ = train_three(run, x, y, vectors, group)
    if out is not None:
        save_models(models, out)
    return {"seen": data.seen, "unseen": data.unseen, "train_images": len(y)}


def load_zeroshot_caltech(_run: Run, done: Path) -> dict:
    facts = read_info(done)
    return {"seen": facts["seen"], "unseen": facts["unseen"], **load_models(done)}


def caltech_tables(run: Run, hierarchy):
    """Tables 2 and 3 of the first experiment: seen labels from Caltech-101 itself."""
    from ..devise import embed, logits  # torch: the models are torch modules

    cfg, space = run.cfg, run.get("labels")
    models, data = run.get("zeroshot_caltech"), caltech_zero_shot_data(run)
    random_space = random_label_space(space, cfg.zeroshot.seed)
    scores = logits(models[SOFTMAX], data.test_features)
    seen_vectors = space.subset(data.seen).vectors
    conse = conse_embedding(softmax(scores), seen_vectors, cfg.zeroshot.conse_top_t)
    placed = {
        DEVISE: Placed(embed(models[DEVISE], data.test_features), space),
        RANDOM: Placed(embed(models[RANDOM], data.test_features), random_space),
        conse_name(cfg.zeroshot.conse_top_t): Placed(unit(conse), space),
    }
    sets = hop_sets(data.seen, space.wnids, hierarchy)
    t2, t3 = zero_shot_tables(
        placed, data.test_wnids, sets, (scores, data.seen), hierarchy
    )
    return t2.assign(seen_labels="caltech"), t3.assign(seen_labels="caltech")
