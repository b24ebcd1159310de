"""Chapter 6's views of the zero-shot tables (each selects, pivots or summarises one,
so that a cell only calls and shows), and the first experiment's structural limit."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from importlib import resources

import numpy as np
import pandas as pd

from ..candidates import CANDIDATE_SETS
from ..evaluation import CHANCE, DEVISE_1K
from ..vectors import cosine_scores
from ..zeroshot import FIRST_EXPERIMENT, PAPER_SETTING
from .beside_paper import zero_shot_beside_paper
from .formats import format_share, format_times
from .paper import PAPER_SET_NAMES, paper_candidates
from .zero_shot_test_set import chance_by_set


def experiment_rows(table: pd.DataFrame, seen_labels: str) -> pd.DataFrame:
    """The rows of a zero-shot table of one experiment ("imagenet1k", "caltech")."""
    return table[table["seen_labels"] == seen_labels].reset_index(drop=True)


def models_by_set(
    table2: pd.DataFrame, seen_labels: str = PAPER_SETTING, metric: str = "hit@5"
) -> pd.DataFrame:
    """One metric of Table 2 by candidate set and model, with "<model> x chance"."""
    rows = experiment_rows(table2, seen_labels)
    wide = rows.pivot(index="candidate_set", columns="model", values=metric).reindex(
        index=rows["candidate_set"].unique(), columns=rows["model"].unique()
    )
    if CHANCE in wide.columns:
        for model in [m for m in wide.columns if m != CHANCE]:
            wide[f"{model} x chance"] = wide[model] / wide[CHANCE]
    wide.columns.name, wide.index.name = None, "candidate set"
    return wide


def hits_with_chance(
    table2: pd.DataFrame, seen_labels: str = PAPER_SETTING, metric: str = "hit@5"
) -> pd.DataFrame:
    """`models_by_set` for reading, by model: "18.9% (46.8x)", "–" without photos."""
    wide = models_by_set(table2, seen_labels, metric)
    table = pd.DataFrame(index=wide.index)
    for model in [m for m in wide.columns if not m.endswith(" x chance")]:
        shares = wide[model].map(format_share)
        if f"{model} x chance" in wide:
            times = " (" + wide[f"{model} x chance"].map(format_times) + ")"
            shares = shares.where(wide[model].isna(), shares + times)
        table[model] = shares
    return table.T.rename_axis("model")


ABLATION_SET, ABLATION_METRIC = "2-hop", "hit@5"


def _ablation(rows: pd.DataFrame, table2: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """The ablation's rows on ABLATION_SET, and chance's metric there (Table 2)."""
    here = rows[rows["candidate_set"] == ABLATION_SET]
    # a stage's CSV reads an empty cell as missing: no setting changed
    here = here.assign(setting=here["setting"].fillna(""))
    return here, chance_by_set(table2, ABLATION_METRIC).get(ABLATION_SET, float("nan"))


def view_ablation(ablation: pd.DataFrame, table2: pd.DataFrame) -> pd.DataFrame:
    """What more augmented views buy: the full-seen ablation models by views."""
    metric = ABLATION_METRIC
    here, chance = _ablation(ablation, table2)
    here = here[here["setting"] == ""]
    here = here[here["n_seen"] == here["n_seen"].max()].sort_values("views")
    return pd.DataFrame(
        {
            "model": here["model"].to_numpy(),
            "views": here["views"].to_numpy(),
            "training rows": here["views"].to_numpy() * here["n_seen"].to_numpy(),
            f"{metric} per photo": here[metric].to_numpy(),
            f"{metric} per label": here[f"label_{metric}"].to_numpy(),
            "x chance": here[metric].to_numpy() / chance,
        }
    )


def lever_ablation(ablation: pd.DataFrame, table2: pd.DataFrame) -> pd.DataFrame:
    """The preset's DeViSE-1K, then each with one phase 1 lever changed."""
    metric = ABLATION_METRIC
    here, chance = _ablation(ablation, table2)
    base = here[here["model"] == DEVISE_1K]
    rows = pd.concat([base, here[here["setting"] != ""]])
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


VALIDATION_GROUPS = ("3-hop only", "21k only")


def measured_word_vector_levers() -> pd.DataFrame:
    """The word vector levers as `benchmarks/word_vector_levers.py` measured them."""
    path = resources.files("devise_lite") / "resources" / "word_vector_levers.csv"
    return pd.read_csv(io.StringIO(path.read_text()))


