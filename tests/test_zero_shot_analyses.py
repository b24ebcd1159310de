"""The analyses the zeroshot stage writes, on hand-computed cases: the model
`predict` picks by default, the candidate-set rows, Figure 2's gallery labels and
top-1 hops, and the seen-count curve."""

import numpy as np
import pandas as pd
import pytest
from handmade import zoo

from devise_lite.candidates import candidate_set_rows
from devise_lite.gallery import GALLERY_LABELS, gallery_labels, top1_hops
from devise_lite.imagenet1k import Classifier, best_zero_shot_model, seen_count_curve
from devise_lite.labels import LabelSpace


def test_the_default_model_is_the_best_2hop_hit5_of_devise_and_conse_only():
    table2 = pd.DataFrame(
        [
            ("imagenet1k", "2-hop", "DeViSE", 0.20),
            ("imagenet1k", "2-hop", "DeViSE, random embeddings", 0.90),  # a control
            ("imagenet1k", "2-hop", "ConSE (T=10)", 0.40),
            ("imagenet1k", "2-hop", "ConSE (T=1)", 0.30),
            ("imagenet1k", "3-hop", "DeViSE", 0.95),  # another set
            ("caltech", "2-hop", "DeViSE", 0.99),  # another experiment
            ("imagenet1k", "2-hop", "chance", 0.99),
        ],
        columns=["seen_labels", "candidate_set", "model", "hit@5"],
    )
    assert best_zero_shot_model(table2) == {
        "best_model": "ConSE (T=10)",
        "best_hit@5": 0.40,
    }


def test_candidate_set_rows_leave_seen_labels_out_of_the_base_and_add_them_for_plus():
    lists = {"seen": ["s1", "s2"], "2-hop": ["a", "s1"], "3-hop": ["a", "b"]}
    lists["21k"] = ["a", "b", "c", "s2"]
    rows = candidate_set_rows(lists)
    members = rows.groupby("candidate_set")["wnid"].apply(list).to_dict()
    assert members == {
        "2-hop": ["a"],
        "2-hop+seen": ["a", "s1", "s2"],
        "3-hop": ["a", "b"],
        "3-hop+seen": ["a", "b", "s1", "s2"],
        "21k": ["a", "b", "c"],
        "21k+seen": ["a", "b", "c", "s1", "s2"],
    }


def test_gallery_labels_are_a_seeded_draw_of_the_2hop_test_labels():
    test = [f"l{i}" for i in range(10)] * 2 + ["outside"]
    two_hop = [f"l{i}" for i in range(10)]
    drawn = gallery_labels(test, two_hop, seed=3)
    assert len(drawn) == GALLERY_LABELS and drawn <= set(two_hop)
    assert drawn == gallery_labels(list(reversed(test)), two_hop, seed=3)  # order-free
    # a label outside the 2-hop set is never shown, however small the draw
    assert gallery_labels(["outside", "l1"], two_hop, seed=0) == {"l1"}


def test_top1_hops_walk_the_tree_from_each_true_label():
    # two photos of great_white; the models answer hammerhead (2 hops: via shark),
    # the truth itself (0) and ray (3: shark, fish, ray); one whale photo -> dolphin
    answers = [
        ("a", "set", np.array([["hammerhead"], ["great_white"], ["dolphin"]])),
        ("b", "set", np.array([["ray"], ["ray"], ["whale"]])),
    ]
    hops = top1_hops(zoo(), ["great_white", "great_white", "whale"], answers)
    assert hops == {
        "great_white": {"hammerhead": 2, "great_white": 0, "ray": 3},
        "whale": {"dolphin": 2, "whale": 0},
    }


class _Model:
    """A DeViSE-1K stand-in: its seen labels and a projection."""

    def __init__(self, seen, project):
        self.seen, self.project = seen, project


