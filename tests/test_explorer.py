"""The explorer on hand-made label spaces (ranking, candidate sets, messages, the
widget driven without a browser), and once on the tiny preset's cached stages."""

import numpy as np
import pandas as pd
import pytest

from devise_lite.book import explorer_views
from devise_lite.book.explorer import (
    Explorer,
    GalleryImage,
    ModelView,
    UnknownQueryError,
)
from devise_lite.book.widget import build_widget
from devise_lite.labels import LabelSpace
from devise_lite.vectors import unit

# Six labels in 3-d: x is "fish-ness", y "pet-ness", z "machine-ness".
NAMES = ["shark", "tiger shark", "whale", "dog", "cat", "car"]
WNIDS = [f"n{i:08d}" for i in range(1, 7)]
VECTORS = unit(
    np.array(
        [[1, 0, 0], [0.9, 0.1, 0], [0.7, 0.7, 0], [0, 1, 0], [0, 0.9, 0.1], [0, 0, 1]],
        dtype=np.float32,
    )
)
SPACE = LabelSpace(WNIDS, NAMES, VECTORS)
WORDS = {
    w: unit(np.asarray(v, dtype=np.float32))
    for w, v in {
        "shark": [1, 0, 0],
        "fish": [0.95, 0.3, 0],
        "dog": [0, 1, 0],
        "cat": [0, 0.95, 0.3],
        "car": [0, 0, 1],
        "tiger": [0.2, 0.3, 0.9],
    }.items()
}
SETS = {
    "seen": [WNIDS[0], WNIDS[3], WNIDS[5]],  # shark, dog, car
    "unseen": [WNIDS[1], WNIDS[2], WNIDS[4]],  # tiger shark, whale, cat
    "all": WNIDS,
}
RANDOM = LabelSpace(
    WNIDS,
    NAMES,
    unit(np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)),
)


def first_three(features):
    """A toy "projection": the first three features are the point in the label space."""
    return np.asarray(features)[:, :3]


@pytest.fixture
def explorer(tmp_path):
    images = {
        "photo of a fish": GalleryImage(
            tmp_path / "fish.jpg", np.array([0.95, 0.3, 0, 5.0]), WNIDS[1]
        ),
        "photo of a cat": GalleryImage(
            tmp_path / "cat.jpg", np.array([0, 0.9, 0.2, 5.0]), WNIDS[4]
        ),
    }
    models = {
        "word model": ModelView(SPACE, first_three),
        "random": ModelView(RANDOM, first_three, has_words=False),
    }
    return Explorer(SPACE, SETS, models, words=WORDS, images=images)


def cosine(a, b):
    return float(
        unit(np.asarray(a, dtype=np.float32)) @ unit(np.asarray(b, dtype=np.float32))
    )


def test_text_neighbours_are_ranked_by_cosine(explorer):
    table = explorer.neighbours_of_text(
        "fish", k=3, candidates="all", model="word model"
    )
    assert list(table.columns) == ["rank", "name", "wnid", "cosine", "seen"]
    # cos(fish, tiger shark) = 0.981 > cos(fish, shark) = 0.954
    #   > cos(fish, whale) = 0.887
    assert list(table["name"]) == ["tiger shark", "shark", "whale"]
    assert table["cosine"].tolist() == pytest.approx(
        [
            cosine([0.95, 0.3, 0], [0.9, 0.1, 0]),
            cosine([0.95, 0.3, 0], [1, 0, 0]),
            cosine([0.95, 0.3, 0], [1, 1, 0]),
        ],
        abs=1e-5,
    )
    assert table["seen"].tolist() == [False, True, False]
    assert table["rank"].tolist() == [1, 2, 3]


def test_candidate_set_restricts_the_answers(explorer):
    for name, members in SETS.items():
        table = explorer.neighbours_of_text(
            "fish", k=10, candidates=name, model="word model"
        )
        assert set(table["wnid"]) == set(members)  # every member, and nothing else
    unseen = explorer.neighbours_of_text(
        "fish", k=1, candidates="unseen", model="word model"
    )
    assert unseen["name"].tolist() == ["tiger shark"]
    seen = explorer.neighbours_of_text(
        "fish", k=1, candidates="seen", model="word model"
    )
    assert seen["name"].tolist() == ["shark"]