def word_vector_levers(measured: pd.DataFrame) -> pd.DataFrame:
    """Per setting, DeViSE-1K's hit@5 x chance on the validation groups and 2-hop."""
    rows = []
    for setting, group in measured.groupby("setting", sort=False):
        by = group.set_index("group")
        times = by["hit@5"] / by["chance@5"]
        label_times = by["label_hit@5"] / by["chance@5"]
        validation = {
            f"{g} per label, x chance": label_times[g] for g in VALIDATION_GROUPS
        }
        rows.append(
            {
                "setting changed": setting,
                **validation,
                "validation mean, x chance": float(np.mean(list(validation.values()))),
                "2-hop test per photo, x chance": times["2-hop"],
                "2-hop test per label, x chance": label_times["2-hop"],
            }
        )
    return pd.DataFrame(rows)


def drawn_setting(setting: str) -> str:
    """A row's setting without "seed=..." (a seed redraws it); "seed=1": the preset."""
    parts = [part for part in setting.split(", ") if not part.startswith("seed=")]
    return ", ".join(parts) or "the preset"


def chosen_on_validation(
    levers: pd.DataFrame, rule="gloss_fallback=False"
) -> pd.Series:
    """The word-vector setting with the best validation mean over its draws (one run is
    noisy), among the rows of one label rule (`rule` in their names, then left out):
    the rules' candidate sets differ, so their multiples of chance do not compare."""
    rows = levers[levers["setting changed"].str.contains(rule, regex=False)]
    names = rows["setting changed"].map(lambda s: drawn_setting(_without(s, rule)))
    by_setting = rows.drop(columns="setting changed").groupby(names)
    means = by_setting.mean().assign(draws=by_setting.size())
    best = means["validation mean, x chance"].idxmax()
    return pd.concat([pd.Series({"setting changed": best}), means.loc[best]])


def _without(setting: str, part: str) -> str:
    return ", ".join(p for p in setting.split(", ") if p != part) or "the preset"


def draw_spread(levers: pd.DataFrame) -> pd.DataFrame:
    """Each column's min, mean and max over the preset's draws (seed changes only)."""
    draws = levers[levers["setting changed"].map(drawn_setting) == "the preset"]
    numbers = draws.drop(columns="setting changed")
    return numbers.agg(["min", "mean", "max"]).T.assign(draws=len(draws))


def candidate_set_sizes(
    lists: Mapping[str, list[str]], sets: Mapping[str, list[str]], table2: pd.DataFrame
) -> pd.DataFrame:
    """Each candidate set's size: the paper's, the list's, with a vector, and tested."""
    seen = set(lists["seen"])
    ours = experiment_rows(table2, PAPER_SETTING).drop_duplicates("candidate_set")
    scored = ours.set_index("candidate_set")[["n_labels", "n_images"]].to_dict("index")
    rows = []
    for name in CANDIDATE_SETS:
        base, _, plus = name.partition("+")
        paper_name = PAPER_SET_NAMES[name]
        row = {
            "candidate set": name,
            "paper's name": paper_name,
            "paper": paper_candidates(paper_name),
            "published list": len(set(lists[base]) - seen) + (len(seen) if plus else 0),
            "with a vector": len(sets[name]),
        }
        if name in scored:
            row["test labels"] = int(scored[name]["n_labels"])
            row["test photos"] = int(scored[name]["n_images"])
        rows.append(row)
    return pd.DataFrame(rows)


# The columns of `zero_shot_beside_paper` that matter for flat metrics, and for hp.
FLAT_COMPARISON = (
    "candidate set, paper n, ours n, paper DeViSE, paper x chance, ours DeViSE, "
    "ours x chance, ours DeViSE per label, per label x chance"
).split(", ")
HP_COMPARISON = (
    "candidate set, metric, paper DeViSE, paper softmax, ours DeViSE, ours softmax, "
    "ours ConSE, ours chance, ours x chance"
).split(", ")


def paper_comparison(
    table2: pd.DataFrame, table3: pd.DataFrame | None, metrics: Sequence[str]
) -> pd.DataFrame:
    """`zero_shot_beside_paper` for some metrics, with the columns that matter."""
    beside = zero_shot_beside_paper(table2, table3)
    flat = all(m.startswith("hit@") for m in metrics)
    chosen = beside[beside["metric"].isin(metrics)]
    return chosen[FLAT_COMPARISON if flat else HP_COMPARISON].reset_index(drop=True)


