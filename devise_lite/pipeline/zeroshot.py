"""The zero-shot stages (chapter 6): Tables 2 and 3 in the paper's setting and in the
first experiment, their ablations and figures' data, and the sharks never seen.
The test photos and candidate sets are chosen here once (`zero_shot_photos`,
`zero_shot_sets`); the analyses themselves live with their concepts.
"""

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
    """Every photo of the labelled image set (train and test part alike: none trains the
    1K models) and of the other photo sets (`zeroshot_features`) whose label is not an
    ILSVRC label and has a vector."""
    space, ilsvrc = run.get("labels"), set(imagenet1k_wnids())

    def unseen(images: list) -> list[int]:
        wnids = [image.wnid for image in images]
        return [i for i, w in enumerate(wnids) if w not in ilsvrc and w in space]

    caltech, others = labelled_images(run.cfg), zeroshot_images(run.cfg)
    rows, other_rows = unseen(caltech), unseen(others.images)
    features = np.concatenate(
        [
            np.asarray(run.get("features")[rows]),
            np.asarray(run.get("zeroshot_features")[other_rows]),
        ]
    )
    chosen = [caltech[i] for i in rows] + [others.images[i] for i in other_rows]
    datasets = [Path(run.cfg.images.dataset).name] * len(rows) + [
        others.datasets[i] for i in other_rows
    ]
    return TestPhotos(chosen, features, [im.wnid for im in chosen], datasets)


def zero_shot_sets(run: Run, seen: list[str]) -> dict[str, list[str]]:
    """The six candidate sets of the paper's setting (Tables 2 and 3): the published
    lists restricted to labels with a vector, the seen labels added for "+seen"."""

    def derive():
        lists = standard_lists(run.cfg.imagenet.lists)
        return standard_sets(seen, run.get("labels").wnids, lists)

    return run.once(("zero-shot sets", tuple(seen)), derive)


def placed_1k(run: Run, features: np.ndarray, models: dict) -> dict:
    """Where DeViSE-1K, its random control and ConSE-1K (each T) put photos."""
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


def label_datasets(test: TestPhotos) -> dict[str, str]:
    """{label: the photo sets its test photos come from, joined by "+"}."""
    found: dict[str, set[str]] = {}
    for wnid, dataset in zip(test.wnids, test.datasets, strict=True):
        found.setdefault(wnid, set()).add(dataset)
    return {wnid: "+".join(sorted(sets)) for wnid, sets in found.items()}


def zero_shot_test_labels(run: Run, sets: dict, names=("2-hop", "3-hop", "21k")):
    """The zero-shot test labels (`zeroshot.test_labels`), with their synset names and
    photo sets: photos per label and the candidate sets that score them."""
    test = zero_shot_photos(run)
    table = test_labels(test.wnids, sets, names)
    table.insert(1, "label", [synset_of(w).name() for w in table["wnid"]])
    table.insert(2, "dataset", table["wnid"].map(label_datasets(test)))
    return table.replace({True: "✓", False: ""})


def per_label_results(
    placed: dict, test: TestPhotos, sets: dict, ranked: dict | None = None
) -> pd.DataFrame:
    """`zero_shot_per_label.csv`: Table 2's flat hit@k label by label, for every
    candidate set and placed model (`ranked`: their `rank_sets`, if made already),
    with each label's synset and photo sets."""
    table = zero_shot_label_table(placed, test.wnids, sets, ranked=ranked)
    names = {w: synset_of(w).name() for w in set(test.wnids)}
    table.insert(3, "label", table["wnid"].map(names))
    table.insert(4, "dataset", table["wnid"].map(label_datasets(test)))
    return table


def score_zero_shot(run: Run, points: dict, sets: dict, candidate_set: str):
    """Table 2's row for your own placements of the zero-shot test photos
    (`points`: a name -> unit vectors, one per `zero_shot_photos` row) on one
    candidate set of the paper's setting: flat hit@k per photo and per label."""
    space, test = run.get("labels"), zero_shot_photos(run)
    placed = {name: Placed(p, space) for name, p in points.items()}
    chosen = {candidate_set: sets[candidate_set]}
    table, _ = zero_shot_tables(placed, test.wnids, chosen, None, None, progress=False)
    return table


