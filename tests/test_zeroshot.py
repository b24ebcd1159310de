"""Zero-shot learning: candidate sets, ConSE, the seen/unseen wall, the chapter's views
of the tables, and Tables 2/3 + sharks on tiny."""

import numpy as np
import pandas as pd
import pytest
from handmade import ZOO_VOCABULARY as VOCABULARY

from devise_lite import pipeline, zeroshot
from devise_lite.book import zero_shot_views
from devise_lite.candidates import CANDIDATE_SETS
from devise_lite.candidates import hop_set as candidate_set
from devise_lite.candidates import hop_sets as candidate_sets
from devise_lite.config import get_preset, with_overrides
from devise_lite.conse import conse_embedding
from devise_lite.sharks import chance_share_in_top, share_with_member_in_top
from devise_lite.splits import split_seen_unseen
from devise_lite.vectors import cosine_scores, softmax, unit
from devise_lite.zeroshot import restrict_to_labels

TINY = get_preset("tiny")


# ---------------------------------------------------------------- candidate sets
# (hand-made hierarchy)


def test_candidate_sets_on_a_hand_made_hierarchy(zoo):
    sets = candidate_sets(["great_white", "whale"], VOCABULARY, zoo)
    assert list(sets) == list(CANDIDATE_SETS)
    # great_white -shark- {hammerhead, tiger_shark} (2 hops);
    # whale - mammal (1) - dolphin (2).
    assert sets["2-hop"] == ["hammerhead", "tiger_shark", "dolphin", "mammal"]
    # ray is 3 hops from great_white (shark, fish, ray); nothing else at 3 hops.
    assert sets["3-hop"] == ["hammerhead", "tiger_shark", "ray", "dolphin", "mammal"]
    assert sets["2-hop+seen"] == [
        "great_white",
        "hammerhead",
        "tiger_shark",
        "whale",
        "dolphin",
        "mammal",
    ]
    assert sets["21k"] == ["hammerhead", "tiger_shark", "ray", "dolphin", "mammal"]
    assert sets["21k+seen"] == VOCABULARY
    # A seen label outside the vocabulary (no vector) is not added back.
    assert candidate_set("2-hop+seen", ["great_white", "fish"], VOCABULARY, zoo) == [
        "great_white",
        "hammerhead",
        "tiger_shark",
        "ray",
        "mammal",
    ]


def test_candidate_set_rejects_bad_requests():
    with pytest.raises(ValueError, match="unknown candidate set"):
        candidate_set("4-hop", ["whale"], VOCABULARY)
    with pytest.raises(ValueError, match="needs a hierarchy"):
        candidate_set("2-hop", ["whale"], VOCABULARY)
    assert candidate_set("21k", ["whale"], VOCABULARY) == [
        w for w in VOCABULARY if w != "whale"
    ]


def test_split_seen_unseen_is_seeded_disjoint_and_complete():
    labels = [f"n{i:08d}" for i in range(20)]
    seen, unseen = split_seen_unseen(labels, 0.2, seed=0)
    assert len(unseen) == 4 and len(seen) == 16
    assert set(seen) | set(unseen) == set(labels) and not set(seen) & set(unseen)
    assert split_seen_unseen(list(reversed(labels)), 0.2, seed=0) == (
        seen,
        unseen,
    )  # order-free
    assert split_seen_unseen(labels, 0.2, seed=1)[1] != unseen
    assert (
        len(split_seen_unseen(labels[:3], 0.01, seed=0)[1]) == 1
    )  # at least one unseen label
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_seen_unseen(labels, 1.0, seed=0)


def test_restrict_to_labels_reindexes_targets():
    features = np.arange(10, dtype=np.float32).reshape(5, 2)
    targets = np.array([0, 2, 1, 2, 0])
    x, y, mask = restrict_to_labels(features, targets, ["a", "b", "c"], ["c", "a"])
    assert mask.tolist() == [True, True, False, True, True]
    assert y.tolist() == [1, 0, 0, 1]  # "a" -> 1, "c" -> 0 in the kept order
    assert x[:, 0].tolist() == [0, 2, 6, 8]


