"""What chapter 7 shows of an `Explorer`: its models, its maps' points, where the
photos' nearest labels lie, the photo-label gap, and neighbour tables side by side."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from ..vectors import unit
from .explorer import Explorer, Gallery, Groups


def overview(explorer: Explorer) -> pd.DataFrame:
    """Per model: whether it takes words and photos, and its candidate sets' sizes."""
    return pd.DataFrame(
        [
            {
                "model": name,
                "words": view.has_words and explorer.words is not None,
                "photos": view.embed_images is not None,
                **{s: len(w) for s, w in explorer.sets_of(name).items()},
            }
            for name, view in explorer.models.items()
        ]
    )


def label_points(explorer: Explorer, wnids: Sequence[str], model: str) -> np.ndarray:
    """The vectors `model` ranks for these labels, (len(wnids), d)."""
    space = explorer.model_view(model).space
    return space.vectors[space.index(list(wnids))]


def photo_points(explorer: Explorer, names: Sequence[str], model: str) -> np.ndarray:
    """Where `model` puts these gallery photos, as unit rows (cosines: dot products)."""
    view = explorer.model_view(model)
    if not names:
        return np.zeros((0, view.space.vectors.shape[1]), np.float32)
    features = np.stack([explorer.images[n].features for n in names])
    return unit(np.asarray(view.embed_images(features), dtype=np.float32))


def map_points(
    explorer: Explorer, label_groups: Groups, photo_groups: Groups, model: str
) -> dict[str, np.ndarray]:
    """The points of a map under `model`: label groups' vectors, then photo groups'."""
    points = {g: label_points(explorer, w, model) for g, w in label_groups.items()}
    photos = {g: photo_points(explorer, n, model) for g, n in photo_groups.items()}
    return points | photos


def nearest_label_table(
    explorer: Explorer, photos: Groups, labels: Sequence[str], members: Collection[str]
) -> pd.DataFrame:
    """`nearest_label_summary` per photo-embedding model and non-empty photo group."""
    names = [explorer.space.names[i] for i in explorer.space.index(list(labels))]
    rows = []
    for model, view in explorer.models.items():
        if view.embed_images is None:
            continue
        vectors = label_points(explorer, labels, model)
        for group, gallery_names in photos.items():
            if gallery_names:
                points = photo_points(explorer, gallery_names, model)
                summary = nearest_label_summary(points, vectors, labels, names, members)
                rows.append({"model": model, "group": group, **summary})
    return pd.DataFrame(rows)


def gap_table(explorer: Explorer, photos: Sequence[str]) -> pd.DataFrame:
    """`photo_label_gap` of these photos per model, among its "21k+seen" labels."""
    truth = [explorer.images[name].wnid for name in photos]
    gaps = {}
    for model, view in explorer.models.items():
        if view.embed_images is not None:
            every = explorer.sets_of(model)["21k+seen"]
            gaps[model] = photo_label_gap(
                photo_points(explorer, photos, model),
                label_points(explorer, truth, model),
                label_points(explorer, every, model),
            )
    return pd.DataFrame(gaps)


def side_by_side(tables: Mapping[str, pd.DataFrame], digits: int = 2) -> pd.DataFrame:
    """Neighbour tables as one: a column per query, a row per rank, "name (cosine)"."""
    columns = {
        query: [f"{r.name} ({r.cosine:.{digits}f})" for r in t.itertuples()]
        for query, t in tables.items()
    }
    depth = max((len(c) for c in columns.values()), default=0)
    frame = pd.DataFrame({q: c + [""] * (depth - len(c)) for q, c in columns.items()})
    frame.index = pd.RangeIndex(1, depth + 1, name="rank")
    return frame