def span_cases(run: Run) -> dict[str, tuple]:
    """For the span summary of chapter 6: DeViSE's points for the zero-shot test
    photos, the seen label vectors and the 2-hop candidates' vectors, in the first
    experiment (Caltech labels seen) and in the paper's setting (DeViSE-1K)."""
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
    """2-hop ... 21K hit@k of each DeViSE-1K variant trained on word vectors: what more
    views, more seen labels and the paper's other levers (`setting`: the phase 1
    setting changed, else empty) buy; flat hits only (no hierarchy)."""
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
    """`seen_labels.csv`: every label each model saw in training (model, wnid,
    seen_by): the projection's labels, the classifier's, the backbone's."""
    ilsvrc = imagenet1k_wnids()
    groups = [
        (DEVISE_1K, models[DEVISE_1K].seen, "projection"),
        (RANDOM_1K, models[RANDOM_1K].seen, "projection"),
        (CONSE_1K, ilsvrc, "classifier"),
        ("DeViSE (Caltech, Table 1)", table1_labels, "projection"),
        ("DeViSE (Caltech zero-shot)", caltech_seen, "projection"),
        ("every model's backbone", ilsvrc, "backbone"),
    ]
    rows = [
        {"model": m, "wnid": w, "seen_by": by} for m, wnids, by in groups for w in wnids
    ]
    return pd.DataFrame(rows)


def build_zeroshot(run: Run, out: Path, _group: Group) -> dict:
    cfg, space, sample = run.cfg, run.get("labels"), run.get("sample_features")
    models = run.get("imagenet1k")
    seen = models[DEVISE_1K].seen
    lists = standard_lists(cfg.imagenet.lists)
    sets = zero_shot_sets(run, seen)
    test = zero_shot_photos(run)
    hierarchy = Hierarchy.wordnet()
    logits = sample.classifier.logits(test.features)
    softmax = (logits[:, seen_columns(sample.classifier, seen)], seen)
    placed = placed_1k(run, test.features, models)
    ranked = rank_sets(placed, test.wnids, sets, progress=True)  # read twice below
    table2, table3 = zero_shot_tables(
        placed, test.wnids, sets, softmax, hierarchy, ranked=ranked
    )
    caltech2, caltech3 = caltech_tables(run, hierarchy)
    table2 = pd.concat(
        [table2.assign(seen_labels=PAPER_SETTING), caltech2], ignore_index=True
    )
    table3 = pd.concat(
        [table3.assign(seen_labels=PAPER_SETTING), caltech3], ignore_index=True
    )
    table2.to_csv(out / "table2_zero_shot.csv", index=False)
    table3.to_csv(out / "table3_zero_shot_hp.csv", index=False)
    ablation_table(models, test, sets, space).to_csv(
        out / "zero_shot_ablation.csv", index=False
    )
    curve_models = {
        name: m
        for name, m in models.items()
        if not m.random_vectors
        and m.views == cfg.imagenet.views
        and m.extra_species is None
        and not m.settings
    }
    curve = seen_count_curve(
        curve_models,
        test.features,
        test.wnids,
        sets["2-hop"],
        sample.classifier,
        space,
        cfg.imagenet.conse_t,
    )
    curve.to_csv(out / "zero_shot_seen_count.csv", index=False)
    gallery_table(
        placed, test, sets, sample.classifier, space, hierarchy, cfg.imagenet
    ).to_csv(out / "zero_shot_gallery.csv", index=False)
    candidate_set_rows(lists).to_csv(out / "candidate_sets_imagenet1k.csv", index=False)
    hop_rule_table(lists, space).to_csv(out / "hop_rules.csv", index=False)
    caltech_seen = run.get("zeroshot_caltech")["seen"]
    seen_labels_table(models, experiment_labels(run), caltech_seen).to_csv(
        out / "seen_labels.csv", index=False
    )
    per_label_results(placed, test, sets, ranked).to_csv(
        out / "zero_shot_per_label.csv", index=False
    )
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
