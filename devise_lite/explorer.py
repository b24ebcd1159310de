"""Explore the joint space: the nearest labels of a word, a label or a photo.

Everything DeViSE does ends in one operation: take a point of the label space and list
the labels nearest to it by cosine. The `Explorer` asks that question from three kinds
of starting point, and lets the reader change what is asked:

* a **word** or phrase: its vector under chapter 2's lemma rule (`labels.lemma_vector`);
* a **label** (a wnid or a label name): its label vector, the label itself left out;
* an **image** of the gallery (Caltech test photos, shark photos) or any image file:
  its embedding by the chosen model;

over a named candidate set (the model's seen labels, the zero-shot sets of chapter 6)
and under a chosen model. A model is a `ModelView`: where it puts images
(`embed_images`), which label vectors it ranks (`space`) and its own candidate sets
(`sets`, relative to the labels it saw): DeViSE and ConSE rank the word-space label
vectors, the random-embedding control ranks its random ones, where a free word has no
vector at all.

The `Explorer` is plain Python (vectors in, DataFrames out) so it is tested without a
browser; `widget.build_widget` only wires ipywidgets controls to `Explorer.answer`.
`explorer_for(cfg)` builds the real one from the `predictor` stage. The functions at
the end compute the data of chapter 7's maps (point groups, the photo-label gap).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import Config, LabelConfig
from .labels import LabelSpace, lemma_vector
from .text import tokenize
from .vectors import nearest, unit

QUERY_KINDS = ("word", "label", "image")
_WNID_AT_END = re.compile(r"\((n\d{8})\)\s*$")


class UnknownQueryError(ValueError):
    """A word, label or image the explorer cannot place; the message says what to try
    instead."""


@dataclass(frozen=True)
class ModelView:
    """One model as the explorer sees it: which label vectors it ranks, where it puts
    images, and (optionally) candidate sets of its own, relative to its seen labels."""

    space: LabelSpace  # real label vectors, or random ones
    embed_images: Callable[[np.ndarray], np.ndarray] | None = None  # features -> points
    has_words: bool = True  # free words live in `space` too
    sets: Mapping[str, Sequence[str]] | None = None  # its own candidate sets


@dataclass(frozen=True)
class GalleryImage:
    """An image the reader can pick by name, with its cached backbone features."""

    path: Path
    features: np.ndarray  # (F,)
    wnid: str | None = None  # true label, when known


class Explorer:
    """Nearest labels of words, labels and images, per candidate set and model (see
    the module doc)."""

    def __init__(
        self,
        space: LabelSpace,
        candidate_sets: Mapping[str, Sequence[str]],
        models: Mapping[str, ModelView],
        words=None,
        images: Mapping[str, GalleryImage] | None = None,
        featurize: Callable[[list[Path]], np.ndarray] | None = None,
        label_config: LabelConfig | None = None,
        featured: Sequence[str] | None = None,
        suggestion_pool: int = 50_000,
        missing: Mapping[str, str] | None = None,
    ):
        if not candidate_sets or not models:
            raise ValueError(
                "an Explorer needs at least one candidate set and one model"
            )
        for name, view in models.items():
            for set_name, wnids in (view.sets or candidate_sets).items():
                lacking = [w for w in wnids if w not in view.space]
                if lacking:
                    raise ValueError(
                        f"model {name!r} has no vector for {len(lacking)} labels of "
                        f"candidate set {set_name!r} (first: {lacking[0]}); give every "
                        "model the same label space"
                    )
        self.space, self.models, self.words = space, dict(models), words
        self.candidate_sets = {
            name: list(wnids) for name, wnids in candidate_sets.items()
        }
        self.images = dict(images or {})
        self.featurize = featurize
        self.label_config = label_config or LabelConfig()
        self.featured = list(
            featured if featured is not None else self.candidate_sets.get("seen", [])
        )
        self.missing = dict(missing or {})  # wnid -> name, labels without a vector
        self._missing_names = {_plain(n): w for w, n in self.missing.items()}
        self._by_name: dict[str, list[str]] = {}
        for wnid, name in zip(space.wnids, space.names, strict=True):
            self._by_name.setdefault(_plain(name), []).append(wnid)
        # Suggestions come from the most frequent words (gensim keeps them first):
        # fast, and the likeliest.
        keys = getattr(words, "index_to_key", None) if words is not None else None
        self._word_pool = list(keys if keys is not None else (words or {}))[
            :suggestion_pool
        ]
        self._rows: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self.last_table: pd.DataFrame | None = None  # what the widget showed last
        self.last_message = ""

    # -------------------------------------------------------- the core: rank one point

    def rank(
        self,
        query: np.ndarray,
        k: int,
        candidates: str,
        model: str,
        exclude: Sequence[str] = (),
    ) -> pd.DataFrame:
        """The k candidates nearest to `query` (a point of `model`'s label space),
        best first."""
        view = self._model(model)
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        rows, vectors = self._candidates(candidates, model)
        skip = [
            i for i, row in enumerate(rows) if view.space.wnids[row] in set(exclude)
        ]
        found, cosines = nearest(vectors, query, k, skip)
        wnids = [view.space.wnids[rows[i]] for i in found]
        return pd.DataFrame(
            {
                "rank": np.arange(1, len(found) + 1),
                "name": [view.space.names[rows[i]] for i in found],
                "wnid": wnids,
                "cosine": cosines.astype(float),
                "seen": [w in self._seen(model) for w in wnids],
            }
        )

    # -------------------------------------------------------- three kinds of query

    def neighbours_of_text(
        self,
        text: str,
        k: int = 10,
        candidates: str | None = None,
        model: str | None = None,
    ) -> pd.DataFrame:
        """Nearest labels of a typed word or phrase (UnknownQueryError if it has no
        vector)."""
        model = model or next(iter(self.models))
        return self.rank(
            self.text_vector(text, model), k, candidates or self._first_set(), model
        )

    def neighbours_of_label(
        self,
        label: str,
        k: int = 10,
        candidates: str | None = None,
        model: str | None = None,
    ) -> pd.DataFrame:
        """Nearest *other* labels of a label, given as a wnid, a label name or
        "name (wnid)"."""
        model = model or next(iter(self.models))
        wnid = self.find_label(label)
        query = self._model(model).space.vector(wnid)
        return self.rank(
            query, k, candidates or self._first_set(), model, exclude=[wnid]
        )

    def neighbours_of_image(
        self,
        image: str | Path,
        k: int = 10,
        candidates: str | None = None,
        model: str | None = None,
    ) -> pd.DataFrame:
        """Nearest labels of a gallery image (by name) or an image file, as `model`
        embeds it.

        A "true" column marks the image's own label when the gallery knows it."""
        model = model or next(iter(self.models))
        view = self._model(model)
        if view.embed_images is None:
            raise UnknownQueryError(
                f"model {model!r} does not embed images; choose one of "
                f"{[m for m, v in self.models.items() if v.embed_images is not None]}"
            )
        features, truth = self.image_features(image)
        table = self.rank(
            view.embed_images(features[None, :])[0],
            k,
            candidates or self._first_set(),
            model,
        )
        return table.assign(true=table["wnid"] == truth)

    def answer(
        self, kind: str, query, k: int, candidates: str, model: str
    ) -> pd.DataFrame | None:
        """One query of `kind` ("word", "label", "image"); remembers the table or
        the message.

        This is what the widget calls: a query the explorer cannot place leaves a
        message saying why (and `last_table` None) instead of raising."""
        methods = {
            "word": self.neighbours_of_text,
            "label": self.neighbours_of_label,
            "image": self.neighbours_of_image,
        }
        if kind not in methods:
            raise ValueError(
                f"unknown query kind {kind!r}; choose one of {QUERY_KINDS}"
            )
        try:
            self.last_table = methods[kind](query, k, candidates, model)
            self.last_message = ""
        except (UnknownQueryError, FileNotFoundError) as error:
            self.last_table, self.last_message = None, str(error)
        return self.last_table

    # -------------------------------------------------------- placing queries

    def text_vector(self, text: str, model: str) -> np.ndarray:
        """The point of a typed text: its word vector (chapter 2's rule), else the
        label it names."""
        view = self._model(model)
        tokens = tokenize(text or "")
        if not tokens:
            raise UnknownQueryError(
                "type a word or a phrase (letters or digits), e.g. 'shark'"
            )
        if view.has_words and self.words is not None:
            vector, _ = lemma_vector(" ".join(tokens), self.words, self.label_config)
            if vector is not None:
                return view.space.query_vector(vector)
        # A label name or wnid still has a vector (a Latin lemma, a model without words)
        try:
            return view.space.vector(self.find_label(text))
        except UnknownQueryError:
            pass
        if not view.has_words or self.words is None:
            raise UnknownQueryError(
                f"model {model!r} has vectors for labels only, and {text!r} is not a "
                f"label name{self._label_hint(text)}; switch to a word model or type "
                "a label name"
            )
        unknown = [t for t in tokens if t not in self.words]
        close = {t: self.suggest(t) for t in unknown}
        hints = [
            f"{t} -> {' or '.join(repr(s) for s in near)}"
            for t, near in close.items()
            if near
        ]
        raise UnknownQueryError(
            f"unknown word{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)} "
            f"(not in the word vectors' vocabulary); "
            + (
                f"close known words: {'; '.join(hints)}"
                if hints
                else "try another word"
            )
        )

    def find_label(self, label: str) -> str:
        """The wnid of a label given as a wnid, "name (wnid)" or a label name (first
        match); a label of the vocabulary without a vector gets a message that points
        at the missing-labels report."""
        label = (label or "").strip()
        match = _WNID_AT_END.search(label)
        wnid = match.group(1) if match else label
        if wnid in self.space:
            return wnid
        found = self._by_name.get(_plain(label))
        if found:
            return found[0]
        unmade = (
            wnid if wnid in self.missing else self._missing_names.get(_plain(label))
        )
        if unmade:
            raise UnknownQueryError(
                f"{unmade} ({self.missing[unmade]}) is a label of the vocabulary "
                "without a label vector: none of its words is known well enough; the "
                "missing-labels report says why (pipeline.missing_labels(cfg))"
            )
        raise UnknownQueryError(f"no label named {label!r}{self._label_hint(label)}")

    def image_features(self, image: str | Path) -> tuple[np.ndarray, str | None]:
        """(backbone features, true wnid or None) of a gallery image name or an image
        file."""
        if isinstance(image, str) and image in self.images:
            entry = self.images[image]
            return np.asarray(entry.features, dtype=np.float32), entry.wnid
        path = Path(str(image)).expanduser()
        if not path.is_file():
            raise UnknownQueryError(
                f"{str(image)!r} is neither a gallery image nor an image file; pick "
                f"one of the {len(self.images)} gallery images or give a file path"
            )
        if self.featurize is None:
            raise UnknownQueryError(
                "this explorer has no visual model for new files; pick a gallery image"
            )
        return np.asarray(self.featurize([path])[0], dtype=np.float32), None

    def suggest(self, word: str, n: int = 3) -> list[str]:
        """Known words spelled like `word` (difflib ratio >= 0.75), among the most
        frequent ones."""
        pool = [w for w in self._word_pool if abs(len(w) - len(word)) <= 2]
        return difflib.get_close_matches(word, pool, n=n, cutoff=0.75)

    def _label_hint(self, label: str) -> str:
        close = difflib.get_close_matches(
            _plain(label), list(self._by_name), n=3, cutoff=0.75
        )
        return (
            f"; close label names: {', '.join(repr(c) for c in close)}" if close else ""
        )

    def _model(self, model: str) -> ModelView:
        if model not in self.models:
            raise ValueError(
                f"unknown model {model!r}; choose one of {list(self.models)}"
            )
        return self.models[model]

    def _first_set(self) -> str:
        return next(iter(self.candidate_sets))

    def sets_of(self, model: str) -> Mapping[str, Sequence[str]]:
        """The candidate sets of `model`: its own (relative to its seen labels), else
        the explorer's."""
        return self._model(model).sets or self.candidate_sets

    def overview(self) -> pd.DataFrame:
        """One row per model: whether it takes typed words and photos, and the size
        of each of its candidate sets ("seen": the labels it was trained toward)."""
        rows = []
        for name, view in self.models.items():
            rows.append(
                {
                    "model": name,
                    "words": view.has_words and self.words is not None,
                    "photos": view.embed_images is not None,
                    **{s: len(w) for s, w in self.sets_of(name).items()},
                }
            )
        return pd.DataFrame(rows)

    def label_points(self, wnids: Sequence[str], model: str) -> np.ndarray:
        """The vectors `model` ranks for these labels, (len(wnids), d)."""
        space = self._model(model).space
        return space.vectors[space.index(list(wnids))]

    def photo_points(self, names: Sequence[str], model: str) -> np.ndarray:
        """Where `model` puts these gallery photos, (len(names), d) unit rows (the
        points' cosines are dot products)."""
        view = self._model(model)
        if not names:
            return np.zeros((0, view.space.vectors.shape[1]), np.float32)
        features = np.stack([self.images[n].features for n in names])
        return unit(np.asarray(view.embed_images(features), dtype=np.float32))

    def nearest_label_table(
        self,
        photos: Mapping[str, Sequence[str]],
        labels: Sequence[str],
        members: Collection[str],
    ) -> pd.DataFrame:
        """For each model that embeds photos and each non-empty group of gallery
        photos: the share of photos whose nearest label among `labels` is one of
        `members`, and their most common nearest label (`nearest_label_summary`)."""
        names = [self.space.names[i] for i in self.space.index(list(labels))]
        rows = []
        for model, view in self.models.items():
            if view.embed_images is None:
                continue
            vectors = self.label_points(labels, model)
            for group, gallery_names in photos.items():
                if gallery_names:
                    points = self.photo_points(gallery_names, model)
                    summary = nearest_label_summary(
                        points, vectors, labels, names, members
                    )
                    rows.append({"model": model, "group": group, **summary})
        return pd.DataFrame(rows)

    def map_points(
        self,
        label_groups: Mapping[str, Sequence[str]],
        photo_groups: Mapping[str, Sequence[str]],
        model: str,
    ) -> dict[str, np.ndarray]:
        """The points of a map under `model`: its label vectors of each label group
        (wnids), then where it puts each group of gallery photos (names)."""
        points = {g: self.label_points(w, model) for g, w in label_groups.items()}
        for group, names in photo_groups.items():
            points[group] = self.photo_points(names, model)
        return points

    def gap_table(self, photos: Sequence[str]) -> pd.DataFrame:
        """`photo_label_gap` of these gallery photos (each with its true label) under
        each model that embeds photos, the nearest label taken among all the labels
        of the model's "21k+seen" set: a row per median, a column per model."""
        truth = [self.images[name].wnid for name in photos]
        gaps = {}
        for model, view in self.models.items():
            if view.embed_images is not None:
                every = self.sets_of(model)["21k+seen"]
                gaps[model] = photo_label_gap(
                    self.photo_points(photos, model),
                    self.label_points(truth, model),
                    self.label_points(every, model),
                )
        return pd.DataFrame(gaps)

    def _seen(self, model: str) -> set[str]:
        return set(self.sets_of(model).get("seen", ()))

    def _candidates(self, candidates: str, model: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows in the model's space, their vectors) of a candidate set, memoised: the
        21k set's matrix is gathered once per model, not once per query."""
        sets = self.sets_of(model)
        if candidates not in sets:
            raise ValueError(
                f"unknown candidate set {candidates!r}; choose one of {list(sets)}"
            )
        key = (candidates, model)
        if key not in self._rows:
            space = self._model(model).space
            rows = space.index(sets[candidates])
            self._rows[key] = (rows, space.vectors[rows])
        return self._rows[key]


def _plain(name: str) -> str:
    return " ".join(tokenize(name.replace("_", " ")))


def side_by_side(tables: Mapping[str, pd.DataFrame], digits: int = 2) -> pd.DataFrame:
    """Neighbour tables as one: a column per query, a row per rank, cells
    "name (cosine)"."""
    columns = {
        query: [
            f"{n} ({c:.{digits}f})" for n, c in zip(t["name"], t["cosine"], strict=True)
        ]
        for query, t in tables.items()
    }
    depth = max((len(c) for c in columns.values()), default=0)
    frame = pd.DataFrame({q: c + [""] * (depth - len(c)) for q, c in columns.items()})
    frame.index = pd.RangeIndex(1, depth + 1, name="rank")
    return frame


# ---------------------------------------------------------------- the book's explorer

EXPLORER_SETS = ("seen", "2-hop", "3-hop", "21k", "21k+seen")


class FileFeatures:
    """Backbone features of image files the gallery does not hold."""

    def __init__(self, cfg):
        self.cfg = cfg

    def __call__(self, paths: list[Path]) -> np.ndarray:
        from .visual import UnreadableImageError, features_of

        try:
            return features_of(paths, self.cfg)
        except UnreadableImageError as error:
            raise UnknownQueryError(str(error)) from None


def explorer_for(cfg: Config) -> Explorer:
    """The book's explorer: the trained models of `predict` (the best zero-shot model
    first), DeViSE-1K's random-embedding control, the label space, the word vectors,
    and a gallery of the Caltech test photos and the shark photos."""
    from . import pipeline
    from .datasets import DatasetUnavailableError
    from .evaluation import RANDOM_1K
    from .labels import random_label_space
    from .predict import load_predictor
    from .sharks import SHARK_SPECIES

    space = pipeline.label_space(cfg)
    missing = pipeline.missing_labels(cfg)
    pipeline.ensure(cfg, "predictor")
    predictor = load_predictor(cfg)
    names = [predictor.default] + [
        m for m in predictor.models if m != predictor.default
    ]

    def view(name: str) -> ModelView:
        sets = {
            s: [predictor.wnids[r] for r in predictor.models[name]["sets"][s]]
            for s in EXPLORER_SETS
        }
        return ModelView(space, lambda f: predictor.points(name, f), sets=sets)

    models = {name: view(name) for name in names}
    control = pipeline.get(cfg, "imagenet1k")[RANDOM_1K]
    models[RANDOM_1K] = ModelView(
        random_label_space(space, cfg.imagenet.seed),
        control.project,
        has_words=False,
        sets=models[predictor.default].sets,
    )
    test = pipeline.experiment_images(cfg, "test")
    features, _ = pipeline.image_features(cfg, "test")
    gallery = {
        f"test/{i.source}/{i.path.name}": GalleryImage(i.path, f, i.wnid)
        for i, f in zip(test.images, features, strict=True)
    }
    try:
        for wnid, (photos, rows) in pipeline.shark_features(cfg).items():
            gallery.update(
                {
                    f"sharks/{p.source}/{p.path.name}": GalleryImage(p.path, f, wnid)
                    for p, f in zip(photos, rows, strict=True)
                }
            )
    except DatasetUnavailableError:
        pass  # no shark photos here: the gallery holds Caltech only
    sharks = [w for w in SHARK_SPECIES if w in space]
    first_sets = models[predictor.default].sets
    return Explorer(
        space,
        first_sets,
        models,
        words=pipeline.word_vectors(cfg),
        images=gallery,
        featurize=FileFeatures(cfg.visual),
        label_config=cfg.labels,
        featured=sharks + list(test.labels),
        missing=dict(zip(missing["wnid"], missing["name"], strict=True)),
    )


# ------------------------------------------------------------ chapter 7: the maps' data

MAP_SAMPLE = 300  # labels of each sampled group: enough to show a region, few to read


def map_label_groups(
    sets: Mapping[str, Sequence[str]],
    caltech: Sequence[str],
    sharks: Sequence[str],
    sample: int = MAP_SAMPLE,
    seed: int = 0,
) -> dict[str, list[str]]:
    """The label groups of chapter 7's map, for a model with candidate sets `sets`.

    A label joins one group only, the first that claims it in this order: the shark
    labels, the Caltech-101 labels the model saw, those it did not, its other seen
    labels and its 2-hop labels (each of these two a seeded sample of `sample`). The
    dict comes in drawing order: the two samples first, underneath the rest."""
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
    underneath = [n for n in claims if n.endswith("(sample)")]
    on_top = [n for n in claims if n not in underneath]
    return {name: groups[name] for name in underneath + on_top}


def gallery_sample(
    images: Mapping[str, GalleryImage], prefix: str, per_label: int, seed: int = 0
) -> list[str]:
    """Up to `per_label` gallery photos of each true label among the names that start
    with `prefix` (a seeded choice), in gallery order."""
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
    images: Mapping[str, GalleryImage],
    per_label: int = 5,
    per_species: int = 80,
    seed: int = 0,
) -> dict[str, list[str]]:
    """The photo groups of chapter 7's map: `per_label` Caltech test photos of each
    label, `per_species` photos of each shark species (seeded `gallery_sample`s)."""
    return {
        "Caltech test photos": gallery_sample(images, "test/", per_label, seed),
        "great white photos": gallery_sample(
            images, "sharks/great_white", per_species, seed
        ),
        "hammerhead photos": gallery_sample(
            images, "sharks/hammerhead", per_species, seed
        ),
    }


GAP_ROWS = (
    "photo to its true label",
    "photo to its nearest label",
    "photo to its nearest other photo",
)


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
    medians = np.median(to_true), np.median(to_label), np.median(among.max(axis=1))
    return {row: float(m) for row, m in zip(GAP_ROWS, medians, strict=True)}


def nearest_label_summary(
    points: np.ndarray,
    labels: np.ndarray,
    wnids: Sequence[str],
    names: Sequence[str],
    members: Collection[str],
) -> dict:
    """Of these points (photos), the share whose nearest label (a row of `labels`, the
    label `wnids[i]` named `names[i]`) is one of `members` (wnids), and the most
    common nearest label with its count."""
    if not len(points):
        raise ValueError("no points to summarise")
    nearest_rows = (points @ labels.T).argmax(axis=1)
    counts = pd.Series([names[i] for i in nearest_rows]).value_counts()
    return {
        "photos": len(points),
        "nearest label among them": float(
            np.mean([wnids[i] in set(members) for i in nearest_rows])
        ),
        "most common nearest label": f"{counts.index[0]} ({counts.iloc[0]})",
    }


def map_distance_to_truth(
    coords: Mapping[str, np.ndarray],
    groups: Mapping[str, Sequence[str]],
    photos: np.ndarray,
    truth: Sequence[str],
) -> float:
    """On a map, the median distance from each photo (a row of `photos`, map
    coordinates) to its true label's point, as a share of the map's width. The
    labels are those of `groups` (wnids), placed at `coords[group]` row by row."""
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
