"""Multi-word phrases, so that "great white shark" can get one vector of its own.

Two mechanisms, applied in this order to every tokenised paragraph:

1. `LabelLexicon`: n-grams that spell a WordNet lemma of the label vocabulary are
   joined ("great white shark" -> "great_white_shark"), longest match first. Label
   phrases are often too rare for statistics to find them, yet they are exactly the
   words DeViSE needs.
2. gensim `Phrases`: collocations found by co-occurrence statistics ("new_york",
   "world_war").

The joined token uses "_" as WordNet lemma names do, so a lemma's token is its
lower-cased name. The corpus stage applies both on every core (`corpus.py`); the
one-process versions below are the reference it is tested against.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from .config import PhraseConfig
from .progress import progress_bar
from .text import tokenize

JOIN = "_"


def lemma_tokens(lemma: str) -> list[str]:
    """Tokens of a WordNet lemma name: "Great_White_Shark" -> great, white, shark."""
    return tokenize(lemma.replace("_", " "))


def phrase_token(lemma: str) -> str:
    """The corpus token a lemma becomes after phrase joining: "great_white_shark"."""
    return JOIN.join(lemma_tokens(lemma))


class LabelLexicon:
    """Joins the n-grams that are multi-word lemmas (2 to `max_len` tokens)."""

    def __init__(self, lemmas: Iterable[str], max_len: int = 4):
        grams = {tuple(lemma_tokens(lemma)) for lemma in lemmas}
        self.grams = {g for g in grams if 2 <= len(g) <= max_len}
        self.max_len = max((len(g) for g in self.grams), default=1)
        # Fast reject: most tokens start no phrase at all.
        self.first_tokens = {g[0] for g in self.grams}

    def __len__(self) -> int:
        return len(self.grams)

    def join(self, tokens: list[str]) -> list[str]:
        out, i, n = [], 0, len(tokens)
        while i < n:
            if tokens[i] in self.first_tokens:
                for length in range(min(self.max_len, n - i), 1, -1):
                    gram = tuple(tokens[i : i + length])
                    if gram in self.grams:
                        out.append(JOIN.join(gram))
                        i += length
                        break
                else:
                    out.append(tokens[i])
                    i += 1
            else:
                out.append(tokens[i])
                i += 1
        return out


def read_lines(path: Path) -> Iterator[list[str]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield line.split()


def write_lines(
    sentences: Iterable[list[str]],
    path: Path,
    total: int | None = None,
    desc: str = "write corpus",
) -> tuple[int, int]:
    """Write one space-separated sentence per line; returns (sentences, tokens)."""
    n_sentences = n_tokens = 0
    with open(path, "w", encoding="utf-8") as out:
        for tokens in progress_bar(
            sentences, total=total, desc=desc, unit="par", mininterval=2
        ):
            out.write(" ".join(tokens))
            out.write("\n")
            n_sentences += 1
            n_tokens += len(tokens)
    return n_sentences, n_tokens


def learn_phrases(corpus: Path, cfg: PhraseConfig, total: int | None = None):
    """gensim `Phrases` over a one-sentence-per-line file, frozen for fast
    application."""
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

    model = Phrases(
        progress_bar(
            read_lines(corpus),
            total=total,
            desc="learn phrases",
            unit="par",
            mininterval=2,
        ),
        min_count=cfg.min_count,
        threshold=cfg.threshold,
        delimiter=JOIN,
        connector_words=ENGLISH_CONNECTOR_WORDS,
    )
    return model.freeze()


def apply_phrases(
    source: Path, target: Path, cfg: PhraseConfig, total: int | None = None
) -> list:
    """Run `cfg.passes` rounds of learn-then-apply (each can lengthen phrases by one
    word)."""
    frozen_models = []
    current = source
    for round_ in range(cfg.passes):
        model = learn_phrases(current, cfg, total)
        frozen_models.append(model)
        out = (
            target
            if round_ == cfg.passes - 1
            else target.with_suffix(f".pass{round_}.txt")
        )
        write_lines(
            (model[s] for s in read_lines(current)),
            out,
            total,
            desc=f"apply phrases ({round_ + 1}/{cfg.passes})",
        )
        if current != source:
            current.unlink()
        current = out
    return frozen_models
