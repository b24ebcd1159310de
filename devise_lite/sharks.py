"""The paper's running example: sharks. What counts as a shark, and the shark photos.

ILSVRC-2012 has three shark classes (great white, tiger shark, hammerhead); the data
mirror has underwater photos of two of them (`datasets.SHARK_FOLDERS`). "A shark" is
`shark.n.01` or any synset below it in WordNet, decided here once for the label-space
check of chapter 2 and the zero-shot experiment of chapter 6.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from .datasets import IMAGE_SUFFIXES, SHARK_FOLDERS, locate
from .images import LabelledImage

SHARK = "shark.n.01"
GREAT_WHITE, TIGER_SHARK, HAMMERHEAD = "n01484850", "n01491361", "n01494475"
# ILSVRC-2012's shark classes; hammerhead.n.03 is the shark (n.01 is a dunce, n.02 the
# striking part of a hammer), which is why labels are synsets, never words.
SHARK_SPECIES = {
    GREAT_WHITE: "great white shark",
    TIGER_SHARK: "tiger shark",
    HAMMERHEAD: "hammerhead",
}


@functools.lru_cache(maxsize=1)
def _sharks() -> frozenset[str]:
    from .wordnet import wnid_of, wordnet

    shark = wordnet().synset(SHARK)
    below = shark.closure(lambda s: s.hyponyms() + s.instance_hyponyms())
    return frozenset({wnid_of(shark)} | {wnid_of(s) for s in below})


def is_shark(wnid: str) -> bool:
    """True for shark.n.01 and every synset below it."""
    return wnid in _sharks()


def shark_wnids(vocabulary: Iterable[str], species_only: bool = False) -> list[str]:
    """The sharks of `vocabulary`, in its order; `species_only` leaves out shark.n.01."""
    from .wordnet import wnid_of, wordnet

    top = wnid_of(wordnet().synset(SHARK))
    return [w for w in vocabulary if is_shark(w) and not (species_only and w == top)]


def shark_photos() -> dict[str, list[LabelledImage]]:
    """The underwater photos of the mirror's two species, keyed by wnid, sorted."""
    root = locate("sharks")
    photos = {}
    for species in SHARK_FOLDERS:
        folder = root / species.folder
        files = sorted(
            p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
        )
        photos[species.wnid] = [
            LabelledImage(path, species.wnid, species.folder) for path in files
        ]
    return photos


# ---------------------------------------------------------------- the shark experiment

SUMMARY_COLUMNS = [
    "held_out",
    "model",
    "candidates",
    "n_images",
    "share_shark_in_top5",
    "top1_most_common",
    "share_shark_top1",
    "share_true_in_top5",
    "n_candidates",
    "seen_species",
    "note",
    "seen_labels",
]
TOP5_COLUMNS = [
    "held_out",
    "image",
    "model",
    "candidates",
    "rank",
    "wnid",
    "name",
    "synset",
    "score",
    "is_shark",
]


def share_with_member_in_top(ranked_wnids, members: set[str], k: int) -> float:
    """Share of rows whose first k labels include a member of `members`."""
    import numpy as np

    if len(ranked_wnids) == 0:
        return float("nan")
    return float(np.mean([any(w in members for w in row[:k]) for row in ranked_wnids]))


def chance_share_in_top(n_candidates: int, n_members: int, k: int) -> float:
    """P(a uniformly random k-subset of n candidates holds one of the m members)."""
    k = min(k, n_candidates)
    none = 1.0
    for i in range(k):
        none *= max(n_candidates - n_members - i, 0) / (n_candidates - i)
    return 1.0 - none


