"""The paper's published Tables 1-3 (Frome et al., NIPS 2013), read from
`resources/devise_2013_tables.csv` (its columns: `devise_2013_tables.md`). The paper's
hit rates are percentages, ours shares: what this module returns is in our units."""

from __future__ import annotations

import functools
import io
from importlib import resources

import pandas as pd

from ..evaluation import CHANCE, DEVISE, RANDOM, SOFTMAX

# Table 1: (short name, paper's model, its dim, ours), 500-d as in its zero-shot tables.
TABLE1_MODELS = (
    ("softmax", "Softmax baseline", None, SOFTMAX),
    ("DeViSE", "DeViSE", 500, DEVISE),
    ("random emb.", "Random embeddings", 500, RANDOM),
    ("chance", "Chance", None, CHANCE),
)
TABLE1_SET = "ILSVRC-2012 1K val"  # Table 1's test_set in the file

# Our zero-shot candidate sets (`candidates.CANDIDATE_SETS`) by the paper's names.
PAPER_SET_NAMES = {
    "2-hop": "2-hop",
    "2-hop+seen": "2-hop+1K",
    "3-hop": "3-hop",
    "3-hop+seen": "3-hop+1K",
    "21k": "21K",
    "21k+seen": "21K+1K",
}
PLAIN_SETS = tuple(s for s in PAPER_SET_NAMES if not s.endswith("+seen"))


def published() -> pd.DataFrame:
    """The paper's Tables 1-3 as shipped, one number a row (hit in percent)."""
    return _published().copy()


@functools.lru_cache(maxsize=1)
def _published() -> pd.DataFrame:
    """published(), read once; callers inside this module never modify it."""
    path = resources.files("devise_lite") / "resources" / "devise_2013_tables.csv"
    table = pd.read_csv(
        io.StringIO(path.read_text()),
        keep_default_na=False,
        na_values={"dim": [""], "n_candidates": [""]},
    )
    # Counts stay integers where a column has gaps (nullable Int64, not float).
    return table.astype({"dim": "Int64", "n_candidates": "Int64", "value": float})


@functools.lru_cache(maxsize=1)
def _numbers() -> dict[tuple, list[tuple]]:
    """The file as a lookup (table, test_set, model, metric, k) -> [(dim, value)]."""
    numbers: dict[tuple, list[tuple]] = {}
    for r in _published().to_dict("records"):
        key = (r["table"], r["test_set"], r["model"], r["metric"], r["k"])
        numbers.setdefault(key, []).append((r["dim"], r["value"]))
    return numbers


def paper_value(
    table: int, test_set: str, model: str, metric: str, dim: int | None = None
) -> float:
    """One published number ("hit@5") in our units; KeyError unless one row matches."""
    name, k = metric.split("@")
    found = _numbers().get((table, test_set, model, name, int(k)), [])
    if dim is not None:
        found = [(d, v) for d, v in found if not pd.isna(d) and d == dim]
    if len(found) != 1:
        raise KeyError(
            f"Table {table} has {len(found)} rows for {model!r} (dim {dim}) "
            f"on {test_set!r}, {metric}"
        )
    value = float(found[0][1])
    return value / 100 if name == "hit" else value  # the paper's hit is in percent


@functools.cache
def paper_candidates(paper_set: str) -> int:
    """The number of labels the paper's Table 2 ranks on one of its candidate sets."""
    rows = _published().query("table == 2 and test_set == @paper_set")
    counts = rows["n_candidates"].unique()
    if len(counts) != 1:
        raise KeyError(f"Table 2 has no single n_candidates for {paper_set!r}")
    return int(counts[0])


def paper_table1(metric: str) -> dict[str, float]:
    """The paper's Table 1 numbers for one metric, by TABLE1_MODELS' short names."""
    return {
        short: paper_value(1, TABLE1_SET, model, metric, dim)
        for short, model, dim, _ in TABLE1_MODELS
    }


def table1_metrics() -> list[str]:
    """The metrics of the paper's Table 1, in its order (no hit@20: it prints none)."""
    rows = _published().query("table == 1")
    return list(dict.fromkeys(rows["metric"] + "@" + rows["k"].astype(str)))


def published_ks(table: int) -> list[int]:
    """The k of one of the paper's tables, ascending."""
    return sorted(int(k) for k in _published().query("table == @table")["k"].unique())


def chance_hit(k: int, n_candidates: int) -> float:
    """Chance's flat hit@k among n_candidates: k / n, capped at 1."""
    return min(k, n_candidates) / n_candidates


def paper_zero_shot_hit(our_set: str, k: int) -> float:
    """The paper's DeViSE hit@k on `our_set`: DeViSE-0, or DeViSE+1K on a +1K set."""
    paper_set = PAPER_SET_NAMES[our_set]
    model = "DeViSE+1K" if paper_set.endswith("+1K") else "DeViSE-0"
    return paper_value(2, paper_set, model, f"hit@{k}")


def paper_chance_hit(our_set: str, k: int) -> float:
    """Chance's flat hit@k on the paper's candidate set matching our `our_set`."""
    return chance_hit(k, paper_candidates(PAPER_SET_NAMES[our_set]))
