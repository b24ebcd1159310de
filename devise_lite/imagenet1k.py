"""The paper's zero-shot setting: the 1,000 ILSVRC-2012 labels, the backbone's own
classes, are the seen ones. DeViSE-1K trains on augmented views of the mirror's one
photo a class; ConSE-1K's softmax is the backbone's classifier renormalised over the
seen labels, which alone is the softmax baseline. All numpy on cached features: fast."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .conse import conse_embedding
from .evaluation import (
    CONSE,
    CONSE_1K,
    DEVISE,
    DEVISE_1K,
    RANDOM_1K,
    SOFTMAX,
    conse_name,
)
from .vectors import softmax, unit
from .zeroshot import PAPER_SETTING, Placed, zero_shot_tables


@dataclass(frozen=True)
class Classifier:
    """The backbone's ImageNet classifier as arrays: logits = features @ W.T + b."""

    weight: np.ndarray  # (1000, feature_dim)
    bias: np.ndarray  # (1000,)
    wnids: list[str]  # the classes, in the classifier's order

    def logits(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(features, np.float32) @ self.weight.T + self.bias


def seen_columns(classifier: Classifier, seen: Sequence[str]) -> np.ndarray:
    """The classifier's columns of the seen labels, in `seen`'s order."""
    column = {w: i for i, w in enumerate(classifier.wnids)}
    if missing := [w for w in seen if w not in column]:
        raise ValueError(
            f"{len(missing)} seen labels are not classifier classes, e.g. {missing[0]}"
        )
    return np.array([column[w] for w in seen], dtype=np.int64)


def seen_probabilities(logits: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The classifier's probabilities renormalised over the seen labels' columns."""
    return softmax(np.asarray(logits)[:, columns])


def conse_points(
    logits: np.ndarray, columns: np.ndarray, seen_vectors: np.ndarray, top_t: int
) -> np.ndarray:
    """ConSE's unit points for the photos: the convex combination of the top-T seen
    labels' vectors, weighted by the renormalised probabilities."""
    probabilities = seen_probabilities(logits, columns)
    return unit(conse_embedding(probabilities, seen_vectors, top_t)).astype(np.float32)


def training_rows(
    views: Sequence[np.ndarray],
    photo_labels: Sequence[str],
    seen: Sequence[str],
    n_views: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(features, indices into `seen`) of seen labels' photos, in `n_views` views."""
    index = {w: i for i, w in enumerate(seen)}
    rows = [p for p, w in enumerate(photo_labels) if w in index]
    if n_views > len(views):
        raise ValueError(f"{n_views} views asked for, {len(views)} extracted")
    x = np.concatenate([np.asarray(views[v][rows]) for v in range(n_views)])
    y = np.tile(np.array([index[photo_labels[p]] for p in rows], np.int64), n_views)
    return x.astype(np.float32, copy=False), y


def seeded_subset(labels: Sequence[str], n: int, seed: int) -> list[str]:
    """`n` labels drawn with `seed`, in order; a larger `n` keeps a smaller's."""
    order = np.random.default_rng(seed).permutation(len(labels))
    keep = set(order[: min(n, len(labels))].tolist())
    return [w for i, w in enumerate(labels) if i in keep]


@dataclass(frozen=True)
class ModelSpec:
    """One DeViSE-1K model of the chapter: which labels it sees and on what rows."""

    name: str
    seen: tuple[str, ...]  # the seen labels it is trained toward
    views: int  # augmented views of each sample photo among its rows
    random_vectors: bool = False  # the random-embedding control
    extra_species: str | None = None  # a shark species whose mirror photos it adds
    extra_photos: int = 0
    shark_views: int = 0  # views of the seen sharks' sample photos, if more than views
    settings: tuple[tuple[str, object], ...] = ()  # phase 1 settings changed from 1K's


def model_specs(cfg, seen: Sequence[str]) -> list[ModelSpec]:
    """DeViSE-1K models of Tables 2 and 3 and ablations (`cfg`: an ImageNetConfig)."""
    seen = tuple(seen)
    specs = [
        ModelSpec(DEVISE_1K, seen, cfg.views),
        ModelSpec(RANDOM_1K, seen, cfg.views, random_vectors=True),
    ]
    for v in cfg.view_ablation:
        if v != cfg.views:
            specs.append(ModelSpec(f"{DEVISE_1K}, {v} view{'s' * (v > 1)}", seen, v))
    for n in cfg.seen_counts:
        if n < len(seen):
            subset = tuple(seeded_subset(seen, n, cfg.seed))
            specs.append(ModelSpec(f"{DEVISE_1K}, {n} seen labels", subset, cfg.views))
    for name, value in cfg.lever_ablation:
        label = f"{DEVISE_1K}, {name}={value}"
        specs.append(ModelSpec(label, seen, cfg.views, settings=((name, value),)))
    return specs


# ILSVRC-2012's training photos (Russakovsky et al. 2015), which trained the backbone
# and its 1,000-way classifier: ConSE-1K and the softmax baseline use them through it.
ILSVRC_TRAIN_PHOTOS = 1_281_167


def setting_table(n_classes: int, n_seen: int, views: int):
    """What each model of the paper's setting learnt, and from how many photos."""
    ilsvrc = ILSVRC_TRAIN_PHOTOS
    rows = [
        ("backbone", "its features (pretrained)", n_classes, ilsvrc, 1),
        (SOFTMAX, "a 1,000-way classifier (pretrained)", n_classes, ilsvrc, 1),
        (CONSE_1K, "nothing: that classifier over the seen labels", n_seen, ilsvrc, 1),
        (DEVISE_1K, "a linear map into the word space (here)", n_seen, n_seen, views),
    ]
    columns = ["model", "what it learnt", "labels", "photos behind it", "views a photo"]
    return pd.DataFrame(rows, columns=columns)


def seen_count_curve(
    models: dict, features, test_wnids, two_hop, classifier, space, top_t: int
) -> pd.DataFrame:
    """2-hop hit@5 by seen count: each of `models` and ConSE over its seen labels."""
    rows = []
    logits = classifier.logits(features)
    for name, model in models.items():
        columns = seen_columns(classifier, model.seen)
        points = conse_points(logits, columns, space.subset(model.seen).vectors, top_t)
        placed = {
            DEVISE: Placed(model.project(features), space),
            conse_name(top_t): Placed(points, space),
        }
        t2, _ = zero_shot_tables(
            placed, test_wnids, {"2-hop": two_hop}, None, None, progress=False
        )
        rows.append(
            t2.assign(n_seen=len(model.seen), source=name, experiment=PAPER_SETTING)
        )
    table = pd.concat(rows, ignore_index=True)
    return table.sort_values(["n_seen", "model"], kind="stable")


def best_zero_shot_model(table2: pd.DataFrame) -> dict:
    """The DeViSE-1K or ConSE-1K row of best 2-hop hit@5 (`predict`'s default model)."""
    rows = table2[
        (table2.seen_labels == PAPER_SETTING)
        & (table2.candidate_set == "2-hop")
        & table2.model.str.startswith((DEVISE, CONSE))
        & ~table2.model.str.contains("random")
    ]
    best = rows.loc[rows["hit@5"].idxmax()]
    return {"best_model": str(best.model), "best_hit@5": float(best["hit@5"])}
