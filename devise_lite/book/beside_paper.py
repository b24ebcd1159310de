"""Our tables beside the paper's (`paper.py`), each with the number that makes the two
comparable.

Raw numbers are not comparable across datasets: our Table 1 ranks a few dozen labels,
the paper's 1,000, and our zero-shot candidate sets are far smaller than the paper's. So
each comparison carries the number that is: DeViSE / softmax for Table 1 (how much the
embedding gives up against the classifier trained on the same photos), and "x chance"
(value / chance) for zero-shot.
"""

from __future__ import annotations

import math

import pandas as pd

from ..evaluation import CHANCE, CONSE, DEVISE, PHASE2, RANDOM, SOFTMAX
from ..zeroshot import PAPER_SETTING
from .formats import is_missing, ratio
from .paper import (
    PAPER_SET_NAMES,
    TABLE1_MODELS,
    paper_candidates,
    paper_chance_hit,
    paper_table1,
    paper_value,
    paper_zero_shot_hit,
    published_ks,
    table1_metrics,
)

# The flat metric that picks ConSE's best temperature on a candidate set.
CONSE_PICK = "hit@5"


def table1_beside_paper(ours: pd.DataFrame) -> pd.DataFrame:
    """Per metric of the paper's Table 1, the paper's 500-d models and ours side by side
    (shares and fractions), and DeViSE / softmax for each: the comparable number."""
    by_model = ours.set_index("model")
    missing = [m for *_, m in TABLE1_MODELS if m not in by_model.index]
    if missing:
        raise ValueError(f"our Table 1 has no row for {', '.join(missing)}")
    rows = []
    for metric in table1_metrics():
        row = {"metric": metric}
        row.update({f"paper {s}": v for s, v in paper_table1(metric).items()})
        for short, *_, our_model in TABLE1_MODELS:
            row[f"ours {short}"] = _cell(by_model, our_model, metric)
            # Phase 2 (fine-tuning) has no column in the paper's Table 1; it sits by
            # our DeViSE when the run has it.
            if our_model == DEVISE and PHASE2 in by_model.index:
                row[f"ours {PHASE2}"] = _cell(by_model, PHASE2, metric)
        row["paper DeViSE / softmax"] = ratio(row["paper DeViSE"], row["paper softmax"])
        row["ours DeViSE / softmax"] = ratio(row["ours DeViSE"], row["ours softmax"])
        rows.append(row)
    return pd.DataFrame(rows)


