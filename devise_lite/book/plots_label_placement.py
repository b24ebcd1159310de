"""Names written next to points of a figure so that no two overlap and few other
points are covered: a greedy search over positions around each point
(`place_labels`, in any units) and its use on a matplotlib axes (`annotate_apart`)."""

from __future__ import annotations

import numpy as np

# Where a label may go around its point, in order: right, left, above, below, diagonals.
LABEL_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))
LABEL_DIRECTIONS += ((1, 1), (-1, 1), (1, -1), (-1, -1))
LABEL_DISTANCES = (4.0, 12.0, 24.0)  # pixels between the point and its label
# Chapter 2's map names labels inside crowds of other labels: a ring farther out.
CROWD_DISTANCES = (7.0, 19.0, 36.0, 56.0)


def _overlap(a, b) -> bool:
    """Whether two boxes (x0, y0, x1, y1) share any area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _covered(box, points: np.ndarray) -> int:
    """How many of the (n, 2) points lie inside the box (x0, y0, x1, y1)."""
    x, y = points[:, 0], points[:, 1]
    return int(((x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])).sum())


def place_labels(
    anchors,
    sizes,
    bounds=None,
    obstacles=(),
    distances=LABEL_DISTANCES,
    mark: float = 0.0,
    crowd=(),
) -> list:
    """Boxes (x0, y0, x1, y1) for labels of `sizes` by their `anchors` (any one unit),
    greedily in order: each takes the first position (`LABEL_DIRECTIONS`, ring after
    ring of `distances`) in `bounds` clear of placed boxes, `obstacles` and (`mark` > 0)
    placed labels' points; with `crowd`, the one covering fewest; else None."""
    taken = [tuple(box) for box in obstacles]
    crowd = np.asarray(crowd, dtype=float).reshape(-1, 2)
    boxes = []
    for (x, y), (width, height) in zip(anchors, sizes, strict=True):
        point = (x - mark, y - mark, x + mark, y + mark)
        found, fewest = None, None
        for distance in distances:
            for dx, dy in LABEL_DIRECTIONS:
                x0 = x + distance if dx > 0 else x - distance - width
                y0 = y + distance if dy > 0 else y - distance - height
                x0 = x - width / 2 if dx == 0 else x0
                y0 = y - height / 2 if dy == 0 else y0
                box = (x0, y0, x0 + width, y0 + height)
                inside = bounds is None or (
                    box[0] >= bounds[0]
                    and box[1] >= bounds[1]
                    and box[2] <= bounds[2]
                    and box[3] <= bounds[3]
                )
                clear = not any(_overlap(box, other) for other in taken)
                if inside and clear and not (mark and _overlap(box, point)):
                    covered = _covered(box, crowd)
                    if fewest is None or covered < fewest:
                        found, fewest = box, covered
                    if covered == 0:
                        break
            if fewest == 0:
                break
        boxes.append(found)
        if found:
            taken += [found, point] if mark else [found]
    return boxes


def annotate_apart(
    ax, points, texts, fontsize=8, mark=3.0, crowd=(), distances=LABEL_DISTANCES
) -> int:
    """Write `texts` next to `points` (`place_labels` in pixels), few `crowd` points
    covered; call it once the axes' limits are final. Returns how many were written."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    anchors = ax.transData.transform(np.asarray(points, dtype=float).reshape(-1, 2))
    box_style = {"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.8, "lw": 0}
    leader = {"arrowstyle": "-", "color": "0.4", "lw": 0.6, "shrinkA": 0}
    pad = 0.15 * fontsize * fig.dpi / 72  # the box's padding, in pixels
    sizes = []
    for text in texts:  # measure each label as it will be drawn
        probe = ax.text(0, 0, text, fontsize=fontsize)
        extent = probe.get_window_extent(renderer)
        sizes.append((extent.width + 2 * pad, extent.height + 2 * pad))
        probe.remove()
    frame = ax.get_window_extent(renderer)
    dots = ax.transData.transform(np.asarray(crowd, dtype=float).reshape(-1, 2))
    boxes = place_labels(
        anchors, sizes, frame.extents, distances=distances, mark=mark, crowd=dots
    )
    to_points = 72.0 / fig.dpi  # offsets are given in points, the boxes are pixels
    for point, (x, y), box, text in zip(points, anchors, boxes, texts, strict=True):
        if box is None:
            continue
        away = np.hypot(max(box[0] - x, 0, x - box[2]), max(box[1] - y, 0, y - box[3]))
        ax.annotate(
            text,
            point,
            xytext=((box[0] + pad - x) * to_points, (box[1] + pad - y) * to_points),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=fontsize,
            bbox=box_style,
            # a leader line from afar
            arrowprops=leader if away > distances[0] + 1 else None,
        )
    return sum(box is not None for box in boxes)