def map_label_groups(
    sets: Groups, caltech: Sequence[str], sharks: Sequence[str], sample=300, seed=0
) -> dict[str, list[str]]:
    """Chapter 7's map's label groups for a model with candidate sets `sets`: a label
    joins the first group that claims it, in this order: the shark labels, the
    Caltech-101 labels the model saw, those it did not, its other seen labels and its
    2-hop labels (these two a seeded sample of `sample` labels: enough to show a region,
    few to read). The dict comes in drawing order: the samples first, under the rest."""
    rng = np.random.default_rng(seed)
    seen = set(sets["seen"])
    claims = {
        "shark labels": sharks,
        "Caltech labels, seen": [w for w in caltech if w in seen],
        "Caltech labels, unseen": [w for w in caltech if w not in seen],
        "other seen labels (sample)": sets["seen"],
        "2-hop labels (sample)": sets["2-hop"],
    }
    taken: set[str] = set()
    groups = {}
    for name, wnids in claims.items():
        free = [w for w in dict.fromkeys(wnids) if w not in taken]
        if name.endswith("(sample)") and len(free) > sample:
            free = sorted(rng.choice(free, size=sample, replace=False).tolist())
        groups[name] = free
        taken.update(free)
    return dict(sorted(groups.items(), key=lambda g: not g[0].endswith("(sample)")))


def gallery_sample(
    images: Gallery, prefix: str, per_label: int, seed: int = 0
) -> list[str]:
    """Up to `per_label` seeded gallery photos of each label under `prefix`."""
    rng = np.random.default_rng(seed)
    by_label: dict[str | None, list[str]] = {}
    for name, image in images.items():
        if name.startswith(prefix):
            by_label.setdefault(image.wnid, []).append(name)
    chosen = set()
    for names in by_label.values():
        size = min(per_label, len(names))
        chosen.update(rng.choice(names, size=size, replace=False).tolist())
    return [name for name in images if name in chosen]


def map_photo_groups(
    images: Gallery, per_label: int = 5, per_species: int = 80, seed: int = 0
) -> dict[str, list[str]]:
    """Chapter 7's map's photos: seeded samples of Caltech photos and of each shark."""
    samples = {
        "Caltech test photos": ("test/", per_label),
        "great white photos": ("sharks/great_white", per_species),
        "hammerhead photos": ("sharks/hammerhead", per_species),
    }
    return {g: gallery_sample(images, p, n, seed) for g, (p, n) in samples.items()}


def photo_label_gap(
    photos: np.ndarray, true_labels: np.ndarray, labels: np.ndarray
) -> dict[str, float]:
    """How far projected photos sit from the labels: the median cosine of a photo to
    its true label (row i of `true_labels`), to the nearest of `labels`, and to its
    nearest other photo. Every row is a unit vector; at least two photos."""
    if len(photos) < 2:
        raise ValueError(f"the gap needs at least two photos, got {len(photos)}")
    to_true = np.einsum("nd,nd->n", photos, true_labels)
    to_label = (photos @ labels.T).max(axis=1)
    among = photos @ photos.T
    np.fill_diagonal(among, -np.inf)  # a photo is not its own neighbour
    return {
        "photo to its true label": float(np.median(to_true)),
        "photo to its nearest label": float(np.median(to_label)),
        "photo to its nearest other photo": float(np.median(among.max(axis=1))),
    }


def nearest_label_summary(
    points: np.ndarray,
    labels: np.ndarray,
    wnids: Sequence[str],
    names: Sequence[str],
    members: Collection[str],
) -> dict:
    """The share of photos nearest to one of `members`, and their commonest label."""
    if not len(points):
        raise ValueError("no points to summarise")
    nearest_rows = (points @ labels.T).argmax(axis=1)
    counts = pd.Series([names[i] for i in nearest_rows]).value_counts()
    members = set(members)
    among = float(np.mean([wnids[i] in members for i in nearest_rows]))
    return {
        "photos": len(points),
        "nearest label among them": among,
        "most common nearest label": f"{counts.index[0]} ({counts.iloc[0]})",
    }


def map_distance_to_truth(
    coords: Mapping[str, np.ndarray],
    groups: Groups,
    photos: np.ndarray,
    truth: Sequence[str],
) -> float:
    """On a map, the median distance from each photo to its label, per map width."""
    where = {
        wnid: coords[group][row]
        for group, wnids in groups.items()
        if group in coords
        for row, wnid in enumerate(wnids)
    }
    every = np.concatenate(list(coords.values()))
    width = every[:, 0].max() - every[:, 0].min()
    own = np.array([where[w] for w in truth])
    return float(np.median(np.linalg.norm(photos - own, axis=1)) / width)
