"""Zero-shot evaluation: the paper's Tables 2 and 3, for any seen labels. A model places
each test photo in the label space (`Placed`) and ranks the candidates (`candidates.py`)
by cosine to it; the softmax baseline names seen labels only, so it is in Table 3 only.
Flat hit@k is also averaged per label, so that a few big classes do not carry it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .evaluation import CHANCE, SOFTMAX, chance_row, ranked_candidates, ranked_row
from .hierarchy import Hierarchy
from .metrics import (
    FLAT_KS,
    ZERO_SHOT_HP_KS,
    flat_hit_at_k,
    hierarchical_precision_at_k,
)
from .progress import progress_bar
from .splits import label_families
from .vectors import cosine_scores, top_k
from .wordnet import synset_of

TABLE2_COLUMNS = ["candidate_set", "n_candidates", "n_images", "model"] + [
    f"hit@{k}" for k in FLAT_KS
]
TABLE3_COLUMNS = ["candidate_set", "model"] + [f"hp@{k}" for k in ZERO_SHOT_HP_KS]


@dataclass(frozen=True)
class Placed:
    """A zero-shot model's test photos as points, and the label space it ranks there."""

    points: np.ndarray  # (N, d) unit vectors, one per test photo
    space: object  # a labels.LabelSpace holding every candidate


def restrict_to_labels(
    features: np.ndarray, targets: np.ndarray, labels: list[str], keep: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows labelled in `keep`: features, targets indexing `keep`, the row mask."""
    position = {w: i for i, w in enumerate(keep)}
    wnids = np.asarray(labels, dtype=object)[targets]
    mask = np.array([w in position for w in wnids], dtype=bool)
    kept = np.array([position[w] for w in wnids[mask]], dtype=np.int64)
    return features[mask], kept, mask


def label_hits(ranked: np.ndarray, true: Sequence[str], ks=FLAT_KS) -> pd.DataFrame:
    """Flat hit@k label by label: a row per true label (sorted) and its photo count."""
    true = np.asarray(true, dtype=object)
    rows = []
    for label in sorted(set(true)):
        mine = true == label
        hits = flat_hit_at_k(ranked[mine], true[mine], ks)
        rows.append(
            {"wnid": label, "n_photos": int(mine.sum())}
            | {f"hit@{k}": hits[k] for k in ks}
        )
    return pd.DataFrame(rows, columns=["wnid", "n_photos", *[f"hit@{k}" for k in ks]])


def per_label_hits(ranked: np.ndarray, true: Sequence[str], ks=FLAT_KS) -> dict:
    """Flat hit@k averaged first over each label's photos, then over labels."""
    table = label_hits(ranked, true, ks)
    return {f"label_hit@{k}": float(table[f"hit@{k}"].mean()) for k in ks}


def in_set(wnids: np.ndarray, candidates: Sequence[str]) -> np.ndarray:
    """A mask of the `wnids` in `candidates` (np.isin takes 0.4 s for 4,000 x 21K)."""
    members = set(candidates)
    return np.fromiter((w in members for w in wnids), dtype=bool, count=len(wnids))


RANKED_K = max(*FLAT_KS, *ZERO_SHOT_HP_KS)  # the zero-shot tables read the 20 best


def rank_sets(
    placed: Mapping[str, Placed],
    test_wnids: Sequence[str],
    sets: Mapping[str, list[str]],
    k: int = RANKED_K,
    progress: bool = False,
) -> dict[tuple[str, str], np.ndarray]:
    """{(candidate set, model): `ranked_candidates`, each photo's k best if its label is
    in the set}, once for all tables, by two threads (numpy frees the GIL)."""
    true = np.asarray(test_wnids, dtype=object)
    masks = {name: in_set(true, cands) for name, cands in sets.items()}
    jobs = [(n, m) for n in sets for m in placed if masks[n].any()]

    def rank(job: tuple[str, str]) -> np.ndarray:
        name, model = job
        view, cands = placed[model], sets[name]
        scores = cosine_scores(
            view.points[masks[name]], view.space.subset(cands).vectors
        )
        return ranked_candidates(scores, cands, k)

    with ThreadPoolExecutor(2) as pool:
        ranked = pool.map(rank, jobs)
        bar = progress_bar(ranked, total=len(jobs), desc="rankings", progress=progress)
        return dict(zip(jobs, bar, strict=True))


def zero_shot_label_table(
    placed: Mapping[str, Placed],
    test_wnids: Sequence[str],
    sets: Mapping[str, list[str]],
    ks=FLAT_KS,
    ranked: Mapping[tuple[str, str], np.ndarray] | None = None,
) -> pd.DataFrame:
    """Table 2's hit@k label by label (`label_hits`): a row per set, model and label."""
    if ranked is None:
        ranked = rank_sets(placed, test_wnids, sets, k=max(ks))
    true = np.asarray(test_wnids, dtype=object)
    photos = {name: true[in_set(true, cands)] for name, cands in sets.items()}
    frames = []
    for (name, model), ranking in ranked.items():
        shown = [k for k in ks if k <= len(sets[name])]
        table = label_hits(ranking, photos[name], shown)
        frames.append(table.assign(candidate_set=name, model=model))
    columns = ["candidate_set", "model", "wnid", "n_photos", *[f"hit@{k}" for k in ks]]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True).reindex(columns=columns)


