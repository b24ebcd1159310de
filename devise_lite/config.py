"""Typed configuration: one frozen dataclass per component, and named presets.

Every stage reads only the parts of `Config` it needs; `stage_key` hashes those parts so a cached
artifact is reused exactly when its inputs are unchanged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class TextConfig:
    """Which Wikipedia text to read and how much of it."""

    dataset: str = "wikipedia"  # a registry name (see datasets.py) ...
    path: str | None = None  # ... or a folder / *.xml.bz2 dump of the user's own
    max_files: int | None = (
        None  # WikiExtractor files to read (None = all); XML dumps ignore it
    )
    min_sentence_tokens: int = 3


@dataclass(frozen=True)
class PhraseConfig:
    """Multi-word phrases: gensim `Phrases` statistics plus the label lexicon."""

    min_count: int = 5
    threshold: float = 10.0
    passes: int = (
        1  # each pass can lengthen a phrase by one word (the lexicon is separate)
    )
    label_lexicon: bool = (
        True  # also join n-grams that are WordNet lemmas of the vocabulary
    )


@dataclass(frozen=True)
class Word2VecConfig:
    """Skip-gram settings (gensim names)."""

    vector_size: int = 500
    window: int = 20
    hs: int = 1
    negative: int = 0
    epochs: int = 1
    min_count: int = 5
    sample: float = 1e-4
    alpha: float = 0.025
    workers: int = 2
    seed: int = 0


@dataclass(frozen=True)
class LabelConfig:
    """How label vectors are made and which synsets form the label vocabulary."""

    vocabulary: str = "imagenet21k"  # ImageNet fall-2011 synsets shipped by timm
    lemma_weighting: str = (
        "mean"  # "mean" of usable lemmas, or only the "first" usable one
    )
    head_weight: float = (
        2.0  # a compound's last word names its kind: "tiger shark" is a shark
    )
    phrase_weight: float = 0.5  # phrase vector vs. words vector of a multi-word lemma
    center: bool = (
        True  # subtract the label vectors' mean (rule 5 of labels.py: no hubs)
    )


@dataclass(frozen=True)
class ImageConfig:
    """The labelled image set and its fixed split."""

    dataset: str = "caltech101"  # a registry name, or the path of an ImageNet-style folder (imagefolders.py)
    train_per_class: int | None = 30  # None: all (only for folders with their own val/)
    test_per_class: int | None = 50  # None: all remaining images
    max_classes: int | None = None  # a subset of classes (tests)
    seed: int = 0


@dataclass(frozen=True)
class VisualConfig:
    """The pretrained CNN whose classifier is cut off."""

    backbone: str = (
        "efficientnet_lite0"  # or a torchvision name: "alexnet", "resnet50", ...
    )
    image_size: int = 224
    batch_size: int = 32
    num_threads: int = 2
    device: str = "auto"  # "auto" picks CUDA when present


@dataclass(frozen=True)
class DeviseConfig:
    """The projection and its two training phases."""

    margin: float = 0.1
    loss: str = "truncated"  # "truncated" (paper) or "full" (sum over all false labels)
    phase1_epochs: int = 60
    phase1_lr: float = 0.5
    phase1_momentum: float = 0.9
    batch_size: int = 64
    phase2_epochs: int = 1
    phase2_lr: float = 1e-3
    phase2_max_steps: int | None = None
    softmax_epochs: int = 60
    softmax_lr: float = 0.1
    seed: int = 0


@dataclass(frozen=True)
class ZeroShotConfig:
    """Seen/unseen split for the zero-shot chapter."""

    unseen_share: float = 0.2
    family_hops: int | None = (
        2  # hold out one member per family of labels this close (splits.py); None: uniform
    )
    seed: int = 0
    conse_top_t: int = 10


@dataclass(frozen=True)
class Config:
    name: str = "book"
    text: TextConfig = field(default_factory=TextConfig)
    phrases: PhraseConfig = field(default_factory=PhraseConfig)
    word2vec: Word2VecConfig = field(default_factory=Word2VecConfig)
    labels: LabelConfig = field(default_factory=LabelConfig)
    images: ImageConfig = field(default_factory=ImageConfig)
    visual: VisualConfig = field(default_factory=VisualConfig)
    devise: DeviseConfig = field(default_factory=DeviseConfig)
    zeroshot: ZeroShotConfig = field(default_factory=ZeroShotConfig)


def _tiny() -> Config:
    return Config(
        name="tiny",
        text=TextConfig(max_files=3),
        phrases=PhraseConfig(min_count=3, threshold=10.0),
        word2vec=Word2VecConfig(
            vector_size=50,
            window=5,
            hs=0,
            negative=5,
            epochs=3,
            min_count=3,
            sample=1e-3,
        ),
        images=ImageConfig(train_per_class=5, test_per_class=5, max_classes=12),
        visual=VisualConfig(image_size=128),
        devise=DeviseConfig(
            phase1_epochs=20,
            phase2_epochs=1,
            phase2_max_steps=2,
            softmax_epochs=20,
            batch_size=16,
        ),
    )


def _book() -> Config:
    # Adapted to 40 M words on 2 cores; the introduction and chapter 1 say what changed and why.
    return Config(
        name="book",
        word2vec=Word2VecConfig(
            vector_size=500,
            window=7,
            hs=0,
            negative=3,
            epochs=2,
            min_count=5,
            sample=1e-4,
        ),
        devise=DeviseConfig(phase2_epochs=1, phase2_max_steps=12),
    )


def _paper() -> Config:
    # The user's own data (README, "Paper scale"): $DEVISE_TEXT (a Wikipedia dump or WikiExtractor
    # folder) and $DEVISE_IMAGES (an ImageNet-style folder); the mirror's data otherwise.
    images = ImageConfig(test_per_class=None)
    if os.environ.get("DEVISE_IMAGES"):
        images = ImageConfig(
            dataset=os.environ["DEVISE_IMAGES"],
            train_per_class=None,
            test_per_class=None,
        )
    return Config(
        name="paper",
        text=TextConfig(path=os.environ.get("DEVISE_TEXT") or None),
        phrases=PhraseConfig(passes=2),
        word2vec=Word2VecConfig(
            vector_size=500,
            window=20,
            hs=1,
            negative=0,
            epochs=1,
            min_count=5,
            sample=1e-4,
            workers=os.cpu_count() or 2,
        ),
        images=images,
        visual=VisualConfig(
            backbone="alexnet", batch_size=256, num_threads=os.cpu_count() or 2
        ),
        devise=DeviseConfig(phase2_epochs=10, phase2_max_steps=None, batch_size=128),
    )


PRESETS = {"tiny": _tiny, "book": _book, "paper": _paper}


def get_preset(name: str) -> Config:
    """The named preset; raises with the list of valid names otherwise."""
    try:
        return PRESETS[name]()
    except KeyError:
        raise ValueError(
            f"unknown preset {name!r}; choose one of {sorted(PRESETS)}"
        ) from None


def preset_from_env(default: str = "book") -> Config:
    """The preset named by $DEVISE_PRESET (the book's chapters use this), else `default`."""
    return get_preset(os.environ.get("DEVISE_PRESET", default))


def with_overrides(cfg: Config, **parts) -> Config:
    """`with_overrides(cfg, word2vec={"epochs": 3})` returns a copy with those fields changed."""
    changes = {
        name: replace(getattr(cfg, name), **values) for name, values in parts.items()
    }
    return replace(cfg, **changes)


def stage_key(*parts) -> str:
    """A short stable hash of config parts (dataclasses, strings, numbers) for cache folder names."""

    def plain(obj):
        return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj

    blob = json.dumps([plain(p) for p in parts], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
