import itertools

import numpy as np
import pytest
from handmade import ZOO_LEAVES

from devise_lite.metrics import (
    chance_hierarchical_precision_at_k,
    chance_hit_at_k,
    flat_hit_at_k,
    hierarchical_precision_at_k,
)
from devise_lite.vectors import top_k

LEAVES = set(ZOO_LEAVES)


def test_top_k_by_hand_with_ties():
    scores = np.array([[0.1, 0.9, 0.5, 0.9, 0.2], [1.0, 1.0, 1.0, 0.0, 1.0]])
    assert top_k(scores, 3).tolist() == [[1, 3, 2], [0, 1, 2]]
    assert top_k(scores, 1).tolist() == [[1], [0]]
    assert top_k(scores, 5).tolist() == [[1, 3, 2, 4, 0], [0, 1, 2, 4, 3]]


def test_top_k_equals_a_stable_full_sort_on_tied_random_scores():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=(1300, 40)).astype(
        np.float32
    )  # many ties, several row chunks
    for k in (1, 7, 40):
        expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        assert np.array_equal(top_k(scores, k), expected)


def test_top_k_rejects_bad_input():
    with pytest.raises(ValueError, match="between 1 and the number of labels"):
        top_k(np.zeros((2, 3)), 4)
    with pytest.raises(ValueError, match="NaN"):
        top_k(np.array([[0.0, np.nan]]), 1)


def test_flat_hit_by_hand():
    ranked = np.array([[3, 1, 2, 0], [0, 2, 1, 3], [1, 0, 3, 2]])
    true = np.array([1, 0, 2])  # found at positions 2, 1 and 4
    assert flat_hit_at_k(ranked, true, ks=(1, 2, 3, 4)) == {
        1: 1 / 3,
        2: 2 / 3,
        3: 2 / 3,
        4: 1.0,
    }
    with pytest.raises(ValueError, match="rank at least max"):
        flat_hit_at_k(ranked, true, ks=(5,))
    with pytest.raises(ValueError, match="one row per true label"):
        flat_hit_at_k(ranked, true[:2], ks=(1,))


def test_hierarchical_precision_by_hand(zoo):
    # great_white: correct sets k=2,3 {gw, hammerhead, tiger}, k=4 + ray.
    # whale: k=2 {whale, dolphin}, k=3 + ray, k=4 all six leaves.
    ranked = [
        ["hammerhead", "whale", "tiger_shark", "ray", "dolphin", "great_white"],
        ["dolphin", "ray", "great_white", "whale", "hammerhead", "tiger_shark"],
    ]
    hp = hierarchical_precision_at_k(
        ranked, ["great_white", "whale"], zoo, LEAVES, ks=(1, 2, 3, 4)
    )
    assert hp[1] == 0.0  # hp@1 is flat hit@1 when the true label is valid
    assert hp[2] == pytest.approx((1 / 2 + 1 / 2) / 2)  # {hammerhead}, {dolphin}
    assert hp[3] == pytest.approx(
        (2 / 3 + 2 / 3) / 2
    )  # {hammerhead, tiger}, {dolphin, ray}
    assert hp[4] == pytest.approx((3 / 4 + 4 / 4) / 2)


def test_hierarchical_precision_gives_credit_flat_hit_does_not(zoo):
    # A model that always ranks the true label's sibling first: flat hit@2 = 0 but hp@2
    # = 1/2.
    ranked = np.array([["hammerhead", "whale"], ["tiger_shark", "dolphin"]])
    true = ["great_white", "hammerhead"]
    assert hierarchical_precision_at_k(ranked, true, zoo, LEAVES, ks=(2,)) == {2: 0.5}


def test_chance_hit():
    assert chance_hit_at_k(20, ks=(1, 5, 20, 50)) == {
        1: 0.05,
        5: 0.25,
        20: 1.0,
        50: 1.0,
    }
    with pytest.raises(ValueError):
        chance_hit_at_k(0)


def test_chance_hierarchical_precision_by_hand_and_by_enumeration(zoo):
    true = ["great_white", "whale"]
    chance = chance_hierarchical_precision_at_k(true, zoo, LEAVES, ks=(2, 3, 4))
    # |correct sets| (gw, whale): k=2: 3, 2; k=3: 3, 3; k=4: 4, 6; over 6 valid labels.
    assert chance[2] == pytest.approx((3 + 2) / 2 / 6)
    assert chance[3] == pytest.approx((3 + 3) / 2 / 6)
    assert chance[4] == pytest.approx((4 + 6) / 2 / 6)
    # The mean hp@k over all 720 rankings of the six labels is exactly that.
    leaves = sorted(LEAVES)
    rankings = [list(p) for p in itertools.permutations(leaves)]
    for t in true:
        exact = hierarchical_precision_at_k(
            rankings, [t] * len(rankings), zoo, LEAVES, ks=(2, 3, 4)
        )
        alone = chance_hierarchical_precision_at_k([t], zoo, LEAVES, ks=(2, 3, 4))
        assert exact == pytest.approx(alone)