def test_a_phrase_uses_the_label_rule_and_a_label_leaves_itself_out(explorer):
    # "tiger fish": no phrase vector, so the words' unit mean with the head ("fish")
    # counted twice.
    expected = unit(WORDS["tiger"] + 2 * WORDS["fish"])
    table = explorer.neighbours_of_text(
        "tiger fish", k=6, candidates="all", model="word model"
    )
    assert table["cosine"].tolist() == pytest.approx(
        sorted((VECTORS @ expected).tolist(), reverse=True), abs=1e-5
    )
    near_cat = explorer.neighbours_of_label(
        "cat", k=10, candidates="all", model="word model"
    )
    assert "cat" not in set(near_cat["name"]) and len(near_cat) == 5
    assert near_cat["name"].iloc[0] == "dog"
    by_pick = explorer.neighbours_of_label(
        f"cat ({WNIDS[4]})", k=10, candidates="all", model="word model"
    )
    pd.testing.assert_frame_equal(near_cat, by_pick)


def test_unknown_words_get_a_message_with_a_suggestion(explorer):
    with pytest.raises(
        UnknownQueryError,
        match=r"unknown word: sharc .*close known words: sharc -> 'shark'",
    ):
        explorer.neighbours_of_text("sharc", candidates="all", model="word model")
    with pytest.raises(UnknownQueryError, match=r"unknown words: blorp, qqq"):
        explorer.neighbours_of_text("blorp qqq", candidates="all", model="word model")
    with pytest.raises(UnknownQueryError, match="type a word"):
        explorer.neighbours_of_text("  !? ", candidates="all", model="word model")
    assert explorer.answer("word", "sharc", 5, "all", "word model") is None
    assert "sharc" in explorer.last_message and "'shark'" in explorer.last_message
    with pytest.raises(UnknownQueryError, match="close label names: 'tiger shark'"):
        explorer.neighbours_of_label(
            "tiger sharks", candidates="all", model="word model"
        )


def test_the_random_control_knows_labels_not_words(explorer):
    with pytest.raises(UnknownQueryError, match="labels only"):
        explorer.neighbours_of_text("fish", candidates="all", model="random")
    table = explorer.neighbours_of_text("whale", k=6, candidates="all", model="random")
    assert table["cosine"].tolist() == pytest.approx(
        sorted((RANDOM.vectors @ RANDOM.vectors[2]).tolist(), reverse=True), abs=1e-5
    )
    assert table["name"].iloc[0] == "whale"


def test_image_neighbours_mark_the_true_label(explorer, tmp_path):
    table = explorer.neighbours_of_image(
        "photo of a cat", k=2, candidates="all", model="word model"
    )
    assert table["name"].tolist() == ["cat", "dog"] and table["true"].tolist() == [
        True,
        False,
    ]
    restricted = explorer.neighbours_of_image(
        "photo of a cat", k=5, candidates="seen", model="word model"
    )
    assert set(restricted["wnid"]) <= set(SETS["seen"]) and not restricted["true"].any()
    with pytest.raises(
        UnknownQueryError, match="neither a gallery image nor an image file"
    ):
        explorer.neighbours_of_image(
            str(tmp_path / "missing.jpg"), candidates="all", model="word model"
        )
    photo = tmp_path / "new.jpg"
    photo.write_bytes(b"not really a jpeg")
    with pytest.raises(UnknownQueryError, match="no visual model"):
        explorer.neighbours_of_image(str(photo), candidates="all", model="word model")
    explorer.featurize = lambda paths: np.array([[0, 0, 1, 0.0]] * len(paths))
    assert explorer.neighbours_of_image(str(photo), 1, "all", "word model")[
        "name"
    ].tolist() == ["car"]


def test_bad_settings_say_what_to_choose(explorer):
    with pytest.raises(ValueError, match="unknown candidate set 'nope'.*'seen'"):
        explorer.neighbours_of_text("fish", candidates="nope", model="word model")
    with pytest.raises(ValueError, match="unknown model"):
        explorer.neighbours_of_text("fish", candidates="all", model="nope")
    with pytest.raises(ValueError, match="k must be at least 1"):
        explorer.neighbours_of_text("fish", k=0, candidates="all", model="word model")
    small = LabelSpace(WNIDS[:2], NAMES[:2], VECTORS[:2])
    with pytest.raises(
        ValueError,
        match=r"no vector for 2 labels of candidate set 'seen' \(first: n00000004\)",
    ):
        Explorer(SPACE, SETS, {"small": ModelView(small)})


