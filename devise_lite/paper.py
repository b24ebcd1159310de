"""The paper's published Tables 1-3, read from the copy in resources/, and ours beside.

`resources/devise_2013_tables.csv` holds every number of Tables 1-3 of Frome et al.
(NIPS 2013), one a row; `resources/devise_2013_tables.md` says what each column means.
The paper's flat hit rates are percentages and ours are shares: everything this module
returns is a share (hit) or a fraction (hierarchical precision), so the two line up.

Raw numbers are not comparable across datasets: our Table 1 ranks a few dozen labels,
the paper's 1,000, and our zero-shot candidate sets are far smaller than the paper's. So
each comparison carries the number that is: DeViSE / softmax for Table 1 (how much the
embedding gives up against the classifier trained on the same photos), and "x chance"
(value / chance) for zero-shot.
"""

from __future__ import annotations

import functools
import io
import math
from importlib import resources

import pandas as pd

PAPER_FILE = "devise_2013_tables.csv"

# Our model names, as in every CSV the pipeline writes (evaluation.py holds the same
# strings; they are repeated here so that this module imports nothing but pandas).
SOFTMAX = "softmax baseline"
DEVISE = "DeViSE"
RANDOM = "DeViSE, random embeddings"
PHASE2 = "DeViSE + phase 2"
CHANCE = "chance"
CONSE_PREFIX = "ConSE"  # "ConSE (T=1)", "ConSE (T=10)", ...

# The paper's experiment among our zero-shot runs (the other, "caltech", has no
# counterpart in the paper).
PAPER_EXPERIMENT = "imagenet1k"

# Table 1: (short name, the paper's model, its dim, our model). The paper's 500-d rows
# are the ones compared: 500-d is the size its zero-shot tables use.
TABLE1_MODELS = (
    ("softmax", "Softmax baseline", None, SOFTMAX),
    ("DeViSE", "DeViSE", 500, DEVISE),
    ("random emb.", "Random embeddings", 500, RANDOM),
    ("chance", "Chance", None, CHANCE),
)

TABLE1_SET = "ILSVRC-2012 1K val"  # Table 1's test_set in the file

# Our zero-shot candidate sets and the paper's names for them, in the paper's order.
CANDIDATE_SETS = {
    "2-hop": "2-hop",
    "2-hop+seen": "2-hop+1K",
    "3-hop": "3-hop",
    "3-hop+seen": "3-hop+1K",
    "21k": "21K",
    "21k+seen": "21K+1K",
}
PLAIN_SETS = tuple(s for s in CANDIDATE_SETS if not s.endswith("+seen"))

# The flat metric that picks ConSE's best temperature on a candidate set.
CONSE_PICK = "hit@5"


# ------------------------------------------------------------------ the paper's numbers


def published() -> pd.DataFrame:
    """The paper's Tables 1-3 as shipped: one published number a row (table, test_set,
    model, dim, n_candidates, metric, k, value), hit in percent, hp as a fraction."""
    return _published().copy()


@functools.lru_cache(maxsize=1)
def _published() -> pd.DataFrame:
    """published(), read once; callers inside this module never modify it."""
    text = resources.files("devise_lite").joinpath("resources", PAPER_FILE).read_text()
    table = pd.read_csv(
        io.StringIO(text),
        keep_default_na=False,
        na_values={"dim": [""], "n_candidates": [""]},
    )
    # Counts stay integers where a column has gaps (nullable Int64, not float).
    return table.astype({"dim": "Int64", "n_candidates": "Int64", "value": float})


def as_share(metric: str, value: float) -> float:
    """A published value in our units: flat hit rates from percent to a share."""
    return value / 100 if metric == "hit" else value


def metric_name(metric: str, k: int) -> str:
    """The column name our tables use for a published (metric, k): "hit@5", "hp@20"."""
    return f"{metric}@{int(k)}"


@functools.lru_cache(maxsize=1)
def _numbers() -> dict[tuple, list[tuple]]:
    """(table, test_set, model, metric name, k) -> [(dim, value), ...]: the file as a
    lookup, so that a comparison's hundreds of look-ups stay cheap."""
    numbers: dict[tuple, list[tuple]] = {}
    for r in _published().to_dict("records"):
        key = (r["table"], r["test_set"], r["model"], r["metric"], r["k"])
        numbers.setdefault(key, []).append((r["dim"], r["value"]))
    return numbers