def zero_shot_tables(
    placed: Mapping[str, Placed],
    test_wnids: Sequence[str],
    sets: Mapping[str, list[str]],
    softmax: tuple[np.ndarray, list[str]] | None,
    hierarchy,
    progress: bool = True,
    ranked: Mapping[tuple[str, str], np.ndarray] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(Table 2, Table 3): per candidate set, hit@k (per photo and label) and hp@k of
    each placed model and chance; the softmax's hp@k (`softmax`: (logits, labels))."""
    if ranked is None:
        ranked = rank_sets(placed, test_wnids, sets, progress=progress)
    true = np.asarray(test_wnids, dtype=object)
    models = [*placed, CHANCE] + ([SOFTMAX] if softmax is not None else [])
    rows2, rows3 = [], []
    for name in progress_bar(sets, desc="zero-shot tables", progress=progress):
        cands = sets[name]
        mask = in_set(true, cands)
        head = {
            "candidate_set": name,
            "n_candidates": len(cands),
            "n_images": int(mask.sum()),
            "n_labels": len(set(true[mask])),
        }
        rows = {model: {} for model in models}
        if mask.any():
            photos = list(true[mask])
            for model in placed:
                ranking = ranked[name, model]
                rows[model] = ranked_row(
                    ranking, photos, cands, hierarchy, FLAT_KS, ZERO_SHOT_HP_KS
                ) | per_label_hits(ranking, photos)
            chance = chance_row(photos, cands, hierarchy, FLAT_KS, ZERO_SHOT_HP_KS)
            hits = {f"label_{c}": v for c, v in chance.items() if c.startswith("hit@")}
            rows[CHANCE] = chance | hits
            if softmax is not None:
                # It ranks the seen labels only: its correct sets are drawn from the
                # candidates plus the seen labels, or none of its answers could count.
                logits, seen = softmax
                k_max = min(max(ZERO_SHOT_HP_KS), len(seen))
                top = np.asarray(seen, dtype=object)[top_k(logits[mask], k_max)]
                ks = [k for k in ZERO_SHOT_HP_KS if k <= k_max]
                valid = set(cands) | set(seen)
                hp = hierarchical_precision_at_k(top, photos, hierarchy, valid, ks)
                rows[SOFTMAX] = {f"hp@{k}": v for k, v in hp.items()}
        rows2 += [{**head, "model": m, **r} for m, r in rows.items() if m != SOFTMAX]
        rows3 += [{**head, "model": m, **r} for m, r in rows.items()]
    extra2 = ["n_labels", *[f"label_hit@{k}" for k in FLAT_KS]]
    table2 = pd.DataFrame(rows2).reindex(columns=TABLE2_COLUMNS + extra2)
    extra3 = ["n_candidates", "n_images", "n_labels"]
    table3 = pd.DataFrame(rows3).reindex(columns=TABLE3_COLUMNS + extra3)
    return table2, table3


# Validation without the test: a setting is chosen on the photos of the labels that
# Table 2's 2-hop row does not score, each group ranked in its own candidate set.
LABEL_GROUPS = {"2-hop": "2-hop", "3-hop only": "3-hop", "21k only": "21k"}


def label_groups(test_wnids: Sequence[str], sets: Mapping[str, list[str]]) -> dict:
    """{group: mask over the test photos}: "2-hop" (Table 2's 2-hop test), "3-hop only"
    (3-hop labels beyond it), "21k only" (the rest); a photo in at most one group."""
    two, three, every = (in_set(test_wnids, sets[n]) for n in ("2-hop", "3-hop", "21k"))
    return {"2-hop": two, "3-hop only": three & ~two, "21k only": every & ~three}


@dataclass
class ZeroShotData:
    """The Caltech experiment: training rows of seen labels, test rows of unseen."""

    seen: list[str]
    unseen: list[str]
    train_paths: list[Path]
    train_features: np.ndarray
    train_targets: np.ndarray  # indices into `seen`
    test_paths: list[Path]
    test_features: np.ndarray
    test_wnids: list[str]  # true (unseen) labels


def families(cfg, labels: list[str]) -> list[list[str]]:
    """The label families of the split protocol (`splits.py`); none if uniform."""
    if cfg.zeroshot.family_hops is None:
        return []
    return label_families(labels, Hierarchy.wordnet(), cfg.zeroshot.family_hops)


# The experiments, as the zero-shot tables' `seen_labels` column names them.
PAPER_SETTING = "imagenet1k"  # the paper's: the 1,000 ILSVRC labels seen
FIRST_EXPERIMENT = "caltech"  # the first one: a share of the Caltech-101 labels seen


def test_labels(
    test_wnids: Sequence[str], sets: Mapping[str, list[str]], names=None
) -> pd.DataFrame:
    """The test labels (wnid, photos) and whether each of `names`' sets holds them."""
    names = list(sets) if names is None else list(names)
    counts = pd.Series(list(test_wnids), dtype=object).value_counts()
    members = {name: set(sets[name]) for name in names}
    rows = [
        {"wnid": w, "photos": int(counts[w]), **{n: w in members[n] for n in names}}
        for w in sorted(counts.index)
    ]
    return pd.DataFrame(rows, columns=["wnid", "photos", *names])


def synset_label(name: str) -> str:
    """For display: "big_cat.n.01" -> "big cat", "lamp.n.02" -> "lamp (2)"."""
    lemma, _, number = name.rsplit(".", 2) if name.count(".") >= 2 else (name, "", "")
    text = lemma.replace("_", " ")
    return text if number in ("", "01") else f"{text} ({int(number)})"


def wnid_label(wnid: str) -> str:
    """`synset_label` of the synset a wnid names: one text per synset, where display
    names repeat ("tuna" the prickly pear, "tuna (3)" the fish)."""
    return synset_label(synset_of(wnid).name())
