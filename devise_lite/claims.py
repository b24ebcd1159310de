"""Every claim of the paper that the book checks, its test and verdict, in one place.

A claim is a row of CLAIMS: what the paper says, the test applied to our numbers, the
paper's number beside ours, and the number that makes the two comparable (DeViSE /
softmax for Table 1, multiples of chance for zero-shot). `verdicts(results)` applies
every test to one run's tables; a chapter prints its own rows, chapter 8 all of them,
so no claim is tested two ways. The paper's numbers are read from `paper.published()`.

A verdict is "yes", "no" or "n/a": "n/a" when the run has no data for the test (a
table not produced, a candidate set without photos, a metric undefined at this size).
Tests over several parts (every set, both sharks) are "no" as soon as one part fails,
and "n/a" when none fails but one cannot be tested.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from . import paper
from .paper import (
    CANDIDATE_SETS,
    DEVISE,
    PLAIN_SETS,
    format_fraction,
    format_ratio,
    format_share,
    format_times,
    paper_chance_hit,
    paper_table1,
    paper_zero_shot_hit,
    ratio,
    table1_beside_paper,
    zero_shot_beside_paper,
)

# The tests' thresholds. Targets the book set itself, where the paper states no number.
WORDSIM_TARGET = 0.6  # Spearman on WordSim-353
GLOVE = "GloVe 6B 50-d"  # the reference row of the similarity table
SHARK_NEIGHBOURS = 9  # nearest labels looked at per shark species
SHARK_NEIGHBOUR_SHARE = 0.7  # mean share of sharks among them
FLAT_METRIC = "hit@5"  # Table 1's flat comparison
FLAT_RATIO = 0.95  # DeViSE / softmax at least this: "matches state of the art"
HP_METRIC = "hp@20"  # Table 1's hierarchical comparison (the largest k)
CONTROL_MIN_K = 5  # the random control is compared on hp@k for k >= this
ZERO_SHOT_SET = "2-hop"  # the abstract's "up to 18%" is 2-hop hit@5
ZERO_SHOT_METRIC = "hit@5"
ZERO_SHOT_HIT = 0.12  # our target: hit@5 of at least 12% ...
ZERO_SHOT_X_CHANCE = 30  # ... and at least 30 times chance, per photo and per label
ZERO_SHOT_TOP = "hit@20"  # the "works at all" and "harder sets" tests
CONSE_METRIC = "hit@5"
ZERO_SHOT_HP = "hp@20"  # Table 3's hierarchical comparison (the largest k)
SHARK_DIRECTIONS = ("great white shark", "hammerhead")  # one species held out each
SHARK_CANDIDATES = "21k"  # the sharks are ranked among every unseen label
SHARK_TOP5_SHARE = 0.6  # a shark in the top 5 for at least this share of photos
SHARK_GOAL = 0.9  # the book's goal, reported beside the test, not tested
SHARK_X_CHANCE = 10  # and at least this many times chance

NONE = "–"  # a side of a comparison with no number


@dataclass(frozen=True)
class Results:
    """The tables one run produces; a missing one (None) makes its claims "n/a"."""

    table1: pd.DataFrame | None = None
    table2: pd.DataFrame | None = None
    table3: pd.DataFrame | None = None
    sharks: pd.DataFrame | None = None
    similarity: pd.DataFrame | None = None
    shark_neighbours: pd.DataFrame | None = None


@dataclass(frozen=True)
class Side:
    """One side of a claim, the paper's or ours: its number and its comparable number,
    as text."""

    number: str = NONE
    comparable: str = NONE


@dataclass(frozen=True)
class Finding:
    """What a test found on our tables: whether the claim holds (None: not testable
    here) and our side of the comparison."""

    holds: bool | None
    ours: Side


@dataclass(frozen=True)
class Claim:
    """A claim of the paper and its test: `paper` gives the paper's side, `check` our
    finding; `comparable` names the number that makes the two sides comparable."""

    claim: str
    chapter: int
    paper_says: str
    test: str
    comparable: str
    paper: Callable[[], Side]
    check: Callable[[Results], Finding]


def not_testable(why: str) -> Finding:
    """The finding of a test this run has no data for."""
    return Finding(None, Side(why))


def all_hold(parts: Iterable[bool | None]) -> bool | None:
    """Three-valued "and": False if any part fails, else None if any is untestable."""
    parts = list(parts)
    if any(p is False for p in parts):
        return False
    if any(p is None for p in parts):
        return None
    return True


def _defined(*values: float) -> bool:
    """True when every value is a number (not None, NaN or pd.NA)."""
    return not any(pd.isna(v) for v in values)


# ------------------------------------------------------------- chapter 1: word vectors


def word_similarity(results: Results) -> Finding:
    """Our word vectors' Spearman on WordSim-353 reaches the book's target."""
    table = results.similarity
    if table is None:
        return not_testable("no similarity table")
    ws = table[table["dataset"] == "WordSim-353"]
    ours = ws[ws["model"] != GLOVE]
    if ours["model"].nunique() > 1:
        raise ValueError(f"several models besides {GLOVE}: {set(ours['model'])}")
    if ours.empty or not _defined(float(ours["spearman"].iloc[0])):
        return not_testable("no WordSim-353 score for our vectors")
    value = float(ours["spearman"].iloc[0])
    glove = ws.loc[ws["model"] == GLOVE, "spearman"]
    reference = float(glove.iloc[0]) if len(glove) else math.nan
    beside = f" ({GLOVE} {reference:.3f})" if _defined(reference) else ""
    return Finding(
        value >= WORDSIM_TARGET,
        Side(f"{value:.3f}{beside}", format_ratio(ratio(value, reference))),
    )


# ----------------------------------------------------------- chapter 2: the label space


def shark_neighbours(results: Results) -> Finding:
    """The mean share of sharks among each shark species' nearest labels."""
    table = results.shark_neighbours
    if table is None or table.empty:
        return not_testable("no shark neighbours")
    near = table[table["rank"] <= SHARK_NEIGHBOURS]
    share = near.groupby("query_wnid")["is_shark"].mean()
    counts = near.groupby("query_wnid")["is_shark"].sum()
    full = int((counts == SHARK_NEIGHBOURS).sum())
    return Finding(
        float(share.mean()) >= SHARK_NEIGHBOUR_SHARE,
        Side(
            f"{share.mean():.2f} over {len(share)} species "
            f"({full} with {SHARK_NEIGHBOURS} of {SHARK_NEIGHBOURS})"
        ),
    )


