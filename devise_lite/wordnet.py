"""WordNet 3.0 through NLTK, found offline, and the synsets of ImageNet wnids.

WordNet comes from NLTK's own search path first (`nltk.data.path`: $NLTK_DATA,
~/nltk_data, ...), where `python -m nltk.downloader wordnet` puts it; else from the
registry's `nltk_data` folder (data root, then mirror, then a download).

An ImageNet wnid is "n" + the WordNet 3.0 noun offset in 8 digits: n01491361 is
tiger_shark.n.01 (`wnids.py`). NLTK is imported only where WordNet is used: it costs
seconds, and `predict` answers without it.
"""

from __future__ import annotations

import functools
from pathlib import Path

from .archives import DatasetIntegrityError
from .datasets import DatasetUnavailableError, locate
from .wnids import is_wnid

WORDNET_VERSION = "3.0"  # ImageNet's wnids are offsets into this version


def _nltk():
    """NLTK, imported on first use (it costs seconds)."""
    import nltk

    return nltk


@functools.lru_cache(maxsize=1)
def wordnet():
    """NLTK's WordNet reader, from NLTK's own search path or the located folder.

    NLTK refuses corpus paths outside its data path (and symlinks leaving it), so a
    located folder itself is put on `nltk.data.path` rather than linked into it."""
    nltk = _nltk()
    folder = wordnet_folder()
    if folder is not None and str(folder) not in nltk.data.path:
        nltk.data.path.insert(0, str(folder))
    wn = nltk.corpus.wordnet
    wn.ensure_loaded()
    if wn.get_version() != WORDNET_VERSION:
        raise DatasetIntegrityError(
            f"NLTK's WordNet ({nltk_wordnet() or folder}) is version "
            f"{wn.get_version()}; devise-lite needs WordNet {WORDNET_VERSION}, whose "
            "noun offsets are ImageNet's ids: point NLTK_DATA at an nltk_data folder "
            "with WordNet 3.0 (`python -m nltk.downloader wordnet`)"
        )
    return wn


def nltk_wordnet(paths: list[str] | None = None) -> str | None:
    """Where NLTK's search path (`paths`, default `nltk.data.path`) holds WordNet.

    The same two places NLTK's corpus loader tries, in its order: an unpacked
    corpora/wordnet/, then corpora/wordnet.zip. None where neither is found."""
    for resource in ("corpora/wordnet", "corpora/wordnet.zip/wordnet/"):
        try:
            return str(_nltk().data.find(resource, paths=paths))
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


def wnid_of(synset) -> str:
    return f"{synset.pos()}{synset.offset():08d}"


def synset_of(wnid: str):
    """The noun synset of an ImageNet wnid; ValueError if WordNet 3.0 has none."""
    if not is_wnid(wnid):
        raise ValueError(f"{wnid!r} is not a WordNet noun id like 'n01491361'")
    # A missing WordNet raises its own clear error, not "not a synset".
    reader = wordnet()
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
    return ancestor == synset or ancestor in synset.closure(_up)


def _up(s):
    return s.hypernyms() + s.instance_hypernyms()
