"""The zero-shot stages (chapter 6): Tables 2 and 3, their ablations and figures' data,
and the sharks never seen. The test photos and candidate sets are chosen here once
(`zero_shot_photos`, `zero_shot_sets`); the analyses live with their concepts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..candidates import (
    candidate_set_rows,
    hop_rule_table,
    hop_sets,
    standard_lists,
    standard_sets,
)
from ..ddp import Group
from ..evaluation import CONSE_1K, DEVISE, DEVISE_1K, RANDOM, RANDOM_1K, conse_name
from ..gallery import gallery_table
from ..hierarchy import Hierarchy
from ..imagenet1k import (
    best_zero_shot_model,
    conse_points,
    seen_columns,
    seen_count_curve,
)
from ..labels import random_label_space
from ..sharks import shark_experiment
from ..wnids import imagenet1k_wnids
from ..wordnet import synset_of
from ..zeroshot import (
    PAPER_SETTING,
    Placed,
    rank_sets,
    test_labels,
    zero_shot_label_table,
    zero_shot_tables,
)
from .cache import Run
from .caltech import caltech_tables, caltech_zero_shot_data
from .features import (
    experiment_labels,
    labelled_images,
    shark_features,
    zeroshot_images,
)
from .imagenet1k import seen_1k

ZERO_SHOT_RESULTS = (
    "table2_zero_shot.csv",
    "table3_zero_shot_hp.csv",
    "candidate_sets_imagenet1k.csv",
    "seen_labels.csv",
    "zero_shot_ablation.csv",
    "zero_shot_seen_count.csv",
    "zero_shot_gallery.csv",
    "hop_rules.csv",
    "zero_shot_per_label.csv",
)


@dataclass(frozen=True)
class TestPhotos:
    """Photos of labels no model of the paper's setting saw: the zero-shot test set."""

    images: list  # LabelledImage
    features: np.ndarray
    wnids: list[str]
    datasets: list[str]  # the photo set each photo comes from


def zero_shot_photos(run: Run) -> TestPhotos:
    """Every photo of the labelled image set (both parts: none trains the 1K models)
    and of the other photo sets whose label is not an ILSVRC label and has a vector."""
    space, ilsvrc = run.get("labels"), set(imagenet1k_wnids())

    def unseen(images: list) -> list[int]:
        wnids = [image.wnid for image in images]
        return [i for i, w in enumerate(wnids) if w not in ilsvrc and w in space]

    caltech, others = labelled_images(run.cfg), zeroshot_images(run.cfg)
    rows, other_rows = unseen(caltech), unseen(others.images)
    caltech_features = np.asarray(run.get("features")[rows])
    other_features = np.asarray(run.get("zeroshot_features")[other_rows])
    features = np.concatenate([caltech_features, other_features])
    chosen = [caltech[i] for i in rows] + [others.images[i] for i in other_rows]
    datasets = [Path(run.cfg.images.dataset).name] * len(rows) + [
        others.datasets[i] for i in other_rows
    ]
    return TestPhotos(chosen, features, [im.wnid for im in chosen], datasets)


def zero_shot_sets(run: Run, seen: list[str] | None = None) -> dict[str, list[str]]:
    """The paper's six candidate sets (Tables 2, 3) around `seen` (default `seen_1k`):
    the published lists, restricted to labels with a vector; "+seen" adds the seen."""
    seen = seen_1k(run) if seen is None else seen

    def derive():
        lists = standard_lists(run.cfg.imagenet.lists)
        return standard_sets(seen, run.get("labels").wnids, lists)

    return run.once(("zero-shot sets", tuple(seen)), derive)


