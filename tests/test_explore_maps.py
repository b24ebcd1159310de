"""Chapter 7's map data and label placement, on hand-computed cases: the point groups,
the photo sample, the photo-label gap, the nearest-label summary, and labels that do
not collide."""

import itertools

import matplotlib
import numpy as np
import pytest

from devise_lite.book.explorer import GalleryImage
from devise_lite.book.explorer_views import (
    gallery_sample,
    map_distance_to_truth,
    map_label_groups,
    map_photo_groups,
    nearest_label_summary,
    photo_label_gap,
)
from devise_lite.book.plots_label_placement import place_labels
from devise_lite.book.plots_maps import draw_map

matplotlib.use("Agg")

# Three unit photos of the plane, at 0, 90 and 53.13 degrees.
PHOTOS = np.array([[1, 0], [0, 1], [0.6, 0.8]])


def test_map_label_groups_give_each_label_one_group_samples_underneath():
    sets = {"seen": ["s1", "s2", "c1", "k1"], "2-hop": ["h1", "h2", "k2"]}
    groups = map_label_groups(sets, caltech=["c1", "c2"], sharks=["k1", "k2"])
    assert groups == {
        "other seen labels (sample)": ["s1", "s2"],  # c1 and k1 claimed before
        "2-hop labels (sample)": ["h1", "h2"],  # k2 is a shark label
        "shark labels": ["k1", "k2"],
        "Caltech labels, seen": ["c1"],
        "Caltech labels, unseen": ["c2"],
    }
    small = map_label_groups(sets, ["c1", "c2"], ["k1", "k2"], sample=1, seed=3)
    assert len(small["other seen labels (sample)"]) == 1
    assert set(small["other seen labels (sample)"]) <= {"s1", "s2"}
    assert set(small["2-hop labels (sample)"]) <= {"h1", "h2"}
    assert small == map_label_groups(sets, ["c1", "c2"], ["k1", "k2"], 1, seed=3)


def gallery_photo(folder, wnid):
    """A gallery image of `wnid` with no real file behind it (features unused)."""
    return GalleryImage(folder / "x.jpg", np.zeros(2), wnid)


def test_gallery_sample_takes_up_to_n_photos_per_label_in_gallery_order(tmp_path):
    images = {
        "a/1": gallery_photo(tmp_path, "w1"),
        "a/2": gallery_photo(tmp_path, "w1"),
        "a/3": gallery_photo(tmp_path, "w1"),
        "b/1": gallery_photo(tmp_path, "w2"),
        "a/4": gallery_photo(tmp_path, "w2"),
    }
    assert gallery_sample(images, "a/", per_label=5) == ["a/1", "a/2", "a/3", "a/4"]
    two = gallery_sample(images, "a/", per_label=2, seed=1)
    assert len(two) == 3 and two[-1] == "a/4"  # two of w1's three, w2's only one
    assert two == sorted(two)  # gallery order (here: alphabetical)
    assert gallery_sample(images, "c/", per_label=2) == []


def test_map_photo_groups_sample_caltech_photos_and_each_species(tmp_path):
    images = {
        "test/crab/1.jpg": gallery_photo(tmp_path, "crab"),
        "test/crab/2.jpg": gallery_photo(tmp_path, "crab"),
        "test/ibis/1.jpg": gallery_photo(tmp_path, "ibis"),
        "sharks/great_white_shark/1.jpg": gallery_photo(tmp_path, "white"),
        "sharks/great_white_shark/2.jpg": gallery_photo(tmp_path, "white"),
        "sharks/hammerhead/1.jpg": gallery_photo(tmp_path, "hammer"),
    }
    groups = map_photo_groups(images, per_label=1, per_species=1)
    assert list(groups) == [
        "Caltech test photos",
        "great white photos",
        "hammerhead photos",
    ]
    assert [images[n].wnid for n in groups["Caltech test photos"]] == ["crab", "ibis"]
    assert len(groups["great white photos"]) == 1
    assert groups["hammerhead photos"] == ["sharks/hammerhead/1.jpg"]


