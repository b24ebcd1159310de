"""Explore the joint space: the labels nearest by cosine to a typed word or phrase
(chapter 2's lemma rule), a label (itself left out) or an image (of the gallery, or any
file), over a named candidate set and under a chosen model (a `ModelView`). Plain
Python, tested without a browser: `widget` only wires controls to `Explorer.answer`."""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import LabelConfig
from ..labels import LabelSpace, lemma_vector
from ..text import tokenize
from ..vectors import nearest

QUERY_KINDS = ("word", "label", "image")
Choice = str | None  # a candidate set's or a model's name; None: the first
Groups = Mapping[str, Sequence[str]]  # named lists of wnids or of gallery images
_WNID_AT_END = re.compile(r"\((n\d{8})\)\s*$")


class UnknownQueryError(ValueError):
    """An unplaceable word, label or image; the message says what to try instead."""


@dataclass(frozen=True)
class ModelView:
    """One model as the explorer sees it: which label vectors it ranks, where it puts
    images, and (optionally) candidate sets of its own, relative to its seen labels."""

    space: LabelSpace  # real label vectors, or random ones
    embed_images: Callable[[np.ndarray], np.ndarray] | None = None  # features -> points
    has_words: bool = True  # free words live in `space` too
    sets: Groups | None = None  # its own candidate sets


@dataclass(frozen=True)
class GalleryImage:
    """An image the reader can pick by name, with its cached backbone features."""

    path: Path
    features: np.ndarray  # (F,)
    wnid: str | None = None  # true label, when known


Gallery = Mapping[str, GalleryImage]  # the images a reader can pick, by name