def test_label_groups_split_the_photos_by_candidate_set():
    sets = {"2-hop": ["a", "b"], "3-hop": ["a", "b", "c"], "21k": ["a", "b", "c", "d"]}
    groups = zeroshot.label_groups(["a", "c", "d", "c", "x", "b"], sets)
    assert groups["2-hop"].tolist() == [True, False, False, False, False, True]
    assert groups["3-hop only"].tolist() == [False, True, False, True, False, False]
    assert groups["21k only"].tolist() == [False, False, True, False, False, False]


def test_word_vector_levers_by_hand():
    def rows(setting, hits, label_hits):
        groups = ["2-hop", "3-hop only", "21k only"]
        chance = [0.004, 0.001, 0.0005]
        columns = ["group", "hit@5", "label_hit@5", "chance@5"]
        rows = zip(groups, hits, label_hits, chance, strict=True)
        return [{"setting": setting} | dict(zip(columns, r, strict=True)) for r in rows]

    measured = pd.DataFrame(
        rows("the preset", [0.2, 0.1, 0.01], [0.25, 0.05, 0.005])
        + rows("epochs=3", [0.1, 0.1, 0.01], [0.1, 0.06, 0.006])
    )
    levers = zero_shot_views.word_vector_levers(measured)
    preset = levers.iloc[0]
    assert preset["3-hop only per label, x chance"] == pytest.approx(50)
    assert preset["21k only per label, x chance"] == pytest.approx(10)
    assert preset["validation mean, x chance"] == pytest.approx(30)
    assert preset["2-hop test per photo, x chance"] == pytest.approx(50)
    assert preset["2-hop test per label, x chance"] == pytest.approx(62.5)
    # chosen on validation (36 > 30), whatever the test says (25 < 50)
    chosen = zero_shot_views.chosen_on_validation(levers, rule="")
    assert chosen["setting changed"] == "epochs=3"
    assert chosen["draws"] == 1
    # another draw of the preset: a setting is chosen on its mean over its draws
    draw = pd.DataFrame(rows("seed=1", [0.3, 0.2, 0.02], [0.3, 0.1, 0.01]))
    levers = zero_shot_views.word_vector_levers(pd.concat([measured, draw]))
    chosen = zero_shot_views.chosen_on_validation(levers, rule="")  # (30+60)/2 > 36
    assert chosen["setting changed"] == "the preset"
    assert chosen["validation mean, x chance"] == pytest.approx(45)
    assert chosen["draws"] == 2
    spread = zero_shot_views.draw_spread(levers)
    column = "2-hop test per photo, x chance"
    assert spread.loc[column].tolist() == pytest.approx([50, 62.5, 75, 2])
    # and a draw of a lever counts for the lever, not for the preset
    lever_draw = pd.DataFrame(
        rows("epochs=3, seed=1", [0.1, 0.2, 0.03], [0.1, 0.2, 0.03])
    )
    levers = zero_shot_views.word_vector_levers(pd.concat([measured, draw, lever_draw]))
    chosen = zero_shot_views.chosen_on_validation(levers, rule="")  # (36+130)/2>45
    assert chosen["setting changed"] == "epochs=3"
    assert chosen["validation mean, x chance"] == pytest.approx(83)
    assert zero_shot_views.draw_spread(levers).loc[column, "draws"] == 2
    # one label rule's rows only (their candidate sets are another rule's), its name
    # left out: the preset's settings without the fallback beat epochs=3 without it
    old_rule = pd.DataFrame(
        rows(
            "gloss_fallback=False, seed=0 first run", [0.1, 0.3, 0.03], [0.1, 0.2, 0.02]
        )
        + rows("epochs=3, gloss_fallback=False", [0.1, 0.1, 0.01], [0.1, 0.1, 0.01])
    )
    levers = zero_shot_views.word_vector_levers(pd.concat([measured, old_rule]))
    chosen = zero_shot_views.chosen_on_validation(levers)  # (200 + 40) / 2 > 60
    assert chosen["setting changed"] == "the preset"
    assert chosen["validation mean, x chance"] == pytest.approx(120)
    assert chosen["draws"] == 1


def test_a_seed_is_a_draw_of_the_setting_it_changes():
    assert zero_shot_views.drawn_setting("the preset") == "the preset"
    assert zero_shot_views.drawn_setting("seed=2") == "the preset"
    assert zero_shot_views.drawn_setting("sample=1e-05, epochs=3, seed=1") == (
        "sample=1e-05, epochs=3"
    )
    assert zero_shot_views.drawn_setting("window=12") == "window=12"


