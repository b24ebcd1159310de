"""WordNet 3.0 through NLTK, found offline in the mirror or the data root, and ImageNet wnids.

An ImageNet wnid is "n" + the WordNet 3.0 noun offset in 8 digits: n01491361 is tiger_shark.n.01.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from .datasets import locate
from .errors import UserError


@functools.lru_cache(maxsize=1)
def wordnet():
    """NLTK's WordNet reader, with the located `nltk_data` folder on NLTK's search path.

    NLTK refuses corpus paths outside its data path (and symlinks leaving it), so the folder itself
    is put on `nltk.data.path` rather than linked into the default location.
    """
    import nltk

    folder = str(locate("wordnet"))
    if folder not in nltk.data.path:
        nltk.data.path.insert(0, folder)
    from nltk.corpus import wordnet as wn

    wn.ensure_loaded()
    return wn


def wnid_of(synset) -> str:
    return f"{synset.pos()}{synset.offset():08d}"


def synset_of(wnid: str):
    """The noun synset of an ImageNet wnid; ValueError with the wnid if WordNet 3.0 has none."""
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
    """The synset's lemmas as written in WordNet ("great_white_shark", "Carcharodon_carcharias")."""
    return [lemma.name() for lemma in synset.lemmas()]


def descends_from(synset, ancestor) -> bool:
    """True if `ancestor` is `synset` or one of its hypernyms (instance hypernyms included)."""
    return ancestor == synset or ancestor in synset.closure(_up)


def _up(s):
    return s.hypernyms() + s.instance_hypernyms()


def imagenet21k_wnids() -> list[str]:
    """The 21,841 wnids of ImageNet's fall-2011 release, from the list `timm` ships."""
    return _timm_list("imagenet22k_synsets.txt")


def imagenet1k_wnids() -> list[str]:
    """The 1,000 ILSVRC-2012 wnids (the classes the pretrained backbone was trained on)."""
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