def test_widget_updates_on_every_control(explorer):
    panel = build_widget(explorer, k=3, word="fish")
    c, out = panel.controls, panel.outputs
    assert set(c) == {
        "kind",
        "word",
        "label",
        "image",
        "path",
        "k",
        "candidates",
        "model",
    }
    c["candidates"].value = "all"
    assert explorer.last_table["name"].tolist() == ["tiger shark", "shark", "whale"]
    assert "tiger shark" in out["table"].value
    c["k"].value = 5
    assert len(explorer.last_table) == 5
    c["candidates"].value = "unseen"
    assert set(explorer.last_table["wnid"]) == set(SETS["unseen"])
    c["word"].value = "sharc"  # unknown: a message, no table
    assert explorer.last_table is None and out["table"].value == ""
    assert "sharc" in out["message"].value and "shark" in out["message"].value
    c["word"].value = "fish"
    c["model"].value = "random"  # words have no random vector
    assert explorer.last_table is None and "labels only" in out["message"].value
    c["kind"].value = "label"
    c["label"].value = f"whale ({WNIDS[2]})"
    assert explorer.last_table is not None and "whale" not in set(
        explorer.last_table["name"]
    )
    assert c["word"].layout.display == "none" and c["label"].layout.display is None
    c["model"].value = "word model"
    c["kind"].value = "image"
    c["image"].value = "photo of a cat"
    assert (
        explorer.last_table["name"].iloc[0] == "cat"
        and explorer.last_table["true"].iloc[0]
    )
    c["path"].value = "/no/such/photo.jpg"
    assert (
        explorer.last_table is None
        and "neither a gallery image" in out["message"].value
    )


def test_side_by_side_puts_queries_in_columns():
    tables = {
        "a": pd.DataFrame({"name": ["x", "y"], "cosine": [0.91, 0.5]}),
        "b": pd.DataFrame({"name": ["z"], "cosine": [0.333]}),
    }
    frame = explorer_views.side_by_side(tables)
    assert list(frame.columns) == ["a", "b"] and list(frame.index) == [1, 2]
    assert (
        frame.loc[1, "a"] == "x (0.91)"
        and frame.loc[2, "b"] == ""
        and frame.loc[1, "b"] == "z (0.33)"
    )


def test_overview_and_the_points_of_labels_and_photos(explorer):
    overview = explorer_views.overview(explorer)
    assert overview[["model", "words", "photos"]].to_dict("records") == [
        {"model": "word model", "words": True, "photos": True},
        {"model": "random", "words": False, "photos": True},
    ]
    assert overview[["seen", "unseen", "all"]].values.tolist() == [[3, 3, 6]] * 2
    whale, car = WNIDS[2], WNIDS[5]
    assert explorer_views.label_points(
        explorer, [whale, car], "word model"
    ) == pytest.approx(VECTORS[[2, 5]])
    assert explorer_views.label_points(explorer, [whale], "random") == pytest.approx(
        RANDOM.vectors[[2]]
    )
    points = explorer_views.photo_points(
        explorer, ["photo of a cat", "photo of a fish"], "word model"
    )
    assert points == pytest.approx(unit(np.array([[0, 0.9, 0.2], [0.95, 0.3, 0]])))
    assert explorer_views.photo_points(explorer, [], "word model").shape == (0, 3)


def test_nearest_label_table_per_model_and_photo_group(explorer):
    labels = [WNIDS[0], WNIDS[3]]  # shark (1, 0, 0) and dog (0, 1, 0)
    groups = {"fish": ["photo of a fish"], "cat": ["photo of a cat"], "none": []}
    table = explorer_views.nearest_label_table(
        explorer, groups, labels, members={WNIDS[0]}
    )
    # The fish photo (0.95, 0.3, 0) is nearest to shark, the cat (0, 0.9, 0.2) to dog,
    # under both models: the random control embeds photos the same toy way.
    assert table[["model", "group"]].values.tolist() == [
        ["word model", "fish"],
        ["word model", "cat"],
        ["random", "fish"],
        ["random", "cat"],
    ]
    word = table[table.model == "word model"]
    assert word["nearest label among them"].tolist() == [1.0, 0.0]
    assert word["most common nearest label"].tolist() == ["shark (1)", "dog (1)"]


