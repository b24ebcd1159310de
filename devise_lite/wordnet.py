"""WordNet 3.0 through NLTK, found offline, and ImageNet wnids.

WordNet comes from NLTK's own search path first (`nltk.data.path`: $NLTK_DATA,
~/nltk_data, ...), where `python -m nltk.downloader wordnet` puts it; else from the
registry's `nltk_data` folder (data root, then mirror, then a download).

An ImageNet wnid is "n" + the WordNet 3.0 noun offset in 8 digits: n01491361 is
tiger_shark.n.01.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from .datasets import DatasetIntegrityError, DatasetUnavailableError, locate
from .errors import UserError

WORDNET_VERSION = "3.0"  # ImageNet's wnids are offsets into this version


@functools.lru_cache(maxsize=1)
def wordnet():
    """NLTK's WordNet reader, from NLTK's own search path or the located folder.

    NLTK refuses corpus paths outside its data path (and symlinks leaving it), so a
    located folder itself is put on `nltk.data.path` rather than linked into it."""
    import nltk

    folder = wordnet_folder()
    if folder is not None and str(folder) not in nltk.data.path:
        nltk.data.path.insert(0, str(folder))
    from nltk.corpus import wordnet as wn

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
    import nltk

    for resource in ("corpora/wordnet", "corpora/wordnet.zip/wordnet/"):
        try:
            return str(nltk.data.find(resource, paths=paths))
        except LookupError:
            continue
    return None


def wordnet_folder() -> Path | None:
    """The nltk_data folder to give NLTK; None where NLTK finds WordNet on its own."""
    import nltk

    if nltk_wordnet() is not None:
        return None
    try:
        return locate("wordnet")
    except DatasetUnavailableError as err:
        raise DatasetUnavailableError(
            f"{err} Or give NLTK its own copy: set NLTK_DATA to a folder holding "
            "corpora/wordnet.zip, or run `python -m nltk.downloader wordnet` once "
            f"online (NLTK looks in {', '.join(map(str, nltk.data.path))})."
        ) from err


def wnid_of(synset) -> str:
    return f"{synset.pos()}{synset.offset():08d}"


def synset_of(wnid: str):
    """The noun synset of an ImageNet wnid; ValueError if WordNet 3.0 has none."""
    if len(wnid) != 9 or wnid[0] != "n" or not wnid[1:].isdigit():
        raise ValueError(f"{wnid!r} is not a WordNet noun id like 'n01491361'")
    reader = (
        wordnet()
    )  # a missing WordNet raises its own clear error, not "not a synset"
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


def imagenet21k_wnids() -> list[str]:
    """The 21,841 wnids of ImageNet's fall-2011 release, from the list `timm` ships."""
    return _timm_list("imagenet22k_synsets.txt")


def imagenet1k_wnids() -> list[str]:
    """The 1,000 ILSVRC-2012 wnids (the classes the pretrained backbone learnt)."""
    return _timm_list("imagenet_synsets.txt")


@functools.lru_cache(maxsize=4)
def _timm_list(name: str) -> list[str]:
    # Found without importing timm, which imports torch (seconds): `predict` reads
    # these lists and answers without torch.
    spec = importlib.util.find_spec("timm")
    if spec is None or spec.origin is None:
        raise UserError(
            "the ImageNet synset lists come with the PyPI package timm: "
            "pip install timm"
        )
    path = Path(spec.origin).parent / "data" / "_info" / name
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]
