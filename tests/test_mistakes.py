"""Chapter 5's analysis, by hand on the zoo hierarchy: the top-1 mistakes, how many hops
they fall from the truth, the size of the hierarchical-precision sets, and the Table 1
scores every model ranks by."""

import math

import numpy as np
import pytest
import torch
from handmade import ZOO_LEAVES
from torch import nn

from devise_lite import evaluation
from devise_lite.hierarchy import Hierarchy, pair_hops
from devise_lite.labels import LabelSpace, random_label_space
from devise_lite.metrics import correct_set_sizes
from devise_lite.vectors import unit

LEAVES = ZOO_LEAVES


def test_pair_hops_by_hand(zoo):
    pairs = [
        ("great_white", "hammerhead"),  # gw - shark - hammerhead
        ("great_white", "ray"),  # gw - shark - fish - ray
        ("ray", "dolphin"),  # ray - fish - animal - mammal - dolphin
        ("great_white", "whale"),  # gw - shark - fish - animal - mammal - whale
        ("great_white", "hammerhead"),  # repeated: the same answer, in its place
    ]
    assert pair_hops(zoo, pairs) == [2, 3, 4, 5, 2]
    assert pair_hops(zoo, []) == []


def test_pair_hops_refuses_unconnected_labels():
    islands = Hierarchy.from_parents({"a": ["b"], "c": ["d"]})
    with pytest.raises(ValueError, match="no path"):
        pair_hops(islands, [("a", "b"), ("a", "c")])


def test_top1_mistakes_and_their_hops(zoo):
    candidates = ["great_white", "hammerhead", "ray", "whale"]
    scores = np.array(
        [
            [0.9, 0.1, 0.0, 0.0],  # great_white: right
            [0.1, 0.8, 0.2, 0.0],  # great_white called hammerhead: 2 hops
            [0.0, 0.0, 0.1, 0.5],  # ray called whale: ray-fish-animal-mammal-whale
            [0.0, 0.0, 0.1, 0.5],  # dolphin, not a candidate, called whale: 2 hops
        ]
    )
    true = ["great_white", "great_white", "ray", "dolphin"]
    assert evaluation.top1_mistakes(scores, true, candidates) == [
        ("great_white", "hammerhead"),
        ("ray", "whale"),
        ("dolphin", "whale"),
    ]
    right = np.eye(4)[[0, 0, 2, 3]]  # every top-1 label true but the dolphin's
    hops = evaluation.mistake_hops(
        {"model": scores, "other": right}, true, candidates, zoo
    )
    assert hops == {"model": [2, 4, 2], "other": [2]}
    with pytest.raises(ValueError, match="true labels"):
        evaluation.top1_mistakes(scores[:2], true, candidates)


def test_mistake_summary_by_hand():
    table = evaluation.mistake_summary({"a": [2, 4, 5], "b": []}, near=4)
    assert list(table.columns) == [
        "top-1 mistakes",
        "mean hops",
        "median hops",
        "share within 4 hops",
    ]
    assert table.index.name == "model" and list(table.index) == ["a", "b"]
    a, b = table.loc["a"], table.loc["b"]
    assert a["top-1 mistakes"] == 3 and a["mean hops"] == pytest.approx(11 / 3)
    assert a["median hops"] == 4 and a["share within 4 hops"] == pytest.approx(2 / 3)
    assert b["top-1 mistakes"] == 0 and math.isnan(b["mean hops"])
    assert table["top-1 mistakes"].dtype == int


def test_correct_set_sizes_by_hand(zoo):
    # great_white: {gw} at radius 0; + hammerhead, tiger_shark at 2 (3 labels);
    #   + ray at 3; + whale, dolphin at 5 (all 6).
    # ray: {ray} at 0; + the three sharks at 3 (4 labels); + whale, dolphin at 4 (6).
    true = ["great_white", "ray", "great_white"]  # distinct labels count once
    table = correct_set_sizes(true, zoo, LEAVES, ks=(1, 2, 5))
    assert list(table.index) == ["hp@1", "hp@2", "hp@5"]
    assert table["mean size"].tolist() == [1.0, 3.5, 6.0]
    assert table["share of candidates"].tolist() == pytest.approx([1 / 6, 3.5 / 6, 1])
    with pytest.raises(ValueError):
        correct_set_sizes([], zoo, LEAVES, ks=(1,))


class Scale(nn.Module):
    """A fixed linear map (a trained model stand-in): features @ weights."""

    def __init__(self, weights):
        super().__init__()
        self.weights = nn.Parameter(torch.tensor(weights, dtype=torch.float32))

    def forward(self, x):
        return x @ self.weights


def test_table1_scores_by_hand():
    space = LabelSpace(
        ["a", "b", "c"], ["A", "B", "C"], unit(np.array([[1.0, 0], [0, 1], [1, 1]]))
    )
    features = np.array([[1.0, 0.0], [0.0, 2.0]])
    models = {
        evaluation.SOFTMAX: Scale([[1.0, 0.0], [0.0, 1.0]]),  # logits over a, b
        evaluation.DEVISE: nn.Sequential(Scale([[1.0, 0.0], [0.0, 1.0]])),
        evaluation.RANDOM: nn.Sequential(Scale([[0.0, 1.0], [1.0, 0.0]])),
    }
    # The stand-ins do not normalise: DeViSE's scores are its outputs dotted with the
    # unit vectors of a and b (c is not a Table 1 label here).
    scores = evaluation.table1_scores(["a", "b"], space, models, features)
    assert list(scores) == [evaluation.SOFTMAX, evaluation.DEVISE, evaluation.RANDOM]
    assert np.allclose(scores[evaluation.SOFTMAX], [[1, 0], [0, 2]])
    assert np.allclose(scores[evaluation.DEVISE], [[1, 0], [0, 2]])
    random_vectors = random_label_space(space.subset(["a", "b"])).vectors
    assert np.allclose(
        scores[evaluation.RANDOM], np.array([[0, 1], [2, 0]]) @ random_vectors.T
    )
    tuned = unit(np.array([[1.0, 1.0], [1.0, 0.0]]))
    with_phase2 = evaluation.table1_scores(["b"], space, models, features, tuned)
    assert np.allclose(with_phase2[evaluation.PHASE2], [[2**-0.5], [0.0]])
