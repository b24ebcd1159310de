"""Multi-word phrases, so that "great white shark" can get one vector of its own.

Two mechanisms, applied in this order to every tokenised paragraph:

1. `LabelLexicon`: n-grams that spell a WordNet lemma of the label vocabulary are
   joined ("great white shark" -> "great_white_shark"), longest match first. Label
   phrases are often too rare for statistics to find them, yet they are exactly the
   words DeViSE needs.
2. gensim `Phrases`: collocations found by co-occurrence statistics ("new_york",
   "world_war").

The joined token uses "_" as WordNet lemma names do, so a lemma's token is its
lower-cased name. The corpus stage applies both on every core (`corpus.py`); gensim's
side, and its one-process reference, is `collocations.py`.
"""

from __future__ import annotations

from collections.abc import Iterable

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
