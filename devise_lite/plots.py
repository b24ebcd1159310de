"""Figures shared by the chapters: UMAP maps of labels (and, later, images) coloured by
WordNet group."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from .labels import LabelSpace


def wordnet_groups(
    space: LabelSpace,
    spec: dict[str, tuple[str, int]],
    exclude_below: dict[str, str] | None = None,
    seed: int = 0,
    keep: Collection[str] = (),
) -> dict[str, list[str]]:
    """Labels of the space grouped by WordNet ancestor.

    `{"sharks": ("shark.n.01", 40)}` takes up to 40 labels below shark.n.01 (a seeded
    sample if there are more; the wnids in `keep`, labels a figure names, are always
    among them). `exclude_below` drops a sub-tree from a group (other fish without the
    sharks). A label joins only the first group that claims it."""
    from .wordnet import descends_from, synset_of, wordnet

    wn = wordnet()
    rng = np.random.default_rng(seed)
    exclude_below = exclude_below or {}
    keep_set = set(keep)
    taken: set[str] = set()
    groups = {}
    for name, (ancestor, limit) in spec.items():
        root = wn.synset(ancestor)
        skip = wn.synset(exclude_below[name]) if name in exclude_below else None
        members = [
            w
            for w in space.wnids
            if w not in taken
            and descends_from(synset_of(w), root)
            and not (skip and descends_from(synset_of(w), skip))
        ]
        if len(members) > limit:
            kept = [w for w in members if w in keep_set][:limit]
            rest = [w for w in members if w not in set(kept)]
            drawn = rng.choice(rest, size=limit - len(kept), replace=False).tolist()
            members = sorted(kept + drawn)
        groups[name] = members
        taken.update(members)
    return groups


def umap_2d(points: np.ndarray, seed: int = 0, n_neighbors: int = 12):
    """A seeded 2-d UMAP with cosine distance (a seeded UMAP runs single-threaded,
    hence the same map on every build).

    The layout is kept in `data/cache/layouts/`, keyed by the points and the settings:
    a chapter re-run on the same inputs loads its maps instead of paying UMAP's
    compilation and fit (seconds a map), and other settings compute a new one."""
    import hashlib
    from importlib.metadata import version

    from .storage import atomic_path, data_root

    points = np.ascontiguousarray(points, dtype=np.float32)
    settings = dict(
        n_neighbors=min(n_neighbors, len(points) - 1),
        min_dist=0.3,
        metric="cosine",
        random_state=seed,
    )
    digest = hashlib.sha256(points.tobytes())
    digest.update(
        repr((points.shape, sorted(settings.items()), version("umap-learn"))).encode()
    )
    cached = data_root() / "cache" / "layouts" / f"{digest.hexdigest()[:20]}.npy"
    if cached.exists():
        return np.load(cached)
    import umap  # seconds to import (numba): only when a layout is computed

    layout = umap.UMAP(**settings, n_jobs=1).fit_transform(points)
    cached.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(cached) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, layout)
    return layout


def label_map(
    space: LabelSpace,
    groups: dict[str, list[str]],
    title: str,
    annotate=(),
    seed: int = 0,
):
    """Scatter of the grouped labels after UMAP, the legend outside the axes.

    `annotate` names labels (wnids, or display names) to write next to their points,
    placed so that no two names overlap and few other points are covered
    (`annotate_apart`); labels not on the map are skipped."""
    import matplotlib.pyplot as plt

    wnids = [w for members in groups.values() for w in members]
    xy = umap_2d(space.vectors[space.index(wnids)], seed=seed)
    # The legend goes under the axes, so the map keeps the page's width.
    fig, ax = plt.subplots(figsize=(7.5, 7.5))
    start = 0
    for name, members in groups.items():
        part = xy[start : start + len(members)]
        ax.scatter(
            part[:, 0], part[:, 1], s=22, alpha=0.8, label=f"{name} ({len(members)})"
        )
        start += len(members)
    names = [space.names[i] for i in space.index(wnids)]
    shown = [
        (names[wnids.index(label)], wnids.index(label))
        if label in wnids
        else (label, names.index(label))
        for label in annotate
        if label in wnids or label in names
    ]
    if shown:
        chosen = xy[[row for _, row in shown]]
        ax.scatter(
            chosen[:, 0],
            chosen[:, 1],
            s=40,
            facecolors="none",
            lw=1,
            edgecolors="black",
        )
    ax.set_title(title)
    ax.set_xlabel("UMAP 1 (no units: only neighbourhoods are kept)")
    ax.set_ylabel("UMAP 2")
    ax.legend(
        title="WordNet group (labels)",
        fontsize=9,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.09),
        ncol=3,
    )
    ax.set_xlim(ax.get_xlim())  # fixed now: the names are placed in pixels
    ax.set_ylim(ax.get_ylim())
    fig.tight_layout()
    if shown:
        texts = [label for label, _ in shown]
        annotate_apart(
            ax, chosen, texts, fontsize=9, mark=0.0, crowd=xy, distances=CROWD_DISTANCES
        )
    return fig


# ---------------------------------------------------------------- chapters 3-5: photos,
# curves, Table 1


def _thumbnail(path, size: int = 256):
    """An RGB thumbnail of an image file (aspect kept), for figures only."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
        image.thumbnail((size, size))
        return image


