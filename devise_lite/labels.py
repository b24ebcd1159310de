"""The label space: one unit vector per WordNet synset, from its lemma names by the rule
chapter 2 sets out and tests: a word's vector, or a phrase's mixed (`phrase_weight`)
with its words' mean, head weighted (`head_weight`); the synset's unit mean of these
("mean") or the first ("first"); with no known lemma, its gloss and hypernyms'
(`fallback_vector`); centred, its mean kept (`offset`) for typed queries."""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import LabelConfig
from .phrases import lemma_tokens, phrase_token
from .progress import progress_bar
from .storage import atomic_path
from .text import tokenize
from .vectors import nearest, unit
from .wordnet import lemma_names, synset_of

DEFAULT_RULE = LabelConfig()  # the rule's defaults (frozen, so one shared instance)


def words_vector(words: list[str], vectors, head_weight: float) -> np.ndarray:
    """Unit mean of the words' unit vectors; the head (last word) weighs head_weight."""
    weights = [1.0] * (len(words) - 1) + [head_weight]
    return unit(np.average([unit(vectors[w]) for w in words], axis=0, weights=weights))


def lemma_vector(
    lemma: str, vectors, cfg: LabelConfig = DEFAULT_RULE
) -> tuple[np.ndarray | None, str]:
    """The vector of one lemma and how it was made ("word", "phrase", "words",
    "phrase+words"), or None and why there is none."""
    words = lemma_tokens(lemma)
    token = phrase_token(lemma)
    phrase = unit(vectors[token]) if token and token in vectors else None
    if len(words) == 1:
        if phrase is None:
            return None, f"unknown word: {token}"
        return phrase, "word"
    unknown = [w for w in words if w not in vectors]
    composed = None if unknown else words_vector(words, vectors, cfg.head_weight)
    if phrase is not None and composed is not None:
        mixed = cfg.phrase_weight * phrase + (1 - cfg.phrase_weight) * composed
        return unit(mixed), "phrase+words"
    if phrase is not None:
        return phrase, "phrase"
    if composed is not None:
        return composed, "words"
    return None, f"unknown word(s): {' '.join(unknown) or lemma}"


def synset_vector(
    lemmas: list[str], vectors, cfg: LabelConfig = DEFAULT_RULE
) -> tuple[np.ndarray | None, list[str]]:
    """The unit vector of a synset from its lemmas, and a note per lemma on its use."""
    if cfg.lemma_weighting not in ("mean", "first"):
        raise ValueError(
            f"unknown lemma weighting {cfg.lemma_weighting!r}; use 'mean' or 'first'"
        )
    made, notes = [], []
    for lemma in lemmas:
        vec, how = lemma_vector(lemma, vectors, cfg)
        notes.append(f"{lemma}: {how}")
        if vec is not None:
            made.append(vec)
            if cfg.lemma_weighting == "first":
                break
    return (unit(np.mean(made, axis=0)) if made else None), notes


def gloss_vector(synset, vectors) -> np.ndarray | None:
    """What a synset is said to be: the unit mean of its gloss's known words (stop
    words out), or None."""
    from gensim.parsing.preprocessing import STOPWORDS  # loaded with the vectors

    words = [w for w in tokenize(synset.definition()) if w not in STOPWORDS]
    known = [unit(vectors[w]) for w in words if w in vectors]
    return unit(np.mean(known, axis=0)) if known else None


def hypernym_vector(synset, vectors, cfg=DEFAULT_RULE, levels: int = 3, named=None):
    """The kind a synset is: the unit mean of its nearest hypernyms with a vector from
    their lemmas (up to `levels` levels up), or None. `named(synset)`: that vector or
    None (`build_label_space` passes a cached one: hypernyms are shared)."""
    named = named or (lambda s: synset_vector(lemma_names(s), vectors, cfg)[0])
    level = [synset]
    for _ in range(levels):
        level = [h for s in level for h in s.hypernyms() + s.instance_hypernyms()]
        above = [named(h) for h in level]
        if known := [v for v in above if v is not None]:
            return unit(np.mean(known, axis=0))
    return None


def fallback_vector(synset, vectors, cfg=DEFAULT_RULE, named=None) -> np.ndarray | None:
    """A synset none of whose lemmas is known: the unit sum of `gloss_vector` and
    `hypernym_vector`, those of the two that are known (chapter 2 measures each)."""
    kind = hypernym_vector(synset, vectors, cfg, named=named)
    parts = [gloss_vector(synset, vectors), kind]
    known = [v for v in parts if v is not None]
    return unit(np.sum(known, axis=0)) if known else None


def wnid_vector(
    wnid: str, vectors, cfg: LabelConfig = DEFAULT_RULE
) -> tuple[np.ndarray | None, list[str]]:
    """`synset_vector` of the synset an ImageNet wnid names: (vector or None, notes)."""
    return synset_vector(lemma_names(synset_of(wnid)), vectors, cfg)


