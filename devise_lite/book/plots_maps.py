"""Maps of the joint space: seeded UMAP layouts (cached by their points and settings)
of label vectors, and of label vectors and projected photos together, with the names
of chosen points placed apart (`plots_label_placement.py`)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from importlib.metadata import version

import matplotlib.pyplot as plt
import numpy as np

from ..labels import LabelSpace
from ..storage import atomic_path, data_root
from ..wordnet import descends_from, synset_of, wordnet
from .plots_label_placement import CROWD_DISTANCES, annotate_apart


def wordnet_groups(
    space: LabelSpace,
    spec: dict[str, tuple[str, int]],
    exclude_below: dict[str, str] | None = None,
    seed: int = 0,
    keep: Collection[str] = (),
) -> dict[str, list[str]]:
    """Labels of the space by WordNet ancestor: `{"sharks": ("shark.n.01", 40)}` takes
    up to 40 labels below shark.n.01 (a seeded sample if there are more, with the wnids
    in `keep`), less `exclude_below`'s sub-tree; a label joins the first group only."""
    wn = wordnet()
    rng = np.random.default_rng(seed)
    exclude_below = exclude_below or {}
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
            kept = [w for w in members if w in keep][:limit]
            rest = [w for w in members if w not in kept]
            drawn = rng.choice(rest, size=limit - len(kept), replace=False).tolist()
            members = sorted(kept + drawn)
        groups[name] = members
        taken.update(members)
    return groups


def umap_2d(points: np.ndarray, seed: int = 0, n_neighbors: int = 12):
    """A seeded, one-thread (reproducible) cosine UMAP to 2-d, cached by its inputs."""
    points = np.ascontiguousarray(points, dtype=np.float32)
    near = min(n_neighbors, len(points) - 1)
    settings = dict(n_neighbors=near, min_dist=0.3, metric="cosine", random_state=seed)
    key = repr((points.shape, sorted(settings.items()), version("umap-learn")))
    digest = hashlib.sha256(points.tobytes() + key.encode())
    cached = data_root() / "cache" / "layouts" / f"{digest.hexdigest()[:20]}.npy"
    if cached.exists():
        return np.load(cached)
    import umap  # seconds to import (numba): only when a layout is computed

    layout = umap.UMAP(**settings, n_jobs=1).fit_transform(points)
    cached.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(cached) as tmp, open(tmp, "wb") as handle:
        np.save(handle, layout)
    return layout


def label_map(space: LabelSpace, groups: dict[str, list[str]], title: str, annotate=()):
    """Scatter of the grouped labels after UMAP, those of `annotate` named apart."""
    wnids = [w for members in groups.values() for w in members]
    xy = umap_2d(space.vectors[space.index(wnids)])
    # The legend goes under the axes, so the map keeps the page's width.
    fig, ax = plt.subplots(figsize=(7.5, 7.5))
    ends = np.cumsum([len(members) for members in groups.values()])[:-1]
    for (name, members), part in zip(groups.items(), np.split(xy, ends), strict=True):
        ax.scatter(*part.T, s=22, alpha=0.8, label=f"{name} ({len(members)})")
    names = [space.names[i] for i in space.index(wnids)]
    shown = [  # the rows of `annotate`'s labels, each a wnid or a name
        wnids.index(label) if label in wnids else names.index(label)
        for label in annotate
        if label in wnids or label in names
    ]
    chosen, texts = xy[shown], [names[row] for row in shown]
    if shown:
        ax.scatter(*chosen.T, s=40, facecolors="none", lw=1, edgecolors="black")
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
        annotate_apart(
            ax, chosen, texts, fontsize=9, mark=0.0, crowd=xy, distances=CROWD_DISTANCES
        )
    return fig


def joint_map(groups: dict, title: str, styles=None, notes=(), n_neighbors: int = 15):
    """One UMAP of groups of points of one space, drawn: (figure, {group: 2-d map})."""
    names = [name for name, points in groups.items() if len(points)]
    if not names:
        raise ValueError("joint_map needs at least one non-empty group of points")
    points = np.concatenate([np.asarray(groups[n], dtype=np.float32) for n in names])
    xy = umap_2d(points, n_neighbors=n_neighbors)
    ends = np.cumsum([len(groups[n]) for n in names])[:-1]
    coords = dict(zip(names, np.split(xy, ends), strict=True))
    return draw_map(coords, title, styles, notes), coords


def draw_map(coords: dict, title: str, styles=None, notes=()):
    """A 2-d map of point groups (later on top), `notes` (group, row, text) apart."""
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
        ncol=2,
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
