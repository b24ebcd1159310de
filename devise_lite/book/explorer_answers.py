"""The k nearest labels of every label and photo of chapter 7's first map under each
model, precomputed for a page without a kernel (`static_explorer`): `Explorer`'s answers
(tests/test_static_explorer.py holds them equal), in seconds rather than minutes: one
matrix product per chunk of queries, one ranking shared by models with equal vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..vectors import top_k, unit
from .explorer import Explorer, Groups

_CHUNK = 256  # query rows scored at once: (256, 21k) float32 scores are ~20 MB
# A bound on how far two float32 products of the same unit vectors (up to 800-d) can
# round apart (n * eps = 800 * 6e-8 = 5e-5 each): scores closer than this may swap.
_ROUNDING = 1e-4
Answer = tuple[list[str], np.ndarray]  # a query's nearest labels and their cosines


@dataclass(frozen=True)
class MapQuery:
    """One point of the map as a query: a label (wnid) or a gallery photo (name)."""

    kind: str  # "label" or "image", as `Explorer.answer` takes them
    query: str
    caption: str  # what the reader reads in the list and on hover
    group: str  # the map group the point belongs to


def map_queries(
    explorer: Explorer, label_groups: Groups, photo_groups: Groups
) -> list[MapQuery]:
    """The map's points as queries, group by group, in the order of `map_points`."""
    name_of = dict(zip(explorer.space.wnids, explorer.space.names, strict=True))
    queries = [
        MapQuery("label", w, f"{name_of[w]} ({w})", group)
        for group, wnids in label_groups.items()
        for w in wnids
    ]
    for group, names in photo_groups.items():
        for name in names:
            truth = explorer.images[name].wnid
            label = name_of.get(truth) or explorer.missing.get(truth) or truth
            label = label or "unknown label"
            queries.append(MapQuery("image", name, f"photo of {label}: {name}", group))
    return queries


def nearest_labels(
    explorer: Explorer, queries: Sequence[MapQuery], k: int, candidates: str
) -> dict[str, list[Answer | None]]:
    """Per model, each query's nearest labels (wnids, cosines) as `Explorer` answers."""
    labels = [i for i, q in enumerate(queries) if q.kind == "label"]
    photos = [i for i, q in enumerate(queries) if q.kind == "image"]
    features = [explorer.image_features(queries[i].query)[0] for i in photos]
    done: dict[tuple, list] = {}  # (label vectors, candidates) -> label answers
    answers = {}
    for model in explorer.models:
        view, sets = explorer.model_view(model), explorer.sets_of(model)
        if candidates not in sets:
            raise ValueError(f"{model!r} has no candidate set {candidates!r}")
        space = view.space
        rows = space.index(sets[candidates])
        key = (id(space), rows.tobytes())
        if key not in done:
            wnids = [queries[i].query for i in labels]
            points = space.vectors[space.index(wnids)]
            done[key] = _ranked(space, rows, points, k, wnids)
        found = dict(zip(labels, done[key], strict=True))
        if view.embed_images is not None and photos:
            points = view.embed_images(np.stack(features))
            exact = _one_at_a_time(view.embed_images, features)
            ranked = _ranked(space, rows, points, k, exact=exact)
            found.update(zip(photos, ranked, strict=True))
        answers[model] = [found.get(i) for i in range(len(queries))]  # None: no answer
    return answers


def _ranked(space, rows, points, k, themselves=None, exact=None) -> list[Answer]:
    """Each point's k nearest candidates (`rows` of `space`) as `vectors.nearest` ranks
    them, less `themselves[i]`; near ties (`_ROUNDING`) are rescored from `exact`."""
    vectors = space.vectors[rows]
    column = {space.wnids[r]: c for c, r in enumerate(rows)}
    answers = []
    for start in range(0, len(points), _CHUNK):
        chunk = unit(np.asarray(points[start : start + _CHUNK], dtype=np.float32))
        scores = chunk @ vectors.T
        for r in np.flatnonzero(_near_ties(scores, k)):
            point = exact(start + r) if exact else points[start + r]
            scores[r] = vectors @ unit(np.asarray(point, np.float32))
        if themselves is not None:
            for r, wnid in enumerate(themselves[start : start + _CHUNK]):
                if wnid in column:
                    scores[r, column[wnid]] = -np.inf
        best = top_k(scores, min(k, len(rows)))
        cosines_of = np.take_along_axis(scores, best, axis=1)
        for picked, cosines in zip(best, cosines_of, strict=True):
            kept = np.isfinite(cosines)
            wnids = [space.wnids[rows[c]] for c in picked[kept]]
            answers.append((wnids, cosines[kept].astype(float)))
    return answers


def _one_at_a_time(embed, features):
    """Photo i's point as the explorer makes it: alone (a batch rounds otherwise)."""
    return lambda i: embed(features[i][None])[0]


def _near_ties(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows with two of their k + 2 best scores (one maybe their own) in `_ROUNDING`."""
    best = min(k + 2, scores.shape[1])
    top = -np.sort(-np.partition(-scores, best - 1, axis=1)[:, :best], axis=1)
    return (np.diff(-top, axis=1) < _ROUNDING).any(axis=1)


def answers_data(
    explorer: Explorer,
    queries: Sequence[MapQuery],
    answers: Mapping[str, Sequence[Answer | None]],
) -> dict:
    """The answers, compact for the page: an answer is a flat list of (label number,
    cosine in thousandths) pairs, None, or the number of an earlier model's same one."""
    names = dict(zip(explorer.space.wnids, explorer.space.names, strict=True))
    numbers: dict[str, int] = {}
    truth = [
        numbers.setdefault(explorer.images[q.query].wnid, len(numbers))
        if q.kind == "image" and explorer.images[q.query].wnid
        else -1
        for q in queries
    ]
    flats: list[list] = [[] for _ in queries]
    for found in answers.values():
        for flat, answer in zip(flats, found, strict=True):
            pairs = None
            if answer is not None:
                pairs = []
                for w, c in zip(*answer, strict=True):  # (label, cosine) pairs
                    pairs += [numbers.setdefault(w, len(numbers)), round(c * 1000)]
            flat.append(flat.index(pairs) if pairs and pairs in flat else pairs)
    seen = [set(explorer.sets_of(m).get("seen", ())) for m in answers]
    return {
        "models": list(answers),
        "labels": [[names.get(w, w), w] for w in numbers],
        "seen": [[n for w, n in numbers.items() if w in s] for s in seen],
        "truth": truth,
        "answers": flats,
    }