def placed_1k(run: Run, features: np.ndarray, models: dict | None = None) -> dict:
    """Where DeViSE-1K, its random control and ConSE-1K (each T) put photos."""
    models = models or run.get("imagenet1k")
    cfg, space, sample = run.cfg, run.get("labels"), run.get("sample_features")
    seen = models[DEVISE_1K].seen
    random_space = random_label_space(space, cfg.imagenet.seed)
    placed = {
        DEVISE: Placed(models[DEVISE_1K].project(features), space),
        RANDOM: Placed(models[RANDOM_1K].project(features), random_space),
    }
    logits = sample.classifier.logits(features)
    columns = seen_columns(sample.classifier, seen)
    seen_vectors = space.subset(seen).vectors
    for top_t in cfg.imagenet.conse_top_t:
        points = conse_points(logits, columns, seen_vectors, top_t)
        placed[conse_name(top_t)] = Placed(points, space)
    return placed


def with_names(table: pd.DataFrame, test: TestPhotos, column: int) -> pd.DataFrame:
    """`table` with each label's synset name and its test photos' sets, at `column`."""
    found: dict[str, set[str]] = {}
    for wnid, dataset in zip(test.wnids, test.datasets, strict=True):
        found.setdefault(wnid, set()).add(dataset)
    names = {w: synset_of(w).name() for w in found}
    table.insert(column, "label", table["wnid"].map(names))
    datasets = {wnid: "+".join(sorted(sets)) for wnid, sets in found.items()}
    table.insert(column + 1, "dataset", table["wnid"].map(datasets))
    return table


def zero_shot_test_labels(run: Run, names=("2-hop", "3-hop", "21k")):
    """The test labels (`zeroshot.test_labels`) with their names and photo sets."""
    sets, test = zero_shot_sets(run), zero_shot_photos(run)
    table = with_names(test_labels(test.wnids, sets, names), test, 1)
    return table.replace({True: "✓", False: ""})


def score_zero_shot(run: Run, points: dict, candidate_set: str = "2-hop"):
    """Table 2's hit@k on one candidate set for your own `points` (name -> rows)."""
    sets, space, test = zero_shot_sets(run), run.get("labels"), zero_shot_photos(run)
    placed = {name: Placed(p, space) for name, p in points.items()}
    chosen = {candidate_set: sets[candidate_set]}
    table, _ = zero_shot_tables(placed, test.wnids, chosen, None, None, progress=False)
    return table


def span_cases(run: Run) -> dict[str, tuple]:
    """For chapter 6's span summary, in the first experiment and the paper's setting:
    DeViSE's test points, the seen label vectors and the 2-hop candidates' vectors."""
    from ..devise import embed  # torch: the Caltech models are torch modules

    space = run.get("labels")
    data, caltech = caltech_zero_shot_data(run), run.get("zeroshot_caltech")
    two_hop = hop_sets(data.seen, space.wnids, Hierarchy.wordnet())["2-hop"]
    test, model = zero_shot_photos(run), run.get("imagenet1k")[DEVISE_1K]
    return {
        "Caltech (first experiment)": (
            embed(caltech[DEVISE], data.test_features),
            space.subset(data.seen).vectors,
            space.subset(two_hop).vectors,
        ),
        "ILSVRC (paper's setting)": (
            model.project(test.features),
            space.subset(model.seen).vectors,
            space.subset(zero_shot_sets(run, model.seen)["2-hop"]).vectors,
        ),
    }


def ablation_table(models: dict, test: TestPhotos, sets: dict, space) -> pd.DataFrame:
    """What more views, seen labels and phase 1 settings buy DeViSE-1K (flat hit@k)."""
    rows = []
    for name, model in models.items():
        if name == DEVISE_1K or not model.random_vectors:
            view = {DEVISE: Placed(model.project(test.features), space)}
            t2, _ = zero_shot_tables(view, test.wnids, sets, None, None, progress=False)
            rows.append(
                t2[t2.model == DEVISE].assign(
                    model=name,
                    views=model.views,
                    n_seen=len(model.seen),
                    setting=", ".join(f"{k}={v}" for k, v in model.settings.items()),
                )
            )
    return pd.concat(rows)


