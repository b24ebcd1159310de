"""Chapter 6's views of the zero-shot tables: each selects, pivots or summarises one
table the zeroshot stages wrote (Tables 2 and 3, the ablations, the gallery), so that a
cell only calls and shows; and the first experiment's structural limit, measured (how
much of the label space the seen labels' vectors span, `span_summary`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..candidates import CANDIDATE_SETS
from ..evaluation import CHANCE, DEVISE_1K
from ..vectors import cosine_scores
from ..zeroshot import FIRST_EXPERIMENT, PAPER_SETTING
from .beside_paper import zero_shot_beside_paper
from .formats import format_share, format_times
from .paper import PAPER_SET_NAMES, paper_candidates


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
    # a stage's CSV reads an empty cell as missing: no setting changed
    setting = ablation["setting"].fillna("")
    here = ablation[(ablation["candidate_set"] == candidate_set) & (setting == "")]
    here = here[here["n_seen"] == here["n_seen"].max()].sort_values("views")
    chance = _chance(table2, candidate_set, metric)
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


def _chance(table2: pd.DataFrame, candidate_set: str, metric: str) -> float:
    """Chance's `metric` on one candidate set of the paper's setting (Table 2)."""
    rows = experiment_rows(table2, PAPER_SETTING)
    chance = rows.loc[
        (rows["candidate_set"] == candidate_set) & (rows["model"] == CHANCE), metric
    ]
    return float(chance.iloc[0]) if len(chance) else float("nan")


def lever_ablation(
    ablation: pd.DataFrame,
    table2: pd.DataFrame,
    candidate_set: str = "2-hop",
    metric: str = "hit@5",
) -> pd.DataFrame:
    """The paper's other levers, each changed alone: DeViSE-1K as the preset trains it,
    then each model of `zero_shot_ablation.csv` with one phase 1 setting changed, with
    `metric` per photo and per label on one candidate set, chance's multiple, and the
    change against DeViSE-1K (in points of `metric` per photo)."""
    here = ablation[ablation["candidate_set"] == candidate_set].assign(
        setting=lambda t: t["setting"].fillna("")  # an empty cell reads as missing
    )
    base = here[here["model"] == DEVISE_1K]
    rows = pd.concat([base, here[here["setting"] != ""]])
    chance = _chance(table2, candidate_set, metric)
    return pd.DataFrame(
        {
            "model": rows["model"].to_numpy(),
            "setting changed": [s or "none (the preset)" for s in rows["setting"]],
            f"{metric} per photo": rows[metric].to_numpy(),
            f"{metric} per label": rows[f"label_{metric}"].to_numpy(),
            "x chance": rows[metric].to_numpy() / chance,
            "change (points)": 100 * (rows[metric].to_numpy() - base[metric].iloc[0]),
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
        paper_name = PAPER_SET_NAMES[name]
        row = {
            "candidate set": name,
            "paper's name": paper_name,
            "paper": paper_candidates(paper_name),
            "published list": len(listed) + (len(seen) if plus else 0),
            "with a vector": len(sets[name]),
        }
        if name in scored:
            row["test labels"] = int(scored[name]["n_labels"])
            row["test photos"] = int(scored[name]["n_images"])
        rows.append(row)
    return pd.DataFrame(rows)


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
    """`zero_shot_beside_paper` for some metrics only ("hit@5", "hp@20", ...), in the
    candidate sets' order, with the columns that matter for them (by default
    FLAT_COMPARISON for flat metrics, HP_COMPARISON for hierarchical ones)."""
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
