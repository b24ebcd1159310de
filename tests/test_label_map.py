"""The label names of the UMAP maps (plots_maps.label_map, through annotate_apart) never
overlap."""

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from devise_lite.book.plots_label_placement import (  # noqa: E402
    CROWD_DISTANCES,
    annotate_apart,
)


def _text_boxes(ax):
    """The boxes of the names' text (an annotation's own box includes its leader)."""
    renderer = ax.figure.canvas.get_renderer()
    return [Text.get_window_extent(t, renderer) for t in ax.texts]


def test_names_of_crowded_points_are_placed_apart():
    rng = np.random.default_rng(0)
    crowd = rng.normal(0, 0.05, size=(8, 2))  # eight points on top of each other
    others = rng.uniform(-3, 3, size=(200, 2))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(*np.concatenate([crowd, others]).T)
    names = [f"a long label name {i}" for i in range(len(crowd))]
    fig.canvas.draw()  # the axes' limits final, as annotate_apart asks
    written = annotate_apart(
        ax, crowd, names, mark=0.0, crowd=others, distances=CROWD_DISTANCES
    )
    assert written == len(names)
    fig.canvas.draw()
    boxes = _text_boxes(ax)
    assert len(boxes) == len(names)
    for first, second in itertools.combinations(boxes, 2):
        assert not first.overlaps(second)
    inside = ax.get_window_extent()
    assert all(
        inside.contains(b.x0, b.y0) and inside.contains(b.x1, b.y1) for b in boxes
    )
    plt.close(fig)


def test_a_lone_point_gets_its_name_right_beside_it_without_a_leader():
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter([0, 5], [0, 5])
    fig.canvas.draw()
    annotate_apart(
        ax, [[0.0, 0.0]], ["alone"], crowd=[[5.0, 5.0]], distances=CROWD_DISTANCES
    )
    (note,) = ax.texts
    dx, dy = note.xyann  # points from the point to the box's lower left corner
    height = note.get_window_extent().height * 72 / fig.dpi
    # First choice: right of the point, a few points away, centred on it; no leader.
    assert 0 < dx < CROWD_DISTANCES[0] and dy == pytest.approx(-height / 2, abs=1.5)
    assert note.arrow_patch is None
    plt.close(fig)


def test_wordnet_groups_keep_the_labels_a_figure_names():
    from devise_lite.book.plots_maps import wordnet_groups
    from devise_lite.labels import LabelSpace
    from devise_lite.sharks import shark_wnids
    from devise_lite.wnids import imagenet21k_wnids

    sharks = shark_wnids(imagenet21k_wnids())
    space = LabelSpace(sharks, sharks, np.eye(len(sharks), dtype=np.float32))
    tiger = "n01491361"
    spec = {"sharks": ("shark.n.01", 3)}
    kept = wordnet_groups(space, spec, seed=0, keep=[tiger])["sharks"]
    assert tiger in kept and len(kept) == 3 and kept == sorted(kept)
    # Without `keep`, the seeded sample is the one it always was.
    drawn = np.random.default_rng(0).choice(sharks, size=3, replace=False)
    assert wordnet_groups(space, spec, seed=0)["sharks"] == sorted(drawn.tolist())
