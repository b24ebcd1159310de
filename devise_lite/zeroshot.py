"""Zero-shot evaluation: the paper's Tables 2 and 3, for any seen labels.

A zero-shot model puts a photo somewhere in the label space and ranks candidate labels
that no training photo had (`candidates.py`) by cosine to that point: DeViSE by its
projection, the random-embedding control by its projection onto random vectors, ConSE
by a convex combination of seen label vectors. The softmax baseline can only name seen
labels, so it appears in the hierarchical-precision table only. Each candidate set is
scored on the test photos whose true label lies in it; flat hit@k is reported per photo
and averaged per label (so that a few big classes do not carry it).

Two experiments use it: the paper's (`imagenet1k.py`: the 1,000 ILSVRC labels seen) and
a first, small one on Caltech-101 alone (`pipeline.caltech_zero_shot_data`: a seeded
share of the Caltech labels held out, `splits.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .evaluation import CHANCE, SOFTMAX, chance_row, ranking_row
from .metrics import (
    FLAT_KS,
    ZERO_SHOT_HP_KS,
    flat_hit_at_k,
    hierarchical_precision_at_k,
)
from .vectors import cosine_scores, top_k

TABLE2_COLUMNS = ["candidate_set", "n_candidates", "n_images", "model"] + [
    f"hit@{k}" for k in FLAT_KS
]
TABLE3_COLUMNS = ["candidate_set", "model"] + [f"hp@{k}" for k in ZERO_SHOT_HP_KS]
PER_LABEL_COLUMNS = [f"label_hit@{k}" for k in FLAT_KS]


@dataclass(frozen=True)
class Placed:
    """A zero-shot model's view of the test photos: where it puts each one, and the
    label space whose vectors it ranks (the word space, or random vectors)."""

    points: np.ndarray  # (N, d) unit vectors, one per test photo
    space: object  # a labels.LabelSpace holding every candidate


def restrict_to_labels(
    features: np.ndarray, targets: np.ndarray, labels: list[str], keep: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows whose label (`labels[target]`) is in `keep`: (features, targets as
    indices into `keep`, the boolean row mask)."""
    position = {w: i for i, w in enumerate(keep)}
    wnids = np.asarray(labels, dtype=object)[targets]
    mask = np.array([w in position for w in wnids], dtype=bool)
    kept = np.array([position[w] for w in wnids[mask]], dtype=np.int64)
    return features[mask], kept, mask


def per_label_hits(ranked: np.ndarray, true: Sequence[str], ks=FLAT_KS) -> dict:
    """Flat hit@k averaged first over each label's photos, then over labels."""
    true = np.asarray(true, dtype=object)
    per_label = [
        flat_hit_at_k(ranked[true == label], true[true == label], ks)
        for label in sorted(set(true))
    ]
    return {f"label_hit@{k}": float(np.mean([h[k] for h in per_label])) for k in ks}


def softmax_hp_row(
    seen_logits: np.ndarray,
    true_wnids: Sequence[str],
    seen: list[str],
    valid,
    hierarchy,
    hp_ks=ZERO_SHOT_HP_KS,
) -> dict:
    """Hierarchical precision@k of a classifier that can only rank the seen labels.

    Its answers are scored against correct sets drawn from `valid` (the candidate set
    plus the seen labels): with the seen labels left out, none of its answers could
    ever count."""
    k_max = min(max(hp_ks), len(seen))
    ranked = np.asarray(seen, dtype=object)[top_k(seen_logits, k_max)]
    ks = [k for k in hp_ks if k <= k_max]
    hp = hierarchical_precision_at_k(
        ranked, list(true_wnids), hierarchy, set(valid), ks
    )
    return {f"hp@{k}": v for k, v in hp.items()}


