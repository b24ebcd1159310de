"""The claims of chapters 1, 2 and 5 (word vectors, label space, Table 1), each with
its test and the paper's side; `claims.py` judges them with chapter 6's."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from .beside_paper import table1_beside_paper
from .findings import (
    Claim,
    Finding,
    NotTestable,
    Results,
    Side,
    defined,
    defined_pairs,
    pairs_side,
    versus,
)
from .formats import format_fraction, format_ratio, format_share, ratio
from .paper import paper_table1, table1_metrics

# The tests' thresholds. Targets the book set itself, where the paper states no number.
WORDSIM_TARGET = 0.6  # Spearman on WordSim-353
GLOVE = "GloVe 6B 50-d"  # the reference row of the similarity table
SHARK_NEIGHBOURS = 9  # nearest labels looked at per shark species
SHARK_NEIGHBOUR_SHARE = 0.7  # mean share of sharks among them
FLAT_METRIC = "hit@5"  # Table 1's flat comparison
FLAT_RATIO = 0.95  # DeViSE / softmax at least this: "matches state of the art"
HP_METRIC = "hp@20"  # Table 1's hierarchical comparison (the largest k)
CONTROL_MIN_K = 5  # the random control is compared on hp@k for k >= this


def word_similarity(results: Results) -> Finding:
    """Our word vectors' Spearman on WordSim-353 reaches the book's target."""
    table = results.similarity
    if table is None:
        raise NotTestable("no similarity table")
    ws = table[table["dataset"] == "WordSim-353"]
    ours = ws[ws["model"] != GLOVE]
    if ours["model"].nunique() > 1:
        raise ValueError(f"several models besides {GLOVE}: {set(ours['model'])}")
    if ours.empty or not defined(float(ours["spearman"].iloc[0])):
        raise NotTestable("no WordSim-353 score for our vectors")
    value = float(ours["spearman"].iloc[0])
    glove = ws.loc[ws["model"] == GLOVE, "spearman"]
    reference = float(glove.iloc[0]) if len(glove) else math.nan
    beside = f" ({GLOVE} {reference:.3f})" if defined(reference) else ""
    return Finding(
        value >= WORDSIM_TARGET,
        Side(f"{value:.3f}{beside}", format_ratio(ratio(value, reference))),
    )


def shark_neighbours(results: Results) -> Finding:
    """The mean share of sharks among each shark species' nearest labels."""
    table = results.shark_neighbours
    if table is None or table.empty:
        raise NotTestable("no shark neighbours")
    near = table[table["rank"] <= SHARK_NEIGHBOURS]
    sharks = near.groupby("query_wnid")["is_shark"]
    share, full = sharks.mean(), int((sharks.sum() == SHARK_NEIGHBOURS).sum())
    return Finding(
        float(share.mean()) >= SHARK_NEIGHBOUR_SHARE,
        Side(
            f"{share.mean():.2f} over {len(share)} species "
            f"({full} with {SHARK_NEIGHBOURS} of {SHARK_NEIGHBOURS})"
        ),
    )


def _table1(results: Results) -> pd.DataFrame:
    """Our Table 1 beside the paper's, indexed by metric."""
    if results.table1 is None:
        raise NotTestable("no Table 1")
    return table1_beside_paper(results.table1).set_index("metric")


def _versus_softmax(metric: str, devise: float, softmax: float) -> Side:
    """DeViSE vs the softmax baseline on one metric, and their ratio."""
    fmt = format_fraction if metric.startswith("hp@") else format_share
    return Side(versus(devise, softmax, fmt), format_ratio(ratio(devise, softmax)))


def table1_paper(metric: str) -> Side:
    """The paper's DeViSE (500-d) vs softmax baseline on one Table 1 metric."""
    row = paper_table1(metric)
    return _versus_softmax(metric, row["DeViSE"], row["softmax"])


def table1_versus_softmax(metric: str, test: Callable[[float, float], bool]):
    """A check of DeViSE against softmax on one metric: `test(devise, softmax)`."""

    def check(results: Results) -> Finding:
        devise, softmax = _table1(results).loc[metric, ["ours DeViSE", "ours softmax"]]
        if not defined(devise, softmax):
            raise NotTestable(f"{metric} undefined in this run")
        side = _versus_softmax(metric, devise, softmax)
        return Finding(bool(test(devise, softmax)), side)

    return check


def _control_metrics() -> list[str]:
    hp = [m for m in table1_metrics() if m.startswith("hp@")]
    return [m for m in hp if int(m.split("@")[1]) >= CONTROL_MIN_K]


def control_paper() -> Side:
    """The paper's DeViSE vs its random-embedding control on hp@k, k >= 5."""
    rows = {m: paper_table1(m) for m in _control_metrics()}
    return pairs_side({m: (r["DeViSE"], r["random emb."]) for m, r in rows.items()})


def random_control(results: Results) -> Finding:
    """DeViSE above its random-embedding control on every hp@k, k >= 5, defined here."""
    table, metrics = _table1(results), _control_metrics()
    pairs = defined_pairs(table, metrics, "ours DeViSE", "ours random emb.")
    if not pairs:
        raise NotTestable("no hp@k with k >= 5 defined in this run")
    return Finding(all(d > r for d, r in pairs.values()), pairs_side(pairs))


SEEN_CLAIMS = (
    Claim(
        "word similarity",
        1,
        "label vectors come from a skip-gram model trained on 5.4 B words of "
        "Wikipedia (it reports no word-similarity score)",
        f"Spearman on WordSim-353 >= {WORDSIM_TARGET} (the book's target)",
        f"ours / {GLOVE}",
        Side,
        word_similarity,
    ),
    Claim(
        "shark neighbours",
        2,
        "the skip-gram space puts related terms together; the nearest terms to a "
        "shark are other sharks",
        f"mean share of sharks among each shark species' {SHARK_NEIGHBOURS} nearest "
        f"labels >= {SHARK_NEIGHBOUR_SHARE}",
        "",
        Side,
        shark_neighbours,
    ),
    Claim(
        "Table 1, flat",
        5,
        '"matches state-of-the-art performance on the 1000-class ImageNet object '
        'recognition challenge"',
        f"DeViSE / softmax baseline on {FLAT_METRIC} >= {FLAT_RATIO}",
        f"DeViSE / softmax, {FLAT_METRIC}",
        lambda: table1_paper(FLAT_METRIC),
        table1_versus_softmax(FLAT_METRIC, lambda d, s: ratio(d, s) >= FLAT_RATIO),
    ),
    Claim(
        "Table 1, hierarchical",
        5,
        '"while making more semantically reasonable errors"',
        f"DeViSE's {HP_METRIC} above the softmax baseline's",
        f"DeViSE / softmax, {HP_METRIC}",
        lambda: table1_paper(HP_METRIC),
        table1_versus_softmax(HP_METRIC, lambda d, s: d > s),
    ),
    Claim(
        "random-embedding control",
        5,
        "the same model trained with random label vectors (Table 1's \"random "
        'embeddings"): any gain over it comes from the text',
        f"DeViSE above the control on hp@k for every k >= {CONTROL_MIN_K} defined here",
        "DeViSE / control",
        control_paper,
        random_control,
    ),
)