# ------------------------------------------------------------------- chapter 5: Table 1


def _table1(results: Results) -> pd.DataFrame | None:
    """Our Table 1 beside the paper's, indexed by metric; None without a Table 1."""
    if results.table1 is None:
        return None
    return table1_beside_paper(results.table1).set_index("metric")


def _versus(a: float, b: float, fmt: Callable[[float], str]) -> str:
    return f"{fmt(a)} vs {fmt(b)}"


def _format_of(metric: str) -> Callable[[float], str]:
    return format_fraction if metric.startswith("hp@") else format_share


def table1_paper(metric: str) -> Side:
    """The paper's DeViSE (500-d) vs softmax baseline on one Table 1 metric."""
    row = paper_table1(metric)
    return Side(
        _versus(row["DeViSE"], row["softmax"], _format_of(metric)),
        format_ratio(ratio(row["DeViSE"], row["softmax"])),
    )


def table1_versus_softmax(metric: str, test: Callable[[float, float], bool]):
    """A check of DeViSE against the softmax baseline on one metric of our Table 1;
    `test(devise, softmax)` decides."""

    def check(results: Results) -> Finding:
        table = _table1(results)
        if table is None:
            return not_testable("no Table 1")
        devise, softmax = table.loc[metric, ["ours DeViSE", "ours softmax"]]
        if not _defined(devise, softmax):
            return not_testable(f"{metric} undefined in this run")
        return Finding(
            bool(test(devise, softmax)),
            Side(
                _versus(devise, softmax, _format_of(metric)),
                format_ratio(ratio(devise, softmax)),
            ),
        )

    return check


def _control_metrics() -> list[str]:
    return [
        m
        for m in paper.table1_metrics()
        if m.startswith("hp@") and int(m.split("@")[1]) >= CONTROL_MIN_K
    ]