def test_photo_label_gap_medians_by_hand():
    true = np.array([[1, 0], [-1, 0], [1, 0]])  # cosines 1, 0 (orthogonal), 0.6
    labels = np.array([[-0.6, 0.8]])  # cosines -0.6, 0.8, 0.28
    # photo-photo cosines: 0 (p1 p2), 0.6 (p1 p3), 0.8 (p2 p3): nearest 0.6, 0.8, 0.8
    gap = photo_label_gap(PHOTOS, true, labels)
    assert gap == pytest.approx(
        {
            "photo to its true label": 0.6,
            "photo to its nearest label": 0.28,
            "photo to its nearest other photo": 0.8,
        }
    )
    with pytest.raises(ValueError, match="at least two photos"):
        photo_label_gap(PHOTOS[:1], true[:1], labels)


def test_nearest_label_summary_by_hand():
    labels = np.array([[1, 0], [0, 1]])  # n1 "a" at 0 degrees, n2 "b" at 90
    # p1 -> a (1 > 0), p2 -> b, p3 -> b (0.8 > 0.6)
    summary = nearest_label_summary(
        PHOTOS, labels, ["n1", "n2"], ["a", "b"], members={"n2"}
    )
    assert summary == {
        "photos": 3,
        "nearest label among them": pytest.approx(2 / 3),
        "most common nearest label": "b (2)",
    }


def test_place_labels_moves_a_colliding_label_around_its_point():
    boxes = place_labels([(0, 0)] * 3, [(10, 4)] * 3, distances=(4, 14))
    assert boxes == [
        (4, -2, 14, 2),  # right of the point, 4 away
        (-14, -2, -4, 2),  # the right is taken: left
        (-5, 4, 5, 8),  # left taken too: above, centred
    ]


def test_place_labels_leaves_out_a_label_with_no_free_place():
    inside = place_labels([(0, 0)], [(10, 4)], bounds=(-1, -3, 20, 3))
    assert inside == [(4, -2, 14, 2)]
    # The one place inside the bounds is an obstacle: every other leaves the bounds.
    blocked = place_labels(
        [(0, 0)], [(10, 4)], bounds=(-1, -3, 20, 3), obstacles=[(3, -3, 20, 3)]
    )
    assert blocked == [None]


def test_place_labels_keeps_the_points_of_labels_placed_before_clear():
    # The first label's point at (0, 0); the second anchor at (-10, 0): its first
    # choice, right of it (-6, -2, 4, 2), would cover the first point: left instead.
    boxes = place_labels([(0, 0), (-10, 0)], [(10, 4)] * 2, distances=(4,), mark=1)
    assert boxes == [(4, -2, 14, 2), (-24, -2, -14, 2)]
    unmarked = place_labels([(0, 0), (-10, 0)], [(10, 4)] * 2, distances=(4,))
    assert unmarked[1] == (-6, -2, 4, 2)


def test_place_labels_covers_the_fewest_crowd_points():
    # A crowd point right of the anchor: the first choice (right) covers it, the
    # second (left) covers none and wins.
    crowd = [(8, 0)]
    assert place_labels([(0, 0)], [(10, 4)], crowd=crowd) == [(-14, -2, -4, 2)]
    # Crowd points inside all eight places of the first ring, none in the second: the
    # search goes on to the second ring.
    ring = [(9, 0), (-9, 0), (0, 6), (0, -6), (9, 6), (-9, 6), (9, -6), (-9, -6)]
    boxes = place_labels([(0, 0)], [(10, 4)], distances=(4, 14), crowd=ring)
    assert boxes == [(14, -2, 24, 2)]
    # No free place anywhere: of the positions, the one covering the fewest wins
    # (the first of them on ties), never none.
    everywhere = ring + [(9, 1)]  # the right place now covers two points
    boxes = place_labels([(0, 0)], [(10, 4)], distances=(4,), crowd=everywhere)
    assert boxes == [(-14, -2, -4, 2)]


def overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_placed_labels_never_overlap():
    anchors = np.random.default_rng(0).uniform(0, 100, (40, 2))
    boxes = place_labels(anchors, [(20, 6)] * 40, bounds=(-30, -30, 130, 130))
    placed = [b for b in boxes if b is not None]
    assert len(placed) > 20
    assert not any(overlap(a, b) for a, b in itertools.combinations(placed, 2))


def test_draw_map_writes_labels_apart_and_the_legend_off_the_points():
    rng = np.random.default_rng(0)
    coords = {"labels": rng.normal(0, 1, (30, 2)), "photos": rng.normal(3, 1, (20, 2))}
    notes = [("labels", i, f"label number {i}") for i in range(30)]  # crowded
    fig = draw_map(coords, "a map", styles={"photos": {"marker": "x"}}, notes=notes)
    fig.canvas.draw()
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    written = [t for t in ax.texts]
    assert 0 < len(written) < 30  # some left out, the first (most important) kept
    assert written[0].get_text() == "label number 0"
    boxes = [t.get_bbox_patch().get_window_extent(renderer).extents for t in written]
    assert not any(overlap(a, b) for a, b in itertools.combinations(boxes, 2))
    assert ax.get_title() == "a map" and ax.get_xlabel() and ax.get_ylabel()
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.y1 <= ax.get_window_extent(renderer).y0  # under the axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "labels (30)",
        "photos (20)",
    ]


def test_map_distance_to_truth_by_hand():
    coords = {
        "labels": np.array([[0.0, 0.0], [10.0, 0.0]]),  # a at 0, b at 10: width 10
        "photos": np.array([[0.0, 3.0], [10.0, 4.0], [6.0, 0.0]]),
    }
    groups = {"labels": ["a", "b"]}
    # distances to the own label: 3 (to a), 4 (to b), 6 (to a): median 4, width 10
    share = map_distance_to_truth(coords, groups, coords["photos"], ["a", "b", "a"])
    assert share == pytest.approx(0.4)


def test_a_map_layout_is_computed_once_per_points_and_settings(tmp_path, monkeypatch):
    import sys
    import types

    from devise_lite.book.plots_maps import umap_2d

    fits = []

    class FakeUMAP:  # records each fit; a layout that depends on the points
        def __init__(self, **settings):
            self.settings = settings

        def fit_transform(self, points):
            fits.append(self.settings)
            return points[:, :2] * self.settings["n_neighbors"]

    monkeypatch.setitem(sys.modules, "umap", types.SimpleNamespace(UMAP=FakeUMAP))
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path))
    points = np.random.default_rng(0).normal(size=(20, 4))
    first = umap_2d(points, n_neighbors=5)
    again = umap_2d(points, n_neighbors=5)
    assert len(fits) == 1 and np.array_equal(first, again)
    assert len(list((tmp_path / "cache" / "layouts").glob("*.npy"))) == 1
    other = umap_2d(points, n_neighbors=6)  # other settings: a new layout
    moved = umap_2d(points + 1, n_neighbors=5)  # other points: a new layout
    assert len(fits) == 3
    assert not np.array_equal(other, first) and not np.array_equal(moved, first)


def test_gallery_marks_the_true_label_not_another_with_its_name(tmp_path):
    """Two labels may share a display name (WordNet has four "tuna"): the gallery
    compares labels, and `text` writes each as its own synset."""
    from PIL import Image

    from devise_lite.book.plots_photos import prediction_gallery
    from devise_lite.zeroshot import wnid_label

    photo = tmp_path / "fish.png"
    Image.new("RGB", (8, 8)).save(photo)
    fish, pear = "n02626762", "n11852148"  # tuna.n.03 (the fish), tuna.n.01
    answers = {"model": [[pear, fish]]}
    fig = prediction_gallery([photo], [fish], answers, "t", text=wnid_label)
    words = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert words == ["model\n1. tuna\n2. tuna (3) \u2713"]
    assert fig.axes[0].get_title() == "true: tuna (3)"
