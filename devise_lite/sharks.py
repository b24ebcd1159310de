"""The paper's running example: sharks. What counts as a shark (`shark.n.01` or any
synset below it), the mirror's photos of two of ILSVRC-2012's three shark classes, and
the zero-shot experiment of chapter 6 on them."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .datasets import SHARK_FOLDERS, locate, photos_in
from .evaluation import (
    CHANCE,
    DEVISE,
    DEVISE_1K,
    SOFTMAX,
    conse_name,
    paper_setting_name,
)
from .imagenet1k import ModelSpec, conse_points, seen_columns
from .images import LabelledImage
from .vectors import top_k
from .wordnet import synset_of, wnid_of, wordnet
from .zeroshot import PAPER_SETTING, synset_label

SHARK = "shark.n.01"
GREAT_WHITE_WNID = "n01484850"
TIGER_SHARK_WNID = "n01491361"
HAMMERHEAD_WNID = "n01494475"
# ILSVRC-2012's shark classes; hammerhead.n.03 is the shark (n.01 is a dunce, n.02 the
# striking part of a hammer), which is why labels are synsets, never words.
SHARK_SPECIES = {
    GREAT_WHITE_WNID: "great white shark",
    TIGER_SHARK_WNID: "tiger shark",
    HAMMERHEAD_WNID: "hammerhead",
}


@functools.lru_cache(maxsize=1)
def _sharks() -> frozenset[str]:
    shark = wordnet().synset(SHARK)
    below = shark.closure(lambda s: s.hyponyms() + s.instance_hyponyms())
    return frozenset({wnid_of(shark)} | {wnid_of(s) for s in below})


def is_shark(wnid: str) -> bool:
    """True for shark.n.01 and every synset below it."""
    return wnid in _sharks()


def shark_wnids(vocabulary: Iterable[str], species_only: bool = False) -> list[str]:
    """The sharks of `vocabulary`, in order; `species_only` leaves out shark.n.01."""
    top = wnid_of(wordnet().synset(SHARK))
    return [w for w in vocabulary if is_shark(w) and not (species_only and w == top)]


def shark_photos() -> dict[str, list[LabelledImage]]:
    """The underwater photos of the mirror's two species, keyed by wnid, sorted."""
    root = locate("sharks")
    return {
        species.wnid: [
            LabelledImage(path, species.wnid, species.folder)
            for path in photos_in(root / species.folder)
        ]
        for species in SHARK_FOLDERS
    }


SUMMARY_COLUMNS = (
    "held_out model candidates n_images share_shark_in_top5 top1_most_common "
    "share_shark_top1 share_true_in_top5 n_candidates seen_species note seen_labels"
).split()
TOP5_COLUMNS = (
    "held_out image model candidates rank wnid name synset score is_shark".split()
)


def share_with_member_in_top(ranked_wnids, members: set[str], k: int) -> float:
    """Share of rows whose first k labels include a member of `members`."""
    if len(ranked_wnids) == 0:
        return float("nan")
    return float(np.mean([any(w in members for w in row[:k]) for row in ranked_wnids]))


def chance_share_in_top(n_candidates: int, n_members: int, k: int) -> float:
    """P(a uniformly random k-subset of n candidates holds one of the m members)."""
    none = 1.0
    for i in range(min(k, n_candidates)):
        none *= max(n_candidates - n_members - i, 0) / (n_candidates - i)
    return 1.0 - none


# Which species each direction of the experiment leaves out, by its name in the tables.
DIRECTIONS = {
    "great white shark": (GREAT_WHITE_WNID,),
    "hammerhead": (HAMMERHEAD_WNID,),
    "all three sharks": tuple(SHARK_SPECIES),
}


def without_name(held_out: str) -> str:
    """The name of the DeViSE-1K model trained without `held_out` (a direction)."""
    left_out = "the three sharks" if held_out == "all three sharks" else held_out
    return f"{DEVISE_1K} without {left_out}"


def shark_specs(cfg, seen, photographed) -> list:
    """DeViSE-1K without the species of each direction, and, where one species is left
    out, also with mirror photos of another (`photographed`) among its training rows."""
    seen, specs = tuple(seen), []
    for held_out, left_out in DIRECTIONS.items():
        if not set(left_out) & set(seen):  # no vector: nothing to leave out
            continue
        without = tuple(w for w in seen if w not in left_out)
        specs.append(ModelSpec(without_name(held_out), without, cfg.views))
        for extra in photographed if len(left_out) == 1 else ():
            if extra in without and cfg.shark_extra_photos:
                name = (
                    f"{without_name(held_out)}, + {cfg.shark_extra_photos} "
                    f"{SHARK_SPECIES[extra]} photos"
                )
                more = {"extra_species": extra, "extra_photos": cfg.shark_extra_photos}
                specs.append(ModelSpec(name, without, cfg.views, **more))
                if cfg.shark_views > cfg.views:
                    name += f", {cfg.shark_views} views of the seen sharks"
                    more["shark_views"] = cfg.shark_views
                    specs.append(ModelSpec(name, without, cfg.views, **more))
    return specs