def control_paper() -> Side:
    """The paper's DeViSE vs its random-embedding control on hp@k, k >= 5."""
    rows = {m: paper_table1(m) for m in _control_metrics()}
    return _pairs_side({m: (r["DeViSE"], r["random emb."]) for m, r in rows.items()})


def _pairs_side(pairs: dict[str, tuple[float, float]]) -> Side:
    """Pairs (ours or the paper's, the other model's) under their names: the two
    values, and their ratio."""
    return Side(
        ", ".join(
            f"{name} {_versus(a, b, format_fraction)}" for name, (a, b) in pairs.items()
        ),
        ", ".join(
            f"{name} {format_ratio(ratio(a, b))}" for name, (a, b) in pairs.items()
        ),
    )


def random_control(results: Results) -> Finding:
    """DeViSE above its random-embedding control on every hp@k, k >= 5, defined here."""
    table = _table1(results)
    if table is None:
        return not_testable("no Table 1")
    pairs = {
        m: (table.loc[m, "ours DeViSE"], table.loc[m, "ours random emb."])
        for m in _control_metrics()
        if _defined(table.loc[m, "ours DeViSE"], table.loc[m, "ours random emb."])
    }
    if not pairs:
        return not_testable("no hp@k with k >= 5 defined in this run")
    return Finding(all(d > r for d, r in pairs.values()), _pairs_side(pairs))


# ---------------------------------------------------------------- chapter 6: zero-shot


def _flat(results: Results, metric: str) -> pd.DataFrame | None:
    """Our zero-shot flat rows beside the paper's for one metric, by candidate set;
    None without a Table 2."""
    if results.table2 is None:
        return None
    rows = zero_shot_beside_paper(results.table2)
    return rows[rows["metric"] == metric].set_index("candidate set")


def _scored_plain(rows: pd.DataFrame) -> list[str]:
    """The plain candidate sets on which our DeViSE has a number (photos to score)."""
    return [s for s in PLAIN_SETS if _defined(rows.loc[s, "ours DeViSE"])]


def zero_shot_level_paper() -> Side:
    """The abstract's "up to 18%": DeViSE-0's 2-hop hit@5, and that over chance."""
    k = int(ZERO_SHOT_METRIC.split("@")[1])
    value = paper_zero_shot_hit(ZERO_SHOT_SET, k)
    n = paper.paper_candidates(CANDIDATE_SETS[ZERO_SHOT_SET])
    return Side(
        f"{format_share(value)} ({ZERO_SHOT_SET}, {n:,} labels)",
        format_times(ratio(value, paper_chance_hit(ZERO_SHOT_SET, k))),
    )


def zero_shot_level(results: Results) -> Finding:
    """Our DeViSE's 2-hop hit@5 reaches 12% and 30x chance, per photo and per label."""
    rows = _flat(results, ZERO_SHOT_METRIC)
    if rows is None:
        return not_testable("no Table 2")
    row = rows.loc[ZERO_SHOT_SET]
    if not _defined(row["ours DeViSE"]):
        return not_testable(f"no {ZERO_SHOT_SET} photos in this run")
    per_photo, per_label = row["ours DeViSE"], row["ours DeViSE per label"]
    x_photo, x_label = row["ours x chance"], row["per label x chance"]

    def reaches(value: float, times: float) -> bool | None:
        if not _defined(value, times):
            return None
        return bool(value >= ZERO_SHOT_HIT and times >= ZERO_SHOT_X_CHANCE)

    return Finding(
        all_hold([reaches(per_photo, x_photo), reaches(per_label, x_label)]),
        Side(
            f"{format_share(per_photo)} per photo, {format_share(per_label)} per label "
            f"({ZERO_SHOT_SET}, {row['ours n']:,.0f} labels, "
            f"{row['ours photos']:,.0f} photos)",
            f"{format_times(x_photo)} per photo, {format_times(x_label)} per label",
        ),
    )


