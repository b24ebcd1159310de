"""Collocations ("new_york") found by gensim's `Phrases`: the stage's model, its scoring
of candidate keys only, and the one-process version the stage is tested against."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from operator import not_
from pathlib import Path

from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases
from gensim.utils import prune_vocab

from .config import PhraseConfig
from .phrases import JOIN
from .progress import progress_bar


def phrase_candidates(vocab: Mapping[str, int], min_count: int) -> dict[str, int]:
    """The multi-word keys that gensim's default scorer, (bigram - min_count) / (a * b)
    * len_vocab, could rate above its threshold (which gensim demands be positive)."""
    return {k: c for k, c in vocab.items() if c > min_count and JOIN in k}


def end_words(keys: Iterable[str]) -> set[str]:
    """The first and last words of multi-word keys: the counts their scores need."""
    words = set()
    for key in keys:
        first, _, rest = key.partition(JOIN)
        words.update((first, rest.rpartition(JOIN)[2]))
    return words


def score_phrases(
    candidates: Mapping[str, int],
    counts: Mapping[str, int],
    len_vocab: int,
    corpus_word_count: int,
    model,
) -> dict[str, float]:
    """gensim's `Phrases.export_phrases` line for line, over the candidate keys only."""
    phrasegrams = {}
    for key, count in candidates.items():
        words = key.split(model.delimiter)
        word_a, word_b = counts.get(words[0], 0), counts.get(words[-1], 0)
        if word_a <= 0 or word_b <= 0 or count <= 0:
            continue
        score = model.scoring(
            word_a, word_b, count, len_vocab, model.min_count, corpus_word_count
        )
        if score > model.threshold:
            phrasegrams[key] = score
    return phrasegrams


def phrases_model(cfg: PhraseConfig):
    """An empty gensim `Phrases` with the config's settings, as the old stage made."""
    return Phrases(
        None,
        min_count=cfg.min_count,
        threshold=cfg.threshold,
        delimiter=JOIN,
        connector_words=ENGLISH_CONNECTOR_WORDS,
    )


def count_sentences(sentences: Iterable[list[str]], cfg: PhraseConfig):
    """A `Phrases` model that has seen `sentences`: gensim's `add_vocab` counts, pruning
    included (tested against it), faster: a sentence's words and its joined pairs of
    non-connector words (those between kept) are counted in C, not word by word."""
    model = phrases_model(cfg)
    vocab, words, min_reduce = Counter(), 0, 1
    is_connector = model.connector_words.__contains__
    for sentence in sentences:
        kept = list(
            itertools.compress(
                itertools.count(), map(not_, map(is_connector, sentence))
            )
        )
        vocab.update(map(sentence.__getitem__, kept))
        spans = map(slice, kept, map((1).__add__, kept[1:]))
        vocab.update(map(model.delimiter.join, map(sentence.__getitem__, spans)))
        words += len(sentence)
        if len(vocab) > model.max_vocab_size:  # where gensim prunes: after a sentence
            prune_vocab(vocab, min_reduce)
            min_reduce += 1
    model.vocab, model.corpus_word_count, model.min_reduce = vocab, words, min_reduce
    return model


def read_lines(path: Path) -> Iterator[list[str]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield line.split()


def write_lines(
    sentences: Iterable[list[str]], path: Path, desc: str = "write corpus"
) -> tuple[int, int]:
    """Write one space-separated sentence per line; returns (sentences, tokens)."""
    n_sentences = n_tokens = 0
    with open(path, "w", encoding="utf-8") as out:
        for tokens in progress_bar(sentences, desc=desc, unit="par", mininterval=2):
            out.write(" ".join(tokens) + "\n")
            n_sentences += 1
            n_tokens += len(tokens)
    return n_sentences, n_tokens


def apply_phrases(source: Path, target: Path, cfg: PhraseConfig) -> None:
    """`cfg.passes` rounds of learn-then-apply (each can lengthen phrases by a word)."""
    current = source
    for round_ in range(cfg.passes):
        sentences = progress_bar(read_lines(current), desc="learn phrases", unit="par")
        model = count_sentences(sentences, cfg).freeze()
        last = round_ == cfg.passes - 1
        out = target if last else target.with_suffix(f".pass{round_}.txt")
        desc = f"apply phrases ({round_ + 1}/{cfg.passes})"
        write_lines((model[s] for s in read_lines(current)), out, desc=desc)
        if current != source:
            current.unlink()
        current = out
