import numpy as np
import pandas as pd

from devise_lite import neighbours
from devise_lite.labels import LabelSpace
from devise_lite.neighbours import (
    NEIGHBOUR_COLUMNS,
    check_summary,
    falling_short,
    hub_counts,
    hub_summary,
    label_neighbours,
    nearest_others,
    share_per_query,
)
from devise_lite.vectors import unit


def test_shark_neighbours_on_hand_made_vectors():
    # Three sharks close together along x, a dolphin and a car elsewhere.
    vectors = unit(
        np.array(
            [
                [1.0, 0.1, 0],
                [1.0, 0.2, 0],
                [1.0, 0.0, 0.3],
                [0.5, 1.0, 0],
                [0.0, 0.0, 1.0],
            ],
            dtype=np.float32,
        )
    )
    space = LabelSpace(
        ["s1", "s2", "s3", "dolphin", "car"],
        ["S1", "S2", "S3", "Dolphin", "Car"],
        vectors,
    )
    sharks = {"s1", "s2", "s3"}
    table = label_neighbours(space, ["s1", "s3"], k=3, is_member=sharks.__contains__)
    assert list(table.columns) == NEIGHBOUR_COLUMNS
    assert len(table) == 6 and table["rank"].tolist() == [1, 2, 3, 1, 2, 3]
    s1 = table[table.query_wnid == "s1"]
    assert s1["neighbour_wnid"].tolist() == ["s2", "s3", "dolphin"]  # never itself
    assert s1["cosine"].is_monotonic_decreasing
    assert np.isclose(s1["cosine"].iloc[0], float(vectors[0] @ vectors[1]))
    assert s1["is_shark"].tolist() == [True, True, False]
    summary = share_per_query(table)
    assert dict(zip(summary.query_wnid, summary.share, strict=True)) == {
        "s1": 2 / 3,
        "s3": 2 / 3,
    }


# Four labels on the unit circle, cosines by hand: a.b = 0.8, a.c = 0.6, a.d = 0,
# b.c = 0.96, b.d = 0.6, c.d = 0.8.
CIRCLE = LabelSpace(
    ["a", "b", "c", "d"],
    ["A", "B", "C", "D"],
    np.array([[1, 0], [0.8, 0.6], [0.6, 0.8], [0, 1]], dtype=np.float32),
)


def test_nearest_others_leaves_the_query_out_and_ranks_by_cosine():
    top, cosines = nearest_others(CIRCLE, [0, 1, 3], k=2)
    assert top.tolist() == [[1, 2], [2, 0], [2, 1]]  # a: b, c; b: c, a; d: c, b
    assert np.allclose(cosines, [[0.8, 0.6], [0.96, 0.8], [0.8, 0.6]])


def test_nearest_others_is_the_same_in_blocks_of_any_size(monkeypatch):
    whole = nearest_others(CIRCLE, range(4), k=3)
    monkeypatch.setattr(neighbours, "_QUERIES_PER_BLOCK", 3)  # blocks of 3 and 1
    blocked = nearest_others(CIRCLE, range(4), k=3)
    assert all(np.array_equal(x, y) for x, y in zip(whole, blocked, strict=True))


def test_hub_counts_by_hand():
    # k = 1: a -> b, b -> c, c -> b, d -> c.
    one = hub_counts(CIRCLE, k=1)
    assert one["wnid"].tolist() == ["b", "c", "a", "d"]  # ties in the space's order
    assert one["times"].tolist() == [2, 2, 0, 0]
    # k = 2: a -> b, c; b -> c, a; c -> b, d; d -> c, b: every query gives 2 places.
    two = hub_counts(CIRCLE, k=2).set_index("wnid")["times"]
    assert two.to_dict() == {"b": 3, "c": 3, "a": 1, "d": 1}
    assert two.sum() == 2 * len(CIRCLE)
    only_a = hub_counts(CIRCLE, k=2, queries=["a"]).set_index("name")["times"]
    assert only_a.to_dict() == {"B": 1, "C": 1, "A": 0, "D": 0}


def test_falling_short_lists_the_outsiders_of_the_weak_queries():
    members = {"a", "b"}
    table = label_neighbours(
        CIRCLE, ["a", "b", "d"], k=2, is_member=members.__contains__
    )
    # a: b, c -> 1/2; b: c, a -> 1/2; d: c, b -> 1/2. Below 0.6: all three, in order.
    short = falling_short(table, below=0.6)
    assert short["query_wnid"].tolist() == ["a", "b", "d"]
    assert short["sharks"].tolist() == [1, 1, 1]
    assert short["others"].tolist() == ["C", "C", "C"]
    assert falling_short(table, below=0.5).empty  # 1/2 is not under 1/2


def test_hub_summary_by_hand():
    counts = pd.DataFrame(
        {"wnid": list("abcd"), "name": list("ABCD"), "times": [3, 1, 0, 0]}
    )
    # mean 1; deviations 2, 0, -1, -1: second moment 6/4, third 6/4, so the skewness
    # is 1.5 / 1.5 ** 1.5 = 1 / sqrt(1.5).
    summary = hub_summary(counts)
    assert summary["most frequent"] == "A" and summary["times"] == 3
    assert summary["x average"] == 3.0 and summary["never a neighbour"] == 0.5
    assert np.isclose(summary["skewness"], 1 / np.sqrt(1.5))
    even = counts.assign(times=[1, 1, 1, 1])
    assert hub_summary(even)["skewness"] == 0.0


def test_check_summary_by_hand():
    members = {"b", "c"}
    table = label_neighbours(
        CIRCLE, ["a", "b", "d"], k=2, is_member=members.__contains__
    )
    # a: b, c -> 2 members; b: c, a -> 1; d: c, b -> 2.
    assert check_summary(table, enough=2) == {
        "members (mean)": 5 / 3,
        "queries with 2 or more": 2,
        "queries": 3,
    }
