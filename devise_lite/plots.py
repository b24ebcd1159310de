"""Figures shared by the chapters: UMAP maps of labels (and, later, images) coloured by WordNet group."""
from __future__ import annotations

import numpy as np

from .labels import LabelSpace


def wordnet_groups(space: LabelSpace, spec: dict[str, tuple[str, int]],
                   exclude_below: dict[str, str] | None = None, seed: int = 0) -> dict[str, list[str]]:
    """Labels of the space grouped by WordNet ancestor: `{"sharks": ("shark.n.01", 40)}` takes up to
    40 labels below shark.n.01 (a seeded sample if there are more). `exclude_below` drops a sub-tree
    from a group (other fish without the sharks). A label joins only the first group that claims it."""
    from .wordnet import descends_from, synset_of, wordnet

    wn = wordnet()
    rng = np.random.default_rng(seed)
    exclude_below = exclude_below or {}
    taken: set[str] = set()
    groups = {}
    for name, (ancestor, limit) in spec.items():
        root = wn.synset(ancestor)
        skip = wn.synset(exclude_below[name]) if name in exclude_below else None
        members = [w for w in space.wnids if w not in taken and descends_from(synset_of(w), root)
                   and not (skip and descends_from(synset_of(w), skip))]
        if len(members) > limit:
            members = sorted(rng.choice(members, size=limit, replace=False).tolist())
        groups[name] = members
        taken.update(members)
    return groups


def umap_2d(points: np.ndarray, seed: int = 0, n_neighbors: int = 12):
    """A seeded 2-d UMAP with cosine distance (seeded UMAP runs single-threaded, hence reproducible)."""
    import umap

    reducer = umap.UMAP(n_neighbors=min(n_neighbors, len(points) - 1), min_dist=0.3, metric="cosine",
                        random_state=seed)
    return reducer.fit_transform(points)


def label_map(space: LabelSpace, groups: dict[str, list[str]], title: str, annotate=(), seed: int = 0):
    """Scatter of the grouped labels after UMAP; `annotate` names labels (display names) to write."""
    import matplotlib.pyplot as plt

    wnids = [w for members in groups.values() for w in members]
    xy = umap_2d(space.vectors[space.index(wnids)], seed=seed)
    fig, ax = plt.subplots(figsize=(8, 6.5))
    start = 0
    for name, members in groups.items():
        part = xy[start:start + len(members)]
        ax.scatter(part[:, 0], part[:, 1], s=22, alpha=0.8, label=f"{name} ({len(members)})")
        start += len(members)
    names = [space.names[i] for i in space.index(wnids)]
    for label in annotate:
        if label in names:
            i = names.index(label)
            ax.annotate(label, xy[i], xytext=(4, 4), textcoords="offset points", fontsize=9)
    ax.set_title(title)
    ax.set_xlabel("UMAP 1")
    ax.set_ylabel("UMAP 2")
    ax.legend(fontsize=9, loc="best")
    fig.tight_layout()
    return fig