def _paper_by_set(metric: str, joiner: str) -> Side:
    """The paper's DeViSE-0 on the plain sets for one flat metric, and x chance."""
    k = int(metric.split("@")[1])
    values = {s: paper_zero_shot_hit(s, k) for s in PLAIN_SETS}
    return Side(
        joiner.join(
            f"{CANDIDATE_SETS[s]} {format_share(v)}" for s, v in values.items()
        ),
        ", ".join(
            f"{CANDIDATE_SETS[s]} {format_times(ratio(v, paper_chance_hit(s, k)))}"
            for s, v in values.items()
        ),
    )


def _times_by_set(rows: pd.DataFrame, sets: list[str], column: str) -> str:
    return ", ".join(f"{s} {format_times(rows.loc[s, column])}" for s in sets)


def zero_shot_works(results: Results) -> Finding:
    """Our DeViSE's hit@20 above chance and above its random control on every plain
    set with photos."""
    rows = _flat(results, ZERO_SHOT_TOP)
    if rows is None:
        return not_testable("no Table 2")
    sets = _scored_plain(rows)
    if not sets:
        return not_testable("no zero-shot photos in this run")

    def above(s: str) -> bool | None:
        devise, chance, control = rows.loc[
            s, ["ours DeViSE", "ours chance", "ours random emb."]
        ]
        if not _defined(chance, control):
            return None
        return bool(devise > chance and devise > control)

    return Finding(
        all_hold(above(s) for s in sets),
        Side(
            ", ".join(
                f"{s} {format_share(rows.loc[s, 'ours DeViSE'])} (chance "
                f"{format_share(rows.loc[s, 'ours chance'])}, control "
                f"{format_share(rows.loc[s, 'ours random emb.'])})"
                for s in sets
            ),
            _times_by_set(rows, sets, "ours x chance"),
        ),
    )


def harder_sets(results: Results) -> Finding:
    """Our DeViSE's hit@20 falls from 2-hop to 3-hop to 21k (the sets with photos)."""
    rows = _flat(results, ZERO_SHOT_TOP)
    if rows is None:
        return not_testable("no Table 2")
    sets = _scored_plain(rows)
    if len(sets) < 2:
        return not_testable("fewer than two plain sets with photos")
    values = [rows.loc[s, "ours DeViSE"] for s in sets]
    return Finding(
        all(a > b for a, b in zip(values, values[1:], strict=False)),
        Side(
            " > ".join(
                f"{s} {format_share(v)}" for s, v in zip(sets, values, strict=True)
            ),
            _times_by_set(rows, sets, "ours x chance"),
        ),
    )


def _hierarchical(results: Results) -> pd.DataFrame | None:
    """Our zero-shot hp@20 rows beside the paper's, by candidate set; None without
    Tables 2 and 3."""
    if results.table2 is None or results.table3 is None:
        return None
    rows = zero_shot_beside_paper(results.table2, results.table3)
    return rows[rows["metric"] == ZERO_SHOT_HP].set_index("candidate set")


def zero_shot_hp_paper() -> Side:
    """The paper's Table 3: DeViSE-0 vs the softmax baseline on hp@20, per plain set
    (Table 3 names its rows by the test photos: the plain sets' names)."""
    pairs = {
        s: (
            paper.paper_value(3, CANDIDATE_SETS[s], "DeViSE-0", ZERO_SHOT_HP),
            paper.paper_value(3, CANDIDATE_SETS[s], "Softmax baseline", ZERO_SHOT_HP),
        )
        for s in PLAIN_SETS
    }
    return _pairs_side({CANDIDATE_SETS[s]: pair for s, pair in pairs.items()})


def zero_shot_hierarchical(results: Results) -> Finding:
    """Our DeViSE's hp@20 above the softmax baseline's on every plain set with photos
    (the softmax baseline ranks the seen labels only)."""
    rows = _hierarchical(results)
    if rows is None:
        return not_testable("no Table 3")
    pairs = {
        s: (rows.loc[s, "ours DeViSE"], rows.loc[s, "ours softmax"])
        for s in PLAIN_SETS
        if _defined(rows.loc[s, "ours DeViSE"], rows.loc[s, "ours softmax"])
    }
    if not pairs:
        return not_testable("no zero-shot photos in this run")
    return Finding(all(d > m for d, m in pairs.values()), _pairs_side(pairs))