def table1_halves(beside: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """table1_beside_paper's table in two halves narrow enough for a page: DeViSE and
    the softmax baseline with their ratio, paper then ours; and the other models
    (random embeddings, chance, phase 2 when run), each half with its metric."""
    versus = [
        f"{who} {model}"
        for who in ("paper", "ours")
        for model in ("softmax", "DeViSE", "DeViSE / softmax")
    ]
    others = [c for c in beside.columns if c not in versus and c != "metric"]
    return beside[["metric", *versus]], beside[["metric", *others]]


def _cell(table: pd.DataFrame, model: str, column: str) -> float:
    """table.loc[model, column] as a float; NaN where the column is absent."""
    if column not in table.columns:
        return math.nan
    return float(table.loc[model, column])


def paper_experiment(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of one of our zero-shot tables that are the paper's experiment (1,000
    ILSVRC labels seen); a table without a `seen_labels` column is taken whole."""
    if "seen_labels" not in table.columns:
        return table
    return table[table["seen_labels"] == PAPER_SETTING]


def best_conse(rows: pd.DataFrame, candidate_set: str) -> str | None:
    """The ConSE variant (temperature) with the highest hit@5 on one candidate set of
    our Table 2; None where no ConSE row has a number there."""
    here = rows[
        (rows["candidate_set"] == candidate_set) & rows["model"].str.startswith(CONSE)
    ].dropna(subset=[CONSE_PICK])
    if here.empty:
        return None
    return str(here.loc[here[CONSE_PICK].idxmax(), "model"])


def zero_shot_beside_paper(
    table2: pd.DataFrame, table3: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per candidate set and metric@k, the paper's DeViSE and ours (DeViSE, its random
    control, the best ConSE), each with its chance level and value / chance, "x chance".

    Flat rows (hit@k) come from Table 2, hierarchical ones (hp@k) from Table 3 when it
    is given. Chance for the paper is k / n_candidates (it prints none); ours is our
    chance row. The hp rows add the softmax baseline and DeViSE / softmax, their
    comparable number (the paper's hp has no chance). Our numbers are NaN on a set
    with no photos."""
    experiment = paper_experiment(table2)
    ours2 = _indexed(experiment)
    ours3 = None if table3 is None else _indexed(paper_experiment(table3))
    rows = []
    for our_set, paper_set in PAPER_SET_NAMES.items():
        conse = best_conse(experiment, our_set)
        for k in published_ks(2):
            rows.append(_flat_row(ours2, our_set, paper_set, k, conse))
        if ours3 is not None:
            for k in published_ks(3):
                rows.append(_hp_row(ours2, ours3, our_set, paper_set, k, conse))
    return pd.DataFrame(rows)


def _indexed(table: pd.DataFrame) -> dict[tuple, dict]:
    """A zero-shot table as {(candidate_set, model): row}; each pair must be unique."""
    rows = {}
    for row in table.to_dict("records"):
        key = (row["candidate_set"], row["model"])
        if key in rows:
            raise ValueError(f"{key} appears twice in a zero-shot table")
        rows[key] = row
    return rows


def _lookup(table: dict[tuple, dict], candidate_set: str, model, column: str) -> float:
    """One number of an _indexed table, NaN where any part is absent."""
    value = table.get((candidate_set, model), {}).get(column)
    return math.nan if is_missing(value) else float(value)


def _scored(table2: dict[tuple, dict], candidate_set: str) -> bool:
    """Whether our run had test photos on this candidate set."""
    return _lookup(table2, candidate_set, DEVISE, "n_images") > 0


def _side_by_side(paper_set: str, metric: str, our_set: str) -> dict:
    return {"candidate set": our_set, "paper set": paper_set, "metric": metric}


def _flat_row(ours, our_set: str, paper_set: str, k: int, conse: str | None) -> dict:
    """One hit@k row: the paper's DeViSE, ours, and the best ConSE, over chance."""
    metric = f"hit@{k}"
    paper, paper_chance = paper_zero_shot_hit(our_set, k), paper_chance_hit(our_set, k)
    scored = _scored(ours, our_set)

    def mine(m, column=metric):
        return _lookup(ours, our_set, m, column) if scored else math.nan

    chance = mine(CHANCE)
    return {
        **_side_by_side(paper_set, metric, our_set),
        "paper n": paper_candidates(paper_set),
        "ours n": _lookup(ours, our_set, DEVISE, "n_candidates"),
        "ours photos": _lookup(ours, our_set, DEVISE, "n_images"),
        "paper DeViSE": paper,
        "paper chance": paper_chance,
        "paper x chance": ratio(paper, paper_chance),
        "ours DeViSE": mine(DEVISE),
        "ours random emb.": mine(RANDOM),
        "ours chance": chance,
        "ours x chance": ratio(mine(DEVISE), chance),
        "ours DeViSE per label": mine(DEVISE, f"label_hit@{k}"),
        "per label x chance": ratio(mine(DEVISE, f"label_hit@{k}"), chance),
        "best ConSE": conse,
        "ours ConSE": mine(conse),
        "ConSE x chance": ratio(mine(conse), chance),
    }


def _hp_row(ours2, ours3, our_set, paper_set, k: int, conse: str | None) -> dict:
    """One hp@k row. Table 3 is laid out by test photos: DeViSE-0 ranks the set,
    DeViSE+1K the set plus the 1K (our "+seen" set), the softmax baseline the 1K."""
    metric = f"hp@{k}"
    photos = paper_set.removesuffix("+1K")
    model = "DeViSE+1K" if paper_set.endswith("+1K") else "DeViSE-0"
    paper = paper_value(3, photos, model, metric)
    paper_softmax = paper_value(3, photos, "Softmax baseline", metric)
    scored = _scored(ours2, our_set)

    def mine(m):
        return _lookup(ours3, our_set, m, metric) if scored else math.nan

    chance = mine(CHANCE)
    return {
        **_side_by_side(paper_set, metric, our_set),
        "paper n": paper_candidates(paper_set),
        "ours n": _lookup(ours2, our_set, DEVISE, "n_candidates"),
        "ours photos": _lookup(ours2, our_set, DEVISE, "n_images"),
        "paper DeViSE": paper,
        # The paper prints no chance, and hp's chance is not k / n: left undefined.
        "paper chance": math.nan,
        "paper x chance": math.nan,
        "ours DeViSE": mine(DEVISE),
        "ours random emb.": mine(RANDOM),
        "ours chance": chance,
        "ours x chance": ratio(mine(DEVISE), chance),
        "best ConSE": conse,
        "ours ConSE": mine(conse),
        "ConSE x chance": ratio(mine(conse), chance),
        "paper softmax": paper_softmax,
        "ours softmax": mine(SOFTMAX),
        # hp's comparable number: the softmax baseline is on both sides.
        "paper DeViSE / softmax": ratio(paper, paper_softmax),
        "ours DeViSE / softmax": ratio(mine(DEVISE), mine(SOFTMAX)),
    }


def two_sides(
    table: pd.DataFrame, paper_column: str, ours_column: str, by: str | list[str]
) -> pd.DataFrame:
    """Two columns of a comparison table as "paper" and "ours", indexed by the column
    `by` (several columns: their values joined by spaces, "2-hop hit@5"), as a
    figure of the two sides takes them."""
    by = [by] if isinstance(by, str) else list(by)
    index = table[by].astype(str).agg(" ".join, axis=1).rename(" / ".join(by))
    sides = table[[paper_column, ours_column]].set_axis(["paper", "ours"], axis=1)
    return sides.set_axis(pd.Index(index), axis=0)
