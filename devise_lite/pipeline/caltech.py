"""The Caltech-101 stages (chapters 4 to 6): phase 1 (DeViSE, its random control, the
softmax baseline), phase 2, Table 1, the first zero-shot experiment. Their torch side,
`table1_models.py`, is imported only where a stage trains or loads a model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..candidates import hop_sets
from ..config import Config
from ..conse import conse_embedding
from ..ddp import Group
from ..evaluation import DEVISE, RANDOM, SOFTMAX, conse_name, ranking_row, table1_rows
from ..hierarchy import Hierarchy
from ..labels import random_label_space
from ..splits import split_seen_unseen
from ..storage import read_info
from ..vectors import softmax, unit
from ..zeroshot import (
    FIRST_EXPERIMENT,
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


def build_train(run: Run, out: Path | None, group: Group) -> dict:
    from ..table1_models import save_models, train_three  # torch

    labels = experiment_labels(run)
    space = run.get("labels").subset(labels)
    random_space = random_label_space(space, run.cfg.devise.seed)
    vectors = {DEVISE: space.vectors, RANDOM: random_space.vectors}
    x, y = image_features(run, "train")
    saved = run.checkpoints("train")
    saved.mkdir(parents=True, exist_ok=True)
    test = image_features(run, "test")
    models, history = train_three(run.cfg, x, y, vectors, group, saved, test)
    if out is not None:
        save_models(models, out)
        history.to_csv(out / "history.csv", index=False)
    return {"train_images": len(y), "labels": len(labels), "world_size": group.world}


def load_train(_run: Run, done: Path) -> dict:
    from ..table1_models import load_models  # torch

    return {**load_models(done), "history": read_csv(done / "history.csv")}


def phase2_enabled(cfg: Config) -> bool:
    return bool(cfg.devise.phase2_epochs) and cfg.devise.phase2_max_steps != 0


def build_finetune(run: Run, out: Path | None, group: Group) -> dict:
    from ..table1_models import phase2_on_photos  # torch

    cfg = run.cfg
    if not phase2_enabled(cfg):
        if out is not None:
            np.save(out / "test_embeddings.npy", np.zeros((0, 0), np.float32))
        return {"skipped": "phase 2 is off in this preset"}
    train, test = experiment_images(run, "train"), experiment_images(run, "test")
    saved = run.checkpoints("finetune")
    saved.mkdir(parents=True, exist_ok=True)
    visual, devise = visual_per_rank(cfg, group), run.get("train")[DEVISE]
    vectors = run.get("labels").subset(train.labels).vectors
    history, embeddings, facts = phase2_on_photos(
        cfg, visual, devise, train, test, vectors, group, saved
    )
    if out is None:
        return {}
    np.save(out / "test_embeddings.npy", embeddings)
    history.to_csv(out / "history.csv", index=False)
    return facts


def load_finetune(_run: Run, done: Path) -> np.ndarray:
    return np.load(done / "test_embeddings.npy")


def build_table1(run: Run, out: Path, _group: Group) -> dict:
    test = image_features(run, "test")
    tuned = run.get("finetune") if phase2_enabled(run.cfg) else None
    labels, space, models = experiment_labels(run), run.get("labels"), run.get("train")
    table = table1_rows(labels, space, models, test, tuned, run.cfg.devise.seed)
    table.to_csv(out / "table1.csv", index=False)
    return {"test_images": len(test[1])}


def build_table1_seeds(run: Run, out: Path, _group: Group) -> dict:
    """Table 1's hit@k and hp@k of DeViSE and its random control, by model and seed."""
    from ..table1_models import word_and_random_scores  # torch

    cfg, labels = run.cfg, experiment_labels(run)
    space = run.get("labels").subset(labels)
    x, y = image_features(run, "train")
    features, targets = image_features(run, "test")
    true, hierarchy = [labels[t] for t in targets], Hierarchy.wordnet()
    rows = []
    for seed in (cfg.devise.seed, *cfg.table1_seeds):
        trained = run.get("train") if seed == cfg.devise.seed else None
        scores = word_and_random_scores(cfg, x, y, space, features, seed, trained)
        for name, s in scores.items():
            row = ranking_row(s, true, labels, hierarchy)
            rows.append({"seed": seed, "model": name, **row})
    pd.DataFrame(rows).to_csv(out / "table1_seeds.csv", index=False)
    return {"seeds": 1 + len(cfg.table1_seeds)}


def caltech_zero_shot_data(run: Run) -> ZeroShotData:
    """The Caltech split: seen labels' training rows, unseen labels' test rows."""
    cfg, labels = run.cfg, experiment_labels(run)
    seen, unseen = split_seen_unseen(
        labels, cfg.zeroshot.unseen_share, cfg.zeroshot.seed, families(cfg, labels)
    )

    def rows(part: str, wanted: list[str]) -> tuple:
        chosen = experiment_images(run, part)
        features, _ = image_features(run, part)
        x, y, mask = restrict_to_labels(features, chosen.targets, labels, wanted)
        return [i.path for i, m in zip(chosen.images, mask, strict=True) if m], x, y

    train, (test_paths, x_test, y_test) = rows("train", seen), rows("test", unseen)
    test_wnids = [unseen[t] for t in y_test]
    return ZeroShotData(seen, unseen, *train, test_paths, x_test, test_wnids)


def build_zeroshot_caltech(run: Run, out: Path | None, group: Group) -> dict:
    """The Caltech experiment's models: trained on the seen Caltech labels only."""
    from ..table1_models import save_models, train_three  # torch

    data, space = caltech_zero_shot_data(run), run.get("labels")
    random_space = random_label_space(space, run.cfg.zeroshot.seed)
    vectors = {
        DEVISE: space.subset(data.seen).vectors,
        RANDOM: random_space.subset(data.seen).vectors,
    }
    x, y = data.train_features, data.train_targets
    models, _ = train_three(run.cfg, x, y, vectors, group)
    if out is not None:
        save_models(models, out)
    return {"seen": data.seen, "unseen": data.unseen, "train_images": len(y)}


def load_zeroshot_caltech(_run: Run, done: Path) -> dict:
    from ..table1_models import load_models  # torch

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
    tables = zero_shot_tables(
        placed, data.test_wnids, sets, (scores, data.seen), hierarchy
    )
    return tuple(table.assign(seen_labels=FIRST_EXPERIMENT) for table in tables)