def test_seen_count_curve_scores_devise_and_conse_per_number_of_seen_labels():
    # seen s1, s2 on the first two axes; unseen u1 near s1, u2 near s2; 20 fillers
    # on the third axis, far from every photo (Table 2 ranks at least 20 labels)
    fillers = [f"f{i}" for i in range(20)]
    wnids = ["s1", "s2", "u1", "u2", *fillers]
    rows = [[1, 0, 0], [0, 1, 0], [0.9, 0.1, 0], [0.1, 0.9, 0]]
    rows += [[0.01 * i, 0, 1] for i in range(20)]
    vectors = np.array(rows, np.float32)
    space = LabelSpace(wnids, wnids, vectors / np.linalg.norm(vectors, axis=1)[:, None])
    # two photos, of u1 then u2; their features are one-hot over the two classes
    features = np.eye(2, dtype=np.float32)
    classifier = Classifier(np.eye(2, dtype=np.float32) * 10, np.zeros(2), ["s1", "s2"])
    right = _Model(["s1", "s2"], lambda x: np.c_[x, np.zeros(len(x))])  # u1 -> s1
    wrong = _Model(["s1"], lambda x: np.c_[x[:, ::-1], np.zeros(len(x))])  # swapped
    curve = seen_count_curve(
        {"both": right, "one": wrong},
        features,
        ["u1", "u2"],
        ["u1", "u2", *fillers],
        classifier,
        space,
        top_t=1,
    )
    hit1 = {(r.n_seen, r.model): r["hit@1"] for _, r in curve.iterrows()}
    assert hit1[(2, "DeViSE")] == 1.0 and hit1[(1, "DeViSE")] == 0.0
    # ConSE, T=1, two seen labels: each photo lands on s1 or s2, next to its label
    assert hit1[(2, "ConSE (T=1)")] == 1.0
    # one seen label: both photos land on s1, nearest u1: one photo of two right
    assert hit1[(1, "ConSE (T=1)")] == 0.5
    assert list(curve.n_seen) == sorted(curve.n_seen)


def test_each_lever_is_one_model_with_one_setting_changed():
    from devise_lite.config import ImageNetConfig
    from devise_lite.imagenet1k import model_specs

    cfg = ImageNetConfig(
        views=2, view_ablation=(), seen_counts=(), lever_ablation=(("margin", 0.2),)
    )
    specs = {spec.name: spec for spec in model_specs(cfg, ["a", "b"])}
    lever = specs["DeViSE-1K, margin=0.2"]
    assert lever.settings == (("margin", 0.2),) and lever.views == 2
    assert specs["DeViSE-1K"].settings == ()


def test_lever_ablation_reads_each_setting_against_the_preset_and_chance():
    from devise_lite.book.zero_shot_views import lever_ablation

    def row(model, setting, hit5, label_hit5, views=10):
        return {
            "candidate_set": "2-hop",
            "model": model,
            "setting": setting,
            "views": views,
            "n_seen": 1000,
            "hit@5": hit5,
            "label_hit@5": label_hit5,
        }

    ablation = pd.DataFrame(
        [
            # a stage's CSV reads an empty setting back as missing
            row("DeViSE-1K", float("nan"), 0.20, 0.25),
            row("DeViSE-1K, 1 view", float("nan"), 0.10, 0.12, views=1),
            row("DeViSE-1K, margin=0.2", "margin=0.2", 0.23, 0.24),
        ]
    )
    table2 = pd.DataFrame(
        [{"seen_labels": "imagenet1k", "candidate_set": "2-hop", "model": "chance"}]
    ).assign(**{"hit@5": 0.004})
    table = lever_ablation(ablation, table2)
    assert list(table["model"]) == ["DeViSE-1K", "DeViSE-1K, margin=0.2"]
    assert list(table["setting changed"]) == ["none (the preset)", "margin=0.2"]
    assert np.allclose(table["x chance"], [50, 57.5])
    assert np.allclose(table["change (points)"], [0, 3])


def test_seed_margins_by_hand():
    from devise_lite.evaluation import seed_margins

    rows = pd.DataFrame(
        [
            (0, "DeViSE", 0.60),
            (0, "DeViSE, random embeddings", 0.58),
            (1, "DeViSE", 0.62),
            (1, "DeViSE, random embeddings", 0.63),
            (2, "DeViSE", 0.64),
            (2, "DeViSE, random embeddings", 0.60),
        ],
        columns=["seed", "model", "hp@2"],
    )
    row = seed_margins(rows, ["hp@2"]).iloc[0]
    assert row["DeViSE mean"] == pytest.approx(0.62)
    assert row["DeViSE sd"] == pytest.approx(0.02)
    # differences 0.02, -0.01, 0.04: mean 0.05 / 3, two of three ahead
    assert row["difference mean"] == pytest.approx(0.05 / 3)
    assert row["difference sd"] == pytest.approx(np.std([0.02, -0.01, 0.04], ddof=1))
    assert row["seeds DeViSE ahead"] == "2 of 3"