def seen_labels_table(models: dict, table1_labels: list, caltech_seen: list):
    """`seen_labels.csv`: every label each model saw in training, and through what."""
    ilsvrc = imagenet1k_wnids()
    groups = [
        (DEVISE_1K, models[DEVISE_1K].seen, "projection"),
        (RANDOM_1K, models[RANDOM_1K].seen, "projection"),
        (CONSE_1K, ilsvrc, "classifier"),
        ("DeViSE (Caltech, Table 1)", table1_labels, "projection"),
        ("DeViSE (Caltech zero-shot)", caltech_seen, "projection"),
        ("every model's backbone", ilsvrc, "backbone"),
    ]
    return pd.DataFrame(
        {"model": m, "wnid": w, "seen_by": by} for m, wnids, by in groups for w in wnids
    )


def build_zeroshot(run: Run, out: Path, _group: Group) -> dict:
    cfg, space, sample = run.cfg, run.get("labels"), run.get("sample_features")
    models = run.get("imagenet1k")
    seen = models[DEVISE_1K].seen
    lists = standard_lists(cfg.imagenet.lists)
    sets, test = zero_shot_sets(run, seen), zero_shot_photos(run)
    hierarchy = Hierarchy.wordnet()
    logits = sample.classifier.logits(test.features)
    softmax = (logits[:, seen_columns(sample.classifier, seen)], seen)
    placed = placed_1k(run, test.features, models)
    ranked = rank_sets(placed, test.wnids, sets, progress=True)  # read twice below
    paper = zero_shot_tables(
        placed, test.wnids, sets, softmax, hierarchy, ranked=ranked
    )
    table2, table3 = (
        pd.concat([ours.assign(seen_labels=PAPER_SETTING), first], ignore_index=True)
        for ours, first in zip(paper, caltech_tables(run, hierarchy), strict=True)
    )
    curve_models = {
        name: m
        for name, m in models.items()
        if not m.random_vectors
        and m.views == cfg.imagenet.views
        and m.extra_species is None
        and not m.settings
    }
    caltech_seen = run.get("zeroshot_caltech")["seen"]
    tables = {
        "table2_zero_shot": table2,
        "table3_zero_shot_hp": table3,
        "zero_shot_ablation": ablation_table(models, test, sets, space),
        "zero_shot_seen_count": seen_count_curve(
            curve_models,
            test.features,
            test.wnids,
            sets["2-hop"],
            sample.classifier,
            space,
            cfg.imagenet.conse_t,
        ),
        "zero_shot_gallery": gallery_table(
            placed, test, sets, sample.classifier, space, hierarchy, cfg.imagenet
        ),
        "candidate_sets_imagenet1k": candidate_set_rows(lists),
        "hop_rules": hop_rule_table(lists, space),
        "seen_labels": seen_labels_table(models, experiment_labels(run), caltech_seen),
        # Table 2's flat hit@k label by label, for every candidate set and model
        "zero_shot_per_label": with_names(
            zero_shot_label_table(placed, test.wnids, sets, ranked=ranked), test, 3
        ),
    }
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False)
    best = best_zero_shot_model(table2)
    (out / "best_model.json").write_text(json.dumps(best))
    sets_order = dict.fromkeys(test.datasets)  # Caltech-101 first, then the others
    return {
        "test_photos": len(test.wnids),
        "test_photos_by_dataset": {d: test.datasets.count(d) for d in sets_order},
        "test_labels": len(set(test.wnids)),
        "seen": len(seen),
        **best,
    }


def build_zeroshot_sharks(run: Run, out: Path, _group: Group) -> dict:
    summary, top5 = shark_experiment(
        space=run.get("labels"),
        classifier=run.get("sample_features").classifier,
        models=run.get("shark_models"),
        photos=shark_features(run),
        conse_top_t=run.cfg.imagenet.conse_t,
    )
    summary.to_csv(out / "sharks_zero_shot.csv", index=False)
    top5.to_csv(out / "sharks_zero_shot_top5.csv", index=False)
    return {"directions": int(summary["held_out"].nunique())}
