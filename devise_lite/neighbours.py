"""The label space's shark check (a shark's nearest should be sharks) and its hubs."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .labels import LabelSpace
from .sharks import is_shark, shark_wnids
from .vectors import top_k

NEIGHBOUR_COLUMNS = (
    "query_wnid query rank neighbour_wnid neighbour cosine is_shark".split()
)

# Query rows per block: 70 MB of cosines at the book's 16.8 k labels, all queries.
_QUERIES_PER_BLOCK = 1024


def nearest_others(
    space: LabelSpace, rows: Sequence[int], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """(neighbours, cosines), each (len(rows), k): the k labels nearest by cosine to
    each query row, best first (ties: lower row), the query itself left out."""
    rows = np.asarray(rows, dtype=np.int64)
    neighbours, cosines = [], []
    for start in range(0, len(rows), _QUERIES_PER_BLOCK):
        block = rows[start : start + _QUERIES_PER_BLOCK]
        scores = space.vectors[block] @ space.vectors.T
        scores[np.arange(len(block)), block] = -np.inf  # not its own neighbour
        top = top_k(scores, k)
        neighbours.append(top)
        cosines.append(np.take_along_axis(scores, top, axis=1))
    if not neighbours:
        return np.zeros((0, k), np.int64), np.zeros((0, k), np.float32)
    return np.concatenate(neighbours), np.concatenate(cosines)


def label_neighbours(
    space: LabelSpace, queries: Sequence[str], k: int, is_member: Callable[[str], bool]
) -> pd.DataFrame:
    """Each query's k nearest others, one row per rank; `is_member` marks its group."""
    rows = space.index(queries)
    top, cosines = nearest_others(space, rows, k)
    records = []
    for row, near, near_cosines in zip(rows, top, cosines, strict=True):
        query = space.wnids[row], space.names[row]
        for rank, (j, c) in enumerate(zip(near, near_cosines, strict=True), start=1):
            wnid = space.wnids[j]
            member = bool(is_member(wnid))
            records.append((*query, rank, wnid, space.names[j], float(c), member))
    return pd.DataFrame(records, columns=NEIGHBOUR_COLUMNS)


def share_per_query(table: pd.DataFrame) -> pd.DataFrame:
    """Per query: how many of its neighbours are group members, and the share."""
    summary = (
        table.groupby(["query_wnid", "query"], sort=False)["is_shark"]
        .agg(sharks="sum", k="count")
        .reset_index()
    )
    summary["share"] = summary["sharks"] / summary["k"]
    return summary.sort_values("share", kind="stable").reset_index(drop=True)


def check_summary(table: pd.DataFrame, enough: int = 7) -> dict:
    """Mean members among neighbours, queries with `enough` or more, all queries."""
    summary = share_per_query(table)
    return {
        "members (mean)": float(summary["sharks"].mean()),
        f"queries with {enough} or more": int((summary["sharks"] >= enough).sum()),
        "queries": len(summary),
    }


def falling_short(
    table: pd.DataFrame, below: float = 0.7, shown: int = 5
) -> pd.DataFrame:
    """Queries whose member share is under `below`, worst first, with `shown` others."""
    summary = share_per_query(table)
    short = summary[summary["share"] < below].copy()
    outsiders = table[~table["is_shark"]].sort_values(["query_wnid", "rank"])
    first_outsiders = outsiders.groupby("query_wnid")["neighbour"].agg(
        lambda names: ", ".join(names.head(shown))
    )
    short["others"] = short["query_wnid"].map(first_outsiders).fillna("")
    return short.drop(columns="k").reset_index(drop=True)


def hub_counts(space: LabelSpace, k: int = 10, queries=None) -> pd.DataFrame:
    """How often each label is among the k nearest others of the `queries` (wnids;
    default all), most frequent first, ties in space order. Each query hands out k
    places, so `times` averages k: a label far above k is a *hub*, near to all kinds."""
    rows = np.arange(len(space)) if queries is None else space.index(queries)
    top, _ = nearest_others(space, rows, k)
    times = np.bincount(top.ravel(), minlength=len(space))
    table = pd.DataFrame({"wnid": space.wnids, "name": space.names, "times": times})
    table = table.sort_values("times", ascending=False, kind="stable")
    return table.reset_index(drop=True)


def hub_summary(counts: pd.DataFrame) -> dict:
    """What a `hub_counts` table says: the top label, its times and their multiple of
    the average, the times' skewness (0 if even), the share never a neighbour."""
    times = counts["times"].to_numpy(dtype=np.float64)
    spread = times.std()
    skewness = ((times - times.mean()) ** 3).mean() / spread**3 if spread else 0.0
    top = counts.loc[counts["times"].idxmax()]
    return {
        "most frequent": top["name"],
        "times": int(top["times"]),
        "x average": float(top["times"] / times.mean()),
        "skewness": float(skewness),
        "never a neighbour": float((times == 0).mean()),
    }


def shark_neighbours(space: LabelSpace, k: int = 9) -> pd.DataFrame:
    """The paper's check on the real label space: each shark species' k nearest."""
    sharks = shark_wnids(space.wnids, species_only=True)
    return label_neighbours(space, sharks, k, is_shark)