def wrong_top1_hops(gallery: pd.DataFrame) -> pd.DataFrame:
    """Figure 2's claim over every photo: per model, wrong top-1s and their hops."""
    rows = []
    for model, mine in gallery.groupby("model", sort=False):
        wrong = mine[~mine["top1_correct"].astype(bool)]
        hops = pd.to_numeric(wrong["top1_hops"], errors="coerce").dropna()
        rows.append(
            {
                "model": model,
                "photos": len(mine),
                "wrong top-1": len(wrong),
                "mean hops": float(hops.mean()),
                "median hops": float(hops.median()),
            }
        )
    return pd.DataFrame(rows).set_index("model")


def seen_count_points(
    curve: pd.DataFrame, table2: pd.DataFrame, caltech_seen: int
) -> pd.DataFrame:
    """The seen-count figure's points: 2-hop hit@5 and x chance per model and n_seen."""
    parts, metric = [], "hit@5"
    caltech = experiment_rows(table2, FIRST_EXPERIMENT).assign(n_seen=caltech_seen)
    for experiment, rows in ((PAPER_SETTING, curve), (FIRST_EXPERIMENT, caltech)):
        rows = rows[rows["candidate_set"] == "2-hop"]
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
    on_curve = points["experiment"] == PAPER_SETTING
    points = points[on_curve | points["model"].isin(set(points.loc[on_curve, "model"]))]
    return points[points["photos"] > 0].reset_index(drop=True)


def seen_count_table(points: pd.DataFrame) -> pd.DataFrame:
    """`seen_count_points`' multiples of chance by (experiment, n_seen) and model."""
    return points.pivot_table(
        index=["experiment", "n_seen"], columns="model", values="x chance", sort=False
    ).rename_axis(columns=None)


def figure2_rows(gallery: pd.DataFrame) -> list[dict]:
    """The gallery's chosen photos for Figure 2: {"image", "true", "top5": {model}}."""
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
    """The `n` candidates that are the top-1 answer for the most photos (and labels)."""
    scores = cosine_scores(points, space.subset(candidates).vectors)
    top1 = np.asarray(candidates, dtype=object)[scores.argmax(1)]
    answers = pd.DataFrame({"top-1 answer": top1, "true": list(true)})
    counted = answers.groupby("top-1 answer")["true"].agg(["size", "nunique"])
    counted.columns = ["photos", "true labels"]
    ranked = counted.sort_values(
        ["photos", "true labels"], ascending=False, kind="stable"
    ).head(n)
    names = dict(zip(space.wnids, space.names, strict=True))
    ranked.insert(0, "label", [names[w] for w in ranked.index])
    return ranked


def share_in_span(rows: np.ndarray, basis: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Each row's share of its squared norm inside the span of `basis`'s rows."""
    rows, basis = np.asarray(rows, np.float64), np.asarray(basis, np.float64)
    _, singular, vt = np.linalg.svd(basis, full_matrices=False)
    directions = vt[singular > tol * singular.max()]
    inside = ((rows @ directions.T) ** 2).sum(axis=1)
    total = (rows**2).sum(axis=1)
    return inside / np.where(total == 0, 1, total)


def spread_in_span(rows: np.ndarray, basis: np.ndarray) -> float:
    """The share of the rows' spread (squared distance to their mean) in `basis`'s span:
    how much of what tells the rows apart a point in that span can see."""
    centred = np.asarray(rows, np.float64) - np.asarray(rows, np.float64).mean(axis=0)
    lengths = (centred**2).sum(axis=1)
    return float((share_in_span(centred, basis) * lengths).sum() / lengths.sum())


def span_summary(cases: Mapping[str, tuple]) -> pd.DataFrame:
    """The first experiment's structural limit: the seen vectors' span and its share."""
    rows = []
    for name, (points, seen_vectors, candidates) in cases.items():
        seen_vectors = np.asarray(seen_vectors)
        rows.append(
            {
                "seen labels": name,
                "n seen": len(seen_vectors),
                "dimensions": seen_vectors.shape[1],
                "span": int(np.linalg.matrix_rank(seen_vectors)),
                "points in span": float(share_in_span(points, seen_vectors).mean()),
                "candidates' spread in span": spread_in_span(candidates, seen_vectors),
            }
        )
    return pd.DataFrame(rows).set_index("seen labels")