# ---------------------------------------------------------------- ConSE, 3-class toy


SEEN_VECTORS = np.array(
    [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]
)  # three seen labels in 2-d


def test_conse_embedding_by_hand():
    p = np.array([[0.5, 0.3, 0.2]])
    # T = 1: the single most probable label's vector.
    assert np.allclose(conse_embedding(p, SEEN_VECTORS, 1), [[1.0, 0.0]])
    # T = 2: weights 0.5/0.8 and 0.3/0.8 on labels 0 and 1.
    assert np.allclose(conse_embedding(p, SEEN_VECTORS, 2), [[0.625, 0.375]])
    # T = 3: 0.5*(1,0) + 0.3*(0,1) + 0.2*(-1,0) = (0.3, 0.3).
    assert np.allclose(conse_embedding(p, SEEN_VECTORS, 3), [[0.3, 0.3]])
    # T beyond the number of seen labels means all of them.
    assert np.allclose(conse_embedding(p, SEEN_VECTORS, 10), [[0.3, 0.3]])
    with pytest.raises(ValueError, match="non-negative"):
        conse_embedding(-p, SEEN_VECTORS, 2)


def conse_scores(logits, seen_vectors, candidate_vectors, top_t):
    points = unit(conse_embedding(softmax(logits), seen_vectors, top_t))
    return cosine_scores(points, candidate_vectors)


def test_conse_picks_the_unseen_label_between_two_seen_ones():
    assert np.allclose(softmax(np.array([[0.0, np.log(3.0)]])), [[0.25, 0.75]])
    logits = np.log(np.array([[0.5, 0.3, 0.2]]))  # softmax gives back (0.5, 0.3, 0.2)
    between = np.array([1.0, 1.0]) / np.sqrt(2)  # an unseen label between seen 0 and 1
    candidates = np.vstack([SEEN_VECTORS, between])
    scores = conse_scores(logits, SEEN_VECTORS, candidates, top_t=2)
    norm = np.hypot(0.625, 0.375)
    assert np.allclose(
        scores,
        [[0.625 / norm, 0.375 / norm, -0.625 / norm, 1.0 / (norm * np.sqrt(2))]],
        atol=1e-6,
    )
    assert scores.argmax() == 3  # zero-shot: the unseen label wins
    assert (
        conse_scores(logits, SEEN_VECTORS, candidates, top_t=1).argmax() == 0
    )  # T=1: a seen label


def test_shark_shares_by_hand():
    ranked = np.array(
        [["a", "s1", "b"], ["b", "c", "d"], ["s2", "a", "b"]], dtype=object
    )
    assert share_with_member_in_top(ranked, {"s1", "s2"}, 3) == pytest.approx(2 / 3)
    assert share_with_member_in_top(ranked, {"s1", "s2"}, 1) == pytest.approx(1 / 3)
    # 10 candidates, 2 sharks, 5 random picks: 1 - C(8,5)/C(10,5) = 1 - 56/252.
    assert chance_share_in_top(10, 2, 5) == pytest.approx(1 - 56 / 252)
    assert chance_share_in_top(10, 0, 5) == 0.0 and chance_share_in_top(4, 1, 5) == 1.0


# ---------------------------------------------------------------- tiny, end to end


def test_seen_and_unseen_never_meet_in_training(tiny_run):
    data = pipeline.caltech_zero_shot_data(TINY)
    assert not set(data.seen) & set(data.unseen)
    assert set(data.seen) | set(data.unseen) == set(pipeline.experiment_labels(TINY))
    split = pipeline.image_split(TINY)
    unseen_paths = {
        i.path for i in split.train + split.test if i.wnid in set(data.unseen)
    }
    assert unseen_paths and not unseen_paths & set(data.train_paths)
    assert set(np.asarray(data.seen)[data.train_targets]) == set(data.seen)
    assert set(data.test_wnids) <= set(data.unseen) and len(data.test_wnids) == len(
        data.test_features
    )