def conse_paper() -> Side:
    """The paper's DeViSE-0 hit@5 on the plain sets (ConSE's numbers are not in the
    file: ConSE is a later paper)."""
    side = _paper_by_set(CONSE_METRIC, ", ")
    return Side(f"DeViSE-0 {side.number}; ConSE not in the paper", NONE)


def conse_beats_devise(results: Results) -> Finding:
    """ConSE (its best temperature per set) above our DeViSE on hit@5, on every plain
    set with photos."""
    rows = _flat(results, CONSE_METRIC)
    if rows is None:
        return not_testable("no Table 2")
    sets = [s for s in _scored_plain(rows) if _defined(rows.loc[s, "ours ConSE"])]
    if not sets:
        return not_testable("no ConSE numbers on a plain set with photos")
    conse, devise = rows["ours ConSE"], rows["ours DeViSE"]
    return Finding(
        all(conse[s] > devise[s] for s in sets),
        Side(
            ", ".join(
                f"{s} {rows.loc[s, 'best ConSE']} "
                f"{_versus(conse[s], devise[s], format_share)}"
                for s in sets
            ),
            ", ".join(f"{s} {format_ratio(ratio(conse[s], devise[s]))}" for s in sets),
        ),
    )


def _shark_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The shark experiment's rows indexed by (held_out, model, candidates): the
    paper's experiment (1,000 labels seen) where the table has it."""
    if "seen_labels" in table.columns:
        ours = table["seen_labels"] == paper.PAPER_EXPERIMENT
        table = table[ours] if ours.any() else table
    indexed = table.set_index(["held_out", "model", "candidates"])
    if not indexed.index.is_unique:
        raise ValueError("a (held_out, model, candidates) row appears twice in sharks")
    return indexed


def _ran(rows: pd.DataFrame, key: tuple) -> bool:
    """Whether a shark direction has a row and ran (no note saying why it could not)."""
    if key not in rows.index:
        return False
    note = rows.loc[key, "note"] if "note" in rows.columns else ""
    return pd.isna(note) or not str(note).strip()


def sharks_zero_shot(results: Results) -> Finding:
    """With one species held out, a shark in DeViSE's top 5 (every unseen label
    ranked) for >= 60% of that species' photos, and >= 10x chance, both directions."""
    if results.sharks is None:
        return not_testable("no shark experiment")
    rows = _shark_rows(results.sharks)
    verdicts, numbers, times = [], [], []
    for held_out in SHARK_DIRECTIONS:
        key = (held_out, DEVISE, SHARK_CANDIDATES)
        if not _ran(rows, key):
            verdicts.append(None)
            numbers.append(f"{held_out}: not run")
            continue
        share = float(rows.loc[key, "share_shark_in_top5"])
        chance_key = (held_out, paper.CHANCE, SHARK_CANDIDATES)
        chance = float(rows.loc[chance_key, "share_shark_in_top5"])
        verdicts.append(share >= SHARK_TOP5_SHARE and share >= SHARK_X_CHANCE * chance)
        goal = "goal met" if share >= SHARK_GOAL else "goal not met"
        numbers.append(
            f"{held_out}: {format_share(share)} (chance {format_share(chance)}; {goal})"
        )
        times.append(f"{held_out} {format_times(ratio(share, chance))}")
    return Finding(
        all_hold(verdicts), Side("; ".join(numbers), ", ".join(times) or NONE)
    )


# ------------------------------------------------------------------------- the claims