def shark_experiment(space, classifier, models: dict, photos: dict, conse_top_t: int):
    """Per direction, the photos of the left-out species ranked over every unseen label
    ("21k") by DeViSE-1K trained without them (and variants), ConSE and chance, and over
    the seen by the softmax: (summary, top-5 lists); a note if it cannot run."""
    summary, lists = [], []
    for held_out, left_out in DIRECTIONS.items():
        tested = [w for w in left_out if w in photos]
        base = models.get(without_name(held_out))
        if not tested or base is None:
            note = "no photos of this species"
            if missing := [SHARK_SPECIES[w] for w in left_out if w not in space]:
                note = f"no label vector for {', '.join(missing)} in this preset"
            row = {"held_out": held_out, "note": note, "seen_labels": PAPER_SETTING}
            summary += [{**row, "model": m} for m in (DEVISE, CHANCE)]
            continue
        images = [image for w in tested for image in photos[w][0]]
        features = np.concatenate([photos[w][1] for w in tested])
        seen, seen_set = list(base.seen), set(base.seen)
        candidates = [w for w in space.wnids if w not in seen_set]
        vectors = space.subset(candidates).vectors
        logits = classifier.logits(features)
        columns = seen_columns(classifier, seen)
        conse = conse_points(logits, columns, space.subset(seen).vectors, conse_top_t)
        ranked = {
            DEVISE: (base.project(features) @ vectors.T, candidates, "21k"),
            conse_name(conse_top_t): (conse @ vectors.T, candidates, "21k"),
            SOFTMAX: (logits[:, columns], seen, "seen"),
        }
        for variant in models.values():
            if variant.extra_species and tuple(variant.seen) == tuple(seen):
                scores = variant.project(features) @ vectors.T
                ranked[variant.name] = (scores, candidates, "21k")
        base_row = {
            "held_out": held_out,
            "seen_labels": PAPER_SETTING,
            "n_images": len(images),
            "seen_species": ", ".join(
                n for w, n in SHARK_SPECIES.items() if w in seen_set
            ),
        }
        for model, (scores, cands, which) in ranked.items():
            row, top5 = _top5_rows(scores, cands, images, space)
            tags = {"held_out": held_out, "model": model, "candidates": which}
            summary.append({**base_row, **row, **tags})
            lists += [{**r, **tags} for r in top5]
        n, sharks = len(candidates), len(shark_wnids(candidates))
        chance = {
            "n_candidates": n,
            "share_shark_in_top5": chance_share_in_top(n, sharks, 5),
            "share_shark_top1": sharks / n,
            "share_true_in_top5": min(5, n) / n,
        }
        summary.append({**base_row, "model": CHANCE, "candidates": "21k", **chance})
    return (
        pd.DataFrame(summary).reindex(columns=SUMMARY_COLUMNS),
        pd.DataFrame(lists, columns=TOP5_COLUMNS),
    )


def _top5_rows(scores, candidates: list[str], images: list, space):
    """One summary row (shares of the top 5) and the top-5 lists of each photo."""
    best = top_k(scores, min(5, len(candidates)))
    ranked = np.asarray(candidates, dtype=object)[best]
    members = set(shark_wnids(candidates))
    top1 = pd.Series([synset_of(w).name() for w in ranked[:, 0]]).value_counts()
    row = {
        "n_candidates": len(candidates),
        "share_shark_in_top5": share_with_member_in_top(ranked, members, 5),
        "share_shark_top1": share_with_member_in_top(ranked, members, 1),
        "share_true_in_top5": float(
            np.mean([image.wnid in r for image, r in zip(images, ranked, strict=True)])
        ),
        "top1_most_common": f"{top1.index[0]}: {top1.iloc[0]}/{len(ranked)}",
    }
    names = dict(zip(space.wnids, space.names, strict=True))
    lists = [
        {
            "image": str(image.path),
            "rank": r + 1,
            "wnid": w,
            "name": names[w],
            "synset": synset_of(w).name(),
            "score": float(scores[i, best[i, r]]),
            "is_shark": w in members,
        }
        for i, image in enumerate(images)
        for r, w in enumerate(ranked[i])
    ]
    return row, lists


SHARK_TABLE_COLUMNS = [
    "held out",
    "model",
    "training rows",
    "shark in top 5",
    "true species in top 5",
    "shark at top 1",
    "most common top 1",
]


def shark_table(summary, training_rows: dict) -> object:
    """`sharks_zero_shot.csv` as chapter 6 shows it, less directions that did not run;
    DeViSE rows named by what they trained on (`training_rows`: model name -> rows)."""
    ran = summary[summary["note"].isna() | (summary["note"].astype(str) == "")]
    rows = []
    for record in ran.to_dict("records"):
        held_out, model = record["held_out"], record["model"]
        trained = without_name(held_out) if model == DEVISE else model
        shown = paper_setting_name(model)
        if trained.startswith(without_name(held_out) + ", "):  # a variant's name
            shown = DEVISE_1K + trained.removeprefix(without_name(held_out))
        common = record["top1_most_common"]
        if isinstance(common, str) and ": " in common:
            name, count = common.rsplit(": ", 1)
            common = f"{synset_label(name)} ({count.split('/')[0]})"
        rows.append(
            {
                "held out": f"{held_out} ({int(record['n_images'])} photos)",
                "model": shown,
                "training rows": training_rows.get(trained, float("nan")),
                "shark in top 5": record["share_shark_in_top5"],
                "true species in top 5": record["share_true_in_top5"],
                "shark at top 1": record["share_shark_top1"],
                "most common top 1": common,
            }
        )
    table = pd.DataFrame(rows, columns=SHARK_TABLE_COLUMNS)
    return table.astype({"training rows": "Int64"})


def shark_goals(table, bars: dict[str, float]) -> object:
    """Whether each DeViSE-1K row's "shark in top 5" meets each bar (column: share)."""
    mine = table[table["model"].str.startswith(DEVISE)]
    goals = mine[["held out", "model", "shark in top 5"]].reset_index(drop=True)
    for column, share in bars.items():
        reached = goals["shark in top 5"] >= share
        goals[column] = reached.map({True: "yes", False: "no"})
    return goals