def test_training_receives_no_unseen_feature_row(tiny_run, monkeypatch):
    """The rows the trainers actually get contain none of the unseen labels' training
    features."""
    import devise_lite.table1_models as devise  # where the pipeline's trainers are

    calls = []
    real_projection, real_softmax = devise.train_projection, devise.train_softmax

    def record(real):
        def trainer(features, targets, *args, **kwargs):
            calls.append((features, targets, args[0]))
            return real(features, targets, *args, **kwargs)

        return trainer

    monkeypatch.setattr(devise, "train_projection", record(real_projection))
    monkeypatch.setattr(devise, "train_softmax", record(real_softmax))
    cfg = with_overrides(
        TINY, zeroshot={"seed": 7}
    )  # a fresh cache key: training really runs
    models = pipeline.get(cfg, "zeroshot_caltech")
    labels = pipeline.experiment_labels(cfg)
    x, y = pipeline.image_features(cfg, "train")
    unseen_rows = x[np.isin(np.asarray(labels)[y], models["unseen"])]
    assert len(unseen_rows) > 0
    table_calls = calls[:3]  # DeViSE, random embeddings, softmax
    assert len(table_calls) == 3
    for features, targets, _third in table_calls:
        assert targets.max() < len(models["seen"])
        assert not (features[:, None, :] == unseen_rows[None, :, :]).all(axis=2).any()
    assert table_calls[0][2].shape[0] == len(
        models["seen"]
    )  # label vectors of the seen labels only
    assert table_calls[2][2] == len(models["seen"])  # softmax over the seen labels only


def test_tiny_run_writes_the_three_csvs(tiny_run):
    out = tiny_run
    table2 = pd.read_csv(out / "table2_zero_shot.csv")
    table3 = pd.read_csv(out / "table3_zero_shot_hp.csv")
    sharks = pd.read_csv(out / "sharks_zero_shot.csv")
    assert list(table2.columns)[:9] == zeroshot.TABLE2_COLUMNS
    assert list(table3.columns)[:7] == zeroshot.TABLE3_COLUMNS
    assert set(table2["seen_labels"]) == {"imagenet1k", "caltech"}
    assert list(sharks.columns)[:6] == [
        "held_out",
        "model",
        "candidates",
        "n_images",
        "share_shark_in_top5",
        "top1_most_common",
    ]
    assert set(table2["candidate_set"]) == set(CANDIDATE_SETS)
    kinds = {"DeViSE", "DeViSE, random embeddings", "ConSE", "chance"}
    assert {m.split(" (T=")[0] for m in table2["model"]} == kinds
    conse = {m for m in table2.model if m.startswith("ConSE")}
    assert conse == {f"ConSE (T={t})" for t in TINY.imagenet.conse_top_t}
    assert "softmax baseline" in set(table3["model"])
    assert {"great white shark", "hammerhead"} <= set(sharks["held_out"])
    # Every unseen test image is a candidate of the 21k set, and chance is k / n there.
    caltech = table2[table2.seen_labels == "caltech"]
    row = caltech[(caltech.candidate_set == "21k") & (caltech.model == "chance")].iloc[
        0
    ]
    assert row["n_images"] == len(pipeline.caltech_zero_shot_data(TINY).test_wnids)
    assert row["hit@5"] == pytest.approx(5 / row["n_candidates"])
    devise_21k = table2[
        (table2.candidate_set == "21k") & (table2.model == "DeViSE")
    ].iloc[0]
    assert np.isfinite(devise_21k[["hit@1", "hit@20"]].astype(float)).all()
    # The softmax baseline never names an unseen label: its hp@1 is 0 wherever it was
    # measured.
    softmax_hp1 = table3.loc[table3.model == "softmax baseline", "hp@1"].dropna()
    assert len(softmax_hp1) and (softmax_hp1 == 0).all()


def test_zeroshot_stage_runs_after_evaluate_and_reuses_its_cache(tiny_run, monkeypatch):
    from devise_lite.__main__ import main
    from devise_lite.pipeline import STAGES

    names = list(STAGES)
    assert names.index("zeroshot") > names.index("evaluate")  # builds on it

    def no_training(*args, **kwargs):
        raise AssertionError("the cached zero-shot models were trained again")

    monkeypatch.setattr("devise_lite.devise.train_projection", no_training)
    monkeypatch.setattr("devise_lite.devise.train_softmax", no_training)
    assert main(["zeroshot", "--preset", "tiny"]) == 0


# ---------------------------------------------------------------- the chapter's views


