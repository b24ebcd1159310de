"""The language stages (chapters 1, 2): corpus, skip-gram, label space, shark check."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..config import Config
from ..datasets import locate
from ..ddp import Group
from ..images import caltech_mapping
from ..labels import LabelSpace, build_label_space
from ..neighbours import shark_neighbours
from ..sharks import SHARK_SPECIES
from ..text import text_fingerprint
from ..wnids import imagenet21k_wnids
from ..wordnet import lemma_names, synset_of
from .cache import Run


def text_source(cfg: Config) -> Path:
    return Path(cfg.text.path) if cfg.text.path else locate(cfg.text.dataset)


def label_vocabulary(cfg: Config) -> list[str]:
    """ImageNet-21K's wnids, then the image datasets' labels, without repeats."""
    if cfg.labels.vocabulary != "imagenet21k":
        raise ValueError(
            f"unknown label vocabulary {cfg.labels.vocabulary!r}; use 'imagenet21k'"
        )
    caltech = [w for w in caltech_mapping()["wnid"] if w]
    return list(dict.fromkeys(imagenet21k_wnids() + caltech + list(SHARK_SPECIES)))


def reads_corpus(cfg: Config):
    fingerprint = text_fingerprint(
        text_source(cfg), cfg.text.max_files, cfg.text.extra_files
    )
    # the number of processes changes only the speed: the output is the same
    text = replace(cfg.text, processes=None)
    return fingerprint, text, cfg.phrases, cfg.labels.vocabulary


def build_corpus_stage(run: Run, out: Path, _group: Group) -> dict:
    from ..corpus import build_corpus  # gensim: only when the corpus is built

    cfg, lemmas = run.cfg, []
    if cfg.phrases.label_lexicon:  # only then is WordNet needed
        vocabulary = label_vocabulary(cfg)
        lemmas = [lemma for w in vocabulary for lemma in lemma_names(synset_of(w))]
    return build_corpus(
        text_source(cfg), cfg.text, cfg.phrases, lemmas, out, cfg.text.processes
    )


def build_word2vec(run: Run, out: Path, _group: Group) -> dict:
    from ..language_model import train_skipgram  # gensim: only when training

    model, report = train_skipgram(run.get("corpus"), run.cfg.word2vec)
    model.wv.save(str(out / "vectors.kv"))
    return {
        "words": report.words,
        "train_seconds": round(report.seconds, 2),
        "words_per_second": round(report.words_per_second),
        "vocabulary": report.vocabulary,
    }


def load_word2vec(_run: Run, done: Path):
    from gensim.models import KeyedVectors  # gensim: only where vectors are read

    return KeyedVectors.load(str(done / "vectors.kv"), mmap="r")


def build_labels(run: Run, out: Path, _group: Group) -> dict:
    space, missing = build_label_space(
        label_vocabulary(run.cfg), run.get("word2vec"), run.cfg.labels
    )
    space.save(out / "labels.npz")
    missing.to_csv(out / "missing.csv", index=False)
    glossed = int(missing["gloss"].sum())
    return {"labels": len(space), "missing": len(missing) - glossed, "gloss": glossed}


def load_labels(_run: Run, done: Path) -> LabelSpace:
    return LabelSpace.load(done / "labels.npz")


def build_shark_check(run: Run, out: Path, _group: Group) -> dict:
    table = shark_neighbours(run.get("labels"), k=9)
    table.to_csv(out / "shark_neighbours.csv", index=False)
    return {"species": int(table["query_wnid"].nunique())}
