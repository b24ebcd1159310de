"""The paper's zero-shot setting: ConSE over the backbone's classifier, training rows
of the sample, the tree-hop rules, the shark models, the datasets, and the wall between
seen and test labels on the tiny preset."""

import numpy as np
import pytest

from devise_lite.candidates import (
    TREE_RULES,
    standard_sets,
    tree_hop_set,
    with_seen,
)
from devise_lite.config import ImageNetConfig, get_preset
from devise_lite.imagenet1k import (
    Classifier,
    conse_points,
    model_specs,
    seeded_subset,
    seen_columns,
    seen_probabilities,
    training_rows,
)
from devise_lite.sharks import (
    GREAT_WHITE_WNID,
    HAMMERHEAD_WNID,
    TIGER_SHARK_WNID,
    shark_specs,
)
from devise_lite.vectors import softmax

TINY = get_preset("tiny")


def test_tree_hop_rules_by_hand(zoo):
    within, lines = TREE_RULES
    # Two edges in any order: the parent, the grandparent, the two siblings.
    assert tree_hop_set(zoo, ["great_white"], 2, within) == {
        "shark",
        "fish",
        "hammerhead",
        "tiger_shark",
    }
    # Only up or only down: no sibling.
    assert tree_hop_set(zoo, ["great_white"], 2, lines) == {"shark", "fish"}
    assert tree_hop_set(zoo, ["fish"], 1, lines) == {"animal", "shark", "ray"}
    assert tree_hop_set(zoo, ["fish"], 2, lines) == {
        "animal",
        "shark",
        "ray",
        "great_white",
        "hammerhead",
        "tiger_shark",
    }
    # Three edges: shark, fish, then animal and ray; mammal is a fourth edge away.
    assert tree_hop_set(zoo, ["great_white"], 3, within) == {
        "shark",
        "fish",
        "hammerhead",
        "tiger_shark",
        "ray",
        "animal",
    }
    assert "mammal" in tree_hop_set(zoo, ["great_white"], 4, within)
    with pytest.raises(ValueError, match="unknown rule"):
        tree_hop_set(zoo, ["fish"], 1, "sideways")


def test_standard_sets_drop_labels_without_a_vector_and_add_back_the_seen():
    vocabulary = ["a", "b", "c", "s1", "s2"]  # labels with a vector, in order
    lists = {
        "seen": ["s1", "s2", "s3"],
        "2-hop": ["c", "a", "x"],
        "3-hop": ["a", "b"],
        "21k": ["a", "b", "c", "x", "y"],
    }
    sets = standard_sets(["s1", "s2"], vocabulary, lists)
    assert sets["2-hop"] == ["a", "c"]  # "x" has no vector
    assert sets["2-hop+seen"] == ["a", "c", "s1", "s2"]
    assert sets["21k"] == ["a", "b", "c"]
    assert with_seen(["a", "s1"], ["s1"], False, vocabulary) == ["a"]  # never seen


def test_conse_renormalises_over_the_classes_kept():
    logits = np.log(np.array([[0.5, 0.3, 0.2]]))  # probabilities 0.5, 0.3, 0.2
    columns = np.array([1, 2])  # class 0 removed from the seen labels
    kept = seen_probabilities(logits, columns)
    assert np.allclose(kept, [[0.6, 0.4]])  # 0.3 / 0.5 and 0.2 / 0.5
    assert np.allclose(kept, softmax(logits)[:, columns] / 0.5)
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]])
    point = conse_points(logits, columns, vectors, top_t=2)
    assert np.allclose(point, np.array([[0.6, 0.4]]) / np.hypot(0.6, 0.4))
    # With T = 1 the removed class, though the most probable, cannot be the answer.
    assert np.allclose(conse_points(logits, columns, vectors, top_t=1), [[1.0, 0.0]])


