"""The paper's Figure 2 on our photos: each model's top 5 for a few zero-shot test
labels, and each top-1 answer's WordNet hops from the truth: a near miss is better."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .evaluation import DEVISE, SOFTMAX, conse_name
from .hierarchy import hops_to
from .vectors import cosine_scores, top_k
from .wordnet import synset_of

SEEN_ONLY = "{}, seen labels only"  # a model ranking only the seen labels
GALLERY_LABELS = 6  # test labels shown with a photo and each model's top 5


def gallery_labels(test_wnids: Sequence[str], two_hop: Sequence[str], seed: int):
    """`GALLERY_LABELS` of the test labels in the 2-hop set, drawn with `seed`."""
    in_two_hop = sorted(set(test_wnids) & set(two_hop))
    order = np.random.default_rng(seed).permutation(len(in_two_hop))
    return {in_two_hop[i] for i in order[:GALLERY_LABELS]}


def top1_hops(hierarchy, test_wnids: Sequence[str], answers: list) -> dict:
    """{true label: {answer: hops}} of the top-1 `answers`: one walk per true label."""
    answered: dict[str, set[str]] = {}
    for i, true in enumerate(test_wnids):
        answered.setdefault(true, set()).update(top[i][0] for _, _, top in answers)
    return {true: hops_to(hierarchy, true, best) for true, best in answered.items()}


def gallery_table(
    placed: Mapping, test, sets: Mapping, classifier, space, hierarchy, settings
) -> pd.DataFrame:
    """A row per test photo and model: top-1 answer, whether right, hops from the truth;
    a gallery label's first photo's top 5 too. Models: the figure's DeViSE (21K+1K) and
    softmax, and apart, DeViSE on the seen and ConSE (21K+1K; `settings`: T, seed)."""
    two_hop = set(sets["2-hop"])
    seen = [w for w in sets["2-hop+seen"] if w not in two_hop]

    def top5(model: str, cands: list[str]) -> np.ndarray:
        scores = cosine_scores(placed[model].points, space.subset(cands).vectors)
        return np.asarray(cands, dtype=object)[top_k(scores, 5)]

    classes = np.asarray(classifier.wnids, dtype=object)
    conse = conse_name(settings.conse_t)
    answers = [
        (DEVISE, "21k+seen", top5(DEVISE, sets["21k+seen"])),
        (SOFTMAX, "1,000 classes", classes[top_k(classifier.logits(test.features), 5)]),
        (SEEN_ONLY.format(DEVISE), "seen", top5(DEVISE, seen)),
        (conse, "21k+seen", top5(conse, sets["21k+seen"])),
    ]
    shown, done = gallery_labels(test.wnids, sets["2-hop"], settings.seed), set()
    hops = top1_hops(hierarchy, test.wnids, answers)
    names = {wnid: synset_of(wnid).name() for wnid in set(test.wnids)}
    rows = []
    for i, (image, true) in enumerate(zip(test.images, test.wnids, strict=True)):
        first = true in shown and true not in done
        done |= {true} if first else set()
        for model, candidates, top in answers:
            best = top[i][0]
            record = {
                "image": str(image.path),
                "true_wnid": true,
                "true": names[true],
                "model": model,
                "top1_correct": best == true,
                "top1_hops": hops[true].get(best),
                "gallery": first,
                "candidates": candidates,
            }
            if first:
                record["top5"] = ";".join(synset_of(w).name() for w in top[i])
            rows.append(record)
    return pd.DataFrame(rows)
