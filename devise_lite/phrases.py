"""Multi-word phrases, so that "great white shark" can get one vector of its own: the
label lexicon joins the n-grams that spell a WordNet lemma of the labels, often too rare
for gensim's `Phrases` statistics to find, with "_" as lemma names do."""

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
        self.first_tokens = {g[0] for g in self.grams}  # most tokens start no phrase

    def __len__(self) -> int:
        return len(self.grams)

    def join(self, tokens: list[str]) -> list[str]:
        out, i, n = [], 0, len(tokens)
        while i < n:
            length = 1
            if tokens[i] in self.first_tokens:
                for size in range(min(self.max_len, n - i), 1, -1):
                    if tuple(tokens[i : i + size]) in self.grams:
                        length = size
                        break
            out.append(JOIN.join(tokens[i : i + length]) if length > 1 else tokens[i])
            i += length
        return out