def test_classifier_columns_follow_the_seen_labels():
    head = Classifier(
        np.eye(3, 2, dtype=np.float32), np.zeros(3, np.float32), ["n1", "n2", "n3"]
    )
    assert seen_columns(head, ["n3", "n1"]).tolist() == [2, 0]
    assert head.logits(np.array([[1.0, 2.0]])).tolist() == [[1.0, 2.0, 0.0]]
    with pytest.raises(ValueError, match="not classifier classes"):
        seen_columns(head, ["n9"])


def test_training_rows_hold_only_seen_labels_and_every_view():
    views = np.arange(2 * 4 * 1, dtype=np.float32).reshape(2, 4, 1)  # 2 views, 4 photos
    x, y = training_rows(views, ["a", "b", "c", "d"], ["d", "b"], n_views=2)
    assert x[:, 0].tolist() == [1, 3, 5, 7]  # photos b and d, view 0 then view 1
    assert y.tolist() == [1, 0, 1, 0]  # indices into the seen labels ["d", "b"]
    with pytest.raises(ValueError, match="3 views asked for"):
        training_rows(views, ["a", "b", "c", "d"], ["a"], n_views=3)


def test_model_specs_and_shark_specs_leave_out_what_they_say():
    seen = [f"n{i:08d}" for i in range(600)] + [
        GREAT_WHITE_WNID,
        HAMMERHEAD_WNID,
        TIGER_SHARK_WNID,
    ]
    cfg = ImageNetConfig(
        views=10, view_ablation=(1, 3), seen_counts=(50, 500), lever_ablation=()
    )
    specs = {s.name: s for s in model_specs(cfg, seen)}
    assert set(specs) == {
        "DeViSE-1K",
        "DeViSE-1K, random embeddings",
        "DeViSE-1K, 1 view",
        "DeViSE-1K, 3 views",
        "DeViSE-1K, 50 seen labels",
        "DeViSE-1K, 500 seen labels",
    }
    assert set(specs["DeViSE-1K, 50 seen labels"].seen) < set(
        specs["DeViSE-1K, 500 seen labels"].seen
    )  # nested subsets
    # A seeded draw of 50, in the labels' own order, and another draw for another seed.
    fifty = seeded_subset(seen, 50, 0)
    assert len(fifty) == 50 and fifty == [w for w in seen if w in set(fifty)]
    assert seeded_subset(seen, 50, 1) != fifty
    sharks = {
        s.name: s for s in shark_specs(cfg, seen, [GREAT_WHITE_WNID, HAMMERHEAD_WNID])
    }
    without_gw = sharks["DeViSE-1K without great white shark"]
    assert GREAT_WHITE_WNID not in without_gw.seen and len(without_gw.seen) == 602
    three = sharks["DeViSE-1K without the three sharks"]
    assert not {GREAT_WHITE_WNID, HAMMERHEAD_WNID, TIGER_SHARK_WNID} & set(three.seen)
    extra = sharks["DeViSE-1K without great white shark, + 30 hammerhead photos"]
    assert extra.extra_species == HAMMERHEAD_WNID and extra.seen == without_gw.seen


def test_no_test_photo_has_a_seen_or_ilsvrc_label(tiny_run):
    from devise_lite import pipeline
    from devise_lite.wnids import imagenet1k_wnids

    photos = pipeline.zero_shot_photos(TINY)
    assert photos.wnids
    assert not set(photos.wnids) & set(pipeline.seen_1k(TINY))
    assert not set(photos.wnids) & set(imagenet1k_wnids())
    assert len(photos.features) == len(photos.wnids) == len(photos.images)


# ---------------------------------------------------------------- the chapter's tables