def shark_experiment(space, classifier, models: dict, photos: dict, conse_top_t: int):
    """The paper's shark story in its own setting: the network saw some shark species,
    never the one shown. For each model trained without a species (`models`: name ->
    a trained DeViSE-1K projection whose name says what it left out), the mirror's
    photos of the left-out species are labelled over every label that is not seen
    ("21k"); ConSE uses the backbone's classifier renormalised over the same seen
    labels, the softmax baseline names seen labels only. Returns (summary, top-5
    lists)."""
    import numpy as np
    import pandas as pd

    from .imagenet1k import DEVISE_1K, conse_points, seen_columns
    from .vectors import cosine_scores, top_k
    from .wordnet import synset_of

    summary, lists = [], []
    for name, model in models.items():
        if model.random_vectors:
            continue
        left_out = [w for w in SHARK_SPECIES if w not in set(model.seen)]
        tested = [w for w in left_out if w in photos]
        if not tested:
            continue
        held_out = (
            "all three sharks"
            if len(left_out) == len(SHARK_SPECIES)
            else SHARK_SPECIES[left_out[0]]
        )
        images = [im for w in tested for im in photos[w][0]]
        features = np.concatenate([photos[w][1] for w in tested])
        truth = np.array([im.wnid for im in images], dtype=object)
        seen = list(model.seen)
        candidates = [w for w in space.wnids if w not in set(seen)]
        sharks = set(shark_wnids(candidates))
        logits = classifier.logits(features)
        columns = seen_columns(classifier, seen)
        points = {"DeViSE": model.project(features)}
        if name.startswith(DEVISE_1K) and model.extra_species is None:
            seen_vectors = space.subset(seen).vectors
            points[f"ConSE (T={conse_top_t})"] = conse_points(
                logits, columns, seen_vectors, conse_top_t
            )
        base = {
            "held_out": held_out,
            "seen_labels": "imagenet1k",
            "seen_species": ", ".join(
                SHARK_SPECIES[w] for w in SHARK_SPECIES if w in set(seen)
            ),
            "n_images": len(images),
            "note": ""
            if model.extra_species is None
            else f"+ {model.rows - len(seen) * model.views} mirror photos of "
            f"the {SHARK_SPECIES[model.extra_species]} in training",
        }
        label = "DeViSE" if model.extra_species is None else name
        ranked_all = {}
        for model_name, where in points.items():
            scores = cosine_scores(where, space.subset(candidates).vectors)
            ranked_all[label if model_name == "DeViSE" else model_name] = (
                scores,
                candidates,
                "21k",
            )
        if model.extra_species is None:
            ranked_all["softmax baseline"] = (logits[:, columns], seen, "seen")
        for model_name, (scores, cands, cands_name) in ranked_all.items():
            idx = top_k(scores, 5)
            ranked = np.asarray(cands, dtype=object)[idx]
            members = sharks if cands_name == "21k" else set(shark_wnids(cands))
            top1 = pd.Series([synset_of(w).name() for w in ranked[:, 0]]).value_counts()
            summary.append(
                {
                    **base,
                    "model": model_name,
                    "candidates": cands_name,
                    "n_candidates": len(cands),
                    "share_shark_in_top5": share_with_member_in_top(ranked, members, 5),
                    "share_shark_top1": share_with_member_in_top(ranked, members, 1),
                    "share_true_in_top5": float(
                        np.mean(
                            [t in row for t, row in zip(truth, ranked, strict=True)]
                        )
                    ),
                    "top1_most_common": f"{top1.index[0]}: {top1.iloc[0]}/{len(ranked)}",
                }
            )
            for i, image in enumerate(images):
                lists += [
                    {
                        "held_out": held_out,
                        "image": str(image.path),
                        "model": model_name,
                        "candidates": cands_name,
                        "rank": r + 1,
                        "wnid": w,
                        "name": space.names[space.index([w])[0]],
                        "synset": synset_of(w).name(),
                        "score": float(scores[i, idx[i, r]]),
                        "is_shark": w in members,
                    }
                    for r, w in enumerate(ranked[i])
                ]
        if model.extra_species is None:
            summary.append(
                {
                    **base,
                    "model": "chance",
                    "candidates": "21k",
                    "n_candidates": len(candidates),
                    "share_shark_in_top5": chance_share_in_top(
                        len(candidates), len(sharks), 5
                    ),
                    "share_shark_top1": len(sharks) / len(candidates),
                    "share_true_in_top5": 5 / len(candidates),
                }
            )
    return (
        pd.DataFrame(summary).reindex(columns=SUMMARY_COLUMNS),
        pd.DataFrame(lists, columns=TOP5_COLUMNS),
    )