@dataclass
class LabelSpace:
    """Label vectors (unit rows) with their wnids and display names, in one order."""

    wnids: list[str]
    names: list[str]
    vectors: np.ndarray
    offset: np.ndarray | None = None  # the mean centring removed (None: not centred)

    def __post_init__(self):
        self._row = {w: i for i, w in enumerate(self.wnids)}

    def __len__(self) -> int:
        return len(self.wnids)

    def __contains__(self, wnid: str) -> bool:
        return wnid in self._row

    def index(self, wnids) -> np.ndarray:
        """Row numbers of `wnids`; KeyError names the first wnid without a vector."""
        try:
            return np.array([self._row[w] for w in wnids], dtype=np.int64)
        except KeyError as err:
            raise KeyError(
                f"{err.args[0]} has no label vector (see the missing-labels report)"
            ) from None

    def vector(self, wnid: str) -> np.ndarray:
        return self.vectors[self.index([wnid])[0]]

    def query_vector(self, raw: np.ndarray) -> np.ndarray:
        """A vector made from typed words, normalised and centred like the labels."""
        vec = unit(np.asarray(raw, dtype=np.float32))
        return vec if self.offset is None else unit(vec - self.offset)

    def _at(self, rows) -> tuple[list[str], list[str]]:
        return [self.wnids[i] for i in rows], [self.names[i] for i in rows]

    def subset(self, wnids) -> LabelSpace:
        rows = self.index(wnids)
        return LabelSpace(*self._at(rows), self.vectors[rows], self.offset)

    def nearest(
        self, query: np.ndarray, k: int = 10, exclude: Collection[str] = ()
    ) -> pd.DataFrame:
        """The k labels with the highest cosine to `query` (any vector), best first."""
        skip = [self._row[w] for w in exclude if w in self._row]
        rows, cosines = nearest(self.vectors, query, k, skip)
        wnids, names = self._at(rows)
        return pd.DataFrame({"wnid": wnids, "name": names, "cosine": cosines})

    def save(self, path: Path) -> None:
        extra = {} if self.offset is None else {"offset": self.offset}
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            wnids, names = np.array(self.wnids), np.array(self.names)
            np.savez(handle, wnids=wnids, names=names, vectors=self.vectors, **extra)

    @classmethod
    def load(cls, path: Path) -> LabelSpace:
        with np.load(path) as data:
            wnids, names = data["wnids"].tolist(), data["names"].tolist()
            return cls(wnids, names, data["vectors"], data.get("offset"))


def build_label_space(
    wnids: list[str], vectors, cfg: LabelConfig = DEFAULT_RULE, progress: bool = True
) -> tuple[LabelSpace, pd.DataFrame]:
    """Label vectors for `wnids` (duplicates dropped) and a report of those with no
    known lemma: `gloss` says if `fallback_vector` gave one (`cfg.gloss_fallback`)."""
    kept, names, rows, missing = [], [], [], []
    unique = list(dict.fromkeys(wnids))
    named = functools.cache(lambda s: synset_vector(lemma_names(s), vectors, cfg))
    for wnid in progress_bar(
        unique, desc="label vectors", unit="label", progress=progress, mininterval=1
    ):
        synset = synset_of(wnid)
        lemmas = lemma_names(synset)
        vec, notes = named(synset)
        name = lemmas[0].replace("_", " ")
        if vec is None:
            if cfg.gloss_fallback:
                vec = fallback_vector(synset, vectors, cfg, lambda s: named(s)[0])
            missing.append((wnid, name, "; ".join(notes), vec is not None))
        if vec is not None:
            kept.append(wnid)
            names.append(name)
            rows.append(vec)
    matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), vectors.vector_size)
    offset = None
    if cfg.center and len(rows) > 1:
        offset = matrix.mean(axis=0)
        matrix = unit(matrix - offset)
    report = pd.DataFrame(missing, columns=["wnid", "name", "lemmas", "gloss"])
    return LabelSpace(kept, names, matrix, offset), report


def rebuilt_ranks(space: LabelSpace, wnids, make) -> np.ndarray:
    """A fallback checked on labels that have a vector: for each of `wnids`, its own
    label's rank among all when queried by `make(synset)` (0: nearest; None: last)."""
    ranks = []
    for wnid in wnids:
        made = make(synset_of(wnid))
        if made is None:
            ranks.append(len(space))
            continue
        scores = space.vectors @ space.query_vector(made)
        ranks.append(int((scores > scores[space.index([wnid])[0]]).sum()))
    return np.array(ranks)


def random_label_space(space: LabelSpace, seed: int = 0) -> LabelSpace:
    """The same labels with random unit vectors: the paper's "random embeddings"."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(space.vectors.shape).astype(np.float32)
    return LabelSpace(list(space.wnids), list(space.names), unit(noise))