def _table2(rows, seen_labels="imagenet1k"):
    columns = ["candidate_set", "model", "n_candidates", "n_images", "hit@5"]
    return pd.DataFrame(rows, columns=columns).assign(
        **{"label_hit@5": lambda t: t["hit@5"], "seen_labels": seen_labels}
    )


def test_models_by_set_pivots_one_metric_and_divides_by_chance():
    table2 = pd.concat(
        [
            _table2(
                [
                    ("2-hop", "DeViSE", 100, 10, 0.2),
                    ("2-hop", "chance", 100, 10, 0.05),
                    ("21k", "DeViSE", 1000, 20, 0.01),
                    ("21k", "chance", 1000, 20, 0.005),
                ]
            ),
            _table2([("2-hop", "DeViSE", 9, 3, 0.9)], "caltech"),
        ]
    )
    wide = zero_shot_views.models_by_set(table2)
    assert list(wide.index) == ["2-hop", "21k"]  # the table's order, not sorted
    assert list(wide.columns) == ["DeViSE", "chance", "DeViSE x chance"]
    assert wide.loc["2-hop", "DeViSE x chance"] == pytest.approx(4.0)
    assert wide.loc["21k", "DeViSE x chance"] == pytest.approx(2.0)
    readable = zero_shot_views.hits_with_chance(table2)
    assert readable.loc["DeViSE", "2-hop"] == "20.0% (4.00x)"
    assert readable.loc["chance", "21k"] == "0.5%"  # no multiple of itself
    empty = table2.assign(**{"hit@5": np.nan})
    assert zero_shot_views.hits_with_chance(empty).loc["DeViSE", "2-hop"] == "–"
    caltech = zero_shot_views.models_by_set(table2, "caltech")
    assert caltech.loc["2-hop", "DeViSE"] == 0.9 and "chance" not in caltech


def test_view_ablation_keeps_the_full_seen_models_by_views():
    ablation = pd.DataFrame(
        {
            "candidate_set": ["2-hop"] * 4 + ["3-hop"],
            "model": ["10 views", "1 view", "3 views", "50 labels", "10 views"],
            "views": [10, 1, 3, 10, 10],
            "n_seen": [880, 880, 880, 50, 880],
            "hit@5": [0.18, 0.10, 0.14, 0.02, 0.05],
            "label_hit@5": [0.19, 0.11, 0.15, 0.03, 0.06],
            "setting": [float("nan")] * 5,  # empty cells, as a stage's CSV reads them
        }
    )
    # a lever model (one phase 1 setting changed) is not a views row
    lever = ablation.iloc[[0]].assign(model="margin", setting="margin=0.2")
    ablation = pd.concat([ablation, lever.assign(**{"hit@5": 0.9})])
    table2 = _table2([("2-hop", "chance", 1000, 10, 0.005)])
    view = zero_shot_views.view_ablation(ablation, table2)
    assert view["views"].tolist() == [1, 3, 10]  # no 50-label model, no 3-hop row
    assert view["training rows"].tolist() == [880, 2640, 8800]
    assert view["x chance"].tolist() == pytest.approx([20, 28, 36])
    assert view["hit@5 per label"].tolist() == [0.11, 0.15, 0.19]


def test_candidate_set_sizes_count_the_lists_and_the_labels_with_a_vector():
    lists = {
        "seen": ["s1", "s2"],
        "2-hop": ["a", "b", "s1"],  # a seen label in a list is not a candidate
        "3-hop": ["a", "b", "c"],
        "21k": ["a", "b", "c", "d"],
    }
    sets = {
        "2-hop": ["a"],
        "2-hop+seen": ["a", "s1"],
        "3-hop": ["a", "c"],
        "3-hop+seen": ["a", "c", "s1"],
        "21k": ["a", "c"],
        "21k+seen": ["a", "c", "s1"],
    }
    table2 = _table2([("2-hop", "chance", 1, 7, 0.5)]).assign(n_labels=3)
    sizes = zero_shot_views.candidate_set_sizes(lists, sets, table2)
    sizes = sizes.set_index("candidate set")
    assert sizes.loc["2-hop", "test photos"] == 7
    assert sizes.loc["2-hop", "test labels"] == 3
    assert sizes["test photos"].isna().sum() == 5  # sets this Table 2 has no row of
    assert sizes["published list"].tolist() == [2, 4, 3, 5, 4, 6]
    assert sizes["with a vector"].tolist() == [1, 2, 2, 3, 2, 3]
    assert sizes.loc["2-hop", "paper's name"] == "2-hop"
    assert sizes.loc["21k+seen", "paper's name"] == "21K+1K"
    from devise_lite.book import paper

    assert sizes.loc["3-hop", "paper"] == paper.paper_candidates("3-hop")


