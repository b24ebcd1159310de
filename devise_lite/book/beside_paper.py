"""Our tables beside the paper's (`paper.py`) with what makes them comparable, as raw
numbers are not (we rank far fewer labels): DeViSE / softmax for Table 1 (what the
embedding gives up against a classifier on the same photos), x chance for zero-shot."""

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

CONSE_PICK = "hit@5"


def table1_beside_paper(ours: pd.DataFrame) -> pd.DataFrame:
    """Per Table 1 metric, the paper's 500-d models and ours, and DeViSE / softmax."""
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
            # Phase 2 (fine-tuning), not in the paper's Table 1, sits by our DeViSE.
            if our_model == DEVISE and PHASE2 in by_model.index:
                row[f"ours {PHASE2}"] = _cell(by_model, PHASE2, metric)
        row["paper DeViSE / softmax"] = ratio(row["paper DeViSE"], row["paper softmax"])
        row["ours DeViSE / softmax"] = ratio(row["ours DeViSE"], row["ours softmax"])
        rows.append(row)
    return pd.DataFrame(rows)


def table1_halves(beside: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """table1_beside_paper's table in two halves for a page: DeViSE vs softmax, rest."""
    versus = [
        f"{who} {model}"
        for who in ("paper", "ours")
        for model in ("softmax", "DeViSE", "DeViSE / softmax")
    ]
    others = [c for c in beside.columns if c not in versus and c != "metric"]
    return beside[["metric", *versus]], beside[["metric", *others]]


def _cell(table: pd.DataFrame, model: str, column: str) -> float:
    """table.loc[model, column] as a float; NaN where the column is absent."""
    return float(table.loc[model, column]) if column in table.columns else math.nan


def paper_experiment(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a zero-shot table of the paper's experiment (1,000 labels seen)."""
    if "seen_labels" not in table.columns:
        return table
    return table[table["seen_labels"] == PAPER_SETTING]


def best_conse(rows: pd.DataFrame, candidate_set: str) -> str | None:
    """The ConSE temperature with the best hit@5 on one candidate set, or None."""
    here = rows[
        (rows["candidate_set"] == candidate_set) & rows["model"].str.startswith(CONSE)
    ].dropna(subset=[CONSE_PICK])
    return None if here.empty else str(here.loc[here[CONSE_PICK].idxmax(), "model"])


def zero_shot_beside_paper(
    table2: pd.DataFrame, table3: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per candidate set and metric@k: the paper's DeViSE, ours (DeViSE, random control,
    best ConSE), chance, x chance; hp@k from Table 3 with softmax. NaN: no photos."""
    experiment = paper_experiment(table2)
    ours2 = _indexed(experiment)
    ours3 = None if table3 is None else _indexed(paper_experiment(table3))
    rows = []
    for our_set, paper_set in PAPER_SET_NAMES.items():
        conse = best_conse(experiment, our_set)
        for k in published_ks(2):
            rows.append(_row(ours2, ours2, our_set, paper_set, f"hit@{k}", conse))
        if ours3 is not None:
            for k in published_ks(3):
                rows.append(_row(ours2, ours3, our_set, paper_set, f"hp@{k}", conse))
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


def _row(ours2, ours, our_set: str, paper_set: str, metric: str, conse) -> dict:
    """One metric@k row, our numbers from `ours` (Table 2 for hit, 3 for hp)."""
    flat, k = metric.startswith("hit@"), int(metric.split("@")[1])
    if flat:
        paper = paper_zero_shot_hit(our_set, k)
        paper_chance = paper_chance_hit(our_set, k)
    else:
        # Table 3 is laid out by test photos: DeViSE-0 ranks the set, DeViSE+1K the
        # set plus the 1K (our "+seen" set), the softmax baseline the 1K.
        photos = paper_set.removesuffix("+1K")
        model = "DeViSE+1K" if paper_set.endswith("+1K") else "DeViSE-0"
        paper = paper_value(3, photos, model, metric)
        # The paper prints no chance, and hp's chance is not k / n: left undefined.
        paper_chance = math.nan
    scored = _lookup(ours2, our_set, DEVISE, "n_images") > 0  # test photos to score

    def mine(m, column=metric):
        return _lookup(ours, our_set, m, column) if scored else math.nan

    chance = mine(CHANCE)
    row = {
        "candidate set": our_set,
        "paper set": paper_set,
        "metric": metric,
        "paper n": paper_candidates(paper_set),
        "ours n": _lookup(ours2, our_set, DEVISE, "n_candidates"),
        "ours photos": _lookup(ours2, our_set, DEVISE, "n_images"),
        "paper DeViSE": paper,
        "paper chance": paper_chance,
        "paper x chance": ratio(paper, paper_chance),
        "ours DeViSE": mine(DEVISE),
        "ours random emb.": mine(RANDOM),
        "ours chance": chance,
        "ours x chance": ratio(mine(DEVISE), chance),
    }
    if flat:
        row["ours DeViSE per label"] = mine(DEVISE, f"label_hit@{k}")
        row["per label x chance"] = ratio(row["ours DeViSE per label"], chance)
    row |= {
        "best ConSE": conse,
        "ours ConSE": mine(conse),
        "ConSE x chance": ratio(mine(conse), chance),
    }
    if not flat:
        paper_softmax = paper_value(3, photos, "Softmax baseline", metric)
        row |= {
            "paper softmax": paper_softmax,
            "ours softmax": mine(SOFTMAX),
            # hp's comparable number: the softmax baseline is on both sides.
            "paper DeViSE / softmax": ratio(paper, paper_softmax),
            "ours DeViSE / softmax": ratio(mine(DEVISE), mine(SOFTMAX)),
        }
    return row


def two_sides(
    table: pd.DataFrame, paper_column: str, ours_column: str, by: str | list[str]
) -> pd.DataFrame:
    """Two columns as "paper" and "ours", indexed by `by` ("2-hop hit@5" for two)."""
    by = [by] if isinstance(by, str) else list(by)
    index = table[by].astype(str).agg(" ".join, axis=1).rename(" / ".join(by))
    sides = table[[paper_column, ours_column]].set_axis(["paper", "ours"], axis=1)
    return sides.set_axis(pd.Index(index), axis=0)