def paper_value(
    table: int, test_set: str, model: str, metric: str, dim: int | None = None
) -> float:
    """One published number, in our units (a share or a fraction); `metric` is our
    column name ("hit@5"). Raises KeyError unless exactly one row matches."""
    name, k = metric.split("@")
    found = _numbers().get((table, test_set, model, name, int(k)), [])
    if dim is not None:
        found = [(d, v) for d, v in found if not pd.isna(d) and d == dim]
    if len(found) != 1:
        raise KeyError(
            f"Table {table} has {len(found)} rows for {model!r} (dim {dim}) "
            f"on {test_set!r}, {metric}"
        )
    return as_share(name, float(found[0][1]))


@functools.cache
def paper_candidates(paper_set: str) -> int:
    """The number of labels the paper's Table 2 ranks on one of its candidate sets."""
    rows = _published()
    counts = rows.loc[
        (rows["table"] == 2) & (rows["test_set"] == paper_set), "n_candidates"
    ].unique()
    if len(counts) != 1:
        raise KeyError(f"Table 2 has no single n_candidates for {paper_set!r}")
    return int(counts[0])


def published_table(n: int) -> pd.DataFrame:
    """The paper's Table `n` (1, 2 or 3) in its printed shape: one row per model (and
    candidate set), one column per metric@k, in the paper's units (hit in percent)."""
    keys = {1: ["model", "dim"], 2: ["test_set", "model", "n_candidates"]}.get(
        n, ["test_set", "model"]
    )
    rows = published()
    rows = rows[rows["table"] == n]
    if rows.empty:
        raise ValueError(f"the paper has Tables 1-3 in this file, not Table {n}")
    # By hand rather than pivot: rows keep the paper's order, and an empty dim is a key.
    wide: dict[tuple, dict] = {}
    for record in rows.to_dict("records"):
        key = tuple(record[k] for k in keys)
        row = wide.setdefault(key, dict(zip(keys, key, strict=True)))
        row[metric_name(record["metric"], record["k"])] = record["value"]
    table = pd.DataFrame(list(wide.values()))
    return table.astype({k: "Int64" for k in keys if k in ("dim", "n_candidates")})


# ------------------------------------------------------------------------ Table 1


def paper_table1(metric: str) -> dict[str, float]:
    """The paper's Table 1 numbers for one metric ("hit@5"), keyed by the short model
    names of TABLE1_MODELS, in our units."""
    return {
        short: paper_value(1, TABLE1_SET, model, metric, dim)
        for short, model, dim, _ in TABLE1_MODELS
    }


def table1_metrics() -> list[str]:
    """The metrics of the paper's Table 1, in its order (no hit@20: it prints none)."""
    rows = _published()
    rows = rows[rows["table"] == 1]
    return list(dict.fromkeys(map(metric_name, rows["metric"], rows["k"])))


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


def ratio(value: float, reference: float) -> float:
    """value / reference; NaN when either is undefined or the reference is 0."""
    if _undefined(value) or _undefined(reference) or reference == 0:
        return math.nan
    return value / reference


def _undefined(x) -> bool:
    """True for None, NaN and pd.NA (a number that is not there)."""
    return x is None or (not isinstance(x, str) and bool(pd.isna(x)))


# ------------------------------------------------------------------- Tables 2 and 3