def zero_shot_tables(
    placed: Mapping[str, Placed],
    test_wnids: Sequence[str],
    sets: Mapping[str, list[str]],
    softmax: tuple[np.ndarray, list[str]] | None,
    hierarchy,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(Table 2, Table 3): for each candidate set, flat hit@k (per photo and per label)
    and hierarchical precision@k of every placed model and of chance, and the softmax
    baseline's hp@k (`softmax` = its logits over the seen labels, and those labels)."""
    from .progress import progress_bar

    true = np.asarray(test_wnids, dtype=object)
    rows2, rows3 = [], []
    for name in progress_bar(sets, desc="zero-shot tables", progress=progress):
        cands = sets[name]
        mask = np.isin(true, np.asarray(cands, dtype=object))
        head = {
            "candidate_set": name,
            "n_candidates": len(cands),
            "n_images": int(mask.sum()),
            "n_labels": len(set(true[mask])),
        }
        models = [*placed, CHANCE] + ([SOFTMAX] if softmax is not None else [])
        rows = {model: {} for model in models}
        if mask.any():
            photos = list(true[mask])
            for model, view in placed.items():
                scores = cosine_scores(
                    view.points[mask], view.space.subset(cands).vectors
                )
                rows[model] = ranking_row(
                    scores,
                    photos,
                    cands,
                    hierarchy,
                    flat_ks=FLAT_KS,
                    hp_ks=ZERO_SHOT_HP_KS,
                )
                ranked = np.asarray(cands, dtype=object)[
                    top_k(scores, min(max(FLAT_KS), len(cands)))
                ]
                rows[model].update(per_label_hits(ranked, photos))
            rows[CHANCE] = chance_row(
                photos, cands, hierarchy, flat_ks=FLAT_KS, hp_ks=ZERO_SHOT_HP_KS
            )
            rows[CHANCE].update(
                {
                    f"label_{c}": v
                    for c, v in rows[CHANCE].items()
                    if c.startswith("hit@")
                }
            )
            if softmax is not None:
                logits, seen = softmax
                valid = set(cands) | set(seen)
                rows[SOFTMAX] = softmax_hp_row(
                    logits[mask], photos, seen, valid, hierarchy
                )
        rows2 += [{**head, "model": m, **r} for m, r in rows.items() if m != SOFTMAX]
        rows3 += [{**head, "model": m, **r} for m, r in rows.items()]
    extra2 = ["n_labels", *PER_LABEL_COLUMNS]
    table2 = pd.DataFrame(rows2).reindex(columns=TABLE2_COLUMNS + extra2)
    table3 = pd.DataFrame(rows3).reindex(
        columns=TABLE3_COLUMNS + ["n_candidates", "n_images", "n_labels"]
    )
    return table2, table3


# ---------------------------------------------------------------- the Caltech
# experiment


@dataclass
class ZeroShotData:
    """The Caltech experiment's images: training rows of seen labels, test rows of
    unseen labels."""

    seen: list[str]
    unseen: list[str]
    train_paths: list[Path]
    train_features: np.ndarray
    train_targets: np.ndarray  # indices into `seen`
    test_paths: list[Path]
    test_features: np.ndarray
    test_wnids: list[str]  # true (unseen) labels


def families(cfg, labels: list[str]) -> list[list[str]]:
    """The label families of the split protocol (`splits.py`); none for a uniform
    split."""
    from .hierarchy import Hierarchy
    from .splits import label_families

    if cfg.zeroshot.family_hops is None:
        return []
    return label_families(labels, Hierarchy.wordnet(), cfg.zeroshot.family_hops)


# ---------------------------------------------------------------- the chapter's views
# Chapter 6 reads the zeroshot stage's tables through these: each selects or pivots
# one table, so that a cell only calls and shows.

PAPER_SETTING = "imagenet1k"  # the seen_labels of the paper's setting (1K seen)
FIRST_EXPERIMENT = "caltech"  # the first experiment's: Caltech-101 labels seen


def experiment_rows(table: pd.DataFrame, seen_labels: str) -> pd.DataFrame:
    """The rows of a zero-shot table (2 or 3) of one experiment ("imagenet1k" or
    "caltech"), index reset."""
    return table[table["seen_labels"] == seen_labels].reset_index(drop=True)


def models_by_set(
    table2: pd.DataFrame, seen_labels: str = PAPER_SETTING, metric: str = "hit@5"
) -> pd.DataFrame:
    """One metric of Table 2 as candidate sets (rows, in the table's order) by models
    (columns, in the table's order), with each model's multiple of chance beside it
    ("<model> x chance") when the table has a chance row."""
    rows = experiment_rows(table2, seen_labels)
    wide = rows.pivot(index="candidate_set", columns="model", values=metric)
    wide = wide.reindex(
        index=list(dict.fromkeys(rows["candidate_set"])),
        columns=list(dict.fromkeys(rows["model"])),
    )
    if CHANCE in wide.columns:
        for model in [m for m in wide.columns if m != CHANCE]:
            wide[f"{model} x chance"] = wide[model] / wide[CHANCE]
    wide.columns.name, wide.index.name = None, "candidate set"
    return wide


def hits_with_chance(
    table2: pd.DataFrame, seen_labels: str = PAPER_SETTING, metric: str = "hit@5"
) -> pd.DataFrame:
    """`models_by_set` for reading: one row per model, one column per candidate set,
    each cell the share and its multiple of chance, "18.9% (46.8x)" ("–" on a set
    without photos)."""
    from .paper import format_share, format_times

    wide = models_by_set(table2, seen_labels, metric)
    models = [m for m in wide.columns if not m.endswith(" x chance")]

    def cell(model: str, row: str) -> str:
        value = wide.loc[row, model]
        if pd.isna(value) or f"{model} x chance" not in wide:
            return format_share(value)
        times = wide.loc[row, f"{model} x chance"]
        return f"{format_share(value)} ({format_times(times)})"

    table = pd.DataFrame(
        {model: [cell(model, row) for row in wide.index] for model in models},
        index=wide.index,
    ).T
    table.index.name = "model"
    return table


def synset_label(name: str) -> str:
    """A WordNet synset name as a figure or table shows it: "big_cat.n.01" ->
    "big cat", and the sense number where it is not the first ("lamp.n.02" ->
    "lamp (2)")."""
    lemma, _, number = name.rsplit(".", 2) if name.count(".") >= 2 else (name, "", "")
    text = lemma.replace("_", " ")
    return text if number in ("", "01") else f"{text} ({int(number)})"


def wnid_label(wnid: str) -> str:
    """`synset_label` of the synset a wnid names: one text per synset, where display
    names repeat ("tuna" the prickly pear, "tuna (3)" the fish)."""
    from .wordnet import synset_of

    return synset_label(synset_of(wnid).name())


def view_ablation(
    ablation: pd.DataFrame,
    table2: pd.DataFrame,
    candidate_set: str = "2-hop",
    metric: str = "hit@5",
) -> pd.DataFrame:
    """What more augmented views of the sample photos buy: the models of
    `zero_shot_ablation.csv` trained toward every seen label, by their number of views,
    with `metric` per photo and per label on one candidate set, and chance's multiple
    (chance from Table 2's row of the paper's setting)."""
    here = ablation[ablation["candidate_set"] == candidate_set]
    here = here[here["n_seen"] == here["n_seen"].max()].sort_values("views")
    chance_rows = experiment_rows(table2, PAPER_SETTING)
    chance = chance_rows.loc[
        (chance_rows["candidate_set"] == candidate_set)
        & (chance_rows["model"] == CHANCE),
        metric,
    ]
    chance = float(chance.iloc[0]) if len(chance) else float("nan")
    per_label = f"label_{metric}"
    return pd.DataFrame(
        {
            "model": here["model"].to_numpy(),
            "views": here["views"].to_numpy(),
            "training rows": here["views"].to_numpy() * here["n_seen"].to_numpy(),
            f"{metric} per photo": here[metric].to_numpy(),
            f"{metric} per label": here[per_label].to_numpy(),
            "x chance": here[metric].to_numpy() / chance,
        }
    )


def candidate_set_sizes(
    lists: Mapping[str, list[str]],
    sets: Mapping[str, list[str]],
    table2: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The candidate sets of the paper's setting: the paper's count (Table 2), the
    published list's (the 1K removed from the base list, then added back for "+seen"),
    how many have a label vector (the sets our tables rank) and, from our Table 2 when
    given, how many test labels and photos each set scores."""
    from . import paper
    from .candidates import CANDIDATE_SETS

    seen = set(lists["seen"])
    scored = {}
    if table2 is not None:
        ours = experiment_rows(table2, PAPER_SETTING).drop_duplicates("candidate_set")
        scored = ours.set_index("candidate_set")[["n_labels", "n_images"]].to_dict(
            "index"
        )
    rows = []
    for name in CANDIDATE_SETS:
        base, _, plus = name.partition("+")
        listed = set(lists[base]) - seen
        paper_name = paper.CANDIDATE_SETS[name]
        row = {
            "candidate set": name,
            "paper's name": paper_name,
            "paper": paper.paper_candidates(paper_name),
            "published list": len(listed) + (len(seen) if plus else 0),
            "with a vector": len(sets[name]),
        }
        if name in scored:
            row["test labels"] = int(scored[name]["n_labels"])
            row["test photos"] = int(scored[name]["n_images"])
        rows.append(row)
    return pd.DataFrame(rows)


def test_labels(
    test_wnids: Sequence[str], sets: Mapping[str, list[str]], names=None
) -> pd.DataFrame:
    """The zero-shot test labels: one row per label (sorted by wnid) with its photo
    count and, per candidate set (`names`: all of `sets` by default), whether the
    label is among its candidates, i.e. whether its photos are scored there."""
    names = list(sets) if names is None else list(names)
    counts = pd.Series(list(test_wnids), dtype=object).value_counts()
    members = {name: set(sets[name]) for name in names}
    rows = [
        {"wnid": w, "photos": int(counts[w]), **{n: w in members[n] for n in names}}
        for w in sorted(counts.index)
    ]
    return pd.DataFrame(rows, columns=["wnid", "photos", *names])


FLAT_COMPARISON = [
    "candidate set",
    "paper n",
    "ours n",
    "paper DeViSE",
    "paper x chance",
    "ours DeViSE",
    "ours x chance",
    "ours DeViSE per label",
    "per label x chance",
]
HP_COMPARISON = [
    "candidate set",
    "metric",
    "paper DeViSE",
    "paper softmax",
    "ours DeViSE",
    "ours softmax",
    "ours ConSE",
    "ours chance",
    "ours x chance",
]


def paper_comparison(
    table2: pd.DataFrame,
    table3: pd.DataFrame | None,
    metrics: Sequence[str],
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """`paper.zero_shot_beside_paper` for some metrics only ("hit@5", "hp@20", ...),
    in the candidate sets' order, with the columns that matter for them (by default
    FLAT_COMPARISON for flat metrics, HP_COMPARISON for hierarchical ones)."""
    from .paper import zero_shot_beside_paper

    beside = zero_shot_beside_paper(table2, table3)
    if columns is None:
        flat = all(m.startswith("hit@") for m in metrics)
        columns = FLAT_COMPARISON if flat else HP_COMPARISON
    chosen = beside[beside["metric"].isin(metrics)]
    return chosen[list(columns)].reset_index(drop=True)


def wrong_top1_hops(gallery: pd.DataFrame) -> pd.DataFrame:
    """The claim of the paper's Figure 2, measured over every test photo of
    `zero_shot_gallery.csv`: per model, how many photos its top-1 answer gets wrong,
    and how far in WordNet (hops) those wrong answers lie from the true label (mean
    and median over the wrong answers whose distance is known)."""
    rows = []
    for model, mine in gallery.groupby("model", sort=False):
        wrong = mine[~mine["top1_correct"].astype(bool)]
        hops = pd.to_numeric(wrong["top1_hops"], errors="coerce").dropna()
        rows.append(
            {
                "model": model,
                "photos": len(mine),
                "wrong top-1": len(wrong),
                "mean hops": float(hops.mean()) if len(hops) else float("nan"),
                "median hops": float(hops.median()) if len(hops) else float("nan"),
            }
        )
    return pd.DataFrame(rows).set_index("model")


def seen_count_points(
    curve: pd.DataFrame,
    table2: pd.DataFrame,
    caltech_seen: int,
    metric: str = "hit@5",
) -> pd.DataFrame:
    """The seen-label-count figure's points: per model and number of seen labels,
    `metric` on the 2-hop set and its multiple of chance; the seeded subsets of the
    paper's setting (`zero_shot_seen_count.csv`) and the first experiment's 2-hop row
    (`caltech_seen` Caltech labels seen; its own split and candidates), marked by
    the `experiment` column; only the models of the curve). Rows without photos are left
    out."""
    parts = []
    for experiment, rows, n_seen in (
        (PAPER_SETTING, curve[curve["candidate_set"] == "2-hop"], None),
        (FIRST_EXPERIMENT, experiment_rows(table2, FIRST_EXPERIMENT), caltech_seen),
    ):
        rows = rows[rows["candidate_set"] == "2-hop"]
        if n_seen is not None:
            rows = rows.assign(n_seen=n_seen)
        chance = rows[rows["model"] == CHANCE].set_index("n_seen")[metric]
        for row in rows[rows["model"] != CHANCE].to_dict("records"):
            parts.append(
                {
                    "experiment": experiment,
                    "model": row["model"],
                    "n_seen": int(row["n_seen"]),
                    "n_candidates": int(row["n_candidates"]),
                    "photos": int(row["n_images"]),
                    metric: row[metric],
                    "chance": float(chance[row["n_seen"]]),
                    "x chance": row[metric] / float(chance[row["n_seen"]]),
                }
            )
    points = pd.DataFrame(parts)
    if points.empty:
        return points
    # the first experiment's point for the curve's models only (no random control)
    curve_models = set(points.loc[points["experiment"] == PAPER_SETTING, "model"])
    points = points[
        (points["experiment"] == PAPER_SETTING) | points["model"].isin(curve_models)
    ]
    return points[points["photos"] > 0].reset_index(drop=True)


def seen_count_table(points: pd.DataFrame) -> pd.DataFrame:
    """`seen_count_points` as the figure's numbers: one row per experiment and number of
    seen labels, one column per model, each cell its multiple of chance."""
    table = points.pivot_table(
        index=["experiment", "n_seen"], columns="model", values="x chance", sort=False
    )
    table.columns.name = None
    return table


def share_in_span(rows: np.ndarray, basis: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """For each row, the share of its squared norm inside the span of `basis`'s rows
    (1 inside, 0 orthogonal to it)."""
    rows, basis = np.asarray(rows, np.float64), np.asarray(basis, np.float64)
    _, singular, vt = np.linalg.svd(basis, full_matrices=False)
    directions = vt[singular > tol * singular.max()]
    inside = ((rows @ directions.T) ** 2).sum(axis=1)
    total = (rows**2).sum(axis=1)
    return inside / np.where(total == 0, 1, total)


def spread_in_span(rows: np.ndarray, basis: np.ndarray) -> float:
    """The share of the rows' spread (their squared distances to their mean) that lies
    inside the span of `basis`'s rows: how much of what tells the rows apart a point in
    that span can see."""
    centred = np.asarray(rows, np.float64) - np.asarray(rows, np.float64).mean(axis=0)
    lengths = (centred**2).sum(axis=1)
    return float((share_in_span(centred, basis) * lengths).sum() / lengths.sum())


def span_summary(cases: Mapping[str, tuple]) -> pd.DataFrame:
    """The first experiment's structural limit, measured: per case (name -> (the
    model's points for the test photos, the seen label vectors, the candidate label
    vectors)), how many dimensions the seen vectors span, the mean share of each
    point's squared length inside that span, and the share of the candidates' spread
    inside it (`spread_in_span`)."""
    rows = []
    for name, (points, seen_vectors, candidate_vectors) in cases.items():
        seen_vectors = np.asarray(seen_vectors)
        rows.append(
            {
                "seen labels": name,
                "n seen": len(seen_vectors),
                "dimensions": seen_vectors.shape[1],
                "span": int(np.linalg.matrix_rank(seen_vectors)),
                "points in span": float(share_in_span(points, seen_vectors).mean()),
                "candidates' spread in span": spread_in_span(
                    candidate_vectors, seen_vectors
                ),
            }
        )
    return pd.DataFrame(rows).set_index("seen labels")


def figure2_rows(gallery: pd.DataFrame) -> list[dict]:
    """The photos of the paper's Figure 2 as `zero_shot_gallery.csv` chose them (rows
    with `gallery` True): per photo, its path, its true synset and each model's top 5
    synsets, best first ({"image", "true", "top5": {model: [...]}}), in the file's
    order."""
    chosen = gallery[gallery["gallery"].astype(bool)]
    photos: dict[str, dict] = {}
    for row in chosen.to_dict("records"):
        photo = photos.setdefault(
            row["image"], {"image": row["image"], "true": row["true"], "top5": {}}
        )
        photo["top5"][row["model"]] = str(row["top5"]).split(";")
    return list(photos.values())


def hubs(
    points: np.ndarray, candidates: list[str], space, true: Sequence[str], n: int = 5
) -> pd.DataFrame:
    """The `n` candidates that are the top-1 answer (by cosine to `points`) for the most
    photos: per hub (its wnid the index), its name, its photos and the number of
    different true labels among them."""
    scores = cosine_scores(points, space.subset(candidates).vectors)
    answers = pd.DataFrame(
        {
            "top-1 answer": np.asarray(candidates, dtype=object)[scores.argmax(1)],
            "true": list(true),
        }
    )
    counted = answers.groupby("top-1 answer")["true"].agg(["size", "nunique"])
    counted.columns = ["photos", "true labels"]
    ranked = counted.sort_values(
        ["photos", "true labels"], ascending=False, kind="stable"
    ).head(n)
    names = dict(zip(space.wnids, space.names, strict=True))
    ranked.insert(0, "label", [names[w] for w in ranked.index])
    return ranked