def photo_grid(paths, captions, title: str, ncols: int = 3, panel_size: float = 2.8):
    """Photos in a grid, each with a (multi-line) caption under it, such as a model's
    top labels."""
    import matplotlib.pyplot as plt

    if len(paths) != len(captions):
        raise ValueError(
            f"got {len(paths)} photos but {len(captions)} captions; give one caption "
            "per photo"
        )
    nrows = max(1, -(-len(paths) // ncols))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(ncols * panel_size, nrows * (panel_size + 0.9)),
        squeeze=False,
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, path, caption in zip(axes.flat, paths, captions, strict=False):
        ax.imshow(_thumbnail(path))
        ax.set_title(caption, fontsize=8, loc="left", y=-0.02, va="top", pad=0)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def training_curves(
    history,
    quantities=("loss", "test hit@1", "test hit@5"),
    title: str = "Training curves",
    log_scale=("loss",),
):
    """One panel per quantity against the epoch, one line per model.

    `history` has the columns "epoch", "model" and the quantities (as
    `trained_models(cfg)["history"]`). Quantities in `log_scale` get a symmetric-log
    axis, so losses of different scales (rank loss, cross-entropy) and losses that reach
    0 all stay readable."""
    import matplotlib.pyplot as plt

    missing = [q for q in ("epoch", "model", *quantities) if q not in history.columns]
    if missing:
        raise ValueError(
            f"history lacks the columns {missing}; it has {list(history.columns)}"
        )
    fig, axes = plt.subplots(
        1, len(quantities), figsize=(4.2 * len(quantities), 3.4), squeeze=False
    )
    for ax, quantity in zip(axes[0], quantities, strict=True):
        for model, rows in history.groupby("model", sort=False):
            ax.plot(rows["epoch"], rows[quantity], marker=".", label=model)
        if quantity in log_scale:
            ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(quantity + (" (symlog)" if quantity in log_scale else ""))
        ax.set_title(quantity)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def metric_bars(
    table,
    panels: dict[str, list[str]],
    title: str,
    models=None,
    ylabels: dict[str, str] | None = None,
):
    """Grouped bars, one panel per group of metric columns (e.g. flat hit@k, hp@k), one
    bar per model.

    `table` has a "model" column and the metric columns (as `pipeline.table1(cfg)`);
    columns absent from the table (hp@20 with fewer than 20 candidates) are skipped.
    `ylabels` names each panel's y axis (by default the panel's name)."""
    import matplotlib.pyplot as plt

    models = list(table["model"]) if models is None else list(models)
    rows = table.set_index("model").loc[models]
    # Narrow panels: the book's text column is about 750 px, and a wider figure shrinks
    # its text.
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4.4 * len(panels), 3.6), squeeze=False
    )
    for ax, (panel, columns) in zip(axes[0], panels.items(), strict=True):
        columns = [c for c in columns if c in rows.columns]
        x = np.arange(len(columns))
        width = 0.8 / max(len(models), 1)
        for i, model in enumerate(models):
            ax.bar(
                x + (i - (len(models) - 1) / 2) * width,
                rows.loc[model, columns].astype(float),
                width,
                label=model,
            )
        ax.set_xticks(x, columns)
        ax.set_ylim(0, 1)
        ax.set_xlabel("metric at k")
        ax.set_ylabel((ylabels or {}).get(panel, panel))
        ax.set_title(panel)
        ax.grid(axis="y", alpha=0.3)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(
        handles,
        names,
        loc="lower center",
        ncol=min(len(models), 3),
        fontsize=9,
        frameon=False,
    )
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06 * ((len(models) + 2) // 3) + 0.04, 1, 1))
    return fig


def prediction_gallery(
    paths, truths, predictions: dict, title: str, panel_size: float = 2.4, text=str
):
    """One row per photo: the photo with its true label, then each model's ranked
    labels.

    `predictions` maps a model name to one list of labels per photo, best first; a
    label equal to the photo's true label is marked with a check mark. `text` writes a
    label (give wnids and `zeroshot.wnid_label` where two labels may share a name)."""
    import matplotlib.pyplot as plt

    models = list(predictions)
    for model, lists in predictions.items():
        if len(lists) != len(paths):
            raise ValueError(
                f"{model!r} has {len(lists)} label lists for {len(paths)} photos"
            )
    fig, axes = plt.subplots(
        len(paths),
        1 + len(models),
        squeeze=False,
        figsize=(panel_size * (1 + 1.3 * len(models)), panel_size * len(paths)),
        gridspec_kw={"width_ratios": [1] + [1.3] * len(models)},
    )
    for row, (path, truth) in enumerate(zip(paths, truths, strict=True)):
        photo = axes[row][0]
        photo.imshow(_thumbnail(path))
        photo.set_title(f"true: {text(truth)}", fontsize=8)
        photo.axis("off")
        for ax, model in zip(axes[row][1:], models, strict=True):
            lines = [
                f"{rank}. {text(label)}" + (" \u2713" if label == truth else "")
                for rank, label in enumerate(predictions[model][row], start=1)
            ]
            ax.text(
                0.0,
                0.95,
                f"{model}\n" + "\n".join(lines),
                va="top",
                ha="left",
                fontsize=9,
                transform=ax.transAxes,
            )
            ax.axis("off")
    fig.suptitle(title)
    # Half an inch above the first row for the title, whatever the number of rows.
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_figheight()))
    return fig