def test_map_points_and_the_gap_table(explorer):
    points = explorer_views.map_points(
        explorer,
        {"pets": [WNIDS[3], WNIDS[4]]},
        {"photos": ["photo of a cat"]},
        "random",
    )
    assert list(points) == ["pets", "photos"]
    assert points["pets"] == pytest.approx(RANDOM.vectors[[3, 4]])
    assert points["photos"] == pytest.approx(unit(np.array([[0, 0.9, 0.2]])))
    explorer.candidate_sets["21k+seen"] = WNIDS  # the gap's "every label"
    gap = explorer_views.gap_table(explorer, ["photo of a fish", "photo of a cat"])
    assert list(gap.columns) == ["word model", "random"]
    fish, cat = unit(np.array([0.95, 0.3, 0])), unit(np.array([0, 0.9, 0.2]))
    true = [cosine(fish, VECTORS[1]), cosine(cat, VECTORS[4])]  # tiger shark, cat
    # the nearest labels are these true labels too (fish: tiger shark 0.98 > shark)
    assert gap["word model"].tolist() == pytest.approx(
        [np.median(true), np.median(true), cosine(fish, cat)], abs=1e-5
    )


def test_each_model_ranks_and_counts_its_own_candidate_sets(explorer):
    own = {"seen": [WNIDS[1]], "unseen": [WNIDS[0], WNIDS[2]], "all": WNIDS}
    explorer.models["caltech-like"] = ModelView(SPACE, first_three, sets=own)
    table = explorer.neighbours_of_text("fish", 5, "unseen", "caltech-like")
    assert table["name"].tolist() == ["shark", "whale"]  # its own "unseen" set
    everything = explorer.neighbours_of_text("fish", 6, "all", "caltech-like")
    assert everything.set_index("name")["seen"].to_dict() == {
        "tiger shark": True,  # seen by this model only
        "shark": False,
        "whale": False,
        "dog": False,
        "cat": False,
        "car": False,
    }
    panel = build_widget(explorer, k=3, word="fish")
    panel.controls["candidates"].value = "unseen"
    panel.controls["model"].value = "caltech-like"
    message = panel.outputs["message"].value  # the size of its own "unseen" set
    assert "2 nearest of 2 labels in" in message and "under caltech-like" in message


def test_a_label_without_a_vector_points_at_the_missing_labels_report():
    missing = {"n09999999": "benthos"}
    explorer = Explorer(SPACE, SETS, {"m": ModelView(SPACE)}, missing=missing)
    for typed in ("benthos", "n09999999"):
        assert explorer.answer("label", typed, 3, "all", "m") is None
        assert "without a label vector" in explorer.last_message
        assert "missing-labels report" in explorer.last_message


def test_tiny_explorer_from_the_cached_stages(tiny_run):
    """The real explorer: the trained models of `predict` and the random control
    (reuses the session's tiny caches)."""
    from devise_lite.book.explorer_build import EXPLORER_SETS, explorer_for
    from devise_lite.config import get_preset
    from devise_lite.predict import MODELS

    explorer = explorer_for(get_preset("tiny"))
    assert list(explorer.candidate_sets) == list(EXPLORER_SETS)
    assert set(explorer.models) == {*MODELS.values(), "DeViSE-1K, random embeddings"}
    first = next(iter(explorer.models))
    for model in explorer.models:
        seen = set(explorer.sets_of(model)["seen"])
        assert seen and seen.isdisjoint(explorer.sets_of(model)["21k"])
    fish = explorer.neighbours_of_text("fish", 5, "21k+seen", first)  # no "shark"
    assert fish["name"].iloc[0] == "fish"
    assert fish["cosine"].iloc[0] == pytest.approx(1.0, abs=1e-4)
    photo = next(n for n in explorer.images if n.startswith("sharks/hammerhead/"))
    for model in explorer.models:
        table = explorer.neighbours_of_image(photo, 5, "21k", model)
        seen = set(explorer.sets_of(model)["seen"])
        assert len(table) == 5 and not set(table["wnid"]) & seen
        assert table["cosine"].is_monotonic_decreasing