def paper_experiment(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of one of our zero-shot tables that are the paper's experiment (1,000
    ILSVRC labels seen); a table without a `seen_labels` column is taken whole."""
    if "seen_labels" not in table.columns:
        return table
    return table[table["seen_labels"] == PAPER_EXPERIMENT]


def chance_hit(k: int, n_candidates: int) -> float:
    """Chance's flat hit@k when every photo's label is among n_candidates: k / n,
    capped at 1 where k reaches n."""
    return min(k, n_candidates) / n_candidates


def paper_zero_shot_hit(our_set: str, k: int) -> float:
    """The paper's DeViSE flat hit@k (a share) on the candidate set matching our
    `our_set`: DeViSE-0 on a plain set, DeViSE+1K on a "+seen" (+1K) set."""
    paper_set = CANDIDATE_SETS[our_set]
    model = "DeViSE+1K" if paper_set.endswith("+1K") else "DeViSE-0"
    return paper_value(2, paper_set, model, f"hit@{k}")


def paper_chance_hit(our_set: str, k: int) -> float:
    """Chance's flat hit@k on the paper's candidate set matching our `our_set`."""
    return chance_hit(k, paper_candidates(CANDIDATE_SETS[our_set]))


def best_conse(rows: pd.DataFrame, candidate_set: str) -> str | None:
    """The ConSE variant (temperature) with the highest hit@5 on one candidate set of
    our Table 2; None where no ConSE row has a number there."""
    here = rows[
        (rows["candidate_set"] == candidate_set)
        & rows["model"].str.startswith(CONSE_PREFIX)
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
    for our_set, paper_set in CANDIDATE_SETS.items():
        conse = best_conse(experiment, our_set)
        for k in _ks(2):
            rows.append(_flat_row(ours2, our_set, paper_set, k, conse))
        if ours3 is not None:
            for k in _ks(3):
                rows.append(_hp_row(ours2, ours3, our_set, paper_set, k, conse))
    return pd.DataFrame(rows)


def _ks(table: int) -> list[int]:
    """The k of one of the paper's tables, ascending."""
    rows = _published()
    return sorted(int(k) for k in rows.loc[rows["table"] == table, "k"].unique())


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
    return math.nan if _undefined(value) else float(value)


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


# -------------------------------------------------------------------------- display


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


def format_share(x: float) -> str:
    """A share as a percentage: one decimal from 1% up, two significant digits below
    (chance on 20,000 labels is 0.0048%, not 0.0%)."""
    if _undefined(x):
        return "–"
    if x == 0 or abs(x) >= 0.01:
        return f"{100 * x:.1f}%"
    return f"{100 * x:.2g}%"


def format_fraction(x: float) -> str:
    """A hierarchical precision, as the paper prints it: three decimals."""
    return "–" if _undefined(x) else f"{x:.3f}"


def format_ratio(x: float) -> str:
    """A ratio near 1 (DeViSE / softmax): three decimals."""
    return "–" if _undefined(x) else f"{x:.3f}"


def format_times(x: float) -> str:
    """A multiple of chance: "57.5x"; whole numbers from 100x up."""
    if _undefined(x):
        return "–"
    if abs(x) >= 100:
        return f"{x:,.0f}x"
    return f"{x:.1f}x" if abs(x) >= 10 else f"{x:.2f}x"


def format_count(x: float) -> str:
    """A count of labels or photos: "20,841"."""
    return "–" if _undefined(x) else f"{x:,.0f}"


def _column_format(column: str):
    """The formatter a comparison column takes regardless of its row, or None when it
    depends on the row's metric (hit rows are shares, hp rows fractions)."""
    if column.endswith("x chance"):
        return format_times
    if " / " in column:
        return format_ratio
    counts = ("k", "dim")
    if column.endswith((" n", "photos")) or column.startswith("n_") or column in counts:
        return format_count
    if column.startswith("hp@"):
        return format_fraction
    if column.startswith(("hit@", "label_hit@")):
        return format_share
    return None


def format_comparison(df: pd.DataFrame):
    """A table of this module (or of claims.verdicts) for printing, without its index:
    shares as percentages, hp as three decimals, ratios and multiples of chance as
    such, integers as counts, missing values as "–". Values must be in our units
    (shares): published_table's percentages print as they are, without it."""
    df = df.reset_index(drop=True)
    styler = df.style.hide(axis="index")
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    hp_rows = (
        df.index[df["metric"].astype(str).str.startswith("hp@")]
        if "metric" in df.columns
        else df.index[:0]
    )
    for column in numeric:
        integer = pd.api.types.is_integer_dtype(df[column])
        fixed = format_count if integer else _column_format(column)
        if fixed is not None:
            styler = styler.format(fixed, subset=[column])
            continue
        styler = styler.format(format_share, subset=[column])
        if len(hp_rows):
            styler = styler.format(format_fraction, subset=(hp_rows, [column]))
    return styler.format(na_rep="–", subset=[c for c in df.columns if c not in numeric])