def hop_histogram(hops: dict, title: str, max_hops: int | None = None):
    """Side-by-side histograms of WordNet hop distances, one bar series per model
    (`{model: [hops]}`); the x axis starts at 1 hop, the nearest a mistake can be."""
    import matplotlib.pyplot as plt

    top = (
        max_hops
        if max_hops is not None
        else max((max(h) for h in hops.values() if len(h)), default=1)
    )
    bins = np.arange(1, top + 2)
    width = 0.8 / max(len(hops), 1)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for i, (model, values) in enumerate(hops.items()):
        counts, _ = np.histogram(np.minimum(values, top), bins=bins)
        share = counts / max(len(values), 1)
        ax.bar(
            bins[:-1] + (i - (len(hops) - 1) / 2) * width,
            share,
            width,
            label=f"{model} ({len(values)})",
        )
    ax.set_xticks(bins[:-1])
    ax.set_xlabel("WordNet hops from the true label to the top-1 label")
    ax.set_ylabel("share of the model's mistakes")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


# ------------------------------------------------------- chapter 8: the paper beside us


def paper_beside_ours(
    panels: dict,
    title: str,
    ylabels: dict[str, str],
    log: tuple[str, ...] = (),
    lines: dict[str, tuple[float, str]] | None = None,
):
    """One panel per comparison: for each category (a row of the panel's DataFrame,
    its index on the x axis) the paper's bar beside ours (columns "paper", "ours").

    Panels named in `log` get a log y axis; `lines` draws one reference line per
    panel ({panel: (y, label)}), one line style per label. A value the axis cannot
    show (missing, or 0 on a log axis) is written at the foot of its bar instead.
    Panels are as wide as their number of categories."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(9.2, 4.2),
        squeeze=False,
        gridspec_kw={"width_ratios": [max(len(f), 1) for f in panels.values()]},
    )
    labels = list(dict.fromkeys(label for _, label in (lines or {}).values()))
    colours = {"paper": "0.6", "ours": "tab:blue"}
    for ax, (panel, frame) in zip(axes[0], panels.items(), strict=True):
        x = np.arange(len(frame))
        on_log = panel in log
        for i, side in enumerate(("paper", "ours")):
            values = frame[side].astype(float).to_numpy()
            shown = np.isfinite(values) & ((values > 0) if on_log else True)
            where = x + (i - 0.5) * 0.4
            ax.bar(where[shown], values[shown], 0.4, color=colours[side], label=side)
            for xi, v in zip(where[~shown], values[~shown], strict=True):
                text = "0" if v == 0 else "n/a"
                ax.annotate(
                    text,
                    (xi, 0),
                    xytext=(0, 2),
                    textcoords="offset points",
                    xycoords=("data", "axes fraction"),
                    ha="center",
                    fontsize=8,
                    color=colours[side],
                )
        if on_log:
            ax.set_yscale("log")
        if lines and panel in lines:
            y, label = lines[panel]
            style = ("--", ":", "-.")[labels.index(label) % 3]
            ax.axhline(y, color="black", linestyle=style, linewidth=1, label=label)
        ax.set_xticks(x, list(frame.index), rotation=30, ha="right")
        ax.set_xlabel(frame.index.name or "")
        ax.set_ylabel(ylabels.get(panel, panel))
        ax.set_title(panel)
        ax.grid(axis="y", alpha=0.3)
    handles, names = axes[0][0].get_legend_handles_labels()
    for ax in axes[0][1:]:  # the other panels' reference lines
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            if name not in names:
                handles.append(handle)
                names.append(name)
    fig.legend(handles, names, loc="lower center", ncol=len(names), frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


# ----------------------------------------------------------- chapter 7: the joint space


def joint_map(
    groups: dict,
    title: str,
    styles: dict | None = None,
    notes=(),
    seed: int = 0,
    n_neighbors: int = 15,
):
    """One seeded UMAP of several groups of points that live in the same space (label
    vectors and image embeddings alike), drawn by `draw_map`.

    `groups[name]` is an (n, d) array (empty groups are skipped); `styles` and `notes`
    are `draw_map`'s. Returns (figure, {group: (n, 2) map coordinates}), the groups
    in the order given."""
    names = [name for name, points in groups.items() if len(points)]
    if not names:
        raise ValueError("joint_map needs at least one non-empty group of points")
    xy = umap_2d(
        np.concatenate([np.asarray(groups[n], dtype=np.float32) for n in names]),
        seed=seed,
        n_neighbors=n_neighbors,
    )
    bounds = np.cumsum([0] + [len(groups[n]) for n in names])
    coords = {
        n: xy[start:end]
        for n, start, end in zip(names, bounds[:-1], bounds[1:], strict=True)
    }
    return draw_map(coords, title, styles, notes), coords


# --- chapter 7

# Where a label may go around its point, tried in this order: right, left, above,
# below, then the diagonals; each ring farther out than the one before.
LABEL_DIRECTIONS = (
    (1, 0),
    (-1, 0),
    (0, 1),
    (0, -1),
    (1, 1),
    (-1, 1),
    (1, -1),
    (-1, -1),
)
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
    """Boxes for text labels next to their points, no two overlapping (greedy).

    Labels are placed in the order given, so the important ones first: each takes the
    first position around its anchor (`LABEL_DIRECTIONS`, ring after ring of
    `distances`) whose box (its `sizes` entry: width, height) overlaps no box placed
    before it nor an `obstacles` box, and stays inside `bounds` (x0, y0, x1, y1).
    With `mark` > 0, a placed label's point (a square of half-side `mark`) becomes an
    obstacle too, so later labels do not cover it. With `crowd` (points), of the
    free positions the one covering the fewest of them wins, nearest first on ties:
    the search stops at the first ring with one that covers none. Returns one box
    (x0, y0, x1, y1) per label, or None for a label left out because every position
    collides. Any units, the same for all (the figure uses pixels)."""
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
    ax,
    points,
    texts,
    fontsize: float = 8,
    mark: float = 3.0,
    crowd=(),
    distances=LABEL_DISTANCES,
) -> int:
    """Write `texts` next to `points` (data coordinates), in that order, so that no
    two overlap nor cover the point of a label written before, and as few of the
    `crowd` points (data coordinates) as can be; a label with no free place is left
    out. Call it once the axes' layout and limits are final. Returns how many were
    written."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    anchors = ax.transData.transform(np.asarray(points, dtype=float).reshape(-1, 2))
    box_style = {"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.8, "lw": 0}
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
    written = 0
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
            arrowprops=(
                {"arrowstyle": "-", "color": "0.4", "lw": 0.6, "shrinkA": 0}
                if away > distances[0] + 1  # a leader line from afar
                else None
            ),
        )
        written += 1
    return written