def test_test_labels_count_photos_and_mark_the_sets_that_score_them():
    sets = {"2-hop": ["b"], "21k": ["a", "b"]}
    table = zeroshot.test_labels(["b", "a", "b", "c"], sets)
    assert table["wnid"].tolist() == ["a", "b", "c"]
    assert table["photos"].tolist() == [1, 2, 1]
    assert table["2-hop"].tolist() == [False, True, False]
    assert table["21k"].tolist() == [True, True, False]
    assert list(zeroshot.test_labels(["a"], sets, ["21k"]).columns) == [
        "wnid",
        "photos",
        "21k",
    ]


def test_label_hits_by_hand():
    # Four photos of three labels; each row ranks the three candidates.
    true = ["a", "a", "b", "c"]
    ranked = np.array(
        [["a", "b", "c"], ["b", "a", "c"], ["a", "c", "b"], ["c", "a", "b"]],
        dtype=object,
    )
    table = zeroshot.label_hits(ranked, true, ks=(1, 2, 3))
    assert table["wnid"].tolist() == ["a", "b", "c"]
    assert table["n_photos"].tolist() == [2, 1, 1]
    assert table["hit@1"].tolist() == [0.5, 0.0, 1.0]  # a: first photo only
    assert table["hit@2"].tolist() == [1.0, 0.0, 1.0]
    assert table["hit@3"].tolist() == [1.0, 1.0, 1.0]
    # Table 2's per-label columns are these rows' means: labels weigh alike.
    means = zeroshot.per_label_hits(ranked, true, ks=(1, 2, 3))
    assert means == pytest.approx(
        {"label_hit@1": 0.5, "label_hit@2": 2 / 3, "label_hit@3": 1.0}
    )


def test_zero_shot_label_table_ranks_each_set_for_its_own_labels():
    from devise_lite.labels import LabelSpace

    space = LabelSpace(["a", "b", "c"], ["a", "b", "c"], np.eye(3, dtype=np.float32))
    # photos of a, a, c: the first near a, the second nearer b than a, the third c
    points = np.array([[1.0, 0, 0], [0.6, 0.8, 0], [0, 0, 1.0]], dtype=np.float32)
    placed = {"model": zeroshot.Placed(points, space)}
    sets = {"ab": ["a", "b"], "abc": ["a", "b", "c"]}
    table = zeroshot.zero_shot_label_table(placed, ["a", "a", "c"], sets, ks=(1, 2))
    assert table[["candidate_set", "wnid", "n_photos"]].values.tolist() == [
        ["ab", "a", 2],  # c is no candidate of "ab": its photo is not scored there
        ["abc", "a", 2],
        ["abc", "c", 1],
    ]
    assert table["hit@1"].tolist() == [0.5, 0.5, 1.0]
    assert table["hit@2"].tolist() == [1.0, 1.0, 1.0]
    assert set(table["model"]) == {"model"}


def test_wrong_top1_hops_average_only_the_wrong_answers():
    gallery = pd.DataFrame(
        {
            "model": ["DeViSE"] * 3 + ["softmax baseline"] * 3,
            "top1_correct": [True, False, False, False, False, False],
            "top1_hops": [0, 2, 4, 5, None, 9],  # one distance unknown
        }
    )
    hops = zero_shot_views.wrong_top1_hops(gallery)
    assert hops.loc["DeViSE", "wrong top-1"] == 2
    assert hops.loc["DeViSE", "mean hops"] == pytest.approx(3.0)
    assert hops.loc["softmax baseline", "wrong top-1"] == 3
    assert hops.loc["softmax baseline", "mean hops"] == pytest.approx(7.0)
    assert hops.loc["softmax baseline", "median hops"] == pytest.approx(7.0)


def test_seen_count_points_join_both_experiments_over_chance():
    curve = pd.DataFrame(
        {
            "candidate_set": ["2-hop"] * 4,
            "model": ["DeViSE", "chance", "DeViSE", "chance"],
            "n_seen": [50, 50, 880, 880],
            "n_candidates": [1000] * 4,
            "n_images": [10] * 4,
            "hit@5": [0.02, 0.005, 0.2, 0.005],
        }
    )
    table2 = pd.concat(
        [
            _table2(
                [("2-hop", "DeViSE", 40, 5, 0.5), ("2-hop", "chance", 40, 5, 0.125)],
                "caltech",
            ),
            _table2([("21k", "DeViSE", 40, 5, 0.5)], "caltech"),
            _table2([("2-hop", "random", 40, 5, 0.0)], "caltech"),  # not on the curve
            _table2([("2-hop", "DeViSE", 40, 5, 0.9)]),  # the paper's: not a point
        ]
    )
    points = zero_shot_views.seen_count_points(curve, table2, caltech_seen=70)
    assert points["experiment"].tolist() == ["imagenet1k", "imagenet1k", "caltech"]
    assert points["n_seen"].tolist() == [50, 880, 70]
    assert points["x chance"].tolist() == pytest.approx([4, 40, 4])
    table = zero_shot_views.seen_count_table(points)
    assert table.loc[("imagenet1k", 880), "DeViSE"] == pytest.approx(40)
    assert table.index.tolist()[-1] == ("caltech", 70)
    empty = curve.assign(n_images=0)
    assert zero_shot_views.seen_count_points(empty, table2, 70)[
        "experiment"
    ].tolist() == ["caltech"]


def test_share_in_span_by_hand():
    basis = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [2.0, 1.0, 0.0]])  # rank 2
    rows = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 3.0], [3.0, -4.0, 0.0]])
    assert zero_shot_views.share_in_span(rows, basis) == pytest.approx([2 / 3, 0, 1])
    # Two candidates (1, 1, 1) and (1, 1, 3): mean (1, 1, 2), both 1 away along z,
    # so none of their spread is in the xy-plane; (0, 0, 0) and (2, 0, 0) all of it.
    flat_pair = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 3.0]])
    assert zero_shot_views.spread_in_span(flat_pair, basis) == pytest.approx(0.0)
    in_plane = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    assert zero_shot_views.spread_in_span(in_plane, basis) == pytest.approx(1.0)
    summary = zero_shot_views.span_summary({"toy": (rows, basis, flat_pair)})
    assert summary.loc["toy", "span"] == 2 and summary.loc["toy", "n seen"] == 3
    assert summary.loc["toy", "points in span"] == pytest.approx(5 / 9)
    assert summary.loc["toy", "candidates' spread in span"] == pytest.approx(0.0)


def test_figure2_rows_gather_each_gallery_photo_with_both_models():
    gallery = pd.DataFrame(
        {
            "image": ["p1", "p1", "p2", "p2"],
            "true": ["crab.n.01"] * 4,
            "model": ["DeViSE", "softmax baseline"] * 2,
            "gallery": [True, True, False, False],
            "top5": ["crab.n.01;lobster.n.02", "rock_crab.n.01;x.n.01", None, None],
        }
    )
    rows = zero_shot_views.figure2_rows(gallery)
    assert len(rows) == 1 and rows[0]["image"] == "p1"
    assert rows[0]["top5"]["DeViSE"] == ["crab.n.01", "lobster.n.02"]
    assert rows[0]["top5"]["softmax baseline"][0] == "rock_crab.n.01"


def test_synset_labels_for_figures():
    from devise_lite.zeroshot import synset_label

    assert synset_label("big_cat.n.01") == "big cat"
    assert synset_label("lamp.n.02") == "lamp (2)"
    assert synset_label("hammerhead.n.03") == "hammerhead (3)"


def test_hubs_count_the_most_frequent_top1_answers():
    from devise_lite.labels import LabelSpace

    space = LabelSpace(["a", "b", "c"], ["A", "B", "C"], np.eye(3, dtype=np.float32))
    points = np.array([[1, 0, 0], [0.9, 0.1, 0], [1, 0, 0], [0, 0, 1.0]])
    found = zero_shot_views.hubs(
        points, ["a", "b", "c"], space, ["x", "y", "x", "z"], n=2
    )
    assert found.index.tolist() == ["a", "c"]
    assert found["photos"].tolist() == [3, 1]
    assert found["true labels"].tolist() == [2, 1]  # x twice and y
    assert found["label"].tolist() == ["A", "C"]
