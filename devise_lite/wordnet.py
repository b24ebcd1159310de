"""WordNet 3.0 through NLTK, found offline (NLTK's search path, else the registry's
folder), and ImageNet wnids' synsets; NLTK is imported on use (it takes seconds)."""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

from .archives import DatasetIntegrityError
from .datasets import DatasetUnavailableError, locate
from .wnids import is_wnid

WORDNET_VERSION = "3.0"  # ImageNet's wnids are offsets into this version
VERSION_LINE = r"Word[nN]et (\d+\+?|\d+\.\d+) Copyright"  # as NLTK reads it


def _nltk():
    import nltk  # on first use: it costs seconds

    return nltk


@functools.lru_cache(maxsize=1)
def wordnet():
    """NLTK's WordNet reader, without the version map of multilingual (OMW) lookups:
    identity for 3.0, yet built from the sense index each load (2 of its 3 seconds)."""
    nltk = _nltk()

    class WordNet30(nltk.corpus.reader.WordNetCorpusReader):
        def map_wn(self, version="wordnet"):
            return None

    with warnings.catch_warnings():  # that multilingual lookups are unavailable
        warnings.filterwarnings("ignore", "The multilingual functions")
        reader = WordNet30(_wordnet_root(), None)
    _check_version(reader.get_version())
    return reader


def _wordnet_root():
    """NLTK's pointer to WordNet's files, the located folder put on NLTK's search path
    if need be: NLTK refuses corpus paths outside it (and symlinks leaving it)."""
    nltk, folder = _nltk(), wordnet_folder()
    if folder is not None and str(folder) not in nltk.data.path:
        nltk.data.path.insert(0, str(folder))
    root = _wordnet_pointer()
    if root is None:
        raise DatasetIntegrityError(f"{folder} holds no corpora/wordnet")
    return root


def _check_version(version: str) -> None:
    if version != WORDNET_VERSION:
        raise DatasetIntegrityError(
            f"NLTK's WordNet ({nltk_wordnet() or wordnet_folder()}) is version "
            f"{version}; devise-lite needs WordNet {WORDNET_VERSION}, whose noun "
            "offsets are ImageNet's ids: point NLTK_DATA at an nltk_data folder with "
            "WordNet 3.0 (`python -m nltk.downloader wordnet`)"
        )


def nltk_wordnet() -> str | None:
    """Where NLTK's search path holds WordNet; None where it does not."""
    found = _wordnet_pointer()
    return None if found is None else str(found)


def _wordnet_pointer():
    # The two places NLTK's corpus loader tries, in its order: unpacked, then zipped.
    for resource in ("corpora/wordnet", "corpora/wordnet.zip/wordnet/"):
        try:
            return _nltk().data.find(resource)
        except LookupError:
            continue
    return None


def wordnet_folder() -> Path | None:
    """The nltk_data folder to give NLTK; None where NLTK finds WordNet on its own."""
    if nltk_wordnet() is not None:
        return None
    try:
        return locate("wordnet")
    except DatasetUnavailableError as err:
        raise DatasetUnavailableError(
            f"{err} Or give NLTK its own copy: set NLTK_DATA to a folder holding "
            "corpora/wordnet.zip, or run `python -m nltk.downloader wordnet` once "
            f"online (NLTK looks in {', '.join(map(str, _nltk().data.path))})."
        ) from err


# The hierarchy's edges: hypernym, instance hypernym and their inverses (hyponyms ...).
HIERARCHY_POINTERS = frozenset({"@", "@i", "~", "~i"})


@functools.lru_cache(maxsize=1)
def noun_edges() -> dict[str, tuple[str, ...]]:
    """{wnid: its hypernyms' and hyponyms' wnids, instance ones too} of every WordNet
    3.0 noun, from `data.noun` in half a second: NLTK's reader takes seconds."""
    with _wordnet_root().join("data.noun").open() as raw:  # without NLTK's reader
        lines = raw.read().decode("utf-8").splitlines()
    licence = [line for line in lines[:40] if line.startswith("  ")]
    version = re.search(VERSION_LINE, "".join(licence))
    _check_version(version.group(1) if version else "unknown")
    return {
        "n" + line[:8]: linked_nouns(line.split(" | ", 1)[0].split())
        for line in lines
        if not line.startswith("  ")  # the licence lines are indented
    }


def linked_nouns(fields: list[str]) -> tuple[str, ...]:
    """The hierarchy's edges in one `data.noun` line: `offset lex_filenum ss_type
    w_cnt (word lex_id)*w_cnt p_cnt (symbol offset pos source/target)*p_cnt ...`
    (wndb(5WN)); source/target 0000 marks a synset's pointer, others a lemma's."""
    at = 4 + 2 * int(fields[3], 16)
    pointers = fields[at + 1 : at + 1 + 4 * int(fields[at])]
    return tuple(
        "n" + offset
        for symbol, offset, pos, ends in zip(*[iter(pointers)] * 4, strict=True)
        if symbol in HIERARCHY_POINTERS and pos == "n" and ends == "0000"
    )


def wnid_of(synset) -> str:
    return f"{synset.pos()}{synset.offset():08d}"


def synset_of(wnid: str):
    """The noun synset of an ImageNet wnid; ValueError if WordNet 3.0 has none."""
    if not is_wnid(wnid):
        raise ValueError(f"{wnid!r} is not a WordNet noun id like 'n01491361'")
    reader = wordnet()  # outside `try`: a missing WordNet says so, not "not a synset"
    try:
        synset = reader.synset_from_pos_and_offset("n", int(wnid[1:]))
    except Exception as err:  # NLTK raises a bare WordNetError or ValueError here
        raise ValueError(f"{wnid} is not a WordNet 3.0 noun synset") from err
    if synset is None:  # some unknown offsets only get a warning from NLTK, and None
        raise ValueError(f"{wnid} is not a WordNet 3.0 noun synset")
    return synset


def lemma_names(synset) -> list[str]:
    """The synset's lemmas as WordNet writes them: "great_white_shark", ..."""
    return [lemma.name() for lemma in synset.lemmas()]


def descends_from(synset, ancestor) -> bool:
    """True if `ancestor` is `synset` or a hypernym of it (instance hypernyms too)."""
    up = synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms())
    return ancestor == synset or ancestor in up