def draw_map(coords: dict, title: str, styles=None, notes=(), legend_columns=2):
    """A 2-d map of groups of points, group by group in the order given (later groups
    on top), the legend under the axes, and labels that do not collide.

    `coords[name]` is an (n, 2) array; `styles[name]` are scatter keyword arguments
    (marker, color, s, alpha); `notes` is a list of (group, row, text) to write next to
    those points, most important first: `annotate_apart` places them in that order
    and leaves out those with no free place. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 7.6))
    for name, xy in coords.items():
        style = {"s": 12, "alpha": 0.6, **(styles or {}).get(name, {})}
        ax.scatter(xy[:, 0], xy[:, 1], label=f"{name} ({len(xy)})", **style)
    ax.set_title(title)
    ax.set_xlabel("UMAP 1 (no unit: only neighbourhoods carry meaning)")
    ax.set_ylabel("UMAP 2")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.06),
        ncol=legend_columns,
        fontsize=8,
        markerscale=1.5,
        frameon=False,
    )
    ax.margins(0.04)
    ax.set_xlim(ax.get_xlim())  # fixed now: the labels are placed in pixels
    ax.set_ylim(ax.get_ylim())
    fig.tight_layout()
    items = [(coords[g][row], text) for g, row, text in notes or () if g in coords]
    if items:
        annotate_apart(ax, [p for p, _ in items], [t for _, t in items])
    return fig


# --- chapter 6


def figure2(photos: list[dict], models: dict[str, str], title: str):
    """The paper's Figure 2: one row per photo (`zeroshot.figure2_rows`), the photo
    with its true label, then each model's top 5 (`models`: the row's model name ->
    the column's heading); a label equal to the true one is set in bold."""
    import matplotlib.pyplot as plt

    from .zeroshot import synset_label

    # 6.8 inches at 100 dpi is the book's column: the labels print at their font size
    fig, axes = plt.subplots(
        len(photos),
        1 + len(models),
        squeeze=False,
        figsize=(6.8, 1.6 * len(photos) + 0.6),
        gridspec_kw={"width_ratios": [1] + [1.4] * len(models)},
    )
    for row, photo in zip(axes, photos, strict=True):
        row[0].imshow(_thumbnail(photo["image"]))
        row[0].set_title(synset_label(photo["true"]), fontsize=10, pad=3)
        for ax, model in zip(row[1:], models, strict=True):
            for rank, name in enumerate(photo["top5"].get(model, []), start=1):
                ax.text(
                    0.03,
                    0.95 - 0.2 * (rank - 1),
                    f"{rank}. {synset_label(name)}",
                    fontsize=9.5,
                    va="top",
                    weight="bold" if name == photo["true"] else "normal",
                    transform=ax.transAxes,
                )
        for ax in row:
            ax.axis("off")
    for ax, heading in zip(axes[0][1:], models.values(), strict=True):
        ax.set_title(heading, fontsize=10, loc="left", pad=3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def seen_count_figure(points, metric: str = "hit@5", title: str = ""):
    """2-hop `metric` as a multiple of chance against the number of seen labels
    (`zeroshot.seen_count_points`): one line per model of the paper's setting, and the
    first experiment's points marked apart. Both axes are logarithmic (a ratio against
    a count); the y axis is linear below 1, where chance is."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.8, 4.4))
    colours = {}
    paper_setting = points[points["experiment"] != "caltech"]
    for model, mine in paper_setting.groupby("model", sort=False):
        mine = mine.sort_values("n_seen")
        name = model.replace("DeViSE", "DeViSE-1K").replace("ConSE", "ConSE-1K")
        (line,) = ax.plot(
            mine["n_seen"], mine["x chance"], marker="o", label=f"{name}, ILSVRC seen"
        )
        colours[model] = line.get_color()
    first = points[points["experiment"] == "caltech"]
    for row in first.to_dict("records"):
        ax.scatter(
            row["n_seen"],
            row["x chance"],
            marker="*",
            s=200,
            color=colours.get(row["model"], "black"),
            edgecolor="black",
            zorder=3,
            label=f"{row['model']}, Caltech seen (first experiment)",
        )
    counts = sorted(set(points["n_seen"]))
    ax.set_xscale("log")
    ax.set_xticks(counts, [f"{n:,}" for n in counts])
    ax.minorticks_off()
    ax.set_yscale("symlog", linthresh=1)
    top = max(1.0, float(points["x chance"].max()))
    ticks = [t for t in (0, 1, 3, 10, 30, 100, 300, 1000) if t <= 1.5 * top]
    ax.set_yticks(ticks, [f"{t}x" for t in ticks])
    ax.set_ylim(0, 1.6 * top)
    ax.axhline(1, color="grey", lw=0.8, ls=":")
    # "chance" between the two middle counts, clear of the curves' ends
    mid = len(counts) // 2
    middle = (counts[mid - 1] * counts[mid]) ** 0.5 if len(counts) > 1 else counts[0]
    ax.text(middle, 1.1, "chance", color="grey", ha="center", va="bottom")
    ax.set_xlabel("number of seen labels")
    ax.set_ylabel(f"2-hop {metric} / chance")
    ax.set_title(title)
    ax.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig
