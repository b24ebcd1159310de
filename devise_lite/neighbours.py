"""The paper's sanity check of the label space: a shark's nearest labels should be sharks.

`label_neighbours` is pure (vectors in, table out) so it is tested on hand-made vectors;
`shark_neighbours` applies it to the real label space with WordNet deciding what is a shark.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .labels import LabelSpace
from .vectors import top_k

NEIGHBOUR_COLUMNS = [
    "query_wnid",
    "query",
    "rank",
    "neighbour_wnid",
    "neighbour",
    "cosine",
    "is_shark",
]


def label_neighbours(
    space: LabelSpace, queries: Sequence[str], k: int, is_member: Callable[[str], bool]
) -> pd.DataFrame:
    """For each query wnid, its k nearest *other* labels by cosine, one row per (query, rank).

    `is_member(wnid)` marks the neighbours that belong to the query's group (e.g. "is a shark").
    """
    rows = space.index(queries)
    cosines = space.vectors[rows] @ space.vectors.T
    cosines[np.arange(len(rows)), rows] = -np.inf  # a label is not its own neighbour
    top = top_k(cosines, k)
    records = []
    for q, (row, near) in enumerate(zip(rows, top)):
        for rank, j in enumerate(near, start=1):
            wnid = space.wnids[j]
            records.append(
                {
                    "query_wnid": space.wnids[row],
                    "query": space.names[row],
                    "rank": rank,
                    "neighbour_wnid": wnid,
                    "neighbour": space.names[j],
                    "cosine": float(cosines[q, j]),
                    "is_shark": bool(is_member(wnid)),
                }
            )
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


def shark_neighbours(space: LabelSpace, k: int = 9) -> pd.DataFrame:
    """The paper's check on the real label space: each shark species' k nearest labels."""
    from .sharks import is_shark, shark_wnids

    return label_neighbours(
        space, shark_wnids(space.wnids, species_only=True), k, is_shark
    )