CLAIMS = (
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
    Claim(
        "zero-shot level",
        6,
        '"hit rates of up to 18% across thousands of novel labels never seen by the '
        'visual model"',
        f"DeViSE's {ZERO_SHOT_SET} {ZERO_SHOT_METRIC} >= {ZERO_SHOT_HIT:.0%} and >= "
        f"{ZERO_SHOT_X_CHANCE}x chance, per photo and per label (the book's target)",
        f"{ZERO_SHOT_METRIC} / chance",
        zero_shot_level_paper,
        zero_shot_level,
    ),
    Claim(
        "zero-shot works at all",
        6,
        '"the semantic information can be exploited to make predictions about tens '
        'of thousands of image labels not observed during training"',
        f"DeViSE's {ZERO_SHOT_TOP} above chance and above the random control on "
        "every plain candidate set",
        f"{ZERO_SHOT_TOP} / chance",
        lambda: _paper_by_set(ZERO_SHOT_TOP, ", "),
        zero_shot_works,
    ),
    Claim(
        "harder sets",
        6,
        "the candidate sets grow harder: labels within 2 hops of a training label, "
        "within 3 hops, all of ImageNet 21K",
        f"DeViSE's {ZERO_SHOT_TOP} falls from 2-hop to 3-hop to 21k",
        f"{ZERO_SHOT_TOP} / chance",
        lambda: _paper_by_set(ZERO_SHOT_TOP, " > "),
        harder_sets,
    ),
    Claim(
        "Table 3, hierarchical",
        6,
        "Table 3: on the unseen labels' photos, DeViSE's hierarchical precision is "
        "above the softmax baseline's (which can answer only training labels)",
        f"DeViSE's {ZERO_SHOT_HP} above the softmax baseline's on every plain "
        "candidate set",
        f"DeViSE / softmax, {ZERO_SHOT_HP}",
        zero_shot_hp_paper,
        zero_shot_hierarchical,
    ),
    Claim(
        "ConSE vs DeViSE",
        6,
        'ConSE (Norouzi et al. 2014) "outperforms state of the art methods on the '
        'ImageNet zero-shot learning task"',
        f"ConSE (best temperature) above DeViSE on {CONSE_METRIC}, every plain "
        "candidate set",
        "ConSE / DeViSE",
        conse_paper,
        conse_beats_devise,
    ),
    Claim(
        "sharks, zero-shot",
        6,
        "a label never seen in training is named through related seen labels (the "
        "book's version with one shark species held out)",
        f"with one species held out, a shark in DeViSE's top 5 ({SHARK_CANDIDATES}) "
        f"for >= {SHARK_TOP5_SHARE:.0%} of its photos (goal {SHARK_GOAL:.0%}) and "
        f">= {SHARK_X_CHANCE}x chance, both species",
        "share / chance",
        Side,
        sharks_zero_shot,
    ),
)

COLUMNS = [
    "claim",
    "chapter",
    "paper says",
    "paper",
    "ours",
    "comparable",
    "test",
    "holds",
]


def _comparable(name: str, paper_side: Side, ours: Side) -> str:
    """The comparable numbers of both sides under the name of what they are."""
    parts = [
        f"{who} {side.comparable}"
        for who, side in (("paper", paper_side), ("ours", ours))
        if side.comparable != NONE
    ]
    if not parts:
        return NONE
    return f"{name}: {'; '.join(parts)}" if name else "; ".join(parts)


# The verdicts table in two views narrow enough for a page: the numbers, the words.
NUMBER_COLUMNS = ["claim", "paper", "ours", "comparable", "holds"]
WORD_COLUMNS = ["claim", "paper says", "test"]


def styled(table: pd.DataFrame, columns: list[str]):
    """Some columns of a verdicts table for printing: no index, text left-aligned and
    at the top of its cell, a rule between rows (the cells run over several lines)."""
    return (
        table[columns]
        .style.hide(axis="index")
        .set_properties(**{"text-align": "left", "vertical-align": "top"})
        .set_table_styles(
            [
                {"selector": "td", "props": "border-bottom: 1px solid #ddd;"},
                {"selector": "th", "props": "text-align: left;"},
            ]
        )
    )


def verdict_word(holds: bool | None) -> str:
    """A finding's verdict as the table prints it: "yes", "no" or "n/a"."""
    return "n/a" if holds is None else ("yes" if holds else "no")


def verdicts(results: Results, claims: tuple[Claim, ...] = CLAIMS) -> pd.DataFrame:
    """One row per claim: what the paper says and its number, ours, the comparable
    numbers, the test, and whether the claim holds here ("yes", "no", "n/a")."""
    rows = []
    for claim in claims:
        paper_side, finding = claim.paper(), claim.check(results)
        rows.append(
            {
                "claim": claim.claim,
                "chapter": claim.chapter,
                "paper says": claim.paper_says,
                "paper": paper_side.number,
                "ours": finding.ours.number,
                "comparable": _comparable(claim.comparable, paper_side, finding.ours),
                "test": claim.test,
                "holds": verdict_word(finding.holds),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)