def test_hop_rules_beside_the_paper_and_the_closest_rule():
    import pandas as pd

    from devise_lite.candidates import closest_rule, hop_rules_beside_paper

    rules = pd.DataFrame(
        {
            "rule": ["any", "any", "lines", "lines"],
            "hops": [1, 2, 1, 2],
            "size": [1548, 5910, 1548, 1909],
            "with a vector": [1237, 4653, 1237, 1521],
            "in 2-hop list": [1548, 1548, 1548, 1548],
            "2-hop list not in rule": [1, 1, 1, 1],
            "in 3-hop list": [1548, 5903, 1548, 1909],
            "3-hop list not in rule": [6312, 1957, 6312, 5951],
        }
    )
    beside = hop_rules_beside_paper(rules, {2: 1589})
    assert beside["paper"].isna().tolist() == [True, False, True, False]
    assert beside["labels"].tolist() == [1548, 5910, 1548, 1909]
    assert "2-hop list not in rule" not in beside
    found = closest_rule(beside, 2)
    assert (found["rule"], found["size"], found["paper"]) == ("lines", 1909, 1589)
    # Of every rule and hop count, one edge comes nearest (the first such row).
    assert (found["any rule"], found["any hops"], found["any size"]) == ("any", 1, 1548)


def test_setting_table_counts_what_each_model_learnt_from():
    from devise_lite.imagenet1k import ILSVRC_TRAIN_PHOTOS, setting_table

    table = setting_table(1000, 880, 10).set_index("model")
    assert table.loc["DeViSE-1K", "photos behind it"] == 880
    assert table.loc["DeViSE-1K", "views a photo"] == 10
    assert table.loc["ConSE-1K", "labels"] == 880
    assert table.loc["ConSE-1K", "photos behind it"] == ILSVRC_TRAIN_PHOTOS
    assert table.loc["softmax baseline", "labels"] == 1000


def test_shark_table_names_models_by_what_they_saw():
    import pandas as pd

    from devise_lite.sharks import shark_table, without_name

    base = {
        "held_out": "hammerhead",
        "n_images": 184,
        "seen_species": "great white shark, tiger shark",
        "top1_most_common": "whitetip_shark.n.01: 60/184",
        "share_true_in_top5": 0.1,
        "share_shark_top1": 0.5,
        "note": None,
    }
    variant = f"{without_name('hammerhead')}, + 30 great white shark photos"
    summary = pd.DataFrame(
        [
            {**base, "model": "DeViSE", "share_shark_in_top5": 0.8},
            {**base, "model": variant, "share_shark_in_top5": 0.9},
            {**base, "model": "ConSE (T=10)", "share_shark_in_top5": 0.99},
            {**base, "model": "chance", "share_shark_in_top5": 0.01},
            {"held_out": "all three sharks", "model": "DeViSE", "note": "no vector"},
        ]
    )
    rows = {without_name("hammerhead"): 8790, variant: 8820}
    table = shark_table(summary, rows)
    assert table["model"].tolist() == [
        "DeViSE-1K",
        "DeViSE-1K, + 30 great white shark photos",
        "ConSE-1K (T=10)",
        "chance",
    ]
    assert table["training rows"].tolist()[:2] == [8790, 8820]
    assert table["training rows"].isna().tolist()[2:] == [True, True]
    assert table["shark in top 5"].tolist() == [0.8, 0.9, 0.99, 0.01]
    assert table["held out"].iloc[0] == "hammerhead (184 photos)"
    assert table["most common top 1"].iloc[0] == "whitetip shark (60)"


def test_shark_goals_mark_each_bar():
    import pandas as pd

    from devise_lite.sharks import shark_goals

    table = pd.DataFrame(
        {
            "held out": ["hammerhead"] * 3,
            "model": ["DeViSE-1K", "DeViSE-1K, + 30 photos", "ConSE-1K (T=10)"],
            "shark in top 5": [0.75, 0.9, 0.99],
        }
    )
    goals = shark_goals(table, {"60%": 0.6, "90%": 0.9})
    assert goals["model"].tolist() == ["DeViSE-1K", "DeViSE-1K, + 30 photos"]
    assert goals["60%"].tolist() == ["yes", "yes"]
    assert goals["90%"].tolist() == ["no", "yes"]  # 0.9 reaches 90%
