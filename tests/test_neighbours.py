import numpy as np

from devise_lite.labels import LabelSpace
from devise_lite.vectors import unit
from devise_lite.neighbours import NEIGHBOUR_COLUMNS, label_neighbours, share_per_query


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
    assert dict(zip(summary.query_wnid, summary.share)) == {"s1": 2 / 3, "s3": 2 / 3}