class Explorer:
    """Nearest labels of words, labels and images (see the module doc)."""

    def __init__(
        self,
        space: LabelSpace,
        candidate_sets: Groups,
        models: Mapping[str, ModelView],
        words=None,
        images: Gallery | None = None,
        featurize: Callable[[list[Path]], np.ndarray] | None = None,
        label_config: LabelConfig | None = None,
        featured: Sequence[str] | None = None,
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
        self.candidate_sets = {n: list(w) for n, w in candidate_sets.items()}
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
        # suggestions: the 50,000 commonest words (gensim's first), fast and likeliest
        self._word_pool = list(getattr(words, "index_to_key", words or {}))[:50_000]
        self._rows: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self.last_table: pd.DataFrame | None = None  # what the widget showed last
        self.last_message = ""

    def rank(
        self, query: np.ndarray, k: int, candidates: str, model: str, exclude=()
    ) -> pd.DataFrame:
        """The k candidates nearest to `query` in `model`'s label space, best first,
        but for the wnids in `exclude`."""
        view = self.model_view(model)
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        rows, vectors = self._candidates(candidates, model)
        excluded = set(exclude)
        skip = [i for i, row in enumerate(rows) if view.space.wnids[row] in excluded]
        found, cosines = nearest(vectors, query, k, skip)
        wnids = [view.space.wnids[rows[i]] for i in found]
        seen = set(self.sets_of(model).get("seen", ()))
        return pd.DataFrame(
            {
                "rank": np.arange(1, len(found) + 1),
                "name": [view.space.names[rows[i]] for i in found],
                "wnid": wnids,
                "cosine": cosines.astype(float),
                "seen": [w in seen for w in wnids],
            }
        )

    def neighbours_of_text(
        self, text: str, k=10, candidates: Choice = None, model: Choice = None
    ) -> pd.DataFrame:
        """Nearest labels of a typed word or phrase."""
        candidates, model = self._defaults(candidates, model)
        return self.rank(self.text_vector(text, model), k, candidates, model)

    def neighbours_of_label(
        self, label: str, k=10, candidates: Choice = None, model: Choice = None
    ) -> pd.DataFrame:
        """Nearest *other* labels of a label (a wnid, a name or "name (wnid)")."""
        candidates, model = self._defaults(candidates, model)
        wnid = self.find_label(label)
        query = self.model_view(model).space.vector(wnid)
        return self.rank(query, k, candidates, model, exclude=[wnid])

    def neighbours_of_image(
        self, image: str | Path, k=10, candidates: Choice = None, model: Choice = None
    ) -> pd.DataFrame:
        """Nearest labels of a gallery image or image file ("true": its own label)."""
        candidates, model = self._defaults(candidates, model)
        view = self.model_view(model)
        if view.embed_images is None:
            raise UnknownQueryError(
                f"model {model!r} does not embed images; choose one of "
                f"{[m for m, v in self.models.items() if v.embed_images is not None]}"
            )
        features, truth = self.image_features(image)
        table = self.rank(view.embed_images(features[None, :])[0], k, candidates, model)
        return table.assign(true=table["wnid"] == truth)

    def answer(
        self, kind: str, query, k: int, candidates: str, model: str
    ) -> pd.DataFrame | None:
        """One query of `kind`, as the widget asks it: a query the explorer cannot place
        leaves a message saying why (and `last_table` None) instead of raising."""
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

    def text_vector(self, text: str, model: str) -> np.ndarray:
        """The point of a typed text: its word vector (chapter 2's rule), else the
        label it names."""
        view = self.model_view(model)
        tokens = tokenize(text or "")
        if not tokens:
            raise UnknownQueryError(
                "type a word or a phrase (letters or digits), e.g. 'shark'"
            )
        words = self.words if view.has_words else None
        if words is not None:
            vector, _ = lemma_vector(" ".join(tokens), words, self.label_config)
            if vector is not None:
                return view.space.query_vector(vector)
        # A label name or wnid still has a vector (a Latin lemma, a model without words)
        with contextlib.suppress(UnknownQueryError):
            return view.space.vector(self.find_label(text))
        if words is None:
            raise UnknownQueryError(
                f"model {model!r} has vectors for labels only, and {text!r} is not a "
                f"label name{self._label_hint(text)}; switch to a word model or type "
                "a label name"
            )
        unknown = [t for t in tokens if t not in words]
        hints = "; ".join(filter(None, map(self._word_hint, unknown)))
        raise UnknownQueryError(
            f"unknown word{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)} "
            "(not in the word vectors' vocabulary); "
            + (f"close known words: {hints}" if hints else "try another word")
        )

    def find_label(self, label: str) -> str:
        """The wnid of a label given as a wnid, "name (wnid)" or a label name."""
        label = (label or "").strip()
        match = _WNID_AT_END.search(label)
        wnid = match.group(1) if match else label
        if wnid in self.space:
            return wnid
        found = self._by_name.get(_plain(label))
        if found:
            return found[0]
        lost = wnid if wnid in self.missing else self._missing_names.get(_plain(label))
        if lost:
            raise UnknownQueryError(
                f"{lost} ({self.missing[lost]}) is a label of the vocabulary "
                "without a label vector: none of its words is known well enough; the "
                "missing-labels report says why (pipeline.missing_labels(cfg))"
            )
        raise UnknownQueryError(f"no label named {label!r}{self._label_hint(label)}")

    def image_features(self, image: str | Path) -> tuple[np.ndarray, str | None]:
        """(backbone features, true wnid or None) of a gallery image or image file."""
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

    def _word_hint(self, word: str) -> str:
        """Up to 3 frequent known words spelled like `word` (difflib ratio >= 0.75)."""
        pool = [w for w in self._word_pool if abs(len(w) - len(word)) <= 2]
        close = difflib.get_close_matches(word, pool, n=3, cutoff=0.75)
        return f"{word} -> {' or '.join(map(repr, close))}" if close else ""

    def _label_hint(self, label: str) -> str:
        close = difflib.get_close_matches(_plain(label), list(self._by_name), 3, 0.75)
        return f"; close label names: {', '.join(map(repr, close))}" if close else ""

    def model_view(self, model: str) -> ModelView:
        if model not in self.models:
            raise ValueError(
                f"unknown model {model!r}; choose one of {list(self.models)}"
            )
        return self.models[model]

    def _defaults(self, candidates: Choice, model: Choice) -> tuple[str, str]:
        """The candidate set and model a query names, else the first of each."""
        candidates = candidates or next(iter(self.candidate_sets))
        return candidates, model or next(iter(self.models))

    def sets_of(self, model: str) -> Groups:
        """The candidate sets of `model`: its own, else the explorer's."""
        return self.model_view(model).sets or self.candidate_sets

    def _candidates(self, candidates: str, model: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, vectors) of a candidate set, memoised: gathered once per model."""
        sets = self.sets_of(model)
        if candidates not in sets:
            raise ValueError(
                f"unknown candidate set {candidates!r}; choose one of {list(sets)}"
            )
        key = (candidates, model)
        if key not in self._rows:
            space = self.model_view(model).space
            rows = space.index(sets[candidates])
            self._rows[key] = (rows, space.vectors[rows])
        return self._rows[key]


def _plain(name: str) -> str:
    return " ".join(tokenize(name.replace("_", " ")))
